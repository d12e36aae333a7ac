package billing

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/uptrace/bun"

	"github.com/tiski/tiski/catalog"
	"github.com/tiski/tiski/fault"
	"github.com/tiski/tiski/money"
)

// checkFulfilments: every resolved (or closed) request has what billing
// owes for it. A monthly one has its subscription at the quoted price; a
// fixed or per-unit one has its charge at quantity × quoted unit price; an
// hourly one has, per rate in force on the days worked, charges for its
// billable time. The one recorded reason for no charge is that the
// recomputation comes to zero: a zero price or quantity, or no billable
// time. Showback units are charged too (the flag only keeps the money out
// of their budget), so showback is no reason.
func checkFulfilments(ctx context.Context, tx bun.Tx, b *booksSnapshot) ([]Breach, error) {
	var out []Breach
	const check = "resolved requests are charged"
	charged := map[int64][]Charge{} // request charges, by request
	for _, c := range b.charges {
		if c.RequestID != nil && strings.HasPrefix(c.SourceKey, "request:") {
			charged[*c.RequestID] = append(charged[*c.RequestID], c)
		}
	}
	for _, r := range b.requests {
		if !r.fulfilled() {
			continue
		}
		object := fmt.Sprintf("request %d", r.ID)
		bad := func(obj, format string, args ...any) {
			out = append(out, Breach{Check: check, Object: obj, Detail: fmt.Sprintf(format, args...)})
		}
		switch r.PricingModel {
		case "monthly":
			s := b.subByReq[r.ID]
			if s == nil {
				bad(object, "resolved monthly service has no subscription")
				continue
			}
			if s.MonthlyPriceMinor != r.UnitPriceMinor || s.RateID != r.RateID || s.Currency != r.Currency ||
				s.ConsumerUnitID != r.ConsumerUnitID || s.ProviderUnitID != r.ProviderUnitID || s.ServiceID != r.ServiceID {
				bad(fmt.Sprintf("subscription %d", s.ID), "monthly price %d %s at rate %d is not request %d's quote of %d %s at rate %d",
					s.MonthlyPriceMinor, s.Currency, s.RateID, r.ID, r.UnitPriceMinor, r.Currency, r.RateID)
			}
		case "fixed", "per_unit":
			want, err := quoteAmount(r.Quantity, r.UnitPriceMinor, r.Currency)
			if err != nil {
				bad(object, "quantity %q × %d does not compute: %v", r.Quantity, r.UnitPriceMinor, err)
				continue
			}
			got, n := chargedAt(charged[r.ID], nil)
			switch {
			case want != 0 && n == 0:
				bad(object, "resolved with a quote of %d %s but has no charge", want, r.Currency)
			case got != want:
				bad(object, "charged %d %s, its quote comes to %d", got, r.Currency, want)
			}
		case "hourly":
			owed, err := billableTime(ctx, tx, r)
			if err != nil {
				return nil, err
			}
			for rateID, o := range owed {
				got, n := chargedAt(charged[r.ID], &rateID)
				// Each charge rounds once, so charges posted in parts may
				// differ from the whole by less than one minor unit each.
				if slack := int64(max(n-1, 0)); (n == 0 && o.amount != 0) || got-o.amount > slack || o.amount-got > slack {
					bad(object, "charged %d %s at rate %d, its %d billable minutes come to %d", got, r.Currency, rateID, o.minutes, o.amount)
				}
			}
			for _, c := range charged[r.ID] {
				if _, ok := owed[ptrValue(c.RateID)]; !ok {
					bad(object, "charge %d is at rate %s, at which no billable time was logged", c.ID, ptrString(c.RateID))
				}
			}
		}
	}
	return out, nil
}

// owedTime is the billable time of a request at one rate and its price.
type owedTime struct{ minutes, amount int64 }

