package orkweb

import (
	"fmt"
	"io"
	"net/url"
	"path"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/PuerkitoBio/goquery"
)

// Direction is a row's direction, read from its icon.
type Direction int

const (
	// DirectionUnknown is a row without a direction icon (Oreka's UNKN).
	DirectionUnknown Direction = iota
	// DirectionIn is icon_incomingcall.gif (alt "In").
	DirectionIn
	// DirectionOut is icon_outgoingcall.gif (alt "Out").
	DirectionOut
)

// String is "in", "out" or "unknown".
func (d Direction) String() string {
	switch d {
	case DirectionIn:
		return "in"
	case DirectionOut:
		return "out"
	}
	return "unknown"
}

// Audio is where a row's recording is played from.
type Audio struct {
	// Link is the play cell's reference as written: the URL inside
	// OrecX's javascript:play('…'), or the voiceip fork's data-path.
	Link string
	// Host is the host (and port) OrecX's link names: the recorder as it
	// reported itself, which may not resolve from here. "" for voiceip.
	Host string
	// Path is what to ask the configured OrkWeb host for, from the root:
	// the link's path ("/audio/2024/03/01/14/….wav"), or "/orkweb/stream/"
	// and voiceip's data-path, escaped.
	Path string
}

// Row is one recording of the results table.
type Row struct {
	// TapeID is the Tape Id column (orktape.id).
	TapeID int64
	// Time is the Time column read in the server's zone (java.sql.Timestamp
	// text, always Gregorian); TimeText is the text as shown.
	Time     time.Time
	TimeText string
	// Duration is the Duration column, whole seconds.
	Duration time.Duration
	// LocalParty and RemoteParty are as shown.
	LocalParty, RemoteParty string
	// Direction is read from the direction cell's image.
	Direction Direction
	// Audio is the play link.
	Audio Audio
	// Invalid, when not nil, says what of this row could not be read
	// (wrapping ErrInvalidRow); the other fields hold what could.
	Invalid error
}

// columns of the results table, by header text (RecSegments.properties).
const (
	colTime = iota
	colDuration
	colLocal
	colDirection
	colRemote
	colTape
	nColumns
)

var columnTitles = [nColumns]string{"Time", "Duration", "Local Party", "Direction", "Remote Party", "Tape Id"}

// ParseRows reads the results table's rows, times in loc (the server's
// zone). A page saying "There were no results" has none (and no error); a
// page with neither a table nor that text is an error. Rows the page has
// but that cannot be read come with Invalid set.
func ParseRows(r io.Reader, loc *time.Location) ([]Row, error) {
	doc, err := document(r)
	if err != nil {
		return nil, err
	}
	return rows(doc, loc)
}

func rows(doc *goquery.Document, loc *time.Location) ([]Row, error) {
	header := doc.Find("tr.header").First()
	if header.Length() == 0 {
		if hasNoResults(doc) {
			return nil, nil
		}
		return nil, notFound("no results table (tr.header) and no %q", noResultsText)
	}
	// Columns by their header text; the play link has no header.
	var idx [nColumns]int
	for i := range idx {
		idx[i] = -1
	}
	header.ChildrenFiltered("td, th").Each(func(i int, td *goquery.Selection) {
		for c, title := range columnTitles {
			if strings.EqualFold(text(td), title) && idx[c] < 0 {
				idx[c] = i
			}
		}
	})
	var missing []string
	for c, i := range idx {
		if i < 0 {
			missing = append(missing, strconv.Quote(columnTitles[c]))
		}
	}
	if len(missing) > 0 {
		return nil, notFound("results table without the column(s) %s", strings.Join(missing, ", "))
	}
	var out []Row
	header.Closest("table").Find("tr.even, tr.odd").Each(func(_ int, tr *goquery.Selection) {
		out = append(out, row(tr, idx, loc))
	})
	return out, nil
}

func row(tr *goquery.Selection, idx [nColumns]int, loc *time.Location) Row {
	cells := tr.ChildrenFiltered("td")
	var r Row
	var problems []string
	cell := func(c int) *goquery.Selection { return cells.Eq(idx[c]) }
	need := 0
	for _, i := range idx {
		need = max(need, i+1)
	}
	if cells.Length() < need {
		r.Invalid = fmt.Errorf("%w: %d cells, want at least %d", ErrInvalidRow, cells.Length(), need)
		return r
	}
	if id, err := strconv.ParseInt(text(cell(colTape)), 10, 64); err == nil && id > 0 {
		r.TapeID = id
	} else {
		problems = append(problems, fmt.Sprintf("tape id %s", quoteShort(text(cell(colTape)))))
	}
	r.TimeText = text(cell(colTime))
	if t, err := parseTimestamp(r.TimeText, loc); err == nil {
		r.Time = t
	} else {
		problems = append(problems, err.Error())
	}
	if d, ok := parseSeconds(text(cell(colDuration))); ok {
		r.Duration = d
	} else {
		problems = append(problems, fmt.Sprintf("duration %s", quoteShort(text(cell(colDuration)))))
	}
	r.LocalParty, r.RemoteParty = text(cell(colLocal)), text(cell(colRemote))
	r.Direction = direction(cell(colDirection))
	a, err := audio(tr)
	r.Audio = a
	if err != nil {
		problems = append(problems, err.Error())
	}
	if len(problems) > 0 {
		r.Invalid = fmt.Errorf("%w: %s", ErrInvalidRow, strings.Join(problems, "; "))
	}
	return r
}

