package export_test

import (
	"bytes"
	"encoding/csv"
	"strings"
	"testing"

	"github.com/tiski/tiski/export"
	"github.com/tiski/tiski/money"
)

// formulaTricks are texts a person could type into a title or a memo to
// make a spreadsheet run something when it opens the export.
var formulaTricks = []string{
	"=1+1",
	"+cmd|' /C calc'!A0",
	"-2+3",
	"@SUM(A1:A9)",
	"\t=1+1",
	"\r=1+1",
	`=HYPERLINK("http://evil.example";"click")`,
	"Laptop;=1+1",
	"Laptop,=1+1",
	"Laptop;+cmd|' /C calc'!A0",
	"Laptop,@SUM(A1)",
	"two\n=lines",
	"two\r\n-lines",
	"tab\t=1",
	`quote";=1+1`,
	`"=1+1"`,
	";;=1",
	",-1+1",
	"plain; with, separators",
}

// readAsSpreadsheet splits data into cells the way a spreadsheet opening a
// CSV with the given list separator does: a quote opens a quoted field only
// as the first character of a cell (anywhere else it is a literal), inside
// one a doubled quote is a quote, and an unquoted cell ends at the
// separator or a line break.
func readAsSpreadsheet(data string, sep byte) [][]string {
	var rows [][]string
	var row []string
	var cell strings.Builder
	endCell := func() { row = append(row, cell.String()); cell.Reset() }
	endRow := func() { endCell(); rows = append(rows, row); row = nil }
	for i := 0; i < len(data); {
		if cell.Len() == 0 && data[i] == '"' {
			i++
			for i < len(data) {
				if data[i] == '"' {
					if i+1 < len(data) && data[i+1] == '"' {
						cell.WriteByte('"')
						i += 2
						continue
					}
					i++
					break
				}
				cell.WriteByte(data[i])
				i++
			}
			// whatever follows the closing quote up to the separator is
			// appended as it is
			for i < len(data) && data[i] != sep && data[i] != '\n' && data[i] != '\r' {
				cell.WriteByte(data[i])
				i++
			}
			continue
		}
		switch data[i] {
		case sep:
			endCell()
			i++
		case '\r', '\n':
			if data[i] == '\r' && i+1 < len(data) && data[i+1] == '\n' {
				i++
			}
			endRow()
			i++
		default:
			cell.WriteByte(data[i])
			i++
		}
	}
	if cell.Len() > 0 || row != nil {
		endRow()
	}
	return rows
}

// inert reports whether a spreadsheet takes the cell as a value: it does
// not start like a formula, or it is a plain number such as -12.50 or
// -12,50.
func inert(cell string) bool {
	if cell == "" || !strings.ContainsRune("=+-@\t\r", rune(cell[0])) {
		return true
	}
	rest := strings.TrimPrefix(cell, "-")
	if rest == "" {
		return false
	}
	seps := 0
	for _, r := range rest {
		switch {
		case r >= '0' && r <= '9':
		case r == '.' || r == ',':
			seps++
		default:
			return false
		}
	}
	return seps <= 1
}

