package fakedtac

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/crkai/syncd/internal/audioformat"
	"github.com/crkai/syncd/internal/fake/fakeaudio"
)

func ids(p page) []int64 {
	out := make([]int64, 0, len(p.Objects))
	for _, o := range p.Objects {
		out = append(out, int64(o["id"].(float64)))
	}
	return out
}

// pages walks a listing through nextPageUri and returns each page.
func pages(t *testing.T, s *Server, token string, size int) []page {
	t.Helper()
	var out []page
	u := listURL(s, t0, t0.Add(time.Hour), 1, size)
	for range 100 {
		p := getPage(t, u, token)
		out = append(out, p)
		if p.NextPageURI == nil {
			return out
		}
		u = *p.NextPageURI
	}
	t.Fatal("more than 100 pages")
	return nil
}

func TestLimitReachedOnLastPage(t *testing.T) {
	for _, tc := range []struct {
		name        string
		opts        Options
		n, size     int
		wantLimited []bool // limitReached of each page
		wantLens    []int
	}{
		{"default: never without a cap", Options{}, 7, 3, []bool{false, false, false}, []int{3, 3, 1}},
		{"last page, short", Options{LimitReachedOnLastPage: true}, 7, 3, []bool{false, false, true}, []int{3, 3, 1}},
		{"last page, full", Options{LimitReachedOnLastPage: true}, 6, 3, []bool{false, true}, []int{3, 3}},
		{"only page", Options{LimitReachedOnLastPage: true}, 2, 3, []bool{true}, []int{2}},
		{"empty", Options{LimitReachedOnLastPage: true}, 0, 3, []bool{true}, []int{0}},
		{"cap: every page", Options{ResultLimit: 5}, 9, 3, []bool{true, true}, []int{3, 2}},
		{"cap, last page only: the cap's page", Options{ResultLimit: 5, LimitReachedOnLastPage: true}, 9, 3, []bool{false, true}, []int{3, 2}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := start(t, tc.opts)
			addN(s, tc.n, func(i int) time.Time { return t0.Add(time.Duration(i) * time.Second) })
			var limited []bool
			var lens []int
			for _, p := range pages(t, s, login(t, s), tc.size) {
				limited, lens = append(limited, p.LimitReached), append(lens, len(p.Objects))
			}
			if !slices.Equal(limited, tc.wantLimited) || !slices.Equal(lens, tc.wantLens) {
				t.Fatalf("limitReached %v, page lengths %v; want %v, %v", limited, lens, tc.wantLimited, tc.wantLens)
			}
		})
	}
}

func TestNewestFirst(t *testing.T) {
	s := start(t, Options{NewestFirst: true})
	addN(s, 5, func(i int) time.Time { return t0.Add(time.Duration(i) * time.Minute) })
	var got []int64
	for _, p := range pages(t, s, login(t, s), 2) {
		got = append(got, ids(p)...)
	}
	if want := []int64{1004, 1003, 1002, 1001, 1000}; !slices.Equal(got, want) {
		t.Fatalf("listed %v, want %v", got, want)
	}
}

// TestInsertPerPage: a call landing between two page requests shifts the
// offsets, so the next page starts with the last row of the page before.
func TestInsertPerPage(t *testing.T) {
	for _, newest := range []bool{false, true} {
		t.Run(fmt.Sprintf("NewestFirst=%v", newest), func(t *testing.T) {
			s := start(t, Options{InsertPerPage: 1, NewestFirst: newest})
			addN(s, 6, func(i int) time.Time { return t0.Add(time.Duration(10+i) * time.Second) })
			tok := login(t, s)
			p1 := getPage(t, listURL(s, t0, t0.Add(time.Hour), 1, 3), tok)
			p2 := getPage(t, *p1.NextPageURI, tok)
			if a, b := ids(p1), ids(p2); b[0] != a[2] {
				t.Fatalf("page 1 %v, page 2 %v: page 2 should start with page 1's last row", a, b)
			}
			head, _ := s.window(t0.Unix(), t0.Add(time.Hour).Unix(), 0, 1)
			if head[0].ID != insertedIDs+1 {
				t.Fatalf("head of the listing is %d, want the inserted %d", head[0].ID, insertedIDs+1)
			}
			wantAt := t0
			if newest {
				wantAt = t0.Add(time.Hour)
			}
			if !head[0].Timestamp.Equal(wantAt) {
				t.Errorf("inserted at %s, want %s", head[0].Timestamp, wantAt)
			}
		})
	}
}

