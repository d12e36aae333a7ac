package export

import (
	"encoding/csv"
	"io"
)

// flushEvery is how many rows a CSV writes between pushes to the client.
const flushEvery = 500

// CSV writes comma-separated rows straight to its writer. If the writer can
// flush (an HTTP response), it is flushed every few hundred rows so the
// client receives the file while it is being read from the database.
type CSV struct {
	w       *csv.Writer
	flusher interface{ Flush() error }
	rows    int
	record  []string
}

// NewCSV writes CSV to w.
func NewCSV(w io.Writer) *CSV {
	c := &CSV{w: csv.NewWriter(w)}
	c.flusher, _ = w.(interface{ Flush() error })
	return c
}

// Write writes one row.
func (c *CSV) Write(row []Cell) error {
	c.record = c.record[:0]
	for _, cell := range row {
		v := cell.Value
		if cell.Kind == Text {
			v = SafeText(v)
		}
		c.record = append(c.record, v)
	}
	if err := c.w.Write(c.record); err != nil {
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
	c.w.Flush()
	if err := c.w.Error(); err != nil {
		return err
	}
	if c.flusher != nil {
		return c.flusher.Flush()
	}
	return nil
}
