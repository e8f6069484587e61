package mockidp

import (
	"context"
	"crypto/rand"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// deviceGrant is a pending device authorization (RFC 8628).
type deviceGrant struct {
	client    string
	scopes    []string
	userCode  string
	challenge string
	expires   time.Time
	interval  time.Duration
	lastPoll  time.Time
	polls     int
	state     deviceState
	user      *UserConfig
}

type deviceState int

const (
	devicePending deviceState = iota
	deviceAuto                // approved automatically after enough polls
	deviceApproved
	deviceDenied
	deviceDone // tokens issued
)

// userCodeAlphabet has no vowels or look-alikes (RFC 8628 section 6.1).
const userCodeAlphabet = "BCDFGHJKLMNPQRSTVWXZ"

func newUserCode() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	var sb strings.Builder
	for i, c := range b {
		if i == 4 {
			sb.WriteByte('-')
		}
		sb.WriteByte(userCodeAlphabet[int(c)%len(userCodeAlphabet)])
	}
	return sb.String()
}

// DeviceAuthorization implements op.Server. A code_challenge (S256) in the
// request binds the device code to a code_verifier at the token endpoint.
func (is *issuer) DeviceAuthorization(ctx context.Context, r *op.ClientRequest[oidc.DeviceAuthorizationRequest]) (*op.Response, error) {
	cl := r.Client.(*authedClient)
	if !cl.allows(GrantDeviceCode) {
		return nil, unauthorizedClient("client %q may not use grant device_code", cl.cfg.ID)
	}
	scopes, err := cl.grantScopes(r.Data.Scopes)
	if err != nil {
		return nil, err
	}
	challenge := r.Form.Get("code_challenge")
	if m := r.Form.Get("code_challenge_method"); challenge != "" && m != string(oidc.CodeChallengeMethodS256) {
		return nil, invalidRequest("code_challenge_method %q is not supported: use S256", m)
	}
	deviceCode, userCode := randomToken(32), newUserCode()
	now := is.now()
	g := &deviceGrant{
		client: cl.cfg.ID, scopes: scopes, userCode: userCode, challenge: challenge,
		expires: now.Add(is.deviceLifetime()), interval: is.deviceInterval(),
	}
	if is.cfg.Login.AutoApprove {
		g.state, g.user = deviceAuto, is.autoUser()
	}
	is.mu.Lock()
	is.devices[hashSecret(deviceCode)] = g
	is.userCode[userCode] = hashSecret(deviceCode)
	is.mu.Unlock()
	return op.NewResponse(&oidc.DeviceAuthorizationResponse{
		DeviceCode:              deviceCode,
		UserCode:                userCode,
		VerificationURI:         is.url + pathDevice,
		VerificationURIComplete: is.url + pathDevice + "?user_code=" + url.QueryEscape(userCode),
		ExpiresIn:               int(is.deviceLifetime().Seconds()),
		Interval:                int(math.Ceil(g.interval.Seconds())),
	}), nil
}

// DeviceToken implements op.Server: polling for a device code.
func (is *issuer) DeviceToken(ctx context.Context, r *op.ClientRequest[oidc.DeviceAccessTokenRequest]) (*op.Response, error) {
	cl := r.Client.(*authedClient)
	now := is.now()
	is.mu.Lock()
	g := is.devices[hashSecret(r.Data.DeviceCode)]
	if g == nil {
		is.mu.Unlock()
		return nil, invalidGrant("unknown device_code")
	}
	if g.client != cl.cfg.ID {
		is.mu.Unlock()
		return nil, invalidGrant("device_code was issued to another client")
	}
	if g.state == deviceDone {
		is.mu.Unlock()
		return nil, invalidGrant("device_code was already used")
	}
	if now.After(g.expires) {
		is.mu.Unlock()
		return nil, oidc.ErrExpiredDeviceCode().WithDescription("%s", "device_code expired at "+fmtTime(g.expires))
	}
	if g.interval > 0 && !g.lastPoll.IsZero() && now.Sub(g.lastPoll) < g.interval {
		g.interval += 5 * time.Second
		g.lastPoll = now
		is.mu.Unlock()
		return nil, oidc.ErrSlowDown().WithDescription("%s", fmt.Sprintf("polled faster than the interval: wait %s between polls", g.interval))
	}
	g.lastPoll = now
	g.polls++
	if g.state == deviceAuto && g.polls > is.cfg.Device.PendingPolls {
		g.state = deviceApproved
	}
	state, user := g.state, g.user
	var pkceErr error
	if state == deviceApproved {
		// A wrong code_verifier does not consume the device code.
		if pkceErr = checkPKCE(g.challenge, r.Form.Get("code_verifier")); pkceErr == nil {
			g.state = deviceDone
		}
	}
	is.mu.Unlock()
	switch state {
	case deviceDenied:
		return nil, oidc.ErrAccessDenied().WithDescription("the user denied the request")
	case devicePending, deviceAuto:
		return nil, oidc.ErrAuthorizationPending().WithDescription("%s", "the user has not approved the request yet")
	}
	if pkceErr != nil {
		return nil, pkceErr
	}
	return is.issueInteractive(ctx, interactiveGrant{client: cl.client, user: user, scopes: g.scopes})
}

// decideDevice approves (user non-nil) or denies the device request with
// the given user code.
func (is *issuer) decideDevice(userCode string, user *UserConfig) error {
	is.mu.Lock()
	defer is.mu.Unlock()
	g := is.devices[is.userCode[strings.ToUpper(strings.TrimSpace(userCode))]]
	if g == nil {
		return fmt.Errorf("unknown user code %q", userCode)
	}
	if g.state == deviceDone || g.state == deviceDenied || g.state == deviceApproved {
		return fmt.Errorf("user code %q was already decided", userCode)
	}
	if is.now().After(g.expires) {
		return fmt.Errorf("user code %q expired at %s", userCode, fmtTime(g.expires))
	}
	if user == nil {
		g.state = deviceDenied
		return nil
	}
	g.state, g.user = deviceApproved, user
	return nil
}

func (is *issuer) devicePage(w http.ResponseWriter, r *http.Request) {
	renderPage(w, http.StatusOK, pageData{
		Title: "Connect a device to " + is.name, Action: is.url + pathDevice,
		UserCode: r.URL.Query().Get("user_code"), Users: is.usernames(), Device: true,
	})
}

func (is *issuer) deviceSubmit(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		renderPage(w, http.StatusBadRequest, pageData{Title: "Bad request", Error: "The form could not be read."})
		return
	}
	code := r.PostForm.Get("user_code")
	page := pageData{Title: "Connect a device to " + is.name, Action: is.url + pathDevice, UserCode: code, Users: is.usernames(), Device: true}
	var user *UserConfig
	if r.PostForm.Get("action") != "deny" {
		u, ok := is.checkPassword(r.PostForm.Get("username"), r.PostForm.Get("password"))
		if !ok {
			page.Error = "Unknown user or wrong password."
			renderPage(w, http.StatusUnauthorized, page)
			return
		}
		user = u
	}
	if err := is.decideDevice(code, user); err != nil {
		page.Error = err.Error()
		renderPage(w, http.StatusBadRequest, page)
		return
	}
	msg := "The device was denied access. You can close this window."
	if user != nil {
		msg = "The device is connected. You can close this window."
	}
	renderPage(w, http.StatusOK, pageData{Title: "Done", Message: msg})
}
