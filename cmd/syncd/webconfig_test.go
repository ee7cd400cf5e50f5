package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// selfSigned writes a certificate for name and its key into dir and
// returns the certificate.
func selfSigned(t *testing.T, dir, name string) *x509.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: name}, DNSNames: []string{name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	write := func(file, typ string, b []byte) {
		if err := os.WriteFile(filepath.Join(dir, file), pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: b}), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("syncd.crt", "CERTIFICATE", der)
	write("syncd.key", "EC PRIVATE KEY", kder)
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert
}

// TestListenerWithTLSAndBasicAuth runs the daemon with a web
// configuration file (TLS with a certificate for another name than the
// address it is asked on, and a bcrypt-hashed user), and asks it as a
// scraper and as syncd's own commands do.
func TestListenerWithTLSAndBasicAuth(t *testing.T) {
	dir := t.TempDir()
	cert := selfSigned(t, dir, "syncd.example")
	hash, err := bcrypt.GenerateFromPassword([]byte("right horse"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	webConfig := filepath.Join(dir, "web.yml")
	if err := os.WriteFile(webConfig, []byte("tls_server_config:\n  cert_file: syncd.crt\n  key_file: syncd.key\nbasic_auth_users:\n  ops: "+string(hash)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	f := newFakes(t, 2)
	addr := freeAddr(t)
	env := f.with("SYNCD_LISTEN_ADDR", addr, "SYNCD_SCHEDULE", "@every 1h", "SYNCD_WEB_CONFIG_FILE", webConfig)
	ctx, cancel := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	wg.Go(func() { runWith(ctx, env) })

	roots := x509.NewCertPool()
	roots.AddCert(cert)
	scraper := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots, ServerName: "syncd.example"}}}
	ask := func(c *http.Client, url, user, pass string) (int, string) {
		req, err := http.NewRequestWithContext(t.Context(), "GET", url, nil)
		if err != nil {
			t.Fatal(err)
		}
		if user != "" {
			req.SetBasicAuth(user, pass)
		}
		resp, err := c.Do(req)
		if err != nil {
			return 0, err.Error()
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	base := "https://" + addr
	waitFor(t, "the pass at start", func() bool {
		_, body := ask(scraper, base+"/status", "ops", "right horse")
		return strings.Contains(body, "done 2, pending 0")
	})
	for _, tc := range []struct {
		name, url, user, pass string
		client                *http.Client
		code                  int
	}{
		{"page with the password", base + "/", "ops", "right horse", scraper, 200},
		{"metrics with the password", base + "/metrics", "ops", "right horse", scraper, 200},
		{"healthz without a password", base + "/healthz", "", "", scraper, 401},
		{"page with a wrong password", base + "/", "ops", "wrong horse", scraper, 401},
		{"page as another user", base + "/", "root", "right horse", scraper, 401},
		{"plain HTTP", "http://" + addr + "/healthz", "ops", "right horse", http.DefaultClient, 400},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if code, body := ask(tc.client, tc.url, tc.user, tc.pass); code != tc.code {
				t.Fatalf("%d, want %d: %s", code, tc.code, body)
			}
		})
	}
	// A client that trusts the system's roots refuses the certificate.
	if code, body := ask(&http.Client{}, base+"/healthz", "ops", "right horse"); code != 0 || !strings.Contains(body, "certificate") {
		t.Fatalf("an untrusted certificate was accepted: %d %s", code, body)
	}

	// syncd's own commands: the credentials from the environment, the
	// certificate from the web configuration file.
	withAuth := f.with("SYNCD_LISTEN_ADDR", addr, "SYNCD_WEB_CONFIG_FILE", webConfig,
		"SYNCD_HEALTHCHECK_USER", "ops", "SYNCD_HEALTHCHECK_PASSWORD", "right horse")
	if o := runWith(t.Context(), withAuth, "-healthcheck"); o.code != exitOK || !strings.Contains(o.stdout, `"status":"ok"`) {
		t.Fatalf("-healthcheck with the credentials: %+v", o)
	}
	if o := runWith(t.Context(), withAuth, "-status"); o.code != exitOK || !strings.Contains(o.stdout, "done 2, pending 0") {
		t.Fatalf("-status through the daemon: %+v", o)
	}
	noAuth := f.with("SYNCD_LISTEN_ADDR", addr, "SYNCD_WEB_CONFIG_FILE", webConfig)
	if o := runWith(t.Context(), noAuth, "-healthcheck"); o.code != exitFailed || !strings.Contains(o.stderr, "SYNCD_HEALTHCHECK_USER") {
		t.Fatalf("-healthcheck without the credentials: %+v", o)
	}
	wrong := f.with("SYNCD_LISTEN_ADDR", addr, "SYNCD_WEB_CONFIG_FILE", webConfig,
		"SYNCD_HEALTHCHECK_USER", "ops", "SYNCD_HEALTHCHECK_PASSWORD", "wrong horse")
	if o := runWith(t.Context(), wrong, "-healthcheck"); o.code != exitFailed {
		t.Fatalf("-healthcheck with a wrong password: %+v", o)
	}
	// A web configuration file naming another certificate than the one the
	// daemon serves: the command refuses to send the password to it.
	other := t.TempDir()
	selfSigned(t, other, "syncd.example")
	otherConfig := filepath.Join(other, "web.yml")
	if err := os.WriteFile(otherConfig, []byte("tls_server_config:\n  cert_file: syncd.crt\n  key_file: syncd.key\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	impostor := f.with("SYNCD_LISTEN_ADDR", addr, "SYNCD_WEB_CONFIG_FILE", otherConfig,
		"SYNCD_HEALTHCHECK_USER", "ops", "SYNCD_HEALTHCHECK_PASSWORD", "right horse")
	if o := runWith(t.Context(), impostor, "-healthcheck"); o.code != exitFailed || !strings.Contains(o.stderr, "not the one SYNCD_WEB_CONFIG_FILE names") {
		t.Fatalf("-healthcheck against another certificate: %+v", o)
	}
}

// TestBadWebConfigIsAConfigurationError: the daemon does not start on a
// web configuration file the toolkit refuses.
func TestBadWebConfigIsAConfigurationError(t *testing.T) {
	f := newFakes(t, 0)
	bad := filepath.Join(t.TempDir(), "web.yml")
	if err := os.WriteFile(bad, []byte("basic_auth_users:\n  ops: not-a-hash\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	o := runWith(t.Context(), f.with("SYNCD_LISTEN_ADDR", freeAddr(t), "SYNCD_WEB_CONFIG_FILE", bad))
	if o.code != exitConfig || !strings.Contains(o.stderr, "SYNCD_WEB_CONFIG_FILE: "+bad+" is not a valid web configuration file") {
		t.Fatalf("%+v", o)
	}
}
