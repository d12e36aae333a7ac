package billing

import (
	"context"
	"fmt"

	"github.com/uptrace/bun"
)

// Breach is one broken ledger invariant: which check failed, the object it
// failed on (type and id, such as "charge 12" or "period 2026-04") and what
// is wrong with it. The text is for operators, in English.
type Breach struct {
	Check  string
	Object string
	Detail string
}

// invariant is a query that returns one row per breach as (object id,
// detail); object names the type of the rows it returns.
type invariant struct {
	check  string
	object string
	query  string
}

var invariants = []invariant{
	{"entries balance", "journal entry", `SELECT CAST(e.id AS TEXT), e.idempotency_key || ' ' || p.currency || ' sums to ' || CAST(SUM(p.amount_minor) AS TEXT)
		FROM journal_entries e JOIN postings p ON p.entry_id = e.id
		GROUP BY e.id, e.idempotency_key, p.currency HAVING SUM(p.amount_minor) <> 0`},
	{"entries have two legs", "journal entry", `SELECT CAST(e.id AS TEXT), e.idempotency_key || ' has ' || CAST(COUNT(p.id) AS TEXT) || ' postings'
		FROM journal_entries e LEFT JOIN postings p ON p.entry_id = e.id
		GROUP BY e.id, e.idempotency_key HAVING COUNT(p.id) < 2`},
	{"no posting into a closed period after its close", "journal entry", `SELECT CAST(e.id AS TEXT), e.idempotency_key || ' posted into closed ' || e.period
		FROM journal_entries e JOIN periods pr ON pr.month = e.period
		WHERE pr.status = 'closed' AND e.created_at > pr.closed_at`},
	{"each source posted once", "charge", `SELECT CAST(MIN(c.id) AS TEXT), 'source ' || c.source_key || ' has ' || CAST(COUNT(*) AS TEXT) || ' charges'
		FROM charges c GROUP BY c.source_key HAVING COUNT(*) > 1`},
	{"each entry explains one charge", "charge", `SELECT CAST(MIN(c.id) AS TEXT), 'entry ' || CAST(c.entry_id AS TEXT) || ' backs ' || CAST(COUNT(*) AS TEXT) || ' charges'
		FROM charges c WHERE c.entry_id IS NOT NULL GROUP BY c.entry_id HAVING COUNT(*) > 1`},
	{"accepted disputes are posted", "dispute", `SELECT CAST(d.id AS TEXT), 'accepted without its credit entry'
		FROM disputes d WHERE d.status = 'accepted' AND (d.entry_id IS NULL OR NOT EXISTS (SELECT 1 FROM journal_entries e WHERE e.id = d.entry_id))`},
	{"trial balance is zero", "currency", `SELECT p.currency, 'trial balance is ' || CAST(SUM(p.amount_minor) AS TEXT)
		FROM postings p GROUP BY p.currency HAVING SUM(p.amount_minor) <> 0`},
}

// checkGroup is one family of checks over the books as one snapshot.
type checkGroup func(ctx context.Context, tx bun.Tx, b *booksSnapshot) ([]Breach, error)

// checkGroups run after the SQL invariants, in this order. A new family of
// checks (such as a hash chain over entries and audit events) joins here.
var checkGroups = []checkGroup{
	checkSources,
	checkCharges,
	checkFulfilments,
	checkDisputes,
	checkPeriods,
	checkChains,
}

// Verify checks every ledger invariant and returns what is broken; an
// empty result means the books are sound. It reads the books in one
// transaction, so it checks one consistent state.
func Verify(ctx context.Context, idb bun.IDB) ([]Breach, error) {
	var breaches []Breach
	err := idb.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		for _, inv := range invariants {
			found, err := runInvariant(ctx, tx, inv)
			if err != nil {
				return err
			}
			breaches = append(breaches, found...)
		}
		b, err := loadBooks(ctx, tx)
		if err != nil {
			return err
		}
		for _, check := range checkGroups {
			found, err := check(ctx, tx, b)
			if err != nil {
				return err
			}
			breaches = append(breaches, found...)
		}
		return nil
	})
	return breaches, err
}

func runInvariant(ctx context.Context, tx bun.Tx, inv invariant) ([]Breach, error) {
	rows, err := tx.QueryContext(ctx, inv.query)
	if err != nil {
		return nil, fmt.Errorf("verify %s: %w", inv.check, err)
	}
	defer rows.Close()
	var breaches []Breach
	for rows.Next() {
		var id, detail string
		if err := rows.Scan(&id, &detail); err != nil {
			return nil, fmt.Errorf("verify %s: %w", inv.check, err)
		}
		breaches = append(breaches, Breach{Check: inv.check, Object: inv.object + " " + id, Detail: detail})
	}
	return breaches, rows.Err()
}
