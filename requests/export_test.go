package requests

import (
	"context"

	"github.com/uptrace/bun"
)

// ListOr is List on the plain OR visibility rule, never the union of
// branches, for tests that compare the two.
func ListOr(ctx context.Context, idb bun.IDB, v Viewer, f Filter) ([]Request, error) {
	return list(ctx, idb, v, f, false)
}
