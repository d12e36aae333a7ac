package reports_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/tiski/tiski/billing"
	"github.com/tiski/tiski/db"
	"github.com/tiski/tiski/db/dbtest"
	"github.com/tiski/tiski/reports"
	"github.com/tiski/tiski/requests"
	"github.com/tiski/tiski/testkit"
)

var helsinki = testkit.Helsinki

func hki(m time.Month, d, hh, mm int) time.Time { return time.Date(2026, m, d, hh, mm, 0, 0, helsinki) }

// shop is the standard organisation (testkit) with IT's LAPTOP (fixed
// 1,200.00) and LICENCE (per unit, here at 50.00, ordered one at a time),
// both first response in 60 and resolution in 480 business minutes on the
// default calendar (weekdays 08–16 Helsinki), ordered by MKT and FIN, whose
// members file and rate; IT's agent works, finance settles disputes.
type shop struct {
	*testkit.Kit
	finMember int64 // FIN's member, this file's own
}

func newShop(t *testing.T, d *db.DB) *shop {
	t.Helper()
	k := &shop{Kit: testkit.New(t, d, testkit.Price("LICENCE", 5000))}
	k.finMember = k.AddPerson(t, "finmember", testkit.Grant{Unit: k.Units.FIN, Role: "member"})
	return k
}

func (k *shop) viewer(id int64) requests.Viewer { return requests.Viewer{UserID: id, Authz: k.Authz} }

// step is one thing done to a request at a time: a lifecycle action by
// someone, or "rate" by the requester.
type step struct {
	who    int64
	action string
	at     time.Time
	rating int
}

// story files a request and plays its steps; resolving posts the charge in
// the same transaction, as the API does.
func (k *shop) story(t *testing.T, service, consumer, requester int64, filed time.Time, steps ...step) *requests.Request {
	t.Helper()
	ctx := context.Background()
	var r *requests.Request
	err := k.DB.InTx(ctx, func(tx bun.Tx) (err error) {
		r, err = requests.Submit(ctx, tx, k.viewer(requester), k.Org,
			requests.Order{ServiceID: service, ConsumerUnitID: consumer, Title: "Story"}, filed)
		return err
	})
	if err != nil {
		t.Fatalf("submit: %v", err)
	}
	for _, s := range steps {
		err := k.DB.InTx(ctx, func(tx bun.Tx) (err error) {
			if s.action == "rate" {
				_, err = requests.GiveFeedback(ctx, tx, k.viewer(s.who), r.ID, s.rating, "", s.at)
				return err
			}
			// Act posts the charge of a resolution.
			r, err = requests.Act(ctx, tx, k.viewer(s.who), k.Org, r.ID, requests.Action{Name: s.action, Version: r.Version}, s.at)
			return err
		})
		if err != nil {
			t.Fatalf("request %d %s at %s: %v", r.ID, s.action, s.at, err)
		}
	}
	return r
}

// credit disputes the request's charge and has finance accept creditMinor.
func (k *shop) credit(t *testing.T, requestID, creditMinor int64, at time.Time) {
	t.Helper()
	ctx := context.Background()
	err := k.DB.InTx(ctx, func(tx bun.Tx) error {
		var chargeID int64
		if err := tx.NewSelect().Table("charges").Column("id").Where("request_id = ?", requestID).Scan(ctx, &chargeID); err != nil {
			return err
		}
		d, err := billing.RaiseDispute(ctx, tx, billing.Operator(k.People.Finance), chargeID, "the laptop came without a charger", at)
		if err != nil {
			return err
		}
		_, err = billing.SettleDispute(ctx, tx, billing.Operator(k.People.Finance), billing.Settlement{DisputeID: d.ID, Action: "accept", CreditMinor: creditMinor}, helsinki, at)
		return err
	})
	if err != nil {
		t.Fatalf("credit: %v", err)
	}
}

