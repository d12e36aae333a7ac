package api

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/uptrace/bun"

	"github.com/tiski/tiski/audit"
	"github.com/tiski/tiski/billing"
	"github.com/tiski/tiski/export"
	"github.com/tiski/tiski/money"
	"github.com/tiski/tiski/web/httpx"
)

type journalLineJSON struct {
	EntryID         string      `json:"entry_id"`
	PostingID       string      `json:"posting_id"`
	Date            string      `json:"date"`
	Period          string      `json:"period"`
	LateFrom        *string     `json:"late_from"`
	SourceKind      string      `json:"source_kind"`
	SourceID        *string     `json:"source_id"`
	ChargeID        *string     `json:"charge_id"`
	RequestID       *string     `json:"request_id"`
	RequestNumber   string      `json:"request_number"`
	ServiceCode     string      `json:"service_code"`
	ReversesEntryID *string     `json:"reverses_entry_id"`
	CreditsEntryID  *string     `json:"credits_entry_id"`
	CostCenter      string      `json:"cost_center"`
	GLAccount       string      `json:"gl_account"`
	Debit           money.Money `json:"debit"`
	Credit          money.Money `json:"credit"`
	Memo            string      `json:"memo"`
}

func toJournalLineJSON(l *billing.JournalLine) journalLineJSON {
	return journalLineJSON{EntryID: httpx.FormatID(l.EntryID), PostingID: httpx.FormatID(l.PostingID), Date: l.Date, Period: l.Period,
		LateFrom: l.LateFrom, SourceKind: l.SourceKind, SourceID: optionalID(l.SourceID), ChargeID: optionalID(l.ChargeID),
		RequestID: optionalID(l.RequestID), RequestNumber: l.RequestNumber(), ServiceCode: l.ServiceCode,
		ReversesEntryID: optionalID(l.ReversesEntryID), CreditsEntryID: optionalID(l.CreditsEntryID), CostCenter: l.CostCenter,
		GLAccount: l.GLAccount, Debit: money.Money{Minor: l.DebitMinor, Currency: l.Currency},
		Credit: money.Money{Minor: l.CreditMinor, Currency: l.Currency}, Memo: l.Memo}
}

// exportJournal handles GET /exports/journal/{month}[.csv|.xlsx]: the
// month's GL journal for finance and auditors, one row per posting, as JSON
// (a bare month), CSV or XLSX.
func (s *Handlers) exportJournal(c echo.Context) error {
	month, format, err := monthFile(c, "export")
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	filename := "journal-" + month + "." + format
	switch format {
	case "csv":
		dialect, err := httpx.CSVDialect(c)
		if err != nil {
			return err
		}
		return s.download(c, csvContentType, filename, func(w io.Writer) error {
			cw := export.NewCSVIn(w, dialect)
			if err := billing.WriteJournal(ctx, s.DB, cw, month); err != nil {
				return err
			}
			return cw.Close()
		})
	case "xlsx":
		return s.download(c, xlsxContentType, filename, func(w io.Writer) error {
			xw, err := export.NewXLSX(w, "Journal")
			if err != nil {
				return err
			}
			if err := billing.WriteJournal(ctx, s.DB, xw, month); err != nil {
				_ = xw.Discard()
				return err
			}
			return xw.Close()
		})
	}
	return s.stream(c, echo.MIMEApplicationJSON, func(w io.Writer) error {
		bw := bufio.NewWriterSize(w, 32<<10)
		fmt.Fprintf(bw, `{"month":%q,"lines":[`, month)
		if err := writeJSONItems(bw, w, billing.JournalLines(ctx, s.DB, month), toJournalLineJSON); err != nil {
			return err
		}
		bw.WriteString("]}\n")
		return flushTo(bw, w)
	})
}

type glMappingJSON struct {
	ServiceID       *string   `json:"service_id"` // null: the organisation's default
	ExpenseAccount  string    `json:"expense_account"`
	RecoveryAccount string    `json:"recovery_account"`
	UpdatedBy       *string   `json:"updated_by"`
	UpdatedAt       time.Time `json:"updated_at"`
}

func toGLMappingJSON(m *billing.GLMapping) glMappingJSON {
	j := glMappingJSON{ExpenseAccount: m.ExpenseAccount, RecoveryAccount: m.RecoveryAccount, UpdatedBy: optionalID(m.UpdatedBy),
		UpdatedAt: m.UpdatedAt}
	if m.ServiceID != billing.DefaultGLService {
		id := m.ServiceID
		j.ServiceID = optionalID(&id)
	}
	return j
}

