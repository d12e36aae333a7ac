package demo

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/tiski/tiski/catalog"
	"github.com/tiski/tiski/requests"
)

// feedbackPercent is the share of resolved demo requests their requester
// rates.
const feedbackPercent = 65

// maxEntryMinutes is the most one demo time entry books: a working day.
const maxEntryMinutes = 7*60 + 30

var timeNotes = []string{"", "On site.", "Preparation and follow-up.", "Work as agreed.", "Second visit."}

// feedbackSeed is a rating requesters give, how often and in which words.
type feedbackSeed struct {
	Rating   int
	Weight   int
	Comments []string
}

var feedbackSeeds = []feedbackSeed{
	{5, 9, []string{"", "Fast and friendly, thank you!", "Exactly what we needed.", "Excellent service."}},
	{4, 7, []string{"", "Good, took a little longer than hoped.", "Works fine."}},
	{3, 3, []string{"OK in the end, but I had to ask twice.", "Delivered late."}},
	{2, 1, []string{"Took far too long and nobody told us why."}},
	{1, 1, []string{"Wrong item delivered, had to order again."}},
}

// logTime books the billable hours of an hourly request before it is
// resolved at resolveAt: about the hours estimated in the order (from three
// quarters to a quarter more), in quarter hours, on working days from the
// day work started, logged just before resolving (after the last step at
// last). Now and then the agent also books a non-billable quarter hour.
func (s *requestSeeder) logTime(ctx context.Context, r *requests.Request, agentID int64, started, last, resolveAt time.Time) error {
	hours, err := strconv.Atoi(r.Quantity)
	if err != nil || hours < 1 {
		hours = 1
	}
	quarters := hours * 4 * (75 + s.rng.IntN(51)) / 100
	minutes := max(quarters, 1) * 15
	if started.IsZero() {
		started = last
	}
	loggedAt := last.Add(resolveAt.Sub(last) / 2).Truncate(time.Second)
	first, lastDay := s.day(started), s.day(loggedAt)
	v := s.viewer(agentID)
	for minutes > 0 {
		chunk := min(minutes, maxEntryMinutes)
		if minutes > maxEntryMinutes && s.rng.IntN(2) == 0 {
			chunk = (2 + s.rng.IntN(maxEntryMinutes/15-1)) * 15
		}
		minutes -= chunk
		l := requests.TimeLog{Minutes: chunk, Date: s.workDay(first, lastDay), Billable: true, Note: pick(s.rng, timeNotes)}
		if _, err := requests.LogTime(ctx, s.tx, v, s.org, r.ID, l, loggedAt); err != nil {
			return fmt.Errorf("%d minutes on %s: %w", l.Minutes, l.Date, err)
		}
	}
	if s.rng.IntN(5) == 0 {
		l := requests.TimeLog{Minutes: 15, Date: s.workDay(first, lastDay), Note: "Travel between the offices."}
		if _, err := requests.LogTime(ctx, s.tx, v, s.org, r.ID, l, loggedAt); err != nil {
			return fmt.Errorf("non-billable time on %s: %w", l.Date, err)
		}
	}
	return nil
}

// day is t's midnight in the organisation's time zone.
func (s *requestSeeder) day(t time.Time) time.Time {
	local := t.In(s.loc)
	return time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, s.loc)
}

// workDay picks a day from first to last, a weekday when there is one.
func (s *requestSeeder) workDay(first, last time.Time) string {
	days := int(last.Sub(first).Hours()/24+0.5) + 1
	d := first.AddDate(0, 0, s.rng.IntN(max(days, 1)))
	for d.After(first) && (d.Weekday() == time.Saturday || d.Weekday() == time.Sunday) {
		d = d.AddDate(0, 0, -1)
	}
	return d.Format(catalog.DateLayout)
}

// giveFeedback has the requester rate a resolved request at t, mostly well.
func (s *requestSeeder) giveFeedback(ctx context.Context, r *requests.Request, requesterID int64, t time.Time) error {
	f := weighted(s.rng, feedbackSeeds, func(f feedbackSeed) int { return f.Weight })
	if _, err := requests.GiveFeedback(ctx, s.tx, s.viewer(requesterID), r.ID, f.Rating, pick(s.rng, f.Comments), t); err != nil {
		return fmt.Errorf("feedback: %w", err)
	}
	return nil
}
