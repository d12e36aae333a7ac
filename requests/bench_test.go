package requests_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/tiski/tiski/catalog"
	"github.com/tiski/tiski/db"
	"github.com/tiski/tiski/db/dbtest"
	"github.com/tiski/tiski/policies"
	"github.com/tiski/tiski/requests"
	"github.com/tiski/tiski/units"
)

// EnvBenchLarge, set to 1, runs the request benchmarks at full size.
const envBenchLarge = "TISKI_BENCH_LARGE"

// Size of the benchmark organisation and how many samples each operation
// takes for its percentiles.
const (
	benchUnits            = 500
	benchUsers            = 10_000
	benchProviders        = 50 // provider units, each with an agent team
	servicesPerProvider   = 4
	agentsPerProvider     = 10
	benchManagers         = 300
	benchSamples          = 2_000
	requestsPerStatement  = 1_000
	requestsPerLoadCommit = 100_000
)

// BenchmarkRequestQueue measures what an agent waits for most: a page of
// their unit's open queue, their default request list, and opening one
// request, against a database of many requests loaded by bulk insert. The
// full size (1,000,000 requests) runs only with TISKI_BENCH_LARGE=1; a
// 20,000-request variant always runs. Each operation reports its own
// percentiles over benchSamples calls (p50-ms, p95-ms, p99-ms); ns/op is
// the mean of one call.
func BenchmarkRequestQueue(b *testing.B) {
	for _, engine := range dbtest.Engines() {
		for _, n := range []int{20_000, 1_000_000} {
			b.Run(fmt.Sprintf("%s/%d", engine, n), func(b *testing.B) {
				if n > 20_000 && os.Getenv(envBenchLarge) != "1" {
					b.Skipf("set %s=1 to load %d requests", envBenchLarge, n)
				}
				benchQueue(b, engine, n)
			})
		}
	}
}

func benchQueue(b *testing.B, engine db.Engine, n int) {
	ctx := context.Background()
	d := dbtest.Open(b, engine)
	start := time.Now()
	org := loadBenchOrg(b, d, n)
	loaded := time.Since(start)
	if engine == db.Postgres {
		// What autovacuum would have done by the time a table has grown this
		// big: statistics for the planner and a visibility map.
		if _, err := d.ExecContext(ctx, "VACUUM ANALYZE requests"); err != nil {
			b.Fatal(err)
		}
	}
	b.Logf("%s: loaded %d requests in %s (%.0f rows/s); vacuum/analyze %s", engine, n,
		loaded.Round(time.Second), float64(n)/loaded.Seconds(), (time.Since(start) - loaded).Round(time.Second))

	authz, err := policies.New(ctx, d, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		b.Fatal(err)
	}
	agent := requests.Viewer{UserID: org.agentID, Authz: authz}
	queue := requests.Filter{ProviderUnitID: org.providerID, Statuses: []requests.Status{requests.Open, requests.InProgress},
		Sort: "-created", Limit: 51}
	mine := requests.Filter{Sort: requests.DefaultSort, Limit: 51}
	var visible []int64
	if err := d.NewSelect().Table("requests").Column("id").Where("provider_unit_id = ?", org.providerID).Scan(ctx, &visible); err != nil {
		b.Fatal(err)
	}
	page, err := requests.List(ctx, d, agent, queue)
	if err != nil || len(page) == 0 {
		b.Fatalf("queue page has %d rows: %v", len(page), err)
	}
	for _, r := range page {
		if r.ProviderUnitID != org.providerID || (r.Status != requests.Open && r.Status != requests.InProgress) {
			b.Fatalf("queue page holds request %d of unit %d in %s", r.ID, r.ProviderUnitID, r.Status)
		}
	}
	b.Logf("%s: agent %d of unit %d: the unit has %d requests, the queue page %d rows", engine, org.agentID, org.providerID, len(visible), len(page))

	rng := rand.New(rand.NewPCG(5, 6))
	b.Run("queue-page", func(b *testing.B) {
		sampled(func() error {
			_, err := requests.List(ctx, d, agent, queue)
			return err
		})(b)
		b.ReportMetric(loaded.Seconds(), "load-s")
	})
	b.Run("default-list", sampled(func() error {
		rows, err := requests.List(ctx, d, agent, mine)
		if err == nil && len(rows) != 51 {
			err = fmt.Errorf("default list has %d rows", len(rows))
		}
		return err
	}))
	b.Run("get", sampled(func() error {
		_, err := requests.Get(ctx, d, agent, visible[rng.IntN(len(visible))])
		return err
	}))
}

