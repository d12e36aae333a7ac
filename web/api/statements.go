package api

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/tiski/tiski/billing"
	"github.com/tiski/tiski/export"
	"github.com/tiski/tiski/fault"
	"github.com/tiski/tiski/money"
	"github.com/tiski/tiski/units"
	"github.com/tiski/tiski/web/httpx"
)

const (
	csvContentType  = "text/csv; charset=utf-8"
	xlsxContentType = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
	// flushLines is how many JSON lines go out between pushes to the client.
	flushLines = 500
)

type statementLineJSON struct {
	ChargeID         string                `json:"charge_id"`
	EntryID          *string               `json:"entry_id"`
	RequestID        *string               `json:"request_id"`
	RequestNumber    string                `json:"request_number"`
	Title            string                `json:"title"`
	ServiceID        string                `json:"service_id"`
	ServiceCode      string                `json:"service_code"`
	ServiceName      string                `json:"service_name"`
	ConsumerUnitID   string                `json:"consumer_unit_id"`
	ConsumerUnitCode string                `json:"consumer_unit_code"`
	ProviderUnitID   string                `json:"provider_unit_id"`
	ProviderUnitCode string                `json:"provider_unit_code"`
	Quantity         string                `json:"quantity"`
	Minutes          *int64                `json:"minutes"`
	Time             *string               `json:"time"`
	UnitPrice        money.Money           `json:"unit_price"`
	Amount           money.Money           `json:"amount"`
	Net              money.Money           `json:"net"`
	Status           string                `json:"status"`
	Showback         bool                  `json:"showback"`
	LateFrom         *string               `json:"late_from"`
	Dispute          *statementDisputeJSON `json:"dispute"`
}

type statementDisputeJSON struct {
	ID      *string     `json:"id"`
	Status  string      `json:"status"`
	Credit  money.Money `json:"credit"`
	EntryID *string     `json:"entry_id"`
}

type statementTotalsJSON struct {
	Count     int64        `json:"count"`
	Charged   money.Money  `json:"charged"`
	Credited  money.Money  `json:"credited"`
	Adjusted  money.Money  `json:"adjusted"`
	Net       money.Money  `json:"net"`
	Showback  money.Money  `json:"showback"`
	Recovered *money.Money `json:"recovered,omitempty"`
}

func toStatementLineJSON(l *billing.StatementLine) statementLineJSON {
	m := func(minor int64) money.Money { return money.Money{Minor: minor, Currency: l.Currency} }
	j := statementLineJSON{ChargeID: httpx.FormatID(l.ChargeID), EntryID: optionalID(l.EntryID), RequestID: optionalID(l.RequestID), RequestNumber: l.RequestNumber(),
		Title: l.Title, ServiceID: httpx.FormatID(l.ServiceID), ServiceCode: l.ServiceCode, ServiceName: l.ServiceName,
		ConsumerUnitID: httpx.FormatID(l.ConsumerUnitID), ConsumerUnitCode: l.ConsumerUnitCode,
		ProviderUnitID: httpx.FormatID(l.ProviderUnitID), ProviderUnitCode: l.ProviderUnitCode, Quantity: l.Quantity,
		UnitPrice: m(l.UnitPriceMinor), Amount: m(l.AmountMinor), Net: m(l.NetMinor()), Status: l.Status,
		Showback: l.Showback, LateFrom: l.LateFrom, Minutes: l.Minutes}
	if t := l.Time(); t != "" {
		j.Time = &t
	}
	if l.DisputeStatus != nil {
		j.Dispute = &statementDisputeJSON{ID: optionalID(l.DisputeID), Status: *l.DisputeStatus, Credit: m(l.CreditMinor),
			EntryID: optionalID(l.DisputeEntryID)}
	}
	return j
}

type statementMovementJSON struct {
	EntryID  string      `json:"entry_id"`
	Kind     string      `json:"kind"`
	SourceID string      `json:"source_id"`
	ChargeID *string     `json:"charge_id"`
	Date     string      `json:"date"`
	LateFrom *string     `json:"late_from"`
	Reason   string      `json:"reason"`
	Amount   money.Money `json:"amount"`
	Showback bool        `json:"showback"`
}

func toStatementMovementJSON(m billing.Movement) statementMovementJSON {
	return statementMovementJSON{EntryID: httpx.FormatID(m.EntryID), Kind: m.Kind, SourceID: httpx.FormatID(m.SourceID),
		ChargeID: optionalID(m.ChargeID), Date: m.Date, LateFrom: m.LateFrom, Reason: m.Reason,
		Amount: money.Money{Minor: m.AmountMinor, Currency: m.Currency}, Showback: m.Showback}
}

type rollupUnitJSON struct {
	UnitID   string              `json:"unit_id"`
	UnitCode string              `json:"unit_code"`
	UnitName string              `json:"unit_name"`
	ParentID *string             `json:"parent_id"`
	Totals   statementTotalsJSON `json:"totals"`
}

