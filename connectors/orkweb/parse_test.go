package orkweb

import (
	"errors"
	"net/url"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // zones with DST for the tests, whatever the machine has
)

// ict is the zone of the reconstructed pages' server (UTC+7).
var ict = time.FixedZone("ICT", 7*60*60)

func page(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile("testdata/reconstructed/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestOutcomeOfReconstructedPages(t *testing.T) {
	for _, tc := range []struct {
		file string
		want Outcome
	}{
		{"login.html", Outcome{Kind: PageLogin, Title: "Welcome to OrkWeb", Generated: "Fri Mar 01 15:02:11 ICT 2024"}},
		{"login_failed.html", Outcome{Kind: PageLoginFailed, Title: "Welcome to OrkWeb", Message: "Invalid login or password", Generated: "Fri Mar 01 15:02:11 ICT 2024"}},
		{"results.html", Outcome{Kind: PageRecordings, Title: "Browse segments", Generated: "Fri Mar 01 15:02:11 ICT 2024"}},
	} {
		got, err := ParseOutcome(strings.NewReader(page(t, tc.file)))
		if err != nil || got != tc.want {
			t.Errorf("%s: %+v, %v; want %+v", tc.file, got, err, tc.want)
		}
	}
}

// The log-in answers 200 whatever happens: only the title (and the red
// message) tells.
func TestOutcomeByTitle(t *testing.T) {
	shell := func(title, body string) string {
		return "<!-- Generated: Fri Mar 01 15:02:11 ICT 2024 -->\n<html><head><title>" + title + "</title></head><body>" + body + "</body></html>"
	}
	for _, tc := range []struct {
		name, page string
		kind       PageKind
		message    string
		err        bool
	}{
		{"stale session", shell("Stale Session", "Your session has timed out. <a href=\"/orkweb/app?service=restart\">restart</a>"), PageStaleSession, "", false},
		{"stale link", shell("Stale Link", `You have clicked on a <i>stale link</i>. <span class="exception-message">Rewind of form Home/$Form expected allocated id #1 to be 'x', but was 'TextField'</span>`), PageStaleLink, "Rewind of form Home/$Form expected allocated id #1 to be 'x', but was 'TextField'", false},
		{"exception", shell("Exception", `<span class="exception-header">An exception has occurred.</span><table><tr class="exception-message"><td>Parameter If_0 must be T or F</td></tr></table>`), PageException, "Parameter If_0 must be T or F", false},
		{"no results", shell("Browse segments", `<table><tr><td class="criteria"><form></form></td><td valign="top">
				There were no results
			</td></tr></table>`), PageNoResults, "", false},
		{"recordings without a table", shell("Browse segments", "<p>nothing</p>"), PageUnknown, "", true},
		{"login, message only whitespace", shell("Welcome to OrkWeb", "<font color=\"red\">\n\t\t\n</font>"), PageLogin, "", false},
		{"a proxy's page", shell("502 Bad Gateway", "nginx"), PageUnknown, "", true},
		{"no title", "<html><body>hello</body></html>", PageUnknown, "", true},
		{"title with whitespace", shell("\n  Welcome   to OrkWeb \n", ""), PageLogin, "", false},
	} {
		got, err := ParseOutcome(strings.NewReader(tc.page))
		if (err != nil) != tc.err || got.Kind != tc.kind || got.Message != tc.message {
			t.Errorf("%s: %+v, %v; want kind %s message %q error %v", tc.name, got, err, tc.kind, tc.message, tc.err)
		}
		if err != nil && !errors.Is(err, ErrNotFound) {
			t.Errorf("%s: error %v does not wrap ErrNotFound", tc.name, err)
		}
	}
}

func TestLoginFormOfReconstructedPages(t *testing.T) {
	hidden := []Field{
		{"formids", "TextField,TextField_0,Submit"}, {"component", "$Form"}, {"page", "Home"},
		{"service", "direct"}, {"session", "T"}, {"submitmode", ""}, {"submitname", ""},
	}
	for _, tc := range []struct{ file, action string }{
		{"login.html", "/orkweb/app;jsessionid=5F0C2A9E1B7D4C3A8E6F0B1D2C3A4B5E"},
		{"login_failed.html", "/orkweb/app"},
	} {
		f, err := ParseLoginForm(strings.NewReader(page(t, tc.file)))
		if err != nil {
			t.Fatalf("%s: %v", tc.file, err)
		}
		want := LoginForm{
			Form:      Form{Action: tc.action, Method: "post", Hidden: hidden},
			UserField: "TextField", PasswordField: "TextField_0", SubmitName: "Submit", SubmitValue: "Login",
		}
		if !reflect.DeepEqual(f, want) {
			t.Errorf("%s:\n got %+v\nwant %+v", tc.file, f, want)
		}
		v := f.Values("admin", "pa&ss")
		wantV := url.Values{
			"formids": {"TextField,TextField_0,Submit"}, "component": {"$Form"}, "page": {"Home"}, "service": {"direct"},
			"session": {"T"}, "submitmode": {""}, "submitname": {""},
			"TextField": {"admin"}, "TextField_0": {"pa&ss"}, "Submit": {"Login"},
		}
		if !reflect.DeepEqual(v, wantV) {
			t.Errorf("%s: Values = %v, want %v", tc.file, v, wantV)
		}
	}
}

func TestLoginFormMissingParts(t *testing.T) {
	for _, tc := range []struct{ name, page, says string }{
		{"no form", `<html><head><title>Welcome to OrkWeb</title></head><body><p>down</p></body></html>`, "no form with a password field"},
		{"no action", `<form method="post"><input type="password" name="p"><input type="submit" name="Submit" value="Login"></form>`, "no action"},
		{"unnamed button", `<form action="/orkweb/app"><input type="text" name="u"><input type="password" name="p"><input type="submit" value="Login"></form>`, "a named submit button"},
	} {
		_, err := ParseLoginForm(strings.NewReader(tc.page))
		if err == nil || !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), tc.says) {
			t.Errorf("%s: %v, want an ErrNotFound saying %q", tc.name, err, tc.says)
		}
	}
}

