package config

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
)

// Load reads the configuration from the environment through lookup
// (os.LookupEnv in main; a map in tests) and secret files through readFile
// (os.ReadFile in main), and validates it. An invalid configuration is
// returned as *Error listing every problem; other errors are the caller's
// (a nil function).
func Load(ctx context.Context, lookup func(string) (string, bool), readFile func(string) ([]byte, error)) (*Config, error) {
	if lookup == nil || readFile == nil {
		return nil, errors.New("config: Load needs a lookup and a readFile function")
	}
	env, err := readEnvironment(ctx, lookup)
	if err != nil {
		return nil, err
	}
	b := &builder{env: env, lookup: lookup, readFile: readFile}
	cfg := b.build()
	if len(b.problems) > 0 {
		sortProblems(b.problems)
		return nil, &Error{Problems: b.problems}
	}
	return cfg, nil
}

// builder turns the raw environment into a Config, collecting problems.
type builder struct {
	env      *environment
	lookup   func(string) (string, bool)
	readFile func(string) ([]byte, error)
	problems []Problem
}

func (b *builder) add(name, format string, args ...any) {
	b.problems = append(b.problems, Problem{Var: name, Why: fmt.Sprintf(format, args...)})
}

// failed reports whether a problem about name was already recorded.
func (b *builder) failed(name string) bool {
	for _, p := range b.problems {
		if p.Var == name {
			return true
		}
	}
	return false
}

// build checks every variable, roughly in the order of DESIGN.md's table
// (Load sorts the problems into that order).
func (b *builder) build() *Config {
	e := b.env
	c := &Config{}

	// CRK.
	c.CRK.APIURL = b.baseURL("CRK_API_URL", e.CRKAPIURL, DefaultCRKAPIURL, "the API token", true)
	token := secretInput{name: "CRK_API_TOKEN", value: e.CRKAPIToken, file: e.CRKAPITokenFile}
	t := b.secret(token)
	b.requireSecret(token, t, "")
	if t.secret.IsSet() {
		b.checkToken(t)
	}
	c.CRK.Token = t.secret
	c.CRK.BusinessID = e.CRKBusinessID
	c.CRK.RateLimit = b.positiveInt("CRK_RATE_LIMIT", e.CRKRateLimit, DefaultRateLimit, "requests per minute")

	// The daemon.
	c.Schedule = b.schedule("SYNCD_SCHEDULE", e.Schedule)
	c.StatePath = b.statePath()
	c.ListenAddr = b.listenAddr("SYNCD_LISTEN_ADDR", e.ListenAddr)
	c.WebConfigFile = b.webConfigFile("SYNCD_WEB_CONFIG_FILE", e.WebConfig)
	c.Location = b.location("SYNCD_TIMEZONE", e.Timezone)
	c.PhoneRegion = b.region("SYNCD_PHONE_REGION", e.PhoneRegion)
	c.Backfill = b.duration("SYNCD_BACKFILL", e.Backfill, "24h", false)
	c.Lookback = b.duration("SYNCD_LOOKBACK", e.Lookback, "2h", true)
	c.Settle = b.duration("SYNCD_SETTLE", e.Settle, "2m", true)
	c.MaxCall = b.duration("SYNCD_MAX_CALL_DURATION", e.MaxCall, "4h", false)
	c.Concurrency = b.intRange("SYNCD_CONCURRENCY", e.Concurrency, DefaultConcurrency, 1, MaxConcurrency)
	c.LogFormat = b.logFormat("SYNCD_LOG_FORMAT", e.LogFormat)
	c.LogLevel = b.logLevel("SYNCD_LOG_LEVEL", e.LogLevel)
	c.LogPhones = b.logPhones("SYNCD_LOG_PHONES", e.LogPhones)
	c.UnknownDirection = b.unknownDirection("SYNCD_UNKNOWN_DIRECTION", e.UnknownDir)
	c.UnhealthyAfter = b.intRange("SYNCD_UNHEALTHY_AFTER", e.Unhealthy, DefaultUnhealthyAfter, 1, 1000)

	// Sources: each kind's variables (internal/sources).
	b.sourcesOff()
	c.sources = b.enabledSources()

	// Alerting.
	c.Alert = b.alert()
	return c
}

// statePath is SYNCD_STATE_PATH, defaulting under systemd's StateDirectory=.
func (b *builder) statePath() string {
	def := DefaultStatePath
	if dir, _, _ := strings.Cut(b.env.StateDirectory, ":"); dir != "" {
		def = filepath.Join(dir, DefaultStateFile)
	}
	sp := b.env.StatePath
	switch {
	case !sp.set:
		return def
	case sp.value == "":
		b.add("SYNCD_STATE_PATH", "is set but empty: unset it to use the default (%s)", def)
		return def
	}
	return sp.value
}

// LoadLocal reads only what works on this machine's own files: the state
// path, the listen address and the time zone. `syncd -status` needs
// nothing else, so it works without a token or a source configured.
func LoadLocal(ctx context.Context, lookup func(string) (string, bool)) (*Config, error) {
	if lookup == nil {
		return nil, errors.New("config: LoadLocal needs a lookup function")
	}
	env, err := readEnvironment(ctx, lookup)
	if err != nil {
		return nil, err
	}
	b := &builder{env: env}
	c := &Config{
		StatePath:           b.statePath(),
		ListenAddr:          b.listenAddr("SYNCD_LISTEN_ADDR", env.ListenAddr),
		WebConfigFile:       b.webConfigFile("SYNCD_WEB_CONFIG_FILE", env.WebConfig),
		HealthcheckUser:     env.HealthcheckUser,
		HealthcheckPassword: NewSecret(env.HealthcheckPassword),
		Location:            b.location("SYNCD_TIMEZONE", env.Timezone),
	}
	if len(b.problems) > 0 {
		sortProblems(b.problems)
		return nil, &Error{Problems: b.problems}
	}
	return c, nil
}
