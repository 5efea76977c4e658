{{/*
The gateway's config file (capi-mcp serve --config /etc/capi-mcp/config.yaml). Every key is an
option of packages/gateway/src/option-specs.ts. Secrets appear only as file paths.
*/}}
{{- define "capi-mcp.config" -}}
{{- $v := .Values }}
{{- $m := $v.mcpKubernetes }}
{{- $oauth := $m.oauth }}
{{- $capi := $v.capiMode }}
{{- $dir := include "capi-mcp.secretDir" . }}
{{- $c := dict }}
{{- $_ := set $c "transport" "streamable-http" }}
{{- $_ := set $c "httpAddr" (printf "0.0.0.0:%d" (int $v.service.port)) }}
{{- $_ := set $c "httpEndpoint" $m.httpEndpoint }}
{{- if $capi.enabled }}
{{- $_ := set $c "inCluster" true }}
{{- else }}
{{- $_ := set $c "kubeconfig" (printf "/etc/capi-mcp/kubeconfig/%s" $m.kubernetes.kubeconfigSecret.key) }}
{{- if $m.kubernetes.context }}{{ $_ := set $c "context" $m.kubernetes.context }}{{ end }}
{{- $_ := set $c "kubeAuth" $capi.workloadClusterAuth.mode }}
{{- end }}
{{- if $m.debug }}{{ $_ := set $c "debug" true }}{{ end }}
{{- $_ := set $c "auditLog" $m.auditLog }}
{{- with $m.auditLogFile.path }}
{{- $_ := set $c "auditLogFile" . }}
{{- $_ := set $c "auditLogMaxSize" $m.auditLogFile.maxSize }}
{{- $_ := set $c "auditLogMaxBackups" $m.auditLogFile.maxBackups }}
{{- end }}
{{- if $m.metrics.enabled }}{{ $_ := set $c "metricsAddr" (printf ":%d" (int $m.metrics.port)) }}{{ end }}
{{- /* safety */}}
{{- $s := $m.safety }}
{{- $_ := set $c "nonDestructive" $s.nonDestructive }}
{{- $_ := set $c "dryRun" $s.dryRun }}
{{- if $s.allowOperations }}{{ $_ := set $c "allowOperations" $s.allowOperations }}{{ end }}
{{- if $s.allowedNamespaces }}{{ $_ := set $c "allowedNamespaces" $s.allowedNamespaces }}{{ end }}
{{- if $s.deniedNamespaces }}{{ $_ := set $c "deniedNamespaces" $s.deniedNamespaces }}{{ end }}
{{- $_ := set $c "allowSecretValues" (not $capi.output.maskSecrets) }}
{{- $_ := set $c "qpsLimit" $s.qpsLimit }}
{{- $_ := set $c "burstLimit" $s.burstLimit }}
{{- $_ := set $c "toolTimeout" $s.toolTimeout }}
{{- /* sessions */}}
{{- $_ := set $c "maxSessions" $m.sessions.maxSessions }}
{{- $_ := set $c "maxSessionsPerUser" $m.sessions.maxSessionsPerUser }}
{{- $_ := set $c "sessionIdleTimeout" $m.sessions.idleTimeout }}
{{- $_ := set $c "sessionDisconnectGrace" $m.sessions.disconnectGrace }}
{{- $_ := set $c "portForwardIdleTimeout" $m.sessions.portForwardIdleTimeout }}
{{- /* http */}}
{{- if $m.http.allowedOrigins }}{{ $_ := set $c "allowedOrigins" $m.http.allowedOrigins }}{{ end }}
{{- $hosts := $m.http.allowedHosts }}
{{- /* In-cluster callers and the kubelet's probes name the Service. */}}
{{- range (include "capi-mcp.serviceHosts" . | fromJsonArray) }}{{ $hosts = append $hosts . }}{{ end }}
{{- if $v.ingress.enabled }}{{ range $v.ingress.hosts }}{{ $hosts = append $hosts .host }}{{ end }}{{ end }}
{{- if $v.gatewayAPI.enabled }}{{ range $v.gatewayAPI.httpRoute.hostnames }}{{ $hosts = append $hosts . }}{{ end }}{{ end }}
{{- if and $oauth.enabled $oauth.baseURL }}{{ $hosts = append $hosts (urlParse $oauth.baseURL).host }}{{ end }}
{{- if $hosts }}{{ $_ := set $c "allowedHosts" ($hosts | uniq) }}{{ end }}
{{- if $m.http.trustedProxies }}{{ $_ := set $c "trustedProxies" $m.http.trustedProxies }}{{ end }}
{{- $_ := set $c "clientAddressHeader" $m.http.clientAddressHeader }}
{{- /* oauth */}}
{{- if $oauth.enabled }}
{{- $_ := set $c "enableOauth" true }}
{{- $_ := set $c "oauthBaseUrl" $oauth.baseURL }}
{{- $_ := set $c "oauthProvider" $oauth.provider }}
{{- if eq $oauth.provider "dex" }}
{{- $_ := set $c "dexIssuerUrl" $oauth.dex.issuerURL }}
{{- $_ := set $c "dexClientId" $oauth.dex.clientID }}
{{- $_ := set $c "dexClientSecretFile" (printf "%s/dex-client-secret" $dir) }}
{{- if $oauth.dex.connectorID }}{{ $_ := set $c "dexConnectorId" $oauth.dex.connectorID }}{{ end }}
{{- if $oauth.dex.kubernetesAuthenticatorClientID }}{{ $_ := set $c "dexKubernetesAudience" $oauth.dex.kubernetesAuthenticatorClientID }}{{ end }}
{{- else if eq $oauth.provider "google" }}
{{- $_ := set $c "googleClientId" $oauth.google.clientID }}
{{- $_ := set $c "googleClientSecretFile" (printf "%s/google-client-secret" $dir) }}
{{- else }}
{{- $_ := set $c "oidcIssuerUrl" $oauth.oidc.issuerURL }}
{{- $_ := set $c "oidcClientId" $oauth.oidc.clientID }}
{{- $_ := set $c "oidcClientSecretFile" (printf "%s/oidc-client-secret" $dir) }}
{{- if $oauth.oidc.caSecret.name }}{{ $_ := set $c "oidcCaFile" (printf "/etc/capi-mcp/oidc-ca/%s" $oauth.oidc.caSecret.key) }}{{ end }}
{{- end }}
{{- if $oauth.scopes }}{{ $_ := set $c "oauthScopes" $oauth.scopes }}{{ end }}
{{- $_ := set $c "usernameClaim" $oauth.usernameClaim }}
{{- $_ := set $c "groupsClaim" $oauth.groupsClaim }}
{{- $_ := set $c "allowPublicRegistration" $oauth.allowPublicRegistration }}
{{- $_ := set $c "allowPrivateUseRedirectSchemes" $oauth.allowPrivateUseRedirectSchemes }}
{{- $_ := set $c "maxRegisteredClients" $oauth.maxRegisteredClients }}
{{- $_ := set $c "unusedClientLifetime" $oauth.unusedClientLifetime }}
{{- range (include "capi-mcp.secretItems" . | fromJsonArray) }}
{{- $key := last (splitList "|" .) }}
{{- if eq $key "registration-token" }}{{ $_ := set $c "registrationTokenFile" (printf "%s/%s" $dir $key) }}{{ end }}
{{- if eq $key "oauth-encryption-key" }}{{ $_ := set $c "tokenEncryptionKeyFile" (printf "%s/%s" $dir $key) }}{{ end }}
{{- end }}
{{- $store := include "capi-mcp.tokenStore" . }}
{{- $_ := set $c "tokenStore" $store }}
{{- if eq $store "redis" }}
{{- $_ := set $c "redisUrl" $oauth.storage.valkey.url }}
{{- if $oauth.storage.valkey.existingSecret }}
{{- $_ := set $c "redisPasswordFile" (printf "%s/%s" $dir $oauth.storage.valkey.secretKeyPassword) }}
{{- else if and $oauth.storage.valkey.password (not $oauth.existingSecret) }}
{{- $_ := set $c "redisPasswordFile" (printf "%s/valkey-password" $dir) }}
{{- end }}
{{- end }}
{{- if $capi.workloadClusterAuth.groupMappings }}{{ $_ := set $c "groupMappingsFile" "/etc/capi-mcp/group-mappings.json" }}{{ end }}
{{- end }}
{{- /* Cluster API */}}
{{- if $capi.enabled }}
{{- $_ := set $c "enableCapi" true }}
{{- $_ := set $c "workloadAuth" $capi.workloadClusterAuth.mode }}
{{- if and (not $capi.rbac.clusterWideSecrets) $capi.rbac.allowedNamespaces }}{{ $_ := set $c "capiNamespaces" $capi.rbac.allowedNamespaces }}{{ end }}
{{- if $capi.clusterSelector }}{{ $_ := set $c "capiClusterSelector" $capi.clusterSelector }}{{ end }}
{{- if eq $capi.workloadClusterAuth.mode "sso-passthrough" }}
{{- if $capi.workloadClusterAuth.caSecretSuffix }}
{{- $_ := set $c "caSecretSuffix" $capi.workloadClusterAuth.caSecretSuffix }}
{{- else }}
{{- $_ := set $c "caConfigmapSuffix" $capi.workloadClusterAuth.caConfigMapSuffix }}
{{- end }}
{{- end }}
{{- $_ := set $c "clientCacheTtl" $capi.cache.ttl }}
{{- $_ := set $c "clientCacheMaxEntries" $capi.cache.maxEntries }}
{{- $_ := set $c "workloadTimeout" $capi.connectivity.requestTimeout }}
{{- $_ := set $c "workloadQpsLimit" $capi.connectivity.qps }}
{{- $_ := set $c "workloadBurstLimit" $capi.connectivity.burst }}
{{- $_ := set $c "fanoutConcurrency" $capi.connectivity.fanoutConcurrency }}
{{- end }}
{{- toYaml $c }}
{{- end }}

