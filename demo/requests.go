package demo

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"strconv"
	"time"

	"github.com/uptrace/bun"

	"github.com/tiski/tiski/db"
	"github.com/tiski/tiski/policies"
	"github.com/tiski/tiski/requests"
	"github.com/tiski/tiski/units"
)

// historyDays is how far back the demo's request history reaches; the first
// rates start earlier (rateDates), so every request finds a price.
const historyDays = 115

// requesterSeed is a demo person who orders for a unit, and how often.
type requesterSeed struct {
	Email, Unit string
	Weight      int
}

var requesterSeeds = []requesterSeed{
	{"leena.lehtonen@tiski.example", "CC-1210", 5}, {"leena.lehtonen@tiski.example", "CC-1200", 3},
	{"antti.salo@tiski.example", "CC-1220", 6}, {"sanna.korhonen@tiski.example", "CC-1300", 5},
	{"mikko.nieminen@tiski.example", "CC-1300", 2}, {"timo.lindholm@tiski.example", "CC-1400", 3},
	{"pekka.hamalainen@tiski.example", "CC-1500", 3}, {"helena.aaltonen@tiski.example", "CC-1600", 4},
	{"maria.jarvinen@tiski.example", "CC-1200", 2}, {"emma.heikkinen@tiski.example", "CC-1110", 1},
	{"otto.koskinen@tiski.example", "CC-1120", 1}, {"juha.laine@tiski.example", "CC-1100", 1},
}

// orderSeed says how people order one service: how often, with which
// titles, quantities (hours or pieces) and form values.
type orderSeed struct {
	Weight           int
	Titles           []string
	Description      string
	MinQty, MaxQty   int
	Fields           func(rng *rand.Rand) map[string]json.RawMessage
	TitleFromProduct bool
}

var softwareProducts = []string{"Adobe Creative Cloud", "Figma Professional", "Miro Business", "Microsoft Visio", "JetBrains GoLand", "Tableau Creator"}

var orderSeeds = map[string]orderSeed{
	"IT-LAPTOP": {Weight: 10, MinQty: 1, MaxQty: 1,
		Titles: []string{"Laptop for a new starter", "Replacement laptop: the battery no longer holds a charge",
			"Laptop for a summer trainee", "Laptop upgrade for video editing"},
		Description: "Standard image, please. The current machine goes back to IT when the new one arrives.",
		Fields: func(rng *rand.Rand) map[string]json.RawMessage {
			return map[string]json.RawMessage{
				"model":           jsonString(pick(rng, []string{`13"`, `15"`, `15"`, `16"`})),
				"keyboard_layout": jsonString(pick(rng, []string{"FI", "FI", "US"})),
			}
		}},
	"IT-MONITOR": {Weight: 7, MinQty: 1, MaxQty: 3,
		Titles:      []string{"Second monitor for my desk", "Monitors for the project room", "Replacement for a flickering monitor"},
		Description: "USB-C if possible, so one cable charges the laptop too."},
	"IT-NETWORK": {Weight: 5, MinQty: 1, MaxQty: 1,
		Titles:      []string{"Network access for a new starter", "VPN access for a consultant", "Wi-Fi and VPN for a contractor"},
		Description: "Access from the start date until further notice."},
	"IT-LICENCE": {Weight: 8, MinQty: 1, MaxQty: 1, TitleFromProduct: true,
		Description: "Needed for ongoing project work.",
		Fields: func(rng *rand.Rand) map[string]json.RawMessage {
			return map[string]json.RawMessage{"product": jsonString(pick(rng, softwareProducts))}
		}},
	"IT-ONSITE": {Weight: 9, MinQty: 1, MaxQty: 4,
		Titles: []string{"Projector not working in meeting room Saari", "Docking station set-up", "Move workstation to the 3rd floor",
			"Printer set-up for the team", "Video conferencing kit for the board room"},
		Description: "Any weekday morning suits us."},
	"FAC-DESK": {Weight: 5, MinQty: 1, MaxQty: 1,
		Titles:      []string{"Desk and chair for a new starter", "Sit-stand desk after an ergonomics assessment", "Replace a broken office chair"},
		Description: "Third floor, the open office by the windows."},
	"FAC-ROOM": {Weight: 4, MinQty: 1, MaxQty: 4,
		Titles:      []string{"Set-up for the quarterly all-hands", "Workshop room for 20 people", "Board meeting set-up", "Customer event in the lobby"},
		Description: "Coffee and sandwiches for the participants, screen and microphones."},
	"LEGAL-CONTRACT": {Weight: 5, MinQty: 2, MaxQty: 8,
		Titles: []string{"Review of an agency framework agreement", "NDA with a new supplier", "Software licence agreement review",
			"Event venue contract", "Data processing agreement with a SaaS vendor"},
		Description: "Draft attached in the shared folder; we would like to sign by the end of the month."},
	"HR-RECRUIT": {Weight: 3, MinQty: 10, MaxQty: 30,
		Titles:      []string{"Recruit a marketing coordinator", "Hire a senior accountant", "Summer trainee recruitment", "Recruit a facilities technician"},
		Description: "Budget approved for one permanent position."},
	"MKT-CAMPAIGN": {Weight: 3, MinQty: 8, MaxQty: 40,
		Titles:      []string{"Recruitment campaign visuals", "Intranet launch campaign", "Wellbeing week posters", "Employer branding video"},
		Description: "Brand guidelines apply; we have a rough brief ready."},
}

