// Package inject decides what fedtoken-injector does to a pod: from the
// pod's fedtoken.dev/* annotations and the provider config the pod refers
// to, it builds the JSON patch that adds, per provider, a projected
// ServiceAccount token whose audience is the provider's issuer, the
// fedtoken-sidecar (native sidecar or ordinary container), its restricted
// security context, probes and resources, and the environment pointing the
// app containers at the sidecar's proxies. It does no I/O: the webhook
// hands it the pod and the ConfigMap's data.
package inject

import (
	"fmt"
	"path"
	"slices"
	"sort"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	"github.com/fedtoken/fedtoken/core/config"
	"github.com/fedtoken/fedtoken/core/subject"
)

// SidecarName is the name of the injected container. A pod that already
// has a container of that name (a kustomize overlay from deploy/, or an
// earlier injection) is left alone.
const SidecarName = "fedtoken"

// Paths and names inside the injected pod.
const (
	ConfigMountPath   = "/etc/fedtoken"
	SharedMountPath   = "/var/run/fedtoken"
	QuitFile          = SharedMountPath + "/done"
	QuitFileEnv       = "FEDTOKEN_QUIT_FILE"
	configVolume      = "fedtoken-config"
	sharedVolume      = "fedtoken-shared"
	tokenVolumePrefix = "fedtoken-token-"
	probePortName     = "fedtoken-probe"
)

// Defaults are the injector-wide settings (its flags; the chart's values).
type Defaults struct {
	// Image is the fedtoken-sidecar image.
	Image      string
	PullPolicy corev1.PullPolicy
	// ConfigMaps are the ConfigMap names a pod may name in
	// fedtoken.dev/config; the first is the default. The chart grants the
	// injector "get" on exactly these names.
	ConfigMaps []string
	// NativeSidecars: the API server supports native sidecars (>= 1.29).
	NativeSidecars bool
	// Resources of the sidecar, before the pod's annotations.
	Resources corev1.ResourceRequirements
}

// DefaultResources are the sidecar's resources unless the injector's flags
// or a pod's annotations say otherwise (the same as deploy/).
func DefaultResources() corev1.ResourceRequirements {
	return corev1.ResourceRequirements{
		Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("10m"), corev1.ResourceMemory: resource.MustParse("32Mi")},
		Limits:   corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("64Mi")},
	}
}

func (d Defaults) configMap() string {
	if len(d.ConfigMaps) == 0 {
		return ""
	}
	return d.ConfigMaps[0]
}

// Wanted reports whether the pod asks for injection.
func Wanted(pod *corev1.Pod) bool {
	_, ok := pod.Annotations[AnnotationInject]
	return ok
}

// AlreadyInjected reports whether the pod carries the sidecar already (or
// the injector's status annotation): such a pod is admitted unchanged.
func AlreadyInjected(pod *corev1.Pod) bool {
	if pod.Annotations[AnnotationStatus] == StatusInjected {
		return true
	}
	for _, c := range slices.Concat(pod.Spec.InitContainers, pod.Spec.Containers) {
		if c.Name == SidecarName {
			return true
		}
	}
	return false
}

// ConfigRef is the ConfigMap a pod's sidecar reads its config from.
type ConfigRef struct {
	Name string
	Key  string // "" = the ConfigMap's only key
}

// Ref parses the pod's fedtoken.dev/config (or takes the default) and
// checks the injector may read that ConfigMap.
func (d Defaults) Ref(pod *corev1.Pod) (ConfigRef, error) {
	o, err := parseOptions(pod.Annotations, d)
	if err != nil {
		return ConfigRef{}, err
	}
	if o.configMap == "" {
		return ConfigRef{}, &RefusedError{Reasons: []string{fmt.Sprintf("annotation %s: not set and the injector has no default ConfigMap", AnnotationConfig)}}
	}
	if !slices.Contains(d.ConfigMaps, o.configMap) {
		return ConfigRef{}, &RefusedError{Reasons: []string{fmt.Sprintf("annotation %s: ConfigMap %q is not one the injector may read (%s); add it to the chart's injector.configMaps",
			AnnotationConfig, o.configMap, strings.Join(d.ConfigMaps, ", "))}}
	}
	return ConfigRef{Name: o.configMap, Key: o.configKey}, nil
}

