// Package chart renders and lints deploy/charts/fedtoken with the Helm Go
// library (no helm binary): the unit tests check the rendered objects, and
// the e2e suite installs them into the real cluster.
package chart

import (
	"fmt"
	"path/filepath"
	"runtime"
	"sort"
	"strings"

	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/engine"
	"helm.sh/helm/v3/pkg/lint"
	"helm.sh/helm/v3/pkg/lint/support"
	"sigs.k8s.io/yaml"
)

// Dir is the chart's directory.
func Dir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "..", "deploy", "charts", "fedtoken")
}

// Release names an installation.
type Release struct {
	Name, Namespace string
	// KubeVersion is the cluster's, e.g. v1.34.3 ("" = Helm's default).
	KubeVersion string
}

// Object is one rendered manifest, decoded.
type Object struct {
	Template string         // templates/<file>
	YAML     string         // the document as rendered
	Map      map[string]any // the document, decoded
}

// Kind is Kind/name.
func (o Object) Key() string {
	md, _ := o.Map["metadata"].(map[string]any)
	return fmt.Sprintf("%s/%s", o.Map["kind"], md["name"])
}

// Render renders the chart with values (merged over values.yaml and
// validated against values.schema.json, as `helm install` does) and
// returns every object, sorted by template then position.
func Render(rel Release, values map[string]any) ([]Object, error) {
	ch, err := loader.Load(Dir())
	if err != nil {
		return nil, err
	}
	caps := chartutil.DefaultCapabilities.Copy()
	if rel.KubeVersion != "" {
		kv, err := chartutil.ParseKubeVersion(rel.KubeVersion)
		if err != nil {
			return nil, err
		}
		caps.KubeVersion = *kv
	}
	vals, err := chartutil.ToRenderValues(ch, values, chartutil.ReleaseOptions{Name: rel.Name, Namespace: rel.Namespace, IsInstall: true}, caps)
	if err != nil {
		return nil, err
	}
	files, err := engine.Render(ch, vals)
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	var out []Object
	for _, n := range names {
		if !strings.HasSuffix(n, ".yaml") {
			continue
		}
		for _, doc := range strings.Split(files[n], "\n---") {
			if strings.TrimSpace(stripComments(doc)) == "" {
				continue
			}
			var m map[string]any
			if err := yaml.Unmarshal([]byte(doc), &m); err != nil {
				return nil, fmt.Errorf("%s: %w\n%s", n, err, doc)
			}
			out = append(out, Object{Template: strings.TrimPrefix(n, ch.Name()+"/"), YAML: doc, Map: m})
		}
	}
	return out, nil
}

func stripComments(doc string) string {
	var b strings.Builder
	for _, l := range strings.Split(doc, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(l), "#") {
			b.WriteString(l + "\n")
		}
	}
	return b.String()
}

// Lint runs `helm lint` on the chart with values and returns its messages
// of severity warning or worse.
func Lint(namespace string, values map[string]any) []string {
	l := lint.All(Dir(), values, namespace, false)
	var out []string
	for _, m := range l.Messages {
		if m.Severity >= support.WarningSev {
			out = append(out, m.Error())
		}
	}
	return out
}
