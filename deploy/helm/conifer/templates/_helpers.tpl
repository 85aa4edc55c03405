{{/* Names and labels. */}}
{{- define "conifer.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 50 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 50 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "conifer.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{/* Selector labels of one role: include "conifer.selector" (dict "root" . "role" "gateway") */}}
{{- define "conifer.selector" -}}
app.kubernetes.io/name: {{ .root.Chart.Name }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .role }}
{{- end -}}

{{- define "conifer.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "conifer.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "conifer.clusterSecretName" -}}
{{- default (printf "%s-cluster" (include "conifer.fullname" .)) .Values.clusterSecret.existingSecret -}}
{{- end -}}

{{- define "conifer.databaseSecretName" -}}
{{- default (printf "%s-database" (include "conifer.fullname" .)) .Values.database.existingSecret -}}
{{- end -}}

{{- define "conifer.apiKeySecretName" -}}
{{- default (printf "%s-api-key" (include "conifer.fullname" .)) .Values.adminApiKey.existingSecret -}}
{{- end -}}

{{/* The Secret holding a cloud's credentials: the one named in values, else the chart's own when the values hold them, else none. */}}
{{- define "conifer.awsSecretName" -}}
{{- if .Values.storage.s3.credentialsSecret -}}{{ .Values.storage.s3.credentialsSecret }}{{- else if .Values.storage.s3.accessKeyId -}}{{ include "conifer.fullname" . }}-aws{{- end -}}
{{- end -}}
{{- define "conifer.gcsSecretName" -}}
{{- if .Values.storage.gcs.credentialsSecret -}}{{ .Values.storage.gcs.credentialsSecret }}{{- else if .Values.storage.gcs.credentialsJson -}}{{ include "conifer.fullname" . }}-gcs{{- end -}}
{{- end -}}
{{- define "conifer.azureSecretName" -}}
{{- if .Values.storage.azure.connectionStringSecret -}}{{ .Values.storage.azure.connectionStringSecret }}{{- else if .Values.storage.azure.connectionString -}}{{ include "conifer.fullname" . }}-azure{{- end -}}
{{- end -}}

{{/* The environment every node shares: cluster, control plane, object store. */}}
{{- define "conifer.env" -}}
- name: POD_IP
  valueFrom:
    fieldRef:
      fieldPath: status.podIP
- name: CONIFER_HOST
  value: "0.0.0.0"
- name: CONIFER_PORT
  value: "5080"
- name: CONIFER_DATA_DIR
  value: /data
# Other nodes call this one at its pod address.
- name: CONIFER_ADVERTISE_URL
  value: "http://$(POD_IP):5080"
- name: CONIFER_CLUSTER_SECRET
  valueFrom:
    secretKeyRef:
      name: {{ include "conifer.clusterSecretName" . }}
      key: cluster-secret
- name: CONIFER_DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ include "conifer.databaseSecretName" . }}
      key: database-url
- name: CONIFER_STORAGE
  value: {{ required "storage.url is required (s3://, gs:// or az://)" .Values.storage.url | quote }}
{{- $url := .Values.storage.url }}
{{- if hasPrefix "s3://" $url }}
{{- with .Values.storage.s3 }}
{{- if .region }}
- name: AWS_REGION
  value: {{ .region | quote }}
{{- end }}
{{- if .endpoint }}
- name: AWS_ENDPOINT_URL_S3
  value: {{ .endpoint | quote }}
{{- end }}
{{- if .forcePathStyle }}
- name: CONIFER_S3_FORCE_PATH_STYLE
  value: "true"
{{- end }}
{{- end }}
{{- with include "conifer.awsSecretName" . }}
- name: AWS_ACCESS_KEY_ID
  valueFrom:
    secretKeyRef:
      name: {{ . }}
      key: AWS_ACCESS_KEY_ID
