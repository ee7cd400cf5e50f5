package orkweb

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// seedPages adds the reconstructed pages (testdata/reconstructed/*.html)
// and crafted fragments to a fuzzer's corpus.
func seedPages(f *testing.F) {
	f.Helper()
	files, err := filepath.Glob("testdata/reconstructed/*.html")
	if err != nil || len(files) == 0 {
		f.Fatalf("no reconstructed pages: %v", err)
	}
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(b))
	}
	for _, s := range []string{
		"",
		"<title>Stale Session</title>Your session has timed out.",
		"<title>Browse segments</title><td>There were no results</td>",
		rowsPage(rowHTML("2024-03-01 14:05:09.0", "5", "", "7", `<a data-path="a/b.wav">`)),
		rowsPage(rowHTML("2567-13-01 25:05:09.9999999999", "-1", `<img alt="In"><img alt="Out">`, "0", `<a href="javascript:play('http://[::1]:x/audio/%zz')">`)),
		`<table class="paging"><tr><td>Page 0/0</td><td>0 Results</td><td><a href="?component=mytablepaging.%24DirectLink_1">n</a></td></tr></table>`,
		`<form action="/orkweb/app"><table><tr><td>Start Date</td><td><input name="DatePicker" value="2569-01-01 00:00:00"></td></tr>` +
			`<tr><td>End Date</td><td><input name="DatePicker_0"></td></tr></table>Both <input type="radio" name="d" value="2" checked></form>` +
			`<script>calendar_DatePicker = new Calendar(99999999999999999);</script>`,
	} {
		f.Add(s)
	}
}

func FuzzParseOutcome(f *testing.F) {
	seedPages(f)
	f.Fuzz(func(t *testing.T, page string) {
		o, err := ParseOutcome(strings.NewReader(page))
		if err != nil {
			if !errors.Is(err, ErrNotFound) {
				t.Fatalf("error %v does not wrap ErrNotFound", err)
			}
			return
		}
		if o.Kind == PageUnknown {
			t.Fatalf("an unknown page without an error: %+v", o)
		}
	})
}

func FuzzParseLoginForm(f *testing.F) {
	seedPages(f)
	f.Fuzz(func(t *testing.T, page string) {
		lf, err := ParseLoginForm(strings.NewReader(page))
		if err != nil {
			if !errors.Is(err, ErrNotFound) {
				t.Fatalf("error %v does not wrap ErrNotFound", err)
			}
			return
		}
		if lf.Action == "" || lf.UserField == "" || lf.PasswordField == "" || lf.SubmitName == "" {
			t.Fatalf("incomplete form without an error: %+v", lf)
		}
		v := lf.Values("u", "p")
		if v.Get(lf.SubmitName) != lf.SubmitValue || v.Get(lf.PasswordField) != "p" && lf.PasswordField != lf.SubmitName {
			t.Fatalf("Values %v of %+v", v, lf)
		}
	})
}

func FuzzParseSearchForm(f *testing.F) {
	seedPages(f)
	now := time.Date(2026, 5, 20, 1, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, page string) {
		sf, err := ParseSearchForm(strings.NewReader(page))
		if err != nil {
			if !errors.Is(err, ErrNotFound) {
				t.Fatalf("error %v does not wrap ErrNotFound", err)
			}
			return
		}
		if sf.Start.Name == "" || sf.End.Name == "" || sf.Direction == "" || sf.DirectionBoth == "" {
			t.Fatalf("incomplete form without an error: %+v", sf)
		}
		if off, err := sf.YearOffset(now, time.UTC); err == nil && off != 0 && off != BuddhistEra {
			t.Fatalf("year offset %d", off)
		}
		_ = sf.CheckZone(time.UTC, 0)
		v := sf.Values(now.Add(-time.Hour), now, time.UTC, BuddhistEra)
		if v.Get(sf.Start.Name) == "" && sf.Start.Name != sf.End.Name && sf.Start.Name != sf.Direction {
			t.Fatalf("Values without the start: %v", v)
		}
	})
}

func FuzzParseRows(f *testing.F) {
	seedPages(f)
	f.Fuzz(func(t *testing.T, page string) {
		rows, err := ParseRows(strings.NewReader(page), ict)
		if err != nil {
			if !errors.Is(err, ErrNotFound) || rows != nil {
				t.Fatalf("rows %v with error %v (not ErrNotFound?)", rows, err)
			}
			return
		}
		for _, r := range rows {
			if r.Invalid != nil {
				if !errors.Is(r.Invalid, ErrInvalidRow) {
					t.Fatalf("Invalid %v does not wrap ErrInvalidRow", r.Invalid)
				}
				continue
			}
			if r.TapeID <= 0 || r.Time.Year() < 1970 || r.Time.Year() >= 2400 || r.Duration < 0 {
				t.Fatalf("valid row %+v", r)
			}
			if r.Direction != DirectionIn && r.Direction != DirectionOut && r.Direction != DirectionUnknown {
				t.Fatalf("direction %d", r.Direction)
			}
			if !strings.HasPrefix(r.Audio.Path, "/") || strings.Contains(r.Audio.Path, "/../") || strings.HasPrefix(r.Audio.Path, "//") {
				t.Fatalf("audio path %q of %q", r.Audio.Path, r.Audio.Link)
			}
		}
	})
}

func FuzzParsePager(f *testing.F) {
	seedPages(f)
	f.Fuzz(func(t *testing.T, page string) {
		p, err := ParsePager(strings.NewReader(page))
		if err != nil {
			if !errors.Is(err, ErrNotFound) {
				t.Fatalf("error %v does not wrap ErrNotFound", err)
			}
			return
		}
		if p.Page < 1 || p.Pages < 0 || p.Results < 0 || p.Next == "" {
			t.Fatalf("pager %+v", p)
		}
	})
}

func FuzzParsePage(f *testing.F) {
	seedPages(f)
	f.Fuzz(func(t *testing.T, page string) {
		p, err := ParsePage(strings.NewReader(page), ict)
		if err != nil {
			if !errors.Is(err, ErrNotFound) {
				t.Fatalf("error %v does not wrap ErrNotFound", err)
			}
			return
		}
		switch p.Kind {
		case PageLogin, PageLoginFailed:
			if p.Login == nil {
				t.Fatal("log-in page without its form")
			}
		case PageRecordings:
			if p.Search == nil || p.Pager == nil {
				t.Fatal("recordings page without its form or pager")
			}
		case PageNoResults:
			if p.Search == nil || p.Rows != nil {
				t.Fatal("no-results page without its form, or with rows")
			}
		case PageUnknown:
			t.Fatal("unknown page without an error")
		}
	})
}

func FuzzParseTimestamp(f *testing.F) {
	for _, s := range []string{"2024-03-01 14:05:09.0", "2024-03-01 14:05:09.123456789", "2567-03-01 14:05:09.0", "1969-12-31 23:59:59.0",
		"2024-02-30 00:00:00.0", "2024-03-01 24:00:00.0", "2024-03-01T14:05:09", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := parseTimestamp(s, ict)
		if err != nil {
			if !got.IsZero() || len(err.Error()) > 200 {
				t.Fatalf("error %v with %s", err, got)
			}
			return
		}
		if got.Year() < 1970 || got.Year() >= 2400 || got.Location() != ict {
			t.Fatalf("parseTimestamp(%q) = %s", s, got)
		}
		if back := got.Format("2006-01-02 15:04:05"); back != s[:19] {
			t.Fatalf("parseTimestamp(%q) = %s, which reads %s", s, got, back)
		}
	})
}
