package config

import (
	"context"
	"strings"
	"testing"
)

// A self-hosted OrkWeb on the customer's network may be plain http; the
// portals on the internet may not.
func TestPlainHTTPOnlyWhereALANServerIs(t *testing.T) {
	env := map[string]string{
		"CRK_API_TOKEN": "crk_test", "ORKWEB_BASE_URL": "http://oreka.local:8080",
		"ORKWEB_USERNAME": "admin", "ORKWEB_PASSWORD": "secret",
	}
	if _, err := Load(context.Background(), mapLookup(env), ReadSecretFile); err != nil {
		t.Fatalf("OrkWeb over http on the LAN: %v", err)
	}
	env["DTAC_USERNAME"], env["DTAC_PASSWORD"], env["DTAC_BASE_URL"] = "+66812345678", "pw", "http://portal.example.com"
	_, err := Load(context.Background(), mapLookup(env), ReadSecretFile)
	if err == nil || !strings.Contains(err.Error(), "DTAC_BASE_URL: http:// is allowed only for a loopback host") {
		t.Fatalf("DTAC over http: %v", err)
	}
}