type rollupJSON struct {
	Units  []rollupUnitJSON    `json:"units"`
	Totals statementTotalsJSON `json:"totals"`
}

func toStatementTotalsJSON(t billing.StatementTotals, side billing.Side) statementTotalsJSON {
	m := func(minor int64) money.Money { return money.Money{Minor: minor, Currency: t.Currency} }
	j := statementTotalsJSON{Count: t.Lines, Charged: m(t.ChargedMinor), Credited: m(t.CreditedMinor), Adjusted: m(t.AdjustedMinor), Net: m(t.NetMinor),
		Showback: m(t.ShowbackNet)}
	if side == billing.ProviderSide {
		recovered := m(t.RecoveredMinor())
		j.Recovered = &recovered
	}
	return j
}

// getStatement handles GET /units/{id}/statements/{month}[.csv|.xlsx]: what
// the unit was charged in month.
func (s *Handlers) getStatement(c echo.Context) error { return s.statement(c, billing.ConsumerSide) }

// getRecovery handles GET /units/{id}/recovery/{month}[.csv|.xlsx]: what the
// unit, as a provider, charged in month.
func (s *Handlers) getRecovery(c echo.Context) error { return s.statement(c, billing.ProviderSide) }

// statement serves one side of a unit's month to managers of the unit
// (inherited), finance and auditors; to anyone else it does not exist.
func (s *Handlers) statement(c echo.Context, side billing.Side) error {
	unitID, err := httpx.PathID(c, "id", "statement")
	if err != nil {
		return err
	}
	if !s.Allowed(c, unitID, "statement", "read") {
		return fault.NotFound("statement")
	}
	month, format, err := monthFile(c, "statement")
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	unit, err := units.GetUnit(ctx, s.DB, unitID)
	if err != nil {
		return err
	}
	name, sheet := "statement", "Statement"
	if side == billing.ProviderSide {
		name, sheet = "recovery", "Recovery"
	}
	filename := fmt.Sprintf("%s-%s-%s.%s", name, fileSafe(unit.Code), month, format)
	switch format {
	case "csv":
		dialect, err := httpx.CSVDialect(c)
		if err != nil {
			return err
		}
		return s.download(c, csvContentType, filename, func(w io.Writer) error {
			cw := export.NewCSVIn(w, dialect)
			if _, err := billing.WriteStatement(ctx, s.DB, cw, side, unitID, month, s.Org.Currency); err != nil {
				return err
			}
			return cw.Close()
		})
	case "xlsx":
		return s.download(c, xlsxContentType, filename, func(w io.Writer) error {
			xw, err := export.NewXLSX(w, sheet)
			if err != nil {
				return err
			}
			if _, err := billing.WriteStatement(ctx, s.DB, xw, side, unitID, month, s.Org.Currency); err != nil {
				_ = xw.Discard()
				return err
			}
			return xw.Close()
		})
	}
	period, err := billing.GetPeriod(ctx, s.DB, month)
	if err != nil {
		return err
	}
	rollup := false
	switch c.QueryParam("rollup") {
	case "", "false":
	case "true":
		rollup = true
	default:
		return fault.Invalid("rollup", "rollup must be true or false")
	}
	return s.stream(c, echo.MIMEApplicationJSON, func(w io.Writer) error {
		return s.writeStatementJSON(ctx, w, side, unit, period, rollup)
	})
}

// writeStatementJSON writes the statement object with its lines as they
// are read, and the totals after them. bw keeps the first write error and
// Flush reports it.
//
// With rollup, a "rollup" object follows: the totals of the unit and of
// every unit below it, one subtotal each, and their sum.
func (s *Handlers) writeStatementJSON(ctx context.Context, w io.Writer, side billing.Side, unit *units.Unit, period *billing.Period, rollup bool) error {
	month := period.Month
	bw := bufio.NewWriterSize(w, 32<<10)
	str := func(v string) string { b, _ := json.Marshal(v); return string(b) }
	fmt.Fprintf(bw, `{"unit_id":%s,"unit_code":%s,"month":%s,"period_status":%s,"lines":[`,
		str(httpx.FormatID(unit.ID)), str(unit.Code), str(month), str(period.Status))
	if err := writeJSONItems(bw, w, billing.StatementLines(ctx, s.DB, side, unit.ID, month), toStatementLineJSON); err != nil {
		return err
	}
	totals, err := billing.SumStatement(ctx, s.DB, side, unit.ID, month, s.Org.Currency)
	if err != nil {
		return err
	}
	raw, err := json.Marshal(toStatementTotalsJSON(totals, side))
	if err != nil {
		return err
	}
	moves, err := billing.StatementMovements(ctx, s.DB, side, unit.ID, month)
	if err != nil {
		return err
	}
	movesJSON := make([]statementMovementJSON, len(moves))
	for i, m := range moves {
		movesJSON[i] = toStatementMovementJSON(m)
	}
	rawMoves, err := json.Marshal(movesJSON)
	if err != nil {
		return err
	}
	fmt.Fprintf(bw, `],"movements":%s,"totals":%s`, rawMoves, raw)
	if rollup {
		parts, sum, err := billing.RollUp(ctx, s.DB, side, unit.ID, month, s.Org.Currency)
		if err != nil {
			return err
		}
		r := rollupJSON{Totals: toStatementTotalsJSON(sum, side)}
		for _, p := range parts {
			r.Units = append(r.Units, rollupUnitJSON{UnitID: httpx.FormatID(p.UnitID), UnitCode: p.UnitCode, UnitName: p.UnitName,
				ParentID: optionalID(p.ParentID), Totals: toStatementTotalsJSON(p.Totals, side)})
		}
		rawRollup, err := json.Marshal(r)
		if err != nil {
			return err
		}
		fmt.Fprintf(bw, `,"rollup":%s`, rawRollup)
	}
	bw.WriteString("}\n")
	return flushTo(bw, w)
}

