package portal

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/tiski/tiski/billing"
	"github.com/tiski/tiski/fault"
	"github.com/tiski/tiski/i18n"
	"github.com/tiski/tiski/money"
	"github.com/tiski/tiski/units"
	"github.com/tiski/tiski/web/httpx"
)

// maxMoneyRows is how many rows a money page lists at once.
const maxMoneyRows = 50

// refusal shows billing's refusal as a page: forbidden as the 403 page
// saying who may (messageKey), anything else (not found) as it is.
func (s *Pages) refusal(c echo.Context, err error, messageKey string) error {
	if fault.Is(err, fault.KindForbidden) {
		return s.renderErrorPage(c, http.StatusForbidden, s.newView(c, "", nil).T.T(messageKey))
	}
	return err
}

// thisMonth is the current month in the organisation's time zone.
func (s *Pages) thisMonth() string { return billing.MonthOf(time.Now(), s.Org.Location) }

// unitRef is a unit as the money pages name it.
type unitRef struct {
	ID         int64
	Code, Name string
}

// Label is "CC-1200 Marketing".
func (u unitRef) Label() string { return strings.TrimSpace(u.Code + " " + u.Name) }

// unitNames caches units by id while one page is built.
type unitNames map[int64]unitRef

func (s *Pages) unitRef(ctx context.Context, cache unitNames, id int64) unitRef {
	if u, ok := cache[id]; ok {
		return u
	}
	ref := unitRef{ID: id, Code: httpx.FormatID(id)}
	if u, err := units.GetUnit(ctx, s.DB, id); err == nil {
		ref = unitRef{ID: u.ID, Code: u.Code, Name: u.Name}
	}
	cache[id] = ref
	return ref
}

// unitsFor lists the units in which the user may act on obj: every unit for
// an organisation role, else the user's units and those below them.
func (s *Pages) unitsFor(c echo.Context, obj, act string) ([]unitRef, error) {
	ctx := c.Request().Context()
	ids, orgWide := s.Authz.UnitsWhere(httpx.CurrentPrincipal(c).ID(), obj, act)
	var out []unitRef
	if orgWide {
		list, err := units.ListUnits(ctx, s.DB, units.UnitFilter{Limit: 1000})
		if err != nil {
			return nil, err
		}
		for _, u := range list {
			out = append(out, unitRef{ID: u.ID, Code: u.Code, Name: u.Name})
		}
		return out, nil
	}
	cache := unitNames{}
	for _, id := range ids {
		out = append(out, s.unitRef(ctx, cache, id))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Code < out[j].Code })
	return out, nil
}

// parseLocaleAmount reads an amount typed the locale's way (f, from its
// message file): "1 234,56" or "12,5" in Finnish, "1,234.56" or "12.5" in
// English, with an optional currency sign. Digit groups must be whole
// groups of three, and where the group separator is a comma or a point
// (which another locale writes as its decimal) they come only with the
// decimal separator; a space-like group separator accepts any space. Any
// other separator (a point in Finnish, a space in English), a stray letter
// or an exponent is refused rather than guessed, and the result goes
// through money.ParseDecimalAmount. Every portal form that takes money
// reads it here.
func parseLocaleAmount(f i18n.Format, raw, currency string) (money.Money, bool) {
	s := strings.TrimSpace(raw)
	for _, sign := range []string{"€", "$", "£", currency} {
		s = strings.TrimSpace(strings.TrimSuffix(strings.TrimPrefix(s, sign), sign))
	}
	group, point := f.Group, f.Decimal
	spaces := strings.NewReplacer("\u00a0", " ", "\u202f", " ")
	if spaced := strings.TrimSpace(spaces.Replace(group)) == ""; spaced {
		group, s = " ", spaces.Replace(s)
	} else if strings.ContainsAny(s, " \u00a0\u202f") {
		return money.Money{}, false
	}
	for _, other := range []string{".", ","} {
		if other != group && other != point && strings.Contains(s, other) {
			return money.Money{}, false
		}
	}
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	whole, frac, hasPoint := strings.Cut(s, point)
	if hasPoint && strings.Contains(frac, point) {
		return money.Money{}, false
	}
	if strings.Contains(whole, group) {
		if (group == "," || group == ".") && !hasPoint {
			return money.Money{}, false // "12,345" may be a European's 12.345: refuse, not guess
		}
		parts := strings.Split(whole, group)
		if len(parts[0]) == 0 || len(parts[0]) > 3 {
			return money.Money{}, false
		}
		for _, p := range parts[1:] {
			if len(p) != 3 {
				return money.Money{}, false
			}
		}
		whole = strings.Join(parts, "")
	}
	if strings.Contains(frac, group) {
		return money.Money{}, false
	}
	lit := whole
	if hasPoint {
		lit += "." + frac
	}
	if neg {
		lit = "-" + lit
	}
	m, err := money.ParseDecimalAmount(lit, currency)
	if err != nil {
		return money.Money{}, false
	}
	return m, true
}

// formAmount shows an amount in minor units the way the locale types it,
// without grouping or sign: "1234,56" or "1234.56".
func formAmount(f i18n.Format, minor int64, currency string) string {
	digits, err := money.MinorDigits(currency)
	if err != nil || digits == 0 {
		return strconv.FormatInt(minor, 10)
	}
	neg := minor < 0
	if neg {
		minor = -minor
	}
	scale := int64(1)
	for range digits {
		scale *= 10
	}
	out := fmt.Sprintf("%d%s%0*d", minor/scale, f.Decimal, digits, minor%scale)
	if neg {
		out = "-" + out
	}
	return out
}

// backTo is where a money form returns: the page it came from, if local.
func backTo(form url.Values, fallback string) string {
	if b := form.Get("back"); b != "" {
		return safeNext(b)
	}
	return fallback
}

func moneyOf(minor int64, currency string) money.Money {
	return money.Money{Minor: minor, Currency: currency}
}

// exampleAmount is the amount the money forms show as a pattern to follow.
func exampleAmount(currency string) money.Money { return moneyOf(123456, currency) }
