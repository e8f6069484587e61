package jwt

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
)

// ErrMalformed is matched, with errors.Is, by every error Decode returns.
var ErrMalformed = errors.New("jwt: malformed token")

// Header is the JOSE header of a compact JWS (RFC 7515 §4.1). Only the
// members fedtoken reports are kept.
type Header struct {
	// Alg is "alg", the signature algorithm the token claims (RS256, ES256, …).
	Alg string
	// Kid is "kid", the key ID, empty when absent.
	Kid string
	// Typ is "typ", e.g. "JWT", empty when absent.
	Typ string
}

// Claims are the claims of a JWT (RFC 7519 §4.1), as the token states
// them: Decode verifies none of them.
type Claims struct {
	// Issuer is "iss".
	Issuer string
	// Subject is "sub".
	Subject string
	// ID is "jti".
	ID string
	// Audience is "aud", which a token may carry as one string or as an
	// array of strings; nil when absent.
	Audience []string
	// ExpiresAt is "exp" in UTC; the zero Time when absent.
	ExpiresAt time.Time
	// IssuedAt is "iat" in UTC; the zero Time when absent.
	IssuedAt time.Time
	// NotBefore is "nbf" in UTC; the zero Time when absent.
	NotBefore time.Time
	// Raw holds every claim, registered or not, as decoded by
	// encoding/json except that numbers are json.Number (so no precision
	// is lost). It is for display (inspect, doctor); never nil after a
	// successful Decode.
	Raw map[string]any
}

// Kubernetes' kubelet refreshes a projected ServiceAccount token once it
// is older than 80 % of its lifetime or older than 24 hours, whichever
// comes first (pkg/kubelet/token/token_manager.go).
const (
	kubeletRefreshNumerator   = 4 // 80 % = 4/5
	kubeletRefreshDenominator = 5
	kubeletMaxTokenAge        = 24 * time.Hour
)

// Valid NumericDate values: from the Unix epoch to the end of year 9999,
// so that every decoded time formats as RFC 3339.
const (
	minNumericDate = 0
	maxNumericDate = 253402300799 // 9999-12-31T23:59:59Z
)

// Decode splits a compact-serialised JWS (header.claims.signature) and
// decodes its header and claims.
//
// DECODE DOES NOT VERIFY THE SIGNATURE, nor the issuer, audience or
// lifetime: the result is only what the token says about itself. Use it
// for display and expiry bookkeeping of tokens you already hold, never
// for a trust decision.
//
// "aud" may be a string or an array of strings; "exp", "iat" and "nbf"
// may be integer or fractional JSON numbers; a registered claim set to
// null counts as absent. Errors match ErrMalformed, say precisely what
// is wrong, and never contain the token or any part of it.
func Decode(token string) (Header, Claims, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return Header{}, Claims{}, segmentError(len(parts))
	}

	hdrObj, err := decodeObject("header", parts[0])
	if err != nil {
		return Header{}, Claims{}, err
	}
	var h Header
	for _, m := range []struct {
		name string
		dst  *string
	}{{"alg", &h.Alg}, {"kid", &h.Kid}, {"typ", &h.Typ}} {
		if *m.dst, err = stringMember("header", m.name, hdrObj); err != nil {
			return Header{}, Claims{}, err
		}
	}

	raw, err := decodeObject("claims", parts[1])
	if err != nil {
		return Header{}, Claims{}, err
	}
	if _, err := decodeSegment("signature", parts[2]); err != nil {
		return Header{}, Claims{}, err
	}

	c := Claims{Raw: raw}
	for _, m := range []struct {
		name string
		dst  *string
	}{{"iss", &c.Issuer}, {"sub", &c.Subject}, {"jti", &c.ID}} {
		if *m.dst, err = stringMember("claim", m.name, raw); err != nil {
			return Header{}, Claims{}, err
		}
	}
	if c.Audience, err = audience(raw["aud"]); err != nil {
		return Header{}, Claims{}, err
	}
	for _, m := range []struct {
		name string
		dst  *time.Time
	}{{"exp", &c.ExpiresAt}, {"iat", &c.IssuedAt}, {"nbf", &c.NotBefore}} {
		if *m.dst, err = numericDate(m.name, raw[m.name]); err != nil {
			return Header{}, Claims{}, err
		}
	}
	return h, c, nil
}

// ExpiresIn returns how long the token has left at now: exp − now,
// negative once it has expired. It returns 0 when the token has no "exp";
// tell that apart from "expires right now" with ExpiresAt.IsZero().
func (c Claims) ExpiresIn(now time.Time) time.Duration {
	if c.ExpiresAt.IsZero() {
		return 0
	}
	return c.ExpiresAt.Sub(now)
}

// Expired reports whether now is after exp + leeway. A token without
// "exp" never expires as far as its claims say.
func (c Claims) Expired(now time.Time, leeway time.Duration) bool {
	return !c.ExpiresAt.IsZero() && now.After(c.ExpiresAt.Add(leeway))
}