// writeJSONItems writes the rows of seq, each as toJSON makes it, as the
// comma-separated items of a JSON array whose brackets the caller writes,
// flushing to w every flushLines rows so a long export streams.
func writeJSONItems[T, J any](bw *bufio.Writer, w io.Writer, seq iter.Seq2[T, error], toJSON func(*T) J) error {
	n := 0
	for row, err := range seq {
		if err != nil {
			return err
		}
		if n > 0 {
			bw.WriteByte(',')
		}
		raw, err := json.Marshal(toJSON(&row))
		if err != nil {
			return err
		}
		bw.Write(raw)
		if n++; n%flushLines == 0 {
			if err := flushTo(bw, w); err != nil {
				return err
			}
		}
	}
	return nil
}

func flushTo(bw *bufio.Writer, w io.Writer) error {
	if err := bw.Flush(); err != nil {
		return err
	}
	if f, ok := w.(interface{ Flush() error }); ok {
		return f.Flush()
	}
	return nil
}

// monthFile reads the {month} path parameter ("2026-11", "2026-11.csv"):
// the month and the file format, a fault naming what when the format is
// not one we write (not found) or the month is malformed.
func monthFile(c echo.Context, what string) (month, format string, err error) {
	month, format, ok := splitFormat(c.Param("month"))
	if !ok {
		return "", "", fault.NotFound(what)
	}
	if err := billing.CheckMonth(month); err != nil {
		return "", "", err
	}
	return month, format, nil
}

// splitFormat splits "2026-11.csv" into the month and the file format;
// a bare month is JSON. ok is false for a format we do not write.
func splitFormat(param string) (month, format string, ok bool) {
	month, format, dotted := strings.Cut(param, ".")
	switch {
	case !dotted:
		return month, "json", true
	case format == "csv", format == "xlsx":
		return month, format, true
	default:
		return "", "", false
	}
}

// fileSafe keeps a unit code usable in a file name.
func fileSafe(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' {
			return r
		}
		return '_'
	}, s)
}

// download streams a file as an attachment.
func (s *Handlers) download(c echo.Context, contentType, filename string, write func(w io.Writer) error) error {
	c.Response().Header().Set(echo.HeaderContentDisposition, fmt.Sprintf(`attachment; filename="%s"`, filename))
	return s.stream(c, contentType, write)
}

// stream sends a 200 response whose body write produces bit by bit, straight
// to the client. An error before the first byte is an ordinary error
// response. After it, the status is sent and the body may look whole, so
// the connection is cut instead: the client sees a broken download, never a
// short file it could mistake for the full one.
func (s *Handlers) stream(c echo.Context, contentType string, write func(w io.Writer) error) error {
	h := c.Response().Header()
	h.Set(echo.HeaderContentType, contentType)
	err := write(responseStream{c.Response()})
	if err == nil {
		return nil
	}
	if !c.Response().Committed {
		h.Del(echo.HeaderContentDisposition)
		return err
	}
	s.Log.Error("download failed after it started", "err", err, "path", c.Path(),
		"request_id", h.Get(echo.HeaderXRequestID))
	panic(http.ErrAbortHandler)
}

// responseStream writes through echo's response and flushes the connection
// underneath it once something has been written.
type responseStream struct{ r *echo.Response }

func (rs responseStream) Write(p []byte) (int, error) { return rs.r.Write(p) }

func (rs responseStream) Flush() error {
	if !rs.r.Committed {
		return nil
	}
	if err := http.NewResponseController(rs.r.Writer).Flush(); err != nil && !errors.Is(err, http.ErrNotSupported) {
		return err
	}
	return nil
}
