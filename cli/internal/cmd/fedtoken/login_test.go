package fedtoken_test

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/fedtoken/fedtoken/cli/internal/exitcode"
)

func TestLoginDeviceCode(t *testing.T) {
	h := newHarness(t)
	h.interactive = true
	r := h.run("login", "device")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if r.stdout != "" {
		t.Errorf("login wrote to stdout: %q", r.stdout)
	}
	golden(t, "login-device-stderr", h.normaliseUserCode(h.normalise(r.stderr)))
	if n := h.tokenRequests(t, "device_code"); n != 3 { // two authorization_pending, then the token
		t.Errorf("device_code polls = %d, want 3", n)
	}

	// Later runs, even non-interactive ones, use the cached login.
	h.interactive = false
	h.env["CI"] = "true"
	tok := h.run("token", "device")
	if tok.code != 0 || !strings.HasPrefix(tok.stdout, "eyJ") {
		t.Fatalf("token after login: exit %d, %q", tok.code, tok.stderr)
	}
	list := h.run("cache", "list")
	if !strings.Contains(strings.Join(strings.Fields(list.stdout), " "), "device device_code valid") {
		t.Errorf("cache list after login:\n%s", list.stdout)
	}

	// logout forgets it: a non-interactive run now says how to log in.
	if r := h.run("logout", "device"); r.code != 0 || !strings.Contains(r.stderr, "Logged out of device") {
		t.Fatalf("logout: exit %d, %q", r.code, r.stderr)
	}
	again := h.run("token", "device")
	if again.code != exitcode.LoginRequired || !strings.Contains(again.stderr, "fedtoken login device") ||
		!strings.Contains(again.stderr, "non-interactive") {
		t.Fatalf("token after logout: exit %d, %q", again.code, again.stderr)
	}
}

// normaliseUserCode hides the random user code.
func (h *harness) normaliseUserCode(s string) string {
	if i := strings.Index(s, "enter the code "); i >= 0 {
		rest := s[i+len("enter the code "):]
		code := rest[:strings.IndexAny(rest, ",.\n")]
		s = strings.ReplaceAll(s, code, "<USER-CODE>")
	}
	return s
}

func TestLoginAuthorizationCode(t *testing.T) {
	h := newHarness(t)
	h.interactive = true
	r := h.run("login", "browser")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	golden(t, "login-browser-stderr", h.normaliseAuthorizeURL(h.normalise(r.stderr)))
	if len(h.opened) != 1 || !strings.Contains(h.opened[0], "code_challenge_method=S256") {
		t.Errorf("browser opened %v", h.opened)
	}
	if n := h.tokenRequests(t, "authorization_code"); n != 1 {
		t.Errorf("authorization_code requests = %d, want 1", n)
	}
	h.interactive = false
	if tok := h.run("token", "browser"); tok.code != 0 {
		t.Fatalf("token after login: exit %d, %q", tok.code, tok.stderr)
	}
}

func TestLoginNoBrowserPrintsURL(t *testing.T) {
	h := newHarness(t)
	h.interactive = true
	done, stderr := h.start("login", "--no-browser", "browser")
	// The person copies the printed URL into a browser.
	u := stderr.waitFor(t, regexp.MustCompile(`open this URL in a browser on this machine:\n  (\S+)\n`), 20*time.Second)
	if err := h.openBrowser(t.Context(), u); err != nil {
		t.Fatal(err)
	}
	r := <-done
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if !strings.Contains(r.stderr, "Logged in to browser") {
		t.Errorf("stderr = %q", r.stderr)
	}
}

// normaliseAuthorizeURL hides the random query of the authorization URL.
func (h *harness) normaliseAuthorizeURL(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		if j := strings.Index(l, "/authorize?"); j >= 0 {
			lines[i] = l[:j] + "/authorize?<QUERY>"
		}
	}
	return strings.Join(lines, "\n")
}

func TestRefreshOnExpiry(t *testing.T) {
	h := newHarness(t)
	h.interactive = true
	if r := h.run("login", "device"); r.code != 0 {
		t.Fatalf("login: exit %d: %s", r.code, r.stderr)
	}
	// The cached access token is fresh: no refresh.
	h.interactive = false
	first := h.run("token", "device")
	if first.code != 0 || h.tokenRequests(t, "refresh_token") != 0 {
		t.Fatalf("exit %d, refreshes %d", first.code, h.tokenRequests(t, "refresh_token"))
	}
	// Ten minutes later the access token has expired: it is renewed with
	// the refresh token, without a prompt, in a non-interactive run.
	h.now = func() time.Time { return time.Now().Add(10 * time.Minute) }
	second := h.run("token", "device")
	if second.code != 0 {
		t.Fatalf("exit %d: %s", second.code, second.stderr)
	}
	if second.stdout == first.stdout {
		t.Error("the expired token was served")
	}
	if n := h.tokenRequests(t, "refresh_token"); n != 1 {
		t.Errorf("refresh requests = %d, want 1", n)
	}
	if n := h.tokenRequests(t, "device_code"); n != 3 {
		t.Errorf("device_code requests = %d, want the 3 of the one login", n)
	}
}

