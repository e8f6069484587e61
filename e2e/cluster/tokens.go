//go:build e2e

package cluster

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/fedtoken/fedtoken/e2e/internal/issued"
)

// MinTokenSeconds is the shortest lifetime TokenRequest accepts.
const MinTokenSeconds = 600

// RequestToken asks the API server for a service-account token (TokenRequest)
// for audience, valid seconds (≥ 600).
func RequestToken(ctx context.Context, c kubernetes.Interface, namespace, serviceAccount, audience string, seconds int64) (string, error) {
	tr, err := c.CoreV1().ServiceAccounts(namespace).CreateToken(ctx, serviceAccount, &authenticationv1.TokenRequest{
		Spec: authenticationv1.TokenRequestSpec{Audiences: []string{audience}, ExpirationSeconds: &seconds},
	}, metav1.CreateOptions{})
	if err != nil {
		return "", fmt.Errorf("tokenrequest %s/%s aud=%s: %w", namespace, serviceAccount, audience, err)
	}
	issued.Record(tr.Status.Token)
	return tr.Status.Token, nil
}

// EnsureServiceAccount creates namespace and serviceAccount if missing.
func EnsureServiceAccount(ctx context.Context, c kubernetes.Interface, namespace, serviceAccount string) error {
	_, err := c.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: namespace}}, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("create namespace %s: %w", namespace, err)
	}
	_, err = c.CoreV1().ServiceAccounts(namespace).Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: serviceAccount}}, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("create serviceaccount %s/%s: %w", namespace, serviceAccount, err)
	}
	return nil
}

// AnonymousDiscoveryBinding is the ClusterRoleBinding that makes issuer
// discovery and JWKS public: external IdPs fetch them without credentials.
const AnonymousDiscoveryBinding = "fedtoken-e2e-oidc-anonymous"

// AllowAnonymousDiscovery binds system:service-account-issuer-discovery to
// system:unauthenticated (idp-wire.md §D).
func AllowAnonymousDiscovery(ctx context.Context, c kubernetes.Interface) error {
	crb := &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: AnonymousDiscoveryBinding},
		RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: "system:service-account-issuer-discovery"},
		Subjects:   []rbacv1.Subject{{APIGroup: "rbac.authorization.k8s.io", Kind: "Group", Name: "system:unauthenticated"}},
	}
	_, err := c.RbacV1().ClusterRoleBindings().Create(ctx, crb, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("create clusterrolebinding %s: %w", AnonymousDiscoveryBinding, err)
	}
	return nil
}

// Discovery is the part of the issuer's OpenID configuration IdPs use.
type Discovery struct {
	Issuer  string `json:"issuer"`
	JWKSURI string `json:"jwks_uri"`
}

// FetchDiscoveryAnonymously GETs <issuer>/.well-known/openid-configuration
// with no credentials, trusting only caFile, and checks the issuer matches.
func FetchDiscoveryAnonymously(ctx context.Context, issuer, caFile string) (*Discovery, error) {
	client, err := HTTPClientTrusting(caFile)
	if err != nil {
		return nil, err
	}
	u := issuer + "/.well-known/openid-configuration"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("discovery %s: %w", u, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("discovery %s: anonymous GET: HTTP %d: %.200s", u, resp.StatusCode, body)
	}
	var d Discovery
	if err := json.Unmarshal(body, &d); err != nil {
		return nil, fmt.Errorf("discovery %s: %w", u, err)
	}
	if d.Issuer != issuer {
		return nil, fmt.Errorf("discovery %s: issuer %q, want %q", u, d.Issuer, issuer)
	}
	if !strings.HasPrefix(d.JWKSURI, issuer+"/") {
		return nil, fmt.Errorf("discovery %s: jwks_uri %q is not under the issuer: IdPs outside the cluster cannot fetch it", u, d.JWKSURI)
	}
	return &d, nil
}

// HTTPClientTrusting is an HTTP client whose only root is the PEM in caFile.
func HTTPClientTrusting(caFile string) (*http.Client, error) {
	pem, err := os.ReadFile(caFile)
	if err != nil {
		return nil, fmt.Errorf("read CA: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("CA %s: no PEM certificate", caFile)
	}
	return &http.Client{
		Timeout:   30 * time.Second,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}, Proxy: nil},
	}, nil
}
