package portal

import (
	"github.com/labstack/echo/v4"

	"github.com/tiski/tiski/billing"
	"github.com/tiski/tiski/units"
	"github.com/tiski/tiski/web/httpx"
)

// financeAttention is what waits for finance: open disputes, months in
// review, adjustments waiting for a second finance user, money-role
// proposals waiting for a confirmation.
type financeAttention struct {
	OpenDisputes       int // counted up to attentionPage
	InReview           []string
	PendingAdjustments int // counted up to attentionPage
	PendingGrants      int
}

// attentionPage bounds each count; the page shows "100+" when reached.
const attentionPage = 100

func (s *Pages) financeAttention(c echo.Context) (*financeAttention, error) {
	if !s.Authz.Can(httpx.CurrentPrincipal(c).ID(), 0, "dispute", "resolve") {
		return nil, nil
	}
	ctx := c.Request().Context()
	disputes, err := billing.ListDisputes(ctx, s.DB, billing.DisputeOpen, 0, attentionPage)
	if err != nil {
		return nil, err
	}
	adjustments, err := billing.ListAdjustments(ctx, s.DB, billing.AdjustmentPending, 0, attentionPage)
	if err != nil {
		return nil, err
	}
	periods, err := billing.ListPeriods(ctx, s.DB)
	if err != nil {
		return nil, err
	}
	grants, err := units.PendingGrantProposals(ctx, s.DB)
	if err != nil {
		return nil, err
	}
	fa := &financeAttention{OpenDisputes: len(disputes), PendingAdjustments: len(adjustments), PendingGrants: len(grants)}
	for _, p := range periods {
		if p.Status == billing.PeriodReview {
			fa.InReview = append(fa.InReview, p.Month)
		}
	}
	return fa, nil
}
