package config

import (
	"errors"
	"io/fs"
	"os"
	"strings"

	"github.com/prometheus/exporter-toolkit/web"
)

// webConfigFile is SYNCD_WEB_CONFIG_FILE: a web configuration file as the
// Prometheus exporters read it (TLS, basic auth with bcrypt hashes). It
// must exist and hold a valid configuration, certificates included, at
// start: the listener reads it again on every connection.
func (b *builder) webConfigFile(name, path string) string {
	if path == "" {
		return ""
	}
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		b.add(name, "%s does not exist", path)
		return path
	}
	if err := web.Validate(path); err != nil {
		// yaml's errors run over several lines.
		b.add(name, "%s is not a valid web configuration file: %s", path, strings.Join(strings.Fields(err.Error()), " "))
	}
	return path
}