{{/* Refusals with a message naming the value. */}}
{{- define "capi-mcp.validate" -}}
{{- $v := .Values }}
{{- $oauth := $v.mcpKubernetes.oauth }}
{{- if and (include "capi-mcp.multiReplica" .) (eq (include "capi-mcp.tokenStore" .) "memory") }}
{{- fail "mcpKubernetes.oauth.storage.type: several replicas (replicaCount > 1 or autoscaling.enabled) need the shared token store: set mcpKubernetes.oauth.storage.type to valkey (or redis) and mcpKubernetes.oauth.storage.valkey.url" }}
{{- end }}
{{- if not $oauth.enabled }}
{{- fail "mcpKubernetes.oauth.enabled: false is refused: the chart serves MCP over the network, and without a login every caller would act with the gateway's own credentials (the gateway itself refuses that too)" }}
{{- end }}
{{- if not $oauth.baseURL }}{{ fail "mcpKubernetes.oauth.baseURL: required, the gateway's public URL (e.g. https://mcp.example.com)" }}{{ end }}
{{- $p := $oauth.provider }}
{{- if eq $p "dex" }}
{{- if not $oauth.dex.issuerURL }}{{ fail "mcpKubernetes.oauth.dex.issuerURL: required with provider dex" }}{{ end }}
{{- if not $oauth.dex.clientID }}{{ fail "mcpKubernetes.oauth.dex.clientID: required with provider dex" }}{{ end }}
{{- if and (not $oauth.existingSecret) (not $oauth.dex.clientSecret) }}{{ fail "mcpKubernetes.oauth.dex.clientSecret: required with provider dex (or mcpKubernetes.oauth.existingSecret with key dex-client-secret)" }}{{ end }}
{{- if $oauth.dex.caSecret.name }}{{ fail "mcpKubernetes.oauth.dex.caSecret: the gateway takes a private CA only for provider oidc: set mcpKubernetes.oauth.provider to oidc with oidc.issuerURL (your Dex URL) and oidc.caSecret" }}{{ end }}
{{- else if eq $p "google" }}
{{- if not $oauth.google.clientID }}{{ fail "mcpKubernetes.oauth.google.clientID: required with provider google" }}{{ end }}
{{- if and (not $oauth.existingSecret) (not $oauth.google.clientSecret) }}{{ fail "mcpKubernetes.oauth.google.clientSecret: required with provider google (or mcpKubernetes.oauth.existingSecret with key google-client-secret)" }}{{ end }}
{{- else }}
{{- if not $oauth.oidc.issuerURL }}{{ fail "mcpKubernetes.oauth.oidc.issuerURL: required with provider oidc" }}{{ end }}
{{- if not $oauth.oidc.clientID }}{{ fail "mcpKubernetes.oauth.oidc.clientID: required with provider oidc" }}{{ end }}
{{- if and (not $oauth.existingSecret) (not $oauth.oidc.clientSecret) }}{{ fail "mcpKubernetes.oauth.oidc.clientSecret: required with provider oidc (or mcpKubernetes.oauth.existingSecret with key oidc-client-secret)" }}{{ end }}
{{- end }}
{{- if $oauth.existingSecret }}
{{- range $key, $value := dict "dex.clientSecret" $oauth.dex.clientSecret "google.clientSecret" $oauth.google.clientSecret "oidc.clientSecret" $oauth.oidc.clientSecret "registrationAccessToken" $oauth.registrationAccessToken "encryptionKey" $oauth.encryptionKey "storage.valkey.password" $oauth.storage.valkey.password }}
{{- if $value }}{{ fail (printf "mcpKubernetes.oauth.%s: leave it empty with mcpKubernetes.oauth.existingSecret (%s): the secret comes from that Secret, never from values" $key $oauth.existingSecret) }}{{ end }}
{{- end }}
{{- end }}
{{- if eq (include "capi-mcp.tokenStore" .) "redis" }}
{{- if not $oauth.storage.valkey.url }}{{ fail "mcpKubernetes.oauth.storage.valkey.url: required with the valkey/redis token store" }}{{ end }}
{{- if and (not $oauth.existingSecret) (not $oauth.encryptionKey) }}{{ fail "mcpKubernetes.oauth.encryptionKey: required with the valkey/redis token store (tokens at rest are encrypted), or mcpKubernetes.oauth.existingSecret with key oauth-encryption-key" }}{{ end }}
{{- end }}
{{- if $v.capiMode.enabled }}
{{- if not $v.mcpKubernetes.kubernetes.inCluster }}
{{- fail "mcpKubernetes.kubernetes.inCluster: must be true with capiMode.enabled: the gateway reads the Cluster objects with the pod's service account" }}
{{- end }}
{{- else if not $v.mcpKubernetes.kubernetes.kubeconfigSecret.name }}
{{- fail "mcpKubernetes.kubernetes.kubeconfigSecret.name: required with capiMode.enabled false: name the Secret holding the kubeconfig of the clusters to serve" }}
{{- end }}
{{- if and $v.capiMode.enabled (not $v.capiMode.rbac.clusterWideSecrets) (not $v.capiMode.rbac.allowedNamespaces) }}
{{- fail "capiMode.rbac.allowedNamespaces: list the namespaces that hold the Cluster objects (the gateway reads their credentials only there), or set capiMode.rbac.clusterWideSecrets: true" }}
{{- end }}
{{- end }}
