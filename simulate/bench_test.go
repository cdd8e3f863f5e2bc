package simulate

import (
	"strconv"
	"testing"
)

// BenchmarkRun simulates whole organisations; run the large case with
// -benchtime 1x. Reports events written per second.
func BenchmarkRun(b *testing.B) {
	for _, c := range []struct{ users, days int }{{200, 14}, {2000, 30}} {
		b.Run(strconv.Itoa(c.users)+"x"+strconv.Itoa(c.days), func(b *testing.B) {
			b.ReportAllocs()
			var events int64
			for b.Loop() {
				res, err := Run(Config{Users: c.users, Days: c.days, Seed: 1, Out: b.TempDir()})
				if err != nil {
					b.Fatal(err)
				}
				events += res.GitHubEvents + res.OktaEvents + res.EntraEvents
			}
			b.ReportMetric(float64(events)/b.Elapsed().Seconds(), "events/s")
		})
	}
}
