package api

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/uptrace/bun"

	"github.com/tiski/tiski/fault"
	"github.com/tiski/tiski/money"
	"github.com/tiski/tiski/requests"
	"github.com/tiski/tiski/web/httpx"
)

type requestSLAJSON struct {
	FirstResponseDueAt *time.Time `json:"first_response_due_at"`
	ResolutionDueAt    *time.Time `json:"resolution_due_at"`
	AtRisk             bool       `json:"at_risk"`
	Breached           bool       `json:"breached"`
	Paused             bool       `json:"paused"`
}

type requestJSON struct {
	ID             string            `json:"id"`
	Number         string            `json:"number"`
	ServiceID      string            `json:"service_id"`
	ConsumerUnitID string            `json:"consumer_unit_id"`
	ProviderUnitID string            `json:"provider_unit_id"`
	RequesterID    string            `json:"requester_id"`
	CreatedBy      string            `json:"created_by"`
	AssigneeID     *string           `json:"assignee_id"`
	Title          string            `json:"title"`
	Description    string            `json:"description"`
	Quantity       string            `json:"quantity"`
	Fields         map[string]string `json:"fields"`
	Channel        string            `json:"channel"`
	Status         string            `json:"status"`
	Version        int64             `json:"version"`
	PricingModel   string            `json:"pricing_model"`
	RateID         string            `json:"rate_id"`
	UnitPrice      money.Money       `json:"unit_price"`
	Estimate       money.Money       `json:"estimate"`
	NeedsApproval  bool              `json:"needs_approval"`
	SLA            requestSLAJSON    `json:"sla"`
	AllowedActions []string          `json:"allowed_actions"`
	CreatedAt      time.Time         `json:"created_at"`
	UpdatedAt      time.Time         `json:"updated_at"`
	ResolvedAt     *time.Time        `json:"resolved_at"`
	ClosedAt       *time.Time        `json:"closed_at"`
	// Overrun is what the fulfilment costs beyond the estimate's tolerance
	// and whether a manager of the ordering unit approved it (present while
	// the request is worked and its time or quantity exceeds the estimate).
	Overrun map[string]any `json:"overrun,omitempty"`
}

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

func toRequestJSON(v requests.Viewer, r *requests.Request, now time.Time) requestJSON {
	j := requestJSON{ID: httpx.FormatID(r.ID), Number: r.Number(), ServiceID: httpx.FormatID(r.ServiceID),
		ConsumerUnitID: httpx.FormatID(r.ConsumerUnitID), ProviderUnitID: httpx.FormatID(r.ProviderUnitID),
		RequesterID: httpx.FormatID(r.RequesterID), CreatedBy: httpx.FormatID(r.CreatedBy), Title: r.Title, Description: r.Description,
		Quantity: r.Quantity, Fields: map[string]string{}, Channel: r.Channel, Status: string(r.Status), Version: r.Version,
		PricingModel: r.PricingModel, RateID: httpx.FormatID(r.RateID),
		UnitPrice: money.Money{Minor: r.UnitPriceMinor, Currency: r.Currency},
		Estimate:  money.Money{Minor: r.EstimateMinor, Currency: r.Currency}, NeedsApproval: r.NeedsApproval,
		SLA: requestSLAJSON{FirstResponseDueAt: utcPtr(r.FirstResponseDueAt), ResolutionDueAt: utcPtr(r.ResolutionDueAt),
			AtRisk: r.AtRisk(), Breached: r.Breached(), Paused: r.Status == requests.WaitingOnCustomer},
		AllowedActions: v.AllowedActions(r, now),
		CreatedAt:      r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(), ResolvedAt: utcPtr(r.ResolvedAt), ClosedAt: utcPtr(r.ClosedAt)}
	if j.AllowedActions == nil {
		j.AllowedActions = []string{}
	}
	if r.Overrun != nil && r.Overrun.Status() != "" {
		j.Overrun = r.Overrun.Details()
	}
	if r.AssigneeID != nil {
		a := httpx.FormatID(*r.AssigneeID)
		j.AssigneeID = &a
	}
	_ = json.Unmarshal([]byte(r.FieldsJSON), &j.Fields)
	return j
}

