// Package csvsafe writes CSV files that a spreadsheet opens as data: a
// cell that starts with =, +, -, @, a tab or a carriage return would be
// read by Excel, LibreOffice or Google Sheets as a formula (a
// =HYPERLINK(...) typed into a public signup form, say), so it is written
// with a leading apostrophe, as OWASP's CSV injection guidance recommends.
// Every CSV Herald lets people download goes through Writer; Unescape
// undoes the apostrophe when such a file is imported back.
package csvsafe

import (
	"encoding/csv"
	"io"
	"strings"
)

// Cell returns s as it is safe to put in a CSV cell.
func Cell(s string) string {
	if risky(s) {
		return "'" + s
	}
	return s
}

// Unescape undoes Cell: an apostrophe before a character that starts a
// formula is dropped.
func Unescape(s string) string {
	if len(s) > 1 && s[0] == '\'' && risky(s[1:]) {
		return s[1:]
	}
	return s
}

func risky(s string) bool {
	return s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0]))
}

// Writer is a csv.Writer whose Write makes every cell safe.
type Writer struct {
	*csv.Writer
	rec []string
}

// NewWriter returns a Writer writing to w.
func NewWriter(w io.Writer) *Writer { return &Writer{Writer: csv.NewWriter(w)} }

// Write writes one record, each cell made safe by Cell; rec itself is not
// changed.
func (w *Writer) Write(rec []string) error {
	w.rec = w.rec[:0]
	for _, c := range rec {
		w.rec = append(w.rec, Cell(c))
	}
	return w.Writer.Write(w.rec)
}
