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

// Source kinds: what a journal entry books.
const (
	SourceCharge             = "charge"              // a fulfilment's charge; SourceID is the charge
	SourceSubscriptionMonth  = "subscription_month"  // a subscription's month; SourceID is its charge
	SourceSubscriptionCredit = "subscription_credit" // the unused days of an ended subscription; SourceID is its (negative) charge
	SourceCredit             = "credit"              // an accepted dispute's credit; SourceID is the dispute
	SourceAdjustment         = "adjustment"          // finance's manual adjustment; SourceID is the adjustment
)

// JournalLine is one posting of the general-ledger journal: a debit or a
// credit of a unit's cost center, on a GL account, with the ids that trace
// it to what it books: its entry, the source (a charge, a dispute, an
// adjustment), the request and service, and the entry it credits.
type JournalLine struct {
	EntryID   int64
	PostingID int64
	Date      string // the posting date, within the journal's month
	Period    string // the month it is booked in: the journal's
	LateFrom  *string
	Kind      string // the entry's kind as the ledger records it
	// SourceKind (one of the Source constants) and SourceID name what the
	// entry books; ChargeID is the charge it charges or credits, if any.
	SourceKind string
	SourceID   *int64
	ChargeID   *int64
	RequestID  *int64
	// ServiceCode is the charged or credited service's code; empty for an
	// adjustment.
	ServiceCode     string
	ReversesEntryID *int64 // the entry this one reverses in full
	CreditsEntryID  *int64 // the charge entry a credit gives back (part of)
	CostCenter      string // the unit's code
	GLAccount       string // the GL account in force when it posted; empty before GL mappings
	DebitMinor      int64  // the posting's amount when positive, else 0
	CreditMinor     int64  // minus the posting's amount when negative, else 0
	Currency        string
	Memo            string // the entry's memo, noting a late or out-of-month entry
}

// RequestNumber is the request's number ("REQ-000042"), or empty.
func (l *JournalLine) RequestNumber() string {
	if l.RequestID == nil {
		return ""
	}
	return fmt.Sprintf("REQ-%06d", *l.RequestID) // requests.Number; billing cannot import requests
}

// JournalLines streams the GL journal of month, row by row from the
// database: every posting of every entry booked in month, entry by entry.
// Entries of showback charges, and the credits of those charges, are left
// out: showback is shown to the unit, never booked in the GL.
//
// A late entry (its own month was closed) and a dispute credit settled
// after its month carry dates outside month; the GL books them on the
// month's first or last day, and the memo keeps the original date.
func JournalLines(ctx context.Context, idb bun.IDB, month string) iter.Seq2[JournalLine, error] {
	// A charge's source_key is its entry's idempotency key (Verify checks
	// it), and unlike charges.entry_id it is indexed; a subscription's
	// end credit of a month has the key of the month's charge with the end
	// prefix.
	query := `SELECT e.id, p.id, e.entry_date, e.period, e.late_from, e.kind, e.memo, e.reverses_entry_id,
		u.code, p.gl_account, p.amount_minor, p.currency,
		c.id, c.request_id, cs.code, d.id, dc.id, dc.request_id, ds.code, dc.entry_id, ad.id, me.id
		FROM journal_entries e
		JOIN postings p ON p.entry_id = e.id
		JOIN accounts a ON a.id = p.account_id
		JOIN units u ON u.id = a.unit_id
		LEFT JOIN charges c ON c.source_key = e.idempotency_key
		LEFT JOIN services cs ON cs.id = c.service_id
		LEFT JOIN disputes d ON e.kind = 'dispute_credit' AND d.entry_id = e.id
		LEFT JOIN charges dc ON dc.id = d.charge_id
		LEFT JOIN services ds ON ds.id = dc.service_id
		LEFT JOIN adjustments ad ON e.kind = 'adjustment' AND ad.entry_id = e.id
		LEFT JOIN journal_entries me ON e.kind = 'subscription_end'
		     AND me.idempotency_key = 'subscription:' || substr(e.idempotency_key, ` + fmt.Sprint(len(endCreditPrefix)+1) + `)
		WHERE e.period = ? AND NOT COALESCE(c.showback, dc.showback, FALSE)
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
			var lateFrom, gl, chargeService, disputeService sql.NullString
			var reverses, chargeID, chargeRequest, disputeID, disputeCharge, disputeRequest, disputeChargeEntry,
				adjustmentID, monthEntry sql.NullInt64
			var amount int64
			if err := rows.Scan(&l.EntryID, &l.PostingID, &entryDate, &l.Period, &lateFrom, &l.Kind, &l.Memo, &reverses,
				&l.CostCenter, &gl, &amount, &l.Currency, &chargeID, &chargeRequest, &chargeService,
				&disputeID, &disputeCharge, &disputeRequest, &disputeService, &disputeChargeEntry, &adjustmentID, &monthEntry); err != nil {
				yield(JournalLine{}, fmt.Errorf("journal of %s: %w", month, err))
				return
			}
			l.GLAccount, l.ReversesEntryID = gl.String, nullID(reverses)
			switch {
			case disputeID.Valid:
				l.SourceKind, l.SourceID, l.ChargeID, l.RequestID = SourceCredit, nullID(disputeID), nullID(disputeCharge), nullID(disputeRequest)
				l.ServiceCode, l.CreditsEntryID = disputeService.String, nullID(disputeChargeEntry)
			case adjustmentID.Valid:
				l.SourceKind, l.SourceID = SourceAdjustment, nullID(adjustmentID)
			case chargeID.Valid:
				l.SourceKind, l.SourceID, l.ChargeID, l.RequestID = SourceCharge, nullID(chargeID), nullID(chargeID), nullID(chargeRequest)
				l.ServiceCode = chargeService.String
				switch l.Kind {
				case "subscription":
					l.SourceKind = SourceSubscriptionMonth
				case "subscription_end":
					l.SourceKind, l.CreditsEntryID = SourceSubscriptionCredit, nullID(monthEntry)
				}
			default:
				l.SourceKind = l.Kind
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
