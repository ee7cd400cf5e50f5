package orkweb

import (
	"errors"
	"fmt"
	"io"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/PuerkitoBio/goquery"
	"golang.org/x/net/html"
)

// BuddhistEra is the year offset of a search form that speaks Buddhist-Era
// years (a JVM with a Thai default locale): 2569 for 2026.
const BuddhistEra = 543

// DateField is one of the search form's date fields.
type DateField struct {
	// Name is the input's name ("DatePicker", "DatePicker_0").
	Name string
	// Value is the text the field shows: the search's bound in the
	// server's zone and calendar, "yyyy-MM-dd HH:mm:ss".
	Value string
	// Layout is the field's title, its SimpleDateFormat pattern.
	Layout string
	// Calendar is the instant the field's DatePicker calendar starts at
	// (the page's "calendar_<name> = new Calendar(<ms>)"): the same bound
	// as an instant, free of zone and calendar. Zero when the page has
	// none.
	Calendar time.Time
}

// SearchForm is the recordings page's search form.
type SearchForm struct {
	Form
	// Names of the fields, found by their label cells ("Min Duration",
	// "Max Duration", "Local Party", "Remote Party"); "" when the page
	// lacks one (the form is posted without it).
	MinDuration, MaxDuration, LocalParty, RemoteParty string
	// Start and End are the "Start Date" and "End Date" fields.
	Start, End DateField
	// Direction is the radio group's name; DirectionOut, DirectionIn and
	// DirectionBoth the values of its Outgoing, Incoming and Both radios.
	Direction                                string
	DirectionOut, DirectionIn, DirectionBoth string
}

// ParseSearchForm reads the recordings page's search form: the form with a
// "Start Date" row, its action and hidden fields, its fields by label, the
// date fields' values and calendars, and the direction radios by the text
// before each.
func ParseSearchForm(r io.Reader) (SearchForm, error) {
	doc, err := document(r)
	if err != nil {
		return SearchForm{}, err
	}
	return searchForm(doc)
}

var calendarRE = regexp.MustCompile(`calendar_(\w+)\s*=\s*new Calendar\((\d{1,15})\)`)

func searchForm(doc *goquery.Document) (SearchForm, error) {
	fs := doc.Find("form").FilterFunction(func(_ int, s *goquery.Selection) bool {
		return labelled(s, "Start Date") != nil
	}).First()
	if fs.Length() == 0 {
		return SearchForm{}, notFound("recordings page: no search form (no input labelled \"Start Date\")")
	}
	f := SearchForm{Form: form(fs)}
	if f.Action == "" {
		return SearchForm{}, notFound("search form without an action")
	}
	name := func(label string) string {
		if in := labelled(fs, label); in != nil {
			return in.AttrOr("name", "")
		}
		return ""
	}
	f.MinDuration, f.MaxDuration = name("Min Duration"), name("Max Duration")
	f.LocalParty, f.RemoteParty = name("Local Party"), name("Remote Party")
	calendars := map[string]time.Time{}
	doc.Find("script").Each(func(_ int, s *goquery.Selection) {
		for _, m := range calendarRE.FindAllStringSubmatch(s.Text(), -1) {
			if ms, err := strconv.ParseInt(m[2], 10, 64); err == nil {
				calendars[m[1]] = time.UnixMilli(ms).UTC()
			}
		}
	})
	var missing []string
	for _, d := range []struct {
		label string
		to    *DateField
	}{{"Start Date", &f.Start}, {"End Date", &f.End}} {
		in := labelled(fs, d.label)
		if in == nil || in.AttrOr("name", "") == "" {
			missing = append(missing, fmt.Sprintf("a field labelled %q", d.label))
			continue
		}
		*d.to = DateField{
			Name: in.AttrOr("name", ""), Value: strings.TrimSpace(in.AttrOr("value", "")),
			Layout: in.AttrOr("title", ""),
		}
		d.to.Calendar = calendars[d.to.Name]
	}
	fs.Find(`input[type="radio" i]`).Each(func(_ int, in *goquery.Selection) {
		name, value := in.AttrOr("name", ""), in.AttrOr("value", "")
		if f.Direction == "" {
			f.Direction = name
		}
		if name != f.Direction {
			return
		}
		switch radioLabel(in) {
		case "outgoing":
			f.DirectionOut = value
		case "incoming":
			f.DirectionIn = value
		case "both":
			f.DirectionBoth = value
		}
	})
	if f.DirectionBoth == "" {
		// The default filter is both directions: the checked radio.
		if c := fs.Find(`input[type="radio" i][checked]`).First(); c.Length() > 0 && c.AttrOr("name", "") == f.Direction {
			f.DirectionBoth = c.AttrOr("value", "")
		}
	}
	if f.Direction == "" || f.DirectionBoth == "" {
		missing = append(missing, "the direction radios with a \"Both\" one")
	}
	if len(missing) > 0 {
		return SearchForm{}, notFound("search form without %s", strings.Join(missing, ", "))
	}
	return f, nil
}

