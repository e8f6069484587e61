package models

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/oauth2"

	"github.com/fedtoken/fedtoken/core/oauth"
)

const secretToken = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJib3QifQ.c2lnbmF0dXJlLXNpZ25hdHVyZQ"

func source(tok string) oauth.TokenSource {
	return oauth.TokenSourceFunc(func(context.Context) (*oauth2.Token, error) {
		return &oauth2.Token{AccessToken: tok, TokenType: "Bearer"}, nil
	})
}

func TestURL(t *testing.T) {
	for in, want := range map[string]string{
		"https://gw.example.com":          "https://gw.example.com/v1/models",
		"https://gw.example.com/":         "https://gw.example.com/v1/models",
		"https://gw.example.com/v1":       "https://gw.example.com/v1/models",
		"https://gw.example.com/v1/":      "https://gw.example.com/v1/models",
		"https://gw.example.com/api":      "https://gw.example.com/api/v1/models",
		"https://gw.example.com/api/v1//": "https://gw.example.com/api/v1/models",
		"http://127.0.0.1:8181":           "http://127.0.0.1:8181/v1/models",
	} {
		got, err := listURL(in)
		if err != nil || got != want {
			t.Errorf("listURL(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "gw.example.com/v1", "ftp://gw/v1", "https://user:pw@/v1"} {
		if _, err := listURL(bad); err == nil {
			t.Errorf("listURL(%q): no error", bad)
		} else if strings.Contains(err.Error(), "pw") {
			t.Errorf("listURL(%q): error shows the password: %v", bad, err)
		}
	}
}

func TestDisplayName(t *testing.T) {
	for id, want := range map[string]string{
		"glm-5":                  "GLM 5",
		"glm-4.5-air":            "GLM 4.5 Air",
		"gpt-oss-120b":           "GPT Oss 120B",
		"qwen3-coder-30b-a3b":    "Qwen3 Coder 30B A3b",
		"meta-llama/llama-3-70b": "Meta Llama Llama 3 70B",
		"mistral_small:latest":   "Mistral Small Latest",
		"text-embedding-3-large": "Text Embedding 3 Large",
		"whisper-stt-4bit":       "Whisper STT 4bit",
		"ctx-32k":                "Ctx 32K",
		"model-7x":               "Model 7x",
		"---":                    "---",
		"OCR":                    "OCR",
	} {
		if got := DisplayName(id, nil); got != want {
			t.Errorf("DisplayName(%q) = %q, want %q", id, got, want)
		}
	}
	if got := DisplayName("glm-5", map[string]string{"glm-5": "Miaou's GLM"}); got != "Miaou's GLM" {
		t.Errorf("override: %q", got)
	}
}

func TestListAndErrors(t *testing.T) {
	var status atomic.Int32
	status.Store(200)
	gw := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/models" || r.Header.Get("Authorization") != "Bearer "+secretToken || r.Header.Get("Accept") != "application/json" {
			t.Errorf("request %s %v", r.URL.Path, r.Header)
		}
		switch status.Load() {
		case 200:
			_, _ = w.Write([]byte(`{"data":[{"id":"glm-5","owned_by":"zai"},{"id":""},{"id":7},"x",{"id":"glm-5"},{"id":"gpt-oss-120b"}]}`))
		case 401:
			w.Header().Set("WWW-Authenticate", `Bearer realm="gw", error="invalid_token"`)
			w.WriteHeader(401)
			_, _ = w.Write([]byte(`{"error":{"message":"token ` + secretToken + ` rejected"},"access_token":"abcdefgh1234"}`))
		case 502:
			w.WriteHeader(502)
			_, _ = w.Write([]byte(strings.Repeat("upstream down ", 100)))
		}
	}))
	defer gw.Close()
	l := &Lister{Source: source(secretToken)}
	got, err := l.List(context.Background(), gw.URL+"/v1?key=secret", map[string]string{"gpt-oss-120b": "OSS"})
	if err != nil {
		t.Fatal(err)
	}
	want := []Model{{ID: "glm-5", Name: "GLM 5", OwnedBy: "zai"}, {ID: "gpt-oss-120b", Name: "OSS"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("models (-want +got):\n%s", diff)
	}

	status.Store(401)
	_, err = l.List(context.Background(), gw.URL+"/v1?key=secret", nil)
	var oe *oauth.Error
	if !errors.As(err, &oe) || oe.StatusCode != 401 || oe.Code != "invalid_token" {
		t.Fatalf("401: %#v", err)
	}
	for _, leak := range []string{secretToken, "abcdefgh1234", "key=secret"} {
		if strings.Contains(err.Error(), leak) {
			t.Errorf("error leaks %q: %v", leak, err)
		}
	}
	if !strings.Contains(err.Error(), "rejected") || !strings.Contains(err.Error(), "/v1/models") {
		t.Errorf("error should preview the body and name the URL: %v", err)
	}

	status.Store(502)
	_, err = l.List(context.Background(), gw.URL, nil)
	if !errors.As(err, &oe) || oe.StatusCode != 502 || len([]rune(oe.Description)) > 501 {
		t.Errorf("502: %v", err)
	}
}

