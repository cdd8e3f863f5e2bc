// Package rules is reposentry's built-in Sigma rule pack. Each rule has
// example events under testdata/ (<rule>.match.jsonl must raise it,
// <rule>.nomatch.jsonl must not) that TestBuiltinRules runs.
package rules

import "embed"

// FS holds the built-in rules at its root, for sigma.LoadFS(rules.FS, ".").
//
//go:embed *.yml
var FS embed.FS
