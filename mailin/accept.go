package mailin

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/mail"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/uptrace/bun"

	"github.com/tiski/tiski/audit"
	"github.com/tiski/tiski/db"
	"github.com/tiski/tiski/fault"
	tiskimail "github.com/tiski/tiski/mail"
	"github.com/tiski/tiski/policies"
	"github.com/tiski/tiski/requests"
	"github.com/tiski/tiski/units"
)

// DefaultMaxBytes is the largest message taken: larger ones (a 50 MB
// attachment) are quarantined as oversized with their header only.
const DefaultMaxBytes = 10 << 20

// headKeep is how much of an oversized message is kept for the agent.
const headKeep = 64 << 10

// Deps are what Accept works with.
type Deps struct {
	DB       *db.DB
	Authz    *policies.Authorizer
	Org      units.Organisation
	MaxBytes int64 // 0: DefaultMaxBytes
	// ArchiveLimit is how far a ZIP attachment may expand; 0: DefaultArchiveLimit.
	ArchiveLimit int64
}

func (d Deps) maxBytes() int64 {
	if d.MaxBytes > 0 {
		return d.MaxBytes
	}
	return DefaultMaxBytes
}

// Accept takes one raw RFC 5322 message in, exactly once: a new message from
// a known user with one unit files a request at the inbound address's
// default service, a reply to a request becomes a public comment by its
// sender, and anything else is quarantined with its reason. A message
// received before (same Message-ID, or the same bytes when it has none) is
// returned as it was, with Duplicate set, and changes nothing. Accept reads
// at most d.MaxBytes+1 bytes of raw; the caller drains the rest.
func Accept(ctx context.Context, d Deps, raw io.Reader, now time.Time) (*Message, error) {
	now = now.UTC()
	limit := d.maxBytes()
	buf, err := io.ReadAll(io.LimitReader(raw, limit+1))
	if err != nil {
		return nil, fmt.Errorf("read the message: %w", err)
	}
	oversized := int64(len(buf)) > limit
	key := messageKey(buf)
	if m, err := byKey(ctx, d.DB, key); err != nil || m != nil {
		return duplicate(m), err
	}
	base := &Message{MessageKey: key, ReceivedAt: now, SizeBytes: int64(len(buf)), Raw: buf, Outcome: OutcomeQuarantined}
	if oversized {
		base.Raw = buf[:min(len(buf), headKeep)] // a limit below headKeep keeps what was read
		if h, err := readHeader(buf); err == nil {
			base.Sender, _ = words.DecodeHeader(h.Get("From"))
			base.Subject, _ = words.DecodeHeader(h.Get("Subject"))
			if err := d.placeByHeader(ctx, base, h); err != nil {
				return nil, err
			}
		}
		return quarantine(ctx, d, base, refuse(ReasonOversized, "the message is larger than %d bytes", limit))
	}
	l, rej := parse(buf)
	if rej != nil {
		base.Body = clip(cleanText(string(bodyOf(buf))), maxBodyText)
		if h, err := readHeader(buf); err == nil {
			base.Sender = clip(cleanText(h.Get("From")), 300)
			base.Subject = clip(cleanText(h.Get("Subject")), 300)
			if err := d.placeByHeader(ctx, base, h); err != nil {
				return nil, err
			}
		}
		return quarantine(ctx, d, base, rej)
	}
	base.Sender, base.Subject, base.Body = l.From.Address, clip(l.Subject, 300), clip(l.Text, maxBodyText)
	m, err := take(ctx, d, base, l, now)
	var r *reject
	if errors.As(err, &r) {
		return quarantine(ctx, d, base, r)
	}
	if f, ok := fault.As(err); ok {
		return quarantine(ctx, d, base, refuse(ReasonRefused, "%s", f.Message))
	}
	if err != nil && db.IsUniqueViolation(err) {
		m, err := byKey(ctx, d.DB, key)
		return duplicate(m), err
	}
	return m, err
}

func duplicate(m *Message) *Message {
	if m != nil {
		m.Duplicate = true
	}
	return m
}