// sampled times each call of op and reports the percentiles of the calls,
// not of b.N batches: a page is slow for a user when one call is slow.
func sampled(op func() error) func(*testing.B) {
	return func(b *testing.B) {
		for range 50 { // warm the connection pool and caches
			if err := op(); err != nil {
				b.Fatal(err)
			}
		}
		var samples []time.Duration
		for b.Loop() {
			for range benchSamples {
				start := time.Now()
				if err := op(); err != nil {
					b.Fatal(err)
				}
				samples = append(samples, time.Since(start))
			}
		}
		slices.Sort(samples)
		var total time.Duration
		for _, s := range samples {
			total += s
		}
		ms := func(q float64) float64 {
			i := int(math.Ceil(q*float64(len(samples)))) - 1
			return float64(samples[max(i, 0)]) / float64(time.Millisecond)
		}
		b.ReportMetric(float64(total)/float64(len(samples)), "ns/op")
		b.ReportMetric(ms(0.50), "p50-ms")
		b.ReportMetric(ms(0.95), "p95-ms")
		b.ReportMetric(ms(0.99), "p99-ms")
	}
}

// benchOrg is what the benchmark needs to know about the loaded data.
type benchOrg struct {
	agentID, providerID int64
}

type benchService struct {
	id, providerID int64
	pricing        string
	priceMinor     int64
	sla            [2]int // first response, resolution (minutes)
}

type membership struct{ userID, unitID int64 }

