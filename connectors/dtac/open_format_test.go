package dtac

import (
	"bytes"
	"io"
	"testing"
	"time"

	"github.com/crkai/syncd/connectors"
	"github.com/crkai/syncd/internal/audioformat"
	"github.com/crkai/syncd/internal/fake/fakeaudio"
	"github.com/crkai/syncd/internal/fake/fakedtac"
)

// TestOpenAudioFormats: whatever the audio is (PCM, µ-law, A-law or GSM
// WAV, MP3 with or without an ID3 tag) and whatever Content-Type the
// portal claims (its format's own, application/octet-stream, none, or a
// misleading audio type), Open streams the bytes as served and declares
// the portal's type only when it names an audio type; the bytes then say
// what the audio is.
func TestOpenAudioFormats(t *testing.T) {
	formats := []struct {
		f     fakedtac.AudioFormat
		sniff string // the type the bytes say
	}{
		{fakedtac.PCM, "audio/wav"},
		{fakedtac.MuLaw, "audio/wav"},
		{fakedtac.ALaw, "audio/wav"},
		{fakedtac.GSM, "audio/wav"},
		{fakedtac.MP3, "audio/mpeg"},
		{fakedtac.MP3ID3, "audio/mpeg"},
	}
	served := []struct {
		name   string
		header string // "" for the format's own
		want   string // "" for the format's own
		empty  bool   // Audio.ContentType left empty
	}{
		{"its own type", "", "", false},
		{"application/octet-stream", "application/octet-stream", "", true},
		{"no Content-Type", fakedtac.NoContentType, "", true},
		{"audio/x-wav", "audio/x-wav", "audio/x-wav", false},
		{"audio/mpeg", "audio/mpeg", "audio/mpeg", false},
		{"audio/wav with a codec parameter", "audio/wav; codecs=7", "audio/wav", false},
	}
	for _, sv := range served {
		t.Run(sv.name, func(t *testing.T) {
			fake := startFake(t, fakedtac.Options{ContentType: sv.header})
			for i, f := range formats {
				fake.Add(fakedtac.Recording{ID: int64(300 + i), Timestamp: t0.Add(time.Duration(i) * time.Second), Direction: "IN",
					Audio: fakeaudio.Audio{Seed: uint64(i), Size: 20_000}, Format: f.f})
			}
			c := newTestConnector(t, fake.URL(), testPass, 10)
			recs, err := c.List(ctxT(t), t0, t0.Add(time.Hour))
			if err != nil || len(recs) != len(formats) {
				t.Fatalf("List: %d, %v", len(recs), err)
			}
			for i, f := range formats {
				if recs[i].ContentType != "" {
					t.Errorf("%s: listed ContentType %q: the listing does not say", f.f, recs[i].ContentType)
				}
				a, err := c.Open(ctxT(t), recs[i])
				if err != nil {
					t.Fatalf("%s: Open: %v", f.f, err)
				}
				got, err := io.ReadAll(a.Body)
				a.Body.Close()
				if err != nil {
					t.Fatal(err)
				}
				want := fakedtac.EncodedAudio{Audio: fakeaudio.Audio{Seed: uint64(i), Size: 20_000}, Format: f.f}.Bytes()
				if !bytes.Equal(got, want) || a.Size != int64(len(want)) {
					t.Fatalf("%s: %d bytes (Size %d), not the %d served", f.f, len(got), a.Size, len(want))
				}
				wantType := sv.want
				if sv.header == "" {
					wantType = f.f.ContentType()
				}
				if sv.empty {
					wantType = ""
				}
				if a.ContentType != wantType {
					t.Errorf("%s: ContentType %q, want %q", f.f, a.ContentType, wantType)
				}
				// What the syncer then declares: the bytes win over the header.
				format, err := audioformat.Sniff(got[:audioformat.HeadSize], a.ContentType)
				if err != nil || format.ContentType != f.sniff {
					t.Errorf("%s: the bytes say %+v, %v; want %s", f.f, format, err, f.sniff)
				}
			}
		})
	}
}

// TestOpenNotAudioIsRefused: a portal that answers the stream with a
// document (its sign-in page, a JSON error) is refused, whatever the bytes.
func TestOpenNotAudioIsRefused(t *testing.T) {
	for _, ctype := range []string{"text/html;charset=UTF-8", "application/json", "TEXT/PLAIN;;"} {
		fake := startFake(t, fakedtac.Options{ContentType: ctype})
		fake.Add(fakedtac.Recording{ID: 1, Timestamp: t0, Direction: "IN", Audio: fakeaudio.Audio{Seed: 1, Size: 100}})
		c := newTestConnector(t, fake.URL(), testPass, 10)
		_, err := c.Open(ctxT(t), connectors.Recording{ID: "1"})
		if err == nil || connectors.Permanent(err) {
			t.Errorf("Content-Type %q: Open = %v, want a passing error", ctype, err)
		}
	}
}