func TestSearchFormOfReconstructedPage(t *testing.T) {
	f, err := ParseSearchForm(strings.NewReader(page(t, "results.html")))
	if err != nil {
		t.Fatal(err)
	}
	want := SearchForm{
		Form: Form{Action: "/orkweb/app", Method: "post", Hidden: []Field{
			{"formids", "If_0,TextField,If_1,TextField_0,If_2,TextField_1,If_3,TextField_2,DatePicker,DatePicker_0,direction"},
			{"component", "$Form"}, {"page", "RecSegments"}, {"service", "direct"}, {"session", "T"},
			{"submitmode", ""}, {"submitname", ""}, {"If_0", "F"}, {"If_1", "F"}, {"If_2", "F"}, {"If_3", "F"},
		}},
		MinDuration: "TextField", MaxDuration: "TextField_0", LocalParty: "TextField_1", RemoteParty: "TextField_2",
		Start:     DateField{Name: "DatePicker", Value: "2024-03-01 00:00:00", Layout: "yyyy-MM-dd HH:mm:ss"},
		End:       DateField{Name: "DatePicker_0", Value: "2024-03-02 00:00:00", Layout: "yyyy-MM-dd HH:mm:ss"},
		Direction: "direction", DirectionOut: "0", DirectionIn: "1", DirectionBoth: "2",
	}
	if !reflect.DeepEqual(f, want) {
		t.Fatalf("\n got %+v\nwant %+v", f, want)
	}
	start := time.Date(2024, 3, 1, 0, 0, 0, 0, ict)
	v := f.Values(start, start.Add(24*time.Hour-time.Second), ict, 0)
	for k, w := range map[string]string{
		"DatePicker": "2024-03-01 00:00:00", "DatePicker_0": "2024-03-01 23:59:59", "direction": "2",
		"TextField": "", "TextField_2": "", "If_3": "F", "page": "RecSegments", "session": "T",
	} {
		if got, ok := v[k]; !ok || len(got) != 1 || got[0] != w {
			t.Errorf("Values[%s] = %q, want %q", k, got, w)
		}
	}
}