// TestRefreshKeepsRefreshToken: an IdP that does not rotate refresh
// tokens omits refresh_token from its answer; the old one stays usable.
func TestRefreshKeepsRefreshToken(t *testing.T) {
	h := newHarness(t, keepRefreshToken)
	h.interactive = true
	if r := h.run("login", "device"); r.code != 0 {
		t.Fatalf("login: exit %d: %s", r.code, r.stderr)
	}
	h.interactive = false
	for i, later := range []time.Duration{10 * time.Minute, 20 * time.Minute} {
		h.now = func() time.Time { return time.Now().Add(later) }
		if r := h.run("token", "device"); r.code != 0 {
			t.Fatalf("refresh %d: exit %d: %s", i+1, r.code, r.stderr)
		}
		// (the shifted clock makes the new access token look expired)
		list := strings.Join(strings.Fields(h.run("cache", "list").stdout), " ")
		if !regexp.MustCompile(`device device_code \w+ \S+ \([^)]*\) yes`).MatchString(list) {
			t.Errorf("after refresh %d the cache lost the refresh token:\n%s", i+1, list)
		}
	}
	if n := h.tokenRequests(t, "refresh_token"); n != 2 {
		t.Errorf("refresh requests = %d, want 2", n)
	}
}

// TestTokenLogsInWhenInteractive: in a terminal, token runs the login
// itself when nothing is cached, then prints the token.
func TestTokenLogsInWhenInteractive(t *testing.T) {
	h := newHarness(t)
	h.interactive = true
	r := h.run("token", "device")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "eyJ") {
		t.Fatalf("exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	if !strings.Contains(r.stderr, "enter the code") || strings.Contains(r.stdout, "enter the code") {
		t.Errorf("the prompt must go to stderr only: stdout %q, stderr %q", r.stdout, r.stderr)
	}
}

func TestNonInteractiveRefusal(t *testing.T) {
	tests := []struct {
		name        string
		interactive bool
		ci          string
		args        []string
	}{
		{name: "login without a terminal", args: []string{"login", "device"}},
		{name: "login with CI=true", interactive: true, ci: "true", args: []string{"login", "browser"}},
		{name: "token without a terminal", args: []string{"token", "browser"}},
		{name: "exec with CI=1", interactive: true, ci: "1", args: []string{"exec", "device", "--", "true"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			h.interactive = tt.interactive
			if tt.ci != "" {
				h.env["CI"] = tt.ci
			}
			r := h.run(tt.args...)
			if r.code != exitcode.LoginRequired {
				t.Fatalf("exit %d, want %d: %s", r.code, exitcode.LoginRequired, r.stderr)
			}
			if !strings.Contains(r.stderr, "fedtoken login") || !strings.Contains(r.stderr, "machine flow") {
				t.Errorf("stderr does not say how to log in: %q", r.stderr)
			}
			if strings.Contains(r.stderr, "enter the code") || strings.Contains(r.stderr, "open this URL") {
				t.Errorf("a non-interactive run prompted: %q", r.stderr)
			}
			if len(h.opened) != 0 {
				t.Errorf("a non-interactive run opened a browser: %v", h.opened)
			}
			for _, rec := range h.idp.Requests() {
				if rec.Endpoint != "discovery" && rec.Endpoint != "keys" {
					t.Errorf("a non-interactive run reached the IdP: %s %s", rec.Method, rec.Path)
				}
			}
		})
	}
}

// TestLoginMachineFlow: login on a machine flow just gets and caches a token.
func TestLoginMachineFlow(t *testing.T) {
	h := newHarness(t)
	r := h.run("login", "jb")
	if r.code != 0 || !strings.Contains(r.stderr, "uses jwt_bearer: no login needed") || r.stdout != "" {
		t.Fatalf("exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	before := h.idpRequests()
	if tok := h.run("token", "jb"); tok.code != 0 || h.idpRequests() != before {
		t.Errorf("the token from login was not cached (exit %d)", tok.code)
	}
}
