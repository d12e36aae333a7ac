package httpx

import (
	"github.com/labstack/echo/v4"

	"github.com/tiski/tiski/units"
)

// UserReader is the signed-in user as units decides who they may read:
// user:read organisation-wide reads everyone, member:read in units reads
// those units' people.
func (k *Kit) UserReader(c echo.Context) units.UserReader {
	uid := CurrentPrincipal(c).ID()
	r := units.UserReader{Self: uid, All: k.Authz.Can(uid, 0, "user", "read")}
	if !r.All {
		r.UnitIDs, r.All = k.Authz.UnitsWhere(uid, "member", "read")
	}
	return r
}
