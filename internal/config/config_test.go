package config

import (
	"context"
	"errors"
	"log/slog"
	"maps"
	"os"
	"reflect"
	"slices"
	"testing"
	"time"
	_ "time/tzdata" // as in main: zones without a system tz database

	"github.com/crkai/syncd/connectors/dtac"
)

// defaults is the Config that minimal (a token and DTAC) gives: every
// default of DESIGN.md's table.
func defaults() Config {
	return Config{
		CRK: CRK{
			APIURL:    "https://phone.mcloud.co.th/api/v1",
			Token:     NewSecret("crk_test"),
			RateLimit: 600,
		},
		Schedule:    "*/5 * * * *",
		StatePath:   "./syncd.db",
		ListenAddr:  "127.0.0.1:9464",
		PhoneRegion: "TH",
		Backfill:    24 * time.Hour,
		Lookback:    2 * time.Hour,
		Settle:      2 * time.Minute,
		MaxCall:     4 * time.Hour,
		Concurrency: 4,
		LogFormat:   "text",
		LogLevel:    slog.LevelInfo,
		LogPhones:   "masked",
		// SYNCD_UNHEALTHY_AFTER, issue 5's addition.
		UnhealthyAfter:   3,
		UnknownDirection: "in",
	}
}

// values are what each enabled source's variables were checked to, by
// source and variable, secrets revealed.
type values map[string]map[string]string

// defaultValues are the sources of minimal().
func defaultValues() values {
	return values{"dtac": {
		"DTAC_USERNAME": "+66812345678",
		"DTAC_PASSWORD": "dtacpw9",
		"DTAC_BASE_URL": "https://onecallvoicerecord.dtac.co.th",
	}}
}

// threeCX are the values of a 3CX source with the variables given.
func threeCX(kv ...string) map[string]string {
	v := map[string]string{"THREECX_CLIENT_ID": "", "THREECX_USERNAME": "", "THREECX_INCLUDE_INTERNAL": "false"}
	for i := 0; i < len(kv); i += 2 {
		v[kv[i]] = kv[i+1]
	}
	return v
}

// sourceValues are what c's sources read, secrets revealed.
func sourceValues(c *Config) values {
	out := values{}
	for _, src := range c.sources {
		v := maps.Clone(src.values)
		for _, s := range src.secrets() {
			v[s.name] = s.secret.Reveal()
		}
		out[src.Name()] = v
	}
	return out
}

func minimal() map[string]string {
	return map[string]string{
		"CRK_API_TOKEN": "crk_test",
		"DTAC_USERNAME": "+66812345678",
		"DTAC_PASSWORD": "dtacpw9",
	}
}

// with returns minimal() changed by kv pairs; a value "<unset>" deletes.
func with(kv ...string) map[string]string {
	env := minimal()
	for i := 0; i < len(kv); i += 2 {
		if kv[i+1] == "<unset>" {
			delete(env, kv[i])
			continue
		}
		env[kv[i]] = kv[i+1]
	}
	return env
}

