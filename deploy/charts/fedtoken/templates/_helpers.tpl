{{/* The name of every object of the release: <release>-injector. */}}
{{- define "fedtoken.fullname" -}}
{{- printf "%s-injector" .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "fedtoken.selectorLabels" -}}
app.kubernetes.io/name: fedtoken-injector
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "fedtoken.labels" -}}
{{ include "fedtoken.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{/* repository:tag, or repository@digest when a digest is set. */}}
{{- define "fedtoken.image" -}}
{{- if .image.digest -}}
{{ .image.repository }}@{{ .image.digest }}
{{- else -}}
{{ .image.repository }}:{{ .image.tag | default .appVersion }}
{{- end -}}
{{- end -}}

{{- define "fedtoken.serviceDNS" -}}
{{ include "fedtoken.fullname" . }}.{{ .Release.Namespace }}.svc
{{- end -}}
