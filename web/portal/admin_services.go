package portal

import (
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/uptrace/bun"

	"github.com/tiski/tiski/catalog"
	"github.com/tiski/tiski/fault"
	"github.com/tiski/tiski/money"
	"github.com/tiski/tiski/units"
	"github.com/tiski/tiski/web/httpx"
)

// adminServiceRow is a service in the services list.
type adminServiceRow struct {
	Service  catalog.Service
	Provider string
	Price    *money.Money
	Manage   bool
}

// adminServiceChoices are the choices of the service forms.
type adminServiceChoices struct {
	Models   []string
	Policies []string
}

var adminServiceChoiceList = adminServiceChoices{Models: catalog.PricingModels, Policies: catalog.ApprovalPolicies}

type adminServicesData struct {
	Tabs      []navItem
	Rows      []adminServiceRow
	Providers []units.Unit // units the user may offer services in
	Choices   adminServiceChoices
}

type adminRateRow struct {
	Rate    catalog.Rate
	From    string // effective_from the locale's way
	Price   money.Money
	InForce bool
}

type adminServiceData struct {
	Tabs     []navItem
	Service  catalog.Service
	Provider string
	Price    *money.Money
	Rates    []adminRateRow
	CanEdit  bool
	Today    string
	Choices  adminServiceChoices
}

// adminUnitIndex maps unit ids to "CODE Name" for lists.
func (s *Pages) adminUnitIndex(c echo.Context) (map[int64]units.Unit, error) {
	list, err := units.ListUnits(c.Request().Context(), s.DB, units.UnitFilter{IncludeArchived: true, Limit: 100000})
	if err != nil {
		return nil, err
	}
	out := make(map[int64]units.Unit, len(list))
	for _, u := range list {
		out[u.ID] = u
	}
	return out, nil
}

func (s *Pages) adminServicesPage(c echo.Context) error {
	return s.showAdminServices(c, http.StatusOK, nil, url.Values{}, "")
}

func (s *Pages) showAdminServices(c echo.Context, status int, errs map[string]string, form url.Values, problem string) error {
	a := s.adminAccessFor(c)
	if !a.SeesServices {
		return notFoundPage()
	}
	ctx := c.Request().Context()
	list, err := catalog.ListServices(ctx, s.DB, catalog.ServiceFilter{IncludeInactive: true, Limit: 100000})
	if err != nil {
		return err
	}
	names, err := s.adminUnitIndex(c)
	if err != nil {
		return err
	}
	data := adminServicesData{Tabs: a.tabs("/admin/services"), Choices: adminServiceChoiceList}
	for _, svc := range list {
		manage := a.managesServices(svc.ProviderUnitID)
		if !manage && !a.Units {
			continue
		}
		row := adminServiceRow{Service: svc, Provider: names[svc.ProviderUnitID].Code, Manage: manage}
		if rate, err := catalog.RateOn(ctx, s.DB, svc.ID, s.Today()); err == nil {
			row.Price = &money.Money{Minor: rate.PriceMinor, Currency: rate.Currency}
		}
		data.Rows = append(data.Rows, row)
	}
	sort.SliceStable(data.Rows, func(i, j int) bool {
		if data.Rows[i].Provider != data.Rows[j].Provider {
			return data.Rows[i].Provider < data.Rows[j].Provider
		}
		return data.Rows[i].Service.Code < data.Rows[j].Service.Code
	})
	for _, u := range names {
		if !u.Archived && a.managesServices(u.ID) {
			data.Providers = append(data.Providers, u)
		}
	}
	sort.Slice(data.Providers, func(i, j int) bool { return data.Providers[i].Code < data.Providers[j].Code })
	v := s.newView(c, "", data)
	v.Title = v.T.T("admin.services.title")
	if errs != nil {
		v.Errors = errs
	}
	if form.Get("effective_from") == "" {
		form.Set("effective_from", s.Today())
	}
	for k, def := range map[string]string{"sla_first_response_minutes": "60", "sla_resolution_minutes": "480", "approval_policy": "threshold"} {
		if _, ok := form[k]; !ok {
			form.Set(k, def)
		}
	}
	v.Form, v.Problem = form, problem
	return s.render(c, status, "admin_services", v)
}

// adminMinutes reads an SLA target typed in minutes: digits only.
func adminMinutes(raw string) (int, bool) {
	raw = strings.TrimSpace(raw)
	if raw == "" || strings.IndexFunc(raw, func(r rune) bool { return r < '0' || r > '9' }) >= 0 {
		return 0, false
	}
	n, err := strconv.Atoi(raw)
	return n, err == nil
}

