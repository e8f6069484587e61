package gateway

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/fedtoken/fedtoken/core/jwt"
)

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// TestVerifyAndStream: a token signed by a trusted IdP's key, with the
// right audience (or azp) and not expired, gets the streamed answer; every
// other token is refused and recorded with why.
func TestVerifyAndStream(t *testing.T) {
	rk, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	ek, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ecPoint, err := ek.PublicKey.Bytes() // 0x04 || X || Y
	if err != nil {
		t.Fatal(err)
	}
	other, _ := rsa.GenerateKey(rand.Reader, 2048)
	jwks := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]any{"keys": []any{
			map[string]any{"kty": "RSA", "kid": "r1", "use": "sig", "n": b64(rk.N.Bytes()), "e": b64(big.NewInt(int64(rk.E)).Bytes())},
			map[string]any{"kty": "EC", "kid": "e1", "crv": "P-256", "x": b64(ecPoint[1:33]), "y": b64(ecPoint[33:])},
		}})
	}))
	defer jwks.Close()
	g, err := Start("127.0.0.1", []Trust{{Name: "kc", Issuer: "https://kc/realms/prod", JWKSURL: jwks.URL, Audience: "k8s-runner"}}, t.Logf)
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()

	now := time.Now()
	claims := func(mod func(map[string]any)) map[string]any {
		c := map[string]any{"iss": "https://kc/realms/prod", "sub": "u", "azp": "k8s-runner", "aud": "account", "exp": now.Add(time.Minute).Unix()}
		if mod != nil {
			mod(c)
		}
		return c
	}
	sign := func(c map[string]any, key crypto.Signer, kid string) string {
		t.Helper()
		tok, err := jwt.Sign(c, key, kid)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	post := func(tok string) (int, string) {
		req, _ := http.NewRequest(http.MethodPost, g.URL()+"/chat/completions", strings.NewReader(`{}`))
		if tok != "" {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}

	for name, tok := range map[string]string{
		"rsa azp":   sign(claims(nil), rk, "r1"),
		"ecdsa aud": sign(claims(func(c map[string]any) { c["azp"] = nil; c["aud"] = []string{"k8s-runner"} }), ek, "e1"),
	} {
		code, body := post(tok)
		if code != 200 || !strings.Contains(body, `"content":"kc; "`) || !strings.HasSuffix(body, "data: [DONE]\n\n") {
			t.Errorf("%s: %d %q", name, code, body)
		}
	}
	for name, tok := range map[string]string{
		"none":          "",
		"wrong key":     sign(claims(nil), other, "r1"),
		"unknown kid":   sign(claims(nil), rk, "nope"),
		"wrong issuer":  sign(claims(func(c map[string]any) { c["iss"] = "https://evil" }), rk, "r1"),
		"wrong azp/aud": sign(claims(func(c map[string]any) { c["azp"] = "other" }), rk, "r1"),
		"expired":       sign(claims(func(c map[string]any) { c["exp"] = now.Add(-time.Second).Unix() }), rk, "r1"),
	} {
		if code, body := post(tok); code != http.StatusUnauthorized {
			t.Errorf("%s: %d %q, want 401", name, code, body)
		}
	}
	var ok, refused int
	for _, r := range g.Records() {
		if r.Verified {
			ok++
			if r.IdP != "kc" || r.Subject != "u" {
				t.Errorf("record %+v", r)
			}
		} else {
			refused++
			if r.Reason == "" {
				t.Errorf("refusal without reason: %+v", r)
			}
		}
	}
	if ok != 2 || refused != 6 {
		t.Errorf("records: %d verified, %d refused; want 2 and 6", ok, refused)
	}
}

// The /responses stream is what the plugin's repair is for: Responses API
// events without output_index and content_index.
func TestResponsesStreamOmitsIndices(t *testing.T) {
	rec := httptest.NewRecorder()
	streamResponses(rec, Answer("kc"))
	body := rec.Body.String()
	if rec.Header().Get("Content-Type") != "text/event-stream" || strings.Contains(body, "output_index") || strings.Contains(body, "content_index") {
		t.Fatalf("want an event stream without indices, got %s:\n%s", rec.Header().Get("Content-Type"), body)
	}
	var text strings.Builder
	for _, line := range strings.Split(body, "\n") {
		data, ok := strings.CutPrefix(line, "data: ")
		if !ok {
			continue
		}
		var ev struct{ Type, Delta string }
		if err := json.Unmarshal([]byte(data), &ev); err != nil {
			t.Fatalf("%v: %s", err, data)
		}
		if ev.Type == "response.output_text.delta" {
			text.WriteString(ev.Delta)
		}
	}
	if text.String() != Answer("kc") {
		t.Errorf("deltas spell %q", text.String())
	}
}
