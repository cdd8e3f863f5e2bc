package detect

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/reposentry/reposentry"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// TestGolden pins the full JSON of one signal scenario per detection.
func TestGolden(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Privileged = []string{"root-admin"}
	cfg.BotPatterns = []string{"svc-*"}
	clone := reposentry.CategoryClone
	tests := []struct {
		rule string
		evs  []reposentry.Event
		// file names the golden file when a rule has several; default
		// the rule.
		file string
	}{
		{RuleBulkRead, join(warm("alice"),
			spree(10*day, "alice", clone, "svc", 12, 10*time.Second, from("203.0.113.9", "NL")),
			spree(10*day+2*time.Minute, "alice", reposentry.CategoryArchiveDownload, "zip", 4, 10*time.Second, from("203.0.113.9", "NL")),
			spree(10*day+3*time.Minute, "alice", clone, "oss", 3, 10*time.Second, vis(reposentry.VisibilityPublic))), ""},
		{RuleNewCredentialBulk, join(warm("alice"),
			mk(10*day, "alice", reposentry.CategoryCredentialCreate, "", action("public_key.create"), detail("laptop"),
				cred(reposentry.CredentialSSHKey, "SHA256:Zq3kLr8TmQ2wXy7pVb1cDe"), from("203.0.113.9", "RU")),
			spree(10*day+12*time.Minute, "alice", clone, "svc", 5, 90*time.Second, cred(reposentry.CredentialSSHKey, "SHA256:Zq3kLr8TmQ2wXy7pVb1cDe"), from("203.0.113.9", "RU"))), ""},
		{RuleExfilPathOpened, join(warm("alice"),
			spree(10*day, "alice", clone, "svc", 15, 10*time.Second),
			mk(10*day+3*time.Hour, "alice", reposentry.CategoryVisibilityChange, "acme/svc-003", detail("public"), from("203.0.113.9", "NL"))), ""},
		{RuleFirstSeenLocation, join(warm("alice"), mk(2*day, "alice", clone, "acme/a", from("192.0.2.10", "DE")),
			mk(10*day, "alice", clone, "acme/payments-core", from("203.0.113.9", "BR"), cred(reposentry.CredentialPATClassic, "77120044"))), ""},
		{RulePrivilegedRead, join(warm("root-admin"),
			mk(10*day, "root-admin", clone, "acme/payments-core", cred(reposentry.CredentialOAuth, "kq1m0Yc4v3Jd1n8T0p2r+Qm7cV9wZs6yXh5bLaR4Ee0="))), ""},
		{RuleBulkRead, join(warm("svc-build"), spree(day, "svc-build", clone, "own", 100, 10*time.Second),
			spree(10*day, "svc-build", clone, "own", 100, time.Second),
			spree(10*day+2*time.Minute, "svc-build", clone, "other", 15, 10*time.Second, from("203.0.113.50", "VN"))), "bulk_read_automation"},
		{RuleDisabledAccountActive, join(warm("leaver"),
			mk(10*day, "leaver", reposentry.CategoryPush, "acme/payments-core", disabled(), from("203.0.113.9", "NL")),
			mk(10*day+time.Minute, "leaver", clone, "acme/payments-core", disabled(), from("203.0.113.9", "NL"),
				cred(reposentry.CredentialPATClassic, "88120031"))), ""},
		{RuleDisabledAccountActive, join(warm("leaver"),
			func() reposentry.Event {
				e := mk(10*day, "helpdesk", reposentry.CategoryOther, "", action("user.lifecycle.deactivate"), target("leaver@example.com"))
				e.Platform = reposentry.PlatformOkta
				return e
			}(),
			mk(12*day, "leaver", reposentry.CategoryArchiveDownload, "acme/payments-core", from("203.0.113.9", "NL"))), "disabled_account_active_deactivated"},
		{RulePlatformAdminBulkRead, join(warm("jane"),
			mk(day, "jane", reposentry.CategoryPermissionChange, "", action("org.update_member"), target("bob"), detail("admin")),
			spree(10*day, "jane", clone, "svc", 15, 10*time.Second)), ""},
		{RuleBulkRead, join(warm("alice"),
			spree(10*day, "alice", clone, "vault", 4, 10*time.Second, tags(reposentry.TagSecrets)),
			spree(10*day+time.Minute, "alice", clone, "terraform", 3, 10*time.Second, tags(reposentry.TagInfrastructure)),
			spree(10*day+2*time.Minute, "alice", clone, "svc", 3, 10*time.Second, tags(reposentry.TagCoreProduct))), "bulk_read_sensitive"},
		{RuleFirstSeenLocation, join(warm("alice"),
			mk(10*day, "alice", clone, "acme/vault-prod", from("203.0.113.9", "BR"), tags(reposentry.TagSecrets))), "first_seen_location_secret"},
	}
	for _, tc := range tests {
		if tc.file == "" {
			tc.file = tc.rule
		}
		t.Run(tc.file, func(t *testing.T) {
			var sigs []reposentry.Signal
			for _, s := range run(cfg, tc.evs) {
				if s.Rule == tc.rule {
					sigs = append(sigs, s)
				}
			}
			if len(sigs) == 0 {
				t.Fatalf("scenario raised no %s signal", tc.rule)
			}
			got, err := json.MarshalIndent(sigs, "", "  ")
			if err != nil {
				t.Fatalf("marshal signals: %v", err)
			}
			got = append(got, '\n')
			file := filepath.Join("testdata", tc.file+".golden.json")
			if *update {
				if err := os.WriteFile(file, got, 0o644); err != nil {
					t.Fatalf("write golden: %v", err)
				}
			}
			want, err := os.ReadFile(file)
			if err != nil {
				t.Fatalf("read golden (run with -update to create): %v", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s differs from golden:\n%s", file, got)
			}
		})
	}
}
