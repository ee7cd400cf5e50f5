// Package sources lists every kind of source syncd can pull recordings
// from. Adding one is its connector package (with its connectors.Kind),
// its fake, one line here and its section of the README: the
// configuration, the daemon, the alerts and the demo take it from here.
package sources

import (
	"github.com/crkai/syncd/connectors"
	"github.com/crkai/syncd/connectors/dtac"
	"github.com/crkai/syncd/connectors/orkweb"
	"github.com/crkai/syncd/connectors/threecx"
)

// All returns every kind, in the order of the README (and of `syncd -h`,
// of the problems of a configuration, and of the sources of a pass).
func All() []connectors.Kind {
	return []connectors.Kind{
		dtac.Kind,
		threecx.Kind,
		orkweb.Kind,
	}
}

// Find returns the kind named name.
func Find(name string) (connectors.Kind, bool) {
	for _, k := range All() {
		if k.Name == name {
			return k, true
		}
	}
	return connectors.Kind{}, false
}