func TestLoadGood(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		zone    string
		sources []string
		want    func(c *Config)
		values  func(v values) // from defaultValues; nil: unchanged
	}{
		{
			name: "defaults", env: minimal(), zone: "Asia/Bangkok", sources: []string{"dtac"},
			want: func(c *Config) {},
		},
		{
			name: "defaults match the exported constants", env: minimal(), zone: DefaultTimezone, sources: []string{"dtac"},
			want: func(c *Config) {
				c.CRK.APIURL, c.CRK.RateLimit = DefaultCRKAPIURL, DefaultRateLimit
				c.Schedule, c.StatePath, c.ListenAddr = DefaultSchedule, DefaultStatePath, DefaultListenAddr
				c.PhoneRegion, c.Concurrency = DefaultPhoneRegion, DefaultConcurrency
				c.Backfill, c.Lookback, c.Settle, c.MaxCall = DefaultBackfill, DefaultLookback, DefaultSettle, DefaultMaxCall
				c.LogFormat, c.LogLevel = DefaultLogFormat, DefaultLogLevel
			},
			values: func(v values) { v["dtac"]["DTAC_BASE_URL"] = dtac.DefaultBaseURL },
		},
		{
			name: "STATE_DIRECTORY, first of several", zone: "Asia/Bangkok", sources: []string{"dtac"},
			env:  with("STATE_DIRECTORY", "/var/lib/syncd:/var/lib/other"),
			want: func(c *Config) { c.StatePath = "/var/lib/syncd/syncd.db" },
		},
		{
			name: "SYNCD_STATE_PATH wins over STATE_DIRECTORY", zone: "Asia/Bangkok", sources: []string{"dtac"},
			env:  with("STATE_DIRECTORY", "/var/lib/syncd", "SYNCD_STATE_PATH", "/data/state.db"),
			want: func(c *Config) { c.StatePath = "/data/state.db" },
		},
		{
			name: "empty listen address disables", zone: "Asia/Bangkok", sources: []string{"dtac"},
			env:  with("SYNCD_LISTEN_ADDR", ""),
			want: func(c *Config) { c.ListenAddr = "" },
		},
		{
			name: "_FILE secrets, trailing whitespace trimmed", zone: "Asia/Bangkok", sources: []string{"dtac", "3cx"},
			env: with(
				"CRK_API_TOKEN", "<unset>", "CRK_API_TOKEN_FILE", "testdata/secrets/crk_api_token",
				"DTAC_PASSWORD", "<unset>", "DTAC_PASSWORD_FILE", "testdata/secrets/dtac_password",
				"THREECX_BASE_URL", "https://acme.3cx.co.th/",
				"THREECX_CLIENT_ID", "syncd",
				"THREECX_CLIENT_SECRET_FILE", "testdata/secrets/threecx_client_secret",
			),
			want: func(c *Config) { c.CRK.Token = NewSecret("crk_fromfile_7f3a") },
			values: func(v values) {
				v["dtac"]["DTAC_PASSWORD"] = "dtac-file-pass"
				v["3cx"] = threeCX("THREECX_BASE_URL", "https://acme.3cx.co.th", "THREECX_CLIENT_ID", "syncd", "THREECX_CLIENT_SECRET", "3cx-file-secret")
			},
		},
		{
			name: "$CREDENTIALS_DIRECTORY", zone: "Asia/Bangkok", sources: []string{"dtac", "3cx"},
			env: with(
				"CREDENTIALS_DIRECTORY", "testdata/credentials",
				"CRK_API_TOKEN", "<unset>", "DTAC_PASSWORD", "<unset>",
				"THREECX_BASE_URL", "https://acme.3cx.co.th", "THREECX_CLIENT_ID", "syncd",
			),
			want: func(c *Config) { c.CRK.Token = NewSecret("crk_fromcred_91b2") },
			values: func(v values) {
				v["dtac"]["DTAC_PASSWORD"] = "dtac-cred-pass"
				v["3cx"] = threeCX("THREECX_BASE_URL", "https://acme.3cx.co.th", "THREECX_CLIENT_ID", "syncd", "THREECX_CLIENT_SECRET", "cred-3cx-secret")
			},
		},
		{
			name: "X and X_FILE win over $CREDENTIALS_DIRECTORY", zone: "Asia/Bangkok", sources: []string{"dtac"},
			env: with(
				"CREDENTIALS_DIRECTORY", "testdata/credentials",
				"DTAC_PASSWORD", "<unset>", "DTAC_PASSWORD_FILE", "testdata/secrets/dtac_password",
			),
			want:   func(c *Config) {},
			values: func(v values) { v["dtac"]["DTAC_PASSWORD"] = "dtac-file-pass" },
		},
		{
			name: "every variable set", zone: "UTC", sources: []string{"3cx"},
			env: map[string]string{
				"CRK_API_URL":              "http://127.0.0.1:8080/api/v1/",
				"CRK_API_TOKEN":            "crk_account_1",
				"CRK_BUSINESS_ID":          "biz_42",
				"CRK_RATE_LIMIT":           "60",
				"SYNCD_SCHEDULE":           "@every 2m",
				"SYNCD_STATE_PATH":         "/tmp/x.db",
				"SYNCD_LISTEN_ADDR":        ":9100",
				"SYNCD_TIMEZONE":           "UTC",
				"SYNCD_PHONE_REGION":       "la",
				"SYNCD_BACKFILL":           "168h",
				"SYNCD_LOOKBACK":           "0s",
				"SYNCD_SETTLE":             "0",
				"SYNCD_MAX_CALL_DURATION":  "90m",
				"SYNCD_CONCURRENCY":        "64",
				"SYNCD_LOG_FORMAT":         "JSON",
				"SYNCD_LOG_LEVEL":          "debug",
				"SYNCD_LOG_PHONES":         "FULL",
				"SYNCD_UNHEALTHY_AFTER":    "5",
				"SYNCD_UNKNOWN_DIRECTION":  "QUARANTINE",
				"THREECX_BASE_URL":         "http://[::1]:5001",
				"THREECX_USERNAME":         "100",
				"THREECX_PASSWORD":         "3cxpw7",
				"THREECX_INCLUDE_INTERNAL": "true",
				"SYNCD_ALERT_CHANNEL":      "telegram",
				"SYNCD_ALERT_CHAT_ID":      "5d0c7a52-3f7e-4a51-9d55-0c0ffee00001",
				"SYNCD_ALERT_AFTER":        "1",
				"SYNCD_ALERT_LINK":         "https://wiki.example.com/syncd?page=alerts#top",
			},
			want: func(c *Config) {
				*c = Config{
					CRK:         CRK{APIURL: "http://127.0.0.1:8080/api/v1", Token: NewSecret("crk_account_1"), BusinessID: "biz_42", RateLimit: 60},
					Schedule:    "@every 2m",
					StatePath:   "/tmp/x.db",
					ListenAddr:  ":9100",
					PhoneRegion: "LA",
					Backfill:    168 * time.Hour,
					MaxCall:     90 * time.Minute,
					Concurrency: 64,
					LogFormat:   "json",
					LogLevel:    slog.LevelDebug,
					LogPhones:   "full", UnhealthyAfter: 5, UnknownDirection: "quarantine",
					Alert: Alert{Channel: "telegram", ChatID: "5d0c7a52-3f7e-4a51-9d55-0c0ffee00001", After: 1, Link: "https://wiki.example.com/syncd?page=alerts#top"},
				}
			},
			values: func(v values) {
				delete(v, "dtac")
				v["3cx"] = (threeCX("THREECX_BASE_URL", "http://[::1]:5001", "THREECX_USERNAME", "100", "THREECX_PASSWORD", "3cxpw7",
					"THREECX_INCLUDE_INTERNAL", "true"))
			},
		},
		{
			name: "loopback http for DTAC, cron fields, warn level", zone: "Europe/London", sources: []string{"dtac"},
			env: with("DTAC_BASE_URL", "http://localhost:8081", "SYNCD_SCHEDULE", "0 */2 * * 1-5",
				"SYNCD_TIMEZONE", "Europe/London", "SYNCD_LOG_LEVEL", "WARN", "DTAC_USERNAME", "+6621234567"),
			want: func(c *Config) {
				c.Schedule = "0 */2 * * 1-5"
				c.LogLevel = slog.LevelWarn
			},
			values: func(v values) {
				v["dtac"]["DTAC_BASE_URL"] = "http://localhost:8081"
				v["dtac"]["DTAC_USERNAME"] = "+6621234567"
			},
		},
		{
			name: "127.0.0.0/8 is loopback", zone: "Asia/Bangkok", sources: []string{"dtac"},
			env:  with("CRK_API_URL", "http://127.1.2.3:9000/api/v1"),
			want: func(c *Config) { c.CRK.APIURL = "http://127.1.2.3:9000/api/v1" },
		},
		{
			name: "alerts to Discord, channel in any case, default After", zone: "Asia/Bangkok", sources: []string{"dtac"},
			env:  with("SYNCD_ALERT_CHANNEL", "Discord", "SYNCD_ALERT_WEBHOOK_ID", "1187"),
			want: func(c *Config) { c.Alert = Alert{Channel: "discord", WebhookID: "1187", After: DefaultAlertAfter} },
		},
		{
			name: "alerts to the in-app feed, http link", zone: "Asia/Bangkok", sources: []string{"dtac"},
			env:  with("SYNCD_ALERT_CHANNEL", "in_app", "SYNCD_ALERT_AFTER", "10", "SYNCD_ALERT_LINK", "http://intranet/runbook"),
			want: func(c *Config) { c.Alert = Alert{Channel: "in_app", After: 10, Link: "http://intranet/runbook"} },
		},
		{
			name: "an empty SYNCD_ALERT_CHANNEL turns alerting off", zone: "Asia/Bangkok", sources: []string{"dtac"},
			env:  with("SYNCD_ALERT_CHANNEL", "", "SYNCD_ALERT_CHAT_ID", "", "SYNCD_ALERT_LINK", ""),
			want: func(c *Config) {},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Load(context.Background(), mapLookup(tt.env), os.ReadFile)
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			want := defaults()
			tt.want(&want)
			if got.Location == nil || got.Location.String() != tt.zone {
				t.Errorf("Location = %v, want %s", got.Location, tt.zone)
			}
			got.Location = nil
			gotValues, wantValues := sourceValues(got), defaultValues()
			if tt.values != nil {
				tt.values(wantValues)
			}
			if !reflect.DeepEqual(gotValues, wantValues) {
				t.Errorf("sources:\n got %q\nwant %q", gotValues, wantValues)
			}
			if s := got.Sources(); !slices.Equal(s, tt.sources) {
				t.Errorf("Sources() = %q, want %q", s, tt.sources)
			}
			got.sources = nil
			if !reflect.DeepEqual(*got, want) {
				t.Errorf("config:\n got %#v\nwant %#v", revealed(*got), revealed(want))
			}
		})
	}
}

