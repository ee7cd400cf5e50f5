package fakecrk

import (
	"net/http"
	"strings"
	"testing"
)

func TestCreateValidation(t *testing.T) {
	s, _ := start(t, nil)
	c := client(t, true)
	long := strings.Repeat("x", 256)
	tests := []struct {
		name, body string
		field      string // named in the message; "" = valid
	}{
		{"minimal", `{"dataId":"a","callAt":"2026-05-20T08:14:00+07:00","direction":"in"}`, ""},
		{"every field", `{"dataId":"b","callAt":"2026-05-20T01:14:00.250Z","direction":"out","customerPhone":"+66812345678","callcenterNumber":"101","callcenterName":"Som","tag":"short","score":99.5,"note":"n","contentType":"audio/mpeg","audioPresignedUploadUrl":false}`, ""},
		{"nulls for optional fields", `{"dataId":"c","callAt":"2026-05-20T08:14:00+07:00","direction":"in","customerPhone":null,"tag":null,"score":null,"contentType":null,"audioPresignedUploadUrl":null}`, ""},
		{"content type with parameters", `{"dataId":"d","callAt":"2026-05-20T08:14:00+07:00","direction":"in","contentType":"audio/wav; codecs=1"}`, ""},
		{"dataId of 255", `{"dataId":"` + long[:255] + `","callAt":"2026-05-20T08:14:00+07:00","direction":"in"}`, ""},
		{"unknown fields are ignored", `{"dataId":"e","callAt":"2026-05-20T08:14:00+07:00","direction":"in","extra":1}`, ""},
		{"score bounds", `{"dataId":"f","callAt":"2026-05-20T08:14:00+07:00","direction":"in","score":0}`, ""},

		{"not JSON", `dataId=a`, "body"},
		{"JSON array", `[1]`, "body"},
		{"JSON null", `null`, "body"},
		{"trailing garbage", `{"dataId":"a","callAt":"2026-05-20T08:14:00+07:00","direction":"in"} x`, "body"},
		{"empty", ``, "body"},
		{"dataId missing", `{"callAt":"2026-05-20T08:14:00+07:00","direction":"in"}`, "dataId"},
		{"dataId empty", `{"dataId":"","callAt":"2026-05-20T08:14:00+07:00","direction":"in"}`, "dataId"},
		{"dataId number", `{"dataId":7,"callAt":"2026-05-20T08:14:00+07:00","direction":"in"}`, "dataId"},
		{"dataId too long", `{"dataId":"` + long + `","callAt":"2026-05-20T08:14:00+07:00","direction":"in"}`, "dataId"},
		{"callAt missing", `{"dataId":"a","direction":"in"}`, "callAt"},
		{"callAt without offset", `{"dataId":"a","callAt":"2026-05-20T08:14:00","direction":"in"}`, "callAt"},
		{"callAt date only", `{"dataId":"a","callAt":"2026-05-20","direction":"in"}`, "callAt"},
		{"callAt with space", `{"dataId":"a","callAt":"2026-05-20 08:14:00+07:00","direction":"in"}`, "callAt"},
		{"callAt epoch", `{"dataId":"a","callAt":1779239640,"direction":"in"}`, "callAt"},
		{"direction missing", `{"dataId":"a","callAt":"2026-05-20T08:14:00+07:00"}`, "direction"},
		{"direction inbound", `{"dataId":"a","callAt":"2026-05-20T08:14:00+07:00","direction":"inbound"}`, "direction"},
		{"customerPhone number", `{"dataId":"a","callAt":"2026-05-20T08:14:00+07:00","direction":"in","customerPhone":66812345678}`, "customerPhone"},
		{"callcenterNumber number", `{"dataId":"a","callAt":"2026-05-20T08:14:00+07:00","direction":"in","callcenterNumber":101}`, "callcenterNumber"},
		{"callcenterName bool", `{"dataId":"a","callAt":"2026-05-20T08:14:00+07:00","direction":"in","callcenterName":true}`, "callcenterName"},
		{"note object", `{"dataId":"a","callAt":"2026-05-20T08:14:00+07:00","direction":"in","note":{}}`, "note"},
		{"tag unknown", `{"dataId":"a","callAt":"2026-05-20T08:14:00+07:00","direction":"in","tag":"great"}`, "tag"},
		{"score above 100", `{"dataId":"a","callAt":"2026-05-20T08:14:00+07:00","direction":"in","score":100.5}`, "score"},
		{"score negative", `{"dataId":"a","callAt":"2026-05-20T08:14:00+07:00","direction":"in","score":-1}`, "score"},
		{"score string", `{"dataId":"a","callAt":"2026-05-20T08:14:00+07:00","direction":"in","score":"50"}`, "score"},
		{"contentType no subtype", `{"dataId":"a","callAt":"2026-05-20T08:14:00+07:00","direction":"in","contentType":"audio"}`, "contentType"},
		{"contentType empty", `{"dataId":"a","callAt":"2026-05-20T08:14:00+07:00","direction":"in","contentType":""}`, "contentType"},
		{"contentType three parts", `{"dataId":"a","callAt":"2026-05-20T08:14:00+07:00","direction":"in","contentType":"audio/wav/x"}`, "contentType"},
		{"audioPresignedUploadUrl string", `{"dataId":"a","callAt":"2026-05-20T08:14:00+07:00","direction":"in","audioPresignedUploadUrl":"true"}`, "audioPresignedUploadUrl"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest("POST", s.URL()+"/recordings", strings.NewReader(tc.body))
			req.Header.Set("Authorization", "Bearer "+TokFull)
			a, err := send(c, req)
			if err != nil {
				t.Fatal(err)
			}
			if tc.field == "" {
				if a.status != http.StatusCreated {
					t.Fatalf("got %d %s", a.status, a.body)
				}
				return
			}
			if a.status != http.StatusUnprocessableEntity {
				t.Fatalf("got %d %s", a.status, a.body)
			}
			e := a.apiError(t)
			if e.Code != "validation_failed" || !strings.HasPrefix(e.Message, tc.field+":") {
				t.Fatalf("error %+v, want validation_failed naming %s", e, tc.field)
			}
		})
	}
	if n := len(s.Recordings()); n != 7 {
		t.Errorf("%d recordings stored, want only the 7 valid ones", n)
	}
	if got := s.Requests(EndpointCreate, 422); got != 28 {
		t.Errorf("Requests(create, 422) = %d, want 28", got)
	}
}

