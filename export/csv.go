package export

import (
	"bufio"
	"io"
	"strings"
)

// flushEvery is how many rows a CSV writes between pushes to the client.
const flushEvery = 500

// Dialect is how a CSV file separates its fields and writes decimals: the
// two conventions spreadsheets read, by the list separator of the reader's
// regional settings.
type Dialect struct {
	Separator    byte // ',' or ';'
	DecimalComma bool // 12,50 rather than 12.50
}

var (
	// Comma is the English convention: comma-separated, decimal point.
	Comma = Dialect{Separator: ','}
	// Semicolon is the Finnish (and most of Europe's) convention:
	// semicolon-separated, decimal comma.
	Semicolon = Dialect{Separator: ';', DecimalComma: true}
)

// DialectFor is the dialect a user of the locale gets by default.
func DialectFor(locale string) Dialect {
	if locale == "fi" {
		return Semicolon
	}
	return Comma
}

// ParseSeparator reads a sep parameter: "comma" (or ",") or "semicolon"
// (or ";"). ok is false for anything else.
func ParseSeparator(sep string) (d Dialect, ok bool) {
	switch sep {
	case "comma", ",":
		return Comma, true
	case "semicolon", ";":
		return Semicolon, true
	}
	return Dialect{}, false
}

// CSV writes separated rows straight to its writer. If the writer can
// flush (an HTTP response), it is flushed every few hundred rows so the
// client receives the file while it is being read from the database.
//
// It writes the fields itself rather than through encoding/csv, which
// quotes a field only for its own separator: a comma file read with
// semicolons (or the other way round) would split an unquoted field there
// and start a new cell, perhaps one a spreadsheet evaluates. Here a text
// field is quoted whenever it holds either separator, a quote, a tab or a
// line break, and Defuse keeps every place a cell could start inert.
type CSV struct {
	out     *bufio.Writer
	dialect Dialect
	flusher interface{ Flush() error }
	rows    int
	line    []byte
}

// NewCSV writes comma-separated CSV with decimal points to w.
func NewCSV(w io.Writer) *CSV { return NewCSVIn(w, Comma) }

// NewCSVIn writes CSV in the dialect d to w.
func NewCSVIn(w io.Writer, d Dialect) *CSV {
	c := &CSV{out: bufio.NewWriterSize(w, 32<<10), dialect: d}
	c.flusher, _ = w.(interface{ Flush() error })
	return c
}

// Write writes one row.
func (c *CSV) Write(row []Cell) error {
	c.line = c.line[:0]
	for i, cell := range row {
		if i > 0 {
			c.line = append(c.line, c.dialect.Separator)
		}
		switch cell.Kind {
		case Text:
			c.line = appendText(c.line, Defuse(cell.Value))
		default:
			v := cell.Value
			if c.dialect.DecimalComma {
				v = strings.Replace(v, ".", ",", 1)
			}
			c.line = append(c.line, v...)
		}
	}
	c.line = append(c.line, '\r', '\n')
	if _, err := c.out.Write(c.line); err != nil {
		return err
	}
	if c.rows++; c.rows%flushEvery == 0 {
		return c.flush()
	}
	return nil
}

// Close writes out what is buffered.
func (c *CSV) Close() error { return c.flush() }

func (c *CSV) flush() error {
	if err := c.out.Flush(); err != nil {
		return err
	}
	if c.flusher != nil {
		return c.flusher.Flush()
	}
	return nil
}

// needsQuotes lists what makes a text field quoted in either dialect: both
// separators, the quote, tab and line breaks.
const needsQuotes = ",;\"\t\r\n"

// appendText appends s, quoted (inner quotes doubled) when it holds any of
// needsQuotes or starts with a space, which some readers would trim.
func appendText(line []byte, s string) []byte {
	if !strings.ContainsAny(s, needsQuotes) && !strings.HasPrefix(s, " ") {
		return append(line, s...)
	}
	line = append(line, '"')
	for i := 0; i < len(s); i++ {
		if s[i] == '"' {
			line = append(line, '"')
		}
		line = append(line, s[i])
	}
	return append(line, '"')
}
