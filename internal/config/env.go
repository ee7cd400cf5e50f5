package config

import (
	"context"
	"fmt"

	"github.com/sethvargo/go-envconfig"
)

// environment is the raw text of every variable but the sources', as
// go-envconfig reads it. (A source's variables are its Kind's, read
// through the lookup by section.) Values are kept as strings and parsed by
// the builder, so that one bad value does not hide the others
// (go-envconfig stops at its first error).
//
// go-envconfig applies a default only when the variable is unset; a
// variable set to "" keeps "". Since every default here is non-empty, an
// empty string in a defaulted field means "set but empty".
type environment struct {
	CRKAPIURL       string `env:"CRK_API_URL, default=https://phone.mcloud.co.th/api/v1"`
	CRKAPIToken     string `env:"CRK_API_TOKEN"`
	CRKAPITokenFile string `env:"CRK_API_TOKEN_FILE"`
	CRKBusinessID   string `env:"CRK_BUSINESS_ID"`
	CRKRateLimit    string `env:"CRK_RATE_LIMIT, default=600"`

	Schedule    string  `env:"SYNCD_SCHEDULE, default=*/5 * * * *"`
	StatePath   setting `env:"SYNCD_STATE_PATH"`
	ListenAddr  string  `env:"SYNCD_LISTEN_ADDR, default=127.0.0.1:9464"`
	WebConfig   string  `env:"SYNCD_WEB_CONFIG_FILE"`
	Timezone    string  `env:"SYNCD_TIMEZONE, default=Asia/Bangkok"`
	PhoneRegion string  `env:"SYNCD_PHONE_REGION, default=TH"`
	Backfill    string  `env:"SYNCD_BACKFILL, default=24h"`
	Lookback    string  `env:"SYNCD_LOOKBACK, default=2h"`
	Settle      string  `env:"SYNCD_SETTLE, default=2m"`
	MaxCall     string  `env:"SYNCD_MAX_CALL_DURATION, default=4h"`
	Concurrency string  `env:"SYNCD_CONCURRENCY, default=4"`
	LogFormat   string  `env:"SYNCD_LOG_FORMAT, default=text"`
	LogLevel    string  `env:"SYNCD_LOG_LEVEL, default=info"`
	LogPhones   string  `env:"SYNCD_LOG_PHONES, default=masked"`
	UnknownDir  string  `env:"SYNCD_UNKNOWN_DIRECTION, default=in"`
	Unhealthy   string  `env:"SYNCD_UNHEALTHY_AFTER, default=3"`

	// For syncd's own commands that ask the daemon (-healthcheck, -status).
	HealthcheckUser     string `env:"SYNCD_HEALTHCHECK_USER"`
	HealthcheckPassword string `env:"SYNCD_HEALTHCHECK_PASSWORD"`

	AlertChannel   string  `env:"SYNCD_ALERT_CHANNEL"`
	AlertChatID    string  `env:"SYNCD_ALERT_CHAT_ID"`
	AlertWebhookID string  `env:"SYNCD_ALERT_WEBHOOK_ID"`
	AlertAfter     setting `env:"SYNCD_ALERT_AFTER"`
	AlertLink      string  `env:"SYNCD_ALERT_LINK"`

	// Set by systemd: StateDirectory= and LoadCredential=.
	StateDirectory       string `env:"STATE_DIRECTORY"`
	CredentialsDirectory string `env:"CREDENTIALS_DIRECTORY"`
}

// setting is a variable whose default depends on other variables or on
// whether its source is enabled, so the builder must know whether it was set
// at all: go-envconfig calls EnvDecode only for a variable that is present,
// even when its value is "".
type setting struct {
	value string
	set   bool
}

// EnvDecode implements envconfig.Decoder.
func (s *setting) EnvDecode(v string) error {
	s.value, s.set = v, true
	return nil
}

var _ envconfig.Decoder = (*setting)(nil)

// readEnvironment reads every variable through lookup.
func readEnvironment(ctx context.Context, lookup func(string) (string, bool)) (*environment, error) {
	var env environment
	err := envconfig.ProcessWith(ctx, &envconfig.Config{
		Target:   &env,
		Lookuper: envconfig.LookuperFunc(lookup),
	})
	if err != nil {
		return nil, fmt.Errorf("config: reading the environment: %w", err)
	}
	return &env, nil
}
