package login

import (
	"context"
	"errors"
	"time"
)

// ErrNonInteractive is returned, wrapped, by a flow that needs a person
// but whose UI cannot reach one (UI.Show is nil): the run has no terminal,
// or it is a CI job. The flow fails before any request to the IdP.
var ErrNonInteractive = errors.New("login: an interactive login is needed, but this run is non-interactive")

// ErrNoRefreshToken is returned, wrapped, when the IdP completed a login
// but sent no refresh token, so the login could not be renewed silently.
// The fix is on the IdP's side: allow the refresh_token grant for the
// client (Keycloak, zitadel), or request the offline_access scope (Okta,
// Auth0, zitadel).
var ErrNoRefreshToken = errors.New("login: the IdP sent no refresh_token; allow the refresh_token grant for this client or add the offline_access scope")

// Prompt tells the person at the keyboard what to do to finish a login.
// Exactly one of the two groups of fields is set.
type Prompt struct {
	// UserCode is the code to type at VerificationURI (device flow).
	UserCode string
	// VerificationURI is where to type UserCode (device flow).
	VerificationURI string
	// VerificationURIComplete, when the IdP sends one, already carries
	// the user code (device flow); show it as the first choice.
	VerificationURIComplete string

	// AuthorizeURL is the URL to open in a browser (authorization code flow).
	AuthorizeURL string
	// BrowserOpened reports whether UI.OpenBrowser opened AuthorizeURL;
	// when false, the person must open it by hand.
	BrowserOpened bool

	// ExpiresAt is when the device code expires, or when the
	// authorization code flow stops waiting for the callback.
	ExpiresAt time.Time
}

// UI is how a flow reaches a person.
type UI struct {
	// Show displays a prompt (typically on stderr). nil means nobody can
	// act on a prompt: the flow fails with ErrNonInteractive.
	Show func(Prompt)
	// OpenBrowser opens a URL in the person's browser (authorization code
	// flow). nil, or an error, means the URL is only shown.
	OpenBrowser func(ctx context.Context, url string) error
}

func (u UI) interactive() bool { return u.Show != nil }
