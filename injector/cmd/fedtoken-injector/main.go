// Command fedtoken-injector is the mutating admission webhook that adds
// fedtoken-sidecar to pods annotated fedtoken.dev/inject. See
// docs/kubernetes.md#injection.
package main

import (
	"os"

	"github.com/fedtoken/fedtoken/injector/internal/app"
)

func main() { os.Exit(app.Main()) }
