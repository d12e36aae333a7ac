package api

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/uptrace/bun"

	"github.com/tiski/tiski/catalog"
	"github.com/tiski/tiski/fault"
	"github.com/tiski/tiski/money"
	"github.com/tiski/tiski/web/httpx"
)

type slaJSON struct {
	FirstResponseMinutes int `json:"first_response_minutes"`
	ResolutionMinutes    int `json:"resolution_minutes"`
}

type serviceJSON struct {
	ID             string          `json:"id"`
	ProviderUnitID string          `json:"provider_unit_id"`
	Code           string          `json:"code"`
	Name           string          `json:"name"`
	Category       string          `json:"category"`
	Description    string          `json:"description"`
	PricingModel   string          `json:"pricing_model"`
	Price          *money.Money    `json:"price"`
	RateID         string          `json:"rate_id,omitempty"`
	UnitLabel      string          `json:"unit_label"`
	ApprovalPolicy string          `json:"approval_policy"`
	SLA            slaJSON         `json:"sla"`
	Fields         []catalog.Field `json:"fields"`
	Active         bool            `json:"active"`
	Rates          []rateJSON      `json:"rates,omitempty"`
}

type rateJSON struct {
	ID            string      `json:"id"`
	Price         money.Money `json:"price"`
	EffectiveFrom string      `json:"effective_from"`
}

type serviceBody struct {
	ProviderUnitID *string          `json:"provider_unit_id"`
	Code           *string          `json:"code"`
	Name           *string          `json:"name"`
	Category       *string          `json:"category"`
	Description    *string          `json:"description"`
	PricingModel   *string          `json:"pricing_model"`
	Price          *money.Money     `json:"price"`
	EffectiveFrom  *string          `json:"effective_from"`
	UnitLabel      *string          `json:"unit_label"`
	ApprovalPolicy *string          `json:"approval_policy"`
	SLA            *slaJSON         `json:"sla"`
	Fields         *[]catalog.Field `json:"fields"`
	Active         *bool            `json:"active"`
}

type rateBody struct {
	Price         *money.Money `json:"price"`
	EffectiveFrom string       `json:"effective_from"`
}

func (s *Handlers) today() string { return catalog.Today(time.Now(), s.Org.Location) }

// toServiceJSON renders a service with the price in force today.
func (s *Handlers) toServiceJSON(c echo.Context, svc *catalog.Service) (serviceJSON, error) {
	j := serviceJSON{ID: httpx.FormatID(svc.ID), ProviderUnitID: httpx.FormatID(svc.ProviderUnitID), Code: svc.Code, Name: svc.Name,
		Category: svc.Category, Description: svc.Description, PricingModel: svc.PricingModel, UnitLabel: svc.UnitLabel,
		ApprovalPolicy: svc.ApprovalPolicy, SLA: slaJSON{svc.SLAFirstResponseMinutes, svc.SLAResolutionMinutes},
		Fields: svc.Fields(), Active: svc.Active}
	rate, err := catalog.RateOn(c.Request().Context(), s.DB, svc.ID, s.Today())
	if err != nil && !fault.Is(err, fault.KindConflict) {
		return j, err
	}
	if rate != nil {
		j.Price = &money.Money{Minor: rate.PriceMinor, Currency: rate.Currency}
		j.RateID = httpx.FormatID(rate.ID)
	}
	return j, nil
}

func (s *Handlers) checkMoney(field string, m *money.Money) error {
	if m == nil {
		return fault.Invalid(field, "%s is required", field)
	}
	if m.Currency != s.Org.Currency {
		return fault.Invalid(field, "%s must be in %s", field, s.Org.Currency)
	}
	if m.Minor < 0 {
		return fault.Invalid(field, "%s cannot be negative", field)
	}
	return nil
}

func (s *Handlers) listServices(c echo.Context) error {
	p, err := s.ReadPage(c, "services")
	if err != nil {
		return err
	}
	f := catalog.ServiceFilter{Category: c.QueryParam("category"), Query: c.QueryParam("q"), AfterID: p.AfterID, Limit: p.Limit + 1}
	if raw := c.QueryParam("provider_unit_id"); raw != "" {
		if f.ProviderUnitID, err = httpx.ParseID("provider_unit_id", raw); err != nil {
			return err
		}
	}
	if err := fault.Text("q", f.Query, 0, 200, false); err != nil {
		return err
	}
	f.IncludeInactive = c.QueryParam("include_inactive") == "true"
	rows, err := catalog.ListServices(c.Request().Context(), s.DB, f)
	if err != nil {
		return err
	}
	rows, next := httpx.TrimPage(s.Kit, "services", p, rows, func(svc *catalog.Service) int64 { return svc.ID })
	out := httpx.List[serviceJSON]{Items: make([]serviceJSON, 0, len(rows)), NextCursor: next}
	for i := range rows {
		j, err := s.toServiceJSON(c, &rows[i])
		if err != nil {
			return err
		}
		out.Items = append(out.Items, j)
	}
	return c.JSON(http.StatusOK, out)
}

func (s *Handlers) getService(c echo.Context) error {
	id, err := httpx.PathID(c, "id", "service")
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	svc, err := catalog.GetService(ctx, s.DB, id)
	if err != nil {
		return err
	}
	j, err := s.toServiceJSON(c, svc)
	if err != nil {
		return err
	}
	rates, err := catalog.Rates(ctx, s.DB, id)
	if err != nil {
		return err
	}
	for _, r := range rates {
		j.Rates = append(j.Rates, rateJSON{ID: httpx.FormatID(r.ID), Price: money.Money{Minor: r.PriceMinor, Currency: r.Currency}, EffectiveFrom: r.EffectiveFrom})
	}
	return c.JSON(http.StatusOK, j)
}