func TestCreateStoresMetadata(t *testing.T) {
	s, _ := start(t, nil)
	c := client(t, true)
	cr := mustCreate(t, s, c, TokFull, "", "meta-1",
		`"direction":"out","customerPhone":"+66812345678","callcenterNumber":"101","callcenterName":"Som","note":"hi","tag":"normal","score":80,"contentType":"audio/mpeg"`)
	got, ok := s.Recording(BizA, "meta-1")
	if !ok {
		t.Fatal("not stored")
	}
	want := Recording{BusinessID: BizA, ID: cr.ID, DataID: "meta-1", CallAt: "2026-05-20T08:14:00+07:00", Direction: "out",
		CustomerPhone: "+66812345678", CallcenterNumber: "101", CallcenterName: "Som", ContentType: "audio/mpeg", Note: "hi",
		Creates: 1, SourceProvider: SourceUpload, Tag: "normal", Score: 80, HasScore: true}
	if got != want {
		t.Fatalf("stored\n%+v\nwant\n%+v", got, want)
	}
	if len(cr.ID) != 36 || cr.ID[14] != '4' || cr.DataID != "meta-1" {
		t.Errorf("id %q dataId %q: want a UUID and the dataId", cr.ID, cr.DataID)
	}
	if cr.ProcessingStatus != "" {
		t.Errorf("processingStatus %q, want absent", cr.ProcessingStatus)
	}
	if d, _ := s.Recording(BizA, "meta-1"); d.ContentType != "audio/mpeg" {
		t.Error("contentType not kept")
	}
	// Default content type.
	mustCreate(t, s, c, TokFull, "", "meta-2", "")
	if d, _ := s.Recording(BizA, "meta-2"); d.ContentType != "audio/wav" {
		t.Errorf("default contentType %q", d.ContentType)
	}
}