func TestDirectionRendering(t *testing.T) {
	s := start(t, Options{})
	for i, d := range []string{"IN", "OUT", "UNKN", "", DirectionNull, DirectionMissing} {
		s.Add(Recording{ID: int64(i + 1), Timestamp: t0.Add(time.Duration(i) * time.Second), Direction: d})
	}
	a := do(t, http.MethodGet, listURL(s, t0, t0.Add(time.Hour), 1, 10), map[string]string{"Authorization": login(t, s)})
	var raw struct{ Objects []map[string]json.RawMessage }
	if err := json.Unmarshal([]byte(a.body), &raw); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, o := range raw.Objects {
		if d, ok := o["direction"]; ok {
			got = append(got, string(d))
		} else {
			got = append(got, "(missing)")
		}
	}
	if want := []string{`"IN"`, `"OUT"`, `"UNKN"`, `""`, `null`, "(missing)"}; !slices.Equal(got, want) {
		t.Fatalf("directions %v, want %v", got, want)
	}
}

func TestAudioFormats(t *testing.T) {
	const size = 5000
	for _, tc := range []struct {
		f     AudioFormat
		tag   uint16 // WAV format tag; 0 for MP3
		ctype string
		sniff string // audioformat's name for it
	}{
		{PCM, tagPCM, "audio/x-wav", "WAV (PCM)"},
		{MuLaw, tagMuLaw, "audio/x-wav", "WAV (G.711 µ-law)"},
		{ALaw, tagALaw, "audio/x-wav", "WAV (G.711 A-law)"},
		{GSM, tagGSM, "audio/x-wav", "WAV (GSM 6.10)"},
		{MP3, 0, "audio/mpeg", "MPEG audio"},
		{MP3ID3, 0, "audio/mpeg", "MP3 (ID3)"},
	} {
		t.Run(tc.f.String(), func(t *testing.T) {
			a := EncodedAudio{Audio: fakeaudio.Audio{Seed: 3, Size: size}, Format: tc.f}
			b := a.Bytes()
			if len(b) != size || a.Sum() != sha256.Sum256(b) {
				t.Fatalf("%d bytes or Sum differs", len(b))
			}
			if tc.f.ContentType() != tc.ctype {
				t.Errorf("ContentType %q, want %q", tc.f.ContentType(), tc.ctype)
			}
			if tc.tag != 0 {
				checkWAV(t, b, tc.tag)
			} else {
				checkMP3(t, b, tc.f == MP3ID3)
			}
			f, err := audioformat.Sniff(b[:audioformat.HeadSize], "application/octet-stream")
			if err != nil || f.Name != tc.sniff {
				t.Errorf("audioformat.Sniff: %+v, %v; want %s", f, err, tc.sniff)
			}
			// Random access reads what a whole read does.
			part := make([]byte, 700)
			if n, _ := a.ReadAt(part, 40); n != 700 || !bytes.Equal(part, b[40:740]) {
				t.Error("ReadAt at an offset differs from the whole file")
			}
		})
	}
	// A file shorter than its header is the header cut short.
	if b := (EncodedAudio{Audio: fakeaudio.Audio{Size: 20}, Format: MuLaw}).Bytes(); string(b[:4]) != "RIFF" || len(b) != 20 {
		t.Errorf("short file % x", b)
	}
}

func checkWAV(t *testing.T, b []byte, tag uint16) {
	t.Helper()
	if string(b[:4]) != "RIFF" || string(b[8:12]) != "WAVE" || binary.LittleEndian.Uint32(b[4:8]) != uint32(len(b)-8) {
		t.Fatalf("RIFF header % x", b[:12])
	}
	var gotTag uint16
	dataEnd := -1
	for i := 12; i+8 <= len(b); {
		id, size := string(b[i:i+4]), int(binary.LittleEndian.Uint32(b[i+4:i+8]))
		switch id {
		case "fmt ":
			gotTag = binary.LittleEndian.Uint16(b[i+8:])
		case "data":
			dataEnd = i + 8 + size
		}
		if id == "data" {
			break
		}
		i += 8 + size
	}
	if gotTag != tag || dataEnd != len(b) {
		t.Fatalf("fmt tag %#x (want %#x), data chunk ends at %d of %d", gotTag, tag, dataEnd, len(b))
	}
}

