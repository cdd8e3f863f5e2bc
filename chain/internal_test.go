package chain

import (
	"testing"
	"time"

	"github.com/reposentry/reposentry"
)

func TestMatch(t *testing.T) {
	tests := []struct {
		p, s string
		want bool
	}{
		{"*github*", "GitHub Enterprise Cloud - Organization", true},
		{"*github*", "Git Hub", false},
		{"*azure devops*", "Azure DevOps", true},
		{"github", "GitHub", true},
		{"github", "GitHub EMU", false},
		{"*vps*hosting", "Harbour VPS Hosting", true},
		{"*a*b", "aaab", true},
		{"*a*b", "aaba", false},
	}
	for _, tc := range tests {
		if got := match(tc.p, tc.s); got != tc.want {
			t.Errorf("match(%q, %q) = %v, want %v", tc.p, tc.s, got, tc.want)
		}
	}
}

// TestDistance checks the lower-bound distance: neighbours and a country
// with itself are 0; far countries keep most of their distance.
func TestDistance(t *testing.T) {
	tests := []struct {
		a, b     string
		min, max float64
	}{
		{"DE", "DE", 0, 0},
		{"DE", "FR", 0, 0},
		{"US", "CA", 0, 0},
		{"DE", "JP", 6000, 9000},
		{"BR", "US", 3000, 6000},
		{"NL", "SG", 9500, 10500},
	}
	for _, tc := range tests {
		a, okA := centroids[ccode(tc.a)]
		b, okB := centroids[ccode(tc.b)]
		if !okA || !okB {
			t.Fatalf("no centroid for %s or %s", tc.a, tc.b)
		}
		if d := distanceKm(a, b); d < tc.min || d > tc.max {
			t.Errorf("distance %s-%s = %.0f km, want %.0f to %.0f", tc.a, tc.b, d, tc.min, tc.max)
		}
	}
}

// TestAdvanceForgetsEvent: after Advance the detectors hold no pointer into
// the engine's event buffer, and an event is still observed once however
// many of the detectors see it.
func TestAdvanceForgetsEvent(t *testing.T) {
	ds := New(DefaultConfig())
	c := ds[0].(*detector).c
	ev := &reposentry.Event{Time: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC), Platform: reposentry.PlatformOkta,
		Category: reposentry.CategoryLogin, Actor: reposentry.Account{Login: "ann@example.com"}}
	ev.ID.Set([]byte("e1"))
	for _, d := range ds {
		d.Process(ev, func(reposentry.Signal) {})
	}
	if c.lastEv != ev {
		t.Fatalf("lastEv = %p after Process, want the event", c.lastEv)
	}
	ds[0].Advance(ev.Time.Add(time.Minute), func(reposentry.Signal) {})
	if c.lastEv != nil {
		t.Errorf("lastEv still set after Advance")
	}
}
