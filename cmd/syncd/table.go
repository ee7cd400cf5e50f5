package main

import (
	"io"
	"strings"
	"unicode"

	"golang.org/x/text/width"
)

// table lays rows out in columns padded by display width, two spaces
// apart. text/tabwriter counts runes, so a Thai name, whose vowels above
// or below a consonant and tone marks take no column of their own, pushes
// the rest of its row to the left. As with tabwriter, a row's last cell is
// not padded and does not widen its column: a long reason, or a line such
// as "… 32 more from dtac", spans the columns after it.
type table struct {
	rows [][]string
}

// row adds a row of cells.
func (t *table) row(cells ...string) { t.rows = append(t.rows, cells) }

// write writes the table to w, each row prefixed by indent.
func (t *table) write(w io.Writer, indent string) error {
	var widths []int
	for _, r := range t.rows {
		for i, c := range r[:max(len(r)-1, 0)] {
			if i == len(widths) {
				widths = append(widths, 0)
			}
			widths[i] = max(widths[i], displayWidth(c))
		}
	}
	var b, line strings.Builder
	for _, r := range t.rows {
		line.Reset()
		line.WriteString(indent)
		for i, c := range r {
			line.WriteString(c)
			if i < len(r)-1 {
				line.WriteString(strings.Repeat(" ", widths[i]-displayWidth(c)+2))
			}
		}
		// An empty last cell leaves no padding behind.
		b.WriteString(strings.TrimRight(line.String(), " "))
		b.WriteByte('\n')
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// displayWidth is how many columns a terminal gives s: none for a
// combining mark (Thai vowels above or below and tone marks, Mn) or a
// format character (a zero-width joiner, Cf), two for an East Asian wide
// or fullwidth character, one for any other.
func displayWidth(s string) int {
	n := 0
	for _, r := range s {
		switch {
		case unicode.In(r, unicode.Mn, unicode.Me, unicode.Cf):
		case width.LookupRune(r).Kind() == width.EastAsianWide || width.LookupRune(r).Kind() == width.EastAsianFullwidth:
			n += 2
		default:
			n++
		}
	}
	return n
}
