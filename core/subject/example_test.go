package subject_test

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/fedtoken/fedtoken/core/subject"
)

// unsignedJWT stands in for the kubelet's projected token: the source
// checks only its "exp", the IdP checks the rest.
func unsignedJWT(sub string, exp time.Time) string {
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(`{"alg":"RS256"}`)) + "." +
		enc([]byte(fmt.Sprintf(`{"sub":%q,"exp":%d}`, sub, exp.Unix()))) + "." + enc([]byte("signature"))
}

// A projected ServiceAccount token is read afresh on every call, so a
// rotation by the kubelet is seen at once, and an expired token is
// refused with a reason instead of being sent to the IdP.
func ExampleKubernetesSA() {
	dir, err := os.MkdirTemp("", "fedtoken-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "token") // /var/run/secrets/tokens/oauth2/token in a pod
	write := func(tok string) {
		if err := os.WriteFile(path, []byte(tok+"\n"), 0o600); err != nil {
			log.Fatal(err)
		}
	}
	src := subject.KubernetesSA{Path: path}
	ctx := context.Background()

	first := unsignedJWT("system:serviceaccount:ai-jobs:opencode-runner", time.Now().Add(time.Hour))
	write(first)
	tok, err := subject.Read(ctx, src)
	fmt.Println("first token:", tok == first, err)

	second := unsignedJWT("system:serviceaccount:ai-jobs:opencode-runner", time.Now().Add(2*time.Hour))
	write(second) // the kubelet rotates the token
	tok, err = subject.Read(ctx, src)
	fmt.Println("after rotation:", tok == second, err)

	write(unsignedJWT("system:serviceaccount:ai-jobs:opencode-runner", time.Now().Add(-time.Minute)))
	_, err = subject.Read(ctx, src)
	var expired *subject.ExpiredError
	fmt.Println("expired token refused:", errors.As(err, &expired))
	// Output:
	// first token: true <nil>
	// after rotation: true <nil>
	// expired token refused: true
}
