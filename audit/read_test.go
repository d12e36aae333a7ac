package audit_test

import (
	"strings"
	"testing"
	"time"

	"github.com/tiski/tiski/audit"
	"github.com/tiski/tiski/fault"
	"github.com/tiski/tiski/i18n"
	"github.com/tiski/tiski/money"
)

func TestFilterQueryParse(t *testing.T) {
	helsinki, err := time.LoadLocation("Europe/Helsinki")
	if err != nil {
		t.Fatal(err)
	}
	f, err := audit.FilterQuery{From: "2026-12-01", To: "2026-12-01", ActorID: "7", ObjectType: " dispute "}.Parse(helsinki)
	if err != nil {
		t.Fatal(err)
	}
	if want := time.Date(2026, 11, 30, 22, 0, 0, 0, time.UTC); !f.From.Equal(want) {
		t.Errorf("from = %v, want %v (the day's start in Helsinki)", f.From, want)
	}
	if want := time.Date(2026, 12, 1, 22, 0, 0, 0, time.UTC); !f.To.Equal(want) {
		t.Errorf("to = %v, want %v (the whole day included)", f.To, want)
	}
	if f.ActorID != 7 || f.ObjectType != "dispute" {
		t.Errorf("filter = %+v", f)
	}
	for q, field := range map[audit.FilterQuery]string{
		{From: "yesterday"}:                                        "from",
		{To: "2026-12-01T25:00:00Z"}:                               "to",
		{From: "2026-12-02", To: "2026-12-01"}:                     "to",
		{ActorID: "0"}:                                             "actor_id",
		{ActorID: "Sanna"}:                                         "actor_id",
		{From: "2026-12-01T08:00:00+02:00x"}:                       "from",
		{From: "2026-12-01", To: "2026-11-30"}:                     "to",
		{From: "2026-12-01T10:00:00Z", To: "2026-12-01T10:00:00Z"}: "to",
	} {
		_, err := q.Parse(helsinki)
		fe, ok := fault.As(err)
		if !ok || fe.Kind != fault.KindInvalid || fe.Details["field"] != field {
			t.Errorf("%+v: %v, want invalid %s", q, err, field)
		}
	}
}

func ptr(s string) *string { return &s }

// TestDescribe: the wording rules pick the sentence of the object type and
// action, with the names behind the ids; a refusal is a refusal; anything
// else the generic sentence; an event without an actor is Tiski's.
func TestDescribe(t *testing.T) {
	sanna := ptr("Sanna Korhonen")
	names := audit.Names{Units: map[int64]string{5: "Marketing"}, Users: map[int64]string{9: "Maria Järvinen"}, Services: map[int64]string{7: "Laptop"}}
	for _, c := range []struct {
		e    audit.Entry
		key  string
		args []any
	}{
		{audit.Entry{ActorName: sanna, ObjectType: "dispute", ObjectID: "4", Action: "accept", AfterJSON: ptr(`{"CreditMinor":45000}`)},
			"audit.dispute.accept", []any{"Sanna Korhonen", "4", money.Money{Minor: 45000, Currency: "EUR"}}},
		{audit.Entry{ActorName: sanna, ObjectType: "budget", ObjectID: "5/2026-12", Action: "create", AfterJSON: ptr(`{"Month":"2026-12","AmountMinor":100,"Currency":"EUR"}`)},
			"audit.budget.set", []any{"Sanna Korhonen", "Marketing", "2026-12", money.Money{Minor: 100, Currency: "EUR"}}},
		{audit.Entry{ActorName: sanna, ObjectType: "grant", ObjectID: "5/9/manager", Action: "grant"},
			"audit.grant.grant_unit", []any{"Sanna Korhonen", "Maria Järvinen", fault.Term{Group: "admin.role", Name: "manager"}, "Marketing"}},
		{audit.Entry{ActorName: sanna, ObjectType: "period", ObjectID: "2026-11", Action: "refuse", AfterJSON: ptr(`{"attempt":"close","reason":"open_disputes","message":"2 disputes are open"}`)},
			"audit.refuse", []any{"Sanna Korhonen", fault.Term{Group: "audit.action", Name: "close"}, fault.Term{Group: "audit.object", Name: "period"}, "2026-11", fault.Term{Name: "2 disputes are open"}}},
		{audit.Entry{ObjectType: "calendar", ObjectID: "5", Action: "set"},
			"audit.calendar.set", []any{fault.Term{Group: "audit.actor", Name: "system"}, "Marketing"}},
		{audit.Entry{ActorName: sanna, ObjectType: "gl_mapping", ObjectID: "7", Action: "update", AfterJSON: ptr(`{"ServiceID":7,"ExpenseAccount":"6810","RecoveryAccount":"3810"}`)},
			"audit.gl_mapping.set", []any{"Sanna Korhonen", "Laptop", "6810", "3810"}},
		{audit.Entry{ActorName: sanna, ObjectType: "gl_mapping", ObjectID: "default", Action: "create", AfterJSON: ptr(`{"ServiceID":0,"ExpenseAccount":"6800","RecoveryAccount":"3800"}`)},
			"audit.gl_mapping.set_default", []any{"Sanna Korhonen", "6800", "3800"}},
		{audit.Entry{ObjectType: "grant_proposal", ObjectID: "3", Action: "propose"},
			"audit.generic", []any{fault.Term{Group: "audit.actor", Name: "system"}, fault.Term{Group: "audit.action", Name: "propose"}, fault.Term{Group: "audit.object", Name: "grant_proposal"}, "3"}},
	} {
		got := audit.Describe(&c.e, names, "EUR")
		if got.Key != c.key || len(got.Args) != len(c.args) {
			t.Errorf("%s %s: %+v, want %s %v", c.e.ObjectType, c.e.Action, got, c.key, c.args)
			continue
		}
		for i := range c.args {
			if got.Args[i] != c.args[i] {
				t.Errorf("%s %s: argument %d = %#v, want %#v", c.e.ObjectType, c.e.Action, i, got.Args[i], c.args[i])
			}
		}
	}
}

