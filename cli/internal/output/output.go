// Package output writes an access token in the formats of
// `fedtoken token -o`: raw, json, header and env.
package output

import (
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/fedtoken/fedtoken/core/oauth"
)

// Formats lists the accepted -o values, the default first.
var Formats = []string{"raw", "json", "header", "env"}

// DefaultEnvName is the variable that -o env and exec set by default:
// what OpenAI-compatible clients read.
const DefaultEnvName = "OPENAI_API_KEY"

var envName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// CheckEnvName rejects a name that cannot be an environment variable.
func CheckEnvName(name string) error {
	if !envName.MatchString(name) {
		return fmt.Errorf("--env %q is not a valid environment variable name (letters, digits, _; not starting with a digit)", name)
	}
	return nil
}

// CheckFormat rejects an unknown -o value.
func CheckFormat(f string) error {
	for _, ok := range Formats {
		if f == ok {
			return nil
		}
	}
	return fmt.Errorf("--output %q: use one of %s", f, strings.Join(Formats, ", "))
}

// Token describes what is written besides the token itself.
type Token struct {
	// Provider is the provider id (json).
	Provider string
	// EnvName is the variable of -o env.
	EnvName string
	// Now computes expires_in (json).
	Now time.Time
}

// JSON is the document of -o json.
type JSON struct {
	Provider    string `json:"provider"`
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	// Expiry is RFC 3339, absent when the IdP gave no lifetime.
	Expiry string `json:"expiry,omitempty"`
	// ExpiresIn is the number of whole seconds left, absent with Expiry.
	ExpiresIn *int64 `json:"expires_in,omitempty"`
}

// Write writes tok in format to w.
func Write(w io.Writer, format string, tok *oauth2.Token, t Token) error {
	var err error
	switch format {
	case "raw", "":
		_, err = fmt.Fprintln(w, tok.AccessToken)
	case "header":
		_, err = fmt.Fprintf(w, "Authorization: %s\n", oauth.AuthorizationValue(tok))
	case "env":
		name := t.EnvName
		if name == "" {
			name = DefaultEnvName
		}
		_, err = fmt.Fprintf(w, "export %s=%s\n", name, shellQuote(tok.AccessToken))
	case "json":
		doc := JSON{Provider: t.Provider, AccessToken: tok.AccessToken, TokenType: oauth.AuthScheme(tok)}
		if !tok.Expiry.IsZero() {
			doc.Expiry = tok.Expiry.UTC().Format(time.RFC3339)
			secs := int64(tok.Expiry.Sub(t.Now) / time.Second)
			doc.ExpiresIn = &secs
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		err = enc.Encode(doc)
	default:
		return CheckFormat(format)
	}
	return err
}

// shellQuote quotes s for POSIX shells: as is when it is made of safe
// characters (every JWT is), else in single quotes.
func shellQuote(s string) string {
	safe := s != ""
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_.~+/=:", r)) {
			safe = false
			break
		}
	}
	if safe {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