func TestCreateIdempotent(t *testing.T) {
	tests := []struct {
		name          string
		behaviour     Behaviour
		firstStatus   int
		uploadBetween bool // upload audio between the two POSTs
		urlOnRepeat   bool
	}{
		{"default", Behaviour{}, 201, false, true},
		{"default after audio", Behaviour{}, 201, true, true},
		{"first answers 200", Behaviour{CreateStatus: 200}, 200, false, true},
		{"first answers 202", Behaviour{CreateStatus: 202}, 202, false, true},
		{"no URL on repeat, no audio yet", Behaviour{NoUploadURLOnRepeat: true}, 201, false, true},
		{"no URL on repeat once audio exists", Behaviour{NoUploadURLOnRepeat: true}, 201, true, false},
		{"status shown before processing", Behaviour{ProcessingBefore: "pending"}, 201, false, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, _ := start(t, nil)
			s.SetBehaviour(tc.behaviour)
			c := client(t, true)
			body := createBody("idem-1", `"customerPhone":"+6621111111"`)
			a := do(t, s, c, call{method: "POST", path: "/recordings", token: TokFull, body: body})
			if a.status != tc.firstStatus {
				t.Fatalf("first POST: %d %s", a.status, a.body)
			}
			var first created
			a.decode(t, &first)
			if first.UploadURL == "" || first.ProcessingStatus != tc.behaviour.ProcessingBefore {
				t.Fatalf("first POST answer %s", a.body)
			}
			if tc.uploadBetween {
				if a := put(t, c, first.UploadURL, "audio/wav", []byte("RIFF...."), false); a.status != 200 {
					t.Fatalf("upload: %d %s", a.status, a.body)
				}
			}
			body = createBody("idem-1", `"customerPhone":"+6622222222","direction":"out"`)
			a = do(t, s, c, call{method: "POST", path: "/recordings", token: TokFull, body: body})
			if a.status != http.StatusOK {
				t.Fatalf("repeat POST: %d %s", a.status, a.body)
			}
			var again created
			a.decode(t, &again)
			if again.ID != first.ID {
				t.Fatalf("repeat gave id %q, first %q", again.ID, first.ID)
			}
			if (again.UploadURL != "") != tc.urlOnRepeat {
				t.Fatalf("repeat uploadUrl %q, want present=%v", again.UploadURL, tc.urlOnRepeat)
			}
			r, _ := s.Recording(BizA, "idem-1")
			if r.Creates != 2 || r.CustomerPhone != "+6622222222" || r.Direction != "out" || len(s.Recordings()) != 1 {
				t.Fatalf("after repeat: %+v (%d recordings)", r, len(s.Recordings()))
			}
			// Without asking, no URL.
			a = do(t, s, c, call{method: "POST", path: "/recordings", token: TokFull,
				body: `{"dataId":"idem-1","callAt":"2026-05-20T08:14:00+07:00","direction":"in"}`})
			if a.status != 200 || strings.Contains(string(a.body), "uploadUrl") {
				t.Fatalf("POST without audioPresignedUploadUrl: %d %s", a.status, a.body)
			}
		})
	}
}

func TestCreateIsPerBusiness(t *testing.T) {
	s, _ := start(t, nil)
	c := client(t, true)
	a := mustCreate(t, s, c, TokFull, "", "same", "")
	b := mustCreate(t, s, c, TokB, "", "same", "")
	if a.ID == b.ID {
		t.Fatal("two businesses got the same id for one dataId")
	}
	if ra, _ := s.Recording(BizA, "same"); ra.Creates != 1 {
		t.Fatalf("A: %+v", ra)
	}
	if again := mustCreate(t, s, c, TokIngest, "", "same", ""); again.ID != a.ID {
		t.Fatal("another key of the same business got a new id")
	}
	if got := s.Recordings(); len(got) != 2 || got[0].BusinessID != BizA || got[1].BusinessID != BizB {
		t.Fatalf("Recordings() = %+v", got)
	}
}