// The Thai-locale trap: the form speaks Buddhist-Era years, told from the
// defaults (the last 24 h), while the table stays Gregorian.
func TestYearOffset(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 30, 0, 0, ict) // just past New Year: the start is still last year
	form := func(start, end string) SearchForm {
		return SearchForm{Start: DateField{Name: "DatePicker", Value: start}, End: DateField{Name: "DatePicker_0", Value: end}}
	}
	for _, tc := range []struct {
		name       string
		start, end string
		want       int
		err        bool
	}{
		{"gregorian", "2025-12-31 00:30:00", "2026-01-01 00:30:00", 0, false},
		{"buddhist era", "2568-12-31 00:30:00", "2569-01-01 00:30:00", BuddhistEra, false},
		{"disagree", "2025-12-31 00:30:00", "2569-01-01 00:30:00", 0, true},
		{"a submitted Gregorian search on a Thai server shows as 1483", "1483-05-20 00:00:00", "1483-05-21 00:00:00", 0, true},
		{"empty (open-ended)", "", "2026-01-01 00:30:00", 0, true},
		{"garbage", "yesterday", "today", 0, true},
	} {
		got, err := form(tc.start, tc.end).YearOffset(now, ict)
		if (err != nil) != tc.err || got != tc.want {
			t.Errorf("%s: %d, %v; want %d, error %v", tc.name, got, err, tc.want, tc.err)
		}
	}
	if got := FormatDate(time.Date(2026, 5, 20, 1, 14, 0, 0, time.UTC), ict, BuddhistEra); got != "2569-05-20 08:14:00" {
		t.Errorf("FormatDate BE = %q", got)
	}
	if got, err := ParseDate("2569-05-20 08:14:00", ict, BuddhistEra); err != nil || !got.Equal(time.Date(2026, 5, 20, 1, 14, 0, 0, time.UTC)) {
		t.Errorf("ParseDate BE = %s, %v", got, err)
	}
}

// The zone trap: the DatePicker's calendar holds the bound as an instant,
// so a configured zone that is not the server's shows.
func TestCheckZone(t *testing.T) {
	instant := time.Date(2026, 5, 19, 17, 0, 0, 0, time.UTC) // 00:00 ICT
	f := SearchForm{
		Start: DateField{Name: "DatePicker", Value: "2026-05-20 00:00:00", Calendar: instant.Add(123 * time.Millisecond)},
		End:   DateField{Name: "DatePicker_0", Value: "2569-05-21 00:00:00"},
	}
	if err := f.CheckZone(ict, 0); err != nil {
		t.Errorf("right zone: %v", err)
	}
	if err := f.CheckZone(time.UTC, 0); err == nil || !strings.Contains(err.Error(), "7h0m0s") {
		t.Errorf("wrong zone: %v", err)
	}
}

