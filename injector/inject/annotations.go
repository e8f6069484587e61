package inject

import (
	"fmt"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

// Prefix is the prefix of every annotation the injector reads or writes.
const Prefix = "fedtoken.dev/"

// The annotations. Each one is described once, in [Annotations]; the
// reference in docs/kubernetes.md is generated from that table and checked
// by a test.
const (
	AnnotationInject         = Prefix + "inject"
	AnnotationConfig         = Prefix + "config"
	AnnotationBaseURLEnv     = Prefix + "base-url-env"
	AnnotationContainers     = Prefix + "containers"
	AnnotationAudience       = Prefix + "audience"
	AnnotationTokenLifetime  = Prefix + "token-expiration-seconds"
	AnnotationProxyPort      = Prefix + "proxy-port"
	AnnotationHealthPort     = Prefix + "health-port"
	AnnotationSidecarMode    = Prefix + "sidecar-mode"
	AnnotationCPURequest     = Prefix + "cpu-request"
	AnnotationMemoryRequest  = Prefix + "memory-request"
	AnnotationCPULimit       = Prefix + "cpu-limit"
	AnnotationMemoryLimit    = Prefix + "memory-limit"
	AnnotationStatus         = Prefix + "status"
	StatusInjected           = "injected"
	defaultProxyPort         = 8181
	defaultHealthPort        = 9902
	defaultTokenLifetime     = 3600
	minTokenLifetime         = 600 // the TokenRequest API's minimum
	SidecarModeNative        = "native"
	SidecarModeContainer     = "container"
	defaultConfigKeyFallback = "opencode.json"
)

// Annotation is one entry of the annotation reference.
type Annotation struct {
	Key     string
	Example string // alternatives separated by " or "
	Default string
	Effect  string // what it changes in the pod
}

// Annotations is the annotation reference, in the order the docs list it.
var Annotations = []Annotation{
	{AnnotationInject, "miaou-prod,miaou-staging", "(none: the pod is not touched)",
		"Turns injection on. Comma-separated provider ids of the config file; each gets a projected ServiceAccount token (audience: the provider's issuer) mounted in the sidecar at the provider's `tokenPath`, and a proxy port."},
	{AnnotationConfig, "fedtoken-config or fedtoken-config/opencode.json", "the injector's `--config-map` (chart: first of `configMaps`), key: the ConfigMap's only key",
		"The ConfigMap, in the pod's namespace, holding the sidecar's config (an opencode.json or native file). Mounted read-only at /etc/fedtoken in the sidecar only; the injector reads it at admission to find each provider's issuer and token path. Only names the injector is allowed to read (`--config-map`) are accepted."},
	{AnnotationBaseURLEnv, "OPENAI_BASE_URL or miaou-prod=OPENAI_BASE_URL,miaou-staging=STAGING_URL", "`FEDTOKEN_BASE_URL_<ID>` (id upper-cased, other characters `_`)",
		"Name of the environment variable that receives each provider's proxy URL (`http://127.0.0.1:<port>`) in the app containers. A bare name is allowed with one provider only. A variable the container already sets is left as it is."},
	{AnnotationContainers, "runner,worker", "every entry of `containers` (init containers get none)",
		"The app containers that get the base-URL variables (and, in container mode, the quit file)."},
	{AnnotationAudience, "https://idp.example.com or miaou-prod=https://a,miaou-staging=https://b", "the provider's issuer",
		"The audience of the projected token instead of the issuer (IdPs that expect their client id or a fixed audience)."},
	{AnnotationTokenLifetime, "7200", strconv.Itoa(defaultTokenLifetime),
		"expirationSeconds of every projected token (at least 600); the kubelet rewrites the file at ~80 % of it."},
	{AnnotationProxyPort, "18181", strconv.Itoa(defaultProxyPort),
		"Loopback port of the first provider's proxy; the next providers get the following ports, in annotation order."},
	{AnnotationHealthPort, "19902", strconv.Itoa(defaultHealthPort),
		"Port of the sidecar's probe listener (/healthz, /readyz, /metrics), which the kubelet probes."},
	{AnnotationSidecarMode, SidecarModeContainer, "native on Kubernetes ≥ 1.29 (read from the API server), else container",
		"`native`: the sidecar is the first init container with restartPolicy Always and a startup probe, so the app starts once a token is held and Jobs complete. `container`: an ordinary first container; it exits when an app creates the file named by FEDTOKEN_QUIT_FILE (a shared emptyDir at /var/run/fedtoken)."},
	{AnnotationCPURequest, "20m", "the injector's `--cpu-request` (10m)", "The sidecar's CPU request."},
	{AnnotationMemoryRequest, "48Mi", "the injector's `--memory-request` (32Mi)", "The sidecar's memory request."},
	{AnnotationCPULimit, "200m", "the injector's `--cpu-limit` (none)", "The sidecar's CPU limit (`0` removes it)."},
	{AnnotationMemoryLimit, "128Mi", "the injector's `--memory-limit` (64Mi)", "The sidecar's memory limit (`0` removes it)."},
	{AnnotationStatus, StatusInjected, "(written by the injector)",
		"Set by the injector on the pods it changed. A pod that has it, or already has a container named `fedtoken`, is admitted unchanged: injection is idempotent."},
}

// options are a pod's annotations, parsed.
type options struct {
	providers     []string
	configMap     string
	configKey     string // "" = the only key
	baseURLEnv    map[string]string
	containers    []string
	audience      map[string]string
	tokenLifetime int64
	proxyPort     int
	healthPort    int
	mode          string // "" = from the server version
	resources     corev1.ResourceRequirements
}

// parseOptions reads the annotations; every problem is reported with the
// annotation it is in.
func parseOptions(ann map[string]string, d Defaults) (options, error) {
	o := options{
		configMap: d.configMap(), tokenLifetime: defaultTokenLifetime,
		proxyPort: defaultProxyPort, healthPort: defaultHealthPort,
		resources: *d.Resources.DeepCopy(),
	}
	var errs []string
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Sprintf("annotation %s: %s", key, fmt.Sprintf(format, args...)))
	}
	o.providers = splitList(ann[AnnotationInject])
	if len(o.providers) == 0 {
		bad(AnnotationInject, "no provider id: list the providers to inject, e.g. %s: miaou", AnnotationInject)
	}
	seen := map[string]bool{}
	for _, id := range o.providers {
		if seen[id] {
			bad(AnnotationInject, "provider %q listed twice", id)
		}
		seen[id] = true
	}
	if v, ok := ann[AnnotationConfig]; ok {
		name, key, _ := strings.Cut(strings.TrimSpace(v), "/")
		if name == "" {
			bad(AnnotationConfig, "empty: name a ConfigMap, e.g. fedtoken-config or fedtoken-config/opencode.json")
		}
		o.configMap, o.configKey = name, key
	}
	var err error
	if o.baseURLEnv, err = perProvider(ann[AnnotationBaseURLEnv], o.providers); err != nil {
		bad(AnnotationBaseURLEnv, "%v", err)
	}
	for id, name := range o.baseURLEnv {
		if !validEnvName(name) {
			bad(AnnotationBaseURLEnv, "%q (provider %s) is not a valid environment variable name", name, id)
		}
	}
	o.containers = splitList(ann[AnnotationContainers])
	if o.audience, err = perProvider(ann[AnnotationAudience], o.providers); err != nil {
		bad(AnnotationAudience, "%v", err)
	}
	if v, ok := ann[AnnotationTokenLifetime]; ok {
		n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		if err != nil || n < minTokenLifetime {
			bad(AnnotationTokenLifetime, "%q: want a whole number of seconds, at least %d", v, minTokenLifetime)
		}
		o.tokenLifetime = n
	}
	for key, dst := range map[string]*int{AnnotationProxyPort: &o.proxyPort, AnnotationHealthPort: &o.healthPort} {
		if v, ok := ann[key]; ok {
			n, err := strconv.Atoi(strings.TrimSpace(v))
			if err != nil || n < 1 || n > 65535 {
				bad(key, "%q: want a port number 1-65535", v)
			}
			*dst = n
		}
	}
	if o.proxyPort+len(o.providers)-1 > 65535 {
		bad(AnnotationProxyPort, "%d providers from port %d go past 65535", len(o.providers), o.proxyPort)
	}
	if v, ok := ann[AnnotationSidecarMode]; ok {
		o.mode = strings.TrimSpace(v)
		if o.mode != SidecarModeNative && o.mode != SidecarModeContainer {
			bad(AnnotationSidecarMode, "%q: want %s or %s", v, SidecarModeNative, SidecarModeContainer)
		}
	}
	for _, r := range []struct {
		key  string
		list *corev1.ResourceList
		name corev1.ResourceName
	}{
		{AnnotationCPURequest, &o.resources.Requests, corev1.ResourceCPU},
		{AnnotationMemoryRequest, &o.resources.Requests, corev1.ResourceMemory},
		{AnnotationCPULimit, &o.resources.Limits, corev1.ResourceCPU},
		{AnnotationMemoryLimit, &o.resources.Limits, corev1.ResourceMemory},
	} {
		v, ok := ann[r.key]
		if !ok {
			continue
		}
		q, err := resource.ParseQuantity(strings.TrimSpace(v))
		if err != nil || q.Sign() < 0 {
			bad(r.key, "%q is not a quantity (e.g. 100m, 64Mi)", v)
			continue
		}
		if *r.list == nil {
			*r.list = corev1.ResourceList{}
		}
		if q.IsZero() {
			delete(*r.list, r.name)
		} else {
			(*r.list)[r.name] = q
		}
	}
	if len(errs) > 0 {
		return o, &RefusedError{Reasons: errs}
	}
	return o, nil
}

