package api

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/uptrace/bun"

	"github.com/tiski/tiski/audit"
	"github.com/tiski/tiski/auth"
	"github.com/tiski/tiski/fault"
	"github.com/tiski/tiski/units"
	"github.com/tiski/tiski/web/httpx"
)

type userJSON struct {
	ID        string    `json:"id"`
	Email     string    `json:"email"`
	Name      string    `json:"name"`
	Locale    string    `json:"locale"`
	Disabled  bool      `json:"disabled"`
	CreatedAt time.Time `json:"created_at"`
}

func toUserJSON(u *units.User) userJSON {
	return userJSON{ID: httpx.FormatID(u.ID), Email: u.Email, Name: u.Name, Locale: u.Locale, Disabled: u.Disabled, CreatedAt: u.CreatedAt.UTC()}
}

type userBody struct {
	Email           *string `json:"email"`
	Name            *string `json:"name"`
	Locale          *string `json:"locale"`
	Disabled        *bool   `json:"disabled"`
	Password        *string `json:"password"`
	CurrentPassword *string `json:"current_password"`
}

func (s *Handlers) listUsers(c echo.Context) error {
	p, err := s.ReadPage(c, "users")
	if err != nil {
		return err
	}
	q := c.QueryParam("q")
	if ferr := fault.Text("q", q, 0, 200, false); ferr != nil {
		return ferr
	}
	rows, err := units.ListVisibleUsers(c.Request().Context(), s.DB, s.UserReader(c), units.UserFilter{Query: q, AfterID: p.AfterID, Limit: p.Limit + 1})
	if err != nil {
		return err
	}
	rows, next := httpx.TrimPage(s.Kit, "users", p, rows, func(u *units.User) int64 { return u.ID })
	return c.JSON(http.StatusOK, httpx.ListOf(rows, next, toUserJSON))
}

func (s *Handlers) createUser(c echo.Context) error {
	var body userBody
	if err := httpx.DecodeJSON(c, &body); err != nil {
		return err
	}
	if body.Disabled != nil || body.CurrentPassword != nil {
		return fault.Invalid("disabled", "a new user takes only email, name, locale and password")
	}
	u := units.User{Email: deref(body.Email), Name: deref(body.Name), Locale: deref(body.Locale)}
	if body.Password != nil {
		hash, err := auth.HashPassword(*body.Password, s.Cfg.PasswordHash)
		if err != nil {
			return err
		}
		u.PasswordHash = hash
	}
	var created *units.User
	ctx := c.Request().Context()
	err := s.DB.InTx(ctx, func(tx bun.Tx) (err error) {
		created, err = units.CreateUser(ctx, tx, httpx.CurrentPrincipal(c).ID(), u)
		return err
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, toUserJSON(created))
}

// visibleUserID returns the path's user id if the caller may see that user:
// admins see everyone, others only themselves.
func (s *Handlers) visibleUserID(c echo.Context) (int64, error) {
	id, err := httpx.PathID(c, "id", "user")
	if err != nil {
		return 0, err
	}
	if id != httpx.CurrentPrincipal(c).ID() && !s.Allowed(c, httpx.OrgWide, "user", "read") {
		return 0, fault.NotFound("user")
	}
	return id, nil
}

// getUser shows a user to whoever units.GetVisibleUser lets read them:
// admins, the user, and the managers of a unit the user has a role in.
func (s *Handlers) getUser(c echo.Context) error {
	id, err := httpx.PathID(c, "id", "user")
	if err != nil {
		return err
	}
	u, err := units.GetVisibleUser(c.Request().Context(), s.DB, s.UserReader(c), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toUserJSON(u))
}

// updateUser lets an admin change any user, and anyone change their own
// name, locale and password (the last with the current password).
func (s *Handlers) updateUser(c echo.Context) error {
	id, err := s.visibleUserID(c)
	if err != nil {
		return err
	}
	var body userBody
	if err := httpx.DecodeJSON(c, &body); err != nil {
		return err
	}
	me := httpx.CurrentPrincipal(c)
	admin := s.Allowed(c, httpx.OrgWide, "user", "manage")
	if !admin && (body.Email != nil || body.Disabled != nil) {
		return fault.Forbidden("only an admin changes e-mail addresses or disables users")
	}
	change := units.UserChange{Email: body.Email, Name: body.Name, Locale: body.Locale, Disabled: body.Disabled}
	if body.Password != nil {
		if id == me.ID() && (body.CurrentPassword == nil || !auth.VerifyPassword(*body.CurrentPassword, me.User.PasswordHash)) {
			return fault.Invalid("current_password", "current_password is wrong")
		}
		hash, err := auth.HashPassword(*body.Password, s.Cfg.PasswordHash)
		if err != nil {
			return err
		}
		change.PasswordHash = &hash
		change.KeepSession = auth.SessionKey(me.SessionToken)
	}
	var updated *units.User
	ctx := c.Request().Context()
	err = audit.InTx(ctx, s.DB, func(tx bun.Tx) (err error) {
		updated, err = units.UpdateUser(ctx, tx, me.ID(), id, change)
		return err
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toUserJSON(updated))
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}