func writeTricks(t *testing.T, d export.Dialect) string {
	t.Helper()
	var buf bytes.Buffer
	w := export.NewCSVIn(&buf, d)
	if err := w.Write(export.Header("id", "title", "amount", "quantity", "memo")); err != nil {
		t.Fatal(err)
	}
	for i, trick := range formulaTricks {
		row := []export.Cell{export.IntCell(int64(i + 1)), export.TextCell(trick),
			export.AmountCell(money.Money{Minor: -1250, Currency: "EUR"}), export.NumberCell("0.5"), export.TextCell(trick)}
		if err := w.Write(row); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

// TestCSVFormulaTricksOpenInertWithEitherSeparator is the finding of issue
// 12, item 7: a CSV read with the other list separator than it was written
// with (a Finnish spreadsheet opening a comma file, or the other way round)
// splits text fields into new cells, which must be inert as well.
func TestCSVFormulaTricksOpenInertWithEitherSeparator(t *testing.T) {
	for _, d := range []export.Dialect{export.Comma, export.Semicolon} {
		data := writeTricks(t, d)
		for _, sep := range []byte{',', ';', '\t'} {
			rows := readAsSpreadsheet(data, sep)
			if len(rows) < 1+len(formulaTricks) {
				t.Errorf("written with %q, read with %q: %d rows", d.Separator, sep, len(rows))
			}
			for r, row := range rows {
				for _, cell := range row {
					if !inert(cell) {
						t.Errorf("written with %q, read with %q: row %d cell %q is a formula", d.Separator, sep, r, cell)
					}
				}
			}
		}
	}
}

// TestCSVReadsBackInItsOwnDialect: read with its own separator by a CSV
// reader, each row has its five fields, the text defused and nothing else
// changed, and the amount in the dialect's decimals.
func TestCSVReadsBackInItsOwnDialect(t *testing.T) {
	for _, tc := range []struct {
		d              export.Dialect
		amount, number string
	}{{export.Comma, "-12.50", "0.5"}, {export.Semicolon, "-12,50", "0,5"}} {
		data := writeTricks(t, tc.d)
		r := csv.NewReader(strings.NewReader(data))
		r.Comma = rune(tc.d.Separator)
		records, err := r.ReadAll()
		if err != nil {
			t.Fatalf("%q: %v", tc.d.Separator, err)
		}
		if len(records) != 1+len(formulaTricks) {
			t.Fatalf("%q: %d records", tc.d.Separator, len(records))
		}
		for i, trick := range formulaTricks {
			rec := records[1+i]
			// encoding/csv reads \r\n inside a quoted field as \n
			want := strings.ReplaceAll(export.Defuse(trick), "\r\n", "\n")
			if len(rec) != 5 || rec[1] != want || rec[4] != want || rec[2] != tc.amount || rec[3] != tc.number {
				t.Errorf("%q: row %d = %q, want title %q", tc.d.Separator, i, rec, want)
			}
		}
	}
}

// TestCSVQuotesEitherSeparator: a text field holding the separator of the
// other dialect is quoted too, so a reader of either dialect keeps it one
// cell; a plain one is not.
func TestCSVQuotesEitherSeparator(t *testing.T) {
	for _, d := range []export.Dialect{export.Comma, export.Semicolon} {
		var buf bytes.Buffer
		w := export.NewCSVIn(&buf, d)
		cells := []export.Cell{export.TextCell("a;b"), export.TextCell("a,b"), export.TextCell(`say "hi"`),
			export.TextCell("tab\there"), export.TextCell("line\nbreak"), export.TextCell("plain")}
		if err := w.Write(cells); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		s := string(d.Separator)
		want := strings.Join([]string{`"a;b"`, `"a,b"`, `"say ""hi"""`, "\"tab\there\"", "\"line\nbreak\"", "plain"}, s) + "\r\n"
		if buf.String() != want {
			t.Errorf("%q: wrote %q, want %q", d.Separator, buf.String(), want)
		}
	}
}

func TestDefuse(t *testing.T) {
	for in, want := range map[string]string{
		"":             "",
		"Laptop":       "Laptop",
		"a - b":        "a - b",
		"=1":           "'=1",
		"\t=1":         "'\t'=1",
		"a;=1,+2":      "a;'=1,'+2",
		"line\n@x":     "line\n'@x",
		"Ääkköset; ok": "Ääkköset; ok",
	} {
		if got := export.Defuse(in); got != want {
			t.Errorf("Defuse(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestDialectFor(t *testing.T) {
	if export.DialectFor("fi") != export.Semicolon || export.DialectFor("en") != export.Comma {
		t.Error("Finnish users get semicolons and decimal commas, others commas and points")
	}
	for _, sep := range []string{"semicolon", ";"} {
		if d, ok := export.ParseSeparator(sep); !ok || d != export.Semicolon {
			t.Errorf("ParseSeparator(%q) = %v, %v", sep, d, ok)
		}
	}
	if _, ok := export.ParseSeparator("tab"); ok {
		t.Error("tab is not a separator Tiski writes")
	}
}