type requestBody struct {
	ServiceID      string                     `json:"service_id"`
	ConsumerUnitID string                     `json:"consumer_unit_id"`
	RequesterID    string                     `json:"requester_id"`
	Title          string                     `json:"title"`
	Description    string                     `json:"description"`
	Quantity       json.Number                `json:"quantity"`
	Fields         map[string]json.RawMessage `json:"fields"`
	Channel        string                     `json:"channel"`
}

// createRequest handles POST /requests. With an Idempotency-Key header the
// first answer is stored with the request in one transaction and replayed
// for the same key and body; a different body is refused.
func (s *Handlers) createRequest(c echo.Context) error {
	raw, err := io.ReadAll(c.Request().Body)
	if err != nil {
		return err
	}
	c.Request().Body = io.NopCloser(bytes.NewReader(raw))
	var b requestBody
	if err := httpx.DecodeJSON(c, &b); err != nil {
		return err
	}
	o := requests.Order{Title: b.Title, Description: b.Description, Quantity: b.Quantity.String(), Fields: b.Fields, Channel: b.Channel}
	if o.ServiceID, err = httpx.ParseID("service_id", b.ServiceID); err != nil {
		return err
	}
	if o.ConsumerUnitID, err = httpx.ParseID("consumer_unit_id", b.ConsumerUnitID); err != nil {
		return err
	}
	if b.RequesterID != "" {
		if o.RequesterID, err = httpx.ParseID("requester_id", b.RequesterID); err != nil {
			return err
		}
	}
	if o.Channel == "" && httpx.CurrentPrincipal(c).CSRFToken == "" {
		o.Channel = "api"
	}
	key := c.Request().Header.Get("Idempotency-Key")
	sum := sha256.Sum256(raw)
	v, now, ctx := s.Viewer(c), time.Now().UTC(), c.Request().Context()
	var status int
	var body []byte
	err = s.DB.InTx(ctx, func(tx bun.Tx) error {
		if key != "" {
			prior, err := requests.ClaimKey(ctx, tx, v.UserID, key, hex.EncodeToString(sum[:]), now)
			if err != nil || prior != nil {
				if prior != nil {
					status, body = prior.Status, prior.Body
				}
				return err
			}
		}
		r, err := requests.Submit(ctx, tx, v, *s.Org, o, now)
		if err != nil {
			return err
		}
		status = http.StatusCreated
		if body, err = json.Marshal(toRequestJSON(v, r, now)); err != nil {
			return err
		}
		if key != "" {
			return requests.StoreResponse(ctx, tx, v.UserID, key, requests.StoredResponse{Status: status, Body: body})
		}
		return nil
	})
	if err != nil {
		return err
	}
	return c.JSONBlob(status, body)
}

func (s *Handlers) getRequest(c echo.Context) error {
	id, err := httpx.PathID(c, "id", "request")
	if err != nil {
		return err
	}
	v := s.Viewer(c)
	r, err := requests.Get(c.Request().Context(), s.DB, v, id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toRequestJSON(v, r, time.Now()))
}