- name: AWS_SECRET_ACCESS_KEY
  valueFrom:
    secretKeyRef:
      name: {{ . }}
      key: AWS_SECRET_ACCESS_KEY
{{- end }}
{{- else if hasPrefix "gs://" $url }}
{{- with .Values.storage.gcs }}
{{- if .project }}
- name: GOOGLE_CLOUD_PROJECT
  value: {{ .project | quote }}
{{- end }}
{{- end }}
{{- if include "conifer.gcsSecretName" . }}
- name: GOOGLE_APPLICATION_CREDENTIALS
  value: /var/run/secrets/conifer/gcs/credentials.json
{{- end }}
{{- else if hasPrefix "az://" $url }}
{{- with include "conifer.azureSecretName" . }}
- name: AZURE_STORAGE_CONNECTION_STRING
  valueFrom:
    secretKeyRef:
      name: {{ . }}
      key: AZURE_STORAGE_CONNECTION_STRING
{{- else }}
{{- with .Values.storage.azure.account }}
- name: AZURE_STORAGE_ACCOUNT
  value: {{ . | quote }}
{{- end }}
{{- end }}
{{- else }}
{{- fail "storage.url must start with s3://, gs:// or az:// (a cluster needs a shared object store)" }}
{{- end }}
{{- range $name, $value := .Values.env }}
- name: {{ $name }}
  value: {{ $value | quote }}
{{- end }}
{{- end -}}

{{/* One node's pod spec: include "conifer.podSpec" (dict "root" . "role" "writer" "roles" "writer" "values" .Values.writer "dataVolume" "data") */}}
{{- define "conifer.podSpec" -}}
{{- $root := .root -}}
serviceAccountName: {{ include "conifer.serviceAccountName" $root }}
{{- with $root.Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
securityContext:
  {{- toYaml $root.Values.podSecurityContext | nindent 2 }}
# Draining on SIGTERM: the node leaves the membership and finishes what it was doing.
terminationGracePeriodSeconds: 60
containers:
  - name: conifer
    image: "{{ $root.Values.image.repository }}:{{ $root.Values.image.tag }}"
    imagePullPolicy: {{ $root.Values.image.pullPolicy }}
    args: ["server"]
    securityContext:
      {{- toYaml $root.Values.securityContext | nindent 6 }}
    env:
      - name: CONIFER_ROLES
        value: {{ .roles | quote }}
      {{- include "conifer.env" $root | nindent 6 }}
      {{- if eq .role "gateway" }}
      {{- if $root.Values.publicUrl }}
      - name: CONIFER_PUBLIC_URL
        value: {{ $root.Values.publicUrl | quote }}
      {{- end }}
      {{- if or $root.Values.adminApiKey.value $root.Values.adminApiKey.existingSecret }}
      - name: CONIFER_API_KEY
        valueFrom:
          secretKeyRef:
            name: {{ include "conifer.apiKeySecretName" $root }}
            key: api-key
      {{- end }}
      {{- end }}
      {{- range $name, $value := .values.env }}
      - name: {{ $name }}
        value: {{ $value | quote }}
      {{- end }}
    ports:
      - name: http
        containerPort: 5080
        protocol: TCP
    readinessProbe:
      httpGet: { path: /healthz, port: http }
      periodSeconds: 5
      timeoutSeconds: 3
      failureThreshold: 3
    livenessProbe:
      httpGet: { path: /healthz, port: http }
      initialDelaySeconds: 30
      periodSeconds: 10
      timeoutSeconds: 5
      failureThreshold: 6
    resources:
      {{- toYaml .values.resources | nindent 6 }}
    volumeMounts:
      - name: {{ .dataVolume }}
        mountPath: /data
      - name: tmp
        mountPath: /tmp
      {{- if and (hasPrefix "gs://" $root.Values.storage.url) (include "conifer.gcsSecretName" $root) }}
      - name: gcs-credentials
        mountPath: /var/run/secrets/conifer/gcs
        readOnly: true
      {{- end }}
volumes:
  {{- if eq .dataVolume "data" }}
  - name: data
    emptyDir: {}
  {{- end }}
  - name: tmp
    emptyDir: {}
  {{- if and (hasPrefix "gs://" $root.Values.storage.url) (include "conifer.gcsSecretName" $root) }}
  - name: gcs-credentials
    secret:
      secretName: {{ include "conifer.gcsSecretName" $root }}
  {{- end }}
{{- with $root.Values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $root.Values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $root.Values.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}
