package oauth

import (
	"fmt"
	"strings"
	"time"
)

// Error is an OAuth 2.0 error response (RFC 6749 §5.2, RFC 8628 §3.5,
// RFC 8693 §2.2.2) returned by a token, device-authorization or
// discovery endpoint. It is the only typed error for IdP rejections.
//
// Match a code with errors.Is(err, oauth.ErrInvalidGrant); read the
// details with errors.As. The description comes from the IdP; Error()
// never includes a request body, so no credential can leak through it.
type Error struct {
	// Code is the "error" field, e.g. "invalid_grant".
	Code string
	// Description is "error_description", or a short summary of a
	// non-JSON body (an HTML error page is summarised, never dumped).
	Description string
	// URI is "error_uri".
	URI string
	// StatusCode is the HTTP status of the response (0 when not from HTTP).
	StatusCode int
	// Endpoint is the URL that answered, without userinfo or query.
	Endpoint string
	// RetryAfter is the response's Retry-After (0 when absent): how long
	// the IdP asked to be left alone. The token cache does not start
	// another acquisition before it has passed (capped at 1 h).
	RetryAfter time.Duration
}

// Sentinels for errors.Is. They are compared by Code only; never modify them.
var (
	ErrInvalidRequest       = &Error{Code: "invalid_request"}
	ErrInvalidClient        = &Error{Code: "invalid_client"}
	ErrInvalidGrant         = &Error{Code: "invalid_grant"}
	ErrUnauthorizedClient   = &Error{Code: "unauthorized_client"}
	ErrUnsupportedGrantType = &Error{Code: "unsupported_grant_type"}
	ErrInvalidScope         = &Error{Code: "invalid_scope"}
	ErrInvalidTarget        = &Error{Code: "invalid_target"}
	ErrAccessDenied         = &Error{Code: "access_denied"}
	ErrAuthorizationPending = &Error{Code: "authorization_pending"}
	ErrSlowDown             = &Error{Code: "slow_down"}
	ErrExpiredToken         = &Error{Code: "expired_token"}
	ErrServerError          = &Error{Code: "server_error"}
	ErrTemporarilyUnavail   = &Error{Code: "temporarily_unavailable"}
	ErrRequestNotSupported  = &Error{Code: "request_not_supported"} // Dex, for an unsupported subject_token_type
)

// Error formats as `oauth2: invalid_grant: description (HTTP 400 from https://idp/token)`.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("oauth2: ")
	if e.Code != "" {
		b.WriteString(e.Code)
	} else {
		b.WriteString("error response")
	}
	if e.Description != "" {
		b.WriteString(": ")
		b.WriteString(e.Description)
	}
	if e.URI != "" {
		fmt.Fprintf(&b, " (see %s)", e.URI)
	}
	switch {
	case e.StatusCode != 0 && e.Endpoint != "":
		fmt.Fprintf(&b, " (HTTP %d from %s)", e.StatusCode, e.Endpoint)
	case e.StatusCode != 0:
		fmt.Fprintf(&b, " (HTTP %d)", e.StatusCode)
	case e.Endpoint != "":
		fmt.Fprintf(&b, " (from %s)", e.Endpoint)
	}
	return b.String()
}

// Is reports whether target is an *Error with the same Code. A target
// with an empty Code matches any *Error.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	if !ok {
		return false
	}
	return t.Code == "" || t.Code == e.Code
}

// Retryable reports whether the error is worth another attempt:
// server_error and temporarily_unavailable, or an HTTP 429/5xx status.
// A client error — invalid_request, invalid_client, invalid_grant,
// unauthorized_client, unsupported_grant_type, invalid_scope,
// invalid_target, access_denied, request_not_supported, and the
// device-flow codes — never is, whatever status it came with.
func (e *Error) Retryable() bool {
	switch e.Code {
	case ErrServerError.Code, ErrTemporarilyUnavail.Code:
		return true
	}
	if isClientError(e.Code) {
		return false
	}
	return e.StatusCode == 429 || e.StatusCode >= 500
}

// isClientError reports whether code means the request itself must change.
func isClientError(code string) bool {
	switch code {
	case ErrInvalidRequest.Code, ErrInvalidClient.Code, ErrInvalidGrant.Code,
		ErrUnauthorizedClient.Code, ErrUnsupportedGrantType.Code, ErrInvalidScope.Code,
		ErrInvalidTarget.Code, ErrAccessDenied.Code, ErrAuthorizationPending.Code,
		ErrSlowDown.Code, ErrExpiredToken.Code, ErrRequestNotSupported.Code,
		"unsupported_token_type", "invalid_token", "unsupported_response_type":
		return true
	}
	return false
}