// perProvider parses "VALUE" (one provider only) or "id=VALUE,id=VALUE".
func perProvider(v string, providers []string) (map[string]string, error) {
	out := map[string]string{}
	v = strings.TrimSpace(v)
	if v == "" {
		return out, nil
	}
	if !strings.Contains(v, "=") || strings.Contains(v, "://") && !strings.Contains(strings.SplitN(v, "://", 2)[0], "=") {
		if len(providers) != 1 {
			return nil, fmt.Errorf("%q names no provider but %d are injected: write id=value,id=value", v, len(providers))
		}
		out[providers[0]] = v
		return out, nil
	}
	for _, kv := range splitList(v) {
		id, val, ok := strings.Cut(kv, "=")
		id, val = strings.TrimSpace(id), strings.TrimSpace(val)
		if !ok || id == "" || val == "" {
			return nil, fmt.Errorf("%q: want id=value", kv)
		}
		if !contains(providers, id) {
			return nil, fmt.Errorf("provider %q is not in %s", id, AnnotationInject)
		}
		out[id] = val
	}
	return out, nil
}

func splitList(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func validEnvName(s string) bool {
	if s == "" || s[0] >= '0' && s[0] <= '9' {
		return false
	}
	for _, r := range s {
		if !(r == '_' || r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

// DefaultBaseURLEnv is the variable that receives provider id's proxy URL
// when fedtoken.dev/base-url-env does not name one.
func DefaultBaseURLEnv(id string) string {
	b := []byte("FEDTOKEN_BASE_URL_")
	for _, r := range strings.ToUpper(id) {
		if r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			b = append(b, byte(r))
		} else {
			b = append(b, '_')
		}
	}
	return string(b)
}

// RefusedError says why a pod that asked for injection was refused; every
// reason names the annotation, provider or field to fix.
type RefusedError struct{ Reasons []string }

func (e *RefusedError) Error() string {
	return "fedtoken injection refused: " + strings.Join(e.Reasons, "; ")
}
