package billing

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/govalues/decimal"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect"

	"github.com/tiski/tiski/audit"
	"github.com/tiski/tiski/fault"
)

// endCreditPrefix starts the source key of the credit that gives back the
// unused days of a month charged before its subscription ended in it (or
// before it).
const endCreditPrefix = "subscription-end:"

// SubscriptionView is a subscription as a unit's list shows it: what runs,
// since when, at what price, and what the billing run charges next.
type SubscriptionView struct {
	Subscription
	ServiceCode      string
	ServiceName      string
	ConsumerUnitCode string
	ProviderUnitCode string
	RequesterID      int64
	// NextMonth is the first month not yet charged in which the
	// subscription runs, "" when it has ended before it; NextAmountMinor is
	// what that month charges (prorated when it starts or ends in it).
	NextMonth       string
	NextAmountMinor int64
}

// RequestNumber is the human reference of the order that started it.
func (s *SubscriptionView) RequestNumber() string { return fmt.Sprintf("REQ-%06d", s.RequestID) }

// Ended reports whether the subscription has an end date.
func (s *Subscription) Ended() bool { return s.EndDate != nil }

const subscriptionViewQuery = `SELECT s.id, s.request_id, s.consumer_unit_id, s.provider_unit_id, s.service_id, s.rate_id,
	s.monthly_price_minor, s.currency, s.start_date, s.end_date, s.created_at,
	sv.code, sv.name, cu.code, pu.code, r.requester_id,
	(SELECT MAX(c.period) FROM charges c WHERE c.source_key LIKE 'subscription:' || CAST(s.id AS TEXT) || ':%')
	FROM subscriptions s
	JOIN services sv ON sv.id = s.service_id
	JOIN units cu ON cu.id = s.consumer_unit_id
	JOIN units pu ON pu.id = s.provider_unit_id
	JOIN requests r ON r.id = s.request_id`