// TestEveryWordingHasItsText: each sentence Describe can pick is in the
// catalogue and takes the arguments it is given, in every locale; each
// action and object named in a sentence has its term.
func TestEveryWordingHasItsText(t *testing.T) {
	cat, err := i18n.New()
	if err != nil {
		t.Fatal(err)
	}
	who := ptr("Sanna Korhonen")
	var entries []audit.Entry
	for _, c := range [][2]string{
		{"dispute", "raise"}, {"dispute", "accept"}, {"dispute", "reject"},
		{"charge", "posted"}, {"charge", "disputed"}, {"charge", "credited"},
		{"adjustment", "create"}, {"adjustment", "approve"}, {"adjustment", "reject"},
		{"period", "review"}, {"period", "close"},
		{"budget", "create"}, {"budget", "update"}, {"budget", "warning"},
		{"service", "create"}, {"service", "update"}, {"service", "add_rate"},
		{"request", "approve_overrun"}, {"user", "create"}, {"unit", "create"}, {"unit", "update"},
		{"calendar", "set"}, {"grant_proposal", "propose"}, {"user", "password_reset_link"}, {"user", "update"}, {"user", "set_password"},
	} {
		entries = append(entries, audit.Entry{ActorName: who, ObjectType: c[0], ObjectID: "5/2026-12", Action: c[1], AfterJSON: ptr(`{}`)})
	}
	entries = append(entries,
		audit.Entry{ActorName: who, ObjectType: "grant", ObjectID: "org/9/finance", Action: "grant"},
		audit.Entry{ActorName: who, ObjectType: "grant", ObjectID: "5/9/manager", Action: "revoke"},
		audit.Entry{ObjectType: "grant", ObjectID: "5/9/manager", Action: "grant"},
		audit.Entry{ActorName: who, ObjectType: "dispute", ObjectID: "4", Action: "refuse", AfterJSON: ptr(`{"attempt":"accept","message":"x"}`)})
	for _, e := range entries {
		w := audit.Describe(&e, audit.Names{}, "EUR")
		for _, locale := range cat.Locales() {
			if got := cat.T(locale, w.Key); got == w.Key {
				t.Errorf("%s %s: %s has no text in %s", e.ObjectType, e.Action, w.Key, locale)
			}
			if got := cat.Sentence(locale, w.Key, w.Args...); strings.Contains(got, "%!") {
				t.Errorf("%s %s in %s: %q", e.ObjectType, e.Action, locale, got)
			}
			for _, a := range w.Args {
				if term, ok := a.(fault.Term); ok && term.Group != "" && cat.T(locale, term.Group+"."+term.Name) == term.Group+"."+term.Name {
					t.Errorf("%s %s: term %s.%s has no text in %s", e.ObjectType, e.Action, term.Group, term.Name, locale)
				}
			}
		}
	}
}
