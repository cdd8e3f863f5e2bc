package novelty

import (
	"strings"
	"testing"
)

func TestConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
		want string // "" for valid
	}{
		{"zero is the defaults", Config{}, ""},
		{"defaults spelt out", DefaultConfig(), ""},
		{"negative learning", Config{LearningDays: -1}, "novelty.learning_days"},
		{"absurd expiry", Config{ExpiryDays: 100000}, "novelty.expiry_days"},
		{"expiry within learning", Config{LearningDays: 30, ExpiryDays: 20}, "novelty.expiry_days"},
		{"spread beyond what is remembered", Config{SpreadRepos: maxSpread + 1}, "novelty.spread_repos"},
		{"credentials beyond the bound", Config{MaxCredentials: 1 << 27}, "novelty.max_credentials"},
		{"negative cap", Config{MaxOrgs: -3}, "novelty.max_orgs"},
		{"negative creation window", Config{CreationWindowDays: -1}, "novelty.creation_window_days"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.cfg.Validate()
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("Validate() = %v, want nil", err)
			case tc.want != "" && (err == nil || !strings.HasPrefix(err.Error(), tc.want+":")):
				t.Errorf("Validate() = %v, want an error naming %s", err, tc.want)
			}
		})
	}
	if d := (Config{}).withDefaults(); d != DefaultConfig() {
		t.Errorf("zero config gives %+v, want the defaults %+v", d, DefaultConfig())
	}
}