func checkMP3(t *testing.T, b []byte, id3 bool) {
	t.Helper()
	at := 0
	if id3 {
		if string(b[:3]) != "ID3" || b[3] != 4 {
			t.Fatalf("no ID3v2.4 tag: % x", b[:10])
		}
		at = 10 + (int(b[6])<<21 | int(b[7])<<14 | int(b[8])<<7 | int(b[9]))
	}
	for k := 0; at+4 <= len(b) && k < 5; k++ {
		if !bytes.Equal(b[at:at+4], mp3Frame[:]) {
			t.Fatalf("frame %d at %d: % x, want a frame header", k, at, b[at:at+4])
		}
		at += mp3FrameLen
	}
}

func TestMediaContentType(t *testing.T) {
	for _, tc := range []struct {
		name   string
		opts   Options
		rec    Recording
		want   string // "" for no header at all
		format AudioFormat
	}{
		{"PCM default", Options{}, Recording{}, "audio/x-wav", PCM},
		{"µ-law default", Options{}, Recording{Format: MuLaw}, "audio/x-wav", MuLaw},
		{"MP3 default", Options{}, Recording{Format: MP3}, "audio/mpeg", MP3},
		{"server-wide octet-stream", Options{ContentType: "application/octet-stream"}, Recording{Format: ALaw}, "application/octet-stream", ALaw},
		{"server-wide none", Options{ContentType: NoContentType}, Recording{Format: MP3ID3}, "", MP3ID3},
		{"misleading: WAV as audio/mpeg", Options{}, Recording{ContentType: "audio/mpeg"}, "audio/mpeg", PCM},
		{"misleading: MP3 as audio/x-wav", Options{ContentType: "application/octet-stream"}, Recording{Format: MP3, ContentType: "audio/x-wav"}, "audio/x-wav", MP3},
		{"recording none over server", Options{ContentType: "audio/x-wav"}, Recording{Format: GSM, ContentType: NoContentType}, "", GSM},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := start(t, tc.opts)
			rec := tc.rec
			rec.ID, rec.Timestamp, rec.Direction = 1, t0, "IN"
			rec.Audio = fakeaudio.Audio{Seed: 4, Size: 3000}
			s.Add(rec)
			a := do(t, http.MethodGet, s.URL()+"/orktrack/rest/mediastream/1?usage=download", map[string]string{"Authorization": login(t, s)})
			ct, has := a.header["Content-Type"]
			switch {
			case a.code != 200:
				t.Fatalf("HTTP %d", a.code)
			case tc.want == "" && has:
				t.Errorf("Content-Type %q, want none", ct)
			case tc.want != "" && a.header.Get("Content-Type") != tc.want:
				t.Errorf("Content-Type %q, want %q", a.header.Get("Content-Type"), tc.want)
			}
			if want := (EncodedAudio{Audio: rec.Audio, Format: tc.format}).Bytes(); a.body != string(want) {
				t.Error("body is not the recording's encoded audio")
			}
			if cd := a.header.Get("Content-Disposition"); !strings.HasSuffix(cd, tc.format.extension()+`"`) {
				t.Errorf("Content-Disposition %q", cd)
			}
		})
	}
}

// walk follows a listing's nextPageUri and returns each answer's status and
// its page's length (-1 for an error).
func walk(t *testing.T, s *Server, token string, size int) (codes, lens []int) {
	t.Helper()
	u := listURL(s, t0, t0.Add(time.Hour), 1, size)
	for range 100 {
		a := do(t, http.MethodGet, u, map[string]string{"Authorization": token})
		codes = append(codes, a.code)
		if a.code != http.StatusOK {
			lens = append(lens, -1)
			return codes, lens
		}
		var p page
		if err := json.Unmarshal([]byte(a.body), &p); err != nil {
			t.Fatal(err)
		}
		lens = append(lens, len(p.Objects))
		if p.NextPageURI == nil || len(p.Objects) == 0 {
			return codes, lens
		}
		u = *p.NextPageURI
	}
	t.Fatal("more than 100 pages")
	return nil, nil
}

