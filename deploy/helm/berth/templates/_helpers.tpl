{{- define "berth.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "berth.serviceAccountName" -}}
{{- .Values.serviceAccount.name | default (include "berth.fullname" .) -}}
{{- end -}}

{{- define "berth.image" -}}
{{- $repository := required "image.repository: the registry path of Berth's image (built from the Containerfile)" .Values.image.repository -}}
{{- printf "%s:%s" $repository (.Values.image.tag | default .Chart.AppVersion) -}}
{{- end -}}

{{- define "berth.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "berth.labels" -}}
{{ include "berth.selectorLabels" . }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "berth.cephConfigMap" -}}
{{- .Values.ceph.existingConfigMap | default (printf "%s-ceph" (include "berth.fullname" .)) -}}
{{- end -}}

{{/* Berth's environment, the same in every container. */}}
{{- define "berth.env" -}}
- name: POD_IP
  valueFrom:
    fieldRef:
      fieldPath: status.podIP
- name: BERTH_ALLOWED_HOSTS
  # Its own address too: the kubelet's probes and Prometheus' scrapes name the pod, not the host.
  value: "{{ required "host: the name Berth is reached by" .Values.host }},$(POD_IP)"
- name: BERTH_CSRF_TRUSTED_ORIGINS
  value: "{{ if .Values.config.https }}https{{ else }}http{{ end }}://{{ .Values.host }}"
- name: BERTH_HTTPS
  value: {{ .Values.config.https | quote }}
- name: BERTH_BEHIND_PROXY
  value: {{ .Values.config.behindProxy | quote }}
- name: BERTH_MANAGED_SECRET_RESYNC
  value: {{ .Values.config.managedSecretResync | quote }}
- name: DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ .Values.secrets.database.name }}
      key: {{ .Values.secrets.database.key }}
- name: BERTH_SECRET_KEY_FILE
  value: /etc/berth/secret-key/{{ .Values.secrets.secretKey.key }}
- name: BERTH_AUDIT_KEY_FILE
  value: /etc/berth/audit-key/{{ .Values.secrets.auditKey.key }}
- name: BERTH_METRICS_ALLOWED_NETWORKS
  value: {{ .Values.metrics.allowedNetworks | quote }}
{{- with .Values.metrics.tokenSecret.name }}
- name: BERTH_METRICS_TOKEN
  valueFrom:
    secretKeyRef:
      name: {{ . }}
      key: {{ $.Values.metrics.tokenSecret.key }}
{{- end }}
{{- range $name, $value := .Values.config.extraEnv }}
- name: {{ $name }}
  value: {{ $value | quote }}
{{- end }}
{{- end -}}

{{- define "berth.volumeMounts" -}}
- name: secret-key
  mountPath: /etc/berth/secret-key
  readOnly: true
- name: audit-key
  mountPath: /etc/berth/audit-key
  readOnly: true
{{- if .Values.ceph.enabled }}
- name: ceph-conf
  mountPath: /etc/berth/ceph
  readOnly: true
- name: ceph-keyring
  mountPath: /etc/berth/ceph-keyring
  readOnly: true
{{- end }}
# The root filesystem is read-only; gunicorn keeps its worker heartbeats here.
- name: tmp
  mountPath: /tmp
{{- with .Values.extraVolumeMounts }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{- define "berth.volumes" -}}
- name: secret-key
  secret:
    secretName: {{ .Values.secrets.secretKey.name }}
    items: [{key: {{ .Values.secrets.secretKey.key }}, path: {{ .Values.secrets.secretKey.key }}}]
    defaultMode: 0440
- name: audit-key
  secret:
    secretName: {{ .Values.secrets.auditKey.name }}
    items: [{key: {{ .Values.secrets.auditKey.key }}, path: {{ .Values.secrets.auditKey.key }}}]
    defaultMode: 0440
{{- if .Values.ceph.enabled }}
- name: ceph-conf
  configMap:
    name: {{ include "berth.cephConfigMap" . }}
    items: [{key: ceph.conf, path: ceph.conf}]
- name: ceph-keyring
  secret:
    secretName: {{ .Values.ceph.keyringSecret.name }}
    items: [{key: {{ .Values.ceph.keyringSecret.key }}, path: keyring}]
    defaultMode: 0440
{{- end }}
- name: tmp
  emptyDir: {}
{{- with .Values.extraVolumes }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* What every Berth pod shares: security context, scheduling, volumes. */}}
{{- define "berth.podCommon" -}}
serviceAccountName: {{ include "berth.serviceAccountName" . }}
securityContext:
  {{- toYaml .Values.podSecurityContext | nindent 2 }}
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
volumes:
  {{- include "berth.volumes" . | nindent 2 }}
{{- end -}}

{{/* Web, worker and scheduler start once the migration Job has brought the schema up to this image's. */}}
{{- define "berth.waitForMigrations" -}}
- name: wait-for-migrations
  image: {{ include "berth.image" . }}
  imagePullPolicy: {{ .Values.image.pullPolicy }}
  command:
    - /bin/sh
    - -c
    - until python manage.py migrate --check >/dev/null; do echo "waiting for the migration Job"; sleep 5; done
  env:
    {{- include "berth.env" . | nindent 4 }}
  volumeMounts:
    {{- include "berth.volumeMounts" . | nindent 4 }}
  securityContext:
    {{- toYaml .Values.securityContext | nindent 4 }}
{{- end -}}

{{/* The migration Job's name changes with the image and the values, since a Job's pod template cannot be changed. */}}
{{- define "berth.migrationJobName" -}}
{{- printf "%s-migrate-%s" (include "berth.fullname" .) (printf "%s%s" .Chart.Version (toJson .Values) | sha256sum | trunc 8) | trunc 63 -}}
{{- end -}}
