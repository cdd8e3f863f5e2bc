package novelty

import "strings"

// Client families ClientFamily returns. Only the family is compared, not
// versions: a git upgrade is not a new client.
const (
	ClientNone          = ""
	ClientGit           = "git"
	ClientJGit          = "jgit"
	ClientLibgit2       = "libgit2"
	ClientGoGit         = "go-git"
	ClientDesktop       = "github-desktop"
	ClientGHCLI         = "gh-cli"
	ClientActionsRunner = "actions-runner"
	ClientGoHTTP        = "go-http"
	ClientPython        = "python"
	ClientCurl          = "curl"
	ClientWget          = "wget"
	ClientOctokit       = "octokit"
	ClientNode          = "node"
	ClientJava          = "java"
	ClientBrowser       = "browser"
	ClientOther         = "other"
)

// families lists the families in a fixed order: a family is remembered by
// its index, so the order must not change within a state version.
var families = [...]string{ClientNone, ClientGit, ClientJGit, ClientLibgit2, ClientGoGit, ClientDesktop, ClientGHCLI,
	ClientActionsRunner, ClientGoHTTP, ClientPython, ClientCurl, ClientWget, ClientOctokit, ClientNode, ClientJava,
	ClientBrowser, ClientOther}

// uaRule maps a user agent to a family: by prefix, or by a substring
// anywhere (contains). Order matters: libgit2 says "git/2.0 (libgit2 …)".
type uaRule struct {
	pat      string
	contains bool
	fam      uint8
}

var uaRules = [...]uaRule{
	{"libgit2", true, 3},
	{"jgit/", false, 2},
	{"go-git/", false, 4},
	{"githubdesktop/", false, 5},
	{"github desktop", false, 5},
	{"github cli ", false, 6},
	{"gh/", false, 6},
	{"githubactionsrunner", false, 7},
	{"actions-runner", true, 7},
	{"git/", false, 1},
	{"go-http-client/", false, 8},
	{"python", false, 9},
	{"pygithub", false, 9},
	{"aiohttp/", false, 9},
	{"curl/", false, 10},
	{"wget/", false, 11},
	{"octokit", true, 12},
	{"node-fetch", false, 13},
	{"axios/", false, 13},
	{"node/", false, 13},
	{"undici", false, 13},
	{"java/", false, 14},
	{"apache-httpclient/", false, 14},
	{"okhttp/", false, 14},
	{"mozilla/", false, 15},
	{"opera/", false, 15},
}

// maxUALen bounds the part of a user agent searched, so a hostile header
// costs a bounded time.
const maxUALen = 256

// clientFamily returns the family index of a user agent without
// allocating; 0 for an empty one.
func clientFamily(ua string) uint8 {
	ua = strings.TrimSpace(ua)
	if ua == "" {
		return 0
	}
	if len(ua) > maxUALen {
		ua = ua[:maxUALen]
	}
	for _, r := range uaRules {
		if r.contains {
			if containsFold(ua, r.pat) {
				return r.fam
			}
		} else if len(ua) >= len(r.pat) && strings.EqualFold(ua[:len(r.pat)], r.pat) {
			return r.fam
		}
	}
	return uint8(len(families) - 1)
}

// ClientFamily classifies a user agent into a short family name ("git",
// "jgit", "libgit2", "browser", …; "other" when unknown, "" when empty).
func ClientFamily(ua string) string { return families[clientFamily(ua)] }

// containsFold reports whether sub (lower case) occurs in s, ignoring ASCII
// case, without allocating.
func containsFold(s, sub string) bool {
	lo, up := sub[0], sub[0]
	if lo >= 'a' && lo <= 'z' {
		up = lo - 'a' + 'A'
	}
	for i := 0; i+len(sub) <= len(s); i++ {
		if b := s[i]; (b == lo || b == up) && strings.EqualFold(s[i:i+len(sub)], sub) {
			return true
		}
	}
	return false
}