func TestRowsOfReconstructedPage(t *testing.T) {
	rows, err := ParseRows(strings.NewReader(page(t, "results.html")), ict)
	if err != nil {
		t.Fatal(err)
	}
	want := []Row{
		{TapeID: 5123, Time: time.Date(2024, 3, 1, 14, 5, 9, 0, ict), TimeText: "2024-03-01 14:05:09.0", Duration: 125 * time.Second,
			LocalParty: "1001", RemoteParty: "0812345678", Direction: DirectionIn,
			Audio: Audio{Link: "http://oreka-rec01:8080/audio/2024/03/01/14/20240301_140509_KQXB.wav", Host: "oreka-rec01:8080",
				Path: "/audio/2024/03/01/14/20240301_140509_KQXB.wav"}},
		{TapeID: 5122, Time: time.Date(2024, 3, 1, 13, 58, 41, 0, ict), TimeText: "2024-03-01 13:58:41.0", Duration: 37 * time.Second,
			LocalParty: "1002", RemoteParty: "021234567", Direction: DirectionOut,
			Audio: Audio{Link: "http://oreka-rec01:8080/audio/2024/03/01/13/20240301_135841_KQXA.wav", Host: "oreka-rec01:8080",
				Path: "/audio/2024/03/01/13/20240301_135841_KQXA.wav"}},
	}
	if !reflect.DeepEqual(rows, want) {
		t.Fatalf("\n got %+v\nwant %+v", rows, want)
	}
}

func TestPagerOfReconstructedPage(t *testing.T) {
	p, err := ParsePager(strings.NewReader(page(t, "results.html")))
	if err != nil {
		t.Fatal(err)
	}
	const link = "/orkweb/app?component=mytablepaging.%24DirectLink"
	const tail = "&page=RecSegments&service=direct&session=T"
	want := Pager{Page: 1, Pages: 2, Results: 12,
		First: link + tail, Previous: link + "_0" + tail, Next: link + "_1" + tail, Last: link + "_2" + tail}
	if p != want {
		t.Fatalf("\n got %+v\nwant %+v", p, want)
	}
	if p.LastPage() {
		t.Error("page 1/2 taken for the last")
	}
}

func TestParsePageOfReconstructedPages(t *testing.T) {
	p, err := ParsePage(strings.NewReader(page(t, "results.html")), ict)
	if err != nil || p.Kind != PageRecordings || p.Search == nil || len(p.Rows) != 2 || p.Pager == nil || p.Pager.Pages != 2 || p.Login != nil {
		t.Fatalf("results: %+v, %v", p, err)
	}
	p, err = ParsePage(strings.NewReader(page(t, "login_failed.html")), ict)
	if err != nil || p.Kind != PageLoginFailed || p.Login == nil || p.Search != nil {
		t.Fatalf("login failed: %+v, %v", p, err)
	}
}

// rowsPage wraps rows in a results table with the real header.
func rowsPage(rows string) string {
	return `<html><head><title>Browse segments</title></head><body><table><tr class="header">
	<td><a href="x">Time</a></td><td><a href="x">Duration</a></td><td><a href="x">Local Party</a></td><td><a href="x">Direction</a></td>
	<td><a href="x">Remote Party</a></td><td>Tape Id</td>
<tr>
` + rows + `</table></body></html>`
}

func rowHTML(time, dur, dir, tape, play string) string {
	return `<tr class="odd"><td>` + time + `</td><td>` + dur + `</td><td>1001</td><td align="center">` + dir +
		`</td><td>0812345678</td><td>` + tape + `</td><td>` + play + `</td></tr>`
}

const orecxPlay = `<a href="javascript:play('http://oreka-rec01:8080/audio/2024/03/01/14/x.wav')"><img src="/orkweb/images/common/icon_play.gif" alt="Play"/></a>`