// load plays the fixed data set. Business minutes (weekdays 08–16) are in
// the comments: FR first response, RES resolution; "miss" is past due.
func (k *shop) load(t *testing.T) {
	a, mkt, fin := k.People.Agent, k.People.Member, k.finMember
	// L0: filed in October (Fri 30 Oct 15:30), first response in October
	// (10), resolved Mon 2 Nov 09:00 (RES 30 + 60 = 90). Rated 4.
	k.story(t, k.Services.Laptop.ID, k.Units.MKT, mkt, hki(10, 30, 15, 30), step{a, "start", hki(10, 30, 15, 40), 0},
		step{a, "resolve", hki(11, 2, 9, 0), 0}, step{mkt, "rate", hki(11, 2, 10, 0), 4})
	// L1: Mon 2 Nov 08:00, FR 30, RES 240. Rated 5.
	k.story(t, k.Services.Laptop.ID, k.Units.MKT, mkt, hki(11, 2, 8, 0), step{a, "start", hki(11, 2, 8, 30), 0},
		step{a, "resolve", hki(11, 2, 12, 0), 0}, step{mkt, "rate", hki(11, 2, 13, 0), 5})
	// L2: Tue 3 Nov 08:00, FR 90 (miss), RES 480 + 120 = 600 (miss). Rated 3.
	k.story(t, k.Services.Laptop.ID, k.Units.MKT, mkt, hki(11, 3, 8, 0), step{a, "start", hki(11, 3, 9, 30), 0},
		step{a, "resolve", hki(11, 4, 10, 0), 0}, step{mkt, "rate", hki(11, 4, 11, 0), 3})
	// L3: FIN, Thu 5 Nov 10:00, FR 45, RES 300. Not rated; 200.06 credited.
	l3 := k.story(t, k.Services.Laptop.ID, k.Units.FIN, fin, hki(11, 5, 10, 0), step{a, "start", hki(11, 5, 10, 45), 0},
		step{a, "resolve", hki(11, 5, 15, 0), 0})
	k.credit(t, l3.ID, 20006, hki(11, 6, 9, 0))
	// L4: FIN, Fri 27 Nov 15:00, FR 60 + 15 = 75 (miss) on Mon 30 Nov,
	// resolved in December (RES 60 + 480 + 60 = 600, miss).
	k.story(t, k.Services.Laptop.ID, k.Units.FIN, fin, hki(11, 27, 15, 0), step{a, "start", hki(11, 30, 8, 15), 0},
		step{a, "resolve", hki(12, 1, 9, 0), 0})
	// A1: Mon 9 Nov 08:00, FR 20, waits on MKT 09:00–13:00, RES 60 + 60 = 120.
	// Rated 2.
	k.story(t, k.Services.Licence.ID, k.Units.MKT, mkt, hki(11, 9, 8, 0), step{a, "start", hki(11, 9, 8, 20), 0},
		step{a, "wait", hki(11, 9, 9, 0), 0}, step{mkt, "resume", hki(11, 9, 13, 0), 0},
		step{a, "resolve", hki(11, 9, 14, 0), 0}, step{mkt, "rate", hki(11, 9, 15, 0), 2})
	// A2: FIN, Tue 10 Nov 14:00, FR 30, RES 120 + 420 = 540 (miss). Rated 5.
	k.story(t, k.Services.Licence.ID, k.Units.FIN, fin, hki(11, 10, 14, 0), step{a, "start", hki(11, 10, 14, 30), 0},
		step{a, "resolve", hki(11, 11, 15, 0), 0}, step{fin, "rate", hki(11, 11, 16, 0), 5})
	// A3: Mon 30 Nov 09:00, never touched.
	k.story(t, k.Services.Licence.ID, k.Units.MKT, mkt, hki(11, 30, 9, 0))
}

// want is a row's expected figures, as strings: "" for no figure.
type want struct {
	received, resolved, firstResponses, firstMet, resolutionMet, ratings int64
	firstPct, firstMedian, firstP90, resPct, resMedian, resP90           string
	avgRating, responseRate                                              string
	recovered                                                            int64
	costPerRequest                                                       string
}

func str(f *reports.Fixed) string {
	if f == nil {
		return ""
	}
	return f.String()
}

