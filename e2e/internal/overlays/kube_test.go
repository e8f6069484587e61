package overlays

// The few Kubernetes fields the tests check, decoded from rendered YAML
// (k8s.io/api would pull in far more than these tests need).

type object struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Metadata   struct {
		Name      string `json:"name"`
		Namespace string `json:"namespace"`
	} `json:"metadata"`
	AutomountServiceAccountToken *bool             `json:"automountServiceAccountToken"`
	Data                         map[string]string `json:"data"`
	Spec                         workloadSpec      `json:"spec"`
}

type workloadSpec struct {
	// CronJob
	Schedule          string `json:"schedule"`
	ConcurrencyPolicy string `json:"concurrencyPolicy"`
	JobTemplate       *struct {
		Spec workloadSpec `json:"spec"`
	} `json:"jobTemplate"`
	// Job
	ActiveDeadlineSeconds   *int64 `json:"activeDeadlineSeconds"`
	TTLSecondsAfterFinished *int64 `json:"ttlSecondsAfterFinished"`
	// Deployment
	Replicas *int32 `json:"replicas"`
	// Job and Deployment
	Template *struct {
		Spec podSpec `json:"spec"`
	} `json:"template"`
}

type podSpec struct {
	ServiceAccountName           string           `json:"serviceAccountName"`
	AutomountServiceAccountToken *bool            `json:"automountServiceAccountToken"`
	RestartPolicy                string           `json:"restartPolicy"`
	SecurityContext              *securityContext `json:"securityContext"`
	InitContainers               []container      `json:"initContainers"`
	Containers                   []container      `json:"containers"`
	Volumes                      []volume         `json:"volumes"`
}

type container struct {
	Name            string           `json:"name"`
	Image           string           `json:"image"`
	ImagePullPolicy string           `json:"imagePullPolicy"`
	RestartPolicy   string           `json:"restartPolicy"`
	Env             []envVar         `json:"env"`
	Ports           []port           `json:"ports"`
	StartupProbe    *probe           `json:"startupProbe"`
	ReadinessProbe  *probe           `json:"readinessProbe"`
	LivenessProbe   *probe           `json:"livenessProbe"`
	SecurityContext *securityContext `json:"securityContext"`
	Resources       struct {
		Requests map[string]string `json:"requests"`
		Limits   map[string]string `json:"limits"`
	} `json:"resources"`
	VolumeMounts []volumeMount `json:"volumeMounts"`
}

type envVar struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

type port struct {
	Name          string `json:"name"`
	ContainerPort int    `json:"containerPort"`
}

type probe struct {
	HTTPGet *struct {
		Path string `json:"path"`
		Port any    `json:"port"` // number or name
	} `json:"httpGet"`
}

type securityContext struct {
	RunAsNonRoot             *bool  `json:"runAsNonRoot"`
	RunAsUser                *int64 `json:"runAsUser"`
	ReadOnlyRootFilesystem   *bool  `json:"readOnlyRootFilesystem"`
	AllowPrivilegeEscalation *bool  `json:"allowPrivilegeEscalation"`
	Capabilities             *struct {
		Drop []string `json:"drop"`
		Add  []string `json:"add"`
	} `json:"capabilities"`
	SeccompProfile *struct {
		Type string `json:"type"`
	} `json:"seccompProfile"`
}

type volumeMount struct {
	Name      string `json:"name"`
	MountPath string `json:"mountPath"`
	ReadOnly  bool   `json:"readOnly"`
}

type volume struct {
	Name      string `json:"name"`
	Projected *struct {
		Sources []struct {
			ServiceAccountToken *struct {
				Path              string `json:"path"`
				Audience          string `json:"audience"`
				ExpirationSeconds int64  `json:"expirationSeconds"`
			} `json:"serviceAccountToken"`
		} `json:"sources"`
	} `json:"projected"`
	ConfigMap *struct {
		Name string `json:"name"`
	} `json:"configMap"`
	EmptyDir any `json:"emptyDir"`
}

// pod returns the pod template of a workload, or nil.
func (o object) pod() *podSpec {
	switch {
	case o.Spec.JobTemplate != nil && o.Spec.JobTemplate.Spec.Template != nil:
		return &o.Spec.JobTemplate.Spec.Template.Spec
	case o.Spec.Template != nil:
		return &o.Spec.Template.Spec
	}
	return nil
}

func (c container) env(name string) (string, bool) {
	for _, e := range c.Env {
		if e.Name == name {
			return e.Value, true
		}
	}
	return "", false
}

func (p *podSpec) volume(name string) *volume {
	for i := range p.Volumes {
		if p.Volumes[i].Name == name {
			return &p.Volumes[i]
		}
	}
	return nil
}
