//go:build e2e

package suites

import (
	"context"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/fedtoken/fedtoken/e2e/cluster"
	"github.com/fedtoken/fedtoken/e2e/harness"
	"github.com/fedtoken/fedtoken/e2e/idp/keycloak"
	"github.com/fedtoken/fedtoken/e2e/internal/issued"
)

// A pod with a projected service-account token volume, as the seed's
// workloads declare it: the kubelet lays it out with its atomic writer
// (token -> ..data/token, ..data -> ..<timestamp>/), the token is pod-bound,
// and Keycloak accepts exactly that file as a federated client assertion.
func TestProjectedTokenVolume(t *testing.T) {
	e := requireKeycloak(t)
	ctx := testContext(t, 4*time.Minute)
	audience := keycloak.RealmIssuer(e.Keycloak.URL(), keycloak.FederatedRealm)
	running, dir := projectedTokenPod(t, ctx, e, "projected-token", audience)

	// The atomic writer's layout.
	link, err := os.Readlink(filepath.Join(dir, "token"))
	if err != nil || link != "..data/token" {
		t.Fatalf("token -> %q (%v), want ..data/token", link, err)
	}
	data, err := os.Readlink(filepath.Join(dir, "..data"))
	if err != nil || !strings.HasPrefix(data, "..") || strings.Contains(data, "/") {
		t.Fatalf("..data -> %q (%v), want a ..<timestamp> directory", data, err)
	}
	if st, err := os.Stat(filepath.Join(dir, data)); err != nil || !st.IsDir() {
		t.Fatalf("..data target %s is not a directory: %v", data, err)
	}
	raw, err := os.ReadFile(filepath.Join(dir, "token"))
	if err != nil {
		t.Fatal(err)
	}
	tok := strings.TrimSpace(string(raw))
	issued.Record(tok)

	// Pod-bound claims.
	cl := claims(t, tok)
	k8s, _ := cl["kubernetes.io"].(map[string]any)
	podClaim, _ := k8s["pod"].(map[string]any)
	if podClaim["name"] != running.Name || podClaim["uid"] != string(running.UID) {
		t.Errorf("kubernetes.io.pod = %v, want name %s uid %s", podClaim, running.Name, running.UID)
	}
	if aud := audiences(cl); len(aud) != 1 || aud[0] != audience {
		t.Errorf("aud = %v, want [%s]", aud, audience)
	}
	exp, _ := cl["exp"].(float64)
	iat, _ := cl["iat"].(float64)
	if exp-iat != cluster.MinTokenSeconds {
		t.Errorf("exp-iat = %v, want %d (expirationSeconds)", exp-iat, cluster.MinTokenSeconds)
	}

	// The kubelet-written token is a valid federated client assertion.
	resp := postToken(t, ctx, keycloak.TokenEndpoint(e.Keycloak.URL(), keycloak.FederatedRealm), url.Values{
		"grant_type":            {"client_credentials"},
		"client_assertion_type": {clientAssertionTypeJWT},
		"client_assertion":      {tok},
	}, "", "")
	if resp.Status != http.StatusOK {
		t.Fatalf("client_credentials with the projected token: %s", errorBody(resp))
	}
}

// projectedTokenPod runs a pause pod named name whose only volume is a
// projected service-account token for audience (600 s, the minimum) at
// /var/run/secrets/tokens/oauth2/token, deleted when the test ends. It
// returns the running pod and the host directory of that volume, or skips
// when the backend cannot read the node's volumes from the host.
func projectedTokenPod(t *testing.T, ctx context.Context, e *harness.Env, name, audience string) (*corev1.Pod, string) {
	t.Helper()
	c := e.Cluster.Client()
	const volume = "oauth2-token"
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: harness.Namespace},
		Spec: corev1.PodSpec{
			ServiceAccountName:           harness.ServiceAccount,
			AutomountServiceAccountToken: new(false),
			Containers: []corev1.Container{{
				Name: "app", Image: e.Peers.Versions.PauseImage, ImagePullPolicy: corev1.PullNever,
				VolumeMounts: []corev1.VolumeMount{{Name: volume, MountPath: "/var/run/secrets/tokens/oauth2", ReadOnly: true}},
			}},
			Volumes: []corev1.Volume{cluster.ProjectedTokenVolume(volume, audience, "token", cluster.MinTokenSeconds)},
		},
	}
	if _, err := c.CoreV1().Pods(harness.Namespace).Create(ctx, pod, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cluster.DeletePodAndWait(context.WithoutCancel(ctx), c, harness.Namespace, pod.Name, time.Minute)
	})
	running, err := cluster.WaitPodRunning(ctx, c, harness.Namespace, pod.Name, 2*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	dir, err := e.Cluster.PodVolumeDir(running, volume)
	if err != nil {
		t.Skipf("cannot read the node's volume from the host on %s: %v", e.Cluster.Backend(), err)
	}
	return running, dir
}
