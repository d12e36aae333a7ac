package mailin

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/tiski/tiski/audit"
	"github.com/tiski/tiski/fault"
)

// TLS modes of an IMAP connection.
const (
	TLSImplicit = "tls"      // imaps://, TLS from the first byte (port 993)
	TLSStart    = "starttls" // imap://, STARTTLS required (port 143)
	TLSNone     = "none"     // imap+insecure://, plain text: for a server on loopback only
)

// DefaultPoll is how often a mailbox is read when its settings say nothing.
const DefaultPoll = time.Minute

// Mailbox is the IMAP mailbox Tiski reads for an inbound address: where it
// is, who logs in, how often it is read, and how the last reads went.
type Mailbox struct {
	bun.BaseModel `bun:"table:inbound_mailboxes"`

	ID          int64      `bun:"id,pk,autoincrement" json:"id"`
	AddressID   int64      `bun:"address_id" json:"address_id"`
	Host        string     `bun:"host" json:"host"`
	Port        int        `bun:"port" json:"port"`
	TLSMode     string     `bun:"tls_mode" json:"tls_mode"`
	Username    string     `bun:"username" json:"username"`
	Password    string     `bun:"password" json:"-"`
	Folder      string     `bun:"mailbox" json:"mailbox"`
	PollSeconds int        `bun:"poll_seconds" json:"poll_seconds"`
	LeaseOwner  string     `bun:"lease_owner" json:"-"`
	LeaseUntil  *time.Time `bun:"lease_until" json:"-"`
	NextPollAt  time.Time  `bun:"next_poll_at" json:"-"`
	LastPollAt  *time.Time `bun:"last_poll_at" json:"-"`
	LastOKAt    *time.Time `bun:"last_ok_at" json:"-"`
	LastError   string     `bun:"last_error" json:"-"`
	Failures    int        `bun:"failures" json:"-"`
	Taken       int64      `bun:"taken" json:"-"`
	CreatedAt   time.Time  `bun:"created_at" json:"-"`
	UpdatedAt   time.Time  `bun:"updated_at" json:"-"`

	// Address is the inbound address, filled by the listings.
	Address string `bun:"-" json:"-"`
}

// Poll is how often the mailbox is read.
func (m *Mailbox) Poll() time.Duration { return time.Duration(m.PollSeconds) * time.Second }

// Server is host:port.
func (m *Mailbox) Server() string { return m.Host + ":" + strconv.Itoa(m.Port) }

// ParseMailboxURL reads the mailbox settings from a URL:
// imaps://user@host[:993][/MAILBOX] (implicit TLS), imap://user@host[:143][/MAILBOX]
// (STARTTLS, required) or imap+insecure://user@host:port[/MAILBOX] (no TLS,
// for a server on the same machine). The password, when the URL has one, is
// taken too; the mailbox is INBOX when the path is empty.
func ParseMailboxURL(raw string) (*Mailbox, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return nil, fault.Invalid("url", "the IMAP address is not a URL")
	}
	m := &Mailbox{Host: u.Hostname(), Folder: strings.TrimPrefix(u.Path, "/")}
	switch u.Scheme {
	case "imaps":
		m.TLSMode, m.Port = TLSImplicit, 993
	case "imap":
		m.TLSMode, m.Port = TLSStart, 143
	case "imap+insecure":
		m.TLSMode, m.Port = TLSNone, 143
	default:
		return nil, fault.Invalid("url", "the IMAP address must start with imaps://, imap:// or imap+insecure://")
	}
	if m.Host == "" {
		return nil, fault.Invalid("url", "the IMAP address has no host")
	}
	if p := u.Port(); p != "" {
		if m.Port, err = strconv.Atoi(p); err != nil || m.Port < 1 || m.Port > 65535 {
			return nil, fault.Invalid("url", "the IMAP port must be a number from 1 to 65535")
		}
	}
	if u.User == nil || u.User.Username() == "" {
		return nil, fault.Invalid("url", "the IMAP address needs a user name (imaps://user@host)")
	}
	m.Username = u.User.Username()
	m.Password, _ = u.User.Password()
	if m.Folder == "" {
		m.Folder = "INBOX"
	}
	if strings.ContainsAny(m.Folder+m.Username+m.Password, "\r\n\x00") {
		return nil, fault.Invalid("url", "the IMAP address holds a line break")
	}
	return m, nil
}

// SetMailbox has Tiski read the mailbox m for the unit's inbound address,
// replacing the settings it had; a new password is kept, an empty one
// keeps the old. The operator sets it (actor 0) from the command line.
// Audited, without the password. The mailbox is read next at once.
func SetMailbox(ctx context.Context, tx bun.Tx, actorID, unitID int64, m Mailbox, now time.Time) (*Mailbox, error) {
	addr, err := GetAddress(ctx, tx, unitID)
	if err != nil {
		return nil, err
	}
	if addr == nil {
		return nil, fault.Invalid("unit", "the unit has no inbound address: set one first")
	}
	if m.PollSeconds <= 0 {
		m.PollSeconds = int(DefaultPoll / time.Second)
	}
	if m.Host == "" || m.Username == "" || m.Port < 1 || m.Port > 65535 {
		return nil, fault.Invalid("url", "the mailbox needs a host, a port and a user name")
	}
	if m.TLSMode != TLSImplicit && m.TLSMode != TLSStart && m.TLSMode != TLSNone {
		return nil, fault.Invalid("url", "the TLS mode must be tls, starttls or none")
	}
	now = now.UTC()
	var before *Mailbox
	old := new(Mailbox)
	switch err := tx.NewSelect().Model(old).Where("address_id = ?", addr.ID).Scan(ctx); {
	case err == nil:
		before = old
	case !errors.Is(err, sql.ErrNoRows):
		return nil, fmt.Errorf("mailbox of unit %d: %w", unitID, err)
	}
	row := &Mailbox{AddressID: addr.ID, Host: m.Host, Port: m.Port, TLSMode: m.TLSMode, Username: m.Username,
		Password: m.Password, Folder: m.Folder, PollSeconds: m.PollSeconds, NextPollAt: now, CreatedAt: now, UpdatedAt: now}
	if before != nil {
		row.ID, row.CreatedAt, row.Taken = before.ID, before.CreatedAt, before.Taken
		if row.Password == "" {
			row.Password = before.Password
		}
		_, err = tx.NewUpdate().Model(row).WherePK().Exec(ctx)
	} else {
		_, err = tx.NewInsert().Model(row).Returning("id").Exec(ctx)
	}
	if err != nil {
		return nil, fmt.Errorf("set the mailbox of unit %d: %w", unitID, err)
	}
	row.Address = addr.Address
	return row, audit.Record(ctx, tx, audit.Change{ActorID: actorID, ObjectType: "inbound_mailbox",
		ObjectID: strconv.FormatInt(unitID, 10), Action: "set", Before: before, After: row})
}

// Mailboxes lists every mailbox Tiski reads with its health, by address.
func Mailboxes(ctx context.Context, idb bun.IDB) ([]Mailbox, error) {
	var rows []Mailbox
	if err := idb.NewSelect().Model(&rows).OrderExpr("id").Scan(ctx); err != nil {
		return nil, fmt.Errorf("list the mailboxes: %w", err)
	}
	var addrs []Address
	if err := idb.NewSelect().Model(&addrs).Scan(ctx); err != nil {
		return nil, fmt.Errorf("list the inbound addresses: %w", err)
	}
	byID := map[int64]string{}
	for _, a := range addrs {
		byID[a.ID] = a.Address
	}
	for i := range rows {
		rows[i].Address = byID[rows[i].AddressID]
	}
	return rows, nil
}