// messageKey is the Message-ID, or a hash of the bytes when there is none.
func messageKey(buf []byte) string {
	if h, err := readHeader(buf); err == nil {
		if id := strings.TrimSpace(h.Get("Message-Id")); id != "" && utf8.ValidString(id) && len(id) <= 500 {
			return "mid:" + strings.Trim(id, "<>")
		}
	}
	sum := sha256.Sum256(buf)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// take files the letter as a comment or a request, in one transaction with
// its message row, or returns the reject that sends it to the quarantine.
func take(ctx context.Context, d Deps, m *Message, l *letter, now time.Time) (*Message, error) {
	err := audit.InTx(ctx, d.DB, func(tx bun.Tx) error {
		// The address decides whose quarantine the message waits in, even
		// when its sender is unknown.
		addr, err := addressFor(ctx, tx, l.Recipients)
		if err != nil {
			return err
		}
		if addr != nil {
			m.ProviderUnitID = &addr.ProviderUnitID
		}
		sender, err := units.GetUserByEmail(ctx, tx, l.From.Address)
		if err != nil || sender.Disabled {
			if err != nil && !fault.Is(err, fault.KindNotFound) {
				return err
			}
			return refuse(ReasonUnknownSender, "no user has the address %s", l.From.Address)
		}
		m.SenderID = &sender.ID
		v := requests.Viewer{UserID: sender.ID, Authz: d.Authz}
		requestID, err := replyTo(ctx, tx, l)
		if err != nil {
			return err
		}
		if requestID != 0 {
			return comment(ctx, tx, d, v, m, l, requestID, now)
		}
		if addr == nil {
			return refuse(ReasonNoAddress, "no inbound address among the recipients")
		}
		unitID, err := orderingUnit(ctx, tx, sender.ID, d.Authz)
		if err != nil {
			return err
		}
		title, description := titleOf(l), strings.TrimSpace(l.Text)
		if title == "" {
			return refuse(ReasonEmpty, "the message has no subject and no text")
		}
		description = clip(description, maxBodyText)
		r, err := requests.Submit(ctx, tx, v, d.Org, requests.Order{ServiceID: addr.DefaultServiceID,
			ConsumerUnitID: unitID, Title: title, Description: description, Channel: "email"}, now)
		if err != nil {
			return err
		}
		if err := attach(ctx, tx, d, v, r.ID, l.Attachments, now); err != nil {
			return err
		}
		m.Outcome, m.Reason, m.RequestID = OutcomeRequest, "", &r.ID
		_, err = tx.NewInsert().Model(m).Returning("id").Exec(ctx)
		return err
	})
	if err != nil {
		m.ID, m.Outcome, m.RequestID, m.CommentID = 0, OutcomeQuarantined, nil, nil
		return nil, err
	}
	return m, nil
}

// comment posts a reply as a public comment by its sender.
func comment(ctx context.Context, tx bun.Tx, d Deps, v requests.Viewer, m *Message, l *letter, requestID int64, now time.Time) error {
	r, err := requests.Get(ctx, tx, v, requestID)
	if err != nil {
		if fault.Is(err, fault.KindNotFound) {
			return refuse(ReasonNotAParty, "the sender may not see request %s", requests.Number(requestID))
		}
		return err
	}
	m.ProviderUnitID = &r.ProviderUnitID
	if err := v.MayPost(r, false); err != nil {
		return refuse(ReasonNotAParty, "the sender may not comment on request %s", r.Number())
	}
	body := clip(cutQuoted(l.Text), maxBodyText)
	if body == "" {
		return refuse(ReasonEmpty, "the reply to %s has no text above the quoted history", r.Number())
	}
	c, err := requests.AddComment(ctx, tx, v, r.ID, body+attachedNote(l.Attachments), false, now)
	if err != nil {
		return err
	}
	if err := attach(ctx, tx, d, v, r.ID, l.Attachments, now); err != nil {
		return err
	}
	m.Outcome, m.RequestID, m.CommentID = OutcomeComment, &r.ID, &c.ID
	_, err = tx.NewInsert().Model(m).Returning("id").Exec(ctx)
	return err
}

var (
	threadID      = regexp.MustCompile(`^tiski\.request\.(\d+)@`)
	numberSubject = regexp.MustCompile(`\bREQ-(\d{1,18})\b`)
)

// replyTo finds the request a message answers: the thread in its
// references, a signed reply address among its recipients, or the request
// number in its subject. 0 means it answers none.
func replyTo(ctx context.Context, idb bun.IDB, l *letter) (int64, error) {
	for _, ref := range l.References {
		if m := threadID.FindStringSubmatch(ref); m != nil {
			if id, err := strconv.ParseInt(m[1], 10, 64); err == nil && id > 0 {
				return id, nil
			}
		}
	}
	key, err := tiskimail.ReplyKey(ctx, idb)
	if err != nil {
		return 0, err
	}
	for _, addr := range l.Recipients {
		if id, ok := tiskimail.ParseReplyAddress(addr, key); ok {
			return id, nil
		}
	}
	if m := numberSubject.FindStringSubmatch(l.Subject); m != nil {
		if id, err := strconv.ParseInt(m[1], 10, 64); err == nil && id > 0 {
			return id, nil
		}
	}
	return 0, nil
}

// orderingUnit is the one unit the sender orders for (a member or manager
// grant); none or several send the message to the quarantine, where an
// agent files it for the right unit.
func orderingUnit(ctx context.Context, idb bun.IDB, userID int64, authz *policies.Authorizer) (int64, error) {
	roles, err := units.UnitRolesOf(ctx, idb, userID)
	if err != nil {
		return 0, err
	}
	var found []int64
	for _, g := range roles {
		if authz.Can(userID, g.UnitID, "request", "create") && (len(found) == 0 || found[len(found)-1] != g.UnitID) {
			found = append(found, g.UnitID)
		}
	}
	switch len(found) {
	case 0:
		return 0, refuse(ReasonNoUnit, "the sender orders for no unit")
	case 1:
		return found[0], nil
	}
	return 0, refuse(ReasonSeveralUnits, "the sender orders for %d units", len(found))
}

// titleOf is the subject, or the first line of the text when there is none.
func titleOf(l *letter) string {
	title := l.Subject
	if title == "" {
		for _, line := range strings.Split(l.Text, "\n") {
			if title = strings.TrimSpace(line); title != "" {
				break
			}
		}
	}
	return clip(strings.Join(strings.Fields(title), " "), 200)
}

// attachedNote names, under a reply, the files it brought, which are
// stored on the request.
func attachedNote(files []file) string {
	if len(files) == 0 {
		return ""
	}
	names := make([]string, len(files))
	for i, f := range files {
		names[i] = f.Name
	}
	return "\n\n(attached: " + strings.Join(names, ", ") + ")"
}

func clip(s string, runes int) string {
	if utf8.RuneCountInString(s) <= runes {
		return s
	}
	return string([]rune(s)[:runes])
}

func bodyOf(buf []byte) []byte {
	if i := bytes.Index(buf, []byte("\r\n\r\n")); i >= 0 {
		return buf[i+4:]
	}
	if i := bytes.Index(buf, []byte("\n\n")); i >= 0 {
		return buf[i+2:]
	}
	return buf
}

func untagged(addr string) string {
	local, domain, ok := strings.Cut(addr, "@")
	if !ok {
		return addr
	}
	local, _, _ = strings.Cut(local, "+")
	return local + "@" + domain
}

// quarantine stores the message with its reason; a concurrent delivery of
// the same message that stored it first is returned as a duplicate.
func quarantine(ctx context.Context, d Deps, m *Message, r *reject) (*Message, error) {
	m.Outcome, m.Reason, m.Detail = OutcomeQuarantined, r.reason, clip(cleanText(r.detail), 1000)
	m.Sender, m.Subject = clip(cleanText(m.Sender), 300), clip(cleanText(strings.ReplaceAll(m.Subject, "\n", " ")), 300)
	err := d.DB.InTx(ctx, func(tx bun.Tx) error {
		_, err := tx.NewInsert().Model(m).Returning("id").Exec(ctx)
		return err
	})
	if err != nil && db.IsUniqueViolation(err) {
		found, err := byKey(ctx, d.DB, m.MessageKey)
		return duplicate(found), err
	}
	if err != nil {
		return nil, fmt.Errorf("quarantine message: %w", err)
	}
	return m, nil
}

// placeByHeader puts a message Tiski cannot read whole in the quarantine of
// the unit whose inbound address its header names, when it names one.
func (d Deps) placeByHeader(ctx context.Context, m *Message, h mail.Header) error {
	var recipients []string
	for _, key := range []string{"To", "Cc", "Delivered-To", "X-Original-To"} {
		list, _ := h.AddressList(key)
		for _, a := range list {
			recipients = append(recipients, strings.ToLower(a.Address))
		}
	}
	addr, err := addressFor(ctx, d.DB, recipients)
	if addr != nil {
		m.ProviderUnitID = &addr.ProviderUnitID
	}
	return err
}
