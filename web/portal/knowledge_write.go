package portal

import (
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/uptrace/bun"

	"github.com/tiski/tiski/catalog"
	"github.com/tiski/tiski/fault"
	"github.com/tiski/tiski/knowledge"
	"github.com/tiski/tiski/units"
	"github.com/tiski/tiski/web/httpx"
)

// articleForm is what the new-article form offers: the units the user
// writes for and their services.
type articleForm struct {
	Units    []units.Unit
	Services []catalog.Service
}

func (s *Pages) articleFormData(c echo.Context) (articleForm, error) {
	ctx := c.Request().Context()
	var f articleForm
	ids, _ := s.Authz.UnitsWhere(httpx.CurrentPrincipal(c).ID(), "knowledge", "write")
	for _, id := range ids {
		u, err := units.GetUnit(ctx, s.DB, id)
		if err != nil {
			return f, err
		}
		f.Units = append(f.Units, *u)
		svcs, err := catalog.ListServices(ctx, s.DB, catalog.ServiceFilter{ProviderUnitID: id, Limit: 200})
		if err != nil {
			return f, err
		}
		f.Services = append(f.Services, svcs...)
	}
	return f, nil
}

// newArticlePage shows the form an agent or manager writes an article with.
func (s *Pages) newArticlePage(c echo.Context) error {
	return s.showArticleForm(c, http.StatusOK, url.Values{}, "")
}

func (s *Pages) showArticleForm(c echo.Context, status int, form url.Values, problem string) error {
	f, err := s.articleFormData(c)
	if err != nil {
		return err
	}
	if len(f.Units) == 0 {
		return fault.Forbidden("only the providing unit's agents and managers write its articles")
	}
	v := s.newView(c, s.tr(c).T("knowledge.new"), f)
	v.Form, v.Problem = form, problem
	return s.render(c, status, "article_new", v)
}

// newArticleForm writes the article, in the languages filled in, and
// publishes it at once when asked.
func (s *Pages) newArticleForm(c echo.Context) error {
	form, err := c.FormParams()
	if err != nil {
		return err
	}
	unitID, err := httpx.ParseID("provider_unit_id", form.Get("provider_unit_id"))
	if err != nil {
		return s.showArticleForm(c, http.StatusUnprocessableEntity, form, s.tr(c).Fault(err))
	}
	audience := form.Get("audience")
	serviceIDs := []int64{}
	for _, raw := range form["service_ids"] {
		id, err := httpx.ParseID("service_ids", raw)
		if err != nil {
			return s.showArticleForm(c, http.StatusUnprocessableEntity, form, s.tr(c).Fault(err))
		}
		serviceIDs = append(serviceIDs, id)
	}
	texts := map[string]knowledge.TextInput{}
	for _, locale := range s.texts.Locales() {
		t := knowledge.TextInput{Title: form.Get("title_" + locale), Body: form.Get("body_" + locale)}
		if t.Title != "" || t.Body != "" {
			texts[locale] = t
		}
	}
	ctx := c.Request().Context()
	kv := s.KnowledgeViewer(c)
	var a *knowledge.Article
	err = s.DB.InTx(ctx, func(tx bun.Tx) (err error) {
		now := time.Now().UTC()
		a, err = knowledge.Create(ctx, tx, kv, unitID, knowledge.Content{Audience: &audience, ServiceIDs: &serviceIDs, Texts: texts}, now)
		if err == nil && form.Get("publish") == "yes" {
			a, err = knowledge.Act(ctx, tx, kv, a.ID, a.Version, "publish", now)
		}
		return err
	})
	if fe, ok := fault.As(err); ok && fe.Kind != fault.KindNotFound {
		status, _ := httpx.FaultStatus(err)
		return s.showArticleForm(c, status, form, s.tr(c).Fault(err))
	}
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/knowledge/"+httpx.FormatID(a.ID))
}

// articleActForm publishes, unpublishes or archives an article from its page.
func (s *Pages) articleActForm(c echo.Context) error {
	id, err := httpx.PathID(c, "id", "article")
	if err != nil {
		return err
	}
	version, _ := strconv.ParseInt(c.FormValue("version"), 10, 64)
	ctx := c.Request().Context()
	err = s.DB.InTx(ctx, func(tx bun.Tx) error {
		_, err := knowledge.Act(ctx, tx, s.KnowledgeViewer(c), id, version, c.FormValue("action"), time.Now().UTC())
		return err
	})
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/knowledge/"+httpx.FormatID(id))
}
