package cache

import (
	"time"

	"github.com/fedtoken/fedtoken/core/internal/testhook"
)

func init() {
	testhook.CacheClock = func(now func() time.Time) any { return withClock(now) }
}