func minutes(m *int) string {
	if m == nil {
		return ""
	}
	return strconv.Itoa(*m)
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func checkMetrics(t *testing.T, what string, m *reports.Metrics, w want) {
	t.Helper()
	cost, err := m.CostPerRequest("EUR")
	if err != nil {
		t.Fatal(err)
	}
	costStr := ""
	if cost != nil {
		costStr = cost.Amount()
	}
	got := want{received: m.Received, resolved: m.Resolved, firstResponses: m.FirstResponses, firstMet: m.FirstResponseMet,
		resolutionMet: m.ResolutionMet, ratings: m.Ratings, firstPct: str(m.FirstResponseAttainment()),
		firstMedian: minutes(m.FirstResponseTimes.Median), firstP90: minutes(m.FirstResponseTimes.P90),
		resPct: str(m.ResolutionAttainment()), resMedian: minutes(m.ResolutionTimes.Median), resP90: minutes(m.ResolutionTimes.P90),
		avgRating: str(m.AverageRating()), responseRate: str(m.ResponseRate()), recovered: m.RecoveredMinor, costPerRequest: costStr}
	if got != w {
		t.Errorf("%s:\n got %+v\nwant %+v", what, got, w)
	}
}

func TestQualityReportFigures(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		k := newShop(t, d)
		k.load(t)
		ctx := context.Background()
		november, err := reports.Month("2026-11", helsinki)
		if err != nil {
			t.Fatal(err)
		}
		testkit.Step(t, "November, organisation-wide: services, provider and consumers", func(t *testing.T) {
			q, err := reports.QualityReport(ctx, d, reports.Scope{OrgWide: true}, november, "EUR")
			if err != nil {
				t.Fatal(err)
			}
			if len(q.Providers) != 1 || len(q.Services) != 2 || len(q.Consumers) != 2 {
				t.Fatalf("rows: %d providers, %d services, %d consumers", len(q.Providers), len(q.Services), len(q.Consumers))
			}
			// LAPTOP: received L1–L4; resolved L0–L3 (RES 90, 240, 300, 600; L2
			// missed); first responses L1–L4 (30, 45, 75, 90; L2, L4 missed);
			// rated 4, 5, 3; recovered 4 × 1,200.00 − 200.06 = 4,599.94, per
			// request 1,149.985 → 1,149.98 (half to even).
			if s := q.Services[0]; s.Service.Code != "LAPTOP" || s.Provider.Code != "IT" {
				t.Fatalf("first service row is %s of %s", s.Service.Code, s.Provider.Code)
			}
			checkMetrics(t, "LAPTOP", &q.Services[0].Metrics, want{received: 4, resolved: 4, firstResponses: 4, firstMet: 2,
				resolutionMet: 3, ratings: 3, firstPct: "50.0", firstMedian: "45", firstP90: "90", resPct: "75.0",
				resMedian: "240", resP90: "600", avgRating: "4.00", responseRate: "75.0", recovered: 459994, costPerRequest: "1149.98"})
			// LICENCE: received A1–A3; resolved A1, A2 (RES 120, 540; A2
			// missed); first responses 20, 30; rated 2, 5; 2 × 50.00.
			checkMetrics(t, "LICENCE", &q.Services[1].Metrics, want{received: 3, resolved: 2, firstResponses: 2, firstMet: 2,
				resolutionMet: 1, ratings: 2, firstPct: "100.0", firstMedian: "20", firstP90: "30", resPct: "50.0",
				resMedian: "120", resP90: "540", avgRating: "3.50", responseRate: "100.0", recovered: 10000, costPerRequest: "50.00"})
			// IT: first responses 20 30 30 45 75 90 (median rank 3, p90 rank 6),
			// 4 of 6 on time; resolutions 90 120 240 300 540 600, 4 of 6 on time;
			// ratings 4 5 3 2 5 = 19 / 5; 4,699.94 / 6 = 783.3233 → 783.32.
			if q.Providers[0].Unit.Code != "IT" {
				t.Fatalf("provider row is %s", q.Providers[0].Unit.Code)
			}
			checkMetrics(t, "IT", &q.Providers[0].Metrics, want{received: 7, resolved: 6, firstResponses: 6, firstMet: 4,
				resolutionMet: 4, ratings: 5, firstPct: "66.7", firstMedian: "30", firstP90: "90", resPct: "66.7",
				resMedian: "240", resP90: "600", avgRating: "3.80", responseRate: "83.3", recovered: 469994, costPerRequest: "783.32"})
			// FIN: filed L3, L4, A2; L3 and A2 resolved, A2 rated 5; spent
			// 1,200.00 − 200.06 + 50.00. MKT: filed L1, L2, A1, A3; L0, L1, L2, A1
			// resolved and rated 4, 5, 3, 2; spent 3 × 1,200.00 + 50.00.
			fin, mkt := q.Consumers[0], q.Consumers[1]
			if fin.Unit.Code != "FIN" || fin.Received != 3 || fin.Resolved != 2 || fin.Ratings != 1 || str(fin.AverageRating()) != "5.00" ||
				str(fin.ResponseRate()) != "50.0" || fin.SpendMinor != 104994 {
				t.Errorf("FIN row: %+v avg %s rate %s", fin, str(fin.AverageRating()), str(fin.ResponseRate()))
			}
			if mkt.Unit.Code != "MKT" || mkt.Received != 4 || mkt.Resolved != 4 || mkt.Ratings != 4 || str(mkt.AverageRating()) != "3.50" ||
				str(mkt.ResponseRate()) != "100.0" || mkt.SpendMinor != 365000 {
				t.Errorf("MKT row: %+v avg %s rate %s", mkt, str(mkt.AverageRating()), str(mkt.ResponseRate()))
			}

		})
		// October to December takes in L0's October filing and first
		// response and L4's December resolution and charge.
		testkit.Step(t, "October to December", func(t *testing.T) {
			wide, err := reports.NewRange("2026-10", "2026-12", helsinki)
			if err != nil {
				t.Fatal(err)
			}
			q, err := reports.QualityReport(ctx, d, reports.Scope{OrgWide: true}, wide, "EUR")
			if err != nil {
				t.Fatal(err)
			}
			checkMetrics(t, "LAPTOP Oct–Dec", &q.Services[0].Metrics, want{received: 5, resolved: 5, firstResponses: 5, firstMet: 3,
				resolutionMet: 3, ratings: 3, firstPct: "60.0", firstMedian: "45", firstP90: "90", resPct: "60.0",
				resMedian: "300", resP90: "600", avgRating: "4.00", responseRate: "60.0", recovered: 579994, costPerRequest: "1159.99"})

		})
		testkit.Step(t, "a reader who sees only FIN", func(t *testing.T) {
			// A reader who sees only FIN gets FIN's consumer row and nothing of IT.
			q, err := reports.QualityReport(ctx, d, reports.Scope{UnitIDs: []int64{k.Units.FIN}}, november, "EUR")
			if err != nil {
				t.Fatal(err)
			}
			if len(q.Providers) != 0 || len(q.Services) != 0 || len(q.Consumers) != 1 || q.Consumers[0].SpendMinor != 104994 {
				t.Fatalf("FIN's view: %+v", q)
			}
		})
		testkit.Step(t, "filtered on FIN as consumer", func(t *testing.T) {
			// Filtering on FIN as consumer narrows IT's figures to FIN's requests.
			q, err := reports.QualityReport(ctx, d, reports.Scope{OrgWide: true, ConsumerUnitID: k.Units.FIN}, november, "EUR")
			if err != nil {
				t.Fatal(err)
			}
			if p := q.Providers[0]; p.Received != 3 || p.Resolved != 2 || p.RecoveredMinor != 104994 || len(q.Consumers) != 1 {
				t.Fatalf("IT for FIN: %+v, %d consumer rows", p.Metrics, len(q.Consumers))
			}
		})
	})
}

