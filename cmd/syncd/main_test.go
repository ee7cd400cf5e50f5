package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/crkai/syncd/internal/config"
	"github.com/crkai/syncd/internal/fake/fakeaudio"
	"github.com/crkai/syncd/internal/fake/fakecrk"
	"github.com/crkai/syncd/internal/fake/fakedtac"
	"github.com/crkai/syncd/internal/fake/fakethreecx"
)

const (
	tToken    = "crk_cmd_test_business_key"
	tDTACUser = "+66811111111"
	tDTACPass = "s3cret-dtac-pass"
)

// fakes is a CRK fake and a DTAC fake with recordings in the last hours,
// and the environment that points syncd at them.
type fakes struct {
	crk  *fakecrk.Server
	dtac *fakedtac.Server
	env  map[string]string
}

func newFakes(t testing.TB, n int) *fakes {
	t.Helper()
	c, err := fakecrk.Start(fakecrk.Options{
		Businesses: []fakecrk.Business{{ID: "b1", Name: "Acme Sales", Slug: "acme"}, {ID: "b2", Name: "Acme Support", Slug: "acme-support"}},
		Tokens: map[string]fakecrk.Token{
			tToken:              {Level: fakecrk.LevelBusiness, BusinessID: "b1", Scopes: []string{fakecrk.ScopeManageCall, fakecrk.ScopeViewAll}},
			"crk_view_only_key": {Level: fakecrk.LevelBusiness, BusinessID: "b1", Scopes: []string{fakecrk.ScopeViewAll}},
			"crk_account_key":   {Level: fakecrk.LevelAccount, UserID: "u1"},
		},
		Members: map[string][]string{"u1": {"b1", "b2"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	d, err := fakedtac.Start(fakedtac.Options{Users: map[string]string{tDTACUser: tDTACPass}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	now := time.Now().UTC().Truncate(time.Second)
	for i := range n {
		d.Add(fakedtac.Recording{
			ID: int64(1000 + i), Timestamp: now.Add(-4*time.Hour + time.Duration(i)*time.Minute/2), Duration: 60,
			LocalParty: "+66898765432", RemoteParty: "0812345678", Direction: []string{"IN", "OUT"}[i%2],
			FirstName: "Somchai", LastName: "Jaidee", Audio: fakeaudio.Audio{Seed: uint64(i), Size: 10_000},
		})
	}
	return &fakes{crk: c, dtac: d, env: map[string]string{
		"CRK_API_URL":       c.URL(),
		"CRK_API_TOKEN":     tToken,
		"SYNCD_STATE_PATH":  filepath.Join(t.TempDir(), "syncd.db"),
		"SYNCD_LISTEN_ADDR": "",
		"SYNCD_SETTLE":      "0s",
		"DTAC_USERNAME":     tDTACUser,
		"DTAC_PASSWORD":     tDTACPass,
		"DTAC_BASE_URL":     d.URL(),
	}}
}

func (f *fakes) with(kv ...string) map[string]string {
	env := map[string]string{}
	for k, v := range f.env {
		env[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		env[kv[i]] = kv[i+1]
	}
	return env
}

type outcome struct {
	code           int
	stdout, stderr string
}

func runWith(ctx context.Context, env map[string]string, args ...string) outcome {
	var out, errb bytes.Buffer
	code := run(ctx, args, func(k string) (string, bool) { v, ok := env[k]; return v, ok }, &out, &errb)
	return outcome{code, out.String(), errb.String()}
}

func noSecrets(t *testing.T, o outcome) {
	t.Helper()
	for _, s := range []string{tToken, tDTACPass, "crk_account_key"} {
		if strings.Contains(o.stdout+o.stderr, s) {
			t.Fatalf("output contains the secret %q:\n%s\n%s", s, o.stdout, o.stderr)
		}
	}
}

func TestVersionAndFlags(t *testing.T) {
	o := runWith(t.Context(), nil, "-version")
	if o.code != exitOK || !strings.HasPrefix(o.stdout, "syncd dev (commit ") || !strings.Contains(o.stdout, "go1.") {
		t.Fatalf("-version: %+v", o)
	}
	if o := runWith(t.Context(), nil, "-once", "-status"); o.code != exitConfig || !strings.Contains(o.stderr, "at most one of") {
		t.Fatalf("two modes: %+v", o)
	}
	if o := runWith(t.Context(), nil, "-nope"); o.code != exitConfig {
		t.Fatalf("unknown flag: %+v", o)
	}
	if o := runWith(t.Context(), nil, "once"); o.code != exitConfig || !strings.Contains(o.stderr, `unexpected argument "once"`) {
		t.Fatalf("stray argument: %+v", o)
	}
}

func TestBadConfigurationExits2ListingEveryProblem(t *testing.T) {
	o := runWith(t.Context(), map[string]string{"SYNCD_CONCURRENCY": "0", "DTAC_PASSWORD": "hunter2"}, "-once")
	if o.code != exitConfig {
		t.Fatalf("exit %d, want 2", o.code)
	}
	for _, want := range []string{"invalid configuration:", "CRK_API_TOKEN: is required", "SYNCD_CONCURRENCY: must be from 1 to 64", "DTAC_PASSWORD"} {
		if !strings.Contains(o.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, o.stderr)
		}
	}
	if strings.Contains(o.stderr, "hunter2") {
		t.Fatal("a secret in the configuration error")
	}
}

func TestOnceDryRunStatusAndRetry(t *testing.T) {
	f := newFakes(t, 6)
	ctx := t.Context()

	// -dry-run: prints what it would send, sends nothing, writes no state.
	o := runWith(ctx, f.env, "-dry-run")
	if o.code != exitOK || strings.Count(o.stdout, "dtac-10") != 6 || !strings.Contains(o.stdout, "+66812***678") || strings.Contains(o.stdout, "+66812345678") {
		t.Fatalf("-dry-run, phones masked: %+v", o)
	}
	if o := runWith(ctx, f.with("SYNCD_LOG_PHONES", "full"), "-dry-run"); !strings.Contains(o.stdout, "+66812345678") {
		t.Fatalf("-dry-run with SYNCD_LOG_PHONES=full: %+v", o)
	}
	if n := f.crk.Count(fakecrk.EndpointCreate) + f.crk.Count(fakecrk.EndpointWhoami); n != 0 {
		t.Fatalf("-dry-run made %d requests to CRK", n)
	}
	if _, err := os.Stat(f.env["SYNCD_STATE_PATH"]); !os.IsNotExist(err) {
		t.Fatalf("-dry-run wrote the state file: %v", err)
	}

	// -once syncs them all.
	o = runWith(ctx, f.env, "-once")
	if o.code != exitOK {
		t.Fatalf("-once: %+v", o)
	}
	if n := len(f.crk.Recordings()); n != 6 {
		t.Fatalf("CRK holds %d recordings, want 6", n)
	}
	noSecrets(t, o)

	// A recording whose audio is gone: -once exits 1, and -status shows it.
	f.dtac.Add(fakedtac.Recording{ID: 2000, Timestamp: time.Now().UTC().Add(-time.Hour).Truncate(time.Second), Duration: 5,
		LocalParty: "+66898765432", RemoteParty: "021234567", Direction: "IN", Audio: fakeaudio.Audio{Seed: 9, Size: 100}, State: fakedtac.Gone})
	if o = runWith(ctx, f.env, "-once"); o.code != exitFailed {
		t.Fatalf("-once with a gone recording: %+v, want exit 1", o)
	}
	o = runWith(ctx, f.env, "-status")
	if o.code != exitOK || !strings.Contains(o.stdout, "source dtac") || !strings.Contains(o.stdout, "done 6, pending 0, quarantined 1") ||
		!strings.Contains(o.stdout, "dtac-2000") {
		t.Fatalf("-status: %+v", o)
	}

	// -retry-quarantined moves it back; like -status, it needs only the
	// state file's path (root on a host where only the service can read
	// the credentials).
	o = runWith(ctx, map[string]string{"SYNCD_STATE_PATH": f.env["SYNCD_STATE_PATH"]}, "-retry-quarantined")
	if o.code != exitOK || !strings.Contains(o.stdout, "moved 1 quarantined") {
		t.Fatalf("-retry-quarantined: %+v", o)
	}
	if o = runWith(ctx, f.env, "-status"); !strings.Contains(o.stdout, "done 6, pending 1, quarantined 0") {
		t.Fatalf("-status after retry: %+v", o)
	}
}

func TestStatusWithoutState(t *testing.T) {
	f := newFakes(t, 0)
	o := runWith(t.Context(), f.env, "-status")
	if o.code != exitOK || !strings.Contains(o.stdout, "none yet") {
		t.Fatalf("-status without a state file: %+v", o)
	}
}

func TestTestConnection(t *testing.T) {
	f := newFakes(t, 3)
	for _, tc := range []struct {
		name string
		env  map[string]string
		code int
		want []string
	}{
		{"all ok", f.env, exitOK, []string{
			`crk   token  ok   business key of "Acme Sales" (b1)`, "crk   scope  ok   manage_call_recording", "crk   verify ok",
			"dtac  login  ok", "dtac  list   ok   3 recordings in the last 24 h", "dtac  audio  ok   read 4096 bytes of dtac-1002"}},
		{"wrong dtac password", f.with("DTAC_PASSWORD", "wrong-password"), exitFailed, []string{"dtac  login  FAIL"}},
		{"token without the scope", f.with("CRK_API_TOKEN", "crk_view_only_key"), exitFailed, []string{"crk   scope  FAIL the token lacks the scope manage_call_recording"}},
		{"wrong token", f.with("CRK_API_TOKEN", "crk_nope"), exitFailed, []string{"crk   token  FAIL CRK_API_TOKEN is wrong or expired"}},
		{"account key without business", f.with("CRK_API_TOKEN", "crk_account_key"), exitFailed, []string{"FAIL CRK_API_TOKEN is an account key: set CRK_BUSINESS_ID to one of its businesses: b1 (Acme Sales), b2 (Acme Support)"}},
		{"account key with business", f.with("CRK_API_TOKEN", "crk_account_key", "CRK_BUSINESS_ID", "b2"), exitOK, []string{`crk   scope  ok   manage_all on business "Acme Support" (b2)`}},
		{"crk unreachable", f.with("CRK_API_URL", "http://127.0.0.1:1/api/v1"), exitFailed, []string{"crk   token  FAIL cannot reach CRK at CRK_API_URL"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := runWith(t.Context(), tc.env, "-test-connection")
			if o.code != tc.code {
				t.Fatalf("exit %d, want %d:\n%s%s", o.code, tc.code, o.stdout, o.stderr)
			}
			for _, w := range tc.want {
				if !strings.Contains(o.stdout, w) {
					t.Errorf("output lacks %q:\n%s", w, o.stdout)
				}
			}
			noSecrets(t, o)
		})
	}
	if n := f.crk.Count(fakecrk.EndpointCreate) + f.crk.Count(fakecrk.EndpointReextract); n != 0 {
		t.Fatalf("-test-connection wrote to CRK (%d requests)", n)
	}
}

func freeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func get(t testing.TB, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestDaemon(t *testing.T) {
	f := newFakes(t, 4)
	addr := freeAddr(t)
	env := f.with("SYNCD_LISTEN_ADDR", addr, "SYNCD_SCHEDULE", "@every 1h")
	ctx, cancel := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	var o outcome
	wg.Go(func() { o = runWith(ctx, env) })
	base := "http://" + addr

	waitFor(t, "/readyz", func() bool { c, _ := get(t, base+"/readyz"); return c == 200 })
	waitFor(t, "the pass at start", func() bool { return len(f.crk.Recordings()) == 4 })
	waitFor(t, "the metrics of the pass", func() bool {
		_, m := get(t, base+"/metrics")
		return strings.Contains(m, `syncd_recordings_synced_total{source="dtac"} 4`) && strings.Contains(m, "syncd_last_success_timestamp_seconds{")
	})
	_, m := get(t, base+"/metrics")
	for _, want := range []string{"syncd_build_info{", `syncd_source_up{source="dtac"} 1`, `syncd_crk_requests_total{code="201",endpoint="create"} 4`,
		"syncd_last_success_timestamp_seconds{", "go_goroutines", "process_resident_memory_bytes"} {
		if !strings.Contains(m, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	if c, body := get(t, base+"/healthz"); c != 200 || !strings.Contains(body, `"status":"ok"`) {
		t.Fatalf("/healthz: %d %s", c, body)
	}
	if h := runWith(ctx, env, "-healthcheck"); h.code != exitOK {
		t.Fatalf("-healthcheck: %+v", h)
	}
	// -status while the daemon holds the file: answered through the daemon.
	if s := runWith(ctx, env, "-status"); s.code != exitOK || !strings.Contains(s.stdout, "done 4, pending 0, quarantined 0") {
		t.Fatalf("-status while running: %+v", s)
	}
	// A second daemon on the same state file says why it cannot start.
	if s := runWith(ctx, f.with("SYNCD_SCHEDULE", "@every 1h"), "-once"); s.code != exitFailed || !strings.Contains(s.stderr, "another") {
		t.Fatalf("-once while the daemon runs: %+v", s)
	}

	cancel()
	wg.Wait()
	if o.code != exitOK || !strings.Contains(o.stderr, "syncd stopped") {
		t.Fatalf("daemon exit: %+v", o)
	}
	noSecrets(t, o)
	if h := runWith(t.Context(), env, "-healthcheck"); h.code != exitFailed {
		t.Fatalf("-healthcheck after stop: %+v", h)
	}
}

func TestLogsMaskPhones(t *testing.T) {
	for _, tc := range []struct{ mode, want string }{{"masked", "+66812***678"}, {"full", "+66812345678"}} {
		var buf bytes.Buffer
		log := newLogger(&config.Config{LogPhones: tc.mode, LogFormat: "json"}, &buf)
		log.Info("x", "customerPhone", "+66812345678", "agent", "+66898765432")
		if !strings.Contains(buf.String(), `"customerPhone":"`+tc.want+`"`) || !strings.Contains(buf.String(), "+66898765432") {
			t.Errorf("SYNCD_LOG_PHONES=%s: %s", tc.mode, buf.String())
		}
	}
}

func TestDemo(t *testing.T) {
	var out, errb bytes.Buffer
	if code := demo(t.Context(), &out, &errb); code != exitOK {
		t.Fatalf("demo exit %d:\n%s\n%s", code, out.String(), errb.String())
	}
	var synced, quarantined int
	for _, l := range strings.Split(out.String(), "\n") {
		if strings.HasPrefix(l, "total ") {
			fmt.Sscanf(l, "total %d synced", &synced)
			if i := strings.Index(l, "), "); i > 0 {
				fmt.Sscanf(l[i+3:], "%d quarantined", &quarantined)
			}
		}
	}
	if synced < 60 || quarantined != 1 {
		t.Fatalf("demo synced %d, quarantined %d; want most of 80 sample calls and the one gone recording:\n%s", synced, quarantined, out.String())
	}
	for _, want := range []string{"dtac-", "3cx-127.0.0.1-", "quarantined: ", "the CRK fake now holds"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("demo output lacks %q", want)
		}
	}
}

func TestBothSources(t *testing.T) {
	f := newFakes(t, 2)
	cx, err := fakethreecx.Start(fakethreecx.Options{Clients: map[string]fakethreecx.Client{"syncd": {Secret: "cx-s3cret-value"}}})
	if err != nil {
		t.Fatal(err)
	}
	defer cx.Close()
	now := time.Now().UTC().Truncate(time.Second)
	cx.Add(fakethreecx.NewRecording(41, now.Add(-2*time.Hour), fakethreecx.InboundExternal, 1))
	cx.Add(fakethreecx.NewRecording(42, now.Add(-time.Hour), fakethreecx.OutboundExternal, 2))
	env := f.with("THREECX_BASE_URL", cx.URL(), "THREECX_CLIENT_ID", "syncd", "THREECX_CLIENT_SECRET", "cx-s3cret-value")

	o := runWith(t.Context(), env, "-test-connection")
	for _, want := range []string{"3cx   login  ok", "3cx   list   ok   2 recordings in the last 24 h", "3cx   audio  ok   read 4096 bytes of 3cx-127.0.0.1-42"} {
		if !strings.Contains(o.stdout, want) {
			t.Errorf("-test-connection lacks %q:\n%s", want, o.stdout)
		}
	}
	if o.code != exitOK || strings.Contains(o.stdout, "cx-s3cret-value") {
		t.Fatalf("-test-connection: %+v", o)
	}
	if o := runWith(t.Context(), env, "-once"); o.code != exitOK {
		t.Fatalf("-once: %+v", o)
	}
	for _, id := range []string{"dtac-1000", "dtac-1001", "3cx-127.0.0.1-41", "3cx-127.0.0.1-42"} {
		if r, ok := f.crk.Recording("b1", id); !ok || !r.HasAudio || r.Reextracts != 1 {
			t.Errorf("%s at CRK: %+v, %v", id, r, ok)
		}
	}
}

func TestTestConnectionAlerting(t *testing.T) {
	c, err := fakecrk.Start(fakecrk.Options{
		Businesses: []fakecrk.Business{{ID: "b1", Name: "Acme Sales", Slug: "acme"}},
		Tokens: map[string]fakecrk.Token{
			tToken:            {BusinessID: "b1", Scopes: []string{fakecrk.ScopeManageCall, fakecrk.ScopeViewAll, fakecrk.ScopeManageNotifications}},
			"crk_no_notify_1": {BusinessID: "b1", Scopes: []string{fakecrk.ScopeManageCall, fakecrk.ScopeViewAll}},
		},
		TelegramChats: []fakecrk.TelegramChat{{BusinessID: "b1", ID: "chat-7", ChatID: -1001234, Title: "ops"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	f := newFakes(t, 1)
	env := f.with("CRK_API_URL", c.URL(), "SYNCD_ALERT_CHANNEL", "telegram", "SYNCD_ALERT_CHAT_ID", "chat-7")

	o := runWith(t.Context(), env, "-test-connection")
	if o.code != exitOK || !strings.Contains(o.stdout, "alert dest   ok") || len(c.Messages()) != 0 {
		t.Fatalf("-test-connection with alerting: %+v, %d messages sent", o, len(c.Messages()))
	}
	o = runWith(t.Context(), env, "-test-connection", "-send-test-alert")
	if o.code != exitOK || !strings.Contains(o.stdout, "alert send   ok") || len(c.Messages()) != 1 {
		t.Fatalf("-send-test-alert: %+v, %d messages sent", o, len(c.Messages()))
	}
	o = runWith(t.Context(), f.with("CRK_API_URL", c.URL(), "CRK_API_TOKEN", "crk_no_notify_1", "SYNCD_ALERT_CHANNEL", "telegram", "SYNCD_ALERT_CHAT_ID", "chat-7"), "-test-connection")
	if o.code != exitFailed || !strings.Contains(o.stdout, "alert dest   FAIL") || !strings.Contains(o.stdout, "manage_notifications") {
		t.Fatalf("token without manage_notifications: %+v", o)
	}
	o = runWith(t.Context(), f.with("CRK_API_URL", c.URL(), "SYNCD_ALERT_CHANNEL", "telegram", "SYNCD_ALERT_CHAT_ID", "chat-404"), "-test-connection")
	if o.code != exitFailed || !strings.Contains(o.stdout, "chat-404") {
		t.Fatalf("unknown chat id: %+v", o)
	}
	// -once with the source down raises the alert once, through the wiring.
	down := f.with("CRK_API_URL", c.URL(), "SYNCD_ALERT_CHANNEL", "telegram", "SYNCD_ALERT_CHAT_ID", "chat-7",
		"SYNCD_ALERT_AFTER", "2", "DTAC_PASSWORD", "wrong-password")
	for range 3 {
		if o := runWith(t.Context(), down, "-once"); o.code != exitFailed {
			t.Fatalf("-once with a wrong password: %+v", o)
		}
	}
	if msgs := c.Messages(); len(msgs) != 2 || msgs[1].Severity != "critical" || !strings.Contains(msgs[1].Body+msgs[1].Title, "dtac") {
		t.Fatalf("after 3 failed passes with SYNCD_ALERT_AFTER=2: %+v, want the test message and one critical alert about dtac", msgs)
	}
	if o := runWith(t.Context(), f.env, "-send-test-alert"); o.code != exitConfig {
		t.Fatalf("-send-test-alert alone: %+v", o)
	}
}

// -retry-quarantined where there is no state file says so, instead of
// creating an empty one and reporting "moved 0" (a wrong SYNCD_STATE_PATH
// would look like nothing to retry); a mistyped -source is refused too.
func TestRetryQuarantinedNeedsTheDaemonsFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "syncd.db")
	o := runWith(t.Context(), map[string]string{"SYNCD_STATE_PATH": path}, "-retry-quarantined")
	if o.code != exitFailed || !strings.Contains(o.stderr, "there is no state file at "+path) {
		t.Fatalf("-retry-quarantined without a state file: %+v", o)
	}
	if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("the command created %s: %v", path, err)
	}
	f := newFakes(t, 1)
	if o := runWith(t.Context(), f.env, "-once"); o.code != exitOK {
		t.Fatalf("-once: %+v", o)
	}
	o = runWith(t.Context(), f.env, "-retry-quarantined", "-source", "threecx")
	if o.code != exitFailed || !strings.Contains(o.stderr, `no source "threecx" in the state file: the state file holds dtac`) {
		t.Fatalf("-retry-quarantined -source threecx: %+v", o)
	}
}
