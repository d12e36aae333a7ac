package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/tiski/tiski/auth"
	"github.com/tiski/tiski/billing"
	"github.com/tiski/tiski/db"
	"github.com/tiski/tiski/demo"
	"github.com/tiski/tiski/i18n"
	"github.com/tiski/tiski/mail"
	"github.com/tiski/tiski/mailin"
	"github.com/tiski/tiski/notify"
	"github.com/tiski/tiski/outbox"
	"github.com/tiski/tiski/policies"
	"github.com/tiski/tiski/requests"
	"github.com/tiski/tiski/units"
	"github.com/tiski/tiski/web"
	"github.com/tiski/tiski/webhooks"
)

func cmdServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, dbURL := newFlags("serve", "serve [--addr :8080] [--metrics-addr 127.0.0.1:9090] [--db URL] [--demo] [--trusted-proxies CIDRS] [--imap-tick 5s] [--oidc-issuer URL --oidc-client-id ID --oidc-redirect-url URL ...] [--local-login all|admins|off]", stderr)
	addr := fs.String("addr", envOr("TISKI_ADDR", ":8080"), "listen address (or TISKI_ADDR)")
	metricsAddr := fs.String("metrics-addr", envOr("TISKI_METRICS_ADDR", "127.0.0.1:9090"),
		"listen address of /metrics (Prometheus), loopback by default; empty turns it off (or TISKI_METRICS_ADDR)")
	loadDemo := fs.Bool("demo", false, "load the demo organisation into an empty database first and print its logins")
	imapTick, err := time.ParseDuration(envOr("TISKI_IMAP_TICK", "5s"))
	if err != nil {
		return fmt.Errorf("TISKI_IMAP_TICK: %w", err)
	}
	fs.DurationVar(&imapTick, "imap-tick", imapTick, "how often due IMAP mailboxes (tiski mail imap) are looked for; 0 turns reading them off (or TISKI_IMAP_TICK)")
	proxies := fs.String("trusted-proxies", os.Getenv("TISKI_TRUSTED_PROXIES"),
		"comma-separated CIDRs of reverse proxies whose X-Forwarded-For/-Proto are believed (or TISKI_TRUSTED_PROXIES)")
	applySSO := ssoFlags(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	log := slog.New(slog.NewJSONHandler(stderr, nil))
	cfg := web.DefaultConfig()
	if err := applySSO(&cfg); err != nil {
		return err
	}
	for _, cidr := range strings.FieldsFunc(*proxies, func(r rune) bool { return r == ',' || r == ' ' }) {
		_, n, err := net.ParseCIDR(cidr)
		if err != nil {
			return fmt.Errorf("--trusted-proxies: %w", err)
		}
		cfg.TrustedProxies = append(cfg.TrustedProxies, n)
	}
	// Subscriptions are checked against the same ranges the deliverer dials.
	allow, err := webhooks.ParseAllow(os.Getenv("TISKI_WEBHOOK_ALLOW"))
	if err != nil {
		return err
	}
	cfg.WebhookAllow = allow
	open := openDatabase
	if *loadDemo {
		open = openDemoDatabase
	}
	d, org, err := open(ctx, *dbURL, log)
	if err != nil {
		return err
	}
	defer d.Close()
	if *loadDemo {
		if err := loadDemoIfEmpty(ctx, d, stdout); err != nil {
			return err
		}
	}
	authz, err := policies.New(ctx, d, log)
	if err != nil {
		return err
	}
	worker, err := outboxWorker(ctx, d, log)
	if err != nil {
		return err
	}
	server := web.New(d, authz, org, log, cfg)
	srv := web.HTTPServer(*addr, server.Handler(), web.DefaultTimeouts())
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	if *metricsAddr != "" {
		mln, err := net.Listen("tcp", *metricsAddr)
		if err != nil {
			ln.Close()
			return fmt.Errorf("--metrics-addr: %w", err)
		}
		msrv := web.HTTPServer(*metricsAddr, server.MetricsHandler(), web.DefaultTimeouts())
		go func() { _ = msrv.Serve(mln) }()
		defer msrv.Close()
		log.Info("metrics are served", "addr", mln.Addr().String())
	}
	log.Info("tiski is serving", "addr", ln.Addr().String(), "database", string(d.Engine), "version", version)
	fmt.Fprintf(stdout, "Tiski is serving on http://%s (press Ctrl+C to stop)\n", displayAddr(ln.Addr()))
	jobsCtx, stopJobs := context.WithCancel(ctx)
	maintained := make(chan struct{})
	go func() {
		defer close(maintained)
		maintain(jobsCtx, d, org, log)
	}()
	delivered := make(chan struct{})
	go func() {
		defer close(delivered)
		worker.Run(jobsCtx)
	}()
	read := make(chan struct{})
	go func() {
		defer close(read)
		if imapTick <= 0 {
			log.Info("IMAP mailboxes are not read (--imap-tick 0)")
			return
		}
		p := &mailin.Poller{Deps: mailin.Deps{DB: d, Authz: authz, Org: *org}, Log: log, Tick: imapTick}
		p.Run(jobsCtx)
	}()
	// The database closes (deferred above) only after scheduled work, the
	// outbox worker and the mailbox poller stop; a delivery cut short is
	// claimed again later, a message read but not flagged is read again
	// and found by its Message-ID.
	defer func() { stopJobs(); <-maintained; <-delivered; <-read }()

	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down: finishing in-flight requests")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-served; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	log.Info("stopped")
	return nil
}

