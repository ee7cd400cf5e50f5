package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/prometheus/exporter-toolkit/web"
	"go.yaml.in/yaml/v2"

	"github.com/crkai/syncd/internal/config"
)

// daemonAddr is how syncd's own commands (-healthcheck, -status) reach the
// daemon's listener: its address, its web configuration file (TLS, basic
// auth), and the basic auth credentials to send.
type daemonAddr struct {
	listen    string // SYNCD_LISTEN_ADDR
	webConfig string // SYNCD_WEB_CONFIG_FILE
	user      string // SYNCD_HEALTHCHECK_USER
	password  string // SYNCD_HEALTHCHECK_PASSWORD
}

// daemonAddrOf is how the configuration says to reach the daemon.
func daemonAddrOf(cfg *config.Config) daemonAddr {
	return daemonAddr{listen: cfg.ListenAddr, webConfig: cfg.WebConfigFile, user: cfg.HealthcheckUser, password: cfg.HealthcheckPassword.Reveal()}
}

// askDaemon GETs path from the daemon. With TLS on, it trusts exactly the
// certificate the web configuration file names (the daemon's own, read
// from the same file), whatever host names that certificate carries: the
// command asks over loopback. With basic auth on, it sends the user and
// password given.
func askDaemon(ctx context.Context, d daemonAddr, path string) (int, string, error) {
	if d.listen == "" {
		return 0, "", errors.New("SYNCD_LISTEN_ADDR is empty, so the daemon serves no HTTP endpoint")
	}
	host, port, err := net.SplitHostPort(d.listen)
	if err != nil {
		return 0, "", fmt.Errorf("SYNCD_LISTEN_ADDR %q: %w", d.listen, err)
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	client, scheme, err := d.client()
	if err != nil {
		return 0, "", err
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, scheme+"://"+net.JoinHostPort(host, port)+path, nil)
	if err != nil {
		return 0, "", err
	}
	if d.user != "" || d.password != "" {
		req.SetBasicAuth(d.user, d.password)
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, "", fmt.Errorf("asking the daemon at %s: %w", d.listen, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if resp.StatusCode == http.StatusUnauthorized {
		return resp.StatusCode, string(body), errors.New("the daemon asks for basic auth: set SYNCD_HEALTHCHECK_USER and SYNCD_HEALTHCHECK_PASSWORD to a user of SYNCD_WEB_CONFIG_FILE")
	}
	return resp.StatusCode, string(body), err
}

// client is the HTTP client and scheme the web configuration file calls
// for.
func (d daemonAddr) client() (*http.Client, string, error) {
	plain := &http.Client{Transport: &http.Transport{Proxy: nil}}
	if d.webConfig == "" {
		return plain, "http", nil
	}
	raw, err := os.ReadFile(d.webConfig)
	if err != nil {
		return nil, "", fmt.Errorf("SYNCD_WEB_CONFIG_FILE: %w", err)
	}
	var c web.Config
	if err := yaml.Unmarshal(raw, &c); err != nil {
		return nil, "", fmt.Errorf("SYNCD_WEB_CONFIG_FILE %s: %w", d.webConfig, err)
	}
	c.TLSConfig.SetDirectory(filepath.Dir(d.webConfig))
	if !c.TLSConfig.IsEnabled() {
		return plain, "http", nil
	}
	if c.TLSConfig.ClientAuth == "RequireAndVerifyClientCert" || c.TLSConfig.ClientAuth == "RequireAnyClientCert" {
		return nil, "", fmt.Errorf("SYNCD_WEB_CONFIG_FILE %s requires client certificates (client_auth_type %s): -healthcheck and -status have none", d.webConfig, c.TLSConfig.ClientAuth)
	}
	pemCert := []byte(c.TLSConfig.TLSCert)
	if c.TLSConfig.TLSCertPath != "" {
		if pemCert, err = os.ReadFile(c.TLSConfig.TLSCertPath); err != nil {
			return nil, "", fmt.Errorf("SYNCD_WEB_CONFIG_FILE %s: the daemon's certificate: %w", d.webConfig, err)
		}
	}
	leaf, _ := pem.Decode(pemCert)
	if leaf == nil || leaf.Type != "CERTIFICATE" {
		return nil, "", fmt.Errorf("SYNCD_WEB_CONFIG_FILE %s: the daemon's certificate is not PEM", d.webConfig)
	}
	tc := &tls.Config{
		MinVersion: tls.VersionTLS12,
		// The name is not checked (the certificate names the host as the
		// network knows it, the command asks 127.0.0.1); the certificate
		// is: it must be the very one the daemon is configured with.
		InsecureSkipVerify: true,
		VerifyConnection: func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 || !bytes.Equal(cs.PeerCertificates[0].Raw, leaf.Bytes) {
				return errors.New("the daemon's certificate is not the one SYNCD_WEB_CONFIG_FILE names")
			}
			return nil
		},
	}
	return &http.Client{Transport: &http.Transport{Proxy: nil, TLSClientConfig: tc}}, "https", nil
}
