package sources_test

import (
	"context"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/crkai/syncd/connectors"
	"github.com/crkai/syncd/internal/config"
	"github.com/crkai/syncd/internal/deps"
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

// TestEveryDemoFakeWorks: each kind's demo fake, with the variables it
// gives, is a configuration Load takes, and the source built from it logs
// in, lists the sample day and opens an audio.
func TestEveryDemoFakeWorks(t *testing.T) {
	loc := time.FixedZone("ICT", 7*60*60)
	day := time.Now().In(loc).AddDate(0, 0, -1)
	for i, k := range sources.All() {
		t.Run(k.Name, func(t *testing.T) {
			f, err := k.Demo(day, loc, 5, uint64(i+1))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { f.Close() })
			env := map[string]string{"CRK_API_TOKEN": "crk_test"}
			for name, v := range f.Env {
				env[name] = v
			}
			cfg, err := config.Load(t.Context(), func(k string) (string, bool) { v, ok := env[k]; return v, ok }, config.ReadSecretFile)
			if err != nil {
				t.Fatal(err)
			}
			if got := cfg.Sources(); !slices.Equal(got, []string{k.Name}) {
				t.Fatalf("sources %q, want %s alone", got, k.Name)
			}
			src, _ := cfg.Source(k.Name)
			c, err := src.New(connectors.Deps{Shared: deps.Shared{HTTP: &http.Client{}, Now: time.Now}, Location: loc, Region: "TH"})
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
			defer cancel()
			if err := c.Check(ctx); err != nil {
				t.Fatalf("Check: %v", err)
			}
			from := time.Date(day.Year(), day.Month(), day.Day(), 0, 0, 0, 0, loc)
			recs, err := c.List(ctx, from, from.AddDate(0, 0, 1))
			if err != nil || len(recs) == 0 {
				t.Fatalf("List: %d recordings, %v", len(recs), err)
			}
			for _, r := range recs {
				a, err := c.Open(ctx, r)
				if err == nil {
					a.Body.Close()
					return
				}
			}
			t.Error("no sample recording opened")
		})
	}
}
