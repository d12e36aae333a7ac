package portal

import (
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/uptrace/bun"

	"github.com/tiski/tiski/requests"
	"github.com/tiski/tiski/units"
	"github.com/tiski/tiski/web/httpx"
)

// ratingPage is what the one-click rating page shows.
type ratingPage struct {
	Ref, Title string
	RequestID  int64
	Scores     []string
	Done, Gone bool
	requester  int64 // whose language the page speaks
}

// ratingLinkPage is the page behind a rating link (requests.RatingURL). It needs
// no session: the link is the proof. It speaks the requester's language,
// and its token stays out of any Referer the page could send.
func (s *Pages) ratingLinkPage(c echo.Context) error {
	ctx := c.Request().Context()
	_, r, err := requests.RatingLinkOf(ctx, s.DB, s.Authz, c.Param("token"), time.Now().UTC())
	if err != nil {
		return s.showRating(c, err, nil, ratingPage{})
	}
	return s.showRating(c, nil, r, ratingPage{})
}

// ratingLinkForm rates through requests' feedback entry point and uses the link
// up; a used or expired link shows the same clear page and changes nothing.
func (s *Pages) ratingLinkForm(c echo.Context) error {
	if err := httpx.SameOrigin(c); err != nil {
		return err
	}
	ctx := c.Request().Context()
	rating, _ := strconv.Atoi(c.FormValue("rating"))
	token, now := c.Param("token"), time.Now().UTC()
	var f *requests.Feedback
	err := s.DB.InTx(ctx, func(tx bun.Tx) error {
		var err error
		f, err = requests.RateByLink(ctx, tx, s.Authz, token, rating, c.FormValue("comment"), now)
		return err
	})
	if err != nil {
		// A refused rating (out of range) shows the form again; the link
		// is still unused then.
		_, r, lerr := requests.RatingLinkOf(ctx, s.DB, s.Authz, token, now)
		if lerr != nil {
			return s.showRating(c, lerr, nil, ratingPage{})
		}
		return s.showRating(c, err, r, ratingPage{})
	}
	return s.showRating(c, nil, nil, ratingPage{Done: true, RequestID: f.RequestID, requester: f.AuthorID})
}

func (s *Pages) showRating(c echo.Context, err error, r *requests.Request, data ratingPage) error {
	c.Response().Header().Set("Referrer-Policy", "no-referrer")
	c.Response().Header().Set("Cache-Control", "no-store")
	v := s.newView(c, "", nil)
	if r != nil {
		data.Ref, data.Title, data.RequestID, data.requester = r.Number(), r.Title, r.ID, r.RequesterID
	}
	if data.requester != 0 {
		if u, uerr := units.GetUser(c.Request().Context(), s.DB, data.requester); uerr == nil && slices.Contains(s.texts.Locales(), u.Locale) {
			v.T, v.Locale = v.T.In(u.Locale), u.Locale
		}
	}
	status := http.StatusOK
	switch {
	case data.Done:
		v.Title = v.T.T("rate.done.title")
	case err != nil && r == nil:
		if _, ok := formFault(v.T, requestTexts, err); !ok {
			return err
		}
		data.Gone, status = true, http.StatusGone
		v.Title = v.T.T("rate.gone.title")
	default:
		v.Title = v.T.T("rate.title")
		if err != nil {
			fr, ok := formFault(v.T, requestTexts, err)
			if !ok {
				return err
			}
			status, v.Errors = fr.Status, fr.at("rating")
		}
	}
	data.Scores = []string{"5", "4", "3", "2", "1"}
	v.Data = data
	v.Form.Set("action", requests.RatingPath+c.Param("token"))
	return s.render(c, status, "rate", v)
}
