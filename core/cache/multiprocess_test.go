package cache

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/fedtoken/fedtoken/core/oauth"
)

// Environment of a helper process started by TestMultiProcessColdStart.
const (
	helperEnv    = "FEDTOKEN_CACHE_TEST_HELPER" // "1" in a helper
	helperIdPEnv = "FEDTOKEN_CACHE_TEST_IDP"    // the parent's IdP URL
	helperDirEnv = "FEDTOKEN_CACHE_TEST_DIR"    // the shared FileStore directory
)

// TestMultiProcessColdStart starts 8 processes at once, all cold and sharing
// one FileStore directory: the file lock lets exactly one of them ask the
// IdP, and all print the same token.
func TestMultiProcessColdStart(t *testing.T) {
	if testing.Short() {
		t.Skip("starts 8 processes")
	}
	const procs = 8
	var (
		started, locking, tokenRequests atomic.Int64
		allStarted                      = make(chan struct{})
		allLocking                      = make(chan struct{})
	)
	deadline := time.After(60 * time.Second) // a safety net, never a synchronisation
	var deadlineHit atomic.Bool
	timedOut := make(chan struct{})
	go func() {
		select {
		case <-deadline:
			deadlineHit.Store(true)
			close(timedOut)
		case <-t.Context().Done():
		}
	}()

	mux := http.NewServeMux()
	// /start holds every helper until all of them are up, so they start cold together.
	mux.HandleFunc("POST /start", func(w http.ResponseWriter, r *http.Request) {
		if started.Add(1) == procs {
			close(allStarted)
		}
		select {
		case <-allStarted:
		case <-timedOut:
			http.Error(w, "not all helpers started", http.StatusGatewayTimeout)
		}
	})
	// /locking is called by each helper just before it takes the file lock.
	mux.HandleFunc("POST /locking", func(w http.ResponseWriter, r *http.Request) {
		if locking.Add(1) == procs {
			close(allLocking)
		}
	})
	// /token answers only once every helper is contending for the lock, so
	// the test does not pass merely because helpers ran one after another.
	mux.HandleFunc("POST /token", func(w http.ResponseWriter, r *http.Request) {
		n := tokenRequests.Add(1)
		select {
		case <-allLocking:
		case <-timedOut:
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"access_token":"shared-%d","token_type":"Bearer","expires_in":3600}`, n)
	})
	idp := httptest.NewServer(mux)
	defer idp.Close()

	dir := t.TempDir()
	type result struct {
		stdout, stderr bytes.Buffer
		err            error
	}
	results := make([]*result, procs)
	var wg sync.WaitGroup
	for i := range procs {
		res := &result{}
		results[i] = res
		cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$", "-test.count=1", "-test.v")
		cmd.Env = append(os.Environ(), helperEnv+"=1", helperIdPEnv+"="+idp.URL, helperDirEnv+"="+dir)
		cmd.Stdout, cmd.Stderr = &res.stdout, &res.stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		wg.Go(func() { res.err = cmd.Wait() })
	}
	wg.Wait()

	var tokens []string
	for i, res := range results {
		if res.err != nil {
			t.Fatalf("helper %d: %v\nstdout:\n%s\nstderr:\n%s", i, res.err, &res.stdout, &res.stderr)
		}
		var tok string
		for line := range strings.Lines(res.stdout.String()) {
			if rest, ok := strings.CutPrefix(line, "TOKEN "); ok {
				tok = strings.TrimSpace(rest)
			}
		}
		if tok == "" {
			t.Fatalf("helper %d printed no token:\n%s", i, &res.stdout)
		}
		tokens = append(tokens, tok)
	}
	if deadlineHit.Load() {
		t.Fatal("helpers did not all start and reach the lock within 60s")
	}
	if n := tokenRequests.Load(); n != 1 {
		t.Fatalf("%d processes made %d IdP token requests, want 1", procs, n)
	}
	for i, tok := range tokens {
		if tok != tokens[0] {
			t.Fatalf("helper %d printed %s, helper 0 printed %s; want the same token", i, tok, tokens[0])
		}
	}
	if locking.Load() != procs {
		t.Fatalf("%d helpers reached the lock, want %d", locking.Load(), procs)
	}
}

// TestHelperProcess is one process of TestMultiProcessColdStart. It skips
// unless started by it.
func TestHelperProcess(t *testing.T) {
	if os.Getenv(helperEnv) != "1" {
		t.Skip("helper process of TestMultiProcessColdStart")
	}
	idp, dir := os.Getenv(helperIdPEnv), os.Getenv(helperDirEnv)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := post(ctx, idp+"/start", nil); err != nil {
		t.Fatal(err)
	}
	src := oauth.TokenSourceFunc(func(ctx context.Context) (*oauth2.Token, error) {
		var body struct {
			AccessToken string `json:"access_token"`
			TokenType   string `json:"token_type"`
			ExpiresIn   int    `json:"expires_in"`
		}
		if err := post(ctx, idp+"/token", &body); err != nil {
			return nil, err
		}
		return &oauth2.Token{AccessToken: body.AccessToken, TokenType: body.TokenType,
			Expiry: time.Now().Add(time.Duration(body.ExpiresIn) * time.Second)}, nil
	})
	store := signallingFileStore{FileStore{Dir: dir}, idp + "/locking"}
	tok, err := New(src, WithStore(store, Key("multi-process", idp))).TokenContext(ctx)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Printf("TOKEN %s\n", tok.AccessToken)
}

// signallingFileStore tells the parent test when it is about to lock.
type signallingFileStore struct {
	FileStore
	locking string
}

func (s signallingFileStore) Lock(ctx context.Context, key string) (func(), error) {
	if err := post(ctx, s.locking, nil); err != nil {
		return nil, err
	}
	return s.FileStore.Lock(ctx, key)
}

// post POSTs to a loopback URL and decodes a JSON answer into out (if not nil).
func post(ctx context.Context, u string, out any) error {
	if pu, err := url.Parse(u); err != nil || !strings.HasPrefix(pu.Host, "127.0.0.1:") {
		return fmt.Errorf("refusing non-loopback URL %q", u)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("POST %s: %s", u, resp.Status)
	}
	if out == nil {
		return nil
	}
	return json.NewDecoder(resp.Body).Decode(out)
}
