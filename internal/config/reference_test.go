package config

import (
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/crkai/syncd/internal/sources"
)

// TestReferenceNamesEveryVariable: the help and the README list exactly
// what the configuration reads: the environment's fields and every kind's
// variables.
func TestReferenceNamesEveryVariable(t *testing.T) {
	listed := map[string]bool{}
	for _, v := range Reference {
		listed[v.Name] = true
	}
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	var read []string
	typ := reflect.TypeFor[environment]()
	for i := range typ.NumField() {
		name, _, _ := strings.Cut(typ.Field(i).Tag.Get("env"), ",")
		read = append(read, name)
	}
	for _, k := range sources.All() {
		for _, v := range k.Vars {
			read = append(read, v.Name)
		}
	}
	for _, name := range read {
		switch {
		case name == "", strings.HasSuffix(name, "_FILE") && !listed[name], name == "STATE_DIRECTORY", name == "CREDENTIALS_DIRECTORY":
			// A secret's NAME_FILE, and systemd's own: not listed.
			continue
		case !listed[name]:
			t.Errorf("%s is read but not in Reference", name)
		case !strings.Contains(string(readme), "`"+name+"`"):
			t.Errorf("%s is not in the README", name)
		}
		delete(listed, name)
	}
	for name := range listed {
		t.Errorf("%s is in Reference but not read", name)
	}
}
