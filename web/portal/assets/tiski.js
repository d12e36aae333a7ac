// Tiski's progressive enhancement: every page works without this file.
// With it, forms that post money or cannot be undone ask first, filter forms
// and pager links update the page in place, and order forms show a live
// estimate.
(function () {
  "use strict";

  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form.getAttribute("data-confirm");
    if (question) {
      if (!window.confirm(question)) {
        event.preventDefault();
        return;
      }
      var yes = document.createElement("input");
      yes.type = "hidden"; yes.name = "confirm"; yes.value = "yes";
      form.appendChild(yes);
    }
    if (form.hasAttribute("data-partial") && form.method.toLowerCase() === "get") {
      event.preventDefault();
      var url = form.action.split("?")[0] + "?" + new URLSearchParams(new FormData(form)).toString();
      load(url, true);
    }
  });

  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("a[data-partial]");
    if (!link || event.metaKey || event.ctrlKey || event.shiftKey) { return; }
    event.preventDefault();
    load(link.href, true);
  });

  window.addEventListener("popstate", function () { load(location.href, false); });

  function load(url, push) {
    fetch(url, { headers: { "X-Tiski-Partial": "1" }, credentials: "same-origin" })
      .then(function (res) {
        if (!res.ok && res.status !== 404) { location.href = url; return null; }
        return res.text();
      })
      .then(function (html) {
        if (html === null) { return; }
        var content = document.getElementById("content");
        content.innerHTML = html;
        if (push) { history.pushState(null, "", url); }
        var heading = content.querySelector("h1");
        if (heading) { heading.setAttribute("tabindex", "-1"); heading.focus(); }
      })
      .catch(function () { location.href = url; });
  }

  function updateEstimate(input) {
    var out = document.getElementById(input.getAttribute("data-estimate"));
    if (!out) { return; }
    var minor = Number(input.getAttribute("data-price-minor"));
    var q = Number(String(input.value).replace(",", "."));
    if (!isFinite(q) || q <= 0) { out.textContent = "–"; return; }
    var fmt = new Intl.NumberFormat(document.documentElement.lang === "fi" ? "fi-FI" : "en-GB",
      { style: "currency", currency: input.getAttribute("data-currency") });
    var estimate = Math.round(minor * q);
    out.textContent = fmt.format(estimate / 100);
    document.querySelectorAll(".budget-after").forEach(function (after) {
      after.textContent = fmt.format((Number(after.getAttribute("data-used-minor")) + estimate) / 100);
    });
  }
  // Knowledge suggestions: as the order's title is typed, articles of the
  // service that match it are listed under it; without the script the box
  // is a link to the knowledge search.
  var suggestTimer = null;
  function suggest(input) {
    var box = document.querySelector('[data-suggest-for="' + input.id + '"]');
    if (!box) { return; }
    var list = box.querySelector("ul");
    clearTimeout(suggestTimer);
    if (input.value.trim().length < 3) { list.hidden = true; return; }
    suggestTimer = setTimeout(function () {
      fetch(box.getAttribute("data-suggest-url") + "&q=" + encodeURIComponent(input.value), { credentials: "same-origin" })
        .then(function (res) { return res.ok ? res.json() : []; })
        .then(function (items) {
          list.textContent = "";
          items.forEach(function (item) {
            var li = document.createElement("li"), a = document.createElement("a");
            a.href = item.href; a.textContent = item.title; a.target = "_blank"; a.rel = "noopener";
            li.appendChild(a); list.appendChild(li);
          });
          list.hidden = items.length === 0;
        })
        .catch(function () { list.hidden = true; });
    }, 250);
  }

  document.addEventListener("input", function (event) {
    if (event.target.hasAttribute && event.target.hasAttribute("data-estimate")) { updateEstimate(event.target); }
    if (event.target.id && document.querySelector('[data-suggest-for="' + event.target.id + '"]')) { suggest(event.target); }
  });

  // Inserting an article link into a comment: the select names the link
  // as Markdown, added where the cursor is.
  document.addEventListener("change", function (event) {
    var select = event.target;
    if (!select.hasAttribute || !select.hasAttribute("data-insert-into") || !select.value) { return; }
    var area = document.getElementById(select.getAttribute("data-insert-into"));
    var link = "[" + select.options[select.selectedIndex].text + "](" + select.value + ")";
    var at = area.selectionStart || area.value.length;
    area.value = area.value.slice(0, at) + link + area.value.slice(at);
    select.value = "";
    area.focus();
  });
})();
