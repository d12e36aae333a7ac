package export

import (
	"archive/zip"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/xuri/excelize/v2"
)

// XLSX writes one worksheet through excelize's StreamWriter, which keeps at
// most excelize.StreamChunkSize (16 MB) of sheet data in memory and spills
// the rest to a temporary file; Close then zips the workbook straight into
// the destination instead of into a buffer.
type XLSX struct {
	out    io.Writer
	file   *excelize.File
	sheet  *excelize.StreamWriter
	row    int
	styles map[int]int // amount style by currency decimals
	text   int         // the style of text cells: number format "@"
	values []any
}

// NewXLSX starts a workbook with one sheet named sheet, written to w on Close.
func NewXLSX(w io.Writer, sheet string) (*XLSX, error) {
	f := excelize.NewFile()
	if err := f.SetSheetName("Sheet1", sheet); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("xlsx sheet %q: %w", sheet, err)
	}
	sw, err := f.NewStreamWriter(sheet)
	if err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("xlsx sheet %q: %w", sheet, err)
	}
	// Format 49 is "@", Text: a spreadsheet shows the value as it is and
	// keeps it text when someone edits the cell.
	text, err := f.NewStyle(&excelize.Style{NumFmt: 49})
	if err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("xlsx text style: %w", err)
	}
	return &XLSX{out: w, file: f, sheet: sw, styles: map[int]int{}, text: text}, nil
}

// Write appends one row. Text becomes an inline string cell in the text
// format: a cell value is never a formula in a workbook (only a cell's
// formula element is), so text is written as it is, with no defusing
// apostrophe to show. Numbers and amounts become numeric cells. Excel holds numbers as doubles; an amount under 15
// significant digits round-trips exactly.
func (x *XLSX) Write(row []Cell) error {
	x.row++
	x.values = x.values[:0]
	for _, cell := range row {
		switch cell.Kind {
		case Text:
			if cell.Value == "" {
				x.values = append(x.values, nil)
			} else {
				x.values = append(x.values, excelize.Cell{StyleID: x.text, Value: cell.Value})
			}
		case Number, Amount:
			n, err := strconv.ParseFloat(cell.Value, 64)
			if err != nil {
				return fmt.Errorf("xlsx row %d: %q is not a number: %w", x.row, cell.Value, err)
			}
			if cell.Kind == Number {
				x.values = append(x.values, n)
				continue
			}
			style, err := x.amountStyle(cell.Digits)
			if err != nil {
				return err
			}
			x.values = append(x.values, excelize.Cell{StyleID: style, Value: n})
		}
	}
	ref, err := excelize.CoordinatesToCellName(1, x.row)
	if err != nil {
		return err
	}
	return x.sheet.SetRow(ref, x.values)
}

func (x *XLSX) amountStyle(digits int) (int, error) {
	if id, ok := x.styles[digits]; ok {
		return id, nil
	}
	format := "#,##0"
	if digits > 0 {
		format += "." + strings.Repeat("0", digits)
	}
	id, err := x.file.NewStyle(&excelize.Style{CustomNumFmt: &format})
	if err != nil {
		return 0, fmt.Errorf("xlsx amount style: %w", err)
	}
	x.styles[digits] = id
	return id, nil
}

// Discard drops an unfinished workbook and its temporary file.
func (x *XLSX) Discard() error { return x.file.Close() }

// Close finishes the sheet and writes the workbook to the destination.
func (x *XLSX) Close() error {
	defer x.file.Close()
	if err := x.sheet.Flush(); err != nil {
		return fmt.Errorf("xlsx flush: %w", err)
	}
	// WriteToBuffer zips into whatever ZipWriter returns; pointing it at the
	// destination leaves its buffer empty instead of holding the whole file.
	x.file.SetZipWriter(func(io.Writer) excelize.ZipWriter { return zip.NewWriter(x.out) })
	if _, err := x.file.WriteToBuffer(); err != nil {
		return fmt.Errorf("xlsx write: %w", err)
	}
	return nil
}
