package export_test

import (
	"bytes"
	"encoding/csv"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/tiski/tiski/export"
)

const formulaStart = "=+-@\t\r"

// cellStarts lists every place a spreadsheet may begin a cell in s: its
// start and right after a separator of either dialect, a tab or a line
// break.
func cellStarts(s string) []int {
	out := []int{0}
	for i := 0; i < len(s); i++ {
		if strings.IndexByte(",;\t\r\n", s[i]) >= 0 {
			out = append(out, i+1)
		}
	}
	return out
}

// FuzzDefuse: text from users (titles, names, reasons) goes into CSV and
// XLSX files finance opens in a spreadsheet. After Defuse no cell that a
// reader may begin inside the text starts with a formula character;
// defusing twice changes nothing more; only apostrophes are added. A CSV
// row of it, in either dialect, reads back as the defused text, and an XLSX
// cell holds the text as it was, as a value, never a formula.
func FuzzDefuse(f *testing.F) {
	for _, s := range []string{"=SUM(A1:A9)", "+1", "-2", "@cmd", "\t=x", "\r=x", "a,=b", "a;=b", "a\n=b", "plain", "",
		"'=already", "\"=quoted\"", " =space", "x;\"=y\"", "=HYPERLINK(\"http://evil\")", "ä=ö", "\x00=", "a,,;;=\n\r\t"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d := export.Defuse(s)
		for _, i := range cellStarts(d) {
			if i < len(d) && strings.IndexByte(formulaStart, d[i]) >= 0 {
				t.Fatalf("Defuse(%q) = %q: a cell at %d starts with %q", s, d, i, d[i])
			}
		}
		if again := export.Defuse(d); again != d {
			t.Fatalf("Defuse(Defuse(%q)) = %q, not %q", s, again, d)
		}
		if strings.ReplaceAll(d, "'", "") != strings.ReplaceAll(s, "'", "") || len(d) < len(s) {
			t.Fatalf("Defuse(%q) = %q changed more than apostrophes", s, d)
		}
		for _, dialect := range []export.Dialect{export.Comma, export.Semicolon} {
			var buf bytes.Buffer
			w := export.NewCSVIn(&buf, dialect)
			if err := w.Write([]export.Cell{export.TextCell(s), export.TextCell("end")}); err != nil {
				t.Fatal(err)
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			r := csv.NewReader(&buf)
			r.Comma = rune(dialect.Separator)
			row, err := r.Read()
			if strings.ContainsAny(d, "\r") {
				// encoding/csv folds \r\n inside a quoted field to \n, so the
				// text is not compared; the cell check above holds.
				continue
			}
			if err != nil || len(row) != 2 || row[0] != d || row[1] != "end" {
				t.Fatalf("%q in %q: %q read back as %q, %v", s, dialect.Separator, buf.String(), row, err)
			}
		}
	})
}

// FuzzXLSXText: a text cell of a workbook is a value whatever it holds.
func FuzzXLSXText(f *testing.F) {
	for _, s := range []string{"=SUM(A1:A9)", "+1", "@cmd", "plain", "<tag>&amp;", "\"q\"", "ä"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var buf bytes.Buffer
		x, err := export.NewXLSX(&buf, "Sheet")
		if err != nil {
			t.Fatal(err)
		}
		if err := x.Write([]export.Cell{export.TextCell(s)}); err != nil {
			t.Fatal(err)
		}
		if err := x.Close(); err != nil {
			t.Fatal(err)
		}
		book, err := excelize.OpenReader(&buf)
		if err != nil {
			t.Fatalf("%q: the workbook does not open: %v", s, err)
		}
		defer book.Close()
		if formula, err := book.GetCellFormula("Sheet", "A1"); err != nil || formula != "" {
			t.Fatalf("%q: cell A1 holds formula %q, %v", s, formula, err)
		}
	})
}
