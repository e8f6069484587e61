package cmd

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/fedtoken/fedtoken/core/login"
)

func TestInteractive(t *testing.T) {
	tests := []struct {
		terminal bool
		ci       string
		want     bool
	}{
		{terminal: true, want: true},
		{terminal: false, want: false},
		{terminal: true, ci: "true", want: false},
		{terminal: true, ci: "1", want: false},
		{terminal: true, ci: "TRUE", want: false},
		{terminal: true, ci: "false", want: true},
		{terminal: true, ci: "0", want: true},
	}
	for _, tt := range tests {
		e := &Env{Getenv: func(k string) string {
			if k == "CI" {
				return tt.ci
			}
			return ""
		}, Terminal: func() bool { return tt.terminal }}
		if got := e.Interactive(); got != tt.want {
			t.Errorf("terminal %v, CI=%q: Interactive() = %v, want %v", tt.terminal, tt.ci, got, tt.want)
		}
	}
	// A pipe or buffer is never a terminal.
	if NewEnv(IOStreams{In: strings.NewReader(""), Out: &bytes.Buffer{}, ErrOut: &bytes.Buffer{}}).Terminal() {
		t.Error("a buffer counts as a terminal")
	}
}

func TestWritePrompt(t *testing.T) {
	now := time.Date(2026, 11, 26, 16, 0, 0, 0, time.UTC)
	tests := []struct {
		p    login.Prompt
		want string
	}{
		{login.Prompt{UserCode: "WDJB-MJHT", VerificationURI: "https://idp/device", VerificationURIComplete: "https://idp/device?c=WDJB-MJHT", ExpiresAt: now.Add(10 * time.Minute)},
			"To log in to p, open https://idp/device\nand enter the code WDJB-MJHT, or open https://idp/device?c=WDJB-MJHT.\nWaiting for the login to be approved (the code expires in 10m)…\n"},
		{login.Prompt{UserCode: "X", VerificationURI: "https://idp/device", ExpiresAt: now.Add(time.Minute)},
			"To log in to p, open https://idp/device\nand enter the code X.\nWaiting for the login to be approved (the code expires in 1m)…\n"},
		{login.Prompt{AuthorizeURL: "https://idp/auth?x=1", BrowserOpened: true, ExpiresAt: now.Add(5 * time.Minute)},
			"Log in to p in the browser window that opened. If none did, open:\n  https://idp/auth?x=1\nWaiting for the login (giving up in 5m)…\n"},
		{login.Prompt{AuthorizeURL: "https://idp/auth?x=1", ExpiresAt: now.Add(5 * time.Minute)},
			"To log in to p, open this URL in a browser on this machine:\n  https://idp/auth?x=1\nWaiting for the login (giving up in 5m)…\n"},
	}
	for _, tt := range tests {
		var b bytes.Buffer
		writePrompt(&b, "p", tt.p, now)
		if b.String() != tt.want {
			t.Errorf("got\n%s\nwant\n%s", b.String(), tt.want)
		}
	}
}
