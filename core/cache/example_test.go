package cache_test

import (
	"context"
	"fmt"
	"os"
	"sync/atomic"
	"time"

	"golang.org/x/oauth2"

	"github.com/fedtoken/fedtoken/core/cache"
	"github.com/fedtoken/fedtoken/core/oauth"
)

// idp stands in for a grant (grant.JWTBearer, grant.TokenExchange, …):
// every call is one request to the IdP.
func idp(requests *atomic.Int64) oauth.TokenSource {
	return oauth.TokenSourceFunc(func(ctx context.Context) (*oauth2.Token, error) {
		n := requests.Add(1)
		return &oauth2.Token{
			AccessToken: fmt.Sprintf("token-%d", n),
			TokenType:   "Bearer",
			Expiry:      time.Now().Add(5 * time.Minute),
		}, nil
	})
}

// A one-shot job (CronJob): the cached source makes one IdP request however
// often the token is needed.
func ExampleNew() {
	var requests atomic.Int64
	src := cache.New(idp(&requests))
	for range 3 {
		tok, err := src.TokenContext(context.Background())
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(tok.AccessToken)
	}
	fmt.Println("IdP requests:", requests.Load())
	// Output:
	// token-1
	// token-1
	// token-1
	// IdP requests: 1
}

// A long-running service: tokens persisted in a FileStore (shared with the
// other processes of the user), refreshed in the background by Run.
func ExampleSource_Run() {
	dir, err := os.MkdirTemp("", "fedtoken-example")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)

	var requests atomic.Int64
	key := cache.Key("https://idp.example", "my-client", "jwt_bearer")
	src := cache.New(idp(&requests), cache.WithStore(cache.FileStore{Dir: dir}, key))

	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	done := make(chan error)
	go func() { done <- src.Run(ctx) }()

	tok, err := src.TokenContext(ctx) // served by the cache from now on
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(tok.AccessToken)
	stop()
	fmt.Println("Run:", <-done)

	// A later process with the same store and key reuses the saved token.
	again, _ := cache.New(idp(&requests), cache.WithStore(cache.FileStore{Dir: dir}, key)).Token()
	fmt.Println(again.AccessToken, "after", requests.Load(), "IdP request")
	// Output:
	// token-1
	// Run: <nil>
	// token-1 after 1 IdP request
}