func TestRowTraps(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	in := `<img src="images/common/icon_incomingcall.gif" alt="In">`
	for _, tc := range []struct {
		name    string
		row     string
		loc     *time.Location
		check   func(Row) bool
		invalid string
	}{
		{"direction: in by icon", rowHTML("2024-03-01 14:05:09.0", "1", in, "1", orecxPlay), ict,
			func(r Row) bool { return r.Direction == DirectionIn }, ""},
		{"direction: out by icon", rowHTML("2024-03-01 14:05:09.0", "1", `<img src="images/common/icon_outgoingcall.gif">`, "1", orecxPlay), ict,
			func(r Row) bool { return r.Direction == DirectionOut }, ""},
		{"direction: out by alt alone", rowHTML("2024-03-01 14:05:09.0", "1", `<img src="x.gif" alt="Out">`, "1", orecxPlay), ict,
			func(r Row) bool { return r.Direction == DirectionOut }, ""},
		{"direction: unknown is no image", rowHTML("2024-03-01 14:05:09.0", "1", "<!-- direction -->\n\t\n\t", "1", orecxPlay), ict,
			func(r Row) bool { return r.Direction == DirectionUnknown && r.Invalid == nil }, ""},
		{"direction: both images is unknown", rowHTML("2024-03-01 14:05:09.0", "1", in+`<img src="images/common/icon_outgoingcall.gif">`, "1", orecxPlay), ict,
			func(r Row) bool { return r.Direction == DirectionUnknown }, ""},
		{"time: server-local", rowHTML("2024-03-01 14:05:09.0", "1", in, "1", orecxPlay), ict,
			func(r Row) bool { return r.Time.Equal(time.Date(2024, 3, 1, 7, 5, 9, 0, time.UTC)) }, ""},
		{"time: fraction", rowHTML("2024-03-01 14:05:09.25", "1", in, "1", orecxPlay), time.UTC,
			func(r Row) bool { return r.Time.Nanosecond() == 250_000_000 }, ""},
		{"time: DST fall-back, first of the two 01:30", rowHTML("2024-11-03 01:30:00.0", "1", in, "1", orecxPlay), ny,
			func(r Row) bool { return r.Time.Equal(time.Date(2024, 11, 3, 5, 30, 0, 0, time.UTC)) }, ""},
		{"time: a Buddhist-Era year in the table", rowHTML("2567-03-01 14:05:09.0", "1", in, "1", orecxPlay), ict, nil, "Buddhist-Era"},
		{"time: not a date", rowHTML("2024-02-30 14:05:09.0", "1", in, "1", orecxPlay), ict, nil, "not a date"},
		{"time: no seconds", rowHTML("2024-03-01 14:05", "1", in, "1", orecxPlay), ict, nil, "time"},
		{"duration: negative", rowHTML("2024-03-01 14:05:09.0", "-5", in, "1", orecxPlay), ict, nil, "duration"},
		{"tape id: missing (no tape)", rowHTML("2024-03-01 14:05:09.0", "5", in, "\n\t\n", ""), ict, nil, "tape id"},
		{"audio: the recorder's host is kept apart from the path", rowHTML("2024-03-01 14:05:09.0", "5", in, "7",
			`<a href="javascript:play('http://recorder.invalid:8080/audio/2024/03/01/14/a b.wav')">`), ict,
			func(r Row) bool {
				return r.Audio.Host == "recorder.invalid:8080" && r.Audio.Path == "/audio/2024/03/01/14/a%20b.wav"
			}, ""},
		{"audio: voiceip data-path", rowHTML("2024-03-01 14:05:09.0", "5", in, "7",
			`<a class="play-button" href="#" data-path="2024/03/01/14/20240301_140509_KQXB.wav"><img src="/orkweb/images/common/icon_play.gif" alt="Play"/></a>`), ict,
			func(r Row) bool {
				return r.Audio.Host == "" && r.Audio.Path == "/orkweb/stream/2024/03/01/14/20240301_140509_KQXB.wav"
			}, ""},
		{"audio: voiceip path escaping the root", rowHTML("2024-03-01 14:05:09.0", "5", in, "7", `<a data-path="../../etc/passwd">`), ict, nil, "data-path"},
		{"audio: empty play link (tape without a file service)", rowHTML("2024-03-01 14:05:09.0", "5", in, "7", `<a href="javascript:play('')">`), ict, nil, "empty play link"},
		{"audio: none", rowHTML("2024-03-01 14:05:09.0", "5", in, "7", ""), ict, nil, "no play link"},
		{"cells: too few", `<tr class="even"><td>2024-03-01 14:05:09.0</td></tr>`, ict, nil, "cells"},
	} {
		rows, err := ParseRows(strings.NewReader(rowsPage(tc.row)), tc.loc)
		if err != nil || len(rows) != 1 {
			t.Errorf("%s: %d rows, %v", tc.name, len(rows), err)
			continue
		}
		r := rows[0]
		if tc.invalid != "" {
			if r.Invalid == nil || !errors.Is(r.Invalid, ErrInvalidRow) || !strings.Contains(r.Invalid.Error(), tc.invalid) {
				t.Errorf("%s: Invalid = %v, want one saying %q", tc.name, r.Invalid, tc.invalid)
			}
			continue
		}
		if r.Invalid != nil || !tc.check(r) {
			t.Errorf("%s: %+v", tc.name, r)
		}
	}
}

