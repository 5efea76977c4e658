{{/* Names */}}
{{- define "capi-mcp.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "capi-mcp.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "capi-mcp.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "capi-mcp.selectorLabels" -}}
app.kubernetes.io/name: {{ include "capi-mcp.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "capi-mcp.labels" -}}
helm.sh/chart: {{ include "capi-mcp.chart" . }}
{{ include "capi-mcp.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "capi-mcp.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "capi-mcp.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "capi-mcp.image" -}}
{{- $tag := default .Chart.AppVersion .Values.image.tag }}
{{- if .Values.image.registry }}
{{- printf "%s/%s:%s" .Values.image.registry .Values.image.repository $tag }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository $tag }}
{{- end }}
{{- end }}

{{/* Several replicas at once (fixed or autoscaled). */}}
{{- define "capi-mcp.multiReplica" -}}
{{- if or .Values.autoscaling.enabled (gt (int .Values.replicaCount) 1) }}true{{ end }}
{{- end }}

{{/* The token store the gateway uses: memory or redis (giantswarm's valkey is redis). */}}
{{- define "capi-mcp.tokenStore" -}}
{{- if eq .Values.mcpKubernetes.oauth.storage.type "memory" }}memory{{ else }}redis{{ end }}
{{- end }}

{{/* Where secret files are mounted. */}}
{{- define "capi-mcp.secretDir" -}}/etc/capi-mcp/secrets{{- end }}

{{/* The Secret holding the OAuth secrets: existingSecret, or the one the chart makes. */}}
{{- define "capi-mcp.oauthSecretName" -}}
{{- default (printf "%s-oauth" (include "capi-mcp.fullname" .)) .Values.mcpKubernetes.oauth.existingSecret }}
{{- end }}

{{/* The workload-cluster auth mode as the gateway names it. */}}
{{- define "capi-mcp.authMode" -}}
{{- .Values.capiMode.workloadClusterAuth.mode }}
{{- end }}

{{/*
The credential objects the gateway reads on the management cluster, per mode:
secrets (impersonation, or SSO passthrough with caSecretSuffix), configmaps (SSO passthrough).
*/}}
{{- define "capi-mcp.credentialResource" -}}
{{- if and (eq .Values.capiMode.workloadClusterAuth.mode "sso-passthrough") (not .Values.capiMode.workloadClusterAuth.caSecretSuffix) }}configmaps{{ else }}secrets{{ end }}
{{- end }}

{{/*
Secret keys the pod needs, as a list of "secretName|key" (which file under secretDir each one is).
*/}}
{{- define "capi-mcp.secretItems" -}}
{{- $oauth := .Values.mcpKubernetes.oauth }}
{{- $name := include "capi-mcp.oauthSecretName" . }}
{{- $items := list }}
{{- if $oauth.enabled }}
{{- $items = append $items (printf "%s|%s-client-secret" $name $oauth.provider) }}
{{- if or (and (not $oauth.existingSecret) $oauth.registrationAccessToken) (and $oauth.existingSecret $oauth.existingSecretHasRegistrationToken) }}
{{- $items = append $items (printf "%s|registration-token" $name) }}
{{- end }}
{{- if or (eq (include "capi-mcp.tokenStore" .) "redis") (and (not $oauth.existingSecret) $oauth.encryptionKey) }}
{{- $items = append $items (printf "%s|oauth-encryption-key" $name) }}
{{- end }}
{{- if eq (include "capi-mcp.tokenStore" .) "redis" }}
{{- if $oauth.storage.valkey.existingSecret }}
{{- $items = append $items (printf "%s|%s" $oauth.storage.valkey.existingSecret $oauth.storage.valkey.secretKeyPassword) }}
{{- else if and $oauth.storage.valkey.password (not $oauth.existingSecret) }}
{{- $items = append $items (printf "%s|valkey-password" $name) }}
{{- end }}
{{- end }}
{{- end }}
{{- toJson $items }}
{{- end }}

{{/* host:port names of the Service, as in-cluster callers and the probes send them. */}}
{{- define "capi-mcp.serviceHosts" -}}
{{- $name := include "capi-mcp.fullname" . }}
{{- $port := int .Values.service.port }}
{{- $hosts := list }}
{{- range (list $name (printf "%s.%s" $name .Release.Namespace) (printf "%s.%s.svc" $name .Release.Namespace) (printf "%s.%s.svc.cluster.local" $name .Release.Namespace)) }}
{{- $hosts = append $hosts (printf "%s:%d" . $port) }}
{{- end }}
{{- toJson $hosts }}
{{- end }}

{{/* Kubernetes at least this version (the server's, or --kube-version with helm template). */}}
{{- define "capi-mcp.kubeAtLeast" -}}
{{- if semverCompare (printf ">=%s-0" .version) .root.Capabilities.KubeVersion.Version }}true{{ end }}
{{- end }}
