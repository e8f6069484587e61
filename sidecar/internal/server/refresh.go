package server

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/fedtoken/fedtoken/sidecar/internal/tokenendpoint"
)

// refreshHandler makes the sidecar acquire new tokens now (POST /refresh on
// the admin listener, ?provider=<id> for one provider): each current token
// is dropped and a new one requested from the IdP before the answer, which
// says per provider when the new token expires (never the token). Like
// /quitquitquit it requires the Fedtoken-Request header. Each call costs
// one token request per provider at the IdP.
func (s *Server) refreshHandler(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get(tokenendpoint.Header) != tokenendpoint.HeaderValue {
		http.Error(w, "missing request header "+tokenendpoint.Header+": "+tokenendpoint.HeaderValue, http.StatusForbidden)
		return
	}
	want := r.URL.Query().Get("provider")
	ctx, cancel := context.WithTimeout(r.Context(), time.Minute)
	defer cancel()
	var b strings.Builder
	found, failed := false, false
	for _, p := range s.providers {
		if want != "" && p.ID != want {
			continue
		}
		found = true
		if cur, _ := p.Source.Peek(); cur != nil {
			p.Source.Invalidate(cur)
		}
		tok, err := p.Source.TokenContext(ctx)
		switch {
		case err != nil:
			failed = true
			fmt.Fprintf(&b, "%s: refresh failed: %v\n", p.ID, err)
			s.logger.Warn("refresh on request failed", "provider", p.ID, "err", err)
		case tok.Expiry.IsZero():
			fmt.Fprintf(&b, "%s: new token\n", p.ID)
		default:
			fmt.Fprintf(&b, "%s: new token, expires in %s\n", p.ID, time.Until(tok.Expiry).Round(time.Second))
		}
		if err == nil {
			s.logger.Info("token refreshed on request", "provider", p.ID)
		}
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	switch {
	case !found:
		http.Error(w, fmt.Sprintf("no provider %q", want), http.StatusNotFound)
		return
	case failed:
		w.WriteHeader(http.StatusBadGateway)
	}
	_, _ = w.Write([]byte(b.String()))
}