// listRequests handles GET /requests with filters, a sort from an allowlist
// and keyset pagination.
func (s *Handlers) listRequests(c echo.Context) error {
	v := s.Viewer(c)
	f := requests.Filter{Sort: c.QueryParam("sort"), Query: c.QueryParam("q")}
	if f.Sort == "" {
		f.Sort = requests.DefaultSort
	}
	if _, ok := requests.Sorts[f.Sort]; !ok {
		return fault.Invalid("sort", "sort must be one of created, -created, updated, -updated")
	}
	if err := fault.Text("q", f.Query, 0, 200, false); err != nil {
		return err
	}
	p, cur, err := s.ReadCursorPage(c, httpx.RequestKind(f.Sort))
	if err != nil {
		return err
	}
	f.Limit, f.After = p.Limit+1, httpx.RequestsAfter(cur)
	if raw := c.QueryParam("status"); raw != "" {
		for _, st := range strings.Split(raw, ",") {
			status := requests.Status(st)
			if !httpx.KnownStatus(status) {
				return fault.Invalid("status", "unknown status %q", st)
			}
			f.Statuses = append(f.Statuses, status)
		}
	}
	ids := []struct {
		name string
		dst  *int64
	}{{"consumer_unit_id", &f.ConsumerUnitID}, {"provider_unit_id", &f.ProviderUnitID}, {"service_id", &f.ServiceID}}
	for _, id := range ids {
		if raw := c.QueryParam(id.name); raw != "" {
			if *id.dst, err = httpx.ParseID(id.name, raw); err != nil {
				return err
			}
		}
	}
	switch f.SLA = c.QueryParam("sla"); f.SLA {
	case "", "at_risk", "breached":
	default:
		return fault.Invalid("sla", "sla must be at_risk or breached")
	}
	switch raw := c.QueryParam("assignee_id"); raw {
	case "":
	case "none":
		f.Unassigned = true
	case "me":
		f.AssigneeID = v.UserID
	default:
		if f.AssigneeID, err = httpx.ParseID("assignee_id", raw); err != nil {
			return err
		}
	}
	switch raw := c.QueryParam("requester_id"); raw {
	case "":
	case "me":
		f.RequesterID = v.UserID
	default:
		if f.RequesterID, err = httpx.ParseID("requester_id", raw); err != nil {
			return err
		}
	}
	rows, err := requests.List(c.Request().Context(), s.DB, v, f)
	if err != nil {
		return err
	}
	out := httpx.List[requestJSON]{Items: []requestJSON{}}
	if len(rows) > p.Limit {
		rows = rows[:p.Limit]
		out.NextCursor = s.SealRequestCursor(&rows[p.Limit-1], f.Sort)
	}
	now := time.Now()
	for i := range rows {
		out.Items = append(out.Items, toRequestJSON(v, &rows[i], now))
	}
	return c.JSON(http.StatusOK, out)
}

type actionBody struct {
	Action     string  `json:"action"`
	Version    *int64  `json:"version"`
	Note       string  `json:"note"`
	AssigneeID *string `json:"assignee_id"`
}

// actOnRequest handles POST /requests/{id}/actions.
func (s *Handlers) actOnRequest(c echo.Context) error {
	id, err := httpx.PathID(c, "id", "request")
	if err != nil {
		return err
	}
	var b actionBody
	if err := httpx.DecodeJSON(c, &b); err != nil {
		return err
	}
	if b.Version == nil {
		return fault.Invalid("version", "version is required: send the version you last saw")
	}
	a := requests.Action{Name: b.Action, Version: *b.Version, Note: b.Note}
	if b.AssigneeID != nil && *b.AssigneeID != "" {
		if a.AssigneeID, err = httpx.ParseID("assignee_id", *b.AssigneeID); err != nil {
			return err
		}
	}
	r, err := s.ApplyAction(c, id, a)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toRequestJSON(s.Viewer(c), r, time.Now()))
}

type eventJSON struct {
	ID         string    `json:"id"`
	At         time.Time `json:"at"`
	ActorID    *string   `json:"actor_id"`
	Action     string    `json:"action"`
	FromStatus *string   `json:"from_status"`
	ToStatus   *string   `json:"to_status"`
	Note       string    `json:"note"`
}

func (s *Handlers) listRequestEvents(c echo.Context) error {
	id, err := httpx.PathID(c, "id", "request")
	if err != nil {
		return err
	}
	events, err := requests.Events(c.Request().Context(), s.DB, s.Viewer(c), id)
	if err != nil {
		return err
	}
	out := httpx.List[eventJSON]{Items: make([]eventJSON, len(events))}
	for i, e := range events {
		j := eventJSON{ID: httpx.FormatID(e.ID), At: e.At.UTC(), Action: e.Action, Note: e.Note}
		if e.ActorID != nil {
			a := httpx.FormatID(*e.ActorID)
			j.ActorID = &a
		}
		if e.FromStatus != nil {
			f := string(*e.FromStatus)
			j.FromStatus = &f
		}
		if e.ToStatus != nil {
			t := string(*e.ToStatus)
			j.ToStatus = &t
		}
		out.Items[i] = j
	}
	return c.JSON(http.StatusOK, out)
}