// Patch is a JSON patch (RFC 6902).
type Patch []Op

// Op is one JSON patch operation; the injector only adds.
type Op struct {
	Op    string `json:"op"`
	Path  string `json:"path"`
	Value any    `json:"value"`
}

// Plan builds the patch for a pod that wants injection, given the data of
// the ConfigMap its fedtoken.dev/config names. It never changes what is
// already in the pod: it appends volumes, inserts the sidecar, appends
// environment variables and sets the status annotation. Any problem
// refuses the whole injection with a *RefusedError.
func (d Defaults) Plan(pod *corev1.Pod, ref ConfigRef, data map[string]string) (Patch, error) {
	o, err := parseOptions(pod.Annotations, d)
	if err != nil {
		return nil, err
	}
	var reasons []string
	refuse := func(format string, args ...any) { reasons = append(reasons, fmt.Sprintf(format, args...)) }
	where := "ConfigMap " + pod.Namespace + "/" + ref.Name

	key := ref.Key
	if key == "" {
		if len(data) != 1 {
			keys := sortedKeys(data)
			return nil, &RefusedError{Reasons: []string{fmt.Sprintf("%s has %d keys (%s): name one in %s, e.g. %s/%s",
				where, len(data), strings.Join(keys, ", "), AnnotationConfig, ref.Name, firstOr(keys, defaultConfigKeyFallback))}}
		}
		key = sortedKeys(data)[0]
	}
	raw, ok := data[key]
	if !ok {
		return nil, &RefusedError{Reasons: []string{fmt.Sprintf("%s has no key %q (keys: %s)", where, key, strings.Join(sortedKeys(data), ", "))}}
	}
	file, err := config.Parse([]byte(raw), key)
	if err != nil {
		return nil, &RefusedError{Reasons: []string{fmt.Sprintf("%s key %s: %v", where, key, err)}}
	}

	// One projected volume per token directory; audiences from the issuers.
	type token struct{ file, audience string }
	dirs := map[string][]token{}
	var providers []config.Provider
	for _, id := range o.providers {
		p, err := file.Provider(id)
		if err != nil {
			refuse("annotation %s: %v", AnnotationInject, err)
			continue
		}
		providers = append(providers, *p)
		src := p.SubjectTokenSource
		if src == nil || src.Type != subject.TypeKubernetesSA {
			refuse("provider %s in %s: subjectTokenSource is %s; the injector projects ServiceAccount tokens, so it must be {\"type\": \"kubernetes_sa\"}", id, where, src)
			continue
		}
		aud := o.audience[id]
		if aud == "" {
			aud = p.Issuer
		}
		if aud == "" {
			refuse("provider %s in %s has no issuer to take the token's audience from: set %s", id, where, AnnotationAudience)
			continue
		}
		dir, name := path.Split(src.TokenPath)
		dir = path.Clean(dir)
		if dir == ConfigMountPath || dir == SharedMountPath || name == "" {
			refuse("provider %s in %s: tokenPath %s clashes with the sidecar's %s or %s", id, where, src.TokenPath, ConfigMountPath, SharedMountPath)
			continue
		}
		dup := false
		for _, t := range dirs[dir] {
			if t.file == name {
				dup = true
				if t.audience != aud {
					refuse("providers in %s share tokenPath %s but need audiences %s and %s: give each its own tokenPath", where, src.TokenPath, t.audience, aud)
				}
			}
		}
		if !dup {
			dirs[dir] = append(dirs[dir], token{name, aud})
		}
	}

	mode := o.mode
	if mode == "" {
		mode = SidecarModeContainer
		if d.NativeSidecars {
			mode = SidecarModeNative
		}
	}

	// App containers: named ones must exist; ports must not clash.
	apps := appContainers(pod, o.containers, &reasons)
	ports := map[int]string{}
	for i := range o.providers {
		ports[o.proxyPort+i] = "the proxy of " + o.providers[i]
	}
	if _, clash := ports[o.healthPort]; clash {
		refuse("annotation %s: port %d is also a proxy port (%s from %d)", AnnotationHealthPort, o.healthPort, AnnotationProxyPort, o.proxyPort)
	}
	ports[o.healthPort] = "the sidecar's probes"
	for _, c := range slices.Concat(pod.Spec.InitContainers, pod.Spec.Containers) {
		for _, p := range c.Ports {
			if what, ok := ports[int(p.ContainerPort)]; ok {
				refuse("container %s uses port %d, which the sidecar needs for %s: set %s or %s", c.Name, p.ContainerPort, what, AnnotationProxyPort, AnnotationHealthPort)
			}
		}
	}
	names := map[string]bool{}
	for _, v := range pod.Spec.Volumes {
		names[v.Name] = true
	}
	for _, v := range []string{configVolume, sharedVolume} {
		if names[v] {
			refuse("the pod already has a volume named %s, which the injector adds", v)
		}
	}
	for n := range names {
		if strings.HasPrefix(n, tokenVolumePrefix) {
			refuse("the pod already has a volume named %s; names starting %s are the injector's", n, tokenVolumePrefix)
		}
	}
	if len(reasons) > 0 {
		return nil, &RefusedError{Reasons: reasons}
	}

	// Volumes.
	var volumes []corev1.Volume
	var mounts []corev1.VolumeMount
	dirNames := sortedKeys(dirs)
	for i, dir := range dirNames {
		vol := corev1.Volume{Name: tokenVolumePrefix + strconv.Itoa(i)}
		vol.Projected = &corev1.ProjectedVolumeSource{}
		for _, t := range dirs[dir] {
			vol.Projected.Sources = append(vol.Projected.Sources, corev1.VolumeProjection{
				ServiceAccountToken: &corev1.ServiceAccountTokenProjection{Path: t.file, Audience: t.audience, ExpirationSeconds: ptr.To(o.tokenLifetime)},
			})
		}
		volumes = append(volumes, vol)
		mounts = append(mounts, corev1.VolumeMount{Name: vol.Name, MountPath: dir, ReadOnly: true})
	}
	volumes = append(volumes, corev1.Volume{Name: configVolume, VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
		LocalObjectReference: corev1.LocalObjectReference{Name: ref.Name}}}})
	mounts = append(mounts, corev1.VolumeMount{Name: configVolume, MountPath: ConfigMountPath, ReadOnly: true})
	if mode == SidecarModeContainer {
		volumes = append(volumes, corev1.Volume{Name: sharedVolume, VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{Medium: corev1.StorageMediumMemory}}})
		mounts = append(mounts, corev1.VolumeMount{Name: sharedVolume, MountPath: SharedMountPath})
	}

	// The sidecar.
	var proxies []string
	for i, id := range o.providers {
		proxies = append(proxies, id+"=127.0.0.1:"+strconv.Itoa(o.proxyPort+i))
	}
	sidecar := corev1.Container{
		Name:            SidecarName,
		Image:           d.Image,
		ImagePullPolicy: d.PullPolicy,
		Env: []corev1.EnvVar{
			{Name: "FEDTOKEN_CONFIG", Value: path.Join(ConfigMountPath, key)},
			{Name: "FEDTOKEN_SIDECAR_PROVIDERS", Value: strings.Join(o.providers, ",")},
			{Name: "FEDTOKEN_SIDECAR_PROXY", Value: strings.Join(proxies, ",")},
			{Name: "FEDTOKEN_SIDECAR_HEALTH_ADDR", Value: ":" + strconv.Itoa(o.healthPort)},
		},
		Ports:          []corev1.ContainerPort{{Name: probePortName, ContainerPort: int32(o.healthPort)}},
		ReadinessProbe: probe("/readyz", 10, 3),
		LivenessProbe:  probe("/healthz", 10, 3),
		Resources:      o.resources,
		SecurityContext: &corev1.SecurityContext{
			RunAsNonRoot:             ptr.To(true),
			ReadOnlyRootFilesystem:   ptr.To(true),
			AllowPrivilegeEscalation: ptr.To(false),
			Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
			SeccompProfile:           &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
		},
		VolumeMounts: mounts,
	}
	if mode == SidecarModeNative {
		// The app starts once a token is held; the Job completes when
		// the app exits.
		sidecar.RestartPolicy = ptr.To(corev1.ContainerRestartPolicyAlways)
		sidecar.StartupProbe = probe("/readyz", 1, 120)
	} else {
		sidecar.Env = append(sidecar.Env, corev1.EnvVar{Name: "FEDTOKEN_SIDECAR_QUIT_FILE", Value: QuitFile})
	}

	// The patch.
	var p Patch
	add := func(path string, v any) { p = append(p, Op{Op: "add", Path: path, Value: v}) }
	if pod.Annotations == nil {
		add("/metadata/annotations", map[string]string{AnnotationStatus: StatusInjected})
	} else {
		add("/metadata/annotations/"+escape(AnnotationStatus), StatusInjected)
	}
	if pod.Spec.Volumes == nil {
		add("/spec/volumes", volumes)
	} else {
		for _, v := range volumes {
			add("/spec/volumes/-", v)
		}
	}
	for _, i := range apps {
		c := pod.Spec.Containers[i]
		var env []corev1.EnvVar
		for j, id := range providers {
			name := o.baseURLEnv[id.ID]
			if name == "" {
				name = DefaultBaseURLEnv(id.ID)
			}
			env = append(env, corev1.EnvVar{Name: name, Value: "http://127.0.0.1:" + strconv.Itoa(o.proxyPort+j)})
		}
		if mode == SidecarModeContainer {
			env = append(env, corev1.EnvVar{Name: QuitFileEnv, Value: QuitFile})
			mount := corev1.VolumeMount{Name: sharedVolume, MountPath: SharedMountPath}
			if c.VolumeMounts == nil {
				add(fmt.Sprintf("/spec/containers/%d/volumeMounts", i), []corev1.VolumeMount{mount})
			} else {
				add(fmt.Sprintf("/spec/containers/%d/volumeMounts/-", i), mount)
			}
		}
		env = slices.DeleteFunc(env, func(e corev1.EnvVar) bool {
			return slices.ContainsFunc(c.Env, func(have corev1.EnvVar) bool { return have.Name == e.Name })
		})
		if len(env) == 0 {
			continue
		}
		if c.Env == nil {
			add(fmt.Sprintf("/spec/containers/%d/env", i), env)
		} else {
			for _, e := range env {
				add(fmt.Sprintf("/spec/containers/%d/env/-", i), e)
			}
		}
	}
	if mode == SidecarModeNative {
		// First, so the later init containers can use the proxy too.
		if pod.Spec.InitContainers == nil {
			add("/spec/initContainers", []corev1.Container{sidecar})
		} else {
			add("/spec/initContainers/0", sidecar)
		}
	} else {
		add("/spec/containers/0", sidecar)
	}
	return p, nil
}

// appContainers returns the indexes in pod.Spec.Containers of the
// containers that get the environment.
func appContainers(pod *corev1.Pod, want []string, reasons *[]string) []int {
	var out []int
	for _, name := range want {
		i := slices.IndexFunc(pod.Spec.Containers, func(c corev1.Container) bool { return c.Name == name })
		if i < 0 {
			var have []string
			for _, c := range pod.Spec.Containers {
				have = append(have, c.Name)
			}
			*reasons = append(*reasons, fmt.Sprintf("annotation %s: no container %q (containers: %s)", AnnotationContainers, name, strings.Join(have, ", ")))
			continue
		}
		out = append(out, i)
	}
	if len(want) == 0 {
		for i := range pod.Spec.Containers {
			out = append(out, i)
		}
	}
	return out
}

func probe(path string, period, failures int32) *corev1.Probe {
	return &corev1.Probe{
		ProbeHandler:     corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: path, Port: intstr.FromString(probePortName)}},
		PeriodSeconds:    period,
		FailureThreshold: failures,
	}
}

// escape escapes a JSON pointer token (RFC 6901).
func escape(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func firstOr(list []string, def string) string {
	if len(list) > 0 {
		return list[0]
	}
	return def
}
