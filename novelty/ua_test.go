package novelty

import (
	"fmt"
	"strings"
	"testing"
)

// TestClientFamily classifies user agents as clients send them to GitHub
// (git's own, JGit in Eclipse and Jenkins, libgit2 in many tools, go-git,
// GitHub Desktop and CLI, HTTP libraries, browsers).
func TestClientFamily(t *testing.T) {
	for _, tc := range []struct{ ua, want string }{
		{"", ClientNone},
		{"   ", ClientNone},
		{"git/2.43.0", ClientGit},
		{"git/2.39.3 (Apple Git-145)", ClientGit},
		{"git/2.44.0.windows.1", ClientGit},
		{"JGit/6.5.0.202303070854-r", ClientJGit},
		{"git/2.0 (libgit2 1.7.1)", ClientLibgit2},
		{"libgit2 0.27.0", ClientLibgit2},
		{"go-git/5.x", ClientGoGit},
		{"GitHubDesktop/3.3.6 (Macintosh)", ClientDesktop},
		{"GitHub CLI 2.40.1", ClientGHCLI},
		{"GitHubActionsRunner-Linux-X64/2.311.0", ClientActionsRunner},
		{"Go-http-client/1.1", ClientGoHTTP},
		{"Go-http-client/2.0", ClientGoHTTP},
		{"python-requests/2.31.0", ClientPython},
		{"Python-urllib/3.11", ClientPython},
		{"PyGithub/Python", ClientPython},
		{"curl/8.5.0", ClientCurl},
		{"Wget/1.21.4", ClientWget},
		{"octokit-rest.js/20.0.2 octokit-core.js/5.0.2 Node.js/20", ClientOctokit},
		{"node-fetch/1.0 (+https://github.com/bitinn/node-fetch)", ClientNode},
		{"axios/1.6.2", ClientNode},
		{"Apache-HttpClient/4.5.14 (Java/17.0.9)", ClientJava},
		{"okhttp/4.12.0", ClientJava},
		{"Mozilla/5.0 (X11; Linux x86_64) Firefox/125.0", ClientBrowser},
		{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36", ClientBrowser},
		{"Terraform/1.7.0", ClientOther},
		{strings.Repeat("x", 5000) + "libgit2", ClientOther}, // past the part searched
	} {
		if got := ClientFamily(tc.ua); got != tc.want {
			t.Errorf("ClientFamily(%.60q) = %q, want %q", tc.ua, got, tc.want)
		}
	}
}

func BenchmarkClientFamily(b *testing.B) {
	uas := []string{"git/2.43.0", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36",
		"git/2.0 (libgit2 1.7.1)", "Terraform/1.7.0"}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		clientFamily(uas[i%len(uas)])
	}
}

// TestFamilyCache: the detector's cache answers as clientFamily does and
// stays bounded however many user agents it sees.
func TestFamilyCache(t *testing.T) {
	d := New(Config{}).(*detector)
	for i := range maxFamilies + 10 {
		ua := fmt.Sprintf("git/2.%d.0", i)
		if i%3 == 0 {
			ua = fmt.Sprintf("Mozilla/5.0 (X11; Linux x86_64) Firefox/%d.0", i)
		}
		if got, want := d.family(ua), clientFamily(ua); got != want {
			t.Fatalf("family(%q) = %d, want %d", ua, got, want)
		}
		if got := d.family(ua); got != clientFamily(ua) {
			t.Fatalf("cached family(%q) = %d", ua, got)
		}
	}
	if n := len(d.families); n > maxFamilies {
		t.Errorf("cache holds %d user agents, want at most %d", n, maxFamilies)
	}
}