func loadDemoIfEmpty(ctx context.Context, d *db.DB, stdout io.Writer) error {
	n, err := d.NewSelect().Table("units").Count(ctx)
	if err != nil {
		return err
	}
	if n > 0 {
		fmt.Fprintln(stdout, "The database already has units; --demo loads only into an empty database.")
		return nil
	}
	if err := loadDemo(ctx, d); err != nil {
		return err
	}
	printDemoLogins(stdout)
	return nil
}

// maintain runs the server's scheduled work until ctx ends: every minute it
// closes requests resolved more than seven days ago, marks SLA clocks at
// risk or breached (telling the assignee, else the provider's managers) and
// sends the rating reminders and yesterday's daily digests due; every hour it charges
// the month's subscriptions and purges expired sessions. Each step is safe
// when several processes run it at once.
func maintain(ctx context.Context, d *db.DB, org *units.Organisation, log *slog.Logger) {
	minute := time.NewTicker(time.Minute)
	defer minute.Stop()
	var lastPurge, lastBilling time.Time
	for {
		now := time.Now().UTC()
		err := d.InTx(ctx, func(tx bun.Tx) error {
			n, err := requests.CloseResolved(ctx, tx, now)
			if n > 0 {
				log.Info("closed resolved requests", "count", n)
			}
			return err
		})
		if err != nil && ctx.Err() == nil {
			log.Warn("close resolved requests", "err", err)
		}
		err = d.InTx(ctx, func(tx bun.Tx) error {
			n, err := requests.MarkSLA(ctx, tx, now)
			if n > 0 {
				log.Info("marked SLA clocks at risk or breached", "count", n)
			}
			return err
		})
		if err != nil && ctx.Err() == nil {
			log.Warn("mark SLA clocks", "err", err)
		}
		err = d.InTx(ctx, func(tx bun.Tx) error {
			n, err := requests.RemindRatings(ctx, tx, now)
			if n > 0 {
				log.Info("sent rating reminders", "count", n)
			}
			return err
		})
		if err != nil && ctx.Err() == nil {
			log.Warn("rating reminders", "err", err)
		}
		err = d.InTx(ctx, func(tx bun.Tx) error {
			n, err := notify.SendDigests(ctx, tx, org.Location, now)
			if n > 0 {
				log.Info("sent daily digests", "count", n)
			}
			return err
		})
		if err != nil && ctx.Err() == nil {
			log.Warn("daily digests", "err", err)
		}
		if now.Sub(lastBilling) >= time.Hour {
			month := billing.MonthOf(now, org.Location)
			if res, err := billing.BillingRun(ctx, d, month, org.Location, now); err != nil && ctx.Err() == nil {
				log.Warn("billing run", "month", month, "err", err)
			} else if res.Charged > 0 {
				log.Info("billing run", "month", month, "charged", res.Charged)
			}
			lastBilling = now
		}
		if now.Sub(lastPurge) >= time.Hour {
			if err := auth.PurgeExpired(ctx, d); err != nil && ctx.Err() == nil {
				log.Warn("purge expired sessions", "err", err)
			}
			lastPurge = now
		}
		select {
		case <-ctx.Done():
			return
		case <-minute.C:
		}
	}
}