// revealed shows a config with its secrets, for a failing test's message.
func revealed(c Config) map[string]any {
	return map[string]any{
		"config": c, "token": c.CRK.Token.Reveal(),
	}
}

// TestSourceFingerprint: the fingerprint names the log-in (address, user,
// secret) and nothing else, and is the one the syncer has stored since
// before sources had Kinds.
func TestSourceFingerprint(t *testing.T) {
	load := func(env map[string]string) *Config {
		t.Helper()
		c, err := Load(context.Background(), mapLookup(env), os.ReadFile)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	c := load(minimal())
	if got, want := c.SourceFingerprint("dtac"), fingerprint([]string{"https://onecallvoicerecord.dtac.co.th", "+66812345678", "dtacpw9"}); got != want || len(got) != 8 {
		t.Errorf("dtac fingerprint %q, want %q", got, want)
	}
	if c.SourceFingerprint("3cx") != "" {
		t.Error("a source that is off has a fingerprint")
	}
	cx := with("THREECX_BASE_URL", "https://pbx.example.com", "THREECX_CLIENT_ID", "id", "THREECX_CLIENT_SECRET", "s")
	fp := load(cx).SourceFingerprint("3cx")
	if want := fingerprint([]string{"https://pbx.example.com", "id", "s", "", ""}); fp != want {
		t.Errorf("3cx fingerprint %q, want %q", fp, want)
	}
	cx["THREECX_INCLUDE_INTERNAL"] = "true"
	if load(cx).SourceFingerprint("3cx") != fp {
		t.Error("THREECX_INCLUDE_INTERNAL changed the log-in's fingerprint")
	}
	cx["THREECX_CLIENT_SECRET"] = "s2"
	if load(cx).SourceFingerprint("3cx") == fp {
		t.Error("a new secret kept the fingerprint")
	}
}

// TestSecretsListsEverySecret: Secrets has the token and every source's
// secrets that are set, for scrubbing.
func TestSecretsListsEverySecret(t *testing.T) {
	c, err := Load(context.Background(), mapLookup(with("THREECX_BASE_URL", "https://pbx.example.com", "THREECX_USERNAME", "100", "THREECX_PASSWORD", "p3")), os.ReadFile)
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Secrets(); !slices.Equal(got, []string{"crk_test", "dtacpw9", "p3"}) {
		t.Errorf("Secrets() = %q", got)
	}
}

// TestLoadReadsOnlyTheFilesItNeeds pins that a disabled source's _FILE is
// not read and that a secret given directly reads nothing.
func TestLoadReadsOnlyTheFilesItNeeds(t *testing.T) {
	var read []string
	readFile := func(p string) ([]byte, error) {
		read = append(read, p)
		return os.ReadFile(p)
	}
	env := with("CREDENTIALS_DIRECTORY", "testdata/credentials", "THREECX_PASSWORD_FILE", "/run/secrets/threecx_password")
	_, err := Load(context.Background(), mapLookup(env), readFile)
	var cerr *Error
	if !errors.As(err, &cerr) || len(cerr.Problems) != 1 || cerr.Problems[0].Var != "THREECX_PASSWORD_FILE" {
		t.Fatalf("Load: %v; want one problem about THREECX_PASSWORD_FILE", err)
	}
	if len(read) != 0 {
		t.Errorf("read %q, want nothing", read)
	}
}

func TestLoadNeedsFunctions(t *testing.T) {
	if _, err := Load(context.Background(), nil, os.ReadFile); err == nil {
		t.Error("Load with a nil lookup: no error")
	}
	if _, err := Load(context.Background(), mapLookup(minimal()), nil); err == nil {
		t.Error("Load with a nil readFile: no error")
	}
}

func TestErrorText(t *testing.T) {
	e := &Error{Problems: []Problem{{"A", "why a"}, {"B/C", "why b"}}}
	want := "invalid configuration:\n  A: why a\n  B/C: why b"
	if got := e.Error(); got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}

func TestAlertEnabled(t *testing.T) {
	for _, tt := range []struct {
		env  map[string]string
		want bool
	}{
		{minimal(), false},
		{with("SYNCD_ALERT_CHANNEL", ""), false},
		{with("SYNCD_ALERT_CHANNEL", "in_app"), true},
		{with("SYNCD_ALERT_CHANNEL", "telegram", "SYNCD_ALERT_CHAT_ID", "c1"), true},
	} {
		c, err := Load(context.Background(), mapLookup(tt.env), os.ReadFile)
		if err != nil {
			t.Fatal(err)
		}
		if got := c.Alert.Enabled(); got != tt.want {
			t.Errorf("%v: Enabled() = %v, want %v", tt.env, got, tt.want)
		}
	}
}
