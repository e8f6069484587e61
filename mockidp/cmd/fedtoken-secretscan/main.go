// Command fedtoken-secretscan fails a test run whose logs contain a secret
// its IdPs issued:
//
//	fedtoken-secretscan --secrets DIR LOG_FILE_OR_DIR...
//
// DIR holds *.secrets files, one secret per line (mockidp writes them when
// $FEDTOKEN_SECRETS_DIR is set; harnesses may add Keycloak's or Dex's).
// Every other regular file under the given paths is searched. Exit status
// 0: nothing found; 1: a secret was found (file and line are printed, the
// secret is not); 2: usage or I/O error.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/fedtoken/fedtoken/mockidp/internal/secretscan"
)

func main() {
	fs := flag.NewFlagSet("fedtoken-secretscan", flag.ContinueOnError)
	dir := fs.String("secrets", "", "directory of *.secrets files (required)")
	if err := fs.Parse(os.Args[1:]); err != nil || *dir == "" || fs.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "usage: fedtoken-secretscan --secrets DIR LOG_FILE_OR_DIR...")
		os.Exit(2)
	}
	set, hits, files, err := secretscan.Run(*dir, fs.Args())
	if err != nil {
		fmt.Fprintln(os.Stderr, "fedtoken-secretscan:", err)
		os.Exit(2)
	}
	for _, h := range hits {
		fmt.Fprintln(os.Stderr, "fedtoken-secretscan: LEAK:", h)
	}
	fmt.Fprintf(os.Stderr, "fedtoken-secretscan: %d issued secrets searched in %d files: %d found (%d too short to search)\n",
		set.Len(), files, len(hits), set.Short())
	if len(hits) > 0 {
		os.Exit(1)
	}
}