// Lifetime returns exp − iat, the lifetime the issuer gave the token
// (a projected ServiceAccount token's expirationSeconds). It returns 0
// when either claim is absent or exp is not after iat.
func (c Claims) Lifetime() time.Duration {
	if c.ExpiresAt.IsZero() || c.IssuedAt.IsZero() || !c.ExpiresAt.After(c.IssuedAt) {
		return 0
	}
	return c.ExpiresAt.Sub(c.IssuedAt)
}

// RotationTime returns when the kubelet replaces a projected Kubernetes
// ServiceAccount token in its volume: at iat + 80 % of the lifetime, or
// at iat + 24 h if that is earlier (the kubelet adds up to 10 s of
// jitter to both). A file whose token is past this time and not replaced
// points at a kubelet that cannot refresh it. It returns the zero Time
// when Lifetime is 0.
func (c Claims) RotationTime() time.Time {
	life := c.Lifetime()
	if life == 0 {
		return time.Time{}
	}
	age := life / kubeletRefreshDenominator * kubeletRefreshNumerator
	age += life % kubeletRefreshDenominator * kubeletRefreshNumerator / kubeletRefreshDenominator
	return c.IssuedAt.Add(min(age, kubeletMaxTokenAge))
}

// decodeError is the error type behind every Decode failure.
type decodeError struct{ msg string }

func (e *decodeError) Error() string { return "jwt: " + e.msg }

// Is makes every decode error match ErrMalformed.
func (e *decodeError) Is(target error) bool { return target == ErrMalformed }

func malformed(format string, args ...any) error {
	return &decodeError{msg: fmt.Sprintf(format, args...)}
}

func segmentError(n int) error {
	switch {
	case n == 1:
		return malformed("not a JWT: expected 3 segments, got 1 (an opaque token?)")
	case n == 5:
		return malformed("not a JWT: expected 3 segments, got 5 (an encrypted JWE cannot be decoded)")
	default:
		return malformed("not a JWT: expected 3 segments, got %d", n)
	}
}

// decodeSegment base64url-decodes one segment. RFC 7515 forbids padding;
// trailing "=" is tolerated because some issuers add it.
func decodeSegment(what, seg string) ([]byte, error) {
	b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(seg, "="))
	if err != nil {
		return nil, malformed("%s %s not base64url", what, verb(what))
	}
	return b, nil
}

// decodeObject decodes a base64url segment holding one JSON object,
// keeping numbers as json.Number.
func decodeObject(what, seg string) (map[string]any, error) {
	if seg == "" {
		return nil, malformed("%s %s empty", what, verb(what))
	}
	b, err := decodeSegment(what, seg)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, malformed("%s %s not valid JSON", what, verb(what))
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, malformed("%s %s data after the JSON object", what, have(what))
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, malformed("%s %s not a JSON object (got %s)", what, verb(what), kind(v))
	}
	return obj, nil
}

// verb and have agree with the segment name: "header is", "claims are".
func verb(what string) string {
	if strings.HasSuffix(what, "s") {
		return "are"
	}
	return "is"
}

func have(what string) string {
	if strings.HasSuffix(what, "s") {
		return "have"
	}
	return "has"
}

// stringMember returns obj[name] as a string; absent or null is "".
func stringMember(what, name string, obj map[string]any) (string, error) {
	switch v := obj[name].(type) {
	case nil:
		return "", nil
	case string:
		return v, nil
	default:
		return "", malformed("%s %s is not a string (got %s)", what, name, kind(v))
	}
}

// audience accepts "aud" as a string or an array of strings.
func audience(v any) ([]string, error) {
	switch v := v.(type) {
	case nil:
		return nil, nil
	case string:
		return []string{v}, nil
	case []any:
		out := make([]string, 0, len(v))
		for i, e := range v {
			s, ok := e.(string)
			if !ok {
				return nil, malformed("claim aud[%d] is not a string (got %s)", i, kind(e))
			}
			out = append(out, s)
		}
		return out, nil
	default:
		return nil, malformed("claim aud is not a string or an array of strings (got %s)", kind(v))
	}
}

// numericDate converts a NumericDate (RFC 7519 §2): seconds since the
// epoch as an integer or fractional JSON number.
func numericDate(name string, v any) (time.Time, error) {
	if v == nil {
		return time.Time{}, nil
	}
	n, ok := v.(json.Number)
	if !ok {
		return time.Time{}, malformed("claim %s is not a number (got %s)", name, kind(v))
	}
	if i, err := strconv.ParseInt(string(n), 10, 64); err == nil {
		if i < minNumericDate || i > maxNumericDate {
			return time.Time{}, outOfRange(name)
		}
		return time.Unix(i, 0).UTC(), nil
	}
	f, err := strconv.ParseFloat(string(n), 64)
	if err != nil || math.IsNaN(f) || f < minNumericDate || f > maxNumericDate {
		return time.Time{}, outOfRange(name)
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(math.Round(frac*1e9))).UTC(), nil
}

func outOfRange(name string) error {
	return malformed("claim %s is out of range (expected seconds since 1970, before year 10000)", name)
}

// kind names the JSON type of a decoded value, for error messages that
// must not quote the value itself.
func kind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "string"
	case json.Number:
		return "number"
	case bool:
		return "boolean"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	default:
		return fmt.Sprintf("%T", v)
	}
}