var timestampRE = regexp.MustCompile(`^(\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?$`)

// parseTimestamp reads java.sql.Timestamp's text ("2024-03-01
// 14:05:09.0") in loc. The table is always Gregorian: a year past 2400
// is a Buddhist-Era one where it should not be.
func parseTimestamp(s string, loc *time.Location) (time.Time, error) {
	m := timestampRE.FindStringSubmatch(s)
	if m == nil {
		return time.Time{}, fmt.Errorf("time %s is not yyyy-MM-dd HH:mm:ss.f", quoteShort(s))
	}
	t, err := time.ParseInLocation(dateLayout, m[1], loc)
	if err != nil {
		return time.Time{}, fmt.Errorf("time %s is not a date", quoteShort(s))
	}
	if y := t.Year(); y < 1970 || y >= 2400 {
		return time.Time{}, fmt.Errorf("time %s has the year %d (a Buddhist-Era year, or no call time)", quoteShort(s), y)
	}
	if m[2] != "" {
		frac, _ := strconv.Atoi((m[2] + "00000000")[:9])
		t = t.Add(time.Duration(frac))
	}
	return t, nil
}

// parseSeconds reads whole seconds.
func parseSeconds(s string) (time.Duration, bool) {
	if s == "" || len(s) > 9 {
		return 0, false
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 || strings.ContainsAny(s, "+-") {
		return 0, false
	}
	return time.Duration(n) * time.Second, true
}

// direction reads the direction cell's image: by its file, else its alt.
func direction(td *goquery.Selection) Direction {
	in, out := false, false
	td.Find("img").Each(func(_ int, img *goquery.Selection) {
		src := strings.ToLower(path.Base(img.AttrOr("src", "")))
		alt := strings.ToLower(strings.TrimSpace(img.AttrOr("alt", "")))
		switch {
		case strings.HasPrefix(src, "icon_incomingcall"):
			in = true
		case strings.HasPrefix(src, "icon_outgoingcall"):
			out = true
		case alt == "in":
			in = true
		case alt == "out":
			out = true
		}
	})
	switch {
	case in && !out:
		return DirectionIn
	case out && !in:
		return DirectionOut
	}
	return DirectionUnknown
}

var playRE = regexp.MustCompile(`(?is)^\s*javascript:\s*play\s*\(\s*(['"])(.*)['"]\s*\)\s*;?\s*$`)

// streamPrefix is where the voiceip fork plays data-path from
// (RecSegments.html: playStream("/orkweb/stream/" + $(this).data('path'))).
const streamPrefix = "/orkweb/stream/"

// audio reads a row's play link: OrecX's javascript:play('URL') or the
// voiceip fork's data-path.
func audio(tr *goquery.Selection) (Audio, error) {
	var a Audio
	var err error
	found := false
	tr.Find("a").EachWithBreak(func(_ int, link *goquery.Selection) bool {
		if p, ok := link.Attr("data-path"); ok {
			found = true
			a, err = streamAudio(p)
			return false
		}
		if m := playRE.FindStringSubmatch(link.AttrOr("href", "")); m != nil {
			found = true
			a, err = playAudio(m[2])
			return false
		}
		return true
	})
	if !found {
		return Audio{}, fmt.Errorf("no play link")
	}
	return a, err
}

func playAudio(link string) (Audio, error) {
	a := Audio{Link: link}
	if strings.TrimSpace(link) == "" {
		return a, fmt.Errorf("empty play link (the tape has no file service)")
	}
	u, err := url.Parse(strings.TrimSpace(link))
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return a, fmt.Errorf("play link %s is not an http URL", quoteShort(link))
	}
	a.Host = u.Host
	p := u.EscapedPath()
	if !strings.HasPrefix(p, "/") || p == "/" || hasDotSegment(u.Path) {
		return a, fmt.Errorf("play link %s has no file path", quoteShort(link))
	}
	if u.RawQuery != "" {
		p += "?" + u.RawQuery
	}
	a.Path = p
	return a, nil
}

func streamAudio(dataPath string) (Audio, error) {
	a := Audio{Link: dataPath}
	p := strings.TrimLeft(strings.TrimSpace(dataPath), "/")
	if p == "" || hasDotSegment(p) || strings.ContainsAny(p, "\\\x00?#") {
		return a, fmt.Errorf("data-path %s is not a file path", quoteShort(dataPath))
	}
	segs := strings.Split(p, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	a.Path = streamPrefix + strings.Join(segs, "/")
	return a, nil
}

func hasDotSegment(p string) bool {
	for _, s := range strings.Split(p, "/") {
		if s == ".." || s == "." {
			return true
		}
	}
	return false
}

// quoteShort quotes s for an error: at most 72 bytes of quoted text.
func quoteShort(s string) string {
	cut := len(s)
	for {
		q := strconv.Quote(s[:cut])
		if len(q) <= 72 {
			if cut < len(s) {
				return q + "…"
			}
			return q
		}
		cut = min(cut, 48) - 1
		for cut > 0 && !utf8RuneStart(s[cut]) {
			cut--
		}
	}
}

func utf8RuneStart(b byte) bool { return b&0xC0 != 0x80 }
