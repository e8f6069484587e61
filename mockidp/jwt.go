package mockidp

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"time"
)

// parsedJWT is a compact JWS with its header and claims decoded but its
// signature not yet verified.
type parsedJWT struct {
	raw    string
	alg    string
	kid    string
	claims map[string]any

	iss, sub, jti string
	aud           []string
	exp, nbf, iat time.Time // zero when absent
}

// allowedAlgs are the asymmetric algorithms accepted on external tokens.
var allowedAlgs = []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}

// parseJWT decodes a compact JWS. Its errors describe the token's shape and
// never contain the token.
func parseJWT(raw string) (*parsedJWT, error) {
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return nil, &checkError{Check: checkFormat, Detail: fmt.Sprintf("not a JWT: %d segments, want 3", len(parts))}
	}
	var hdr struct {
		Alg string `json:"alg"`
		Kid string `json:"kid"`
	}
	hb, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil || json.Unmarshal(hb, &hdr) != nil {
		return nil, &checkError{Check: checkFormat, Detail: "not a JWT: header is not base64url-encoded JSON"}
	}
	cb, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return nil, &checkError{Check: checkFormat, Detail: "not a JWT: claims are not base64url-encoded"}
	}
	dec := json.NewDecoder(bytes.NewReader(cb))
	dec.UseNumber()
	t := &parsedJWT{raw: raw, alg: hdr.Alg, kid: hdr.Kid}
	if err := dec.Decode(&t.claims); err != nil || t.claims == nil {
		return nil, &checkError{Check: checkFormat, Detail: "not a JWT: claims are not a JSON object"}
	}
	str := func(name string) (string, error) {
		v, ok := t.claims[name]
		if !ok {
			return "", nil
		}
		s, ok := v.(string)
		if !ok {
			return "", &checkError{Check: checkFormat, Detail: fmt.Sprintf("%s claim is not a string", name)}
		}
		return s, nil
	}
	if t.iss, err = str("iss"); err != nil {
		return nil, err
	}
	if t.sub, err = str("sub"); err != nil {
		return nil, err
	}
	if t.jti, err = str("jti"); err != nil {
		return nil, err
	}
	switch a := t.claims["aud"].(type) {
	case nil:
	case string:
		t.aud = []string{a}
	case []any:
		for _, v := range a {
			s, ok := v.(string)
			if !ok {
				return nil, &checkError{Check: checkFormat, Detail: "aud claim is neither a string nor an array of strings"}
			}
			t.aud = append(t.aud, s)
		}
	default:
		return nil, &checkError{Check: checkFormat, Detail: "aud claim is neither a string nor an array of strings"}
	}
	for _, c := range []struct {
		name string
		dst  *time.Time
	}{{"exp", &t.exp}, {"nbf", &t.nbf}, {"iat", &t.iat}} {
		v, ok := t.claims[c.name]
		if !ok {
			continue
		}
		n, ok := v.(json.Number)
		if !ok {
			return nil, &checkError{Check: checkFormat, Detail: fmt.Sprintf("%s claim is not a number", c.name)}
		}
		f, err := n.Float64()
		if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
			return nil, &checkError{Check: checkFormat, Detail: fmt.Sprintf("%s claim is not a number", c.name)}
		}
		sec, frac := math.Modf(f)
		*c.dst = time.Unix(int64(sec), int64(frac*1e9)).UTC()
	}
	return t, nil
}

// summary is what the request log keeps of a token: identifying claims,
// never the token.
func (t *parsedJWT) summary() map[string]any {
	out := map[string]any{}
	for _, k := range []string{"iss", "sub", "aud", "exp", "iat", "jti", "client_id", "kubernetes.io"} {
		if v, ok := t.claims[k]; ok {
			out[k] = v
		}
	}
	return out
}

// Checks a federated token can fail, as reported in the request log.
const (
	checkFormat    = "format"
	checkAlg       = "alg"
	checkIssuer    = "issuer"
	checkKeys      = "keys"
	checkSignature = "signature"
	checkExpiry    = "exp"
	checkNotBefore = "nbf"
	checkIssuedAt  = "iat"
	checkMaxAge    = "max_age"
	checkAudience  = "audience"
	checkSubject   = "subject"
	checkRevoked   = "revoked"
	checkReplay    = "jti"
)

// checkError is a failed verification check; Detail is safe to send to the
// client (it never contains a token).
type checkError struct {
	Check  string
	Detail string
	// Unavailable marks a failure to fetch keys, answered as
	// temporarily_unavailable rather than a rejection.
	Unavailable bool
}

func (e *checkError) Error() string { return e.Detail }

// randomID returns n random bytes, hex-encoded.
func randomID(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // never fails: crypto/rand crashes the program instead
	return hex.EncodeToString(b)
}

// randomToken returns an opaque, URL-safe token of n random bytes.
func randomToken(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // never fails: crypto/rand crashes the program instead
	return b64(b)
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// fmtTime formats a claim time for error descriptions.
func fmtTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// globMatch reports whether s matches pattern, where '*' matches any run of
// characters (including ':' and '/') and everything else matches itself.
func globMatch(pattern, s string) bool {
	px, sx := 0, 0
	starP, starS := -1, 0
	for sx < len(s) {
		switch {
		case px < len(pattern) && pattern[px] == '*':
			starP, starS = px, sx
			px++
		case px < len(pattern) && pattern[px] == s[sx]:
			px++
			sx++
		case starP >= 0:
			starS++
			px, sx = starP+1, starS
		default:
			return false
		}
	}
	for px < len(pattern) && pattern[px] == '*' {
		px++
	}
	return px == len(pattern)
}
