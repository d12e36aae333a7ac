package knowledge_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/tiski/tiski/catalog"
	"github.com/tiski/tiski/db"
	"github.com/tiski/tiski/db/dbtest"
	"github.com/tiski/tiski/fault"
	"github.com/tiski/tiski/knowledge"
	"github.com/tiski/tiski/testkit"
)

// world is the standard organisation plus a member of IT-SD (itsdmember)
// and a service MKT provides (DESIGN), which IT's articles may not name.
type world struct {
	*testkit.Kit
	users  map[string]int64
	design int64
}

func newWorld(t *testing.T, d *db.DB) *world {
	t.Helper()
	k := testkit.New(t, d)
	w := &world{Kit: k, users: k.People.ByName()}
	w.users["itsdmember"] = k.AddPerson(t, "itsdmember", testkit.Grant{Unit: k.Units.ITDesk, Role: "member"})
	k.Do(t, func(ctx context.Context, tx bun.Tx) error {
		svc, _, err := catalog.CreateService(ctx, tx, 0, catalog.Service{ProviderUnitID: k.Units.MKT, Code: "DESIGN", Name: "Design",
			PricingModel: "hourly", ApprovalPolicy: "never", SLAFirstResponseMinutes: 60, SLAResolutionMinutes: 480},
			nil, catalog.Rate{PriceMinor: 9000, Currency: testkit.Currency, EffectiveFrom: "2020-01-01"})
		if err == nil {
			w.design = svc.ID
		}
		return err
	})
	return w
}

func (w *world) as(name string) knowledge.Viewer {
	return knowledge.Viewer{UserID: w.users[name], Authz: w.Authz}
}

