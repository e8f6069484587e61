package doctor

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/fedtoken/fedtoken/core/config"
	"github.com/fedtoken/fedtoken/core/discovery"
	"github.com/fedtoken/fedtoken/core/grant"
	"github.com/fedtoken/fedtoken/core/jwt"
	"github.com/fedtoken/fedtoken/core/oauth"
	"github.com/fedtoken/fedtoken/core/provider"
	"github.com/fedtoken/fedtoken/core/subject"

	"github.com/fedtoken/fedtoken/cli/internal/cmd"
	"github.com/fedtoken/fedtoken/cli/internal/exitcode"
	"github.com/fedtoken/fedtoken/cli/internal/humantime"
)

// doctor checks one provider.
type doctor struct {
	env     *cmd.Env
	file    *config.File
	p       config.Provider
	r       *report
	offline bool

	hc       *http.Client
	tokenURL string
}

func (d *doctor) check(ctx context.Context) {
	p := d.p
	where := p.Issuer
	if where == "" {
		where = p.TokenEndpoint
	}
	fmt.Fprintf(d.r.w, "provider %s: %s at %s\n", p.ID, p.AuthFlow, oauth.RedactURL(where))
	d.r.ok("config", fmt.Sprintf("%s parses (%s format, %d provider(s))", d.file.Path, d.file.Format, len(d.file.Providers)))

	hc, err := oauth.NewHTTPClient(oauth.HTTPConfig{CAFile: p.CAFile, Timeout: p.HTTPTimeout})
	if err != nil {
		d.r.fail("config", exitcode.Config, err.Error(), "set caFile to a readable PEM bundle")
		return
	}
	d.hc = hc
	// A provider of its own, without the token cache: the dry run never
	// reads or replaces a cached token.
	pr, err := provider.New(p, provider.WithHTTPClient(hc))
	if err != nil {
		d.r.fail("config", exitcode.Config, err.Error(), "")
		return
	}
	subjectOK, audOK := d.checkSubject(ctx, pr)
	d.checkClientAuth()
	if d.offline || !audOK {
		why := "skipped (--offline)"
		if !audOK {
			why = "skipped: fix the audience first (nothing was sent to the IdP)"
		}
		for _, label := range []string{"discovery", "token endpoint", "exchange"} {
			d.r.skip(label, why)
		}
		return
	}
	d.checkDiscovery(ctx)
	d.checkTokenEndpoint(ctx)
	d.checkExchange(ctx, pr, subjectOK)
}

// federated reports whether the subject token is the client assertion.
func (d *doctor) federated() bool { return d.p.ClientAuth.Method == oauth.AuthFederated }

// assertsSubject reports whether the flow presents the subject token as an
// RFC 7523 assertion (jwt_bearer), whose aud must name the IdP (RFC 7523 §3).
func (d *doctor) assertsSubject() bool {
	f := d.p.AuthFlow.Info()
	return f.Subject && f.GrantType == grant.GrantTypeJWTBearer
}

// checkSubject checks the subject token and its audience; it reports
// whether a grant could send it, and whether the audience check passed
// (when it fails, doctor sends nothing to the IdP).
func (d *doctor) checkSubject(ctx context.Context, pr *provider.Provider) (ok, audOK bool) {
	p := d.p
	if pr.Subject() == nil {
		d.r.skip("subject", fmt.Sprintf("authFlow %s with %s client authentication presents no subject token", p.AuthFlow, authName(p)))
		return true, true
	}
	info, desc, err := d.env.InspectSubject(ctx, &p, pr)
	if err != nil {
		d.r.fail("subject", exitcode.Subject, err.Error(), "")
		return false, true
	}
	h, c, err := info.Header, info.Claims, info.DecodeError
	if err != nil {
		if slices.Contains(p.AuthFlow.Info().Uses, "tokenExchange") && !d.federated() && p.TokenExchange.SubjectTokenType != grant.TokenTypeJWT &&
			p.TokenExchange.SubjectTokenType != grant.TokenTypeIDToken {
			d.r.warn("subject", fmt.Sprintf("%s: not a JWT (%v); fine for subjectTokenType %s", desc, err, p.TokenExchange.SubjectTokenType))
			return true, true
		}
		d.r.fail("subject", exitcode.Subject, fmt.Sprintf("%s: %v", desc, err), "point the subject token source at the workload's identity JWT")
		return false, true
	}
	d.r.ok("subject", fmt.Sprintf("%s: a JWT (%s), iss %s, sub %s", desc, h.Alg, c.Issuer, c.Subject))
	ok = d.checkExpiry(c)
	audOK = d.checkAudience(c)
	return ok, audOK
}

