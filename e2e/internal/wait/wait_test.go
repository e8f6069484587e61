package wait

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestUntil(t *testing.T) {
	permanent := errors.New("permanent")
	tests := []struct {
		name    string
		cond    func(n int) (bool, error)
		wantErr string // "" for success
		wantN   int    // calls made; 0 = unchecked
	}{
		{"done at once", func(int) (bool, error) { return true, nil }, "", 1},
		{"done third call", func(n int) (bool, error) { return n == 3, nil }, "", 3},
		{"transient then done", func(n int) (bool, error) {
			if n < 2 {
				return false, NotYet("port closed")
			}
			return true, nil
		}, "", 2},
		{"permanent error stops", func(int) (bool, error) { return false, permanent }, "wait for thing: permanent", 1},
		{"timeout names last reason", func(int) (bool, error) { return false, NotYet("still 503") }, "wait for thing: gave up after", 0},
		{"timeout without reason", func(int) (bool, error) { return false, nil }, "context deadline exceeded", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := 0
			err := Until(context.Background(), "thing", 200*time.Millisecond, time.Millisecond, func(context.Context) (bool, error) {
				n++
				return tt.cond(n)
			})
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
			} else if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want containing %q", err, tt.wantErr)
			}
			if tt.wantN != 0 && n != tt.wantN {
				t.Errorf("calls = %d, want %d", n, tt.wantN)
			}
			if strings.Contains(tt.name, "last reason") && !strings.Contains(err.Error(), "still 503") {
				t.Errorf("err = %v, want the last reason", err)
			}
		})
	}
}

func TestUntilHonoursParentContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := Until(ctx, "cancelled", time.Hour, time.Millisecond, func(context.Context) (bool, error) { return false, nil })
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}
