package opencodeconfig

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/fedtoken/fedtoken/core/models"
	"github.com/fedtoken/fedtoken/core/oauth"
	"github.com/fedtoken/fedtoken/sidecar/internal/sink"
)

// The file holds the base plus the synced models; a later sync rewrites
// it (removed models go, renamed ones change), a failed sync keeps the
// last good list, and an unreadable base keeps /readyz failing.
func TestWriterKeepsOpencodeConfig(t *testing.T) {
	var mode, failed atomic.Int32
	gw := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer tok" {
			http.Error(w, "no", http.StatusUnauthorized)
			return
		}
		switch mode.Load() {
		case 0:
			_, _ = w.Write([]byte(`{"data":[{"id":"glm-5"},{"id":"qwen3-coder"}]}`))
		case 1:
			failed.Add(1)
			http.Error(w, "down", http.StatusBadGateway)
		default:
			_, _ = w.Write([]byte(`{"data":[{"id":"glm-5"}]}`))
		}
	}))
	defer gw.Close()
	dir := t.TempDir()
	base := filepath.Join(dir, "base.json")
	if err := os.WriteFile(base, []byte(`{
  // opencode's own settings stay
  "provider": {"miaou": {"npm": "@ai-sdk/openai-compatible", "options": {"baseURL": "http://127.0.0.1:8181"}}},
}`), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "opencode.json")
	src := oauth.TokenSourceFunc(func(context.Context) (*oauth2.Token, error) { return &oauth2.Token{AccessToken: "tok"}, nil })
	w := New(base, sink.File{Path: out, Mode: 0o644, UID: -1, GID: -1}, []models.Target{{
		ID: "miaou", BaseURL: gw.URL + "/v1", Overrides: map[string]string{"qwen3-coder": "Qwen Coder"},
		Interval: 5 * time.Millisecond, Lister: &models.Lister{Source: src},
	}}, slog.New(slog.DiscardHandler))
	if ok, _ := w.Ready(); ok {
		t.Fatal("ready before the first write")
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- w.Run(ctx) }()
	defer func() {
		cancel()
		<-done
	}()

	read := func() map[string]any {
		b, err := os.ReadFile(out)
		if err != nil {
			return nil
		}
		var v map[string]any
		if err := json.Unmarshal(b, &v); err != nil {
			t.Fatalf("written file is not JSON: %v", err)
		}
		return v
	}
	modelsOf := func(v map[string]any) map[string]any {
		p, _ := v["provider"].(map[string]any)
		m, _ := p["miaou"].(map[string]any)
		ms, _ := m["models"].(map[string]any)
		return ms
	}
	waitFor := func(what string, cond func(map[string]any) bool) map[string]any {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for time.Now().Before(deadline) {
			if v := read(); v != nil && cond(v) {
				return v
			}
			time.Sleep(2 * time.Millisecond) // polling the file, bounded by the deadline
		}
		t.Fatalf("%s: file is %v", what, read())
		return nil
	}
	v := waitFor("first sync", func(v map[string]any) bool { ok, _ := w.Ready(); return ok && len(modelsOf(v)) == 2 })
	if ok, note := w.Ready(); !ok {
		t.Errorf("not ready after the write: %s", note)
	}
	if m := modelsOf(v)["qwen3-coder"].(map[string]any); m["name"] != "Qwen Coder" || modelsOf(v)["glm-5"].(map[string]any)["name"] != "GLM 5" {
		t.Errorf("names: %v", modelsOf(v))
	}
	p := v["provider"].(map[string]any)["miaou"].(map[string]any)
	if p["npm"] != "@ai-sdk/openai-compatible" {
		t.Errorf("base settings lost: %v", p)
	}
	if fi, err := os.Stat(out); err != nil || fi.Mode().Perm() != 0o644 {
		t.Errorf("mode: %v %v", fi.Mode(), err)
	}

	mode.Store(1) // failures: the last good list stays
	waitFor("failed syncs", func(map[string]any) bool { return failed.Load() >= 2 })
	// The second failure's write (if any) has finished once a third
	// request arrives: syncs of one provider are sequential.
	waitFor("third failure", func(map[string]any) bool { return failed.Load() >= 3 })
	if n := len(modelsOf(read())); n != 2 {
		t.Errorf("after failed syncs the file has %d models, want the last good 2", n)
	}
	mode.Store(2)
	waitFor("model removed", func(v map[string]any) bool { return len(modelsOf(v)) == 1 })

	if err := os.Remove(base); err != nil {
		t.Fatal(err)
	}
	w2 := New(base, sink.File{Path: filepath.Join(dir, "x.json"), Mode: 0o644, UID: -1, GID: -1}, nil, slog.New(slog.DiscardHandler))
	w2.syncer.Sync(context.Background())
	w2.onResult(models.Result{ID: "none"})
	if ok, note := w2.Ready(); ok {
		t.Errorf("ready without a base: %s", note)
	}
}
