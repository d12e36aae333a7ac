package billing

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/govalues/decimal"
	"github.com/uptrace/bun"

	"github.com/tiski/tiski/audit"
	"github.com/tiski/tiski/money"
)

// booksSnapshot is every row verify reasons about, read once.
type booksSnapshot struct {
	entries     []JournalEntry
	entryByID   map[int64]*JournalEntry
	legs        map[int64][]leg // by entry
	charges     []Charge
	chargeByID  map[int64]*Charge
	disputes    []Dispute
	adjustments []Adjustment
	subs        []Subscription
	subByID     map[int64]*Subscription
	subByReq    map[int64]*Subscription
	periods     []Period
	requests    []fulfilledRequest
	requestByID map[int64]*fulfilledRequest
	rates       map[int64]int64 // rate id -> price
	events      []audit.Event   // of periods and disputes, oldest first
}

// leg is a posting as the unit it moves money for.
type leg struct {
	UnitID      int64  `bun:"unit_id"`
	AmountMinor int64  `bun:"amount_minor"`
	Currency    string `bun:"currency"`
	EntryID     int64  `bun:"entry_id"`
}

// fulfilledRequest is a request as verify needs it: its quote and its status.
type fulfilledRequest struct {
	bun.BaseModel `bun:"table:requests"`

	ID             int64  `bun:"id"`
	ServiceID      int64  `bun:"service_id"`
	ConsumerUnitID int64  `bun:"consumer_unit_id"`
	ProviderUnitID int64  `bun:"provider_unit_id"`
	RateID         int64  `bun:"rate_id"`
	PricingModel   string `bun:"pricing_model"`
	Quantity       string `bun:"quantity"`
	UnitPriceMinor int64  `bun:"unit_price_minor"`
	Currency       string `bun:"currency"`
	Status         string `bun:"status"`
}

// fulfilled reports whether the request was resolved and stays so (closing
// follows resolving; reopening leaves it).
func (r fulfilledRequest) fulfilled() bool { return r.Status == "resolved" || r.Status == "closed" }

func loadBooks(ctx context.Context, tx bun.Tx) (*booksSnapshot, error) {
	b := &booksSnapshot{entryByID: map[int64]*JournalEntry{}, legs: map[int64][]leg{}, chargeByID: map[int64]*Charge{},
		subByID: map[int64]*Subscription{}, subByReq: map[int64]*Subscription{}, requestByID: map[int64]*fulfilledRequest{}, rates: map[int64]int64{}}
	var legs []leg
	var rates []struct {
		ID         int64 `bun:"id"`
		PriceMinor int64 `bun:"price_minor"`
	}
	loads := []struct {
		what string
		q    *bun.SelectQuery
		dest any
	}{
		{"journal entries", tx.NewSelect().Model(&b.entries).OrderExpr("id"), nil},
		{"postings", tx.NewSelect().TableExpr("postings AS p").Join("JOIN accounts AS a ON a.id = p.account_id").
			ColumnExpr("p.entry_id, a.unit_id, p.amount_minor, p.currency").OrderExpr("p.id"), &legs},
		{"charges", tx.NewSelect().Model(&b.charges).OrderExpr("c.id"), nil},
		{"disputes", tx.NewSelect().Model(&b.disputes).OrderExpr("d.id"), nil},
		{"adjustments", tx.NewSelect().Model(&b.adjustments).OrderExpr("a.id"), nil},
		{"subscriptions", tx.NewSelect().Model(&b.subs).OrderExpr("s.id"), nil},
		{"periods", tx.NewSelect().Model(&b.periods).OrderExpr("month"), nil},
		{"requests", tx.NewSelect().Model(&b.requests).OrderExpr("id"), nil},
		{"rates", tx.NewSelect().Table("service_rates").Column("id", "price_minor"), &rates},
		{"audit trail", tx.NewSelect().Model(&b.events).Where("object_type IN ('period', 'dispute')").OrderExpr("id"), nil},
	}
	for _, l := range loads {
		var err error
		if l.dest != nil {
			err = l.q.Scan(ctx, l.dest)
		} else {
			err = l.q.Scan(ctx)
		}
		if err != nil {
			return nil, fmt.Errorf("verify: read %s: %w", l.what, err)
		}
	}
	for i := range b.entries {
		b.entryByID[b.entries[i].ID] = &b.entries[i]
	}
	for _, l := range legs {
		b.legs[l.EntryID] = append(b.legs[l.EntryID], l)
	}
	for i := range b.charges {
		b.chargeByID[b.charges[i].ID] = &b.charges[i]
	}
	for i := range b.subs {
		b.subByID[b.subs[i].ID] = &b.subs[i]
		b.subByReq[b.subs[i].RequestID] = &b.subs[i]
	}
	for i := range b.requests {
		b.requestByID[b.requests[i].ID] = &b.requests[i]
	}
	for _, r := range rates {
		b.rates[r.ID] = r.PriceMinor
	}
	return b, nil
}

