package chain_test

import (
	"strings"
	"testing"
	"time"

	"github.com/reposentry/reposentry/chain"
)

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name    string
		mod     func(*chain.Config)
		wantKey string // "" when valid
	}{
		{"defaults", func(*chain.Config) {}, ""},
		{"zero value", func(c *chain.Config) { *c = chain.Config{} }, ""},
		{"negative window", func(c *chain.Config) { c.CollectionWindow = -time.Hour }, "chain.collection_window"},
		{"too many repos", func(c *chain.Config) { c.MinRepos = 33 }, "chain.min_repos"},
		{"egress above the tracked identities", func(c *chain.Config) { c.EgressIdentities = 17 }, "chain.egress_identities"},
		{"negative speed", func(c *chain.Config) { c.MaxSpeedKmh = -1 }, "chain.max_speed_kmh"},
		{"unknown risk level", func(c *chain.Config) { c.RiskLevel = "severe" }, "chain.risk_level"},
		{"pattern matching everything", func(c *chain.Config) { c.CodeApps = []string{"**"} }, `"**"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := chain.DefaultConfig()
			tc.mod(&c)
			err := c.Validate()
			switch {
			case tc.wantKey == "" && err != nil:
				t.Fatalf("Validate: %v", err)
			case tc.wantKey != "" && (err == nil || !strings.Contains(err.Error(), tc.wantKey)):
				t.Fatalf("Validate = %v, want an error naming %s", err, tc.wantKey)
			}
		})
	}
	if got := (chain.Config{}).WithDefaults(); got.MinRepos != 5 || got.CollectionWindow != 4*time.Hour || len(got.CodeApps) == 0 {
		t.Errorf("WithDefaults of the zero Config = %+v", got)
	}
}
