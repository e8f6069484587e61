// Package redact removes credentials — access, refresh and ID tokens,
// client secrets, assertions, authorization codes, passwords — from text
// before it reaches an error or a log line. It is the one place that knows
// what a credential looks like: core's error messages, the CLI's log
// handler and the sidecar's log handler all use it.
//
// It finds credentials by name (a field or attribute called
// client_secret, refresh_token, code, …) and by shape (a JWT, the value of
// a Bearer or Basic Authorization header). A caller that knows the
// credential's value should also replace that value itself: an opaque
// token in free text has no shape to find.
package redact

import (
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"unicode"
)

// Redacted replaces every credential.
const Redacted = "[REDACTED]"

// credentialNames are the field and attribute names whose values are
// credentials, compared case-insensitively after removing '-' and '_'.
var credentialNames = []string{
	"token", "accesstoken", "refreshtoken", "idtoken", "subjecttoken", "actortoken",
	"devicecode", "code", "codeverifier",
	"assertion", "clientassertion", "clientsecret", "secret", "password",
	"apikey", "authorization", "proxyauthorization", "cookie", "setcookie",
}

var (
	// field matches a credential-named field with its value, in JSON
	// ("access_token": "v", also cut short: "access_token": "v…) or form
	// (access_token=v) spelling. Short names that are also common words
	// (code, token, secret) are left to query and IsCredentialName: in
	// free text they mean too many other things.
	field = regexp.MustCompile(`(?i)("?(?:access_token|refresh_token|id_token|client_secret|assertion|client_assertion|subject_token|actor_token|device_code|code_verifier|api_key|apikey|password|authorization)"?\s*[:=]\s*)("[^"]*"?|[^\s&,}"]+)`)
	// query matches a URL query parameter that carries a credential
	// (?code=…&state=…, ?token=…): in a URL "code" is the authorization
	// code, not an exit or status code.
	query = regexp.MustCompile(`(?i)([?&;](?:code|token|secret)=)[^&;#\s"']+`)
	// authValue matches the credential of a Bearer or Basic
	// Authorization value.
	authValue = regexp.MustCompile(`(?i)\b(bearer|basic)(\s+)[A-Za-z0-9._~+/-]+=*`)
	// jwt matches a compact JWS or JWE: it starts with a base64url JSON
	// header ("eyJ"); dotLike matches three long base64url segments, a
	// JWT whose header is not JSON-first or that was cut.
	jwt     = regexp.MustCompile(`eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*`)
	dotLike = regexp.MustCompile(`[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}`)
	// opaque matches a long unbroken run of base64url, base64 or hex
	// characters: an opaque token or a key.
	opaque = regexp.MustCompile(`[A-Za-z0-9_\-+/]{40,}={0,2}`)
)

// Text returns s with the values of credential-named fields, Bearer and
// Basic credentials and JWTs replaced by [REDACTED]:
//
//	refresh_token=8xLOxBtZp8 → refresh_token=[REDACTED]
//	"client_secret": "s3cr3t" → "client_secret": "[REDACTED]"
//	Authorization: Bearer abc → Authorization: Bearer [REDACTED]
//	eyJhbGciOi….eyJzdWIi….sig → [REDACTED]
func Text(s string) string {
	s = field.ReplaceAllStringFunc(s, func(m string) string {
		sub := field.FindStringSubmatch(m)
		if strings.EqualFold(sub[2], "bearer") || strings.EqualFold(sub[2], "basic") {
			return m // "Authorization: Bearer <credential>": authValue hides it
		}
		if strings.Contains(sub[1], ":") && isWord(sub[2]) {
			return m // prose ("client_assertion: audience … not allowed"), not a value
		}
		if v := sub[2]; strings.HasPrefix(v, `"`) {
			if len(v) > 1 && strings.HasSuffix(v, `"`) {
				return sub[1] + `"` + Redacted + `"`
			}
			return sub[1] + `"` + Redacted // text cut inside the value
		}
		return sub[1] + Redacted
	})
	s = query.ReplaceAllString(s, "${1}"+Redacted)
	s = authValue.ReplaceAllString(s, "${1}${2}"+Redacted)
	s = jwt.ReplaceAllString(s, Redacted)
	return dotLike.ReplaceAllString(s, Redacted)
}

// isWord reports whether v is made of letters only: after a colon, that
// is a word of a sentence, as no credential is.
func isWord(v string) bool {
	for _, r := range v {
		if !unicode.IsLetter(r) {
			return false
		}
	}
	return v != ""
}

// Output is Text for what a program or a server printed (a command's
// stderr, an error message from a CI runner): it also replaces long runs
// of base64 or hex characters, where a bare opaque token would be. Paths
// and URLs survive, as their separators break the runs.
func Output(s string) string {
	return opaque.ReplaceAllString(Text(s), Redacted)
}

// IsCredentialName reports whether a field, parameter or log attribute
// called name carries a credential ("client-secret", "Authorization",
// "refresh_token", "code", …), compared case-insensitively and ignoring
// '-' and '_'.
func IsCredentialName(name string) bool {
	k := strings.ToLower(strings.NewReplacer("-", "", "_", "").Replace(name))
	for _, s := range credentialNames {
		if k == s {
			return true
		}
	}
	return false
}

// Attr returns a with any credential removed: the value of an attribute
// whose key IsCredentialName becomes [REDACTED]; a string, an error or any
// other value whose text holds a credential (see Text) becomes that text
// redacted; a group's members are redacted likewise. Anything else is
// returned unchanged. Used as, or from, slog.HandlerOptions.ReplaceAttr,
// it redacts the message too.
func Attr(a slog.Attr) slog.Attr {
	if IsCredentialName(a.Key) {
		return slog.String(a.Key, Redacted)
	}
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindString:
		if s := v.String(); Text(s) != s {
			return slog.String(a.Key, Text(s))
		}
	case slog.KindGroup:
		members := v.Group()
		out := make([]slog.Attr, len(members))
		for i, m := range members {
			out[i] = Attr(m)
		}
		return slog.Attr{Key: a.Key, Value: slog.GroupValue(out...)}
	case slog.KindAny:
		if err, ok := v.Any().(error); ok {
			// Handlers print an error as its message.
			return slog.String(a.Key, Text(err.Error()))
		}
		if s := fmt.Sprint(v.Any()); Text(s) != s {
			return slog.String(a.Key, Text(s))
		}
	}
	return slog.Attr{Key: a.Key, Value: v}
}

// ReplaceAttr is Attr with the signature of
// slog.HandlerOptions.ReplaceAttr.
func ReplaceAttr(_ []string, a slog.Attr) slog.Attr { return Attr(a) }
