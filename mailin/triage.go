package mailin

import (
	"context"
	"fmt"
	"net/mail"
	"strconv"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/tiski/tiski/audit"
	"github.com/tiski/tiski/catalog"
	"github.com/tiski/tiski/db"
	"github.com/tiski/tiski/fault"
	"github.com/tiski/tiski/policies"
	"github.com/tiski/tiski/requests"
)

// KeepsAddress reports whether actorID reads and sets unitID's inbound
// address: the unit's managers (service:manage, who run its services) and
// admins (mail:ingest, who run e-mail in).
func KeepsAddress(authz *policies.Authorizer, actorID, unitID int64) bool {
	return authz.Can(actorID, unitID, "service", "manage") || authz.Can(actorID, 0, "mail", "ingest")
}

// SetAddress gives a provider unit its inbound address and default
// service, replacing the one it had; its keepers (KeepsAddress) set it.
// Audited.
func SetAddress(ctx context.Context, tx bun.Tx, authz *policies.Authorizer, actorID, unitID int64, address string, serviceID int64, now time.Time) (*Address, error) {
	if !KeepsAddress(authz, actorID, unitID) {
		return nil, fault.Forbidden("only the unit's managers and admins set its inbound address")
	}
	parsed, err := mail.ParseAddress(strings.TrimSpace(address))
	if err != nil || parsed.Name != "" || strings.Contains(parsed.Address, "+") {
		return nil, fault.Invalid("address", "address must be a plain e-mail address such as it-desk@example.org")
	}
	svc, err := catalog.GetService(ctx, tx, serviceID)
	if err != nil || svc.ProviderUnitID != unitID || !svc.Active {
		return nil, fault.Invalid("default_service_id", "the default service must be an active service of the unit")
	}
	var before *Address
	old := new(Address)
	if err := tx.NewSelect().Model(old).Where("provider_unit_id = ?", unitID).Scan(ctx); err == nil {
		before = old
	}
	a := &Address{Address: strings.ToLower(parsed.Address), ProviderUnitID: unitID, DefaultServiceID: serviceID, CreatedAt: now.UTC(), UpdatedAt: now.UTC()}
	if before != nil {
		a.ID, a.CreatedAt = before.ID, before.CreatedAt
		_, err = tx.NewUpdate().Model(a).WherePK().Exec(ctx)
	} else {
		_, err = tx.NewInsert().Model(a).Returning("id").Exec(ctx)
	}
	if err != nil {
		if db.IsUniqueViolation(err) {
			return nil, fault.Conflict("address_taken", "another unit already receives mail at %s", a.Address)
		}
		return nil, fmt.Errorf("set the inbound address of unit %d: %w", unitID, err)
	}
	return a, audit.Record(ctx, tx, audit.Change{ActorID: actorID, ObjectType: "inbound_address", ObjectID: strconv.FormatInt(unitID, 10),
		Action: "set", Before: before, After: a})
}

// AddressOf returns a unit's inbound address for one of its keepers
// (KeepsAddress), nil when it has none; anyone else is forbidden.
func AddressOf(ctx context.Context, idb bun.IDB, authz *policies.Authorizer, actorID, unitID int64) (*Address, error) {
	if !KeepsAddress(authz, actorID, unitID) {
		return nil, fault.Forbidden("only the unit's managers and admins set its inbound address")
	}
	return GetAddress(ctx, idb, unitID)
}

// GetAddress returns a unit's inbound address, or nil when it has none.
func GetAddress(ctx context.Context, idb bun.IDB, unitID int64) (*Address, error) {
	var found []Address
	if err := idb.NewSelect().Model(&found).Where("provider_unit_id = ?", unitID).Scan(ctx); err != nil {
		return nil, fmt.Errorf("inbound address of unit %d: %w", unitID, err)
	}
	if len(found) == 0 {
		return nil, nil
	}
	return &found[0], nil
}

// Quarantine lists, oldest first after afterID, the quarantined messages
// the viewer triages: those of units where they hold mail:triage (the
// provider's agents), and those that reached no unit for holders of
// mail:ingest (admins).
func Quarantine(ctx context.Context, idb bun.IDB, authz *policies.Authorizer, viewerID, afterID int64, limit int) ([]Message, error) {
	unitIDs, orgWide, ingest := triageScope(authz, viewerID)
	if len(unitIDs) == 0 && !orgWide && !ingest {
		return nil, nil
	}
	var rows []Message
	q := idb.NewSelect().Model(&rows).ExcludeColumn("raw").Where("outcome = ?", OutcomeQuarantined).Where("id > ?", afterID)
	q = q.WhereGroup(" AND ", func(q *bun.SelectQuery) *bun.SelectQuery {
		if orgWide {
			return q.Where("1 = 1")
		}
		if len(unitIDs) > 0 {
			q = q.WhereOr("provider_unit_id IN (?)", bun.In(unitIDs))
		}
		if ingest {
			q = q.WhereOr("provider_unit_id IS NULL")
		}
		return q
	})
	if err := q.OrderExpr("id").Limit(int64(limit)).Scan(ctx); err != nil {
		return nil, fmt.Errorf("list the quarantine: %w", err)
	}
	return rows, nil
}

// triageScope is where the viewer triages: the units where they hold
// mail:triage (orgWide: all of them), and with ingest the mail that reached
// no unit.
func triageScope(authz *policies.Authorizer, viewerID int64) (unitIDs []int64, orgWide, ingest bool) {
	unitIDs, orgWide = authz.UnitsWhere(viewerID, "mail", "triage")
	return unitIDs, orgWide, authz.Can(viewerID, 0, "mail", "ingest")
}

