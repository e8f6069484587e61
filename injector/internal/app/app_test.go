package app

import (
	"bytes"
	"context"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	k8sversion "k8s.io/apimachinery/pkg/version"
	fakediscovery "k8s.io/client-go/discovery/fake"
	"k8s.io/client-go/kubernetes/fake"
)

func TestSupportsNativeSidecars(t *testing.T) {
	for _, tc := range []struct {
		major, minor string
		want         bool
	}{
		{"1", "28", false}, {"1", "29", true}, {"1", "34", true}, {"1", "30+", true}, {"1", "27+", false}, {"2", "0", true},
	} {
		got, err := SupportsNativeSidecars(tc.major, tc.minor)
		if err != nil || got != tc.want {
			t.Errorf("%s.%s: %v %v, want %v", tc.major, tc.minor, got, err, tc.want)
		}
	}
	if _, err := SupportsNativeSidecars("1", "x"); err == nil || !strings.Contains(err.Error(), "--native-sidecars") {
		t.Errorf("non-numeric version: %v", err)
	}
}

// --native-sidecars auto asks the API server.
func TestNativeFromServerVersion(t *testing.T) {
	for minor, want := range map[string]bool{"28": false, "29": true} {
		client := fake.NewClientset()
		client.Discovery().(*fakediscovery.FakeDiscovery).FakedServerVersion = &k8sversion.Info{Major: "1", Minor: minor}
		f := &Flags{NativeSidecars: "auto"}
		got, err := f.native(client)
		if err != nil || got != want {
			t.Errorf("1.%s: %v %v, want %v", minor, got, err, want)
		}
	}
	f := &Flags{NativeSidecars: "false"}
	if got, _ := f.native(nil); got {
		t.Error("--native-sidecars false ignored")
	}
}

func TestFlagsDefaults(t *testing.T) {
	f := &Flags{SidecarImage: "img", PullPolicy: "Never", ConfigMaps: "a, b", CPURequest: "10m", MemoryRequest: "32Mi", MemoryLimit: "64Mi"}
	d, err := f.Defaults()
	if err != nil {
		t.Fatal(err)
	}
	if d.Image != "img" || d.PullPolicy != corev1.PullNever || strings.Join(d.ConfigMaps, "|") != "a|b" {
		t.Errorf("defaults %+v", d)
	}
	if q := d.Resources.Limits[corev1.ResourceMemory]; q.Cmp(resource.MustParse("64Mi")) != 0 {
		t.Errorf("memory limit %v", q)
	}
	if _, ok := d.Resources.Limits[corev1.ResourceCPU]; ok {
		t.Error("a CPU limit without --cpu-limit")
	}
	for _, bad := range []Flags{
		{PullPolicy: "Never"},
		{SidecarImage: "img", PullPolicy: "Sometimes"},
		{SidecarImage: "img", PullPolicy: "Never", CPURequest: "fast"},
	} {
		if _, err := bad.Defaults(); err == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
}

func TestRunFlags(t *testing.T) {
	var out, errb bytes.Buffer
	env := Env{Stdout: &out, Stderr: &errb, Getenv: func(string) string { return "" }}
	if err := Run(context.Background(), env, []string{"--version"}); err != nil || !strings.HasPrefix(out.String(), "fedtoken-injector ") {
		t.Errorf("--version: %v %q", err, out.String())
	}
	if err := Run(context.Background(), env, []string{"--help"}); err != nil || !strings.Contains(errb.String(), "-sidecar-image") {
		t.Errorf("--help: %v", err)
	}
	if err := Run(context.Background(), env, nil); err == nil || !strings.Contains(err.Error(), "--sidecar-image is required") {
		t.Errorf("no image: %v", err)
	}
	if err := Run(context.Background(), env, []string{"--sidecar-image", "x", "--certs", "files", "--cert-dir", t.TempDir(), "--kubeconfig", "/nonexistent"}); err == nil || !strings.Contains(err.Error(), "--kubeconfig /nonexistent") {
		t.Errorf("bad kubeconfig: %v", err)
	}
}
