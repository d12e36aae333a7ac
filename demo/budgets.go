package demo

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/tiski/tiski/billing"
	"github.com/tiski/tiski/fault"
	"github.com/tiski/tiski/units"
)

// budgetSeed is a consumer unit with a monthly budget and the least amount
// it gets.
type budgetSeed struct {
	Unit      string
	BaseMinor int64
}

var budgetSeeds = []budgetSeed{
	{"CC-1200", 300000}, {"CC-1210", 200000}, {"CC-1220", 150000}, {"CC-1300", 200000},
	{"CC-1400", 150000}, {"CC-1500", 200000}, {"CC-1600", 150000},
}

// The four heaviest unit-months of the past are where budgets ran tight:
// the two heaviest went over, the next two reached the warning line. The
// shares are what each of them used of its budget, in per cent.
var tightPct = []int64{110, 104, 92, 84}

// A usual budget leaves room: the unit's average month uses usualPct of
// it, rounded up to five hundred euros; a month that uses more gets a
// budget raised to that share. A budget sized to a share is rounded up to
// ten euros.
const (
	usualPct        = 65
	usualStepMinor  = 50000
	budgetStepMinor = 1000
)

// unitMonth is what one unit used of one month, aged from the current
// month (0).
type unitMonth struct {
	unit  *units.Unit
	month string
	age   int
	used  int64
}

// budgets sets, as finance on the first morning of each month, the budgets
// that are missing: the unit's usual amount, or sized so the month's use
// is its share (tightPct or usualPct) of it.
func (b *books) budgets(ctx context.Context) error {
	return b.d.InTx(ctx, func(tx bun.Tx) error {
		var cells []unitMonth
		usual := map[string]int64{}
		for _, seed := range budgetSeeds {
			u, err := units.GetUnitByCode(ctx, tx, seed.Unit)
			if err != nil {
				return fmt.Errorf("demo budget unit %s: %w", seed.Unit, err)
			}
			var past int64
			for age := range b.months {
				month := b.months[len(b.months)-1-age]
				use, err := billing.BudgetUse(ctx, tx, u.ID, month, b.org.Location)
				if err != nil {
					return fmt.Errorf("demo budget %s %s: %w", seed.Unit, month, err)
				}
				cells = append(cells, unitMonth{unit: u, month: month, age: age, used: use.Used()})
				if age > 0 {
					past += use.Used()
				}
			}
			usual[u.Code] = max(seed.BaseMinor, roundUp(past/int64(len(b.months)-1)*100/usualPct, usualStepMinor))
		}
		tight := tightCells(cells)
		for i, c := range cells {
			amount, pct := usual[c.unit.Code], int64(usualPct)
			if share, ok := tight[i]; ok {
				pct = share
			}
			if sized := roundUp(c.used*100/pct, budgetStepMinor); c.used > 0 && (pct != usualPct || sized > amount) {
				amount = sized
			}
			if err := b.setBudget(ctx, tx, c, amount); err != nil {
				return fmt.Errorf("demo budget %s %s: %w", c.unit.Code, c.month, err)
			}
		}
		return nil
	})
}

// tightCells maps the indexes of the heaviest past unit-months to their
// share of tightPct.
func tightCells(cells []unitMonth) map[int]int64 {
	var past []int
	for i, c := range cells {
		if c.age > 0 && c.used > 0 {
			past = append(past, i)
		}
	}
	slices.SortFunc(past, func(i, j int) int {
		return cmp.Or(cmp.Compare(cells[j].used, cells[i].used), strings.Compare(cells[i].unit.Code, cells[j].unit.Code),
			strings.Compare(cells[i].month, cells[j].month))
	})
	out := map[int]int64{}
	for k, i := range past[:min(len(past), len(tightPct))] {
		out[i] = tightPct[k]
	}
	return out
}

// setBudget sets the budget of one unit-month unless it exists.
func (b *books) setBudget(ctx context.Context, tx bun.Tx, c unitMonth, amount int64) error {
	if _, err := billing.GetBudget(ctx, tx, c.unit.ID, c.month); err == nil {
		return nil
	} else if !fault.Is(err, fault.KindNotFound) {
		return err
	}
	at := b.start(c.month).Add(8 * time.Hour).UTC()
	if c.age == 0 {
		at = b.inCurrent(0.005)
	}
	_, err := billing.SetBudget(ctx, tx, billing.Operator(b.finance), billing.Budget{UnitID: c.unit.ID, Month: c.month,
		AmountMinor: amount, Currency: b.org.Currency, WarnPct: billing.DefaultWarnPct, Hard: c.unit.BudgetMode == units.BudgetHard}, b.loc, at)
	return err
}

func roundUp(minor, step int64) int64 { return (minor + step - 1) / step * step }
