{{/* Names, labels and the image reference. */}}

{{- define "enclave.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "enclave.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "enclave.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Selector labels: immutable once installed (a StatefulSet's selector cannot change). */}}
{{- define "enclave.selectorLabels" -}}
app.kubernetes.io/name: {{ include "enclave.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: engine
{{- end -}}

{{- define "enclave.labels" -}}
helm.sh/chart: {{ include "enclave.chart" . }}
{{ include "enclave.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/part-of: enclave
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{- define "enclave.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "enclave.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* registry/repository:tag, or registry/repository@sha256:... when a digest is given. */}}
{{- define "enclave.image" -}}
{{- $registry := default .Values.image.registry .Values.global.imageRegistry -}}
{{- $repository := .Values.image.repository -}}
{{- $ref := ternary $repository (printf "%s/%s" (trimSuffix "/" $registry) $repository) (empty $registry) -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" $ref .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" $ref (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}
{{- end -}}

{{/* imagePullSecrets (global first), or nothing. */}}
{{- define "enclave.imagePullSecrets" -}}
{{- $secrets := concat (.Values.global.imagePullSecrets | default list) (.Values.imagePullSecrets | default list) -}}
{{- if $secrets -}}
imagePullSecrets:
{{- toYaml $secrets | nindent 2 }}
{{- end -}}
{{- end -}}

{{/* The Secret that holds the admin token, and its key. */}}
{{- define "enclave.secretName" -}}
{{- default (include "enclave.fullname" .) .Values.auth.existingSecret -}}
{{- end -}}

{{- define "enclave.secretKey" -}}
{{- ternary .Values.auth.existingSecretKey "admin-token" (not (empty .Values.auth.existingSecret)) -}}
{{- end -}}

{{/* Fails the render unless exactly one source of the admin token is given. */}}
{{- define "enclave.validateAuth" -}}
{{- if and .Values.auth.adminToken .Values.auth.existingSecret -}}
{{- fail "auth.adminToken and auth.existingSecret are both set: give one of them" -}}
{{- end -}}
{{- if not .Values.auth.existingSecret -}}
{{- $token := required "auth.adminToken is required (at least 16 characters; e.g. openssl rand -hex 32), or name a Secret in auth.existingSecret" .Values.auth.adminToken -}}
{{- if lt (len $token) 16 -}}
{{- fail "auth.adminToken must be at least 16 characters" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* The file the engine reads its configuration from (besides the values' own file). */}}
{{- define "enclave.chartConfig" -}}
# Written by the chart. The engine reads every *.yaml file in /etc/enclave in lexical order;
# 10-values.yaml (the chart's `config` value) follows this one.
storage:
  fileSystem:
    path: /data
gateway:
  host: "0.0.0.0"
  port: 6420
auth:
  adminTokenFile: /var/run/secrets/enclave/admin-token
{{- end -}}
