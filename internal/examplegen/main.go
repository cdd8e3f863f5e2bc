// Command examplegen writes the example GitHub audit logs bundled in
// examples/: ten days of a fictional organisation "acme" (30 people, 2 CI
// machine users, 152 repositories) with a handful of attacks in the last
// days and near misses that must stay quiet.
//
//	go run ./internal/examplegen -out examples
//
// The output is deterministic: the same program writes the same bytes, so the
// files can be committed and regenerated without churn.
package main

import (
	"flag"
	"fmt"
	"os"
)

func main() {
	out := flag.String("out", "examples", "directory to write the example logs into")
	flag.Parse()
	n, err := generate(*out)
	if err != nil {
		fmt.Fprintln(os.Stderr, "examplegen:", err)
		os.Exit(1)
	}
	fmt.Fprintf(os.Stderr, "examplegen: wrote %d events under %s\n", n, *out)
}