// radioLabel is the last word of the text just before a radio, lower case
// ("Outgoing <input …>").
func radioLabel(in *goquery.Selection) string {
	n := in.Nodes[0]
	for p := n.PrevSibling; p != nil; p = p.PrevSibling {
		if p.Type == html.TextNode {
			if w := strings.Fields(p.Data); len(w) > 0 {
				return strings.ToLower(w[len(w)-1])
			}
			continue
		}
		if p.Type == html.ElementNode {
			return ""
		}
	}
	return ""
}

// YearOffset tells the calendar the date fields speak, from the years of
// their values, which the server fills with the last 24 hours by default:
// 0 when they are Gregorian (within a year of now), BuddhistEra when they
// are 543 years ahead. It needs the defaults of a fresh search (a search
// already submitted shows what was submitted) and fails when the fields
// are empty, disagree, or are neither.
func (f SearchForm) YearOffset(now time.Time, loc *time.Location) (int, error) {
	year := now.In(loc).Year()
	offset := -1
	for _, d := range []DateField{f.Start, f.End} {
		y, ok := leadingYear(d.Value)
		if !ok {
			return 0, fmt.Errorf("orkweb: the search form's %s shows %q, not a date: cannot tell its calendar", d.Name, d.Value)
		}
		var o int
		switch {
		case abs(y-year) <= 1:
			o = 0
		case abs(y-(year+BuddhistEra)) <= 1:
			o = BuddhistEra
		default:
			return 0, fmt.Errorf("orkweb: the search form's %s shows the year %d, neither near %d nor its Buddhist-Era %d", d.Name, y, year, year+BuddhistEra)
		}
		if offset >= 0 && o != offset {
			return 0, errors.New("orkweb: the search form's date fields disagree on the calendar")
		}
		offset = o
	}
	return offset, nil
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

func leadingYear(s string) (int, bool) {
	i := strings.IndexByte(s, '-')
	if i < 1 || i > 6 {
		return 0, false
	}
	y, err := strconv.Atoi(s[:i])
	return y, err == nil
}

// CheckZone compares the date fields' text, read in loc with yearOffset,
// with their calendars' instants: a difference means the server's zone is
// not loc. It says nothing (nil) when the page has no calendars.
func (f SearchForm) CheckZone(loc *time.Location, yearOffset int) error {
	for _, d := range []DateField{f.Start, f.End} {
		if d.Calendar.IsZero() || d.Value == "" {
			continue
		}
		t, err := ParseDate(d.Value, loc, yearOffset)
		if err != nil {
			return err
		}
		if diff := t.Sub(d.Calendar.Truncate(time.Second)); diff != 0 {
			return fmt.Errorf("orkweb: the search form's %s shows %q, which in %s is %s off the instant its calendar holds (%s): the server's zone is not %s",
				d.Name, d.Value, loc, diff, d.Calendar.Format(time.RFC3339), loc)
		}
	}
	return nil
}

// dateLayout is the date fields' pattern, yyyy-MM-dd HH:mm:ss, in Go.
const dateLayout = "2006-01-02 15:04:05"

// FormatDate is t as the search form's fields want it: the server's local
// time in loc, the year moved by yearOffset (BuddhistEra on a Thai JVM).
func FormatDate(t time.Time, loc *time.Location, yearOffset int) string {
	lt := t.In(loc)
	return fmt.Sprintf("%04d", lt.Year()+yearOffset) + lt.Format(dateLayout[4:])
}

// ParseDate reads a date field's text in loc, its year moved back by
// yearOffset.
func ParseDate(s string, loc *time.Location, yearOffset int) (time.Time, error) {
	y, ok := leadingYear(s)
	if !ok {
		return time.Time{}, fmt.Errorf("orkweb: date %q is not yyyy-MM-dd HH:mm:ss", s)
	}
	rest := s[strings.IndexByte(s, '-'):]
	t, err := time.ParseInLocation(dateLayout, fmt.Sprintf("%04d", y-yearOffset)+rest, loc)
	if err != nil {
		return time.Time{}, fmt.Errorf("orkweb: date %q is not yyyy-MM-dd HH:mm:ss", s)
	}
	return t, nil
}

// Values is the search to post: every hidden field as parsed, the
// duration and party fields empty, the window [start, end] (OrkWeb's is
// inclusive at both ends, to the second) in loc with yearOffset, and
// both directions.
func (f SearchForm) Values(start, end time.Time, loc *time.Location, yearOffset int) url.Values {
	v := f.Form.Values()
	for _, name := range []string{f.MinDuration, f.MaxDuration, f.LocalParty, f.RemoteParty} {
		if name != "" {
			v.Set(name, "")
		}
	}
	v.Set(f.Start.Name, FormatDate(start, loc, yearOffset))
	v.Set(f.End.Name, FormatDate(end, loc, yearOffset))
	v.Set(f.Direction, f.DirectionBoth)
	return v
}