// checkClientAuth warns about the seed's secretless jwt_bearer at a
// Keycloak issuer (…/realms/<realm>), which wants the client to
// authenticate: with no secret and no
// clientAuth.method, no client authentication is sent, and Keycloak
// answers "Public client not allowed to use authorization grant".
func (d *doctor) checkClientAuth() {
	p := d.p
	if !d.assertsSubject() || p.ClientAuth.Method != oauth.AuthAuto || p.HasClientSecret() {
		return
	}
	if !strings.Contains(p.Issuer, "/realms/") {
		return // not Keycloak's issuer shape: other IdPs (Okta, Zitadel) may allow public clients
	}
	d.r.warn("client auth", string(p.AuthFlow)+" with no client authentication: Keycloak refuses it (\"Public client not allowed to use authorization grant\" for a public client, invalid_client for a confidential one); "+
		"to stay secretless there, set clientAuth: {\"method\": \"federated\"} (the same platform token then authenticates the client; see docs/idp/keycloak.md)")
}

func (d *doctor) checkExpiry(c jwt.Claims) bool {
	now := d.env.Now()
	kube := kubeletProjected(c)
	switch {
	case c.ExpiresAt.IsZero():
		d.r.warn("expiry", "the JWT has no exp claim; most IdPs refuse such a token")
		return true
	case c.Expired(now, 0):
		fix := "whatever provides the token must replace it before it expires"
		if kube {
			fix = "the kubelet should have rotated it at " + humantime.Time(c.RotationTime(), now) +
				": check the kubelet logs for TokenProjection errors and the volume's expirationSeconds"
		}
		d.r.fail("expiry", exitcode.Subject, "the JWT expired "+humantime.Time(c.ExpiresAt, now), fix)
		return false
	}
	msg := "expires " + humantime.Time(c.ExpiresAt, now)
	if kube {
		if rt := c.RotationTime(); !rt.IsZero() {
			msg += "; the kubelet rotates it at " + humantime.Time(rt, now)
		}
	}
	d.r.ok("expiry", msg)
	return true
}

// kubeletProjected reports whether c is a pod-bound service-account token
// (kubernetes.io.pod): only those are rotated by the kubelet. A token from
// `kubectl create token` or a Secret is not.
func kubeletProjected(c jwt.Claims) bool {
	k, _ := c.Raw["kubernetes.io"].(map[string]any)
	_, pod := k["pod"]
	return pod
}

// checkAudience compares aud with what the IdP expects, before any
// request to it. jwt_bearer (RFC 7523 §3) and federated client
// authentication need the authorization server in aud — Keycloak wants
// exactly one value, its issuer; for token exchange the audience is the
// IdP's own policy (Dex checks none), so a mismatch is a warning.
func (d *doctor) checkAudience(c jwt.Claims) bool {
	p := d.p
	var expected []string
	for _, u := range []string{p.Issuer, p.TokenEndpoint} {
		if u != "" {
			expected = append(expected, u)
		}
	}
	strict := d.assertsSubject() || d.federated()
	match := slices.ContainsFunc(c.Audience, func(a string) bool {
		return slices.ContainsFunc(expected, func(e string) bool { return sameURL(a, e) })
	})
	aud := strings.Join(c.Audience, ", ")
	want := strings.Join(expected, " or ")
	switch {
	case match && strict && len(c.Audience) > 1:
		d.r.warn("audience", fmt.Sprintf("aud has %d values (%s); Keycloak accepts exactly one, its issuer", len(c.Audience), aud))
	case match:
		d.r.ok("audience", "aud "+aud+" is the IdP's issuer")
	case strict:
		msg := "the JWT has no aud claim"
		if len(c.Audience) > 0 {
			msg = "aud is " + aud
		}
		d.r.fail("audience", exitcode.Subject, fmt.Sprintf("%s; %s with this IdP needs %s", msg, usage(p), want), audienceFix(p, want))
		return false
	default:
		d.r.warn("audience", fmt.Sprintf("aud is %q, not the issuer: fine for Dex (it checks no audience); other IdPs pin one — check what yours expects", aud))
	}
	return true
}

func usage(p config.Provider) string {
	if p.ClientAuth.Method == oauth.AuthFederated {
		return "federated client authentication"
	}
	return string(p.AuthFlow)
}

func audienceFix(p config.Provider, want string) string {
	switch p.SubjectTokenSource.Type {
	case subject.TypeKubernetesSA:
		return fmt.Sprintf("set audience: %s in the pod's serviceAccountToken projected volume", want)
	case subject.TypeGitHubActions:
		return fmt.Sprintf("set subjectTokenSource.audience: %s", want)
	}
	return fmt.Sprintf("issue the subject token with aud %s", want)
}

// sameURL compares two URLs ignoring one trailing slash.
func sameURL(a, b string) bool { return strings.TrimSuffix(a, "/") == strings.TrimSuffix(b, "/") }

