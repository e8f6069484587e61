//go:build !unix

package server

import "time"

// cpuTime is not measured here: the benchmark reports 0 CPU per request.
func cpuTime() time.Duration { return 0 }
