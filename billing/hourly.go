package billing

import (
	"fmt"
	"strings"

	"github.com/govalues/decimal"
)

// An hourly charge is priced from whole minutes: minutes × hourly price /
// 60, rounded half-to-even (hourlyLines). Its quantity, the hours to four
// decimals, cannot be exact (7 minutes are 0.11666… h), so a reader who
// multiplies it by the price may miss the amount by a cent (0.1167 h ×
// 95.00 = 11.09, charged 11.08). Statements therefore show an hourly line's
// time as its minutes (and h:mm): minutes × price / 60 is the amount.

// billedMinutes returns the minutes an hourly charge bills, or nil for a
// charge of another kind. The charge's key says it is hourly (it names the
// time entries it covers); its quantity is minutes / 60 to four decimals,
// so minutes are that times 60, rounded: within 0.003 of a whole number.
func billedMinutes(sourceKey, quantity string) *int64 {
	if !strings.Contains(sourceKey, ":time:") {
		return nil
	}
	q, err := decimal.Parse(quantity)
	if err != nil {
		return nil
	}
	m, err := q.Mul(decimal.MustNew(60, 0))
	if err != nil {
		return nil
	}
	whole, _, ok := m.Round(0).Int64(0)
	if !ok {
		return nil
	}
	return &whole
}

// clock is minutes as h:mm ("0:07", "12:30").
func clock(minutes int64) string {
	sign := ""
	if minutes < 0 {
		sign, minutes = "-", -minutes
	}
	return fmt.Sprintf("%s%d:%02d", sign, minutes/60, minutes%60)
}

// BilledMinutes returns the minutes an hourly charge bills, or nil for a
// charge of another kind.
func (c Charge) BilledMinutes() *int64 { return billedMinutes(c.SourceKey, c.Quantity) }

// Time is an hourly charge's time as h:mm, or "" for a charge of another
// kind.
func (c Charge) Time() string {
	if m := c.BilledMinutes(); m != nil {
		return clock(*m)
	}
	return ""
}

// Time is an hourly line's time as h:mm, or "" for a line of another kind.
func (l *StatementLine) Time() string {
	if l.Minutes != nil {
		return clock(*l.Minutes)
	}
	return ""
}
