{{- define "registry.fullname" -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "registry.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "registry.labels" -}}
{{ include "registry.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "registry.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag }}
{{- end -}}

{{/* The restricted Pod Security Standard, for the service and the migration Job alike. */}}
{{- define "registry.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: 10001
runAsGroup: 10001
fsGroup: 10001
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{- define "registry.containerSecurityContext" -}}
allowPrivilegeEscalation: false
privileged: false
readOnlyRootFilesystem: true
runAsNonRoot: true
capabilities:
  drop: ["ALL"]
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{- define "registry.keyEnv" -}}
- name: REGISTRY_SECRET_KEY
  valueFrom:
    secretKeyRef:
      name: {{ .Values.secrets.name }}
      key: {{ .Values.secrets.secretKeyKey }}
- name: REGISTRY_DATA_DIR
  value: /tmp/persona-registry
- name: REGISTRY_LOG_LEVEL
  value: {{ .Values.logLevel | quote }}
{{- end -}}

{{/* The server certificate CloudNativePG made is checked against the cluster's own CA. */}}
{{- define "registry.dbTls" -}}
sslmode=verify-full&sslrootcert=/etc/persona-registry/db-ca/ca.crt
{{- end -}}