// billableTime recomputes what a resolved hourly request owes, by rate: its
// billable minutes at the rate in force on each entry's date (the quote for
// a day before the service's first price), each rate's minutes priced once.
func billableTime(ctx context.Context, tx bun.Tx, r fulfilledRequest) (map[int64]owedTime, error) {
	var entries []struct {
		Minutes  int64  `bun:"minutes"`
		WorkDate string `bun:"work_date"`
	}
	if err := tx.NewSelect().Table("time_entries").Column("minutes", "work_date").
		Where("request_id = ? AND billable = ?", r.ID, true).OrderExpr("id").Scan(ctx, &entries); err != nil {
		return nil, fmt.Errorf("verify: billable time of request %d: %w", r.ID, err)
	}
	owed := map[int64]owedTime{}
	price := map[int64]int64{}
	for _, e := range entries {
		rate, err := catalog.RateOn(ctx, tx, r.ServiceID, e.WorkDate)
		if fe, ok := fault.As(err); ok && fe.Code == "no_rate" {
			rate, err = &catalog.Rate{ID: r.RateID, PriceMinor: r.UnitPriceMinor}, nil
		}
		if err != nil {
			return nil, err
		}
		o := owed[rate.ID]
		o.minutes += e.Minutes
		owed[rate.ID], price[rate.ID] = o, rate.PriceMinor
	}
	for rateID, o := range owed {
		amount, err := money.Money{Minor: price[rateID], Currency: r.Currency}.MulRatio(o.minutes, 60)
		if err != nil {
			return nil, err
		}
		o.amount = amount.Minor
		owed[rateID] = o
	}
	return owed, nil
}

// chargedAt sums charges, all or those at one rate, and counts them.
func chargedAt(charges []Charge, rateID *int64) (sum int64, n int) {
	for _, c := range charges {
		if rateID != nil && (c.RateID == nil || *c.RateID != *rateID) {
			continue
		}
		sum += c.AmountMinor
		n++
	}
	return sum, n
}

// checkDisputes: a charge's status agrees with its dispute (posted: none or
// rejected; disputed: open; credited: accepted with a credit entry), each
// dispute's fields agree with its status, and its status is the one its
// audit trail last recorded.
func checkDisputes(_ context.Context, _ bun.Tx, b *booksSnapshot) ([]Breach, error) {
	var out []Breach
	const check = "charges agree with their disputes"
	byCharge := map[int64]*Dispute{}
	for i := range b.disputes {
		byCharge[b.disputes[i].ChargeID] = &b.disputes[i]
	}
	for _, c := range b.charges {
		d := byCharge[c.ID]
		dispute := "no dispute"
		if d != nil {
			dispute = fmt.Sprintf("dispute %d is %s", d.ID, d.Status)
		}
		var ok bool
		switch c.Status {
		case ChargePosted:
			ok = d == nil || d.Status == DisputeRejected
		case ChargeDisputed:
			ok = d != nil && d.Status == DisputeOpen
		case ChargeCredited:
			ok = d != nil && d.Status == DisputeAccepted && d.EntryID != nil
		}
		if !ok {
			out = append(out, Breach{Check: check, Object: fmt.Sprintf("charge %d", c.ID), Detail: fmt.Sprintf("is %s but %s", c.Status, dispute)})
		}
	}
	last := map[string]string{} // dispute id -> status its last audit event left it in
	for _, e := range b.events {
		if e.ObjectType != "dispute" {
			continue
		}
		switch e.Action {
		case "raise":
			last[e.ObjectID] = DisputeOpen
		case "accept":
			last[e.ObjectID] = DisputeAccepted
		case "reject":
			last[e.ObjectID] = DisputeRejected
		}
	}
	for _, d := range b.disputes {
		object := fmt.Sprintf("dispute %d", d.ID)
		bad := func(format string, args ...any) {
			out = append(out, Breach{Check: check, Object: object, Detail: fmt.Sprintf(format, args...)})
		}
		c := b.chargeByID[d.ChargeID]
		if c == nil {
			bad("disputes charge %d, which does not exist", d.ChargeID)
			continue
		}
		settled := d.ResolvedBy != nil || d.ResolvedAt != nil
		switch d.Status {
		case DisputeOpen:
			if settled || d.CreditMinor != 0 || d.EntryID != nil {
				bad("is open but carries a settlement (credit %d, entry %s)", d.CreditMinor, ptrString(d.EntryID))
			}
		case DisputeAccepted:
			if !settled || d.CreditMinor <= 0 || d.CreditMinor > c.AmountMinor {
				bad("is accepted with a credit of %d on a charge of %d", d.CreditMinor, c.AmountMinor)
			}
		case DisputeRejected:
			if !settled || d.CreditMinor != 0 || d.EntryID != nil {
				bad("is rejected but credits %d (entry %s)", d.CreditMinor, ptrString(d.EntryID))
			}
		}
		if want, ok := last[fmt.Sprint(d.ID)]; ok && want != d.Status {
			bad("is %s but its audit trail last left it %s", d.Status, want)
		}
	}
	return out, nil
}