// How many demo requests end in each status. Old ones are mostly closed;
// the others are recent enough to be where they are.
var statusMix = []struct {
	Status      requests.Status
	Count       int
	MinAgeDays  int
	MaxAgeDays  int
	NeedApprove bool
}{
	{requests.Closed, 56, 8, historyDays, false},
	{requests.Cancelled, 7, 8, historyDays, false},
	{requests.Rejected, 5, 8, historyDays, true},
	{requests.Resolved, 7, 1, 6, false},
	{requests.InProgress, 8, 1, 9, false},
	{requests.WaitingOnCustomer, 5, 2, 10, false},
	{requests.Open, 6, 0, 4, false},
	{requests.PendingApproval, 6, 0, 3, true},
}

// Notes people leave on each step, picked at random.
var notes = map[string][]string{
	"approve": {"Approved.", "Approved; within this quarter's budget.", "OK, go ahead."},
	"reject":  {"Not in this quarter's budget.", "Please reuse the spare one in the storage room.", "Duplicate of an earlier request."},
	"assign":  {"", "I'll take this one."},
	"start":   {"", "On it.", "Ordered from the supplier."},
	"wait":    {"Which day suits you for the delivery?", "Could you send the draft as a Word file?", "Please confirm who should have access."},
	"resume":  {"Tuesday morning works.", "Sent by e-mail.", "Confirmed, thanks."},
	"resolve": {"Delivered.", "Done; see the notes.", "Completed as agreed."},
	"reopen":  {"The docking station still drops the external screen.", "One page of comments was missed."},
	"close":   {"", "Thanks!", "Works well, thank you."},
	"cancel":  {"No longer needed.", "Ordered by mistake.", "Plans changed."},
}

// requestSeeder files the demo requests through requests.Submit and moves
// them with requests.Act, as the people of the demo would.
type requestSeeder struct {
	tx      bun.Tx
	authz   *policies.Authorizer
	org     units.Organisation
	loc     *time.Location
	now     time.Time
	rng     *rand.Rand
	users   map[string]int64 // by e-mail
	units   map[string]int64 // by code
	service map[string]int64 // by code
}

// plan is one demo request before it is filed.
type plan struct {
	Created   time.Time
	Target    requests.Status
	Requester requesterSeed
	Service   serviceSeed
}

// loadRequests files the demo's request history unless a request for a
// demo service already exists. It runs after the people and their grants
// are committed, because the access rules are read from the database.
func loadRequests(ctx context.Context, d *db.DB, org units.Organisation, now time.Time) error {
	codes := make([]string, len(serviceSeeds))
	for i, s := range serviceSeeds {
		codes[i] = s.Service.Code
	}
	seeded, err := d.NewSelect().Model((*requests.Request)(nil)).
		Where("service_id IN (SELECT id FROM services WHERE code IN (?))", bun.In(codes)).Exists(ctx)
	if err != nil || seeded {
		return err
	}
	authz, err := policies.New(ctx, d, slog.New(slog.DiscardHandler))
	if err != nil {
		return err
	}
	loc := org.Location
	return d.InTx(ctx, func(tx bun.Tx) error {
		// A fixed seed, created inside the transaction so a retry files the
		// same history.
		s := &requestSeeder{tx: tx, authz: authz, org: org, loc: loc, now: now, rng: rand.New(rand.NewPCG(2026, 11)),
			users: map[string]int64{}, units: map[string]int64{}, service: map[string]int64{}}
		if err := s.lookUp(ctx, codes); err != nil {
			return err
		}
		plans := s.plans()
		for _, p := range plans {
			if err := s.file(ctx, p); err != nil {
				return fmt.Errorf("demo request %q: %w", p.Service.Service.Code, err)
			}
		}
		return nil
	})
}

