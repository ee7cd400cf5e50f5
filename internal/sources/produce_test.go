package sources_test

import (
	"context"
	"testing"
	"time"

	"github.com/crkai/syncd/connectors"
	"github.com/crkai/syncd/internal/config"
	"github.com/crkai/syncd/internal/sources"
)

// TestEveryDemoFakeProduces: each kind's demo fake takes new calls while
// serving (`syncd -demo -serve`), and the source built from it lists
// them in the window they ended in and opens their audio.
func TestEveryDemoFakeProduces(t *testing.T) {
	loc := time.FixedZone("ICT", 7*60*60)
	now := time.Now().In(loc).Truncate(time.Second)
	for i, k := range sources.All() {
		t.Run(k.Name, func(t *testing.T) {
			f, err := k.Demo(now.AddDate(0, 0, -1), loc, 5, uint64(i+1))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { f.Close() })
			env := map[string]string{"CRK_API_TOKEN": "crk_test"}
			for name, v := range f.Env {
				env[name] = v
			}
			if k.Name == "3cx" {
				env["THREECX_INCLUDE_INTERNAL"] = "true" // every produced call, then
			}
			cfg, err := config.Load(t.Context(), func(k string) (string, bool) { v, ok := env[k]; return v, ok }, config.ReadSecretFile)
			if err != nil {
				t.Fatal(err)
			}
			src, _ := cfg.Source(k.Name)
			c, err := src.New(connectors.Deps{Location: loc, Region: "TH"})
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
			defer cancel()
			// Calls that ended an hour ago, three minutes apart: the last
			// day's window holds them and none of the sample's.
			from := now.Add(-2 * time.Hour)
			for j := range 3 {
				f.Call(now.Add(-time.Hour + time.Duration(j)*3*time.Minute))
			}
			recs, err := c.List(ctx, from.Add(-4*time.Hour), now)
			if err != nil {
				t.Fatalf("List: %v", err)
			}
			var produced []connectors.Recording
			for _, r := range recs {
				if r.CallAt.After(from.Add(-time.Hour)) {
					produced = append(produced, r)
				}
			}
			if len(produced) != 3 {
				t.Fatalf("listed %d calls near the hour the fake produced 3 in: %+v", len(produced), produced)
			}
			a, err := c.Open(ctx, produced[0])
			if err != nil {
				t.Fatalf("Open a produced call: %v", err)
			}
			a.Body.Close()
		})
	}
}
