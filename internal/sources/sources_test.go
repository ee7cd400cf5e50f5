package sources_test

import (
	"testing"

	"github.com/crkai/syncd/internal/sources"
)

// TestKindsAreWellFormed: every kind has a unique name, a title, a first
// variable that enables it (not a secret), variables no other kind reads,
// and everything the rest of syncd takes from it.
func TestKindsAreWellFormed(t *testing.T) {
	names, vars := map[string]bool{}, map[string]string{}
	for _, k := range sources.All() {
		if k.Name == "" || names[k.Name] || k.Title == "" || k.Configure == nil || k.Demo == nil || len(k.Vars) == 0 {
			t.Errorf("kind %q: a name used once, a title, Configure, Demo and variables are all needed: %+v", k.Name, k)
		}
		names[k.Name] = true
		if k.Vars[0].Secret || k.Vars[0].Default != "" {
			t.Errorf("kind %s: %s enables it, so it can be neither a secret nor have a default", k.Name, k.Vars[0].Name)
		}
		for _, v := range k.Vars {
			if other, dup := vars[v.Name]; dup {
				t.Errorf("%s is read by %s and %s", v.Name, other, k.Name)
			}
			vars[v.Name] = k.Name
		}
		if got, ok := sources.Find(k.Name); !ok || got.Name != k.Name {
			t.Errorf("Find(%q) = %v, %v", k.Name, got.Name, ok)
		}
	}
	if _, ok := sources.Find("nope"); ok {
		t.Error("Find found a kind that does not exist")
	}
}
