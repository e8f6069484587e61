package humantime

import (
	"testing"
	"time"
)

func TestDuration(t *testing.T) {
	tests := []struct {
		in   time.Duration
		want string
	}{
		{0, "0s"},
		{400 * time.Millisecond, "0s"},
		{600 * time.Millisecond, "1s"},
		{45 * time.Second, "45s"},
		{7*time.Minute + 12*time.Second, "7m12s"},
		{3 * time.Minute, "3m"},
		{2*time.Hour + 5*time.Minute + 30*time.Second, "2h5m"},
		{2*time.Hour + 5*time.Second, "2h"},
		{76 * time.Hour, "3d4h"},
		{-(3 * time.Minute), "3m"},
	}
	for _, tt := range tests {
		if got := Duration(tt.in); got != tt.want {
			t.Errorf("Duration(%v) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestRelative(t *testing.T) {
	now := time.Date(2026, 11, 26, 16, 0, 0, 0, time.UTC)
	tests := []struct {
		t    time.Time
		want string
	}{
		{now.Add(7*time.Minute + 12*time.Second), "in 7m12s"},
		{now.Add(-3 * time.Minute), "3m ago"},
		{now.Add(300 * time.Millisecond), "now"},
	}
	for _, tt := range tests {
		if got := Relative(tt.t, now); got != tt.want {
			t.Errorf("Relative(%v) = %q, want %q", tt.t, got, tt.want)
		}
	}
	if got, want := Time(now.Add(90*time.Second), now), "2026-11-26T16:01:30Z (in 1m30s)"; got != want {
		t.Errorf("Time = %q, want %q", got, want)
	}
}