func TestListTimeout(t *testing.T) {
	release := make(chan struct{})
	gw := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer gw.Close()
	defer close(release)
	_, err := (&Lister{Source: source("t"), Timeout: 50 * time.Millisecond}).List(context.Background(), gw.URL, nil)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("want a deadline error, got %v", err)
	}
}

func TestParseShapes(t *testing.T) {
	for body, n := range map[string]int{
		`[{"id":"a"},{"id":"b"}]`: 2,
		`{"data":[{"id":"a"}]}`:   1,
		`{"models":[{"id":"a"}]}`: 0,
		`{}`:                      0,
	} {
		got, err := parseList([]byte(body))
		if err != nil || len(got) != n {
			t.Errorf("%s: %d models, %v", body, len(got), err)
		}
	}
	if _, err := parseList([]byte("<html>")); err == nil {
		t.Error("HTML accepted")
	}
}

func TestCompare(t *testing.T) {
	before := []Model{{ID: "a", Name: "A"}, {ID: "b", Name: "B"}, {ID: "c", Name: "C"}}
	after := []Model{{ID: "a", Name: "A"}, {ID: "b", Name: "Bee"}, {ID: "d", Name: "D"}}
	want := Diff{Added: []string{"d"}, Removed: []string{"c"}, Renamed: []string{"b"}}
	if diff := cmp.Diff(want, compare(before, after)); diff != "" {
		t.Error(diff)
	}
	if compare(after, after).Changed() {
		t.Error("no change reported as a change")
	}
}

func TestMergeJSON(t *testing.T) {
	base := []byte(`{
	  // JSONC, as opencode allows
	  "provider": {"miaou": {"npm": "x", "models": {"glm-5": {"limit": {"context": 8}}, "mine": {}}}},
	  "plugin": ["a"],
	}`)
	out, err := MergeJSON(base, Fragment(map[string][]Model{"miaou": {{ID: "glm-5", Name: "GLM 5"}}, "other": {}}))
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"plugin": []any{"a"},
		"provider": map[string]any{
			"miaou": map[string]any{"npm": "x", "models": map[string]any{
				"glm-5": map[string]any{"id": "glm-5", "name": "GLM 5", "limit": map[string]any{"context": float64(8)}},
				"mine":  map[string]any{},
			}},
			"other": map[string]any{"models": map[string]any{}},
		},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("merged (-want +got):\n%s", diff)
	}
	if _, err := MergeJSON([]byte("[1]"), nil); err == nil {
		t.Error("array accepted as a config")
	}
}

// A failed sync keeps the last good list; Run retries and picks up the
// change.
func TestSyncerKeepsLastGood(t *testing.T) {
	var mode atomic.Int32 // 0 two models, 1 failing, 2 one model
	gw := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch mode.Load() {
		case 0:
			_, _ = w.Write([]byte(`{"data":[{"id":"a"},{"id":"b"}]}`))
		case 1:
			http.Error(w, "down", http.StatusServiceUnavailable)
		default:
			_, _ = w.Write([]byte(`{"data":[{"id":"a"}]}`))
		}
	}))
	defer gw.Close()
	results := make(chan Result, 16)
	s := NewSyncer([]Target{{ID: "p", BaseURL: gw.URL, Interval: time.Millisecond, Lister: &Lister{Source: source("t")}}},
		func(r Result) { results <- r })
	r := s.Sync(context.Background())[0]
	<-results
	if r.Err != nil || len(r.Models) != 2 || len(r.Diff.Added) != 2 {
		t.Fatalf("first sync: %+v", r)
	}
	mode.Store(1)
	r = s.Sync(context.Background())[0]
	<-results
	if r.Err == nil || len(r.Models) != 2 || len(s.Lists()["p"]) != 2 {
		t.Fatalf("failed sync must keep the last good list: %+v, lists %v", r, s.Lists())
	}
	mode.Store(2)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- s.Run(ctx) }()
	for r := range results {
		if r.Err == nil && len(r.Models) == 1 {
			if diff := cmp.Diff(Diff{Removed: []string{"b"}}, r.Diff); diff != "" {
				t.Error(diff)
			}
			break
		}
	}
	cancel()
	go func() {
		for range results {
		}
	}()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("Run: %v", err)
	}
}

// A redirect to another host would carry the token there: refused.
func TestListRefusesCrossHostRedirect(t *testing.T) {
	var leaked atomic.Bool
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		leaked.Store(r.Header.Get("Authorization") != "")
	}))
	defer other.Close()
	gw := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, strings.Replace(other.URL, "127.0.0.1", "localhost", 1)+"/v1/models", http.StatusFound)
	}))
	defer gw.Close()
	_, err := (&Lister{Source: source(secretToken)}).List(context.Background(), gw.URL, nil)
	if err == nil || !strings.Contains(err.Error(), "redirected") || leaked.Load() {
		t.Errorf("err %v, token sent to the other host: %v", err, leaked.Load())
	}
}
