package portal

import (
	"crypto/rand"
	"encoding/json"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/uptrace/bun"

	"github.com/tiski/tiski/catalog"
	"github.com/tiski/tiski/knowledge"
	"github.com/tiski/tiski/money"
	"github.com/tiski/tiski/requests"
	"github.com/tiski/tiski/units"
	"github.com/tiski/tiski/web/httpx"
)

// serviceCard is a service as the catalog shows it.
type serviceCard struct {
	catalog.Service
	Price    *money.Money
	Provider string
	Fields   []catalog.Field
}

type catalogPage struct {
	Services   []serviceCard
	Categories []string
	Providers  []units.Unit
}

type servicePage struct {
	Service serviceCard
	Units   []units.Unit // units the user may order for
	Budgets []orderBudget
	// Articles are the service's knowledge, shown before the order form.
	Articles []articleLink
}

func (s *Pages) serviceCards(c echo.Context, list []catalog.Service) ([]serviceCard, error) {
	ctx := c.Request().Context()
	names := map[int64]string{}
	out := make([]serviceCard, 0, len(list))
	for _, svc := range list {
		card := serviceCard{Service: svc, Fields: svc.Fields()}
		if rate, err := catalog.RateOn(ctx, s.DB, svc.ID, s.Today()); err == nil {
			card.Price = &money.Money{Minor: rate.PriceMinor, Currency: rate.Currency}
		}
		if _, ok := names[svc.ProviderUnitID]; !ok {
			if u, err := units.GetUnit(ctx, s.DB, svc.ProviderUnitID); err == nil {
				names[svc.ProviderUnitID] = u.Name
			}
		}
		card.Provider = names[svc.ProviderUnitID]
		out = append(out, card)
	}
	return out, nil
}

// catalogPage lists active services, searchable by text, category and provider.
func (s *Pages) catalogPage(c echo.Context) error {
	ctx := c.Request().Context()
	f := catalog.ServiceFilter{Query: strings.TrimSpace(c.QueryParam("q")), Category: c.QueryParam("category"), Limit: 200}
	if raw := c.QueryParam("provider"); raw != "" {
		f.ProviderUnitID, _ = httpx.ParseID("provider", raw)
	}
	list, err := catalog.ListServices(ctx, s.DB, f)
	if err != nil {
		return err
	}
	all, err := catalog.ListServices(ctx, s.DB, catalog.ServiceFilter{Limit: 1000})
	if err != nil {
		return err
	}
	data := catalogPage{}
	seenCat, seenProv := map[string]bool{}, map[int64]bool{}
	for _, svc := range all {
		if svc.Category != "" && !seenCat[svc.Category] {
			seenCat[svc.Category] = true
			data.Categories = append(data.Categories, svc.Category)
		}
		if !seenProv[svc.ProviderUnitID] {
			seenProv[svc.ProviderUnitID] = true
			if u, err := units.GetUnit(ctx, s.DB, svc.ProviderUnitID); err == nil {
				data.Providers = append(data.Providers, *u)
			}
		}
	}
	sort.Strings(data.Categories)
	if data.Services, err = s.serviceCards(c, list); err != nil {
		return err
	}
	v := s.newView(c, "", data)
	v.Title = v.T.T("catalog.title")
	v.Form = c.QueryParams()
	return s.render(c, http.StatusOK, "catalog", v)
}

// orderableUnits lists the units the user may order for.
func (s *Pages) orderableUnits(c echo.Context) ([]units.Unit, error) {
	ids, _ := s.Authz.UnitsWhere(httpx.CurrentPrincipal(c).ID(), "request", "create")
	var out []units.Unit
	for _, id := range ids {
		u, err := units.GetUnit(c.Request().Context(), s.DB, id)
		if err != nil {
			return nil, err
		}
		if !u.Archived {
			out = append(out, *u)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Code < out[j].Code })
	return out, nil
}

func (s *Pages) servicePage(c echo.Context) error {
	return s.showService(c, http.StatusOK, nil, url.Values{}, "")
}

// showService renders a service with its order form, and on a refused
// order the messages beside the fields with what the user typed.
func (s *Pages) showService(c echo.Context, status int, errs map[string]string, form url.Values, problem string) error {
	id, err := httpx.PathID(c, "id", "service")
	if err != nil {
		return err
	}
	svc, err := catalog.GetService(c.Request().Context(), s.DB, id)
	if err != nil {
		return err
	}
	cards, err := s.serviceCards(c, []catalog.Service{*svc})
	if err != nil {
		return err
	}
	ordering, err := s.orderableUnits(c)
	if err != nil {
		return err
	}
	budgets, err := s.orderBudgets(c, ordering, cards[0].Price)
	if err != nil {
		return err
	}
	articles, err := s.serviceArticles(c, svc.ID, knowledge.FromCatalog)
	if err != nil {
		return err
	}
	if form.Get("order_token") == "" {
		// One token per rendering of the form: sending it twice files one
		// request (requests.SubmitOnce); a refused order keeps its token.
		form.Set("order_token", rand.Text())
	}
	v := s.newView(c, svc.Name, servicePage{Service: cards[0], Units: ordering, Budgets: budgets, Articles: articles})
	if errs != nil {
		v.Errors = errs
	}
	v.Form, v.Problem = form, problem
	return s.render(c, status, "service", v)
}

// orderForm places an order from the service page.
func (s *Pages) orderForm(c echo.Context) error {
	id, err := httpx.PathID(c, "id", "service")
	if err != nil {
		return err
	}
	form, err := c.FormParams()
	if err != nil {
		return err
	}
	svc, err := catalog.GetService(c.Request().Context(), s.DB, id)
	if err != nil {
		return err
	}
	fields := map[string]json.RawMessage{}
	for _, f := range svc.Fields() {
		if val := form.Get("field_" + f.Key); val != "" {
			raw, _ := json.Marshal(val)
			fields[f.Key] = raw
		}
	}
	o := requests.Order{ServiceID: id, Title: form.Get("title"), Description: form.Get("description"),
		Quantity: strings.ReplaceAll(form.Get("quantity"), ",", "."), Fields: fields, Channel: "portal"}
	if o.ConsumerUnitID, err = httpx.ParseID("consumer_unit_id", form.Get("consumer_unit_id")); err != nil {
		return s.refusedOrder(c, err, form)
	}
	v, now, ctx := s.Viewer(c), time.Now().UTC(), c.Request().Context()
	var r *requests.Request
	var replayed bool
	err = s.DB.InTx(ctx, func(tx bun.Tx) (err error) {
		r, replayed, err = requests.SubmitOnce(ctx, tx, v, *s.Org, o, form.Get("order_token"), now)
		return err
	})
	if err != nil {
		return s.refusedOrder(c, err, form)
	}
	tr := s.tr(c)
	if replayed {
		setFlash(c, tr.T("flash.order_already_filed", r.Number()))
		return c.Redirect(http.StatusSeeOther, "/requests/"+httpx.FormatID(r.ID))
	}
	setFlash(c, tr.T("flash.ordered", r.Number()))
	return c.Redirect(http.StatusSeeOther, "/requests/"+httpx.FormatID(r.ID))
}

func (s *Pages) refusedOrder(c echo.Context, err error, form url.Values) error {
	r, ok := formFault(s.tr(c), requestTexts, err)
	errs, problem := r.Errors, r.Problem
	if !ok {
		return err
	}
	for field, msg := range errs {
		if strings.HasPrefix(field, "fields_") {
			errs["field_"+strings.TrimPrefix(field, "fields_")] = msg
		}
	}
	return s.showService(c, http.StatusUnprocessableEntity, errs, form, problem)
}
