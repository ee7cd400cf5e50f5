package fakecrk

import (
	"net/http"
	"net/url"
	"testing"
	"time"
)

// status is what GET /recordings shows of dataID's processing.
type status struct {
	ProcessingStatus string  `json:"processingStatus"`
	TranscriptURL    *string `json:"transcriptUrl"`
	SummaryURL       *string `json:"summaryUrl"`
}

func listedStatus(t *testing.T, s *Server, c *http.Client, dataID string) status {
	t.Helper()
	a := do(t, s, c, call{method: "GET", path: "/recordings?search=" + url.QueryEscape(dataID), token: TokFull})
	var out struct {
		Items []struct {
			DataID string `json:"dataId"`
			status
		} `json:"items"`
	}
	a.decode(t, &out)
	for _, it := range out.Items {
		if it.DataID == dataID {
			return it.status
		}
	}
	t.Fatalf("%s not listed", dataID)
	return status{}
}

// TestProcessingDoneAfter: a reextract moves the status to
// ProcessingAfter; once ProcessingDoneAfter has passed on the fake's clock
// the recording reads "completed" with transcript and summary.
func TestProcessingDoneAfter(t *testing.T) {
	for _, tc := range []struct {
		name          string
		before, after string
	}{
		{"pending then queued", "pending", "queued"},
		{"pending all along", "pending", "pending"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, clk := start(t, nil)
			s.SetBehaviour(Behaviour{ProcessingBefore: tc.before, ProcessingAfter: tc.after, ProcessingDoneAfter: 10 * time.Minute})
			c := client(t, true)
			cr := mustCreate(t, s, c, TokFull, "", "pd-1", "")
			if cr.ProcessingStatus != tc.before {
				t.Fatalf("created with status %q, want %q", cr.ProcessingStatus, tc.before)
			}
			put(t, c, cr.UploadURL, "audio/wav", []byte("RIFF"), false)
			clk.Advance(time.Hour) // time before the reextract does not count
			if st := listedStatus(t, s, c, "pd-1"); st.ProcessingStatus != tc.before || st.TranscriptURL != nil {
				t.Fatalf("before the reextract: %+v", st)
			}
			a := do(t, s, c, call{method: "POST", path: "/recordings/" + cr.ID + "/reextract", token: TokFull})
			if a.status != 202 {
				t.Fatalf("reextract: %d %s", a.status, a.body)
			}
			clk.Advance(10*time.Minute - time.Second)
			if st := listedStatus(t, s, c, "pd-1"); st.ProcessingStatus != tc.after || st.TranscriptURL != nil || st.SummaryURL != nil {
				t.Fatalf("while processing: %+v, want %q without transcript", st, tc.after)
			}
			if r, _ := s.Recording(BizA, "pd-1"); r.ProcessingStatus != tc.after {
				t.Fatalf("Recording while processing: %q", r.ProcessingStatus)
			}
			clk.Advance(time.Second)
			if st := listedStatus(t, s, c, "pd-1"); st.ProcessingStatus != "completed" || st.TranscriptURL == nil || st.SummaryURL == nil {
				t.Fatalf("once processed: %+v, want completed with transcript and summary", st)
			}
			if r, _ := s.Recording(BizA, "pd-1"); r.ProcessingStatus != "completed" || r.Reextracts != 1 {
				t.Fatalf("Recording once processed: %+v", r)
			}
			// Asked again: processing again, then done again.
			do(t, s, c, call{method: "POST", path: "/recordings/" + cr.ID + "/reextract", token: TokFull})
			if r, _ := s.Recording(BizA, "pd-1"); r.ProcessingStatus != tc.after {
				t.Fatalf("asked again: %q, want %q", r.ProcessingStatus, tc.after)
			}
			clk.Advance(10 * time.Minute)
			if rs := s.Recordings(); len(rs) != 1 || rs[0].ProcessingStatus != "completed" || rs[0].Reextracts != 2 {
				t.Fatalf("Recordings once processed again: %+v", rs)
			}
			// A repeated create does not reset it.
			if cr := mustCreate(t, s, c, TokFull, "", "pd-1", ""); cr.ProcessingStatus != "completed" {
				t.Fatalf("repeat create answers %q", cr.ProcessingStatus)
			}
		})
	}
}

// TestProcessingDoneAfterZero keeps today's behaviour: the status stays
// ProcessingAfter however long passes.
func TestProcessingDoneAfterZero(t *testing.T) {
	s, clk := start(t, nil)
	s.SetBehaviour(Behaviour{ProcessingBefore: "pending", ProcessingAfter: "queued"})
	c := client(t, true)
	cr := mustCreate(t, s, c, TokFull, "", "pz-1", "")
	put(t, c, cr.UploadURL, "audio/wav", []byte("RIFF"), false)
	do(t, s, c, call{method: "POST", path: "/recordings/" + cr.ID + "/reextract", token: TokFull})
	clk.Advance(365 * 24 * time.Hour)
	if st := listedStatus(t, s, c, "pz-1"); st.ProcessingStatus != "queued" || st.TranscriptURL != nil {
		t.Fatalf("a year later: %+v, want queued", st)
	}
}