// source is what a journal entry exists for: a charge, a dispute's credit
// or an adjustment, with the key it posts under and the money it moves.
type source struct {
	check    string // the check a mismatch with its entry breaks
	object   string
	key      string
	period   string // the entry's period when the source fixes it, else ""
	currency string
	moves    map[int64]int64 // unit -> amount
}

// checkSources: every entry is explained by exactly one source under the
// source's key, every source has its entry, and the entry moves exactly the
// source's amount between the source's units, in its currency.
func checkSources(_ context.Context, _ bun.Tx, b *booksSnapshot) ([]Breach, error) {
	var out []Breach
	const check = "entries have one source"
	byEntry := map[int64][]source{}
	add := func(entryID *int64, s source) {
		switch {
		case entryID == nil:
			out = append(out, Breach{Check: s.check, Object: s.object, Detail: "has no journal entry"})
		case b.entryByID[*entryID] == nil:
			out = append(out, Breach{Check: s.check, Object: s.object, Detail: fmt.Sprintf("its journal entry %d does not exist", *entryID)})
		default:
			byEntry[*entryID] = append(byEntry[*entryID], s)
		}
	}
	for _, c := range b.charges {
		add(c.EntryID, source{check: "charges match their entries", object: fmt.Sprintf("charge %d", c.ID), key: c.SourceKey, period: c.Period, currency: c.Currency,
			moves: map[int64]int64{c.ConsumerUnitID: c.AmountMinor, c.ProviderUnitID: -c.AmountMinor}})
	}
	for _, d := range b.disputes {
		c := b.chargeByID[d.ChargeID]
		if d.EntryID == nil || c == nil {
			continue // an accepted dispute without entry, or a dispute without charge: checkDisputes and the SQL invariants
		}
		add(d.EntryID, source{check: "accepted disputes are posted", object: fmt.Sprintf("dispute %d", d.ID), key: fmt.Sprintf("dispute:%d", d.ID), currency: c.Currency,
			moves: map[int64]int64{c.ConsumerUnitID: -d.CreditMinor, c.ProviderUnitID: d.CreditMinor}})
	}
	for _, a := range b.adjustments {
		if a.Status != AdjustmentPosted && a.EntryID == nil {
			continue
		}
		if a.Status != AdjustmentPosted {
			out = append(out, Breach{Check: "adjustments match their entries", Object: fmt.Sprintf("adjustment %d", a.ID),
				Detail: fmt.Sprintf("is %s but has journal entry %d", a.Status, *a.EntryID)})
			continue
		}
		add(a.EntryID, source{check: "adjustments match their entries", object: fmt.Sprintf("adjustment %d", a.ID), key: fmt.Sprintf("adjustment:%d", a.ID), currency: a.Currency,
			moves: map[int64]int64{a.DebitUnitID: a.AmountMinor, a.CreditUnitID: -a.AmountMinor}})
	}
	for _, e := range b.entries {
		object := fmt.Sprintf("journal entry %d", e.ID)
		srcs := byEntry[e.ID]
		switch len(srcs) {
		case 0:
			out = append(out, Breach{Check: check, Object: object,
				Detail: fmt.Sprintf("%s (%s) is explained by no charge, dispute or adjustment", e.IdempotencyKey, e.Kind)})
			continue
		case 1:
		default:
			names := make([]string, len(srcs))
			for i, s := range srcs {
				names[i] = s.object
			}
			out = append(out, Breach{Check: check, Object: object, Detail: "is claimed by " + strings.Join(names, ", ")})
			continue
		}
		s := srcs[0]
		if e.IdempotencyKey != s.key {
			out = append(out, Breach{Check: s.check, Object: s.object, Detail: fmt.Sprintf("posts under %s but its entry %d has key %s", s.key, e.ID, e.IdempotencyKey)})
		}
		if s.period != "" && e.Period != s.period {
			out = append(out, Breach{Check: s.check, Object: s.object, Detail: fmt.Sprintf("is in period %s but its entry %d is in %s", s.period, e.ID, e.Period)})
		}
		if got := describeMoves(b.legs[e.ID], s.currency); got != formatMoves(s.moves, s.currency) {
			out = append(out, Breach{Check: s.check, Object: s.object,
				Detail: fmt.Sprintf("entry %d moves %s, not %s", e.ID, got, formatMoves(s.moves, s.currency))})
		}
	}
	return out, nil
}