func scanSubscriptionViews(rows *sql.Rows) ([]SubscriptionView, error) {
	defer rows.Close()
	var out []SubscriptionView
	for rows.Next() {
		var v SubscriptionView
		var end, lastCharged sql.NullString
		if err := rows.Scan(&v.ID, &v.RequestID, &v.ConsumerUnitID, &v.ProviderUnitID, &v.ServiceID, &v.RateID,
			&v.MonthlyPriceMinor, &v.Currency, &v.StartDate, &end, &v.CreatedAt,
			&v.ServiceCode, &v.ServiceName, &v.ConsumerUnitCode, &v.ProviderUnitCode, &v.RequesterID, &lastCharged); err != nil {
			return nil, err
		}
		if end.Valid {
			v.EndDate = &end.String
		}
		next := v.StartDate[:7]
		if lastCharged.Valid {
			next = NextMonth(lastCharged.String)
		}
		if v.EndDate == nil || next <= (*v.EndDate)[:7] {
			_, _, amount, err := v.monthCharge(next, v.EndDate)
			if err != nil {
				return nil, err
			}
			v.NextMonth, v.NextAmountMinor = next, amount
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// ListSubscriptions lists the subscriptions a unit holds as consumer or
// runs as provider, oldest first, to whoever reads the unit's charges
// (its managers and those above, finance, auditors); to anyone else the
// unit is not there.
func ListSubscriptions(ctx context.Context, idb bun.IDB, v Viewer, unitID int64) ([]SubscriptionView, error) {
	if !v.can(unitID, "charge", "read") {
		return nil, fault.NotFound("unit")
	}
	rows, err := idb.QueryContext(ctx, subscriptionViewQuery+` WHERE s.consumer_unit_id = ? OR s.provider_unit_id = ? ORDER BY s.id`, unitID, unitID)
	if err != nil {
		return nil, fmt.Errorf("subscriptions of unit %d: %w", unitID, err)
	}
	out, err := scanSubscriptionViews(rows)
	if err != nil {
		return nil, fmt.Errorf("subscriptions of unit %d: %w", unitID, err)
	}
	return out, nil
}

// GetSubscription returns one subscription the viewer may see: the one who
// ordered it, and whoever reads its units' charges. Any other is not found.
func GetSubscription(ctx context.Context, idb bun.IDB, v Viewer, id int64) (*SubscriptionView, error) {
	s, err := getSubscriptionView(ctx, idb, id)
	if err != nil {
		return nil, err
	}
	if !v.seesSubscription(s) {
		return nil, fault.NotFound("subscription")
	}
	return s, nil
}

func getSubscriptionView(ctx context.Context, idb bun.IDB, id int64) (*SubscriptionView, error) {
	rows, err := idb.QueryContext(ctx, subscriptionViewQuery+` WHERE s.id = ?`, id)
	if err != nil {
		return nil, fmt.Errorf("get subscription %d: %w", id, err)
	}
	out, err := scanSubscriptionViews(rows)
	if err != nil {
		return nil, fmt.Errorf("get subscription %d: %w", id, err)
	}
	if len(out) == 0 {
		return nil, fault.NotFound("subscription")
	}
	return &out[0], nil
}

func (v Viewer) seesSubscription(s *SubscriptionView) bool {
	return v.operator || s.RequesterID == v.UserID ||
		v.can(s.ConsumerUnitID, "charge", "read") || v.can(s.ProviderUnitID, "charge", "read")
}

// MayEndSubscription decides whether the viewer may end s: the person who
// ordered it, a manager of the consumer unit (who may cancel its orders) or
// of the provider unit (who runs its services). Finance and auditors see
// it and are forbidden; anyone else does not see it.
func (v Viewer) MayEndSubscription(s *SubscriptionView) error {
	switch {
	case !v.seesSubscription(s):
		return fault.NotFound("subscription")
	case v.operator, s.RequesterID == v.UserID, v.can(s.ConsumerUnitID, "request", "cancel"),
		v.can(s.ProviderUnitID, "service", "manage"):
		return nil
	}
	return fault.Forbidden("only the person who ordered a subscription, or a manager of its unit or of its provider, ends it")
}

// EndSubscription ends a subscription on endDate (YYYY-MM-DD, its last
// day): the month of endDate is charged for the days up to it and nothing
// is charged after. A month the billing run charged before the end was set
// gets its unused days back as a credit charge, posted in that month (or,
// it being closed, late in the earliest open one); a month whose charge is
// disputed must be settled first. The end date may not lie before the
// subscription began or in a closed month; it is set once (reactivating is
// a new order). Every refusal is audited (run it through audit.InTx).
func EndSubscription(ctx context.Context, tx bun.Tx, v Viewer, id int64, endDate string, loc *time.Location, now time.Time) (*SubscriptionView, error) {
	s, err := getSubscriptionView(ctx, tx, id)
	if err != nil {
		return nil, err
	}
	objectID := strconv.FormatInt(s.ID, 10)
	refuse := func(err error) error {
		return audit.Refuse(v.UserID, "subscription", objectID, "end", map[string]any{"subscription": s.Subscription, "end_date": endDate}, err)
	}
	if err := v.MayEndSubscription(s); err != nil {
		if fault.Is(err, fault.KindNotFound) {
			return nil, err
		}
		return nil, refuse(err)
	}
	if err := checkEndDate(ctx, tx, s, endDate, loc, now); err != nil {
		return nil, refuse(err)
	}
	before := s.Subscription
	// The condition makes two concurrent ends race on one row; the row lock
	// it takes makes a billing run of the same subscription wait (it reads
	// the row FOR SHARE), so each sees the other's work.
	res, err := tx.NewUpdate().Model((*Subscription)(nil)).Set("end_date = ?", endDate).
		Where("id = ? AND end_date IS NULL", s.ID).Exec(ctx)
	if err != nil {
		return nil, fmt.Errorf("end subscription %d: %w", s.ID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return nil, refuse(fault.Conflict("subscription_ended", "subscription %d has already ended; order it again to restart it", s.ID))
	}
	s.EndDate = &endDate
	if err := creditUnusedDays(ctx, tx, v.UserID, s, loc, now); err != nil {
		if _, ok := fault.As(err); ok {
			return nil, refuse(err)
		}
		return nil, err
	}
	if err := audit.Record(ctx, tx, audit.Change{ActorID: v.UserID, ObjectType: "subscription", ObjectID: objectID,
		Action: "end", Before: before, After: s.Subscription}); err != nil {
		return nil, err
	}
	return getSubscriptionView(ctx, tx, s.ID)
}

func checkEndDate(ctx context.Context, tx bun.Tx, s *SubscriptionView, endDate string, loc *time.Location, now time.Time) error {
	if _, err := time.Parse("2006-01-02", endDate); err != nil {
		return fault.Invalid("end_date", "end_date must be a date as YYYY-MM-DD")
	}
	if s.EndDate != nil {
		return fault.Conflict("subscription_ended", "subscription %d has already ended; order it again to restart it", s.ID)
	}
	if endDate < s.StartDate {
		return fault.Invalid("end_date", "the end date %s is before the subscription began, %s", endDate, s.StartDate).With("min", s.StartDate)
	}
	months, err := LoadMonths(ctx, tx, loc, now)
	if err != nil {
		return err
	}
	month := endDate[:7]
	// Shared, as a posting holds it: a close of the month waits for us.
	p, err := lockPeriod(ctx, tx, month, now, false)
	if err != nil {
		return err
	}
	open, err := earliestOpen(ctx, tx, month)
	if err != nil {
		return err
	}
	if month < months.First || p.Status == PeriodClosed || open != month {
		return fault.Conflict("period_closed", "period %s is closed; a subscription can no longer end in it", month)
	}
	return nil
}

// creditUnusedDays credits, for every month charged from the end's month
// on, what it was charged beyond what it owes now.
func creditUnusedDays(ctx context.Context, tx bun.Tx, actorID int64, s *SubscriptionView, loc *time.Location, now time.Time) error {
	var charged []Charge
	if err := tx.NewSelect().Model(&charged).Where("c.source_key LIKE ?", fmt.Sprintf("subscription:%d:%%", s.ID)).
		Where("c.period >= ?", (*s.EndDate)[:7]).OrderExpr("c.id").Scan(ctx); err != nil {
		return fmt.Errorf("charges of subscription %d: %w", s.ID, err)
	}
	for _, c := range charged {
		month := strings.TrimPrefix(c.SourceKey, fmt.Sprintf("subscription:%d:", s.ID))
		if month < (*s.EndDate)[:7] {
			continue // charged late into a month from the end's on
		}
		d, err := DisputeOf(ctx, tx, c.ID)
		if err != nil {
			return err
		}
		if d != nil && d.Status == DisputeOpen {
			return fault.Conflict("charge_disputed", "charge %d of subscription %d is disputed; finance settles the dispute before the subscription ends", c.ID, s.ID)
		}
		credit, quantity, err := s.endCredit(month, c, d)
		if err != nil || credit == 0 {
			return err
		}
		key := fmt.Sprintf("%s%d:%s", endCreditPrefix, s.ID, month)
		expense, recovery, err := creditGLAccounts(ctx, tx, &c)
		if err != nil {
			return err
		}
		memo := fmt.Sprintf("subscription %d (%s) ended %s: %s unused days credited", s.ID, s.RequestNumber(), *s.EndDate, month)
		entry, _, err := Post(ctx, tx, Entry{Key: key, Month: month, Date: now.In(loc).Format("2006-01-02"), Kind: "subscription_end",
			Memo: memo, Currency: c.Currency, CreatedBy: actorID,
			Lines: chargeLines(c.ConsumerUnitID, c.ProviderUnitID, -credit, expense, recovery)}, now)
		if err != nil {
			return err
		}
		entryID, requestID := entry.ID, s.RequestID
		cc := Charge{SourceKey: key, RequestID: &requestID, ConsumerUnitID: c.ConsumerUnitID, ProviderUnitID: c.ProviderUnitID,
			ServiceID: c.ServiceID, RateID: c.RateID, Period: entry.Period, LateFrom: entry.LateFrom, Quantity: quantity,
			UnitPriceMinor: c.UnitPriceMinor, AmountMinor: -credit, Currency: c.Currency, Status: ChargePosted,
			Showback: c.Showback, EntryID: &entryID, Description: memo, CreatedAt: now}
		if _, err := tx.NewInsert().Model(&cc).Exec(ctx); err != nil {
			return fmt.Errorf("record credit %s: %w", key, err)
		}
	}
	return nil
}

// endCredit is what an ended subscription gives back of month's charge c:
// the charge less what the month owes up to the end (nothing after the
// end's month), never more than the charge still holds after an accepted
// dispute's credit; quantity is the share of the month given back, as a
// negative number. Ending and verify both compute it here.
func (s Subscription) endCredit(month string, c Charge, d *Dispute) (credit int64, quantity string, err error) {
	owed := int64(0)
	_, _, days := monthBounds(month)
	unused := days
	if month == (*s.EndDate)[:7] {
		var active int64
		active, days, owed, err = s.monthCharge(month, s.EndDate)
		if err != nil {
			return 0, "", err
		}
		start := int64(0)
		if month == s.StartDate[:7] {
			start = int64(mustDay(s.StartDate)) - 1
		}
		unused = days - start - active
	}
	credit = c.AmountMinor - owed
	if d != nil && d.Status == DisputeAccepted {
		credit = min(credit, c.AmountMinor-d.CreditMinor)
	}
	if credit <= 0 {
		return 0, "", nil
	}
	share, err := decimal.MustNew(unused, 0).Quo(decimal.MustNew(days, 0))
	if err != nil {
		return 0, "", err
	}
	return credit, share.Neg().Round(4).Trim(0).String(), nil
}

func mustDay(date string) int {
	t, _ := time.Parse("2006-01-02", date)
	return t.Day()
}

// lockSubscription reads a subscription inside tx, holding it against a
// concurrent end (PostgreSQL FOR SHARE; SQLite's writer excludes it).
func lockSubscription(ctx context.Context, tx bun.Tx, id int64) (*Subscription, error) {
	s := new(Subscription)
	q := tx.NewSelect().Model(s).Where("s.id = ?", id)
	if tx.Dialect().Name() == dialect.PG {
		q = q.For("SHARE")
	}
	if err := q.Scan(ctx); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, fault.NotFound("subscription")
		}
		return nil, fmt.Errorf("lock subscription %d: %w", id, err)
	}
	return s, nil
}

// creditedByEnd is what the end of its subscription gave back of a
// subscription month's charge c: a dispute may credit only the rest.
func creditedByEnd(ctx context.Context, idb bun.IDB, c *Charge) (int64, error) {
	if !strings.HasPrefix(c.SourceKey, "subscription:") {
		return 0, nil
	}
	var credits []int64
	if err := idb.NewSelect().Table("charges").Column("amount_minor").
		Where("source_key = ?", endCreditPrefix+strings.TrimPrefix(c.SourceKey, "subscription:")).Scan(ctx, &credits); err != nil {
		return 0, fmt.Errorf("end credit of charge %d: %w", c.ID, err)
	}
	var given int64
	for _, a := range credits {
		given -= a
	}
	return given, nil
}
