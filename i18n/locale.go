package i18n

import (
	"sort"
	"strconv"
	"strings"
)

// Match picks the first available locale among the preferences given in
// order, each a locale ("fi"), a language tag ("fi-FI") or a whole
// Accept-Language header ("fi-FI,fi;q=0.9,en;q=0.8", read by weight).
// Callers pass the user's setting before the browser's; with no match the
// answer is the fallback locale.
func (c *Catalog) Match(preferences ...string) string {
	for _, pref := range preferences {
		for _, tag := range byWeight(pref) {
			lang := strings.ToLower(strings.SplitN(tag, "-", 2)[0])
			if _, ok := c.texts[lang]; ok {
				return lang
			}
		}
	}
	return Fallback
}

// byWeight lists the language tags of an Accept-Language value, heaviest
// first; tags of equal weight keep their order.
func byWeight(header string) []string {
	type weighted struct {
		tag string
		q   float64
	}
	var tags []weighted
	for _, part := range strings.Split(header, ",") {
		tag, params, _ := strings.Cut(part, ";")
		tag = strings.TrimSpace(tag)
		if tag == "" || tag == "*" {
			continue
		}
		q := 1.0
		if v, ok := strings.CutPrefix(strings.TrimSpace(params), "q="); ok {
			if f, err := strconv.ParseFloat(v, 64); err == nil {
				q = f
			}
		}
		if q > 0 {
			tags = append(tags, weighted{tag, q})
		}
	}
	sort.SliceStable(tags, func(i, j int) bool { return tags[i].q > tags[j].q })
	out := make([]string, len(tags))
	for i, w := range tags {
		out[i] = w.tag
	}
	return out
}
