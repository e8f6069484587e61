// Package humantime formats times for people: RFC 3339 plus a relative
// form ("in 7m12s", "3m ago").
package humantime

import (
	"fmt"
	"strings"
	"time"
)

// Duration formats d, rounded to the second, with at most two units and
// no zero trailing unit: 45s, 7m12s, 3m, 2h5m, 3d4h. Negative durations
// are formatted by their absolute value.
func Duration(d time.Duration) string {
	if d < 0 {
		d = -d
	}
	d = d.Round(time.Second)
	if d < time.Second {
		return "0s"
	}
	units := []struct {
		name string
		size time.Duration
	}{{"d", 24 * time.Hour}, {"h", time.Hour}, {"m", time.Minute}, {"s", time.Second}}
	var b strings.Builder
	parts := 0
	for _, u := range units {
		if parts == 2 {
			break
		}
		n := d / u.size
		if n == 0 {
			if parts > 0 {
				break // e.g. 2h0m5s → 2h: at most two adjacent units
			}
			continue
		}
		fmt.Fprintf(&b, "%d%s", n, u.name)
		d -= n * u.size
		parts++
	}
	return b.String()
}

// Relative says how t relates to now: "in 7m12s", "3m ago" or "now".
func Relative(t, now time.Time) string {
	d := t.Sub(now).Round(time.Second)
	switch {
	case d == 0:
		return "now"
	case d > 0:
		return "in " + Duration(d)
	default:
		return Duration(d) + " ago"
	}
}

// Time formats t as RFC 3339 in UTC followed by its relative form:
// "2026-11-26T16:26:04Z (in 7m12s)".
func Time(t, now time.Time) string {
	return t.UTC().Format(time.RFC3339) + " (" + Relative(t, now) + ")"
}
