package billing

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"time"

	"github.com/uptrace/bun"

	"github.com/tiski/tiski/audit"
	"github.com/tiski/tiski/catalog"
	"github.com/tiski/tiski/fault"
)

// DefaultGLService is the ServiceID of the organisation's default GL
// mapping: used for a service finance has not mapped and for adjustments.
const DefaultGLService = 0

// GLMapping names the GL accounts a service's money is booked to: the
// consumer's expense and the provider's recovery. The mapping in force when
// an entry posts is written on each of its postings, so changing it later
// never rewrites what was booked.
type GLMapping struct {
	bun.BaseModel `bun:"table:gl_mappings,alias:g"`

	ServiceID       int64     `bun:"service_id,pk"`
	ExpenseAccount  string    `bun:"expense_account"`
	RecoveryAccount string    `bun:"recovery_account"`
	UpdatedBy       *int64    `bun:"updated_by"`
	UpdatedAt       time.Time `bun:"updated_at"`
}

// ObjectID is the mapping's id in the audit trail: the service's id, or
// "default".
func (m *GLMapping) ObjectID() string {
	if m.ServiceID == DefaultGLService {
		return "default"
	}
	return strconv.FormatInt(m.ServiceID, 10)
}

// glAccountPattern is a GL account number: 3 to 10 digits, optionally a
// hyphen and a sub-account of 1 to 6 digits ("6800", "68000-12").
var glAccountPattern = regexp.MustCompile(`^[0-9]{3,10}(-[0-9]{1,6})?$`)

// CheckGLAccount refuses an account that is not a GL account number.
func CheckGLAccount(field, account string) error {
	if !glAccountPattern.MatchString(account) {
		return fault.Invalid(field, "a GL account is 3 to 10 digits, optionally a hyphen and up to 6 more (6800, 68000-12)")
	}
	return nil
}

// MayReadGL decides whether the viewer may read the GL mappings: finance
// and auditors. To anyone else they are not there.
func (v Viewer) MayReadGL() error {
	if !v.can(0, "gl_account", "read") {
		return fault.NotFound("GL mapping")
	}
	return nil
}

// MaySetGL decides whether the viewer may change a GL mapping: finance.
// Auditors read them and are forbidden; a provider's manager, who runs the
// service, does not see them.
func (v Viewer) MaySetGL() error {
	if err := v.MayReadGL(); err != nil {
		return err
	}
	if !v.can(0, "gl_account", "manage") {
		return fault.Forbidden("only finance maps GL accounts")
	}
	return nil
}

// ListGLMappings returns the organisation's default first, then each
// mapped service in id order.
func ListGLMappings(ctx context.Context, idb bun.IDB) ([]GLMapping, error) {
	var list []GLMapping
	if err := idb.NewSelect().Model(&list).OrderExpr("g.service_id").Scan(ctx); err != nil {
		return nil, fmt.Errorf("list GL mappings: %w", err)
	}
	return list, nil
}

// SetGLMapping maps a service (DefaultGLService: the organisation's
// default) to its GL accounts, audited. Bad accounts and unknown services
// change nothing.
func SetGLMapping(ctx context.Context, tx bun.Tx, v Viewer, m GLMapping, now time.Time) (*GLMapping, error) {
	if err := v.MaySetGL(); err != nil {
		return nil, err
	}
	if err := CheckGLAccount("expense_account", m.ExpenseAccount); err != nil {
		return nil, err
	}
	if err := CheckGLAccount("recovery_account", m.RecoveryAccount); err != nil {
		return nil, err
	}
	if m.ServiceID != DefaultGLService {
		if _, err := catalog.GetService(ctx, tx, m.ServiceID); err != nil {
			if fault.Is(err, fault.KindNotFound) {
				return nil, fault.Invalid("service_id", "no such service")
			}
			return nil, err
		}
	}
	before, err := glMappingOf(ctx, tx, m.ServiceID)
	if err != nil {
		return nil, err
	}
	m.UpdatedAt = now
	if v.UserID != 0 {
		m.UpdatedBy = &v.UserID
	}
	if _, err := tx.NewInsert().Model(&m).
		On("CONFLICT (service_id) DO UPDATE").
		Set("expense_account = EXCLUDED.expense_account, recovery_account = EXCLUDED.recovery_account").
		Set("updated_by = EXCLUDED.updated_by, updated_at = EXCLUDED.updated_at").Exec(ctx); err != nil {
		return nil, fmt.Errorf("set GL mapping of service %d: %w", m.ServiceID, err)
	}
	action := "update"
	var was any
	if before != nil {
		was = before
	} else {
		action = "create"
	}
	if err := audit.Record(ctx, tx, audit.Change{ActorID: v.UserID, ObjectType: "gl_mapping", ObjectID: m.ObjectID(),
		Action: action, Before: was, After: &m}); err != nil {
		return nil, err
	}
	return &m, nil
}

