package httpsafe

import "io"

// JSON returns a reader of the JSON body r for a decoder: bounded by limit
// as Limit is (the bound counts r's bytes), and with every run of
// whitespace outside strings cut to one space. encoding/json buffers a
// run of whitespace whole before the next token, so without the cut a
// body of spaces (which gzip shrinks a thousandfold) would cost the
// decoder several times the bound in memory; with it, whitespace costs
// nothing. One space is kept so that the document's meaning, and its
// validity, are unchanged.
func JSON(r io.Reader, limit int64, what string) io.Reader {
	return &collapsing{r: Limit(r, limit, what)}
}

// collapsing cuts runs of JSON whitespace outside strings to one byte.
type collapsing struct {
	r        io.Reader
	inString bool // inside a string literal
	escaped  bool // after a backslash in a string
	space    bool // the last byte passed on was whitespace outside a string
}

func (c *collapsing) Read(p []byte) (int, error) {
	for {
		n, err := c.r.Read(p)
		w := 0
		for _, b := range p[:n] {
			switch {
			case c.inString:
				switch {
				case c.escaped:
					c.escaped = false
				case b == '\\':
					c.escaped = true
				case b == '"':
					c.inString = false
				}
			case b == ' ' || b == '\t' || b == '\n' || b == '\r':
				if c.space {
					continue
				}
				c.space = true
				p[w] = b
				w++
				continue
			case b == '"':
				c.inString = true
			}
			c.space = false
			p[w] = b
			w++
		}
		if w > 0 || err != nil || n == 0 {
			return w, err
		}
		// Only whitespace came: read on rather than return (0, nil).
	}
}