func TestRowsWithoutATable(t *testing.T) {
	rows, err := ParseRows(strings.NewReader(`<title>Browse segments</title><table><tr><td valign="top">
		There were no results
	</td></tr></table>`), ict)
	if err != nil || rows != nil {
		t.Errorf("no results: %v, %v", rows, err)
	}
	_, err = ParseRows(strings.NewReader(`<title>Browse segments</title><p>?</p>`), ict)
	if !errors.Is(err, ErrNotFound) {
		t.Errorf("neither: %v", err)
	}
	_, err = ParseRows(strings.NewReader(`<table><tr class="header"><td>Time</td><td>Duration</td></tr></table>`), ict)
	if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), `"Tape Id"`) {
		t.Errorf("header without Tape Id: %v", err)
	}
}

func TestPagerTraps(t *testing.T) {
	bar := func(pageText string, links string) string {
		return `<table class="paging"><tr><td><table><tr>` + links + `<td nowrap="true">` + pageText + `</td><td nowrap="true">21 Results</td></tr></table></td></tr></table>`
	}
	byIcon := `<td><a href="/n;jsessionid=AB?x"><img src="/orkweb/images/common/icon_pagenext.gif;jsessionid=AB" alt="First"/></a></td>` +
		`<td><a href="/f"><img src="/orkweb/images/common/icon_pagefirst.gif" alt="First"/></a></td>`
	byComponent := `<td><a href="/orkweb/app?component=mytablepaging.%24DirectLink_1&amp;page=RecSegments&amp;service=direct&amp;session=T">&gt;</a></td>`
	for _, tc := range []struct {
		name, page string
		want       Pager
		last, err  bool
	}{
		{"last page: next shows it again, stop on X == Y", bar("Page 3/3", byIcon), Pager{Page: 3, Pages: 3, Results: 21, Next: "/n;jsessionid=AB?x", First: "/f"}, true, false},
		{"next by icon, every alt says First", bar("Page 1/3", byIcon), Pager{Page: 1, Pages: 3, Results: 21, Next: "/n;jsessionid=AB?x", First: "/f"}, false, false},
		{"next by component without icons", bar("Page 2/3", byComponent), Pager{Page: 2, Pages: 3, Results: 21,
			Next: "/orkweb/app?component=mytablepaging.%24DirectLink_1&page=RecSegments&service=direct&session=T"}, false, false},
		{"no next link", bar("Page 1/3", ""), Pager{}, false, true},
		{"no Page X/Y", bar("Seite 1 von 3", byIcon), Pager{}, false, true},
		{"no bar", "<p>Page 1/3</p>", Pager{}, false, true},
	} {
		got, err := ParsePager(strings.NewReader(tc.page))
		if (err != nil) != tc.err || got != tc.want || (err == nil && got.LastPage() != tc.last) {
			t.Errorf("%s: %+v, %v; want %+v, last %v, error %v", tc.name, got, err, tc.want, tc.last, tc.err)
		}
		if err != nil && !errors.Is(err, ErrNotFound) {
			t.Errorf("%s: %v does not wrap ErrNotFound", tc.name, err)
		}
	}
}