// count is the number of rows in table.
func (w *world) count(t *testing.T, table string) int {
	t.Helper()
	n, err := w.DB.NewSelect().Table(table).Count(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return int(n)
}

func texts(title, body string) map[string]knowledge.TextInput {
	return map[string]knowledge.TextInput{
		"en": {Title: title, Body: body},
		"fi": {Title: title + " (fi)", Body: body + " suomeksi"},
	}
}

func ptr[T any](v T) *T { return &v }

func (w *world) write(t *testing.T, by string, audience string, title, body string, services ...int64) *knowledge.Article {
	t.Helper()
	var a *knowledge.Article
	ctx := context.Background()
	err := w.DB.InTx(ctx, func(tx bun.Tx) (err error) {
		a, err = knowledge.Create(ctx, tx, w.as(by), w.Units.IT, knowledge.Content{Audience: &audience, ServiceIDs: &services, Texts: texts(title, body)}, time.Now())
		if err != nil {
			return err
		}
		a, err = knowledge.Act(ctx, tx, w.as(by), a.ID, a.Version, "publish", time.Now())
		return err
	})
	if err != nil {
		t.Fatalf("write %q: %v", title, err)
	}
	return a
}

// TestArticlesAreWrittenPublishedAndRevisedByTheProviderSide walks one
// article through its life and checks each refusal writes nothing.
func TestArticlesAreWrittenPublishedAndRevisedByTheProviderSide(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		w := newWorld(t, d)
		ctx := context.Background()
		a := w.write(t, "agent", knowledge.Everyone, "Requesting a laptop", "Pick a **model** and order.", w.Services.Laptop.ID)
		if a.Status != knowledge.Published || a.Version != 2 || len(a.Texts) != 2 || a.In("fi").Title != "Requesting a laptop (fi)" ||
			a.In("en").BodyHTML != "<p>Pick a <strong>model</strong> and order.</p>\n" {
			t.Fatalf("published article: %+v", a)
		}
		got, err := knowledge.Get(ctx, d, w.as("member"), a.ID)
		if err != nil || got.In("sv").Title != "Requesting a laptop" {
			t.Fatalf("member reads the published article: %v %+v", err, got)
		}

		t.Run("a stale revision is a conflict and changes nothing", func(t *testing.T) {
			before := w.count(t, "article_revisions")
			err := d.InTx(ctx, func(tx bun.Tx) error {
				_, err := knowledge.Revise(ctx, tx, w.as("itmanager"), a.ID, 1, knowledge.Content{Texts: texts("Changed", "Changed")}, "", time.Now())
				return err
			})
			if !fault.Is(err, fault.KindConflict) || w.count(t, "article_revisions") != before {
				t.Fatalf("stale revision: %v, revisions %d → %d", err, before, w.count(t, "article_revisions"))
			}
		})
		t.Run("a current revision by a manager of the unit is kept with its author", func(t *testing.T) {
			var r *knowledge.Article
			err := d.InTx(ctx, func(tx bun.Tx) (err error) {
				r, err = knowledge.Revise(ctx, tx, w.as("itmanager"), a.ID, a.Version,
					knowledge.Content{Texts: map[string]knowledge.TextInput{"fi": {Title: "Kannettavan tilaus", Body: "Valitse malli."}}}, "Finnish title", time.Now())
				return err
			})
			if err != nil || r.Version != 3 || r.In("fi").Title != "Kannettavan tilaus" || r.In("en").Title != "Requesting a laptop" {
				t.Fatalf("revise: %v %+v", err, r)
			}
			revs, err := knowledge.Revisions(ctx, d, w.as("agent"), a.ID, 0, 10)
			if err != nil || len(revs) != 3 || revs[2].AuthorID != w.users["itmanager"] || revs[2].Note != "Finnish title" || revs[0].AuthorID != w.users["agent"] {
				t.Fatalf("revisions: %v %+v", err, revs)
			}
			var events int64
			events, err = d.NewSelect().TableExpr("audit_events").Where("object_type = 'article' AND object_id = ?", strconv.FormatInt(a.ID, 10)).Count(ctx)
			if err != nil || events != 3 {
				t.Fatalf("audit events: %d %v", events, err)
			}
		})

		cases := []struct {
			name string
			by   string
			unit string
			c    knowledge.Content
			kind fault.Kind
		}{
			{"a script in the body", "agent", "IT", knowledge.Content{Texts: texts("T", "Hi <script>alert(1)</script>")}, fault.KindInvalid},
			{"an event handler", "agent", "IT", knowledge.Content{Texts: texts("T", `<img src=x onerror="alert(1)">`)}, fault.KindInvalid},
			{"a javascript: link", "agent", "IT", knowledge.Content{Texts: texts("T", "[x](javascript:alert(1))")}, fault.KindInvalid},
			{"another unit's service", "agent", "IT", knowledge.Content{ServiceIDs: &[]int64{w.design}, Texts: texts("T", "B")}, fault.KindInvalid},
			{"no text", "agent", "IT", knowledge.Content{}, fault.KindInvalid},
			{"an unknown language", "agent", "IT", knowledge.Content{Texts: map[string]knowledge.TextInput{"xx": {Title: "T", Body: "B"}}}, fault.KindInvalid},
			{"an empty title", "agent", "IT", knowledge.Content{Texts: texts(" ", "B")}, fault.KindInvalid},
			{"an unknown audience", "agent", "IT", knowledge.Content{Audience: ptr("friends"), Texts: texts("T", "B")}, fault.KindInvalid},
			{"a member", "member", "IT", knowledge.Content{Texts: texts("T", "B")}, fault.KindForbidden},
			{"another unit's manager", "manager", "IT", knowledge.Content{Texts: texts("T", "B")}, fault.KindForbidden},
			{"admin", "admin", "IT", knowledge.Content{Texts: texts("T", "B")}, fault.KindForbidden},
		}
		for _, c := range cases {
			t.Run("refused: "+c.name, func(t *testing.T) {
				before := w.count(t, "articles") + w.count(t, "article_texts") + w.count(t, "audit_events")
				err := d.InTx(ctx, func(tx bun.Tx) error {
					_, err := knowledge.Create(ctx, tx, w.as(c.by), w.Units.ByCode()[c.unit], c.c, time.Now())
					return err
				})
				if !fault.Is(err, c.kind) || w.count(t, "articles")+w.count(t, "article_texts")+w.count(t, "audit_events") != before {
					t.Fatalf("got %v", err)
				}
			})
		}
	})
}

