package fedtoken_test

import (
	"strings"
	"testing"

	"github.com/fedtoken/fedtoken/cli/internal/exitcode"
)

func TestExec(t *testing.T) {
	h := newHarness(t)
	tests := []struct {
		name       string
		args       []string
		code       int
		wantOut    string
		wantErr    string
		wantSilent bool
	}{
		{name: "token in OPENAI_API_KEY, exit status passed on",
			args: []string{"exec", "jb", "--", "sh", "-c", `printf '%.3s\n' "$OPENAI_API_KEY"; exit 3`},
			code: 3, wantOut: "eyJ\n", wantSilent: true},
		{name: "--env and --base-url-env",
			args: []string{"exec", "te", "--env", "LLM_TOKEN", "--base-url-env", "OPENAI_BASE_URL", "--", "sh", "-c",
				`printf '%.3s %s [%s]\n' "$LLM_TOKEN" "$OPENAI_BASE_URL" "$OPENAI_API_KEY"`},
			wantOut: "eyJ https://llm.example/v1 []\n"},
		{name: "the environment is passed on", args: []string{"exec", "jb", "--", "sh", "-c", `echo "$HOME"`},
			wantOut: "/home\n"},
		{name: "killed by a signal", args: []string{"exec", "jb", "--", "sh", "-c", "kill -TERM $$"}, code: 128 + 15, wantSilent: true},
		{name: "command not found", args: []string{"exec", "jb", "--", "no-such-command-xyz"}, code: 127, wantErr: "no-such-command-xyz"},
		{name: "no --", args: []string{"exec", "jb", "sh"}, code: exitcode.Usage, wantErr: `give the command after "--"`},
		{name: "nothing after --", args: []string{"exec", "jb", "--"}, code: exitcode.Usage, wantErr: `give the command after "--"`},
		{name: "two providers", args: []string{"exec", "jb", "te", "--", "true"}, code: exitcode.Usage, wantErr: "at most one PROVIDER"},
		{name: "bad --env", args: []string{"exec", "jb", "--env", "1X", "--", "true"}, code: exitcode.Usage, wantErr: "not a valid environment variable name"},
		{name: "no baseURL", args: []string{"exec", "jb", "--base-url-env", "U", "--", "true"}, code: exitcode.Config, wantErr: `provider "jb" has no baseURL`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := h.run(tt.args...)
			if r.code != tt.code {
				t.Fatalf("exit %d, want %d; stderr %q", r.code, tt.code, r.stderr)
			}
			if tt.wantOut != "" && strings.ReplaceAll(r.stdout, h.dir, "") != tt.wantOut {
				t.Errorf("stdout = %q, want %q", r.stdout, tt.wantOut)
			}
			if !strings.Contains(r.stderr, tt.wantErr) {
				t.Errorf("stderr = %q, want it to contain %q", r.stderr, tt.wantErr)
			}
			if tt.wantSilent && r.stderr != "" {
				t.Errorf("stderr = %q, want nothing: the child's status is its own report", r.stderr)
			}
		})
	}
}