// adminSLAForm reads both SLA targets, leaving messages for bad ones.
func adminSLAForm(tr translator, form url.Values, errs map[string]string) (first, resolution int) {
	var ok bool
	if first, ok = adminMinutes(form.Get("sla_first_response_minutes")); !ok {
		errs["sla_first_response_minutes"] = tr.T("admin.err.minutes")
	}
	if resolution, ok = adminMinutes(form.Get("sla_resolution_minutes")); !ok {
		errs["sla_resolution_minutes"] = tr.T("admin.err.minutes")
	}
	return first, resolution
}

func (s *Pages) adminCreateService(c echo.Context) error {
	a := s.adminAccessFor(c)
	if !a.ServicesOrg && len(a.ServiceUnits) == 0 {
		return notFoundPage()
	}
	form, err := c.FormParams()
	if err != nil {
		return err
	}
	tr := s.tr(c)
	errs := map[string]string{}
	providerID, err := httpx.ParseID("provider_unit_id", form.Get("provider_unit_id"))
	if err != nil || !s.Allowed(c, providerID, "service", "manage") {
		errs["provider_unit_id"] = tr.T("admin.err.provider")
	}
	price, ok := adminAmount(tr.Format(), form.Get("price"), s.Org.Currency)
	if !ok {
		errs["price"] = tr.T("admin.err.money")
	}
	first, resolution := adminSLAForm(tr, form, errs)
	if len(errs) > 0 {
		return s.showAdminServices(c, http.StatusUnprocessableEntity, errs, form, "")
	}
	svc := catalog.Service{ProviderUnitID: providerID, Code: form.Get("code"), Name: form.Get("name"), Category: form.Get("category"),
		Description: form.Get("description"), PricingModel: form.Get("pricing_model"), UnitLabel: form.Get("unit_label"),
		ApprovalPolicy: form.Get("approval_policy"), SLAFirstResponseMinutes: first, SLAResolutionMinutes: resolution}
	rate := catalog.Rate{PriceMinor: price.Minor, Currency: price.Currency, EffectiveFrom: strings.TrimSpace(form.Get("effective_from"))}
	if rate.EffectiveFrom == "" {
		rate.EffectiveFrom = s.Today()
	}
	var created *catalog.Service
	ctx := c.Request().Context()
	err = s.DB.InTx(ctx, func(tx bun.Tx) (err error) {
		created, _, err = catalog.CreateService(ctx, tx, httpx.CurrentPrincipal(c).ID(), svc, nil, rate)
		return err
	})
	if err != nil {
		r, ok := formFault(tr, adminTexts, err)
		errs, problem := r.Errors, r.Problem
		if !ok {
			return err
		}
		return s.showAdminServices(c, r.Status, errs, form, problem)
	}
	setFlash(c, tr.T("admin.services.created", created.Code))
	return c.Redirect(http.StatusSeeOther, "/admin/services/"+httpx.FormatID(created.ID))
}

// adminVisibleService loads the path's service for the admin pages: its
// provider's managers may change it, admins see it read-only, anyone else
// gets the 404 page.
func (s *Pages) adminVisibleService(c echo.Context) (*catalog.Service, bool, error) {
	id, err := httpx.PathID(c, "id", "service")
	if err != nil {
		return nil, false, err
	}
	svc, err := catalog.GetService(c.Request().Context(), s.DB, id)
	if err != nil {
		return nil, false, err
	}
	a := s.adminAccessFor(c)
	manage := a.managesServices(svc.ProviderUnitID)
	if !manage && !a.Units {
		return nil, false, notFoundPage()
	}
	return svc, manage, nil
}

func (s *Pages) adminServicePage(c echo.Context) error {
	return s.showAdminService(c, http.StatusOK, nil, nil, "")
}