func authName(p config.Provider) string {
	if p.ClientAuth.Method == "" {
		return "auto"
	}
	return string(p.ClientAuth.Method)
}

func (d *doctor) checkDiscovery(ctx context.Context) {
	p := d.p
	d.tokenURL = p.TokenEndpoint
	if p.Issuer == "" {
		d.r.skip("discovery", "no issuer: tokenEndpoint is used as configured")
		return
	}
	md, err := (&discovery.Client{HTTPClient: d.hc}).Discover(ctx, p.Issuer)
	if err != nil {
		d.r.fail("discovery", classify(err, exitcode.Network), err.Error(), networkFix(err, "the issuer URL (Keycloak: https://HOST/realms/REALM)"))
		return
	}
	if d.tokenURL == "" {
		d.tokenURL = md.TokenEndpoint
	}
	msg := "issuer " + oauth.RedactURL(md.Issuer) + " answers"
	if strings.HasPrefix(p.Issuer, "https:") {
		msg += " over verified TLS"
	}
	gt := p.AuthFlow.Info().GrantType
	if len(md.GrantTypesSupported) > 0 && !slices.Contains(md.GrantTypesSupported, gt) {
		d.r.warn("discovery", msg+fmt.Sprintf("; but grant_types_supported does not list %s: expect unsupported_grant_type", gt))
		return
	}
	d.r.ok("discovery", msg)
}

func (d *doctor) checkTokenEndpoint(ctx context.Context) {
	if d.tokenURL == "" {
		d.r.skip("token endpoint", "unknown (discovery failed and no tokenEndpoint is configured)")
		return
	}
	where := oauth.RedactURL(d.tokenURL)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, d.tokenURL, nil)
	if err != nil {
		d.r.fail("token endpoint", exitcode.Config, fmt.Sprintf("%s: %v", where, err), "set tokenEndpoint to an absolute URL")
		return
	}
	hc := *d.hc
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := hc.Do(req)
	if err != nil {
		var ue interface{ Unwrap() error }
		if errors.As(err, &ue) {
			err = ue.Unwrap() // url.Error repeats the URL, query included
		}
		d.r.fail("token endpoint", exitcode.Network, fmt.Sprintf("%s: %v", where, err), networkFix(err, "tokenEndpoint"))
		return
	}
	resp.Body.Close()
	d.r.ok("token endpoint", fmt.Sprintf("%s answers (HTTP %d to a GET)", where, resp.StatusCode))
}

func (d *doctor) checkExchange(ctx context.Context, pr *provider.Provider, subjectOK bool) {
	p := d.p
	if p.AuthFlow.Interactive() {
		d.checkLogin(ctx)
		return
	}
	if !subjectOK {
		d.r.skip("exchange", "skipped: the subject token is not usable")
		return
	}
	if d.tokenURL == "" {
		d.r.skip("exchange", "skipped: no token endpoint")
		return
	}
	tok, err := pr.TokenContext(ctx)
	if err != nil {
		msg, fix := explain(err, p)
		d.r.fail("exchange", classify(err, exitcode.Rejected), msg, fix)
		return
	}
	msg := fmt.Sprintf("%s: the IdP issued a %s token", p.AuthFlow, tokenType(tok.TokenType))
	if !tok.Expiry.IsZero() {
		msg += " expiring " + humantime.Relative(tok.Expiry, d.env.Now())
	}
	if _, c, err := jwt.Decode(tok.AccessToken); err == nil {
		msg += fmt.Sprintf(" (sub %s, aud %s)", c.Subject, strings.Join(c.Audience, ", "))
	}
	d.r.ok("exchange", msg+"; not cached")
}

// checkLogin reports the cached login of an interactive provider. It
// sends nothing: refreshing could spend a rotating refresh token.
func (d *doctor) checkLogin(ctx context.Context) {
	tok, err := d.env.Store(d.file).Load(ctx, provider.CacheKey(d.p))
	switch {
	case err != nil:
		d.r.fail("login", exitcode.Failure, err.Error(), "check the token cache directory's permissions")
	case tok == nil:
		d.r.warn("login", fmt.Sprintf("no cached login: run `fedtoken login %s`", d.p.ID))
	case tok.RefreshToken == "":
		d.r.warn("login", fmt.Sprintf("a cached token without refresh token: run `fedtoken login %s` when it expires", d.p.ID))
	default:
		d.r.ok("login", "a cached login with a refresh token (not used by doctor)")
	}
}

func tokenType(t string) string {
	if t == "" {
		return "Bearer"
	}
	return t
}

// classify returns the exit status of err, or def when it is unclassified.
func classify(err error, def int) int {
	if c := exitcode.Of(err); c != exitcode.Failure {
		return c
	}
	return def
}
