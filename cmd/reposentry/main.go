// Command reposentry detects the collection of source code and credentials
// from code repositories (MITRE ATT&CK T1213.003) in the audit logs of code
// platforms and identity providers.
//
// Usage:
//
//	reposentry hunt [flags] PATH...        detect in files, folders or stdin
//	reposentry simulate [flags] --out DIR  write a simulated organisation's logs
//	reposentry evaluate --labels FILE ALERTS.jsonl
//	reposentry bench [flags]               measure throughput against references
//	reposentry rules list|validate|test    the Sigma rule pack and user rules
//
// Exit codes: 0 success, 1 failure to run, 2 usage error. Alerts found are
// not an error.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
)

// usageError marks errors that should exit with status 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

const topUsage = `reposentry finds attackers and insiders collecting source code from code repositories
(MITRE ATT&CK T1213.003) in GitHub audit logs, joined with Okta and Entra ID
sign-ins and the directory.

Usage:
  reposentry hunt [--format table|jsonl] [--config FILE] [--rules DIR] [--state DIR] [--out FILE] [--stats FILE] PATH...
  reposentry simulate --users N --days D --seed S --out DIR
  reposentry evaluate --labels FILE [--benign FILE] [--format table|json] ALERTS.jsonl
  reposentry bench [--users N] [--days D] [--seed S] [--data DIR] [--config FILE]
  reposentry rules list|validate|test [DIR...]

Run "reposentry COMMAND -h" for a command's flags.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run executes one command line and returns the exit code; main is a thin
// wrapper so tests can run commands in-process.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, topUsage)
		return 2
	}
	var err error
	switch args[0] {
	case "hunt":
		err = cmdHunt(ctx, args[1:], stdout, stderr)
	case "simulate":
		err = cmdSimulate(args[1:], stdout, stderr)
	case "evaluate":
		err = cmdEvaluate(args[1:], stdout, stderr)
	case "bench":
		err = cmdBench(ctx, args[1:], stdout, stderr)
	case "rules":
		err = cmdRules(args[1:], stdout, stderr)
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, topUsage)
		return 0
	default:
		fmt.Fprintf(stderr, "reposentry: unknown command %q\n\n%s", args[0], topUsage)
		return 2
	}
	var ue usageError
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "reposentry %s: %s\n", args[0], ue.msg)
		return 2
	default:
		fmt.Fprintf(stderr, "reposentry %s: %v\n", args[0], err)
		return 1
	}
}

// parseInterspersed parses flags that may come before or after positional
// arguments ("hunt examples/ --format jsonl"), which the flag package alone
// does not allow.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, usageError{err.Error()}
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		if rest[0] == "--" {
			return append(pos, rest[1:]...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

func newFlagSet(name string, stderr io.Writer, usage string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: reposentry %s\n\nFlags:\n", strings.TrimSpace(usage))
		fs.PrintDefaults()
	}
	return fs
}