// loadBenchOrg fills d by bulk insert: benchUnits units in a tree of depth 4,
// benchProviders provider units with servicesPerProvider services and
// agentsPerProvider agents each, benchUsers users who are members of a unit
// (some of two), benchManagers managers, a few organisation roles, and n
// requests filed over three years, ids growing with time. Old requests are
// nearly all closed, cancelled or rejected, with a few forgotten ones still
// open; the last weeks' are in every status.
func loadBenchOrg(b *testing.B, d *db.DB, n int) benchOrg {
	b.Helper()
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(1, 2))
	now := time.Now().UTC().Truncate(time.Second)

	var unitRows []units.Unit
	var byDepth [][]int64
	for depth, count := range []int{10, 60, 180, 250} {
		var level []int64
		for i := range count {
			id := int64(len(unitRows) + 1)
			u := units.Unit{ID: id, Code: fmt.Sprintf("CC-%04d", id), Name: fmt.Sprintf("Unit %d", id),
				ApprovalThresholdMinor: 100000, BudgetMode: units.BudgetSoft, ChargebackMode: units.ModeChargeback,
				CreatedAt: now, UpdatedAt: now}
			if depth > 0 {
				parent := byDepth[depth-1][i%len(byDepth[depth-1])]
				u.ParentID = &parent
			}
			unitRows = append(unitRows, u)
			level = append(level, id)
		}
		byDepth = append(byDepth, level)
	}
	// Providers: every department and 40 of the teams.
	providers := slices.Concat(byDepth[0], byDepth[1][:benchProviders-len(byDepth[0])])

	userRows := make([]units.User, benchUsers)
	for i := range userRows {
		email := fmt.Sprintf("user%05d@example.org", i+1)
		userRows[i] = units.User{ID: int64(i + 1), Email: email, EmailKey: email, Name: fmt.Sprintf("User %d", i+1),
			Locale: "en", CreatedAt: now, UpdatedAt: now}
	}
	var roleRows []units.UnitRole
	var members []membership
	grant := func(userID, unitID int64, role string) {
		roleRows = append(roleRows, units.UnitRole{UserID: userID, UnitID: unitID, Role: role, GrantedAt: now})
		if role == "member" {
			members = append(members, membership{userID, unitID})
		}
	}
	agents := map[int64][]int64{}
	allUnits := slices.Concat(byDepth...)
	for i := range benchUsers {
		userID := int64(i + 1)
		switch {
		case i < benchProviders*agentsPerProvider:
			unit := providers[i/agentsPerProvider]
			grant(userID, unit, "agent")
			grant(userID, unit, "member")
			agents[unit] = append(agents[unit], userID)
		case i < benchProviders*agentsPerProvider+benchManagers:
			depth := min((i-benchProviders*agentsPerProvider)/100, 2)
			grant(userID, byDepth[depth][rng.IntN(len(byDepth[depth]))], "manager")
		default:
			first := allUnits[rng.IntN(len(allUnits))]
			grant(userID, first, "member")
			if rng.IntN(5) == 0 {
				if second := allUnits[rng.IntN(len(allUnits))]; second != first {
					grant(userID, second, "member")
				}
			}
		}
	}
	var orgRows []units.OrgRole
	for i, role := range slices.Concat(slices.Repeat([]string{"finance"}, 20), slices.Repeat([]string{"auditor"}, 10), slices.Repeat([]string{"admin"}, 5)) {
		orgRows = append(orgRows, units.OrgRole{UserID: int64(benchUsers - i), Role: role, GrantedAt: now})
	}

	pricing := []string{"fixed", "per_unit", "hourly", "monthly"}
	var services []benchService
	var serviceRows []catalog.Service
	var rateRows []catalog.Rate
	for p, provider := range providers {
		for k := range servicesPerProvider {
			id := int64(p*servicesPerProvider + k + 1)
			s := benchService{id: id, providerID: provider, pricing: pricing[k], priceMinor: int64(2500 + rng.IntN(150000)),
				sla: [2]int{60 * (1 + rng.IntN(8)), 1440 * (1 + rng.IntN(5))}}
			services = append(services, s)
			serviceRows = append(serviceRows, catalog.Service{ID: id, ProviderUnitID: provider, Code: fmt.Sprintf("SVC-%03d", id),
				Name: fmt.Sprintf("Service %d", id), Category: "General", PricingModel: s.pricing, ApprovalPolicy: "threshold",
				SLAFirstResponseMinutes: s.sla[0], SLAResolutionMinutes: s.sla[1], FieldsJSON: "[]", Active: true,
				CreatedAt: now, UpdatedAt: now})
			rateRows = append(rateRows, catalog.Rate{ID: id, ServiceID: id, PriceMinor: s.priceMinor, Currency: "EUR",
				EffectiveFrom: "2020-01-01", CreatedAt: now})
		}
	}

	err := d.InTx(ctx, func(tx bun.Tx) error {
		for _, batch := range []func() error{
			func() error { return insertBatches(ctx, tx, unitRows, 500) },
			func() error { return insertBatches(ctx, tx, userRows, 1000) },
			func() error { return insertBatches(ctx, tx, roleRows, 2000) },
			func() error { return insertBatches(ctx, tx, orgRows, 100) },
			func() error { return insertBatches(ctx, tx, serviceRows, 100) },
			func() error { return insertBatches(ctx, tx, rateRows, 100) },
		} {
			if err := batch(); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatalf("load organisation: %v", err)
	}

	// Statements are built in one goroutine while the database runs the
	// previous ones.
	statements := make(chan string, 4)
	go func() {
		defer close(statements)
		gen := requestGenerator{rng: rand.New(rand.NewPCG(3, 4)), now: now, n: n, services: services,
			members: members, agents: agents}
		for first := 1; first <= n; first += requestsPerStatement {
			statements <- gen.statement(first, min(first+requestsPerStatement, n+1))
		}
	}()
	for done := 0; done < n; {
		err := d.InTx(ctx, func(tx bun.Tx) error {
			for rows := 0; rows < requestsPerLoadCommit && done+rows < n; rows += requestsPerStatement {
				if _, err := tx.ExecContext(ctx, <-statements); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			for range statements { // let the generator finish
			}
			b.Fatalf("load requests after %d: %v", done, err)
		}
		done += requestsPerLoadCommit
	}
	return benchOrg{agentID: agents[providers[0]][0], providerID: providers[0]}
}

func insertBatches[T any](ctx context.Context, tx bun.Tx, rows []T, size int) error {
	for start := 0; start < len(rows); start += size {
		batch := rows[start:min(start+size, len(rows))]
		if _, err := tx.NewInsert().Model(&batch).Exec(ctx); err != nil {
			return fmt.Errorf("insert %T: %w", rows[0], err)
		}
	}
	return nil
}

// requestGenerator writes multi-row INSERTs of realistic requests.
type requestGenerator struct {
	rng      *rand.Rand
	now      time.Time
	n        int
	services []benchService
	members  []membership
	agents   map[int64][]int64
}

const requestColumns = "id, service_id, consumer_unit_id, provider_unit_id, requester_id, created_by, assignee_id, " +
	"title, description, quantity, fields_json, channel, status, version, rate_id, pricing_model, unit_price_minor, " +
	"estimate_minor, currency, needs_approval, sla_first_response_minutes, sla_resolution_minutes, first_response_due_at, " +
	"resolution_due_at, first_responded_at, resolved_at, closed_at, search_text, created_at, updated_at"

var (
	benchTitles = []string{"Laptop for a new starter", "Second monitor", "VPN access for a consultant", "Figma licence",
		"Projector not working in meeting room", "Desk and chair", "Workshop room set-up", "NDA with a new supplier",
		"Recruit a marketing coordinator", "Campaign visuals", "Docking station set-up", "Printer set-up for the team"}
	benchDescription = "Please arrange this by the end of next week; the cost center owner has agreed. " +
		"Call me if anything is unclear."
	benchChannels = []string{"portal", "portal", "portal", "portal", "email", "phone", "chat", "api"}
)

// statusAt picks a status for a request of the given age fraction (0 the
// oldest, 1 the newest).
func (g *requestGenerator) statusAt(age float64) requests.Status {
	x := g.rng.IntN(1000)
	if age < 0.98 { // older than about three weeks
		switch {
		case x < 930:
			return requests.Closed
		case x < 970:
			return requests.Cancelled
		case x < 995:
			return requests.Rejected
		case x < 997:
			return requests.Open
		case x < 999:
			return requests.InProgress
		default:
			return requests.WaitingOnCustomer
		}
	}
	switch {
	case x < 80:
		return requests.PendingApproval
	case x < 280:
		return requests.Open
	case x < 530:
		return requests.InProgress
	case x < 630:
		return requests.WaitingOnCustomer
	case x < 830:
		return requests.Resolved
	case x < 950:
		return requests.Closed
	case x < 980:
		return requests.Cancelled
	default:
		return requests.Rejected
	}
}

// statement returns one INSERT of requests with ids first..last-1.
func (g *requestGenerator) statement(first, last int) string {
	const span = 3 * 365 * 24 * time.Hour
	start := g.now.Add(-span)
	var sb strings.Builder
	sb.Grow((last - first) * 700)
	sb.WriteString("INSERT INTO requests (" + requestColumns + ") VALUES ")
	for id := first; id < last; id++ {
		m := g.members[g.rng.IntN(len(g.members))]
		svc := g.services[g.rng.IntN(len(g.services))]
		for svc.providerID == m.unitID {
			svc = g.services[g.rng.IntN(len(g.services))]
		}
		age := float64(id) / float64(g.n)
		created := start.Add(time.Duration(age * float64(span))).Truncate(time.Second)
		status := g.statusAt(age)
		quantity := 1
		if svc.pricing == "per_unit" || svc.pricing == "hourly" {
			quantity = 1 + g.rng.IntN(8)
		}
		estimate := svc.priceMinor * int64(quantity)
		needsApproval := estimate > 100000
		if !needsApproval && (status == requests.PendingApproval || status == requests.Rejected) {
			status = requests.Open
		}
		team := g.agents[svc.providerID]
		var responded, resolved, closed *time.Time
		var assigneeID int64
		version := 1
		updated := created
		step := func(minutes int) time.Time {
			updated = updated.Add(time.Duration(1+g.rng.IntN(minutes)) * time.Minute)
			version++
			return updated
		}
		if needsApproval && status != requests.PendingApproval {
			step(1440)
		}
		switch status {
		case requests.Open:
			if g.rng.IntN(2) == 0 {
				t := step(240)
				responded = &t
			}
		case requests.InProgress, requests.WaitingOnCustomer, requests.Resolved, requests.Closed:
			t := step(240)
			responded = &t
			step(480)
			if status == requests.WaitingOnCustomer {
				step(1440)
			}
			if status == requests.Resolved || status == requests.Closed {
				t := step(svc.sla[1])
				resolved = &t
			}
			if status == requests.Closed {
				t := step(7 * 1440)
				closed = &t
			}
		case requests.Rejected, requests.Cancelled:
			t := step(1440)
			closed = &t
		}
		if updated.After(g.now) {
			updated = g.now
		}
		if responded != nil { // the first response is an agent taking it
			assigneeID = team[g.rng.IntN(len(team))]
		}
		title := benchTitles[g.rng.IntN(len(benchTitles))]
		if id > first {
			sb.WriteString(", ")
		}
		sb.WriteByte('(')
		writeValues(&sb, id, svc.id, m.unitID, svc.providerID, m.userID, m.userID, nullableID(assigneeID),
			title, benchDescription, strconv.Itoa(quantity), "{}", benchChannels[g.rng.IntN(len(benchChannels))],
			string(status), version, svc.id, svc.pricing, svc.priceMinor, estimate, "EUR", needsApproval,
			svc.sla[0], svc.sla[1], created.Add(time.Duration(svc.sla[0])*time.Minute),
			created.Add(time.Duration(svc.sla[1])*time.Minute), responded, resolved, closed,
			strings.ToLower(title+"\n"+benchDescription), created, updated)
		sb.WriteByte(')')
	}
	return sb.String()
}

type nullableID int64

// writeValues appends SQL literals, valid on SQLite and PostgreSQL alike.
// Times use the layout the SQLite driver writes, which PostgreSQL reads.
func writeValues(sb *strings.Builder, values ...any) {
	for i, v := range values {
		if i > 0 {
			sb.WriteString(", ")
		}
		switch v := v.(type) {
		case int:
			sb.WriteString(strconv.Itoa(v))
		case int64:
			sb.WriteString(strconv.FormatInt(v, 10))
		case nullableID:
			if v == 0 {
				sb.WriteString("NULL")
			} else {
				sb.WriteString(strconv.FormatInt(int64(v), 10))
			}
		case bool:
			sb.WriteString(strings.ToUpper(strconv.FormatBool(v)))
		case string:
			sb.WriteString("'" + strings.ReplaceAll(v, "'", "''") + "'")
		case time.Time:
			sb.WriteString("'" + v.UTC().Format("2006-01-02 15:04:05.999999999-07:00") + "'")
		case *time.Time:
			if v == nil {
				sb.WriteString("NULL")
			} else {
				sb.WriteString("'" + v.UTC().Format("2006-01-02 15:04:05.999999999-07:00") + "'")
			}
		default:
			panic(fmt.Sprintf("writeValues: %T", v))
		}
	}
}