func (s *requestSeeder) lookUp(ctx context.Context, codes []string) error {
	for _, p := range People {
		u, err := units.GetUserByEmail(ctx, s.tx, p.Email)
		if err != nil {
			return fmt.Errorf("demo user %s: %w", p.Email, err)
		}
		s.users[p.Email] = u.ID
	}
	for _, seed := range unitSeeds {
		u, err := units.GetUnitByCode(ctx, s.tx, seed.Code)
		if err != nil {
			return fmt.Errorf("demo unit %s: %w", seed.Code, err)
		}
		s.units[seed.Code] = u.ID
	}
	var rows []struct {
		ID   int64  `bun:"id"`
		Code string `bun:"code"`
	}
	if err := s.tx.NewSelect().Table("services").Column("id", "code").Where("code IN (?)", bun.In(codes)).Scan(ctx, &rows); err != nil {
		return fmt.Errorf("demo services: %w", err)
	}
	for _, r := range rows {
		s.service[r.Code] = r.ID
	}
	return nil
}

// plans decides every request's status, service, requester and filing time,
// in filing order, so request numbers grow with time.
func (s *requestSeeder) plans() []plan {
	var out []plan
	for _, mix := range statusMix {
		for range mix.Count {
			svc, who := s.pickOrder(mix.NeedApprove)
			age := time.Duration(mix.MinAgeDays)*24*time.Hour +
				time.Duration(s.rng.Int64N(int64(mix.MaxAgeDays-mix.MinAgeDays+1)*24*int64(time.Hour)))
			out = append(out, plan{Created: s.created(s.now.Add(-age)), Target: mix.Status, Requester: who, Service: svc})
		}
	}
	slices.SortStableFunc(out, func(a, b plan) int { return a.Created.Compare(b.Created) })
	return out
}

// pickOrder picks a service and who orders it: nobody orders from their own
// unit's services. When the request must wait for approval, the service
// always needs it or is a laptop for a unit whose threshold it exceeds.
func (s *requestSeeder) pickOrder(needApproval bool) (serviceSeed, requesterSeed) {
	for {
		svc := s.weightedService()
		who := weighted(s.rng, requesterSeeds, func(r requesterSeed) int { return r.Weight })
		if within(who.Unit, svc.Provider) || len(s.workers(svc.Provider, s.users[who.Email])) == 0 {
			continue
		}
		if needApproval && !(svc.Service.ApprovalPolicy == "always" ||
			(svc.Service.Code == "IT-LAPTOP" && thresholdOf(who.Unit) < svc.FirstPriceMinor)) {
			continue
		}
		if s.approver(who.Unit, s.users[who.Email]) == 0 {
			continue
		}
		return svc, who
	}
}

func (s *requestSeeder) weightedService() serviceSeed {
	return weighted(s.rng, serviceSeeds, func(svc serviceSeed) int { return orderSeeds[svc.Service.Code].Weight })
}

