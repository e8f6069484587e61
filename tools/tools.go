//go:build tools

// Package tools pins the versions of the developer tools that `make lint`
// installs into .tools/. It is not part of go.work: tool dependencies never
// leak into the product modules.
package tools

import (
	_ "honnef.co/go/tools/cmd/staticcheck"
)