var periodRank = map[string]int{PeriodOpen: 0, PeriodReview: 1, PeriodClosed: 2}

// checkPeriods: periods only move forward (open, review, closed), as the
// audit trail records it and as the rows show it; a period has closed_at
// exactly when it is closed; and no entry is posted into a month after a
// later month closed (the one into the closed month itself is an SQL
// invariant).
func checkPeriods(_ context.Context, _ bun.Tx, b *booksSnapshot) ([]Breach, error) {
	var out []Breach
	const check = "periods move forward"
	bad := func(month, format string, args ...any) {
		out = append(out, Breach{Check: check, Object: "period " + month, Detail: fmt.Sprintf(format, args...)})
	}
	status := map[string]string{}
	for _, p := range b.periods {
		status[p.Month] = p.Status
		if (p.Status == PeriodClosed) != (p.ClosedAt != nil) {
			bad(p.Month, "is %s but closed_at is set: %v", p.Status, p.ClosedAt != nil)
		}
	}
	trail := map[string]string{} // month -> status its audit trail last recorded
	var months []string
	for _, e := range b.events {
		if e.ObjectType != "period" {
			continue
		}
		before, after := periodStatus(e.BeforeJSON), periodStatus(e.AfterJSON)
		if prev, ok := trail[e.ObjectID]; ok && before != prev {
			bad(e.ObjectID, "audit event %d moves it from %s, but it was %s", e.ID, before, prev)
		}
		if periodRank[after] < periodRank[before] {
			bad(e.ObjectID, "audit event %d moves it back from %s to %s", e.ID, before, after)
		}
		if _, ok := trail[e.ObjectID]; !ok {
			months = append(months, e.ObjectID)
		}
		trail[e.ObjectID] = after
	}
	for _, m := range months {
		if status[m] != trail[m] {
			got := status[m]
			if got == "" {
				got = "without its row"
			}
			bad(m, "is %s, but its audit trail last left it %s", got, trail[m])
		}
	}
	// A month before a closed one is closed too, row or not: nothing posts
	// into it once the later month has closed.
	for _, e := range b.entries {
		for _, p := range b.periods {
			if p.Status == PeriodClosed && p.ClosedAt != nil && e.Period < p.Month && e.CreatedAt.After(*p.ClosedAt) {
				out = append(out, Breach{Check: check, Object: fmt.Sprintf("journal entry %d", e.ID),
					Detail: fmt.Sprintf("%s posted into %s after the later month %s closed", e.IdempotencyKey, e.Period, p.Month)})
				break
			}
		}
	}
	return out, nil
}

// periodStatus reads the status out of a period recorded in the audit
// trail; a period not recorded yet was open.
func periodStatus(raw *string) string {
	var p struct{ Status string }
	if raw == nil || json.Unmarshal([]byte(*raw), &p) != nil || p.Status == "" {
		return PeriodOpen
	}
	return p.Status
}
