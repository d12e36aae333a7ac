package mailin

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/tiski/tiski/fault"
)

// Outcome is what became of a message.
type Outcome string

// The outcomes of a message.
const (
	OutcomeRequest     Outcome = "request"     // it filed a request
	OutcomeComment     Outcome = "comment"     // it became a public comment
	OutcomeQuarantined Outcome = "quarantined" // it waits for an agent
	OutcomeFiled       Outcome = "filed"       // an agent filed it as a request
	OutcomeDiscarded   Outcome = "discarded"   // an agent discarded it
)

// Message is one message received, whatever became of it.
type Message struct {
	bun.BaseModel `bun:"table:inbound_messages"`

	ID             int64      `bun:"id,pk,autoincrement"`
	MessageKey     string     `bun:"message_key"`
	ReceivedAt     time.Time  `bun:"received_at"`
	Sender         string     `bun:"sender"`
	Subject        string     `bun:"subject"`
	Body           string     `bun:"body"`
	SizeBytes      int64      `bun:"size_bytes"`
	Raw            []byte     `bun:"raw" json:"-"`
	ProviderUnitID *int64     `bun:"provider_unit_id"`
	SenderID       *int64     `bun:"sender_id"`
	Outcome        Outcome    `bun:"outcome"`
	Reason         Reason     `bun:"reason"`
	Detail         string     `bun:"detail"`
	RequestID      *int64     `bun:"request_id"`
	CommentID      *int64     `bun:"comment_id"`
	DecidedBy      *int64     `bun:"decided_by"`
	DecidedAt      *time.Time `bun:"decided_at"`

	// Duplicate is set when Accept found the message already received.
	Duplicate bool `bun:"-"`
}

// Address is a provider unit's inbound address and the service a new
// message to it is filed at.
type Address struct {
	bun.BaseModel `bun:"table:inbound_addresses"`

	ID               int64     `bun:"id,pk,autoincrement"`
	Address          string    `bun:"address"`
	ProviderUnitID   int64     `bun:"provider_unit_id"`
	DefaultServiceID int64     `bun:"default_service_id"`
	CreatedAt        time.Time `bun:"created_at"`
	UpdatedAt        time.Time `bun:"updated_at"`
}

func byKey(ctx context.Context, idb bun.IDB, key string) (*Message, error) {
	m := new(Message)
	if err := idb.NewSelect().Model(m).Where("message_key = ?", key).Scan(ctx); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, nil
		}
		return nil, fmt.Errorf("find message %q: %w", key, err)
	}
	return m, nil
}

// GetMessage returns one received message.
func GetMessage(ctx context.Context, idb bun.IDB, id int64) (*Message, error) {
	m := new(Message)
	if err := idb.NewSelect().Model(m).Where("id = ?", id).Scan(ctx); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, fault.NotFound("message")
		}
		return nil, fmt.Errorf("get message %d: %w", id, err)
	}
	return m, nil
}

// addressFor finds the inbound address among recipients, a plus tag
// (desk+anything@…) ignored.
func addressFor(ctx context.Context, idb bun.IDB, recipients []string) (*Address, error) {
	if len(recipients) == 0 {
		return nil, nil
	}
	keys := append([]string(nil), recipients...)
	for _, r := range recipients {
		keys = append(keys, untagged(r))
	}
	var found []Address
	if err := idb.NewSelect().Model(&found).Where("address IN (?)", bun.In(keys)).OrderExpr("id").Limit(1).Scan(ctx); err != nil {
		return nil, fmt.Errorf("find the inbound address: %w", err)
	}
	if len(found) == 0 {
		return nil, nil
	}
	return &found[0], nil
}
