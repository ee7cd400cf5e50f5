package alert_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/crkai/syncd/connectors"
	"github.com/crkai/syncd/internal/alert"
	"github.com/crkai/syncd/internal/deps"
	"github.com/crkai/syncd/internal/fake/fakeclock"
	"github.com/crkai/syncd/internal/fake/fakecrk"
	"github.com/crkai/syncd/internal/fake/fakelog"
	"github.com/crkai/syncd/internal/sink"
	"github.com/crkai/syncd/internal/state"
	"github.com/crkai/syncd/internal/syncer"
)

const (
	bizA = "b1000000-0000-4000-8000-00000000000a"
	bizB = "b2000000-0000-4000-8000-00000000000b"

	tokAlerts   = "crk_alerts_a1b2c3d4e5f6"  // A: ingest + view + manage_notifications
	tokNotify   = "crk_notify_0f1e2d3c4b5a"  // A: manage_notifications only
	tokIngest   = "crk_ingest_9a8b7c6d5e4f"  // A: ingest only
	tokRevoked  = "crk_revoked_1a2b3c4d5e6f" // A: everything, revoked
	tokAccount  = "crk_account_6a6b6c6d6e6f" // account key of u1 (A)
	chatA       = "5d0c7a52-3f7e-4a51-9d55-0c0ffee00001"
	webhookA    = "1187"
	dtacSecret  = "dtac-Pa55word!"
	threecxPass = "3cx-cl13nt-s3cret"
)

var bangkok = time.FixedZone("ICT", 7*60*60)

// env is an Alerter over real HTTP against the CRK fake, with a state file
// and a fake clock, that can be restarted.
type env struct {
	t     *testing.T
	crk   *fakecrk.Server
	clk   *fakeclock.Clock
	cfg   alert.Config
	token string
	path  string
	logs  *fakelog.Buffer

	store *state.Store
	reg   *prometheus.Registry
	al    *alert.Alerter
}

// newEnv starts the fake (edit adjusts its options) and an Alerter of cfg
// whose gateway uses token. Retries of one request are fast.
func newEnv(t *testing.T, cfg alert.Config, token string, edit func(*fakecrk.Options)) *env {
	t.Helper()
	opts := fakecrk.Options{
		Businesses: []fakecrk.Business{{ID: bizA, Name: "Acme Sales", Slug: "acme-sales"}, {ID: bizB, Name: "Acme Support", Slug: "acme-support"}},
		Tokens: map[string]fakecrk.Token{
			tokAlerts:  {BusinessID: bizA, Scopes: []string{fakecrk.ScopeManageCall, fakecrk.ScopeViewAll, fakecrk.ScopeManageNotifications}},
			tokNotify:  {BusinessID: bizA, Scopes: []string{fakecrk.ScopeManageNotifications}},
			tokIngest:  {BusinessID: bizA, Scopes: []string{fakecrk.ScopeManageCall}},
			tokRevoked: {BusinessID: bizA, Scopes: []string{fakecrk.ScopeManageCall, fakecrk.ScopeManageNotifications}, Disabled: true},
			tokAccount: {Level: fakecrk.LevelAccount, UserID: "u1"},
		},
		Members:         map[string][]string{"u1": {bizA}},
		TelegramChats:   []fakecrk.TelegramChat{{BusinessID: bizA, ID: chatA, ChatID: -1001234567890, Title: "Acme ops"}},
		DiscordWebhooks: []fakecrk.DiscordWebhook{{BusinessID: bizA, ID: webhookA, Name: "alerts"}, {BusinessID: bizB, ID: "2001", Name: "support"}},
	}
	if edit != nil {
		edit(&opts)
	}
	srv, err := fakecrk.Start(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := srv.Close(); err != nil {
			t.Error(err)
		}
	})
	e := &env{
		t: t, crk: srv, cfg: cfg, token: token, logs: &fakelog.Buffer{},
		clk:  fakeclock.New(time.Date(2026, 5, 20, 1, 0, 0, 0, time.UTC)),
		path: filepath.Join(t.TempDir(), "syncd.db"),
	}
	e.open()
	t.Cleanup(func() {
		if e.store != nil {
			_ = e.store.Close()
		}
		noSecret(t, "the log", e.logs.String())
	})
	return e
}

// open opens the state file and builds a new Alerter on it, with a
// registry of its own.
func (e *env) open() {
	e.t.Helper()
	var err error
	e.store, err = state.Open(context.Background(), e.path, state.Options{Now: e.clk.Now})
	if err != nil {
		e.t.Fatal(err)
	}
	e.reg = prometheus.NewRegistry()
	e.al = e.newAlerter(e.cfg, e.token, e.reg)
}

