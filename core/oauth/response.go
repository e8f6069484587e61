package oauth

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"golang.org/x/oauth2"
)

// MaxResponseBytes is the largest response body read from an IdP endpoint.
// Bigger bodies are refused rather than truncated.
const MaxResponseBytes = 1 << 20

// maxExpiresIn bounds expires_in (about 68 years) so Expiry cannot overflow.
const maxExpiresIn = math.MaxInt32

// parseTokenResponse turns a token-endpoint response into a token.
//
// A 2xx JSON object with a non-empty "access_token" is a token:
// "token_type" defaults to Bearer and "bearer" in any case becomes
// "Bearer" (other types such as Keycloak's and zitadel's "N_A" are kept);
// "expires_in" may be a number or a numeric string and sets Expiry from
// now (absent or 0 leaves Expiry zero); "refresh_token" is kept, and every
// field — "scope", "id_token", "issued_token_type", … — is available
// through Token.Extra.
//
// Any other status, or a 2xx body carrying "error", yields an *Error.
// Non-JSON bodies are summarised (media type, size, HTML title), never
// copied. Other failures are plain errors; none contains the body.
// parseTokenResponse knows no endpoint: callers add it (Client.Token does).
func parseTokenResponse(status int, contentType string, body []byte, now time.Time) (*oauth2.Token, error) {
	return parseToken(status, contentType, body, now, nil)
}

// parseToken is parseTokenResponse with a redactor applied to IdP text
// before it is shortened (Client passes the request's credentials).
func parseToken(status int, contentType string, body []byte, now time.Time, redact redactor) (*oauth2.Token, error) {
	if status < 200 || status > 299 {
		return nil, parseErrorResponse(status, contentType, body, redact)
	}
	fields, ok := decodeObject(body)
	if !ok {
		return nil, fmt.Errorf("token response is not a JSON object (HTTP %d, %s)", status, summariseBody(contentType, body, redact))
	}
	if e := errorFromFields(status, fields, redact); e != nil && fields["access_token"] == nil {
		return nil, e
	}
	access, err := stringField(fields, "access_token")
	if err != nil {
		return nil, err
	}
	if access == "" {
		return nil, errors.New(`token response has no "access_token"`)
	}
	tokenType, err := stringField(fields, "token_type")
	if err != nil {
		return nil, err
	}
	refresh, err := stringField(fields, "refresh_token")
	if err != nil {
		return nil, err
	}
	expiresIn, err := parseExpiresIn(fields["expires_in"])
	if err != nil {
		return nil, err
	}
	tok := &oauth2.Token{
		AccessToken:  access,
		TokenType:    normaliseTokenType(tokenType),
		RefreshToken: refresh,
		ExpiresIn:    expiresIn,
	}
	if expiresIn > 0 {
		tok.Expiry = now.Add(time.Duration(expiresIn) * time.Second)
	}
	return tok.WithExtra(fields), nil
}

// decodeObject decodes body as one JSON object (numbers as float64, like
// x/oauth2 does for Token.Extra). It reports false for anything else.
func decodeObject(body []byte) (map[string]any, bool) {
	dec := json.NewDecoder(bytes.NewReader(body))
	var fields map[string]any
	if err := dec.Decode(&fields); err != nil || fields == nil {
		return nil, false
	}
	if len(bytes.TrimSpace(body[dec.InputOffset():])) != 0 { // trailing data
		return nil, false
	}
	return fields, true
}

// stringField returns fields[name] when it is a string or absent.
func stringField(fields map[string]any, name string) (string, error) {
	switch v := fields[name].(type) {
	case nil:
		return "", nil
	case string:
		return v, nil
	default:
		return "", fmt.Errorf("token response field %q is a %s, want a string", name, jsonKind(v))
	}
}

// parseExpiresIn accepts a JSON number or a numeric string of whole seconds.
func parseExpiresIn(v any) (int64, error) {
	var f float64
	switch x := v.(type) {
	case nil:
		return 0, nil
	case float64:
		f = x
	case string:
		s := strings.TrimSpace(x)
		if s == "" {
			return 0, nil
		}
		p, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return 0, errors.New(`token response field "expires_in" is a string that is not a number`)
		}
		f = p
	default:
		return 0, fmt.Errorf(`token response field "expires_in" is a %s, want a number`, jsonKind(v))
	}
	if math.IsNaN(f) || f < 0 || f > maxExpiresIn {
		return 0, fmt.Errorf(`token response field "expires_in" is out of range (0 to %d seconds)`, maxExpiresIn)
	}
	return int64(f), nil
}

// normaliseTokenType applies the Bearer default and fixes its case
// (Dex answers "bearer"). Other types are returned unchanged.
func normaliseTokenType(t string) string {
	if t == "" || strings.EqualFold(t, "bearer") {
		return "Bearer"
	}
	return t
}

func jsonKind(v any) string {
	switch v.(type) {
	case bool:
		return "boolean"
	case float64:
		return "number"
	case string:
		return "string"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return "null"
}
