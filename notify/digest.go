package notify

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/uptrace/bun"
)

// digestLines bounds how many events a digest names; the count covers all.
const digestLines = 30

// SendDigests records, once per person and day, the daily digest of every
// kind whose rule has one, for the people who chose it: the events of the
// previous day (in loc) they were told of in the app. A day with nothing
// sends nothing. Several processes may sweep at once: the digest's key
// (queue_digest:<user>:<day>) records it once.
func SendDigests(ctx context.Context, tx bun.Tx, loc *time.Location, now time.Time) (int, error) {
	local := now.In(loc)
	end := time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, loc)
	start := end.AddDate(0, 0, -1)
	day := start.Format(time.DateOnly)
	sent := 0
	for _, r := range Rules {
		if !r.Digest {
			continue
		}
		var users []int64
		if err := tx.NewSelect().Model((*prefRow)(nil)).Column("user_id").Where("kind = ? AND digest = ?", r.Kind, true).
			OrderExpr("user_id").Scan(ctx, &users); err != nil {
			return sent, fmt.Errorf("notify: who takes the %s digest: %w", r.Kind, err)
		}
		for _, userID := range users {
			key := fmt.Sprintf("%s:%d:%s", DigestKind[r.Kind], userID, day)
			done, err := tx.NewSelect().Model((*StoredEvent)(nil)).Where("event_key = ?", key).Exists(ctx)
			if err != nil {
				return sent, fmt.Errorf("notify: find digest %s: %w", key, err)
			}
			if done {
				continue
			}
			var events []StoredEvent
			if err := tx.NewSelect().Model(&events).
				Where("ne.kind = ? AND ne.at >= ? AND ne.at < ?", r.Kind, start.UTC(), end.UTC()).
				Where("EXISTS (SELECT 1 FROM notifications n WHERE n.event_id = ne.id AND n.user_id = ?)", userID).
				OrderExpr("ne.id").Scan(ctx); err != nil {
				return sent, fmt.Errorf("notify: events of digest %s: %w", key, err)
			}
			if len(events) == 0 {
				continue
			}
			var lines []string
			for i, e := range events {
				if i == digestLines {
					lines = append(lines, "…")
					break
				}
				a := e.Args()
				lines = append(lines, strings.TrimSpace(a["ref"]+" "+a["title"]))
			}
			recipients, err := Record(ctx, tx, Event{Kind: DigestKind[r.Kind], ObjectID: userID, Parties: Parties{RecipientID: userID},
				Args: map[string]string{"ref": day, "title": strconv.Itoa(len(events)), "note": strings.Join(lines, "\n")}, At: now, Key: key})
			if err != nil {
				return sent, err
			}
			if len(recipients) > 0 {
				sent++
			}
		}
	}
	return sent, nil
}
