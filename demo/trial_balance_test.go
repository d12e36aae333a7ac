package demo

import (
	"context"
	"testing"

	"github.com/tiski/tiski/auth"
	"github.com/tiski/tiski/billing"
	"github.com/tiski/tiski/db"
	"github.com/tiski/tiski/db/dbtest"
)

// TestTrialBalanceOfTheDemoSumsToZero checks the demo's trial balance for
// every month with a posting: totals that sum to zero (books and showback
// apart), each unit opening where it closed the month before and closing at
// the sum of its postings so far.
func TestTrialBalanceOfTheDemoSumsToZero(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		if err := Load(ctx, d, auth.HashParams{MemoryKiB: 64, Time: 1, Threads: 1}); err != nil {
			t.Fatal(err)
		}
		var months []string
		if err := d.NewRaw("SELECT DISTINCT period FROM journal_entries ORDER BY period").Scan(ctx, &months); err != nil {
			t.Fatal(err)
		}
		if len(months) < 3 {
			t.Fatalf("the demo books %d months", len(months))
		}
		closed := map[int64]int64{}
		var showback int64
		for _, month := range months {
			tb, err := billing.GetTrialBalance(ctx, d, month)
			if err != nil {
				t.Fatal(err)
			}
			if len(tb.Totals) != 1 {
				t.Fatalf("%s: totals %+v", month, tb.Totals)
			}
			for name, b := range map[string]billing.Balance{"books": tb.Totals[0].Books, "showback": tb.Totals[0].Showback} {
				if b.OpeningMinor != 0 || b.ClosingMinor() != 0 || b.DebitMinor != b.CreditMinor {
					t.Errorf("%s %s totals do not balance: %+v", month, name, b)
				}
			}
			showback += tb.Totals[0].Showback.DebitMinor
			for _, r := range tb.Rows {
				if open := r.Books.OpeningMinor + r.Showback.OpeningMinor; open != closed[r.UnitID] {
					t.Errorf("%s %s opens at %d, closed at %d", month, r.UnitCode, open, closed[r.UnitID])
				}
				var ledger int64
				if err := d.NewRaw(`SELECT CAST(COALESCE(SUM(p.amount_minor), 0) AS BIGINT) FROM postings p
					JOIN accounts a ON a.id = p.account_id JOIN journal_entries e ON e.id = p.entry_id
					WHERE a.unit_id = ? AND e.period <= ?`, r.UnitID, month).Scan(ctx, &ledger); err != nil {
					t.Fatal(err)
				}
				closed[r.UnitID] = r.Books.ClosingMinor() + r.Showback.ClosingMinor()
				if closed[r.UnitID] != ledger {
					t.Errorf("%s %s closes at %d, its postings sum to %d", month, r.UnitCode, closed[r.UnitID], ledger)
				}
			}
		}
		if showback == 0 {
			t.Error("the demo's trial balances show no showback; Legal is on showback")
		}
	})
}
