package billing

import (
	"cmp"
	"context"
	"fmt"
	"slices"

	"github.com/uptrace/bun"

	"github.com/tiski/tiski/fault"
)

// replay returns the entry posted before under e's key, or nil if there is
// none. The key stands for what was asked, so asking again for the same
// movement is a retry and gets the first entry back; asking for another
// movement under a known key is a caller's mistake that returning the first
// entry would hide (a re-resolution reusing its first charge's key left new
// billable time uncharged), so it is an idempotency_mismatch conflict
// naming the key and what differs. The entry's date, memo and author may
// differ between a request and its retry and are not compared.
func replay(ctx context.Context, tx bun.Tx, e Entry) (*JournalEntry, error) {
	existing, err := entryByKey(ctx, tx, e.Key)
	if err != nil || existing == nil {
		return nil, err
	}
	differs, err := differsFrom(ctx, tx, existing, e)
	if err != nil {
		return nil, err
	}
	if differs != "" {
		return nil, fault.Conflict("idempotency_mismatch", "entry %s was posted before with other lines, currency, month or kind", e.Key).
			With("key", e.Key).With("differs", differs)
	}
	return existing, nil
}

// differsFrom names the first part of e that the posted entry je does not
// match (kind, month, reversed entry, currency, lines), or "" for none.
func differsFrom(ctx context.Context, tx bun.Tx, je *JournalEntry, e Entry) (string, error) {
	asked := je.Period
	if je.LateFrom != nil {
		asked = *je.LateFrom
	}
	var reverses int64
	if je.ReversesEntryID != nil {
		reverses = *je.ReversesEntryID
	}
	switch {
	case je.Kind != e.Kind:
		return "kind", nil
	case asked != e.Month:
		return "month", nil
	case reverses != e.Reverses:
		return "reversed entry", nil
	}
	var posted []struct {
		UnitID      int64  `bun:"unit_id"`
		AmountMinor int64  `bun:"amount_minor"`
		Currency    string `bun:"currency"`
	}
	if err := tx.NewSelect().TableExpr("postings AS p").Join("JOIN accounts AS a ON a.id = p.account_id").
		Column("a.unit_id", "p.amount_minor", "p.currency").Where("p.entry_id = ?", je.ID).
		Scan(ctx, &posted); err != nil {
		return "", fmt.Errorf("postings of entry %s: %w", e.Key, err)
	}
	for _, p := range posted {
		if p.Currency != e.Currency {
			return "currency", nil
		}
	}
	byLeg := func(a, b Line) int {
		return cmp.Or(cmp.Compare(a.UnitID, b.UnitID), cmp.Compare(a.AmountMinor, b.AmountMinor))
	}
	have := make([]Line, len(posted))
	for i, p := range posted {
		have[i] = Line{UnitID: p.UnitID, AmountMinor: p.AmountMinor}
	}
	want := make([]Line, len(e.Lines))
	for i, l := range e.Lines {
		want[i] = Line{UnitID: l.UnitID, AmountMinor: l.AmountMinor} // the GL account is the mapping's, not the caller's
	}
	slices.SortFunc(have, byLeg)
	slices.SortFunc(want, byLeg)
	if !slices.Equal(have, want) {
		return "lines", nil
	}
	return "", nil
}