// describeMoves sums the legs of an entry by unit, naming any leg in
// another currency than want.
func describeMoves(legs []leg, want string) string {
	moves := map[int64]int64{}
	var foreign []string
	for _, l := range legs {
		if l.Currency != want {
			foreign = append(foreign, fmt.Sprintf("%d %s to unit %d", l.AmountMinor, l.Currency, l.UnitID))
			continue
		}
		moves[l.UnitID] += l.AmountMinor
	}
	s := formatMoves(moves, want)
	if len(foreign) > 0 {
		s += " and " + strings.Join(foreign, ", ")
	}
	return s
}

// formatMoves writes unit amounts in unit order, leaving out zero sums.
func formatMoves(moves map[int64]int64, currency string) string {
	units := make([]int64, 0, len(moves))
	for u, amount := range moves {
		if amount != 0 {
			units = append(units, u)
		}
	}
	sort.Slice(units, func(i, j int) bool { return units[i] < units[j] })
	parts := make([]string, len(units))
	for i, u := range units {
		parts[i] = fmt.Sprintf("unit %d %+d", u, moves[u])
	}
	if len(parts) == 0 {
		return "nothing"
	}
	return strings.Join(parts, ", ") + " " + currency
}

// checkCharges: every charge recomputes from its pricing snapshot and
// agrees with what it charges for: a subscription charge with its
// subscription's price prorated over the days of its month, a request
// charge with the request's quote (fixed and per-unit: unit price ×
// quantity; hourly: the price of the rate it names).
func checkCharges(_ context.Context, _ bun.Tx, b *booksSnapshot) ([]Breach, error) {
	var out []Breach
	const check = "charges recompute from their snapshot"
	for _, c := range b.charges {
		object := fmt.Sprintf("charge %d", c.ID)
		bad := func(format string, args ...any) {
			out = append(out, Breach{Check: check, Object: object, Detail: fmt.Sprintf(format, args...)})
		}
		if strings.HasPrefix(c.SourceKey, "subscription:") {
			for _, detail := range subscriptionChargeProblems(b, c) {
				bad("%s", detail)
			}
			continue
		}
		if strings.HasPrefix(c.SourceKey, endCreditPrefix) {
			for _, detail := range endCreditProblems(b, c) {
				bad("%s", detail)
			}
			continue
		}
		if c.RequestID == nil || b.requestByID[*c.RequestID] == nil {
			bad("charges for no resolved request")
			continue
		}
		r := b.requestByID[*c.RequestID]
		if c.ConsumerUnitID != r.ConsumerUnitID || c.ProviderUnitID != r.ProviderUnitID || c.ServiceID != r.ServiceID || c.Currency != r.Currency {
			bad("charges units %d→%d, service %d in %s; request %d is units %d→%d, service %d in %s", c.ConsumerUnitID, c.ProviderUnitID,
				c.ServiceID, c.Currency, r.ID, r.ConsumerUnitID, r.ProviderUnitID, r.ServiceID, r.Currency)
		}
		switch r.PricingModel {
		case "fixed", "per_unit":
			if c.UnitPriceMinor != r.UnitPriceMinor || c.RateID == nil || *c.RateID != r.RateID {
				bad("unit price %d at rate %v is not request %d's quote of %d at rate %d", c.UnitPriceMinor, ptrString(c.RateID), r.ID, r.UnitPriceMinor, r.RateID)
			}
			want, err := quoteAmount(c.Quantity, c.UnitPriceMinor, c.Currency)
			if err != nil {
				bad("quantity %q × %d does not compute: %v", c.Quantity, c.UnitPriceMinor, err)
			} else if want != c.AmountMinor {
				bad("amount %d is not quantity %s × unit price %d = %d", c.AmountMinor, c.Quantity, c.UnitPriceMinor, want)
			}
		case "hourly":
			price, ok := int64(0), false
			if c.RateID != nil {
				price, ok = b.rates[*c.RateID]
			}
			// Time before the service's first price bills at the quote (hourlyLines).
			if !ok || (c.UnitPriceMinor != price && !(*c.RateID == r.RateID && c.UnitPriceMinor == r.UnitPriceMinor)) {
				bad("hourly price %d is not the price of its rate %v", c.UnitPriceMinor, ptrString(c.RateID))
			}
		default:
			bad("request %d is priced %s, which posts no request charge", r.ID, r.PricingModel)
		}
	}
	return out, nil
}