// glMappingOf returns a service's own mapping, or nil.
func glMappingOf(ctx context.Context, idb bun.IDB, serviceID int64) (*GLMapping, error) {
	m := new(GLMapping)
	err := idb.NewSelect().Model(m).Where("g.service_id = ?", serviceID).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("GL mapping of service %d: %w", serviceID, err)
	}
	return m, nil
}

// glAccounts is the mapping in force for a service: its own, else the
// organisation's default; empty accounts when neither exists.
func glAccounts(ctx context.Context, idb bun.IDB, serviceID int64) (expense, recovery string, err error) {
	for _, id := range []int64{serviceID, DefaultGLService} {
		m, err := glMappingOf(ctx, idb, id)
		if err != nil || m != nil {
			if m == nil {
				return "", "", err
			}
			return m.ExpenseAccount, m.RecoveryAccount, nil
		}
	}
	return "", "", nil
}

// chargeLines are the legs of a movement between a consumer and a
// provider, booked to the service's GL accounts: amount debits the
// consumer's expense and credits the provider's recovery (a negative
// amount, a credit, the other way round).
func chargeLines(consumer, provider, amount int64, expense, recovery string) []Line {
	return []Line{{UnitID: consumer, AmountMinor: amount, GLAccount: expense},
		{UnitID: provider, AmountMinor: -amount, GLAccount: recovery}}
}

// entryGLAccounts returns the GL accounts an entry's postings were booked
// to, for the consumer's and the provider's unit.
func entryGLAccounts(ctx context.Context, idb bun.IDB, entryID, consumer, provider int64) (expense, recovery string, err error) {
	var legs []struct {
		UnitID    int64          `bun:"unit_id"`
		GLAccount sql.NullString `bun:"gl_account"`
	}
	if err := idb.NewSelect().TableExpr("postings AS p").Join("JOIN accounts AS a ON a.id = p.account_id").
		Column("a.unit_id", "p.gl_account").Where("p.entry_id = ?", entryID).Scan(ctx, &legs); err != nil {
		return "", "", fmt.Errorf("GL accounts of entry %d: %w", entryID, err)
	}
	for _, l := range legs {
		switch l.UnitID {
		case consumer:
			expense = l.GLAccount.String
		case provider:
			recovery = l.GLAccount.String
		}
	}
	return expense, recovery, nil
}

// creditGLAccounts are the accounts a credit of charge c books to: those
// its entry was booked to, so the credit reverses the very accounts the
// charge moved; the mapping in force for an older charge without them.
func creditGLAccounts(ctx context.Context, idb bun.IDB, c *Charge) (expense, recovery string, err error) {
	if c.EntryID != nil {
		if expense, recovery, err = entryGLAccounts(ctx, idb, *c.EntryID, c.ConsumerUnitID, c.ProviderUnitID); err != nil {
			return "", "", err
		}
	}
	if expense == "" || recovery == "" {
		e, r, err := glAccounts(ctx, idb, c.ServiceID)
		if err != nil {
			return "", "", err
		}
		expense, recovery = cmp.Or(expense, e), cmp.Or(recovery, r)
	}
	return expense, recovery, nil
}
