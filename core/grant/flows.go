package grant

import (
	"slices"
	"strings"
)

// Flow is what fedtoken knows about one authFlow. [Flows] is the one place
// these facts live: configuration checks, provider wiring, `fedtoken
// doctor`, the CLI and sidecar messages and the grants' hints read them.
// Adding a grant is its request builder, one row here, its golden requests
// and its docs.
type Flow struct {
	// Name is the authFlow value of the configuration files.
	Name string
	// GrantType is the grant_type the token request sends, as an IdP
	// lists it in grant_types_supported.
	GrantType string
	// Interactive flows need a person (a browser or a device code) to log
	// in; machine flows get tokens on their own.
	Interactive bool
	// Subject flows present the platform JWT of subjectTokenSource (as
	// the assertion or the subject_token): they cannot run without one.
	Subject bool
	// NeedsClientAuth flows are refused unless the client authenticates
	// (a secret, private_key_jwt or federated): clientAuth.method none is
	// an error and auto needs a secret.
	NeedsClientAuth bool
	// Endpoint is the setting naming the endpoint the flow needs besides
	// the token endpoint when issuer is not set (so nothing discovers it).
	Endpoint string
	// Sets are the form parameters the flow sets itself, each mapped to
	// the setting that controls it ("" when none does). No flow may send
	// them as extraParams.
	Sets map[string]string
	// Owns are parameters the flow sets from its own settings but other
	// flows may send as extraParams (Auth0's audience on
	// client_credentials), mapped like Sets.
	Owns map[string]string
	// Uses are the settings that only this flow reads: configuration
	// checks warn about the sections (tokenExchange, actorTokenSource,
	// assertion) set on another flow, and `config view` leaves the
	// interactive and token exchange ones out there.
	Uses []string
	// Summary is the one-line description of `fedtoken --help` (at most
	// 58 characters, so the list fits 80 columns).
	Summary string
	// RejectedHint is the advice added when the IdP answers invalid_grant
	// and the description says nothing more precise.
	RejectedHint string
}

// Names of the flows, as in configuration (authFlow).
const (
	nameAuthorizationCode = "authorization_code"
	nameDeviceCode        = "device_code"
	nameJWTBearerKey      = "jwt_bearer_key"
)

// Flows lists every authFlow, in the order of the configuration reference.
var Flows = []Flow{
	{
		Name: nameAuthorizationCode, GrantType: GrantTypeAuthorizationCode, Interactive: true,
		Endpoint: "authorizationEndpoint",
		Sets:     map[string]string{"code": "", "code_verifier": "pkce", "redirect_uri": "redirectPort", "refresh_token": ""},
		Uses:     []string{"pkce", "redirectPort", "redirectPath", "authorizationEndpoint"},
		Summary:  "a person logs in in a browser (PKCE, loopback redirect)",
	},
	{
		Name: nameDeviceCode, GrantType: GrantTypeDeviceCode, Interactive: true,
		Endpoint: "deviceAuthorizationEndpoint",
		Sets:     map[string]string{"device_code": "", "code_verifier": "pkce", "refresh_token": ""},
		Uses:     []string{"pkce", "deviceAuthorizationEndpoint"},
		Summary:  "a person enters a code on another device",
	},
	{
		Name: nameClientCredentials, GrantType: GrantTypeClientCredentials, NeedsClientAuth: true,
		Summary: "the client's secret, private key or federated platform JWT",
	},
	{
		Name: nameJWTBearer, GrantType: GrantTypeJWTBearer, Subject: true,
		Sets:         map[string]string{"assertion": "subjectTokenSource"},
		Summary:      "the platform JWT is the RFC 7523 assertion",
		RejectedHint: "the IdP rejected the assertion: check that it trusts the assertion's iss, that aud is the IdP's issuer or token endpoint, and that the token is not expired or too old",
	},
	{
		Name: nameTokenExchange, GrantType: GrantTypeTokenExchange, Subject: true,
		Sets: map[string]string{"subject_token": "subjectTokenSource", "actor_token": "actorTokenSource"},
		Owns: map[string]string{
			"audience":             "tokenExchange.audience",
			"resource":             "tokenExchange.resource",
			"requested_token_type": "tokenExchange.requestedTokenType",
			"subject_token_type":   "tokenExchange.subjectTokenType",
			"actor_token_type":     "tokenExchange.actorTokenType",
		},
		Uses:         []string{"tokenExchange", "actorTokenSource"},
		Summary:      "the platform JWT is the RFC 8693 subject_token",
		RejectedHint: "the IdP rejected the subject token: check that it trusts the token's issuer, the token's aud, and subjectTokenType",
	},
	{
		Name: nameJWTBearerKey, GrantType: GrantTypeJWTBearer,
		Sets:         map[string]string{"assertion": "assertion.privateKeyFile"},
		Uses:         []string{"assertion"},
		Summary:      "an RFC 7523 assertion signed with the client's private key",
		RejectedHint: "the IdP rejected the signed assertion: check that the public key of assertion.privateKeyFile (and assertion.keyId) is registered for the client, that iss and sub (the clientId) name that client, and that aud (assertion.audience; default the token endpoint) is what the IdP expects",
	},
}

// LookupFlow returns the row of the named flow.
func LookupFlow(name string) (Flow, bool) {
	i := slices.IndexFunc(Flows, func(f Flow) bool { return f.Name == name })
	if i < 0 {
		return Flow{}, false
	}
	return Flows[i], true
}

// FlowNames returns the names of the flows for which keep is true, in
// table order; keep nil means all.
func FlowNames(keep func(Flow) bool) []string {
	var names []string
	for _, f := range Flows {
		if keep == nil || keep(f) {
			names = append(names, f.Name)
		}
	}
	return names
}

// MachineFlows returns the flows that need no person, listed for a
// message: "jwt_bearer, token_exchange, client_credentials" in the order
// people reach for them (the platform-JWT flows first).
func MachineFlows(conj string) string {
	var subj, rest []string
	for _, f := range Flows {
		switch {
		case f.Interactive:
		case f.Subject:
			subj = append(subj, f.Name)
		default:
			rest = append(rest, f.Name)
		}
	}
	return joinList(append(subj, rest...), conj)
}

// UsedBy lists the flows that read setting, for "only authFlow … uses it".
func UsedBy(setting string) []string {
	return FlowNames(func(f Flow) bool { return slices.Contains(f.Uses, setting) })
}

// joinList joins names with ", ", the last pair with conj ("and", "or")
// when it is not empty.
func joinList(names []string, conj string) string {
	if conj == "" || len(names) < 2 {
		return strings.Join(names, ", ")
	}
	return strings.Join(names[:len(names)-1], ", ") + " " + conj + " " + names[len(names)-1]
}

// Grant types of the interactive flows.
const (
	GrantTypeAuthorizationCode = "authorization_code"
	GrantTypeDeviceCode        = "urn:ietf:params:oauth:grant-type:device_code"
)
