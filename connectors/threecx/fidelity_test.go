package threecx

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/crkai/syncd/connectors"
	fake "github.com/crkai/syncd/internal/fake/fakethreecx"
)

// TestListImpossibleTimestamps: a recording whose StartTime is .NET's
// minimum date, the Unix epoch or before 1970 comes back Invalid, with the
// reason, and is never taken for a call inside the window; served by a PBX
// that honours the filter, it is not listed at all.
func TestListImpossibleTimestamps(t *testing.T) {
	for _, ignoreFilter := range []bool{false, true} {
		t.Run(fmt.Sprintf("server ignores $filter=%v", ignoreFilter), func(t *testing.T) {
			srv := startFake(t, fake.Options{IgnoreFilter: ignoreFilter, SendNulls: true})
			good := addRange(srv, 1, 2, base, fake.InboundExternal)
			for i, at := range []time.Time{{}, time.Unix(0, 0), time.Date(1969, 12, 31, 23, 59, 59, 0, time.UTC)} {
				r := fake.NewRecording(int32(100+i), at, fake.InboundExternal, uint64(i))
				srv.Add(r)
			}
			got, err := connect(t, srv.URL(), clientConfig(), nil).List(t.Context(), base, base.Add(time.Hour))
			if err != nil {
				t.Fatal(err)
			}
			var valid, invalid []string
			for _, r := range got {
				if r.Invalid == nil {
					valid = append(valid, r.ID)
					continue
				}
				invalid = append(invalid, r.ID)
				if !errors.Is(r.Invalid, connectors.ErrInvalid) || !strings.Contains(r.Invalid.Error(), "zero or before 1970") || !r.CallAt.IsZero() {
					t.Errorf("recording %s: Invalid %v, CallAt %v", r.ID, r.Invalid, r.CallAt)
				}
			}
			slices.Sort(valid)
			if !slices.Equal(valid, wantIDs(good)) {
				t.Errorf("valid recordings %v, want %v", valid, wantIDs(good))
			}
			if ignoreFilter && len(invalid) != 3 || !ignoreFilter && len(invalid) != 0 {
				t.Errorf("invalid recordings %v", invalid)
			}
		})
	}
}

// TestOpenMissingFile: every answer seen for a missing file is ErrGone
// (quarantined at once, not retried): 404, and 400 with
// WARNINGS.XAPI.FILE_NOT_FOUND or NOT_FOUND in the message, whatever the
// code; another 400 is not.
func TestOpenMissingFile(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts fake.Options
	}{
		{"404", fake.Options{}},
		{"400 FILE_NOT_FOUND", fake.Options{MissingFile: fake.MissingFile400}},
		{"400 FILE_NOT_FOUND, numeric code", fake.Options{MissingFile: fake.MissingFile400, NumericErrorCodes: true}},
		{"400 NOT_FOUND", fake.Options{MissingFile: fake.MissingFile400NotFound}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := startFake(t, tc.opts)
			r := fake.NewRecording(1, base, fake.InboundExternal, 1)
			r.State = fake.Archived
			srv.Add(r)
			c := connect(t, srv.URL(), clientConfig(), nil)
			for _, id := range []string{"1", "77"} { // archived, and not there at all
				_, err := c.Open(t.Context(), connectors.Recording{ID: id})
				if !errors.Is(err, connectors.ErrGone) || !connectors.Permanent(err) {
					t.Errorf("Open(%s) = %v, want ErrGone", id, err)
				}
			}
		})
	}
	for _, body := range []string{
		`{"error":{"code":"","message":"WARNINGS.XAPI.INVALID_PARAMETER","details":[]}}`,
		`{"error":{"code":"","message":"recId:\nWARNINGS.XAPI.OUT_OF_RANGE","details":[{"code":"","message":"WARNINGS.XAPI.OUT_OF_RANGE","target":"recId"}]}}`,
		`<html>Bad Request</html>`,
	} {
		pbx := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/connect/token" {
				io.WriteString(w, tokenAnswerJSON)
				return
			}
			w.WriteHeader(http.StatusBadRequest)
			io.WriteString(w, body)
		}))
		_, err := connect(t, pbx.URL, clientConfig(), nil).Open(t.Context(), connectors.Recording{ID: "5"})
		pbx.Close()
		if err == nil || errors.Is(err, connectors.ErrGone) || connectors.Permanent(err) {
			t.Errorf("a 400 %s = %v, want a retryable error", body, err)
		}
	}
	// The warning may come in details alone.
	pbx := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/connect/token" {
			io.WriteString(w, tokenAnswerJSON)
			return
		}
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, `{"error":{"code":"","message":"","details":[{"code":"","message":"WARNINGS.XAPI.FILE_NOT_FOUND","target":"recId"}]}}`)
	}))
	defer pbx.Close()
	if _, err := connect(t, pbx.URL, clientConfig(), nil).Open(t.Context(), connectors.Recording{ID: "5"}); !errors.Is(err, connectors.ErrGone) {
		t.Errorf("FILE_NOT_FOUND in details = %v, want ErrGone", err)
	}
}

// TestMappingAcrossVersions: the same recordings, served in every shape
// (20.0.4 to 20.0.10, nulls left out or sent, DnTypes as int32 or names,
// error codes "" or numeric), map to the same Recordings.
func TestMappingAcrossVersions(t *testing.T) {
	var want []connectors.Recording
	for _, shape := range pbxShapes {
		for _, extra := range []fake.Options{{}, {SendNulls: true}, {DnTypeNames: true}, {Version: "20.0.4"}} {
			opts := shape.opts
			opts.SendNulls = opts.SendNulls || extra.SendNulls
			opts.DnTypeNames = opts.DnTypeNames || extra.DnTypeNames
			if extra.Version != "" {
				opts.Version = extra.Version
			}
			srv := startFake(t, opts)
			for i, ct := range []string{fake.InboundExternal, fake.OutboundExternal, fake.Local, ""} {
				srv.Add(fake.NewRecording(int32(i+1), base.Add(time.Duration(i)*time.Minute), ct, uint64(i)))
			}
			cfg := clientConfig()
			cfg.IncludeInternal = true
			got, err := connect(t, srv.URL(), cfg, nil).List(t.Context(), base, base.Add(time.Hour))
			if err != nil {
				t.Fatalf("%s %+v: %v", shape.name, extra, err)
			}
			slices.SortFunc(got, func(a, b connectors.Recording) int { return strings.Compare(a.ID, b.ID) })
			for i := range got {
				got[i].DataID = "" // the fake's host differs
			}
			if want == nil {
				want = got
				if len(want) != 4 {
					t.Fatalf("listed %d recordings, want 4", len(want))
				}
				for _, r := range want {
					if r.Invalid != nil || r.Direction == "" || r.AgentNumber == "" || r.CustomerPhone == "" || r.Duration == 0 {
						t.Errorf("recording %s mapped to %+v", r.ID, r)
					}
				}
				continue
			}
			for i := range want {
				if fmt.Sprint(got[i]) != fmt.Sprint(want[i]) {
					t.Errorf("%s %+v: recording %s maps to\n%+v, want\n%+v", shape.name, extra, want[i].ID, got[i], want[i])
				}
			}
		}
	}
}
