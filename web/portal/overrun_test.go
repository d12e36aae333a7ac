package portal_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/tiski/tiski/db"
	"github.com/tiski/tiski/db/dbtest"
	"github.com/tiski/tiski/web/webtest"
)

// TestPortalOverrunBoxAndApproval: an hourly order estimated at 60.00 that
// took three hours waits for an overrun approval. The request page shows
// the amount asked, the estimate, the tolerance and who approves; only a
// manager of the ordering unit gets the button (through the one
// confirmation flow), the requester's attempt is refused in Finnish and
// writes nothing, and the agent's resolve is refused in Finnish until the
// manager approves.
func TestPortalOverrunBoxAndApproval(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		k := webtest.NewChargeDesk(t, d)
		k.Service("ONSITE", "hourly", "never", 6000)
		rid := k.Order("mktmember", "MKT", "ONSITE", "Office move").Str("id")
		k.Start(rid)
		if res := k.As["itagent"].Call("POST", "/api/v1/requests/"+rid+"/time-entries",
			map[string]any{"minutes": 180, "date": webtest.TodayPlus(0), "billable": true}); res.Status != http.StatusCreated {
			t.Fatalf("log time: %d %s", res.Status, res.Body)
		}
		path := "/requests/" + rid
		act := func(b *webtest.Browser, action string, confirm bool) webtest.Page {
			form := url.Values{"action": {action}, "version": {webtest.ID(k.Row(rid).Version)}}
			if confirm {
				form.Set("confirm", "yes")
			}
			return b.Post(path+"/act", form)
		}

		t.Run("the box shows what waits and who approves", func(t *testing.T) {
			p := k.SignIn("itagent").Get(path)
			for _, want := range []string{`id="h-overrun"`, "€180.00", "€60.00", "€120.00", "10 %", "Marketing", "manager", `id="overrun-waits"`} {
				if !strings.Contains(p.Body, want) {
					t.Errorf("the agent's request page lacks %q", want)
				}
			}
			if strings.Contains(p.Body, `id="approve-overrun"`) || strings.Contains(p.Body, `value="approve_overrun"`) {
				t.Error("the agent is offered the overrun approval")
			}
			if p := k.SignIn("mktmember").Get(path); !strings.Contains(p.Body, `id="overrun-waits"`) || strings.Contains(p.Body, `id="approve-overrun"`) {
				t.Error("the requester is offered the overrun approval or not told it waits")
			}
		})

		t.Run("the requester is refused in Finnish and nothing is written", func(t *testing.T) {
			member := k.SignIn("mktmember")
			inFinnish(t, member)
			p := act(member, "approve_overrun", true)
			if p.Status != http.StatusForbidden || !strings.Contains(p.Body, "Omaa pyyntöä ei voi hyväksyä eikä hylätä.") || strings.Contains(p.Body, "nobody approves") {
				t.Errorf("approval by the requester = %d, not refused in Finnish", p.Status)
			}
			if n := k.Count("overrun_approvals"); n != 0 {
				t.Errorf("%d overrun approvals after the requester's attempt", n)
			}
		})

		t.Run("the agent's resolve is refused in Finnish with the amounts", func(t *testing.T) {
			agent := k.SignIn("itagent")
			inFinnish(t, agent)
			p := act(agent, "resolve", true)
			if p.Status != http.StatusUnprocessableEntity || !strings.Contains(p.Body, "Toteutus maksaa 180,00\u00a0€, 120,00\u00a0€ yli arvion 60,00\u00a0€") ||
				strings.Contains(p.Body, "the fulfilment comes to") {
				t.Errorf("resolve before the approval = %d, not refused in Finnish with the amounts: %s", p.Status, problemText(p.Body))
			}
			if got := k.ChargesOf(rid); len(got) != 0 {
				t.Errorf("charges before the approval: %v", got)
			}
		})

		t.Run("the manager approves after confirming", func(t *testing.T) {
			mgr := k.SignIn("mktmgr")
			p := mgr.Get(path)
			if !strings.Contains(p.Body, `id="approve-overrun"`) || !strings.Contains(p.Body, `data-confirm="Approving lets`) {
				t.Fatal("the manager is not offered the overrun approval with its confirmation")
			}
			if p := act(mgr, "approve_overrun", false); p.Status != http.StatusOK || !strings.Contains(p.Body, `id="confirm-yes"`) || k.Count("overrun_approvals") != 0 {
				t.Fatalf("approval without the script = %d, want the confirmation page and nothing written", p.Status)
			}
			if p := act(mgr, "approve_overrun", true); p.Status != http.StatusSeeOther || k.Count("overrun_approvals") != 1 {
				t.Fatalf("confirmed approval = %d, %d approvals", p.Status, k.Count("overrun_approvals"))
			}
			if p := mgr.Get(path); !strings.Contains(p.Body, `id="overrun-approved"`) || strings.Contains(p.Body, `id="approve-overrun"`) {
				t.Error("the approved overrun does not show as approved")
			}
			if p := act(k.SignIn("itagent"), "resolve", true); p.Status != http.StatusSeeOther {
				t.Fatalf("resolve after the approval = %d", p.Status)
			}
			if got := k.ChargesOf(rid); len(got) != 1 {
				t.Errorf("charges after the approval = %v, want one", got)
			}
		})
	})
}

// problemText is the whole-form message a page shows, if any.
func problemText(body string) string {
	_, after, ok := strings.Cut(body, `<p class="problem" role="alert">`)
	if !ok {
		return ""
	}
	text, _, _ := strings.Cut(after, "</p>")
	return text
}
