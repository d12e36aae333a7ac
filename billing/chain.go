package billing

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/tiski/tiski/audit"
)

// entries is the hash chain over the journal (see package audit). Post
// appends an entry once its postings are written and sealed, so an entry's
// hash covers its legs: a posting changed, added or removed later breaks
// the entry it belongs to.
var entries = &audit.Chain{Name: "journal_entries", Noun: "journal entry", Contents: entryContents}

// entryContents encodes each entry with all its columns and its postings in
// id order.
func entryContents(ctx context.Context, idb bun.IDB, from, to int64) (map[int64][]byte, error) {
	var jes []JournalEntry
	if err := idb.NewSelect().Model(&jes).Where("id BETWEEN ? AND ?", from, to).Scan(ctx); err != nil {
		return nil, fmt.Errorf("read journal entries %d to %d: %w", from, to, err)
	}
	var legs []Posting
	if err := idb.NewSelect().Model(&legs).Where("entry_id BETWEEN ? AND ?", from, to).OrderExpr("id ASC").Scan(ctx); err != nil {
		return nil, fmt.Errorf("read the postings of journal entries %d to %d: %w", from, to, err)
	}
	type leg struct {
		ID          int64  `json:"id"`
		AccountID   int64  `json:"account_id"`
		AmountMinor int64  `json:"amount_minor"`
		Currency    string `json:"currency"`
		// omitted when empty, so the entries posted before GL mappings
		// keep the hash they were chained with
		GLAccount string `json:"gl_account,omitempty"`
	}
	legsOf := make(map[int64][]leg, len(jes))
	for _, p := range legs {
		var gl string
		if p.GLAccount != nil {
			gl = *p.GLAccount
		}
		legsOf[p.EntryID] = append(legsOf[p.EntryID], leg{p.ID, p.AccountID, p.AmountMinor, p.Currency, gl})
	}
	contents := make(map[int64][]byte, len(jes))
	for _, je := range jes {
		b, err := json.Marshal(struct {
			ID              int64   `json:"id"`
			IdempotencyKey  string  `json:"idempotency_key"`
			Period          string  `json:"period"`
			EntryDate       string  `json:"entry_date"`
			Kind            string  `json:"kind"`
			Memo            string  `json:"memo"`
			ReversesEntryID *int64  `json:"reverses_entry_id"`
			LateFrom        *string `json:"late_from"`
			CreatedBy       *int64  `json:"created_by"`
			CreatedAt       string  `json:"created_at"`
			Postings        []leg   `json:"postings"`
		}{je.ID, je.IdempotencyKey, je.Period, je.EntryDate, je.Kind, je.Memo, je.ReversesEntryID, je.LateFrom,
			je.CreatedBy, je.CreatedAt.UTC().Format(time.RFC3339Nano), legsOf[je.ID]})
		if err != nil {
			return nil, fmt.Errorf("encode journal entry %d: %w", je.ID, err)
		}
		contents[je.ID] = b
	}
	return contents, nil
}

// checkChains names every row of the journal or the audit trail whose hash
// link does not hold: edited, inserted or deleted behind Tiski's back.
func checkChains(ctx context.Context, tx bun.Tx, _ *booksSnapshot) ([]Breach, error) {
	var breaches []Breach
	journal, err := entries.Verify(ctx, tx)
	if err != nil {
		return nil, err
	}
	for _, detail := range journal {
		breaches = append(breaches, Breach{Check: "journal entries are chained", Detail: detail})
	}
	trail, err := audit.Verify(ctx, tx)
	if err != nil {
		return nil, err
	}
	for _, detail := range trail {
		breaches = append(breaches, Breach{Check: "audit events are chained", Detail: detail})
	}
	return breaches, nil
}
