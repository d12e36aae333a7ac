package billing

import (
	"context"
	"fmt"

	"github.com/uptrace/bun"
)

// Breach is one broken ledger invariant.
type Breach struct {
	Check  string
	Detail string
}

// invariant is a query that returns one row per breach as (id, detail).
type invariant struct {
	check string
	query string
}

var invariants = []invariant{
	{"entries balance", `SELECT e.id, e.idempotency_key || ' ' || p.currency || ' sums to ' || CAST(SUM(p.amount_minor) AS TEXT)
		FROM journal_entries e JOIN postings p ON p.entry_id = e.id
		GROUP BY e.id, e.idempotency_key, p.currency HAVING SUM(p.amount_minor) <> 0`},
	{"entries have two legs", `SELECT e.id, e.idempotency_key || ' has ' || CAST(COUNT(p.id) AS TEXT) || ' postings'
		FROM journal_entries e LEFT JOIN postings p ON p.entry_id = e.id
		GROUP BY e.id, e.idempotency_key HAVING COUNT(p.id) < 2`},
	{"charges match their entries", `SELECT c.id, 'charge ' || c.source_key || ' of ' || CAST(c.amount_minor AS TEXT) || ' does not match its entry'
		FROM charges c
		WHERE c.entry_id IS NULL
		   OR NOT EXISTS (SELECT 1 FROM journal_entries e WHERE e.id = c.entry_id AND e.idempotency_key = c.source_key AND e.period = c.period)
		   OR (SELECT COALESCE(SUM(p.amount_minor), 0) FROM postings p JOIN accounts a ON a.id = p.account_id
		       WHERE p.entry_id = c.entry_id AND a.unit_id = c.consumer_unit_id AND p.amount_minor > 0) <> c.amount_minor
		   OR (SELECT COALESCE(SUM(p.amount_minor), 0) FROM postings p JOIN accounts a ON a.id = p.account_id
		       WHERE p.entry_id = c.entry_id AND a.unit_id = c.provider_unit_id AND p.amount_minor < 0) <> -c.amount_minor`},
	{"no posting into a closed period after its close", `SELECT e.id, e.idempotency_key || ' posted into closed ' || e.period
		FROM journal_entries e JOIN periods pr ON pr.month = e.period
		WHERE pr.status = 'closed' AND e.created_at > pr.closed_at`},
	{"each source posted once", `SELECT MIN(c.id), 'source ' || c.source_key || ' has ' || CAST(COUNT(*) AS TEXT) || ' charges'
		FROM charges c GROUP BY c.source_key HAVING COUNT(*) > 1`},
	{"each entry explains one charge", `SELECT MIN(c.id), 'entry ' || CAST(c.entry_id AS TEXT) || ' backs ' || CAST(COUNT(*) AS TEXT) || ' charges'
		FROM charges c WHERE c.entry_id IS NOT NULL GROUP BY c.entry_id HAVING COUNT(*) > 1`},
	{"accepted disputes are posted", `SELECT d.id, 'dispute ' || CAST(d.id AS TEXT) || ' accepted without its credit entry'
		FROM disputes d WHERE d.status = 'accepted' AND (d.entry_id IS NULL OR NOT EXISTS (SELECT 1 FROM journal_entries e WHERE e.id = d.entry_id))`},
	{"trial balance is zero", `SELECT 0, p.currency || ' trial balance is ' || CAST(SUM(p.amount_minor) AS TEXT)
		FROM postings p GROUP BY p.currency HAVING SUM(p.amount_minor) <> 0`},
}

// Verify checks every ledger invariant and returns what is broken; an
// empty result means the books are sound.
func Verify(ctx context.Context, idb bun.IDB) ([]Breach, error) {
	var breaches []Breach
	for _, inv := range invariants {
		rows, err := idb.QueryContext(ctx, inv.query)
		if err != nil {
			return nil, fmt.Errorf("verify %s: %w", inv.check, err)
		}
		for rows.Next() {
			var id int64
			var detail string
			if err := rows.Scan(&id, &detail); err != nil {
				rows.Close()
				return nil, fmt.Errorf("verify %s: %w", inv.check, err)
			}
			breaches = append(breaches, Breach{Check: inv.check, Detail: detail})
		}
		if err := rows.Err(); err != nil {
			rows.Close()
			return nil, err
		}
		rows.Close()
	}
	return appendChainBreaches(ctx, idb, breaches)
}