func (s *Handlers) createService(c echo.Context) error {
	var b serviceBody
	if err := httpx.DecodeJSON(c, &b); err != nil {
		return err
	}
	if b.ProviderUnitID == nil {
		return fault.Invalid("provider_unit_id", "provider_unit_id is required")
	}
	providerID, err := httpx.ParseID("provider_unit_id", *b.ProviderUnitID)
	if err != nil {
		return err
	}
	if !s.Allowed(c, providerID, "service", "manage") {
		return fault.Forbidden("only a manager of the providing unit offers services in it")
	}
	if err := s.checkMoney("price", b.Price); err != nil {
		return err
	}
	if b.SLA == nil {
		return fault.Invalid("sla", "sla with first_response_minutes and resolution_minutes is required")
	}
	svc := catalog.Service{ProviderUnitID: providerID, Code: deref(b.Code), Name: deref(b.Name), Category: deref(b.Category),
		Description: deref(b.Description), PricingModel: deref(b.PricingModel), UnitLabel: deref(b.UnitLabel),
		ApprovalPolicy: deref(b.ApprovalPolicy), SLAFirstResponseMinutes: b.SLA.FirstResponseMinutes,
		SLAResolutionMinutes: b.SLA.ResolutionMinutes}
	if svc.ApprovalPolicy == "" {
		svc.ApprovalPolicy = "threshold"
	}
	rate := catalog.Rate{PriceMinor: b.Price.Minor, Currency: b.Price.Currency, EffectiveFrom: s.Today()}
	if b.EffectiveFrom != nil {
		rate.EffectiveFrom = *b.EffectiveFrom
	}
	var fields []catalog.Field
	if b.Fields != nil {
		fields = *b.Fields
	}
	var created *catalog.Service
	ctx := c.Request().Context()
	err = s.DB.InTx(ctx, func(tx bun.Tx) (err error) {
		created, _, err = catalog.CreateService(ctx, tx, httpx.CurrentPrincipal(c).ID(), svc, fields, rate)
		return err
	})
	if err != nil {
		return err
	}
	j, err := s.toServiceJSON(c, created)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, j)
}

// managedService loads the path's service and checks the caller manages its
// provider unit.
func (s *Handlers) managedService(c echo.Context) (*catalog.Service, error) {
	id, err := httpx.PathID(c, "id", "service")
	if err != nil {
		return nil, err
	}
	svc, err := catalog.GetService(c.Request().Context(), s.DB, id)
	if err != nil {
		return nil, err
	}
	if !s.Allowed(c, svc.ProviderUnitID, "service", "manage") {
		return nil, fault.Forbidden("only a manager of the providing unit changes its services")
	}
	return svc, nil
}

func (s *Handlers) updateService(c echo.Context) error {
	svc, err := s.managedService(c)
	if err != nil {
		return err
	}
	var b serviceBody
	if err := httpx.DecodeJSON(c, &b); err != nil {
		return err
	}
	if b.ProviderUnitID != nil || b.Code != nil || b.PricingModel != nil || b.Price != nil || b.EffectiveFrom != nil {
		return fault.Invalid("price", "provider, code and pricing model are fixed; change the price with POST /services/{id}/rates")
	}
	ch := catalog.ServiceChange{Name: b.Name, Category: b.Category, Description: b.Description, UnitLabel: b.UnitLabel,
		ApprovalPolicy: b.ApprovalPolicy, Fields: b.Fields, Active: b.Active}
	if b.SLA != nil {
		ch.SLAFirstResponseMinutes, ch.SLAResolutionMinutes = &b.SLA.FirstResponseMinutes, &b.SLA.ResolutionMinutes
	}
	var updated *catalog.Service
	ctx := c.Request().Context()
	err = s.DB.InTx(ctx, func(tx bun.Tx) (err error) {
		updated, err = catalog.UpdateService(ctx, tx, httpx.CurrentPrincipal(c).ID(), svc.ID, ch)
		return err
	})
	if err != nil {
		return err
	}
	j, err := s.toServiceJSON(c, updated)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, j)
}

func (s *Handlers) addRate(c echo.Context) error {
	svc, err := s.managedService(c)
	if err != nil {
		return err
	}
	var b rateBody
	if err := httpx.DecodeJSON(c, &b); err != nil {
		return err
	}
	if err := s.checkMoney("price", b.Price); err != nil {
		return err
	}
	var rate *catalog.Rate
	ctx := c.Request().Context()
	err = s.DB.InTx(ctx, func(tx bun.Tx) (err error) {
		rate, err = catalog.AddRate(ctx, tx, httpx.CurrentPrincipal(c).ID(),
			catalog.Rate{ServiceID: svc.ID, PriceMinor: b.Price.Minor, Currency: b.Price.Currency, EffectiveFrom: b.EffectiveFrom}, s.Today())
		return err
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, rateJSON{ID: httpx.FormatID(rate.ID), Price: money.Money{Minor: rate.PriceMinor, Currency: rate.Currency}, EffectiveFrom: rate.EffectiveFrom})
}
