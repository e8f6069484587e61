package main

import (
	"strings"
	"testing"
)

func TestRunFlags(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		wantErr string
	}{
		{"missing flags", []string{"-binary", "x"}, "required"},
		{"unknown flag", []string{"-nope"}, "not defined"},
		{"bad binary", []string{"-binary", "/nonexistent", "-ref", "a/b:c", "-out", "/tmp/x.tar"}, "/nonexistent"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stderr strings.Builder
			err := run(t.Context(), tt.args, &stderr)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want containing %q", err, tt.wantErr)
			}
		})
	}
}
