package fakecrk

import (
	"fmt"
	"net/http"
	"testing"
)

func TestReextract(t *testing.T) {
	tests := []struct {
		name      string
		behaviour Behaviour
		audio     bool
		status    int
		code      string // error code; "" = success
		body      string // success body; "" = none
		status2   string // processingStatus afterwards
	}{
		{name: "no audio: default", status: 422, code: "validation_failed"},
		{name: "no audio: 409", behaviour: Behaviour{ReextractNoAudio: 409}, status: 409, code: "audio_missing"},
		{name: "no audio: 400", behaviour: Behaviour{ReextractNoAudio: 400}, status: 400, code: "bad_request"},
		{name: "no audio, status before", behaviour: Behaviour{ProcessingBefore: "pending"}, status: 422, code: "validation_failed", status2: "pending"},
		{name: "default", audio: true, status: 202, body: `{"id":"%s","processingStatus":"completed"}`, status2: "completed"},
		{name: "answers 200", behaviour: Behaviour{ReextractStatus: 200}, audio: true, status: 200, body: `{"id":"%s","processingStatus":"completed"}`, status2: "completed"},
		{name: "answers 204", behaviour: Behaviour{ReextractStatus: 204}, audio: true, status: 204, status2: "completed"},
		{name: "queued", behaviour: Behaviour{ProcessingBefore: "uploaded", ProcessingAfter: "queued"}, audio: true, status: 202, body: `{"id":"%s","processingStatus":"queued"}`, status2: "queued"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, _ := start(t, nil)
			s.SetBehaviour(tc.behaviour)
			c := client(t, true)
			cr := mustCreate(t, s, c, TokFull, "", "rx-1", "")
			if tc.audio {
				if a := put(t, c, cr.UploadURL, "audio/wav", []byte("RIFF"), false); a.status != 200 {
					t.Fatalf("upload %d", a.status)
				}
			}
			for i := 1; i <= 2; i++ {
				a := do(t, s, c, call{method: "POST", path: "/recordings/" + cr.ID + "/reextract", token: TokFull})
				if a.status != tc.status {
					t.Fatalf("call %d: %d %s", i, a.status, a.body)
				}
				if tc.code != "" {
					if e := a.apiError(t); e.Code != tc.code {
						t.Fatalf("code %q, want %q", e.Code, tc.code)
					}
				} else if want := fmtID(tc.body, cr.ID); string(a.body) != want {
					t.Fatalf("body %q, want %q", a.body, want)
				}
				r, _ := s.Recording(BizA, "rx-1")
				wantN := 0
				if tc.code == "" {
					wantN = i
				}
				if r.Reextracts != wantN || r.ProcessingStatus != tc.status2 {
					t.Fatalf("after call %d: reextracts %d status %q, want %d %q", i, r.Reextracts, r.ProcessingStatus, wantN, tc.status2)
				}
			}
			if got := s.Requests(EndpointReextract, tc.status); got != 2 {
				t.Errorf("Requests(reextract, %d) = %d", tc.status, got)
			}
		})
	}
}

func fmtID(format, id string) string {
	if format == "" {
		return ""
	}
	return fmt.Sprintf(format, id)
}

func TestReextractNotFound(t *testing.T) {
	s, _ := start(t, nil)
	c := client(t, true)
	other := mustCreate(t, s, c, TokB, "", "theirs", "")
	if a := put(t, c, other.UploadURL, "audio/wav", []byte("x"), false); a.status != 200 {
		t.Fatal(a.status)
	}
	tests := []struct{ name, id string }{
		{"unknown id", "00000000-0000-4000-8000-000000000000"},
		{"another business's recording", other.ID},
		{"the dataId is not the id", "theirs"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := do(t, s, c, call{method: "POST", path: "/recordings/" + tc.id + "/reextract", token: TokFull})
			if a.status != http.StatusNotFound || a.apiError(t).Code != "not_found" {
				t.Fatalf("%d %s", a.status, a.body)
			}
		})
	}
	if r, _ := s.Recording(BizB, "theirs"); r.Reextracts != 0 {
		t.Fatal("another business's recording was reextracted")
	}
}