// TestNextPageAndPastLastPage: when a page carries a nextPageUri (only with
// more rows, on every full page, on every page) and what a page past the
// data answers (an empty page, or 500), for totals that are and are not a
// multiple of the page size.
func TestNextPageAndPastLastPage(t *testing.T) {
	for _, tc := range []struct {
		name      string
		opts      Options
		n         int
		wantCodes []int
		wantLens  []int
	}{
		{"when more, multiple", Options{}, 6, []int{200, 200}, []int{3, 3}},
		{"when more, not a multiple", Options{}, 7, []int{200, 200, 200}, []int{3, 3, 1}},
		{"when full, multiple: an empty page past it", Options{NextPage: NextPageWhenFull}, 6, []int{200, 200, 200}, []int{3, 3, 0}},
		{"when full, multiple: 500 past it", Options{NextPage: NextPageWhenFull, ServerErrorPastLastPage: true}, 6, []int{200, 200, 500}, []int{3, 3, -1}},
		{"when full, not a multiple", Options{NextPage: NextPageWhenFull, ServerErrorPastLastPage: true}, 7, []int{200, 200, 200}, []int{3, 3, 1}},
		{"always, not a multiple: 500 past it", Options{NextPage: NextPageAlways, ServerErrorPastLastPage: true}, 7, []int{200, 200, 200, 500}, []int{3, 3, 1, -1}},
		{"always, empty window: page 1 is never 500", Options{NextPage: NextPageAlways, ServerErrorPastLastPage: true}, 0, []int{200}, []int{0}},
		{"when full, result cap on a full page: 500 past it", Options{NextPage: NextPageWhenFull, ServerErrorPastLastPage: true, ResultLimit: 6}, 9, []int{200, 200, 500}, []int{3, 3, -1}},
		{"500 knob alone never shows: no page leads past the data", Options{ServerErrorPastLastPage: true}, 6, []int{200, 200}, []int{3, 3}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := start(t, tc.opts)
			addN(s, tc.n, func(i int) time.Time { return t0.Add(time.Duration(i) * time.Second) })
			codes, lens := walk(t, s, login(t, s), 3)
			if !slices.Equal(codes, tc.wantCodes) || !slices.Equal(lens, tc.wantLens) {
				t.Fatalf("codes %v, page lengths %v; want %v, %v", codes, lens, tc.wantCodes, tc.wantLens)
			}
		})
	}
	t.Run("past the data by page number", func(t *testing.T) {
		s := start(t, Options{ServerErrorPastLastPage: true})
		addN(s, 4, func(i int) time.Time { return t0.Add(time.Duration(i) * time.Second) })
		tok := login(t, s)
		for pg, want := range map[int]int{1: 200, 2: 200, 3: 500, 9: 500} {
			if a := do(t, http.MethodGet, listURL(s, t0, t0.Add(time.Hour), pg, 2), map[string]string{"Authorization": tok}); a.code != want ||
				(want == 500 && !strings.Contains(a.body, "HTTP Status 500")) {
				t.Errorf("page %d: HTTP %d %q, want %d", pg, a.code, a.body, want)
			}
		}
	})
}

// TestFailPages: FailPages fails the next n requests for pages numbered
// minPage or more, whatever the data, then serves them again.
func TestFailPages(t *testing.T) {
	s := start(t, Options{})
	addN(s, 7, func(i int) time.Time { return t0.Add(time.Duration(i) * time.Second) })
	tok := login(t, s)
	s.FailPages(2, 2)
	code := func(pg int) int {
		return do(t, http.MethodGet, listURL(s, t0, t0.Add(time.Hour), pg, 3), map[string]string{"Authorization": tok}).code
	}
	got := []int{code(1), code(2), code(3), code(2), code(1)}
	if want := []int{200, 500, 500, 200, 200}; !slices.Equal(got, want) {
		t.Fatalf("codes %v, want %v", got, want)
	}
	s.FailPages(1, 1)
	if c := code(1); c != 500 {
		t.Fatalf("FailPages(1, 1): page 1 answered %d", c)
	}
}
