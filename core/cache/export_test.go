package cache

// Test hooks, not options of the public API (see options.go).
var (
	WithClock  = withClock
	WithAfter  = withAfter
	WithJitter = withJitter
)
