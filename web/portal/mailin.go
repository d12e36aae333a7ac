package portal

import (
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/uptrace/bun"

	"github.com/tiski/tiski/audit"
	"github.com/tiski/tiski/catalog"
	"github.com/tiski/tiski/mailin"
	"github.com/tiski/tiski/units"
	"github.com/tiski/tiski/web/httpx"
)

// quarantinePageSize is how many quarantined messages one page shows.
const quarantinePageSize = 30

type quarantineRow struct {
	mailin.Message
	Unit string
}

type quarantineData struct {
	Rows   []quarantineRow
	Next   string
	Failed int64 // the message whose form was refused, its messages in the view
}

// triagesAny reports whether the user triages any quarantined mail: agents
// of a provider unit, and admins for the mail that reached no unit.
func (s *Pages) triagesAny(c echo.Context) bool {
	return mailin.TriagesAny(s.Authz, httpx.CurrentPrincipal(c).ID())
}

// quarantinePage lists the messages waiting for the user, oldest first,
// each with its reason, a form to file it for a person and one to discard it.
func (s *Pages) quarantinePage(c echo.Context) error {
	return s.showQuarantine(c, http.StatusOK, 0, nil, nil)
}

func (s *Pages) showQuarantine(c echo.Context, status int, failed int64, errs map[string]string, form url.Values) error {
	if !s.triagesAny(c) {
		return notFoundPage()
	}
	cur, err := s.ReadCursor(c, "quarantine")
	if err != nil {
		return err
	}
	var after int64
	if cur != nil {
		after = cur.AfterID
	}
	ctx := c.Request().Context()
	rows, err := mailin.Quarantine(ctx, s.DB, s.Authz, httpx.CurrentPrincipal(c).ID(), after, quarantinePageSize+1)
	if err != nil {
		return err
	}
	rows, next := httpx.TrimPage(s.Kit, "quarantine", httpx.Page{Limit: quarantinePageSize}, rows, func(m *mailin.Message) int64 { return m.ID })
	data := quarantineData{Failed: failed}
	if next != "" {
		data.Next = nextPage(c, "/mail/quarantine", next)
	}
	names := unitNames{}
	for _, m := range rows {
		row := quarantineRow{Message: m}
		if m.ProviderUnitID != nil {
			row.Unit = s.unitRef(ctx, names, *m.ProviderUnitID).Label()
		}
		data.Rows = append(data.Rows, row)
	}
	v := s.newView(c, "", data)
	v.Title, v.Path = v.T.T("quarantine.title"), "/mail/quarantine"
	if errs != nil {
		v.Errors = errs
	}
	if form != nil {
		v.Form = form
	}
	return s.render(c, status, "quarantine", v)
}

// fileQuarantinedForm files a message as a request for the person whose
// e-mail address the agent typed.
func (s *Pages) fileQuarantinedForm(c echo.Context) error {
	id, err := httpx.PathID(c, "id", "message")
	if err != nil {
		return err
	}
	form, err := c.FormParams()
	if err != nil {
		return err
	}
	ctx, tr := c.Request().Context(), s.tr(c)
	email := strings.TrimSpace(form.Get("requester"))
	person, err := units.GetUserByEmail(ctx, s.DB, email)
	if err != nil || email == "" {
		return s.showQuarantine(c, http.StatusUnprocessableEntity, id, map[string]string{"requester": tr.T("quarantine.file.unknown", email)}, form)
	}
	f := mailin.Filing{RequesterID: person.ID, Title: strings.TrimSpace(form.Get("title"))}
	var number string
	err = audit.InTx(ctx, s.DB, func(tx bun.Tx) error {
		r, err := mailin.File(ctx, tx, s.MailDeps(), httpx.CurrentPrincipal(c).ID(), id, f, time.Now())
		if err == nil {
			number = r.Number()
		}
		return err
	})
	if err != nil {
		r, ok := formFault(tr, requestTexts, err)
		if !ok {
			return err
		}
		errs := r.at("requester")
		if _, onField := errs["requester_id"]; onField {
			errs["requester"] = errs["requester_id"]
		}
		return s.showQuarantine(c, r.Status, id, errs, form)
	}
	setFlash(c, tr.T("flash.quarantine_filed", number, person.Name))
	return c.Redirect(http.StatusSeeOther, "/mail/quarantine")
}

// discardQuarantinedForm discards a message, after a confirmation, with
// the agent's note (audited).
func (s *Pages) discardQuarantinedForm(c echo.Context) error {
	id, err := httpx.PathID(c, "id", "message")
	if err != nil {
		return err
	}
	form, err := c.FormParams()
	if err != nil {
		return err
	}
	if asked, err := s.needConfirm(c, form, "quarantine.discard.confirm", "/mail/quarantine"); asked || err != nil {
		return err
	}
	ctx, tr := c.Request().Context(), s.tr(c)
	err = s.DB.InTx(ctx, func(tx bun.Tx) error {
		return mailin.Discard(ctx, tx, s.Authz, httpx.CurrentPrincipal(c).ID(), id, form.Get("note"), time.Now())
	})
	if err != nil {
		r, ok := formFault(tr, requestTexts, err)
		if !ok {
			return err
		}
		return s.showQuarantine(c, r.Status, id, r.at("note"), form)
	}
	setFlash(c, tr.T("flash.quarantine_discarded"))
	return c.Redirect(http.StatusSeeOther, "/mail/quarantine")
}

// inboundSection is the unit page's inbound e-mail section, for the unit's
// managers and admins (mailin.KeepsAddress); nil for anyone else.
type inboundSection struct {
	Address  *mailin.Address
	Services []catalog.Service
}

func (s *Pages) inboundSectionFor(c echo.Context, unitID int64) (*inboundSection, error) {
	ctx := c.Request().Context()
	a, err := mailin.AddressOf(ctx, s.DB, s.Authz, httpx.CurrentPrincipal(c).ID(), unitID)
	if err != nil {
		return nil, nil // not a keeper: no section
	}
	services, err := catalog.ListServices(ctx, s.DB, catalog.ServiceFilter{ProviderUnitID: unitID, Limit: 500})
	if err != nil {
		return nil, err
	}
	return &inboundSection{Address: a, Services: services}, nil
}

// inboundAddressForm sets the unit's inbound address and default service;
// refused input is shown beside its field on the unit's page.
func (s *Pages) inboundAddressForm(c echo.Context) error {
	u, err := s.VisibleUnit(c)
	if err != nil {
		return err
	}
	form, err := c.FormParams()
	if err != nil {
		return err
	}
	ctx, tr := c.Request().Context(), s.tr(c)
	serviceID, _ := httpx.ParseID("default_service_id", form.Get("inbound_service_id"))
	err = s.DB.InTx(ctx, func(tx bun.Tx) error {
		_, err := mailin.SetAddress(ctx, tx, s.Authz, httpx.CurrentPrincipal(c).ID(), u.ID, form.Get("inbound_address"), serviceID, time.Now())
		return err
	})
	if err != nil {
		r, ok := formFault(tr, adminTexts, err)
		if !ok {
			return err
		}
		errs := map[string]string{}
		for field, msg := range r.at("address") {
			switch field {
			case "default_service_id":
				errs["inbound_service_id"] = msg
			default:
				errs["inbound_address"] = msg
			}
		}
		return s.showAdminUnit(c, r.Status, errs, form, "", false)
	}
	setFlash(c, tr.T("flash.inbound_address_set", strings.ToLower(strings.TrimSpace(form.Get("inbound_address")))))
	return c.Redirect(http.StatusSeeOther, "/admin/units/"+httpx.FormatID(u.ID))
}
