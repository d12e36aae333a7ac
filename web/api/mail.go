package api

import (
	"errors"
	"io"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/uptrace/bun"

	"github.com/tiski/tiski/audit"
	"github.com/tiski/tiski/fault"
	"github.com/tiski/tiski/mailin"
	"github.com/tiski/tiski/web/httpx"
)

// inboundJSON is what became of a message a relay posted.
type inboundJSON struct {
	ID        string  `json:"id"`
	Outcome   string  `json:"outcome"`
	Reason    string  `json:"reason,omitempty"`
	Detail    string  `json:"detail,omitempty"`
	RequestID *string `json:"request_id"`
	CommentID *string `json:"comment_id"`
}

// inboundMail handles POST /mail/inbound: a relay's raw RFC 5322 message
// (Content-Type message/rfc822), from an API token whose user holds
// mail:ingest. 202 with the stored message and what became of it; the
// same message again answers the same and changes nothing.
func (s *Handlers) inboundMail(c echo.Context) error {
	if httpx.CurrentPrincipal(c).CSRFToken != "" {
		return fault.Forbidden("e-mail is taken in from a relay's API token only")
	}
	mediaType, _, err := mime.ParseMediaType(c.Request().Header.Get(echo.HeaderContentType))
	if err != nil || mediaType != "message/rfc822" {
		return echo.NewHTTPError(http.StatusUnsupportedMediaType, "send the raw message as message/rfc822")
	}
	body := c.Request().Body
	m, err := mailin.Accept(c.Request().Context(), s.MailDeps(), body, time.Now())
	if err != nil {
		var he *echo.HTTPError
		if errors.As(err, &he) {
			return he // the body limit was exceeded
		}
		return err
	}
	_, _ = io.Copy(io.Discard, body) // what lies past the message limit
	out := inboundJSON{ID: httpx.FormatID(m.ID), Outcome: string(m.Outcome), RequestID: optionalID(m.RequestID), CommentID: optionalID(m.CommentID)}
	if m.Outcome == mailin.OutcomeQuarantined || m.Reason != "" {
		out.Reason, out.Detail = string(m.Reason), m.Detail
	}
	return c.JSON(http.StatusAccepted, out)
}

type quarantinedJSON struct {
	ID             string    `json:"id"`
	ReceivedAt     time.Time `json:"received_at"`
	Sender         string    `json:"sender"`
	Subject        string    `json:"subject"`
	Body           string    `json:"body"`
	SizeBytes      int64     `json:"size_bytes"`
	ProviderUnitID *string   `json:"provider_unit_id"`
	SenderID       *string   `json:"sender_id"`
	Reason         string    `json:"reason"`
	Detail         string    `json:"detail"`
}

func toQuarantinedJSON(m *mailin.Message) quarantinedJSON {
	return quarantinedJSON{ID: httpx.FormatID(m.ID), ReceivedAt: m.ReceivedAt.UTC(), Sender: m.Sender, Subject: m.Subject, Body: m.Body,
		SizeBytes: m.SizeBytes, ProviderUnitID: optionalID(m.ProviderUnitID), SenderID: optionalID(m.SenderID),
		Reason: string(m.Reason), Detail: m.Detail}
}

// listQuarantine handles GET /mail/quarantine: the messages waiting for
// the caller, oldest first: their provider units' (agents), those that
// reached no unit (admins).
func (s *Handlers) listQuarantine(c echo.Context) error {
	p, err := s.ReadPage(c, "quarantine")
	if err != nil {
		return err
	}
	rows, err := mailin.Quarantine(c.Request().Context(), s.DB, s.Authz, httpx.CurrentPrincipal(c).ID(), p.AfterID, p.Limit+1)
	if err != nil {
		return err
	}
	rows, next := httpx.TrimPage(s.Kit, "quarantine", p, rows, func(m *mailin.Message) int64 { return m.ID })
	return c.JSON(http.StatusOK, httpx.ListOf(rows, next, toQuarantinedJSON))
}

type fileBody struct {
	RequesterID    string `json:"requester_id"`
	ConsumerUnitID string `json:"consumer_unit_id"`
	ServiceID      string `json:"service_id"`
	Title          string `json:"title"`
	Description    string `json:"description"`
}

