package requests

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/uptrace/bun"

	"github.com/tiski/tiski/fault"
	"github.com/tiski/tiski/units"
)

// orderFormKey is where an order form's token is kept among the user's
// idempotency keys (the API's Idempotency-Key lives in the same table).
const orderFormKey = "order-form:"

// SubmitOnce files o at most once per order-form token. The first call
// with a token files the request (Submit) and keeps its id under the token
// in the same transaction; a later call with that token, also one racing
// the first (it waits on the key's row), files nothing and returns the
// request the first filed, with replayed set. What the second post of the
// form held does not matter: the token says it is the same form sent again
// (a double click, a resend after a slow answer, the back button). An empty
// token files as Submit does.
func SubmitOnce(ctx context.Context, tx bun.Tx, v Viewer, org units.Organisation, o Order, token string, now time.Time) (r *Request, replayed bool, err error) {
	if token == "" {
		r, err = Submit(ctx, tx, v, org, o, now)
		return r, false, err
	}
	if ferr := fault.Text("order_token", token, 1, 100, false); ferr != nil {
		return nil, false, ferr
	}
	key := orderFormKey + token
	prior, err := ClaimKey(ctx, tx, v.UserID, key, "order-form", now)
	if err != nil {
		return nil, false, err
	}
	if prior != nil {
		id, perr := strconv.ParseInt(string(prior.Body), 10, 64)
		if perr != nil {
			return nil, false, fault.Invalid("order_token", "this order form was already used; open the service again")
		}
		r, err = Get(ctx, tx, v, id)
		return r, true, err
	}
	if r, err = Submit(ctx, tx, v, org, o, now); err != nil {
		return nil, false, err
	}
	err = StoreResponse(ctx, tx, v.UserID, key, StoredResponse{Status: http.StatusSeeOther, Body: []byte(strconv.FormatInt(r.ID, 10))})
	return r, false, err
}