// newAlerter is an Alerter on e's store with a gateway of its own.
func (e *env) newAlerter(cfg alert.Config, token string, reg prometheus.Registerer) *alert.Alerter {
	e.t.Helper()
	tr := &http.Transport{}
	e.t.Cleanup(tr.CloseIdleConnections)
	gw, err := sink.New(sink.Config{
		BaseURL: e.crk.URL(), Token: token, BusinessID: businessOf(token),
		Retry: sink.Retry{Attempts: 2, Base: time.Millisecond, Max: time.Millisecond, MaxRetryAfter: time.Millisecond},
	}, sink.Deps{Shared: deps.Shared{HTTP: &http.Client{Transport: tr}}})
	if err != nil {
		e.t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	al, err := alert.New(cfg, alert.Deps{
		Shared:  deps.Shared{Logger: log, Now: e.clk.Now, Registerer: reg},
		Gateway: gw, Store: e.store, Location: bangkok,
		Secrets: []string{token, dtacSecret, threecxPass},
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return al
}

func businessOf(token string) string {
	if token == tokAccount {
		return bizA
	}
	return ""
}

// restart closes the state file and opens it again with a new Alerter, as
// a restarted daemon does.
func (e *env) restart() {
	e.t.Helper()
	if err := e.store.Close(); err != nil {
		e.t.Fatal(err)
	}
	e.open()
}

// outcome is one source's pass.
type outcome struct {
	res syncer.Result
	err error
}

func ok(source string) outcome { return outcome{res: syncer.Result{Source: source}} }

func synced(source string, n int) outcome {
	return outcome{res: syncer.Result{Source: source, Listed: n, New: n, Synced: n}}
}

func failed(source string, err error) outcome {
	return outcome{res: syncer.Result{Source: source}, err: err}
}

// loginRefused is a pass error as the syncer returns it for a DTAC login
// the portal refuses.
func loginRefused(source string) error {
	return fmt.Errorf("listing %s from 2026-05-19T08:00:00+07:00 to 2026-05-20T07:58:00+07:00: %s: login: %w", source, source, connectors.ErrAuth)
}

// pass runs AfterPass for one round, then moves the clock on 5 minutes.
func (e *env) pass(outs ...outcome) {
	e.t.Helper()
	results := make([]syncer.Result, len(outs))
	for i, o := range outs {
		results[i] = o.res
		results[i].Err = o.err
	}
	e.round(context.Background(), e.al, results)
	e.clk.Advance(5 * time.Minute)
}

// round is what the daemon does after a round of passes: count the
// streaks, then let al act on the round.
func (e *env) round(ctx context.Context, al *alert.Alerter, results []syncer.Result) {
	e.t.Helper()
	if _, err := (alert.Streaks{Store: e.store, Now: e.clk.Now}).Record(ctx, results); err != nil {
		e.t.Fatal(err)
	}
	al.AfterPass(ctx, results)
}

// delivered is the messages the gateway delivered.
func (e *env) delivered() []fakecrk.Message {
	var out []fakecrk.Message
	for _, m := range e.crk.Messages() {
		if m.Delivered {
			out = append(out, m)
		}
	}
	return out
}

// metric is the value of a metric of e's current Alerter.
func (e *env) metric(name string, labels ...string) float64 {
	e.t.Helper()
	mfs, err := e.reg.Gather()
	if err != nil {
		e.t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	next:
		for _, m := range mf.GetMetric() {
			for i := 0; i+1 < len(labels); i += 2 {
				found := false
				for _, lp := range m.GetLabel() {
					if lp.GetName() == labels[i] && lp.GetValue() == labels[i+1] {
						found = true
					}
				}
				if !found {
					continue next
				}
			}
			switch {
			case m.GetCounter() != nil:
				return m.GetCounter().GetValue()
			case m.GetGauge() != nil:
				return m.GetGauge().GetValue()
			}
		}
	}
	e.t.Fatalf("no metric %s%v", name, labels)
	return 0
}

// secrets must never appear in a message or a log line.
var secrets = []string{tokAlerts, tokNotify, tokIngest, tokRevoked, tokAccount, dtacSecret, threecxPass}

// noSecret fails the test when s holds a secret or credential-like text.
func noSecret(t *testing.T, what, s string, extra ...string) {
	t.Helper()
	for _, sec := range append(secrets[:len(secrets):len(secrets)], extra...) {
		if strings.Contains(s, sec) {
			t.Errorf("%s holds a secret (%.10s…): %s", what, sec, s)
		}
	}
	for _, bad := range []string{"Bearer crk", "X-Amz-Signature", "X-Amz-Credential", "goroutine "} {
		if strings.Contains(s, bad) {
			t.Errorf("%s holds %q: %s", what, bad, s)
		}
	}
}
