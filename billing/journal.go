package billing

import (
	"context"
	"database/sql"
	"fmt"
	"iter"
	"strings"
	"time"

	"github.com/uptrace/bun"
)

// JournalLine is one posting of the general-ledger journal: a debit or a
// credit of a unit's cost center.
type JournalLine struct {
	EntryID     int64
	PostingID   int64
	Date        string // the posting date, within the journal's month
	Kind        string
	Account     string // the cost center: the unit's code
	DebitMinor  int64  // the posting's amount when positive, else 0
	CreditMinor int64  // minus the posting's amount when negative, else 0
	Currency    string
	Memo        string // the entry's memo, noting a late or out-of-month entry
	LateFrom    *string
}

// JournalLines streams the GL journal of month, row by row from the
// database: every posting of every entry booked in month, entry by entry.
// Entries of showback charges, and the dispute credits of those charges,
// are left out: showback is shown to the unit, never booked in the GL.
//
// A late entry (its own month was closed) and a dispute credit settled
// after its month carry dates outside month; the GL books them on the
// month's first or last day, and the memo keeps the original date.
func JournalLines(ctx context.Context, idb bun.IDB, month string) iter.Seq2[JournalLine, error] {
	// A charge's source_key is its entry's idempotency key (Verify checks
	// it), and unlike charges.entry_id it is indexed.
	const query = `SELECT e.id, p.id, e.entry_date, e.kind, e.memo, e.late_from, u.code, p.amount_minor, p.currency
		FROM journal_entries e
		JOIN postings p ON p.entry_id = e.id
		JOIN accounts a ON a.id = p.account_id
		JOIN units u ON u.id = a.unit_id
		WHERE e.period = ?
		  AND NOT EXISTS (SELECT 1 FROM charges c WHERE c.source_key = e.idempotency_key AND c.showback)
		  AND NOT (e.kind = 'dispute_credit' AND EXISTS (SELECT 1 FROM disputes d JOIN charges c ON c.id = d.charge_id
		           WHERE d.entry_id = e.id AND c.showback))
		ORDER BY e.id, p.id`
	return func(yield func(JournalLine, error) bool) {
		if err := CheckMonth(month); err != nil {
			yield(JournalLine{}, err)
			return
		}
		first, _ := time.Parse("2006-01", month)
		firstDay, lastDay := first.Format("2006-01-02"), first.AddDate(0, 1, -1).Format("2006-01-02")
		rows, err := idb.QueryContext(ctx, query, month)
		if err != nil {
			yield(JournalLine{}, fmt.Errorf("journal of %s: %w", month, err))
			return
		}
		defer rows.Close()
		for rows.Next() {
			var l JournalLine
			var entryDate string
			var lateFrom sql.NullString
			var amount int64
			if err := rows.Scan(&l.EntryID, &l.PostingID, &entryDate, &l.Kind, &l.Memo, &lateFrom, &l.Account,
				&amount, &l.Currency); err != nil {
				yield(JournalLine{}, fmt.Errorf("journal of %s: %w", month, err))
				return
			}
			if amount > 0 {
				l.DebitMinor = amount
			} else {
				l.CreditMinor = -amount
			}
			var notes []string
			if lateFrom.Valid {
				l.LateFrom = &lateFrom.String
				notes = append(notes, "late from "+lateFrom.String)
			}
			l.Date = min(max(entryDate, firstDay), lastDay)
			if l.Date != entryDate {
				notes = append(notes, "dated "+entryDate)
			}
			if len(notes) > 0 {
				l.Memo = strings.TrimSpace(l.Memo + " (" + strings.Join(notes, ", ") + ")")
			}
			if !yield(l, nil) {
				return
			}
		}
		if err := rows.Err(); err != nil {
			yield(JournalLine{}, fmt.Errorf("journal of %s: %w", month, err))
		}
	}
}