// file submits one planned request and takes it to its target status.
func (s *requestSeeder) file(ctx context.Context, p plan) error {
	order := orderSeeds[p.Service.Service.Code]
	requesterID := s.users[p.Requester.Email]
	o := requests.Order{ServiceID: s.service[p.Service.Service.Code], ConsumerUnitID: s.units[p.Requester.Unit],
		Description: order.Description}
	if order.Fields != nil {
		o.Fields = order.Fields(s.rng)
	}
	if order.TitleFromProduct {
		var product string
		_ = json.Unmarshal(o.Fields["product"], &product)
		o.Title = product + " licence"
	} else {
		o.Title = pick(s.rng, order.Titles)
	}
	if order.MaxQty > 1 {
		o.Quantity = strconv.Itoa(order.MinQty + s.rng.IntN(order.MaxQty-order.MinQty+1))
	}
	filer := requesterID
	workers := s.workers(p.Service.Provider, requesterID)
	// Some IT requests come by phone or chat and an agent logs them.
	if p.Service.Provider == "CC-1100" && s.rng.IntN(8) == 0 {
		filer = pick(s.rng, workers)
		o.RequesterID, o.Channel = requesterID, pick(s.rng, []string{"phone", "chat", "email", "walk_in"})
	}
	r, err := requests.Submit(ctx, s.tx, s.viewer(filer), s.org, o, p.Created)
	if err != nil {
		return err
	}
	worker := pick(s.rng, workers)
	approver := s.approver(p.Requester.Unit, requesterID)
	t := p.Created
	var startedAt time.Time
	logged := false
	act := func(userID int64, name string, minMinutes, maxMinutes int) error {
		at := s.later(t, minMinutes, maxMinutes)
		if name == "resolve" && r.PricingModel == "hourly" && !logged {
			// The agent books the hours before resolving: the charge is
			// priced from them.
			if err := s.logTime(ctx, r, userID, startedAt, t, at); err != nil {
				return fmt.Errorf("log time: %w", err)
			}
			logged = true
			// Hours beyond the estimate's tolerance wait for the ordering
			// unit's manager, as they do on the server.
			if r, err = requests.Get(ctx, s.tx, s.viewer(approver), r.ID); err != nil {
				return err
			}
			if r.OverrunWaits() {
				a := requests.Action{Name: "approve_overrun", Version: r.Version}
				if r, err = requests.Act(ctx, s.tx, s.viewer(approver), s.org, r.ID, a, at); err != nil {
					return fmt.Errorf("approve overrun: %w", err)
				}
			}
		}
		t = at
		a := requests.Action{Name: name, Version: r.Version, Note: pick(s.rng, notes[name])}
		if name == "assign" {
			a.AssigneeID = userID
		}
		// Act posts the charge of a resolution, as it does for the server.
		if r, err = requests.Act(ctx, s.tx, s.viewer(userID), s.org, r.ID, a, t); err != nil {
			return err
		}
		if name == "start" {
			startedAt = t
		}
		return nil
	}
	rate := func() error {
		t = s.later(t, 10, 1440)
		return s.giveFeedback(ctx, r, requesterID, t)
	}
	target := p.Target
	steps := []func() error{}
	if r.Status == requests.PendingApproval {
		switch target {
		case requests.PendingApproval:
			return nil
		case requests.Rejected:
			return act(approver, "reject", 30, 2*1440)
		case requests.Cancelled:
			if s.rng.IntN(2) == 0 {
				return act(requesterID, "cancel", 60, 2*1440)
			}
		}
		steps = append(steps, func() error { return act(approver, "approve", 30, 1440) })
	}
	switch target {
	case requests.Open:
		if s.rng.IntN(2) == 0 {
			steps = append(steps, func() error { return act(worker, "assign", 15, 240) })
		}
		return run(steps)
	case requests.Cancelled:
		steps = append(steps, func() error { return act(requesterID, "cancel", 60, 2*1440) })
		return run(steps)
	}
	steps = append(steps,
		func() error { return act(worker, "assign", 15, 240) },
		func() error { return act(worker, "start", 15, 480) })
	if target == requests.WaitingOnCustomer || s.rng.IntN(4) == 0 {
		steps = append(steps, func() error { return act(worker, "wait", 60, 1440) })
		if target == requests.WaitingOnCustomer {
			return run(steps)
		}
		steps = append(steps, func() error { return act(requesterID, "resume", 60, 2*1440) })
	}
	if target == requests.InProgress {
		return run(steps)
	}
	resolveMinutes := p.Service.Service.SLAResolutionMinutes
	steps = append(steps, func() error { return act(worker, "resolve", resolveMinutes/5, resolveMinutes*11/10) })
	if target == requests.Closed && s.rng.IntN(10) == 0 {
		steps = append(steps,
			func() error { return act(requesterID, "reopen", 60, 2*1440) },
			func() error { return act(worker, "resolve", 60, 1440) })
	}
	if s.rng.IntN(100) < feedbackPercent {
		steps = append(steps, rate)
	}
	if target == requests.Closed {
		closer := requesterID
		if s.rng.IntN(10) == 0 {
			closer = worker
		}
		steps = append(steps, func() error { return act(closer, "close", 60, 5*1440) })
	}
	return run(steps)
}

