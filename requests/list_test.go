package requests_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/tiski/tiski/catalog"
	"github.com/tiski/tiski/db"
	"github.com/tiski/tiski/db/dbtest"
	"github.com/tiski/tiski/policies"
	"github.com/tiski/tiski/requests"
	"github.com/tiski/tiski/units"
)

// TestListUnionMatchesOr checks that List, which answers id-ordered pages
// as a union of one first page per visibility branch, returns page for page
// what the plain OR visibility rule returns, and that both return exactly
// the requests Get lets the viewer see. Viewers: a requester (member of two
// units), an agent of two provider units, a manager of a parent unit (who
// reads its two children by inheritance) and finance (reads everything); a
// few filters; every sort; pages of 4 walked to the end by cursor.
func TestListUnionMatchesOr(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		var (
			unitA, unitB, unitC       int64
			requester, agent, manager int64
			finance                   int64
			svcA, svcB, svcC          int64
			filers                    [][2]int64 // user, consumer unit
		)
		err := d.InTx(ctx, func(tx bun.Tx) error {
			_, err := units.EnsureOrganisation(ctx, tx, "EUR", "Europe/Helsinki")
			unit := func(code string, parent *int64) int64 {
				if err != nil {
					return 0
				}
				var u *units.Unit
				u, err = units.CreateUnit(ctx, tx, 0, units.Unit{Code: code, Name: code, ParentID: parent})
				if err != nil {
					return 0
				}
				return u.ID
			}
			user := func(name string) int64 {
				if err != nil {
					return 0
				}
				var u *units.User
				u, err = units.CreateUser(ctx, tx, 0, units.User{Email: name + "@example.org", Name: name})
				if err != nil {
					return 0
				}
				return u.ID
			}
			grant := func(unitID, userID int64, role string) {
				if err == nil {
					_, err = units.GrantUnitRole(ctx, tx, 0, unitID, userID, role)
				}
			}
			service := func(providerID int64, code string) int64 {
				if err != nil {
					return 0
				}
				var s *catalog.Service
				s, _, err = catalog.CreateService(ctx, tx, 0, catalog.Service{ProviderUnitID: providerID, Code: code, Name: code,
					PricingModel: "fixed", ApprovalPolicy: "never", SLAFirstResponseMinutes: 60, SLAResolutionMinutes: 480},
					nil, catalog.Rate{PriceMinor: 1000, Currency: "EUR", EffectiveFrom: "2020-01-01"})
				if err != nil {
					return 0
				}
				return s.ID
			}
			parent := unit("P", nil)
			unitA, unitB = unit("A", &parent), unit("B", &parent)
			unitC = unit("C", nil)
			unitD := unit("D", nil)
			requester, agent, manager, finance = user("requester"), user("agent"), user("manager"), user("finance")
			memberB, memberC, memberD := user("b"), user("c"), user("d")
			grant(unitA, requester, "member")
			grant(unitD, requester, "member")
			grant(unitA, agent, "agent")
			grant(unitC, agent, "agent")
			grant(parent, manager, "manager")
			grant(unitB, memberB, "member")
			grant(unitC, memberC, "member")
			grant(unitD, memberD, "member")
			grant(unitC, manager, "member") // the manager files for C too
			svcA, svcB, svcC = service(unitA, "SA"), service(unitB, "SB"), service(unitC, "SC")
			if err != nil {
				return err
			}
			if _, err := units.GrantOrgRole(ctx, tx, 0, finance, "finance"); err != nil {
				return err
			}
			filers = [][2]int64{{requester, unitA}, {requester, unitD}, {memberB, unitB}, {memberC, unitC},
				{memberD, unitD}, {manager, unitC}}
			return nil
		})
		if err != nil {
			t.Fatalf("fixture: %v", err)
		}
		authz, err := policies.New(ctx, d, slog.New(slog.NewTextHandler(io.Discard, nil)))
		if err != nil {
			t.Fatal(err)
		}
		viewer := func(id int64) requests.Viewer { return requests.Viewer{UserID: id, Authz: authz} }

		// 72 requests: every filer orders every service four times, in an
		// interleaved order so each branch's ids are spread over the table.
		start := time.Date(2026, 5, 4, 8, 0, 0, 0, time.UTC)
		statuses := []requests.Status{requests.Open, requests.InProgress, requests.Closed, requests.Resolved, requests.Open, requests.Cancelled}
		var all []int64
		err = d.InTx(ctx, func(tx bun.Tx) error {
			for i := range 72 {
				fl := filers[i%len(filers)]
				svc := []int64{svcA, svcB, svcC}[(i/len(filers))%3]
				r, err := requests.Submit(ctx, tx, viewer(fl[0]), units.Organisation{Currency: "EUR", TimeZone: "UTC", Location: time.UTC},
					requests.Order{ServiceID: svc, ConsumerUnitID: fl[1], Title: fmt.Sprintf("Order %d %s", i, []string{"laptop", "desk"}[i%2])},
					start.Add(time.Duration(i)*time.Minute))
				if err != nil {
					return fmt.Errorf("request %d: %w", i, err)
				}
				// Status and updated_at (with ties) independent of the id order.
				if _, err := tx.NewUpdate().Table("requests").Where("id = ?", r.ID).
					Set("status = ?", statuses[(i*5)%len(statuses)]).
					Set("updated_at = ?", start.Add(time.Duration((i*7)%11)*time.Hour)).Exec(ctx); err != nil {
					return err
				}
				all = append(all, r.ID)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}

		filters := map[string]requests.Filter{
			"none":       {},
			"statuses":   {Statuses: []requests.Status{requests.Open, requests.InProgress}},
			"provider A": {ProviderUnitID: unitA},
			"consumer C": {ConsumerUnitID: unitC},
			"query":      {Query: "laptop"},
		}
		viewers := map[string]int64{"requester": requester, "agent of A and C": agent, "manager of P": manager, "finance": finance}
		for vname, uid := range viewers {
			t.Run(vname, func(t *testing.T) {
				v := viewer(uid)
				var visible []int64
				for _, id := range all {
					if _, err := requests.Get(ctx, d, v, id); err == nil {
						visible = append(visible, id)
					}
				}
				if len(visible) == 0 || (uid != finance && len(visible) == len(all)) {
					t.Fatalf("%s sees %d of %d requests: the fixture does not test visibility", vname, len(visible), len(all))
				}
				for fname, f := range filters {
					for sort := range requests.Sorts {
						t.Run(fname+"/"+sort, func(t *testing.T) {
							f := f
							f.Sort, f.Limit = sort, 4
							var seen []int64
							for pageNo := 0; ; pageNo++ {
								got, err := requests.List(ctx, d, v, f)
								if err != nil {
									t.Fatalf("%s, %s, %s: List: %v", vname, fname, sort, err)
								}
								want, err := requests.ListOr(ctx, d, v, f)
								if err != nil {
									t.Fatalf("%s, %s, %s: ListOr: %v", vname, fname, sort, err)
								}
								if g, w := ids(got), ids(want); !slices.Equal(g, w) {
									t.Fatalf("%s, %s, %s, page %d: List = %v, the OR rule gives %v", vname, fname, sort, pageNo, g, w)
								}
								seen = append(seen, ids(got)...)
								if len(got) < f.Limit {
									break
								}
								c := requests.CursorAfter(&got[len(got)-1], sort)
								f.After = &c
							}
							if fname == "none" {
								slices.Sort(seen)
								if !slices.Equal(seen, visible) {
									t.Fatalf("%s, %s: the pages hold %v, Get lets the viewer see %v", vname, sort, seen, visible)
								}
							}
						})
					}
				}
			})
		}
	})
}

func ids(rows []requests.Request) []int64 {
	out := make([]int64, len(rows))
	for i, r := range rows {
		out[i] = r.ID
	}
	return out
}