func TestSpendReport(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		k := newShop(t, d)
		k.load(t)
		rng, err := reports.NewRange("2026-11", "2026-12", helsinki)
		if err != nil {
			t.Fatal(err)
		}
		s, err := reports.SpendReport(context.Background(), d, reports.Scope{OrgWide: true}, rng, "EUR")
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, r := range s.Rows {
			got = append(got, strings.Join([]string{r.Month, r.Consumer.Code, r.Provider.Code, r.Service.Code,
				itoa(r.Charges), itoa(r.ChargedMinor), itoa(r.CreditedMinor), itoa(r.NetMinor)}, " "))
		}
		want := []string{
			"2026-11 FIN IT LAPTOP 1 120000 20006 99994",
			"2026-11 FIN IT LICENCE 1 5000 0 5000",
			"2026-11 MKT IT LAPTOP 3 360000 0 360000",
			"2026-11 MKT IT LICENCE 1 5000 0 5000",
			"2026-12 FIN IT LAPTOP 1 120000 0 120000",
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Fatalf("spend rows:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	})
}

func TestRanges(t *testing.T) {
	for _, c := range []struct {
		from, to string
		ok       bool
	}{
		{"2026-11", "2026-11", true}, {"2025-01", "2026-12", true}, {"2025-01", "2027-01", false},
		{"2026-12", "2026-11", false}, {"2026-13", "2026-13", false}, {"2026-1", "2026-02", false}, {"", "2026-02", false},
	} {
		if _, err := reports.NewRange(c.from, c.to, helsinki); (err == nil) != c.ok {
			t.Errorf("%s..%s: %v", c.from, c.to, err)
		}
	}
	r, err := reports.Month("2026-11", helsinki)
	if err != nil || !r.Start.Equal(time.Date(2026, 10, 31, 22, 0, 0, 0, time.UTC)) || !r.End.Equal(time.Date(2026, 11, 30, 22, 0, 0, 0, time.UTC)) {
		t.Fatalf("November in Helsinki = %v – %v, %v", r.Start, r.End, err)
	}
}
