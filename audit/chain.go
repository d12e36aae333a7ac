package audit

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"slices"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect"
)

// Chain is a hash chain over the rows of one table with an integer id.
type Chain struct {
	Name string // its row in chain_heads
	Noun string // how a breach names one of its rows: "journal entry"
	// Contents returns the canonical encoding of each row with
	// from <= id <= to. Append and Verify both read it back from the
	// database, so that the bytes hashed and the bytes checked are the same.
	Contents func(ctx context.Context, idb bun.IDB, from, to int64) (map[int64][]byte, error)
}

type chainHead struct {
	Seq        int64  `bun:"seq"`
	Hash       string `bun:"hash"`
	BackfillTo int64  `bun:"backfill_to"`
}

type chainLink struct {
	Seq      int64  `bun:"seq"`
	RowID    int64  `bun:"row_id"`
	PrevHash string `bun:"prev_hash"`
	Hash     string `bun:"hash"`
}

// Append links the row id, written in tx, to the end of c.
func (c *Chain) Append(ctx context.Context, tx bun.IDB, id int64) error {
	if tx.Dialect().Name() == dialect.PG {
		if _, err := tx.ExecContext(ctx, "SELECT name FROM chain_heads ORDER BY name FOR UPDATE"); err != nil {
			return fmt.Errorf("lock the chain heads: %w", err)
		}
	}
	var h chainHead
	if err := tx.NewSelect().Table("chain_heads").Column("seq", "hash", "backfill_to").Where("name = ?", c.Name).Scan(ctx, &h); err != nil {
		return fmt.Errorf("read the head of chain %s: %w", c.Name, err)
	}
	if h.BackfillTo > 0 {
		older, err := c.Contents(ctx, tx, 1, h.BackfillTo)
		if err != nil {
			return err
		}
		for _, rowID := range sortedIDs(older) {
			if err := c.link(ctx, tx, &h, rowID, older[rowID]); err != nil {
				return err
			}
		}
		h.BackfillTo = 0
	}
	content, err := c.Contents(ctx, tx, id, id)
	if err != nil {
		return err
	}
	if _, ok := content[id]; !ok {
		return fmt.Errorf("chain %s: row %d is not written", c.Name, id)
	}
	if err := c.link(ctx, tx, &h, id, content[id]); err != nil {
		return err
	}
	if _, err := tx.NewUpdate().Table("chain_heads").Set("seq = ?, hash = ?, backfill_to = ?", h.Seq, h.Hash, h.BackfillTo).
		Where("name = ?", c.Name).Exec(ctx); err != nil {
		return fmt.Errorf("move the head of chain %s: %w", c.Name, err)
	}
	return nil
}

// link writes the link of one row after h and moves h to it.
func (c *Chain) link(ctx context.Context, tx bun.IDB, h *chainHead, rowID int64, content []byte) error {
	l := chainLink{Seq: h.Seq + 1, RowID: rowID, PrevHash: h.Hash, Hash: linkHash(h.Hash, content)}
	if _, err := tx.NewRaw("INSERT INTO chain_links (chain, seq, row_id, prev_hash, hash) VALUES (?, ?, ?, ?, ?)",
		c.Name, l.Seq, l.RowID, l.PrevHash, l.Hash).Exec(ctx); err != nil {
		return fmt.Errorf("link %s %d: %w", c.Noun, rowID, err)
	}
	h.Seq, h.Hash = l.Seq, l.Hash
	return nil
}

// Verify recomputes c and returns a sentence for each break it finds.
func (c *Chain) Verify(ctx context.Context, idb bun.IDB) ([]string, error) {
	var h chainHead
	if err := idb.NewSelect().Table("chain_heads").Column("seq", "hash", "backfill_to").Where("name = ?", c.Name).Scan(ctx, &h); err != nil {
		return nil, fmt.Errorf("read the head of chain %s: %w", c.Name, err)
	}
	var links []chainLink
	if err := idb.NewSelect().Table("chain_links").Column("seq", "row_id", "prev_hash", "hash").
		Where("chain = ?", c.Name).OrderExpr("seq ASC").Scan(ctx, &links); err != nil {
		return nil, fmt.Errorf("read chain %s: %w", c.Name, err)
	}
	rows, err := c.Contents(ctx, idb, 1, math.MaxInt64)
	if err != nil {
		return nil, err
	}
	var breaks []string
	var prev chainLink
	for _, l := range links {
		content, present := rows[l.RowID]
		delete(rows, l.RowID)
		switch {
		case l.Seq != prev.Seq+1 || l.PrevHash != prev.Hash:
			breaks = append(breaks, c.gapAfter(prev.RowID, fmt.Sprintf("the link before %s %d is gone", c.Noun, l.RowID)))
		case !present:
			breaks = append(breaks, c.gapAfter(prev.RowID, fmt.Sprintf("%s %d is gone", c.Noun, l.RowID)))
		case linkHash(l.PrevHash, content) != l.Hash:
			breaks = append(breaks, fmt.Sprintf("%s %d: hash does not match its content", c.Noun, l.RowID))
		}
		prev = l
	}
	if h.Seq != prev.Seq || h.Hash != prev.Hash {
		breaks = append(breaks, c.gapAfter(prev.RowID, "the chain's head does not match its newest link"))
	}
	for _, id := range sortedIDs(rows) {
		if id > h.BackfillTo {
			breaks = append(breaks, fmt.Sprintf("%s %d is not in the chain", c.Noun, id))
		}
	}
	return breaks, nil
}

func (c *Chain) gapAfter(rowID int64, why string) string {
	if rowID == 0 {
		return fmt.Sprintf("chain gap at the start: %s", why)
	}
	return fmt.Sprintf("chain gap after %s %d: %s", c.Noun, rowID, why)
}

// linkHash is the hash of a link: SHA-256 over the previous link's hash (hex,
// empty for the first link), a newline and the row's canonical encoding.
func linkHash(prev string, content []byte) string {
	sum := sha256.New()
	sum.Write([]byte(prev))
	sum.Write([]byte{'\n'})
	sum.Write(content)
	return hex.EncodeToString(sum.Sum(nil))
}

func sortedIDs(rows map[int64][]byte) []int64 {
	ids := make([]int64, 0, len(rows))
	for id := range rows {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}
