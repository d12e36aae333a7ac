package export_test

import (
	"bytes"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/tiski/tiski/export"
	"github.com/tiski/tiski/money"
)

// TestXLSXWritesTextAsTextCells: issue 12, item 7. A formula trick is a
// text cell in the text format, shown as typed (no defusing apostrophe),
// never a formula; an amount stays a number.
func TestXLSXWritesTextAsTextCells(t *testing.T) {
	var buf bytes.Buffer
	w, err := export.NewXLSX(&buf, "Sheet")
	if err != nil {
		t.Fatal(err)
	}
	for _, trick := range formulaTricks {
		if err := w.Write([]export.Cell{export.TextCell(trick), export.AmountCell(money.Money{Minor: -1250, Currency: "EUR"})}); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for i, trick := range formulaTricks {
		text, _ := excelize.CoordinatesToCellName(1, i+1)
		if v, _ := f.GetCellValue("Sheet", text, excelize.Options{RawCellValue: true}); v != trick {
			t.Errorf("%s = %q, want %q as typed", text, v, trick)
		}
		if typ, _ := f.GetCellType("Sheet", text); typ != excelize.CellTypeInlineString {
			t.Errorf("%s has type %v, want an inline string", text, typ)
		}
		if formula, _ := f.GetCellFormula("Sheet", text); formula != "" {
			t.Errorf("%s became the formula %q", text, formula)
		}
		style, _ := f.GetCellStyle("Sheet", text)
		if s, err := f.GetStyle(style); err != nil || s.NumFmt != 49 {
			t.Errorf("%s is not in the text format: %+v, %v", text, s, err)
		}
		amount, _ := excelize.CoordinatesToCellName(2, i+1)
		if v, _ := f.GetCellValue("Sheet", amount, excelize.Options{RawCellValue: true}); v != "-12.5" {
			t.Errorf("%s = %q, want the number -12.5", amount, v)
		}
	}
}
