package billing

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/tiski/tiski/fault"
)

// JournalEntry is one balanced, immutable movement of money.
type JournalEntry struct {
	bun.BaseModel `bun:"table:journal_entries"`

	ID              int64     `bun:"id,pk,autoincrement"`
	IdempotencyKey  string    `bun:"idempotency_key"`
	Period          string    `bun:"period"`
	EntryDate       string    `bun:"entry_date"`
	Kind            string    `bun:"kind"`
	Memo            string    `bun:"memo"`
	ReversesEntryID *int64    `bun:"reverses_entry_id"`
	LateFrom        *string   `bun:"late_from"`
	CreatedBy       *int64    `bun:"created_by"`
	CreatedAt       time.Time `bun:"created_at"`
}

// Posting is one leg of an entry: positive debits the account (the unit
// pays), negative credits it (the unit earns).
type Posting struct {
	bun.BaseModel `bun:"table:postings"`

	ID          int64   `bun:"id,pk,autoincrement"`
	EntryID     int64   `bun:"entry_id"`
	AccountID   int64   `bun:"account_id"`
	AmountMinor int64   `bun:"amount_minor"`
	Currency    string  `bun:"currency"`
	GLAccount   *string `bun:"gl_account"` // the GL account in force when it posted; nil before GL mappings
}

// Line is a leg to post: an amount for a unit's account.
type Line struct {
	UnitID      int64
	AmountMinor int64
	GLAccount   string // the GL account it books to; empty for none
}

// Entry is what Post writes.
type Entry struct {
	// Key identifies the source (a request's fulfilment, a subscription's
	// month, a dispute's settlement...); the same key never posts twice.
	Key       string
	Month     string // the month the item belongs to
	Date      string // YYYY-MM-DD
	Kind      string
	Memo      string
	Currency  string
	Lines     []Line
	Reverses  int64 // the entry this one reverses, if any
	CreatedBy int64
}

// Post writes a balanced entry into the earliest period that is not closed
// from e.Month on, and returns it with created=false if the key was posted
// before with the same movement (then nothing is written; see replay for a
// different one). Lines must sum to zero.
func Post(ctx context.Context, tx bun.Tx, e Entry, now time.Time) (*JournalEntry, bool, error) {
	if existing, err := replay(ctx, tx, e); err != nil || existing != nil {
		return existing, false, err
	}
	var sum int64
	for _, l := range e.Lines {
		if l.AmountMinor == 0 {
			return nil, false, fmt.Errorf("post %s: a zero line", e.Key)
		}
		next := sum + l.AmountMinor
		if (l.AmountMinor > 0 && next < sum) || (l.AmountMinor < 0 && next > sum) {
			return nil, false, fault.Invalid("amount", "amount is too large")
		}
		sum = next
	}
	if sum != 0 || len(e.Lines) < 2 {
		return nil, false, fmt.Errorf("post %s: entry does not balance (%d over %d lines)", e.Key, sum, len(e.Lines))
	}
	period, lateFrom, err := PostingPeriod(ctx, tx, e.Month)
	if err != nil {
		return nil, false, err
	}
	// Hold the target period's row, shared, so a concurrent close waits for
	// us (or we for it, and then post into the next open month, which we
	// must hold as well: it may be closing too) while other postings go on
	// beside us. Locks are taken in month order, so nothing waits in a
	// cycle.
	for {
		p, err := lockPeriod(ctx, tx, period, now, false)
		if err != nil {
			return nil, false, err
		}
		if p.Status != PeriodClosed {
			break
		}
		if period, lateFrom, err = PostingPeriod(ctx, tx, e.Month); err != nil {
			return nil, false, err
		}
	}
	je := &JournalEntry{IdempotencyKey: e.Key, Period: period, EntryDate: e.Date, Kind: e.Kind, Memo: e.Memo, CreatedAt: now}
	if lateFrom != "" {
		je.LateFrom = &lateFrom
	}
	if e.Reverses != 0 {
		je.ReversesEntryID = &e.Reverses
	}
	if e.CreatedBy != 0 {
		je.CreatedBy = &e.CreatedBy
	}
	res, err := tx.NewInsert().Model(je).On("CONFLICT DO NOTHING").Returning("id").Exec(ctx)
	if err != nil {
		return nil, false, fmt.Errorf("post %s: %w", e.Key, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		if e.Reverses != 0 {
			if prior, _ := entryByKey(ctx, tx, e.Key); prior == nil {
				return nil, false, fault.Conflict("already_reversed", "entry %d is already reversed", e.Reverses)
			}
		}
		// A concurrent poster won the key: what it posted must be what
		// we asked for, as for any other replay.
		existing, err := replay(ctx, tx, e)
		if err == nil && existing == nil {
			err = fmt.Errorf("post %s: the key was taken but no entry holds it", e.Key)
		}
		return existing, false, err
	}
	for _, l := range e.Lines {
		account, err := accountOf(ctx, tx, l.UnitID, now)
		if err != nil {
			return nil, false, err
		}
		p := &Posting{EntryID: je.ID, AccountID: account, AmountMinor: l.AmountMinor, Currency: e.Currency}
		if l.GLAccount != "" {
			p.GLAccount = &l.GLAccount
		}
		if _, err := tx.NewInsert().Model(p).Exec(ctx); err != nil {
			return nil, false, fmt.Errorf("post %s: %w", e.Key, err)
		}
	}
	// The seal closes the entry to further postings; the database accepts
	// it only for balanced postings and refuses to commit an entry without.
	if _, err := tx.NewRaw("INSERT INTO journal_entry_seals (entry_id) VALUES (?)", je.ID).Exec(ctx); err != nil {
		return nil, false, fmt.Errorf("seal %s: %w", e.Key, err)
	}
	if err := entries.Append(ctx, tx, je.ID); err != nil {
		return nil, false, err
	}
	return je, true, nil
}

func entryByKey(ctx context.Context, idb bun.IDB, key string) (*JournalEntry, error) {
	je := new(JournalEntry)
	err := idb.NewSelect().Model(je).Where("idempotency_key = ?", key).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("look up entry %s: %w", key, err)
	}
	return je, nil
}

// accountOf returns the unit's cost-center account, opening it on first use.
func accountOf(ctx context.Context, tx bun.Tx, unitID int64, now time.Time) (int64, error) {
	if _, err := tx.NewRaw("INSERT INTO accounts (unit_id, created_at) VALUES (?, ?) ON CONFLICT (unit_id) DO NOTHING", unitID, now).Exec(ctx); err != nil {
		return 0, fmt.Errorf("open account of unit %d: %w", unitID, err)
	}
	var id int64
	if err := tx.NewSelect().Table("accounts").Column("id").Where("unit_id = ?", unitID).Scan(ctx, &id); err != nil {
		return 0, fmt.Errorf("account of unit %d: %w", unitID, err)
	}
	return id, nil
}
