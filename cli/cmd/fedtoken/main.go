// Command fedtoken gets OAuth 2.0 access tokens for workloads and people:
// see `fedtoken --help` and docs/cli.md.
package main

import "github.com/fedtoken/fedtoken/cli/internal/app"

func main() { app.Main() }
