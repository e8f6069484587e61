package mockidptest_test

import (
	"fmt"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/fedtoken/fedtoken/mockidp"
	"github.com/fedtoken/fedtoken/mockidp/mockidptest"
)

func TestStartServesOnLoopback(t *testing.T) {
	idp := mockidptest.Start(t, mockidp.WithIssuer(mockidp.IssuerConfig{Name: "prod"}))
	u := idp.IssuerURL("prod")
	if !strings.HasPrefix(u, "http://127.0.0.1:") {
		t.Fatalf("issuer URL %q is not on loopback", u)
	}
	resp, err := idp.HTTP.Client().Get(u + "/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("discovery: %d", resp.StatusCode)
	}
}

// fakeTB records Fatalf and runs cleanups on demand.
type fakeTB struct {
	testing.TB
	mu       sync.Mutex
	fatal    string
	cleanups []func()
}

func (f *fakeTB) Helper() {}

func (f *fakeTB) Cleanup(fn func()) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.cleanups = append(f.cleanups, fn)
}

func (f *fakeTB) Fatalf(format string, args ...any) {
	f.mu.Lock()
	f.fatal = fmt.Sprintf(format, args...)
	f.mu.Unlock()
	runtime.Goexit()
}

func (f *fakeTB) Errorf(format string, args ...any) { f.Fatalf(format, args...) }

func TestStartFailsOnBadOptions(t *testing.T) {
	f := &fakeTB{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		mockidptest.Start(f, mockidp.WithIssuer(mockidp.IssuerConfig{Name: "bad name"}))
	}()
	<-done
	if !strings.Contains(f.fatal, `mockidptest: mockidp: invalid config: issuers[0].name: name "bad name"`) {
		t.Fatalf("fatal = %q", f.fatal)
	}
	for i := len(f.cleanups) - 1; i >= 0; i-- {
		f.cleanups[i]() // closes the listener
	}
}