// TestInternalArticlesNeverReachAMember checks get, list and search.
func TestInternalArticlesNeverReachAMember(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		w := newWorld(t, d)
		ctx := context.Background()
		public := w.write(t, "agent", knowledge.Everyone, "VPN set-up", "Install the VPN client.", w.Services.Licence.ID)
		internal := w.write(t, "agent", knowledge.Provider, "VPN server restart", "Restart the VPN concentrator.", w.Services.Licence.ID)
		var draft *knowledge.Article
		err := d.InTx(ctx, func(tx bun.Tx) (err error) {
			draft, err = knowledge.Create(ctx, tx, w.as("agent"), w.Units.IT, knowledge.Content{Texts: texts("VPN draft", "Not yet.")}, time.Now())
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		for _, id := range []int64{internal.ID, draft.ID} {
			if _, err := knowledge.Get(ctx, d, w.as("member"), id); !fault.Is(err, fault.KindNotFound) {
				t.Errorf("member gets article %d: %v", id, err)
			}
		}
		ids := func(hits []knowledge.Hit) []int64 {
			var out []int64
			for _, h := range hits {
				out = append(out, h.ID)
			}
			return out
		}
		member, err := knowledge.Search(ctx, d, w.as("member"), "vpn", 0, 10)
		if err != nil || len(member) != 1 || member[0].ID != public.ID {
			t.Errorf("member's search: %v %v", err, ids(member))
		}
		agent, err := knowledge.Search(ctx, d, w.as("agent"), "VPN", 0, 10)
		if err != nil || len(agent) != 2 {
			t.Errorf("agent's search finds the public and the internal one, not the draft: %v %v", err, ids(agent))
		}
		list, err := knowledge.List(ctx, d, w.as("member"), knowledge.Filter{Limit: 10})
		if err != nil || len(list) != 1 || list[0].ID != public.ID {
			t.Errorf("member's list: %v %d", err, len(list))
		}
		list, err = knowledge.List(ctx, d, w.as("itmanager"), knowledge.Filter{Limit: 10})
		if err != nil || len(list) != 3 {
			t.Errorf("manager's list: %v %d", err, len(list))
		}
	})
}

// TestSearchFindsPrefixesInEitherLanguageBestFirst checks the text search:
// half-typed words, Finnish text, a service filter, and query syntax
// treated as words.
func TestSearchFindsPrefixesInEitherLanguageBestFirst(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		w := newWorld(t, d)
		ctx := context.Background()
		laptop := w.write(t, "agent", knowledge.Everyone, "Laptop request", "How to request a laptop.", w.Services.Laptop.ID)
		other := w.write(t, "agent", knowledge.Everyone, "Monitors", "A laptop can take two monitors.", w.Services.Licence.ID)
		for _, c := range []struct {
			q       string
			service int64
			want    []int64
		}{
			{"lapt", 0, []int64{laptop.ID, other.ID}},
			{"request lap", 0, []int64{laptop.ID}},
			{"laptop request", 0, []int64{laptop.ID}},
			{"suomeksi monitors", 0, []int64{other.ID}},
			{"laptop", w.Services.Licence.ID, []int64{other.ID}},
			{`"lapt*" -(: |`, 0, []int64{laptop.ID, other.ID}},
			{"---", 0, nil},
			{"printer", 0, nil},
		} {
			hits, err := knowledge.Search(ctx, d, w.as("member"), c.q, c.service, 10)
			var got []int64
			for _, h := range hits {
				got = append(got, h.ID)
			}
			if err != nil || len(got) != len(c.want) || (len(got) > 0 && got[0] != c.want[0]) {
				t.Errorf("search %q: %v %v, want %v", c.q, err, got, c.want)
			}
		}
	})
}

// TestAReaderVotesOnceAndMayChangeTheirMind checks helpful votes.
func TestAReaderVotesOnceAndMayChangeTheirMind(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		w := newWorld(t, d)
		ctx := context.Background()
		a := w.write(t, "agent", knowledge.Everyone, "Meeting rooms", "Book in the calendar.")
		vote := func(who string, helpful bool) (knowledge.Tally, error) {
			var tl knowledge.Tally
			err := d.InTx(ctx, func(tx bun.Tx) (err error) {
				tl, err = knowledge.Vote(ctx, tx, w.as(who), a.ID, helpful, time.Now())
				return err
			})
			return tl, err
		}
		if _, err := vote("member", false); err != nil {
			t.Fatal(err)
		}
		tl, err := vote("member", true)
		if err != nil || tl != (knowledge.Tally{Helpful: 1}) {
			t.Fatalf("changed vote: %v %+v", err, tl)
		}
		tl, err = vote("itsdmember", false)
		if err != nil || tl != (knowledge.Tally{Helpful: 1, NotHelpful: 1}) {
			t.Fatalf("second reader: %v %+v", err, tl)
		}
	})
}