// listGLMappings handles GET /gl-mappings: the organisation's default
// mapping and every service's own, for finance and auditors.
func (s *Handlers) listGLMappings(c echo.Context) error {
	if err := s.BillingViewer(c).MayReadGL(); err != nil {
		return err
	}
	list, err := billing.ListGLMappings(c.Request().Context(), s.DB)
	if err != nil {
		return err
	}
	out := make([]glMappingJSON, len(list))
	for i := range list {
		out[i] = toGLMappingJSON(&list[i])
	}
	return c.JSON(http.StatusOK, map[string]any{"items": out})
}

type glMappingBody struct {
	ExpenseAccount  string `json:"expense_account"`
	RecoveryAccount string `json:"recovery_account"`
}

// putGLMapping handles PUT /gl-mappings/{service}: finance maps a service
// ("default": the organisation's default) to its GL accounts, from the next
// posting on.
func (s *Handlers) putGLMapping(c echo.Context) error {
	serviceID := int64(billing.DefaultGLService)
	if raw := c.Param("service"); raw != "default" {
		id, err := httpx.ParseID("service", raw)
		if err != nil {
			return err
		}
		serviceID = id
	}
	v := s.BillingViewer(c)
	if err := v.MaySetGL(); err != nil {
		return err
	}
	var b glMappingBody
	if err := httpx.DecodeJSON(c, &b); err != nil {
		return err
	}
	ctx := c.Request().Context()
	var m *billing.GLMapping
	err := audit.InTx(ctx, s.DB, func(tx bun.Tx) (err error) {
		m, err = billing.SetGLMapping(ctx, tx, v, billing.GLMapping{ServiceID: serviceID, ExpenseAccount: b.ExpenseAccount,
			RecoveryAccount: b.RecoveryAccount}, time.Now().UTC())
		return err
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toGLMappingJSON(m))
}

type balanceJSON struct {
	Opening money.Money `json:"opening"`
	Debit   money.Money `json:"debit"`
	Credit  money.Money `json:"credit"`
	Closing money.Money `json:"closing"`
}

type trialBalanceRowJSON struct {
	UnitID   *string     `json:"unit_id"`
	UnitCode string      `json:"unit_code"`
	UnitName string      `json:"unit_name"`
	Currency string      `json:"currency"`
	Books    balanceJSON `json:"books"`
	Showback balanceJSON `json:"showback"`
}

func toTrialBalanceRowJSON(r *billing.TrialBalanceRow) trialBalanceRowJSON {
	b := func(x billing.Balance) balanceJSON {
		m := func(minor int64) money.Money { return money.Money{Minor: minor, Currency: r.Currency} }
		return balanceJSON{Opening: m(x.OpeningMinor), Debit: m(x.DebitMinor), Credit: m(x.CreditMinor), Closing: m(x.ClosingMinor())}
	}
	j := trialBalanceRowJSON{UnitCode: r.UnitCode, UnitName: r.UnitName, Currency: r.Currency, Books: b(r.Books), Showback: b(r.Showback)}
	if r.UnitID != 0 {
		id := r.UnitID
		j.UnitID = optionalID(&id)
	}
	return j
}

// getTrialBalance handles GET /trial-balance/{month}[.csv|.xlsx]: each
// unit's opening balance, debits, credits and closing balance for the
// month, showback apart, and totals that sum to zero; for finance and
// auditors.
func (s *Handlers) getTrialBalance(c echo.Context) error {
	if err := s.BillingViewer(c).MayReadTrialBalance(); err != nil {
		return err
	}
	month, format, err := monthFile(c, "trial balance")
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	tb, err := billing.GetTrialBalance(ctx, s.DB, month)
	if err != nil {
		return err
	}
	filename := "trial-balance-" + month + "." + format
	switch format {
	case "csv":
		dialect, err := httpx.CSVDialect(c)
		if err != nil {
			return err
		}
		return s.download(c, csvContentType, filename, func(w io.Writer) error {
			cw := export.NewCSVIn(w, dialect)
			if err := billing.WriteTrialBalance(cw, tb); err != nil {
				return err
			}
			return cw.Close()
		})
	case "xlsx":
		return s.download(c, xlsxContentType, filename, func(w io.Writer) error {
			xw, err := export.NewXLSX(w, "Trial balance")
			if err != nil {
				return err
			}
			if err := billing.WriteTrialBalance(xw, tb); err != nil {
				_ = xw.Discard()
				return err
			}
			return xw.Close()
		})
	}
	out := struct {
		Month  string                `json:"month"`
		Rows   []trialBalanceRowJSON `json:"rows"`
		Totals []trialBalanceRowJSON `json:"totals"`
	}{Month: month, Rows: []trialBalanceRowJSON{}, Totals: []trialBalanceRowJSON{}}
	for i := range tb.Rows {
		out.Rows = append(out.Rows, toTrialBalanceRowJSON(&tb.Rows[i]))
	}
	for i := range tb.Totals {
		out.Totals = append(out.Totals, toTrialBalanceRowJSON(&tb.Totals[i]))
	}
	return c.JSON(http.StatusOK, out)
}