// fileQuarantined handles POST /mail/quarantine/{id}/file: the agent files
// the message as a request for the person named; 201 with the request.
func (s *Handlers) fileQuarantined(c echo.Context) error {
	id, err := httpx.PathID(c, "id", "message")
	if err != nil {
		return err
	}
	var b fileBody
	if err := httpx.DecodeJSON(c, &b); err != nil {
		return err
	}
	f := mailin.Filing{Title: strings.TrimSpace(b.Title), Description: b.Description}
	if f.RequesterID, err = httpx.ParseID("requester_id", b.RequesterID); err != nil {
		return err
	}
	for _, opt := range []struct {
		field, raw string
		into       *int64
	}{{"consumer_unit_id", b.ConsumerUnitID, &f.ConsumerUnitID}, {"service_id", b.ServiceID, &f.ServiceID}} {
		if opt.raw != "" {
			if *opt.into, err = httpx.ParseID(opt.field, opt.raw); err != nil {
				return err
			}
		}
	}
	ctx, now := c.Request().Context(), time.Now()
	deps := s.MailDeps()
	var out requestJSON
	err = audit.InTx(ctx, s.DB, func(tx bun.Tx) error {
		r, err := mailin.File(ctx, tx, deps, httpx.CurrentPrincipal(c).ID(), id, f, now)
		if err == nil {
			out = toRequestJSON(s.Viewer(c), r, now)
		}
		return err
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, out)
}

type discardBody struct {
	Note string `json:"note"`
}

// discardQuarantined handles POST /mail/quarantine/{id}/discard: the
// message is closed without a request, the note saying why (audited).
func (s *Handlers) discardQuarantined(c echo.Context) error {
	id, err := httpx.PathID(c, "id", "message")
	if err != nil {
		return err
	}
	var b discardBody
	if err := httpx.DecodeJSON(c, &b); err != nil {
		return err
	}
	ctx := c.Request().Context()
	err = s.DB.InTx(ctx, func(tx bun.Tx) error {
		return mailin.Discard(ctx, tx, s.Authz, httpx.CurrentPrincipal(c).ID(), id, b.Note, time.Now())
	})
	if err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

type inboundAddressJSON struct {
	UnitID           string    `json:"unit_id"`
	Address          string    `json:"address"`
	DefaultServiceID string    `json:"default_service_id"`
	UpdatedAt        time.Time `json:"updated_at"`
}

func toInboundAddressJSON(a *mailin.Address) inboundAddressJSON {
	return inboundAddressJSON{UnitID: httpx.FormatID(a.ProviderUnitID), Address: a.Address,
		DefaultServiceID: httpx.FormatID(a.DefaultServiceID), UpdatedAt: a.UpdatedAt.UTC()}
}

// getInboundAddress handles GET /units/{id}/inbound-address: 404 when the
// unit has none.
func (s *Handlers) getInboundAddress(c echo.Context) error {
	unitID, err := httpx.PathID(c, "id", "unit")
	if err != nil {
		return err
	}
	a, err := mailin.AddressOf(c.Request().Context(), s.DB, s.Authz, httpx.CurrentPrincipal(c).ID(), unitID)
	if err != nil {
		return err
	}
	if a == nil {
		return fault.NotFound("inbound address")
	}
	return c.JSON(http.StatusOK, toInboundAddressJSON(a))
}

type inboundAddressBody struct {
	Address          string `json:"address"`
	DefaultServiceID string `json:"default_service_id"`
}

// putInboundAddress handles PUT /units/{id}/inbound-address.
func (s *Handlers) putInboundAddress(c echo.Context) error {
	unitID, err := httpx.PathID(c, "id", "unit")
	if err != nil {
		return err
	}
	var b inboundAddressBody
	if err := httpx.DecodeJSON(c, &b); err != nil {
		return err
	}
	serviceID, err := httpx.ParseID("default_service_id", b.DefaultServiceID)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	var a *mailin.Address
	err = s.DB.InTx(ctx, func(tx bun.Tx) (err error) {
		a, err = mailin.SetAddress(ctx, tx, s.Authz, httpx.CurrentPrincipal(c).ID(), unitID, b.Address, serviceID, time.Now())
		return err
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toInboundAddressJSON(a))
}
