// Package export writes tabular files (CSV, XLSX) one row at a time, so a
// file of any length costs the same memory, and keeps every text cell inert
// when a spreadsheet opens it.
package export

import (
	"strconv"
	"strings"

	"github.com/tiski/tiski/money"
)

// Kind says how a cell is written.
type Kind uint8

const (
	// Text is anything a person typed or named (titles, memos, codes); it is
	// defused against formula injection.
	Text Kind = iota
	// Number is a decimal string Tiski produced itself (an id, a quantity).
	Number
	// Amount is a money amount Tiski produced itself, written as a plain
	// decimal in CSV and as a number with the currency's decimals in XLSX.
	Amount
)

// Cell is one value of a row.
type Cell struct {
	Kind   Kind
	Value  string
	Digits int // decimals of an Amount's currency
}

// Writer takes a file's rows in order; Close finishes the file.
type Writer interface {
	Write(row []Cell) error
	Close() error
}

// TextCell is a text cell.
func TextCell(s string) Cell { return Cell{Kind: Text, Value: s} }

// IntCell is an integer cell, such as an id.
func IntCell(n int64) Cell { return Cell{Kind: Number, Value: strconv.FormatInt(n, 10)} }

// NumberCell is a decimal string produced by Tiski, such as a quantity.
func NumberCell(decimal string) Cell { return Cell{Kind: Number, Value: decimal} }

// AmountCell is a money amount.
func AmountCell(m money.Money) Cell {
	digits, err := money.MinorDigits(m.Currency)
	if err != nil {
		digits = 0 // Amount renders raw minor units then, too
	}
	return Cell{Kind: Amount, Value: m.Amount(), Digits: digits}
}

// Header is a row of column names.
func Header(names ...string) []Cell {
	row := make([]Cell, len(names))
	for i, n := range names {
		row[i] = TextCell(n)
	}
	return row
}

// formulaStart holds the characters a spreadsheet reads as the start of a
// formula (OWASP's CSV injection guidance): =, +, -, @, tab, carriage return.
const formulaStart = "=+-@\t\r"

// cellBreaks holds where a reader may start a new cell inside one field:
// at a separator of either dialect when it reads the file with the other
// one (a quoted field not at the start of its cell is not quoted to it),
// and at a line break or a tab.
const cellBreaks = ",;\t\r\n"

// Defuse keeps a text cell inert in every spreadsheet: wherever a cell
// could begin, at the start of the text and right after any of cellBreaks,
// a character of formulaStart gets a leading apostrophe. Amounts never pass
// through here, so "-12.50" stays a number.
func Defuse(s string) string {
	var b []byte // nil until the first apostrophe
	start := true
	for i := 0; i < len(s); i++ {
		if start && strings.IndexByte(formulaStart, s[i]) >= 0 {
			if b == nil {
				b = append(make([]byte, 0, len(s)+4), s[:i]...)
			}
			b = append(b, '\'')
		}
		if b != nil {
			b = append(b, s[i])
		}
		start = strings.IndexByte(cellBreaks, s[i]) >= 0
	}
	if b == nil {
		return s
	}
	return string(b)
}