func subscriptionChargeProblems(b *booksSnapshot, c Charge) []string {
	parts := strings.Split(c.SourceKey, ":")
	if len(parts) != 3 {
		return []string{fmt.Sprintf("source %s names no subscription", c.SourceKey)}
	}
	id, err := strconv.ParseInt(parts[1], 10, 64)
	if err != nil || b.subByID[id] == nil {
		return []string{fmt.Sprintf("source %s names no subscription", c.SourceKey)}
	}
	s, month := b.subByID[id], parts[2]
	var problems []string
	if c.RequestID == nil || *c.RequestID != s.RequestID || c.ConsumerUnitID != s.ConsumerUnitID || c.ProviderUnitID != s.ProviderUnitID ||
		c.ServiceID != s.ServiceID || c.Currency != s.Currency {
		problems = append(problems, fmt.Sprintf("does not match the request, units, service or currency of subscription %d", s.ID))
	}
	if c.UnitPriceMinor != s.MonthlyPriceMinor {
		problems = append(problems, fmt.Sprintf("monthly price %d is not subscription %d's %d", c.UnitPriceMinor, s.ID, s.MonthlyPriceMinor))
	}
	// A month charged before the subscription's end was set ran whole.
	want, err := subscriptionAmount(*s, month, s.EndDate)
	if err == nil && want != c.AmountMinor && s.EndDate != nil {
		want, err = subscriptionAmount(*s, month, nil)
	}
	if err != nil {
		problems = append(problems, fmt.Sprintf("subscription %d did not run in %s: %v", s.ID, month, err))
	} else if want != c.AmountMinor {
		problems = append(problems, fmt.Sprintf("amount %d is not subscription %d's %d for %s", c.AmountMinor, s.ID, want, month))
	}
	return problems
}

// endCreditProblems checks an ended subscription's credit against the
// month's charge it gives back: same units, service and price, and the
// amount EndSubscription computes.
func endCreditProblems(b *booksSnapshot, c Charge) []string {
	parts := strings.Split(strings.TrimPrefix(c.SourceKey, endCreditPrefix), ":")
	var s *Subscription
	if len(parts) == 2 {
		if id, err := strconv.ParseInt(parts[0], 10, 64); err == nil {
			s = b.subByID[id]
		}
	}
	if s == nil || s.EndDate == nil {
		return []string{fmt.Sprintf("source %s names no ended subscription", c.SourceKey)}
	}
	var charged *Charge
	for i := range b.charges {
		if b.charges[i].SourceKey == fmt.Sprintf("subscription:%d:%s", s.ID, parts[1]) {
			charged = &b.charges[i]
		}
	}
	if charged == nil {
		return []string{fmt.Sprintf("credits subscription %d's %s, which was never charged", s.ID, parts[1])}
	}
	var problems []string
	if c.ConsumerUnitID != charged.ConsumerUnitID || c.ProviderUnitID != charged.ProviderUnitID || c.ServiceID != charged.ServiceID ||
		c.Currency != charged.Currency || c.UnitPriceMinor != charged.UnitPriceMinor || c.Showback != charged.Showback {
		problems = append(problems, fmt.Sprintf("does not match the units, service, price or showback of charge %d", charged.ID))
	}
	var dispute *Dispute
	for i := range b.disputes {
		// Only a credit settled before the end counts: one settled after
		// is capped by the end's credit instead (SettleDispute).
		if b.disputes[i].ChargeID == charged.ID && b.disputes[i].EntryID != nil && c.EntryID != nil && *b.disputes[i].EntryID < *c.EntryID {
			dispute = &b.disputes[i]
		}
	}
	credit, _, err := s.endCredit(parts[1], *charged, dispute)
	if err != nil {
		problems = append(problems, fmt.Sprintf("subscription %d's credit for %s does not compute: %v", s.ID, parts[1], err))
	} else if -credit != c.AmountMinor {
		problems = append(problems, fmt.Sprintf("amount %d is not subscription %d's credit of %d for %s", c.AmountMinor, s.ID, -credit, parts[1]))
	}
	return problems
}

func subscriptionAmount(s Subscription, month string, end *string) (int64, error) {
	if err := CheckMonth(month); err != nil {
		return 0, err
	}
	_, _, amount, err := s.monthCharge(month, end)
	return amount, err
}

func quoteAmount(quantity string, unitPrice int64, currency string) (int64, error) {
	q, err := decimal.Parse(quantity)
	if err != nil {
		return 0, err
	}
	m, err := money.Money{Minor: unitPrice, Currency: currency}.MulQuantity(q)
	return m.Minor, err
}

func ptrValue(p *int64) int64 {
	if p == nil {
		return 0
	}
	return *p
}

func ptrString(p *int64) string {
	if p == nil {
		return "none"
	}
	return strconv.FormatInt(*p, 10)
}
