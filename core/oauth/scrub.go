package oauth

import (
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/fedtoken/fedtoken/core/redact"
)

// isSecretParam reports whether a form parameter carries a credential.
func isSecretParam(name string) bool {
	switch name {
	case "client_secret", "client_assertion", "assertion", "subject_token", "actor_token",
		"refresh_token", "code", "code_verifier", "device_code", "password":
		return true
	}
	return false
}

// minScrubLen is the shortest value scrubbed; shorter ones would mangle text.
const minScrubLen = 6

// scrubber removes the request's credentials from IdP-supplied error text
// (some IdPs echo the rejected token in error_description).
type scrubber struct{ secrets []string }

func newScrubber(form url.Values, h http.Header) scrubber {
	var s scrubber
	add := func(v string) {
		if len(v) < minScrubLen {
			return
		}
		s.secrets = append(s.secrets, v, url.QueryEscape(v))
		if strings.Count(v, ".") >= 2 { // a JWT: its signature alone is enough to hide
			for _, seg := range strings.Split(v, ".") {
				if len(seg) >= 16 {
					s.secrets = append(s.secrets, seg)
				}
			}
		}
	}
	for k, vs := range form {
		if isSecretParam(k) {
			for _, v := range vs {
				add(v)
			}
		}
	}
	if _, cred, ok := strings.Cut(h.Get("Authorization"), " "); ok {
		add(cred)
		if raw, err := base64.StdEncoding.DecodeString(cred); err == nil {
			if _, pass, ok := strings.Cut(string(raw), ":"); ok {
				add(pass)
				if p, err := url.QueryUnescape(pass); err == nil {
					add(p)
				}
			}
		}
	}
	// Longest first, so a value that contains another is hidden whole.
	slices.SortFunc(s.secrets, func(a, b string) int { return len(b) - len(a) })
	return s
}

// clean returns err with an *Error's Endpoint set and its IdP text scrubbed
// once more (parsing already redacts before shortening). Other errors are
// built by this package from non-secret parts.
func (s scrubber) clean(err error, endpoint string) error {
	var oe *Error
	if err == nil || !errors.As(err, &oe) || oe != err {
		return err
	}
	c := *oe
	c.Endpoint = endpoint
	c.Code = s.replace(c.Code)
	c.Description = s.replace(c.Description)
	c.URI = s.replace(c.URI)
	return &c
}

func (s scrubber) replace(text string) string {
	for _, v := range s.secrets {
		if strings.Contains(text, v) {
			text = strings.ReplaceAll(text, v, redact.Redacted)
		}
	}
	return text
}
