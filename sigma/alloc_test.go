package sigma

import (
	"testing"

	"github.com/reposentry/reposentry"
)

// TestNoMatchAllocs asserts the no-match path allocates nothing: events
// that reach rules (by action, unkeyed, with raw fields, regular
// expressions, case folding and arrays) but match none.
func TestNoMatchAllocs(t *testing.T) {
	yml := `title: keyed
logsource: {product: github}
detection:
  sel:
    action: [git.clone, repo.download_zip]
    repo|startswith: evil/
    user_agent|contains: CURL
  condition: sel
---
title: raw
logsource: {product: github}
detection:
  sel:
    action: git.clone
    external_identity_nameid|endswith: '@EVIL.example'
  other:
    labels: nope
    repository_id|gt: 1000000000
  condition: sel or other
---
title: unkeyed
logsource: {product: github}
detection:
  sel:
    actor_ip|cidr: 203.0.113.0/24
  sel2:
    actor|re: '^svc-[0-9]+$'
    asn: 64500
  kw:
    - nothing-like-this
  condition: 1 of them
---
title: fieldref
logsource: {product: github}
detection:
  sel:
    actor|fieldref: user
  condition: sel
`
	rs := mustRuleSet(t, yml, Options{})
	d := NewDetector(rs)
	events := []reposentry.Event{
		githubEvent(t, `{"action":"git.clone","actor":"Dev-1","repo":"acme/api","user_agent":"Git/2.44.0","actor_ip":"198.51.100.7","external_identity_nameid":"dev1@acme.example","repository_id":42,"labels":["a","b"]}`),
		githubEvent(t, `{"action":"repo.download_zip","actor":"dev-2","repo":"acme/web","user":"other"}`),
		githubEvent(t, `{"action":"org.update_member","actor":"owner","user":"dev-3"}`),
	}
	emit := func(s reposentry.Signal) { t.Errorf("unexpected signal %s", s.Rule) }
	for i := range events {
		e := &events[i]
		if n := testing.AllocsPerRun(100, func() { d.Process(e, emit) }); n != 0 {
			t.Errorf("event %d (%s): %.1f allocations per Process, want 0", i, e.Action, n)
		}
	}
}