func (s *Pages) showAdminService(c echo.Context, status int, errs map[string]string, form url.Values, problem string) error {
	svc, manage, err := s.adminVisibleService(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	today := s.Today()
	data := adminServiceData{Tabs: s.adminAccessFor(c).tabs("/admin/services"), Service: *svc, CanEdit: manage, Today: today, Choices: adminServiceChoiceList}
	if u, err := units.GetUnit(ctx, s.DB, svc.ProviderUnitID); err == nil {
		data.Provider = u.Code + " " + u.Name
	}
	current, err := catalog.RateOn(ctx, s.DB, svc.ID, today)
	if err != nil && !fault.Is(err, fault.KindConflict) {
		return err
	}
	if current != nil {
		data.Price = &money.Money{Minor: current.PriceMinor, Currency: current.Currency}
	}
	rates, err := catalog.Rates(ctx, s.DB, svc.ID)
	if err != nil {
		return err
	}
	for _, r := range rates {
		data.Rates = append(data.Rates, adminRateRow{Rate: r, From: adminDate(s.tr(c), r.EffectiveFrom), Price: money.Money{Minor: r.PriceMinor, Currency: r.Currency},
			InForce: current != nil && current.ID == r.ID})
	}
	v := s.newView(c, svc.Code+" "+svc.Name, data)
	if errs != nil {
		v.Errors = errs
	}
	shown := url.Values{}
	shown.Set("name", svc.Name)
	shown.Set("category", svc.Category)
	shown.Set("description", svc.Description)
	shown.Set("unit_label", svc.UnitLabel)
	shown.Set("approval_policy", svc.ApprovalPolicy)
	shown.Set("sla_first_response_minutes", strconv.Itoa(svc.SLAFirstResponseMinutes))
	shown.Set("sla_resolution_minutes", strconv.Itoa(svc.SLAResolutionMinutes))
	if svc.Active {
		shown.Set("active", "yes")
	}
	shown.Set("effective_from", today)
	if form != nil && form.Get("form") == "service" {
		shown.Del("active") // an unticked box sends nothing
	}
	for k, vals := range form {
		shown[k] = vals
	}
	v.Form, v.Problem = shown, problem
	return s.render(c, status, "admin_service", v)
}

func (s *Pages) adminUpdateService(c echo.Context) error {
	svc, manage, err := s.adminVisibleService(c)
	if err != nil {
		return err
	}
	if !manage {
		return notFoundPage()
	}
	form, err := c.FormParams()
	if err != nil {
		return err
	}
	form.Set("form", "service")
	tr := s.tr(c)
	errs := map[string]string{}
	first, resolution := adminSLAForm(tr, form, errs)
	if len(errs) > 0 {
		return s.showAdminService(c, http.StatusUnprocessableEntity, errs, form, "")
	}
	name, category, description := form.Get("name"), form.Get("category"), form.Get("description")
	label, policy := form.Get("unit_label"), form.Get("approval_policy")
	active := form.Get("active") == "yes"
	ch := catalog.ServiceChange{Name: &name, Category: &category, Description: &description, UnitLabel: &label,
		ApprovalPolicy: &policy, SLAFirstResponseMinutes: &first, SLAResolutionMinutes: &resolution, Active: &active}
	ctx := c.Request().Context()
	err = s.DB.InTx(ctx, func(tx bun.Tx) error {
		_, err := catalog.UpdateService(ctx, tx, httpx.CurrentPrincipal(c).ID(), svc.ID, ch)
		return err
	})
	if err != nil {
		r, ok := formFault(tr, adminTexts, err)
		errs, problem := r.Errors, r.Problem
		if !ok {
			return err
		}
		return s.showAdminService(c, r.Status, errs, form, problem)
	}
	setFlash(c, tr.T("admin.services.saved", svc.Code))
	return c.Redirect(http.StatusSeeOther, "/admin/services/"+httpx.FormatID(svc.ID))
}

// adminAddRate adds a price effective from a date: today or later, as the
// domain allows, so work already done keeps its price.
func (s *Pages) adminAddRate(c echo.Context) error {
	svc, manage, err := s.adminVisibleService(c)
	if err != nil {
		return err
	}
	if !manage {
		return notFoundPage()
	}
	form, err := c.FormParams()
	if err != nil {
		return err
	}
	tr := s.tr(c)
	price, ok := adminAmount(tr.Format(), form.Get("price"), s.Org.Currency)
	if !ok {
		return s.showAdminService(c, http.StatusUnprocessableEntity, map[string]string{"price": tr.T("admin.err.money")}, form, "")
	}
	from := strings.TrimSpace(form.Get("effective_from"))
	ctx := c.Request().Context()
	var rate *catalog.Rate
	err = s.DB.InTx(ctx, func(tx bun.Tx) (err error) {
		rate, err = catalog.AddRate(ctx, tx, httpx.CurrentPrincipal(c).ID(),
			catalog.Rate{ServiceID: svc.ID, PriceMinor: price.Minor, Currency: price.Currency, EffectiveFrom: from}, s.Today())
		return err
	})
	if err != nil {
		r, ok := formFault(tr, adminTexts, err)
		errs, problem := r.Errors, r.Problem
		if !ok {
			return err
		}
		return s.showAdminService(c, r.Status, errs, form, problem)
	}
	setFlash(c, tr.T("admin.services.rate_added", s.tr(c).Money(price), adminDate(tr, rate.EffectiveFrom)))
	return c.Redirect(http.StatusSeeOther, "/admin/services/"+httpx.FormatID(svc.ID))
}

// adminDate shows a calendar date (YYYY-MM-DD) the locale's way:
// "1.12.2026" in Finnish, "1 Dec 2026" in English.
func adminDate(tr translator, date string) string {
	d, err := time.Parse(catalog.DateLayout, date)
	if err != nil {
		return date
	}
	return tr.Date(d)
}