func run(steps []func() error) error {
	for _, step := range steps {
		if err := step(); err != nil {
			return err
		}
	}
	return nil
}

func (s *requestSeeder) viewer(userID int64) requests.Viewer {
	return requests.Viewer{UserID: userID, Authz: s.authz}
}

// workers lists the agents of the provider unit other than the requester.
func (s *requestSeeder) workers(provider string, requesterID int64) []int64 {
	var out []int64
	for _, p := range People {
		if slices.Contains(p.UnitRoles, [2]string{provider, "agent"}) && s.users[p.Email] != requesterID {
			out = append(out, s.users[p.Email])
		}
	}
	return out
}

// approver is the nearest manager of the unit (or of a unit above it) who
// is not the requester, or 0.
func (s *requestSeeder) approver(unit string, requesterID int64) int64 {
	for code := unit; code != ""; code = parentOf(code) {
		for _, p := range People {
			if slices.Contains(p.UnitRoles, [2]string{code, "manager"}) && s.users[p.Email] != requesterID {
				return s.users[p.Email]
			}
		}
	}
	return 0
}

// created places a filing time on a working day between 8 and 17 in the
// organisation's time zone, on the day of t, and before now.
func (s *requestSeeder) created(t time.Time) time.Time {
	local := t.In(s.loc)
	day := time.Date(local.Year(), local.Month(), local.Day(), 8, 0, 0, 0, s.loc)
	c := s.workTime(day.Add(time.Duration(s.rng.IntN(9*60)) * time.Minute))
	if limit := s.now.Add(-30 * time.Minute); c.After(limit) {
		c = limit.Add(-time.Duration(s.rng.IntN(180)) * time.Minute)
	}
	return c.UTC().Truncate(time.Second)
}

// later returns a moment some working minutes after t, never after now:
// a step that would land in the future happens halfway to now instead.
func (s *requestSeeder) later(t time.Time, minMinutes, maxMinutes int) time.Time {
	next := s.workTime(t.Add(time.Duration(minMinutes+s.rng.IntN(max(maxMinutes-minMinutes, 1))) * time.Minute))
	if limit := s.now.Add(-time.Minute); next.After(limit) {
		next = t.Add(s.now.Sub(t) / 2)
	}
	return next.UTC().Truncate(time.Second)
}

// workTime moves t forward into working hours: weekdays 8–17.
func (s *requestSeeder) workTime(t time.Time) time.Time {
	local := t.In(s.loc)
	for {
		start := time.Date(local.Year(), local.Month(), local.Day(), 8, 0, 0, 0, s.loc)
		weekend := local.Weekday() == time.Saturday || local.Weekday() == time.Sunday
		switch {
		case weekend || local.Hour() >= 17:
			local = start.AddDate(0, 0, 1).Add(time.Duration(s.rng.IntN(90)) * time.Minute)
		case local.Before(start):
			local = start.Add(time.Duration(s.rng.IntN(90)) * time.Minute)
		default:
			return local
		}
	}
}

// within reports whether the unit is code or below it.
func within(unit, code string) bool {
	for u := unit; u != ""; u = parentOf(u) {
		if u == code {
			return true
		}
	}
	return false
}

func parentOf(code string) string {
	for _, u := range unitSeeds {
		if u.Code == code {
			return u.Parent
		}
	}
	return ""
}

func thresholdOf(code string) int64 {
	for _, u := range unitSeeds {
		if u.Code == code {
			return u.ThresholdMinor
		}
	}
	return 0
}

func pick[T any](rng *rand.Rand, options []T) T {
	return options[rng.IntN(len(options))]
}

func weighted[T any](rng *rand.Rand, options []T, weight func(T) int) T {
	total := 0
	for _, o := range options {
		total += weight(o)
	}
	n := rng.IntN(total)
	for _, o := range options {
		if n -= weight(o); n < 0 {
			return o
		}
	}
	return options[len(options)-1]
}

func jsonString(s string) json.RawMessage {
	raw, _ := json.Marshal(s)
	return raw
}
