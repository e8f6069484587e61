// Package certs provides the webhook's serving certificate, two ways:
//
//   - SelfManaged: each replica generates its own CA and serving
//     certificate in memory at start (nothing written to disk or to a
//     Secret), adds its CA to the caBundle of every webhook in its own
//     MutatingWebhookConfiguration, keeps it there (a helm upgrade that
//     resets the bundle is repaired within a reconcile interval), and
//     rotates both before they expire: the new CA joins the bundle before
//     the new certificate is served, and expired CAs are dropped.
//   - Files: tls.crt and tls.key in a directory (a cert-manager Secret
//     mounted as a volume), re-read when they change; cert-manager's CA
//     injector fills the caBundle.
package certs

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/util/retry"
)

// SelfManaged generates, publishes and rotates the serving certificate.
type SelfManaged struct {
	// Client patches the webhook configuration (the chart grants get and
	// update on that one MutatingWebhookConfiguration).
	Client kubernetes.Interface
	// WebhookConfig is the name of the MutatingWebhookConfiguration.
	WebhookConfig string
	// DNSNames of the Service: name.namespace.svc (and variants).
	DNSNames []string
	// Validity of each CA and certificate; rotated at two thirds of it.
	Validity time.Duration
	// Reconcile is how often the caBundle is checked.
	Reconcile time.Duration
	Log       *slog.Logger
	Now       func() time.Time

	mu      sync.Mutex
	current *issued
}

type issued struct {
	ca      *x509.Certificate
	caPEM   []byte
	cert    tls.Certificate
	renewAt time.Time
}

// GetCertificate is tls.Config.GetCertificate.
func (s *SelfManaged) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.current == nil {
		return nil, errors.New("certs: no serving certificate yet")
	}
	return &s.current.cert, nil
}

// Ready reports whether a certificate is served and its CA published.
func (s *SelfManaged) Ready() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.current != nil
}

// Start issues the first certificate and publishes its CA; Run then keeps
// it published and rotates it.
func (s *SelfManaged) Start(ctx context.Context) error {
	return s.Rotate(ctx)
}

// Run reconciles the caBundle every Reconcile and rotates when due, until
// ctx is done.
func (s *SelfManaged) Run(ctx context.Context) error {
	t := time.NewTicker(s.Reconcile)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		s.mu.Lock()
		due := s.current == nil || !s.Now().Before(s.current.renewAt)
		s.mu.Unlock()
		var err error
		if due {
			err = s.Rotate(ctx)
		} else {
			err = s.publish(ctx)
		}
		if err != nil {
			s.Log.Warn("serving certificate: retrying at the next reconcile", slog.String("error", err.Error()))
		}
	}
}

// Rotate issues a new CA and certificate, publishes the CA, and only then
// serves the certificate.
func (s *SelfManaged) Rotate(ctx context.Context) error {
	next, err := s.issue()
	if err != nil {
		return err
	}
	s.mu.Lock()
	prev := s.current
	s.mu.Unlock()
	if err := s.merge(ctx, next.caPEM); err != nil {
		return err
	}
	s.mu.Lock()
	s.current = next
	s.mu.Unlock()
	if prev == nil {
		s.Log.Info("serving certificate issued and its CA published", slog.String("webhookConfiguration", s.WebhookConfig), slog.Time("renewAt", next.renewAt))
	} else {
		s.Log.Info("serving certificate rotated", slog.String("webhookConfiguration", s.WebhookConfig), slog.Time("renewAt", next.renewAt))
	}
	return nil
}

// publish makes sure the current CA is in the bundle.
func (s *SelfManaged) publish(ctx context.Context) error {
	s.mu.Lock()
	cur := s.current
	s.mu.Unlock()
	if cur == nil {
		return nil
	}
	return s.merge(ctx, cur.caPEM)
}

// merge adds caPEM to every webhook's caBundle, drops expired and
// unparsable certificates, and writes the configuration back when that
// changed it (retrying on conflicts with other replicas).
func (s *SelfManaged) merge(ctx context.Context, caPEM []byte) error {
	api := s.Client.AdmissionregistrationV1().MutatingWebhookConfigurations()
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		cfg, err := api.Get(ctx, s.WebhookConfig, metav1.GetOptions{})
		if err != nil {
			return fmt.Errorf("certs: read MutatingWebhookConfiguration %s: %w", s.WebhookConfig, err)
		}
		changed := false
		for i := range cfg.Webhooks {
			b := MergeBundle(cfg.Webhooks[i].ClientConfig.CABundle, caPEM, s.Now())
			if !bytes.Equal(b, cfg.Webhooks[i].ClientConfig.CABundle) {
				cfg.Webhooks[i].ClientConfig.CABundle = b
				changed = true
			}
		}
		if len(cfg.Webhooks) == 0 {
			return fmt.Errorf("certs: MutatingWebhookConfiguration %s has no webhooks", s.WebhookConfig)
		}
		if !changed {
			return nil
		}
		_, err = api.Update(ctx, cfg, metav1.UpdateOptions{})
		if err != nil && !apierrors.IsConflict(err) {
			return fmt.Errorf("certs: update the caBundle of MutatingWebhookConfiguration %s: %w", s.WebhookConfig, err)
		}
		return err
	})
}

// MergeBundle returns bundle plus add, without expired or unparsable
// certificates and without duplicates, in a stable order (existing first).
func MergeBundle(bundle, add []byte, now time.Time) []byte {
	var out bytes.Buffer
	seen := map[string]bool{}
	for _, b := range [][]byte{bundle, add} {
		for rest := b; ; {
			var blk *pem.Block
			blk, rest = pem.Decode(rest)
			if blk == nil {
				break
			}
			if blk.Type != "CERTIFICATE" || seen[string(blk.Bytes)] {
				continue
			}
			c, err := x509.ParseCertificate(blk.Bytes)
			if err != nil || now.After(c.NotAfter) {
				continue
			}
			seen[string(blk.Bytes)] = true
			_ = pem.Encode(&out, &pem.Block{Type: "CERTIFICATE", Bytes: blk.Bytes})
		}
	}
	return out.Bytes()
}

func (s *SelfManaged) issue() (*issued, error) {
	now := s.Now()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	caTmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: "fedtoken-injector CA " + now.UTC().Format(time.RFC3339)},
		NotBefore:             now.Add(-5 * time.Minute),
		NotAfter:              now.Add(s.Validity),
		IsCA:                  true,
		BasicConstraintsValid: true,
		MaxPathLenZero:        true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return nil, err
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		return nil, err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	leafTmpl := &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{CommonName: s.DNSNames[0]},
		DNSNames:     s.DNSNames,
		NotBefore:    now.Add(-5 * time.Minute),
		NotAfter:     now.Add(s.Validity),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	leafDER, err := x509.CreateCertificate(rand.Reader, leafTmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		return nil, err
	}
	leaf, err := x509.ParseCertificate(leafDER)
	if err != nil {
		return nil, err
	}
	return &issued{
		ca:      ca,
		caPEM:   pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}),
		cert:    tls.Certificate{Certificate: [][]byte{leafDER}, PrivateKey: key, Leaf: leaf},
		renewAt: now.Add(s.Validity * 2 / 3),
	}, nil
}

func serial() *big.Int {
	n, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	return n
}
