package certs_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"log/slog"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/fedtoken/fedtoken/injector/internal/certs"
)

const dnsName = "fedtoken-injector.fedtoken-system.svc"

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func webhookConfig() *admissionregistrationv1.MutatingWebhookConfiguration {
	return &admissionregistrationv1.MutatingWebhookConfiguration{
		ObjectMeta: metav1.ObjectMeta{Name: "fedtoken-injector"},
		Webhooks: []admissionregistrationv1.MutatingWebhook{
			{Name: "inject.fedtoken.dev"}, {Name: "inject-other.fedtoken.dev"},
		},
	}
}

func bundles(t *testing.T, client *fake.Clientset) [][]byte {
	t.Helper()
	cfg, err := client.AdmissionregistrationV1().MutatingWebhookConfigurations().Get(context.Background(), "fedtoken-injector", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var out [][]byte
	for _, w := range cfg.Webhooks {
		out = append(out, w.ClientConfig.CABundle)
	}
	return out
}

// handshake serves sm's certificate on loopback and connects as the API
// server does: verifying against the published caBundle, for the
// Service's DNS name.
func handshake(t *testing.T, sm *certs.SelfManaged, bundle []byte) error {
	t.Helper()
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{GetCertificate: sm.GetCertificate})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err == nil {
			_ = c.(*tls.Conn).Handshake()
			c.Close()
		}
	}()
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(bundle) {
		t.Fatal("caBundle holds no certificate")
	}
	c, err := tls.Dial("tcp", ln.Addr().String(), &tls.Config{RootCAs: pool, ServerName: dnsName})
	if err == nil {
		c.Close()
	}
	return err
}

func count(bundle []byte) int {
	n := 0
	for rest := bundle; ; n++ {
		var b *pem.Block
		if b, rest = pem.Decode(rest); b == nil {
			return n
		}
	}
}

func TestSelfManagedPublishesAndRotates(t *testing.T) {
	client := fake.NewClientset(webhookConfig())
	clk := &clock{t: time.Now()}
	sm := &certs.SelfManaged{
		Client: client, WebhookConfig: "fedtoken-injector", DNSNames: []string{dnsName},
		Validity: 3 * time.Hour, Reconcile: time.Hour, Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: clk.Now,
	}
	if sm.Ready() {
		t.Fatal("ready before Start")
	}
	ctx := context.Background()
	if err := sm.Start(ctx); err != nil {
		t.Fatal(err)
	}
	b := bundles(t, client)
	if count(b[0]) != 1 || string(b[0]) != string(b[1]) {
		t.Fatalf("after start: want one CA in every webhook's bundle, got %d and %d", count(b[0]), count(b[1]))
	}
	if err := handshake(t, sm, b[0]); err != nil {
		t.Fatalf("the API server would not trust the served certificate: %v", err)
	}
	first := b[0]

	// Rotation: old and new CA both trusted, the new certificate served.
	if err := sm.Rotate(ctx); err != nil {
		t.Fatal(err)
	}
	b = bundles(t, client)
	if count(b[0]) != 2 {
		t.Fatalf("after rotation: %d CAs in the bundle, want old and new", count(b[0]))
	}
	if err := handshake(t, sm, b[0]); err != nil {
		t.Fatalf("after rotation: %v", err)
	}
	if err := handshake(t, sm, first); err == nil {
		t.Fatal("after rotation the old CA alone still verifies the served certificate: nothing rotated")
	}

	// Two hours on, a third CA; past the first two's expiry, the next
	// merge drops them.
	clk.Add(2 * time.Hour)
	if err := sm.Rotate(ctx); err != nil {
		t.Fatal(err)
	}
	if n := count(bundles(t, client)[0]); n != 3 {
		t.Fatalf("third rotation: %d CAs, want 3", n)
	}
	clk.Add(time.Hour + time.Minute)
	if err := sm.Rotate(ctx); err != nil {
		t.Fatal(err)
	}
	if n := count(bundles(t, client)[0]); n != 2 {
		t.Fatalf("after the first two CAs expired: %d CAs, want 2 (third and fourth)", n)
	}
}

// A caBundle reset by someone else (helm upgrade, kubectl apply) is
// repaired by the reconcile loop.
func TestSelfManagedRepairsBundle(t *testing.T) {
	client := fake.NewClientset(webhookConfig())
	sm := &certs.SelfManaged{
		Client: client, WebhookConfig: "fedtoken-injector", DNSNames: []string{dnsName},
		Validity: time.Hour, Reconcile: 10 * time.Millisecond, Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: time.Now,
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := sm.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := client.AdmissionregistrationV1().MutatingWebhookConfigurations().Update(ctx, webhookConfig(), metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- sm.Run(ctx) }()
	deadline := time.Now().Add(10 * time.Second)
	for count(bundles(t, client)[0]) != 1 {
		if time.Now().After(deadline) {
			t.Fatal("the emptied caBundle was not repaired within 10s")
		}
		time.Sleep(10 * time.Millisecond) // polling the fake API, not synchronising
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestMergeBundle(t *testing.T) {
	now := time.Now()
	a, b := selfSigned(t, now.Add(time.Hour)), selfSigned(t, now.Add(time.Hour))
	expired := selfSigned(t, now.Add(-time.Minute))
	got := certs.MergeBundle(append(append([]byte("junk\n"), expired...), a...), append(a, b...), now)
	if count(got) != 2 || string(got) != string(a)+string(b) {
		t.Fatalf("merge = %d certs:\n%s\nwant a then b", count(got), got)
	}
}

func selfSigned(t *testing.T, notAfter time.Time) []byte {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: "t"}, NotBefore: notAfter.Add(-2 * time.Hour), NotAfter: notAfter, IsCA: true, BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

func writePair(t *testing.T, dir, cn string) {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: cn}, DNSNames: []string{cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}}
	der, _ := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	kb, _ := x509.MarshalECPrivateKey(key)
	if err := os.WriteFile(filepath.Join(dir, "tls.crt"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "tls.key"), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600); err != nil {
		t.Fatal(err)
	}
}

// The cert-manager path: a renewed pair in the directory is served
// without a restart.
func TestFilesReload(t *testing.T) {
	dir := t.TempDir()
	f := &certs.Files{Dir: dir, CheckEvery: time.Minute}
	clk := &clock{t: time.Now()}
	f.Now = clk.Now
	if err := f.Load(); err == nil {
		t.Fatal("Load of an empty directory succeeded")
	}
	writePair(t, dir, "one.example")
	if err := f.Load(); err != nil {
		t.Fatal(err)
	}
	c, _ := f.GetCertificate(nil)
	if c.Leaf == nil || c.Leaf.Subject.CommonName != "one.example" {
		t.Fatalf("served %v", c.Leaf)
	}
	writePair(t, dir, "two.example")
	// Make sure the size or time differs even on coarse file systems.
	later := time.Now().Add(time.Minute)
	_ = os.Chtimes(filepath.Join(dir, "tls.crt"), later, later)
	clk.Add(2 * time.Minute)
	c, err := f.GetCertificate(nil)
	if err != nil || c.Leaf.Subject.CommonName != "two.example" {
		t.Fatalf("after renewal served %v (%v), want two.example", c.Leaf.Subject, err)
	}
}
