package knowledge_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/tiski/tiski/db"
	"github.com/tiski/tiski/db/dbtest"
	"github.com/tiski/tiski/knowledge"
	"github.com/tiski/tiski/policies"
	"github.com/tiski/tiski/units"
)

// envBenchLarge, set to 1, runs the knowledge benchmark at full size.
const envBenchLarge = "TISKI_BENCH_LARGE"

// BenchmarkArticleSearch measures the search the order form asks as a
// title is typed, against many articles in English and Finnish loaded by
// bulk insert (so both indexes are built as a live database's would be).
// 100,000 articles run only with TISKI_BENCH_LARGE=1; 5,000 always run.
// It reports percentiles over 500 searches by a member (p50-ms, p95-ms,
// p99-ms) of two-word queries, the second word half typed.
func BenchmarkArticleSearch(b *testing.B) {
	for _, engine := range dbtest.Engines() {
		for _, n := range []int{5_000, 100_000} {
			b.Run(fmt.Sprintf("%s/%d", engine, n), func(b *testing.B) {
				if n > 5_000 && os.Getenv(envBenchLarge) != "1" {
					b.Skipf("set %s=1 to load %d articles", envBenchLarge, n)
				}
				benchSearch(b, engine, n)
			})
		}
	}
}

// benchWords is the vocabulary of the generated articles: twenty thousand
// made-up words, some far more common than others (a Zipf spread), as in
// real text.
func benchWords(r *rand.Rand) []string {
	const letters = "abdefghijklmnoprstuvy"
	words := make([]string, 20000)
	for i := range words {
		var sb strings.Builder
		for range 4 + r.IntN(6) {
			sb.WriteByte(letters[r.IntN(len(letters))])
		}
		words[i] = sb.String()
	}
	return words
}

func benchSearch(b *testing.B, engine db.Engine, n int) {
	ctx := context.Background()
	d := dbtest.Open(b, engine)
	r := rand.New(rand.NewPCG(16, 100))
	words := benchWords(r)
	zipf := rand.NewZipf(rand.New(rand.NewPCG(1, 2)), 1.1, 1, uint64(len(words)-1))
	text := func(k int) string {
		parts := make([]string, k)
		for i := range parts {
			parts[i] = words[zipf.Uint64()]
		}
		return strings.Join(parts, " ")
	}
	var unitID, memberID int64
	start := time.Now()
	err := d.InTx(ctx, func(tx bun.Tx) error {
		u, err := units.CreateUnit(ctx, tx, 0, units.Unit{Code: "IT", Name: "IT"})
		if err != nil {
			return err
		}
		m, err := units.CreateUnit(ctx, tx, 0, units.Unit{Code: "MKT", Name: "Marketing"})
		if err != nil {
			return err
		}
		user, err := units.CreateUser(ctx, tx, 0, units.User{Email: "member@example.org", Name: "Member"})
		if err != nil {
			return err
		}
		unitID, memberID = u.ID, user.ID
		_, err = units.GrantUnitRole(ctx, tx, 0, m.ID, user.ID, "member")
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
	now := time.Now().UTC()
	const batch = 1000
	for from := 0; from < n; from += batch {
		err := d.InTx(ctx, func(tx bun.Tx) error {
			articles := make([]knowledge.Article, batch)
			for i := range articles {
				status, audience := knowledge.Published, knowledge.Everyone
				if (from+i)%10 == 0 {
					audience = knowledge.Provider
				}
				if (from+i)%20 == 1 {
					status = knowledge.Draft
				}
				articles[i] = knowledge.Article{ProviderUnitID: unitID, Status: status, Audience: audience, Version: 1,
					CreatedBy: memberID, CreatedAt: now, UpdatedAt: now}
			}
			if _, err := tx.NewInsert().Model(&articles).Returning("id").Exec(ctx); err != nil {
				return err
			}
			texts := make([]knowledge.Text, 0, 2*batch)
			for _, a := range articles {
				for _, locale := range []string{"en", "fi"} {
					body := text(60)
					texts = append(texts, knowledge.Text{ArticleID: a.ID, Locale: locale, Title: text(5), Body: body, BodyHTML: "<p>" + body + "</p>"})
				}
			}
			_, err := tx.NewInsert().Model(&texts).Exec(ctx)
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	loaded := time.Since(start)
	if engine == db.Postgres {
		if _, err := d.ExecContext(ctx, "VACUUM ANALYZE article_texts"); err != nil {
			b.Fatal(err)
		}
		if _, err := d.ExecContext(ctx, "VACUUM ANALYZE articles"); err != nil {
			b.Fatal(err)
		}
	}
	b.Logf("%s: loaded %d articles (%d texts) in %s", engine, n, 2*n, loaded.Round(time.Second))
	authz, err := policies.New(ctx, d, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		b.Fatal(err)
	}
	v := knowledge.Viewer{UserID: memberID, Authz: authz}
	queries := make([]string, 500)
	for i := range queries {
		second := words[zipf.Uint64()]
		queries[i] = words[zipf.Uint64()] + " " + second[:max(3, len(second)-2)]
	}
	samples := make([]time.Duration, 0, len(queries))
	found := 0
	for _, q := range queries {
		t0 := time.Now()
		hits, err := knowledge.Search(ctx, d, v, q, 0, 5)
		samples = append(samples, time.Since(t0))
		if err != nil {
			b.Fatal(err)
		}
		found += len(hits)
	}
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if _, err := knowledge.Search(ctx, d, v, queries[i%len(queries)], 0, 5); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	slices.Sort(samples)
	pct := func(p float64) float64 {
		return float64(samples[int(p*float64(len(samples)-1))].Microseconds()) / 1000
	}
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.95), "p95-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	b.ReportMetric(float64(found)/float64(len(queries)), "hits/search")
}