// TriagesAny reports whether the viewer triages any quarantined mail at
// all: an agent of some provider unit, or an admin.
func TriagesAny(authz *policies.Authorizer, viewerID int64) bool {
	unitIDs, orgWide, ingest := triageScope(authz, viewerID)
	return orgWide || len(unitIDs) > 0 || ingest
}

// Triages reports whether the viewer may see and decide m.
func Triages(authz *policies.Authorizer, viewerID int64, m *Message) bool {
	if m.ProviderUnitID == nil {
		return authz.Can(viewerID, 0, "mail", "ingest")
	}
	return authz.Can(viewerID, *m.ProviderUnitID, "mail", "triage")
}

// Filing is an agent's decision to file a quarantined message as a
// request for a named person.
type Filing struct {
	RequesterID    int64
	ConsumerUnitID int64  // 0: the requester's one ordering unit
	ServiceID      int64  // 0: the unit's inbound default service
	Title          string // "": the subject
	Description    string // "": the message's text
}

// File turns a quarantined message into a request the agent logs for the
// named person (channel email), and marks it filed. The message's
// attachments that pass the upload checks are stored on the request as the
// agent's uploads; those that do not are named in the audit record of the
// filing. Audited.
func File(ctx context.Context, tx bun.Tx, d Deps, agentID, messageID int64, f Filing, now time.Time) (*requests.Request, error) {
	m, err := decidable(ctx, tx, d.Authz, agentID, messageID)
	if err != nil {
		return nil, err
	}
	if f.ServiceID == 0 && m.ProviderUnitID != nil {
		if a, err := GetAddress(ctx, tx, *m.ProviderUnitID); err != nil {
			return nil, err
		} else if a != nil {
			f.ServiceID = a.DefaultServiceID
		}
	}
	if f.ServiceID == 0 {
		return nil, fault.Invalid("service_id", "service_id is required: the unit has no inbound address")
	}
	if f.RequesterID == 0 {
		return nil, fault.Invalid("requester_id", "requester_id is required")
	}
	if f.ConsumerUnitID == 0 {
		unitID, err := orderingUnit(ctx, tx, f.RequesterID, d.Authz)
		if err != nil {
			return nil, fault.Invalid("consumer_unit_id", "consumer_unit_id is required: the requester orders for no one unit")
		}
		f.ConsumerUnitID = unitID
	}
	if f.Title == "" {
		f.Title = titleOf(&letter{Subject: m.Subject, Text: m.Body})
	}
	if f.Description == "" {
		f.Description = m.Body
	}
	r, err := requests.Submit(ctx, tx, requests.Viewer{UserID: agentID, Authz: d.Authz}, d.Org, requests.Order{
		ServiceID: f.ServiceID, ConsumerUnitID: f.ConsumerUnitID, RequesterID: f.RequesterID,
		Title: f.Title, Description: f.Description, Channel: "email"}, now)
	if err != nil {
		return nil, err
	}
	note, err := fileAttachments(ctx, tx, d, requests.Viewer{UserID: agentID, Authz: d.Authz}, r.ID, m, now)
	if err != nil {
		return nil, err
	}
	return r, decide(ctx, tx, agentID, m, OutcomeFiled, &r.ID, note, now)
}

// Discard closes a quarantined message without a request; the note says
// why. Audited.
func Discard(ctx context.Context, tx bun.Tx, authz *policies.Authorizer, agentID, messageID int64, note string, now time.Time) error {
	m, err := decidable(ctx, tx, authz, agentID, messageID)
	if err != nil {
		return err
	}
	note = strings.TrimSpace(note)
	if err := fault.Text("note", note, 0, 1000, false); err != nil {
		return err
	}
	return decide(ctx, tx, agentID, m, OutcomeDiscarded, nil, note, now)
}

func decidable(ctx context.Context, tx bun.Tx, authz *policies.Authorizer, agentID, messageID int64) (*Message, error) {
	m, err := GetMessage(ctx, tx, messageID)
	if err != nil {
		return nil, err
	}
	if !Triages(authz, agentID, m) {
		return nil, fault.NotFound("message")
	}
	if m.Outcome != OutcomeQuarantined {
		return nil, fault.Conflict("message_decided", "the message is already %s", m.Outcome)
	}
	return m, nil
}

func decide(ctx context.Context, tx bun.Tx, agentID int64, m *Message, outcome Outcome, requestID *int64, note string, now time.Time) error {
	res, err := tx.NewUpdate().Model((*Message)(nil)).Set("outcome = ?", outcome).Set("request_id = ?", requestID).
		Set("decided_by = ?", agentID).Set("decided_at = ?", now.UTC()).
		Where("id = ? AND outcome = ?", m.ID, OutcomeQuarantined).Exec(ctx)
	if err != nil {
		return fmt.Errorf("decide message %d: %w", m.ID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fault.Conflict("message_decided", "the message was decided meanwhile")
	}
	type summary struct {
		Outcome   Outcome `json:"outcome"`
		Reason    Reason  `json:"reason"`
		Sender    string  `json:"sender"`
		Subject   string  `json:"subject"`
		RequestID *int64  `json:"request_id,omitempty"`
		Note      string  `json:"note,omitempty"`
	}
	return audit.Record(ctx, tx, audit.Change{ActorID: agentID, ObjectType: "inbound_message", ObjectID: strconv.FormatInt(m.ID, 10),
		Action: string(outcome), Before: summary{Outcome: m.Outcome, Reason: m.Reason, Sender: m.Sender, Subject: m.Subject},
		After: summary{Outcome: outcome, Reason: m.Reason, Sender: m.Sender, Subject: m.Subject, RequestID: requestID, Note: note}})
}