func displayAddr(a net.Addr) string {
	tcp, ok := a.(*net.TCPAddr)
	if ok && tcp.IP.IsUnspecified() {
		return fmt.Sprintf("localhost:%d", tcp.Port)
	}
	return a.String()
}

// outboxWorker builds the worker that delivers the outbox: e-mail over SMTP
// when TISKI_SMTP_URL is set; otherwise it has no channel, says so, and
// people hear of things in the portal only.
func outboxWorker(ctx context.Context, d *db.DB, log *slog.Logger) (*outbox.Worker, error) {
	w := &outbox.Worker{DB: d, Log: log, Channels: map[string]outbox.Deliverer{}}
	cat, err := i18n.New()
	if err != nil {
		return nil, err
	}
	guard, err := webhookGuard()
	if err != nil {
		return nil, err
	}
	w.Channels[outbox.ChannelWebhook] = &webhooks.Deliverer{DB: d, Guard: guard, Catalog: cat, BaseURL: envOr("TISKI_BASE_URL", defaultBaseURL)}
	cfg, on, err := mail.ParseConfig(os.Getenv("TISKI_SMTP_URL"), os.Getenv("TISKI_MAIL_FROM"), envOr("TISKI_BASE_URL", defaultBaseURL))
	if err != nil {
		return nil, err
	}
	if !on {
		log.Info("e-mail off: in-app notifications only")
		return w, nil
	}
	key, err := mail.ReplyKey(ctx, d)
	if err != nil {
		return nil, err
	}
	w.Channels[outbox.ChannelEmail] = &mail.Sender{DB: d, Config: cfg, Catalog: cat, ReplyKey: key}
	log.Info("e-mail on", "smtp_host", cfg.Host, "smtp_port", cfg.Port, "from", cfg.From.Address)
	return w, nil
}

// webhookGuard is the guard of webhook addresses: internal ranges refused
// unless TISKI_WEBHOOK_ALLOW opens some (CIDR ranges, comma-separated).
func webhookGuard() (*webhooks.Guard, error) {
	allow, err := webhooks.ParseAllow(os.Getenv("TISKI_WEBHOOK_ALLOW"))
	if err != nil {
		return nil, err
	}
	return &webhooks.Guard{Allow: allow}, nil
}

// loadDemo loads (or completes) the demo organisation. Its months of
// history are told in the app, so each persona's bell has something to
// show, but never mailed: its people have example addresses and the events
// are long past.
func loadDemo(ctx context.Context, d *db.DB) error {
	if err := demo.Load(ctx, d, auth.DefaultHashParams); err != nil {
		return err
	}
	var ids []int64
	for _, p := range demo.People {
		u, err := units.GetUserByEmail(ctx, d, p.Email)
		if err != nil {
			return err
		}
		ids = append(ids, u.ID)
	}
	_, err := outbox.DropPending(ctx, d, outbox.ChannelEmail, ids)
	return err
}
