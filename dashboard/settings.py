"""Berth settings. Every deployment-specific value comes from a BERTH_* environment variable
(or DATABASE_URL); the defaults are the embedded, single-machine setup."""

from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from dashboard.core.env import env_bool, env_int, env_list, env_secret, env_secrets, env_str, generated_secret_file

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(env_str("BERTH_DATA_DIR", str(BASE_DIR / "var")))

DEBUG = env_bool("BERTH_DEBUG", False)

SECRET_KEY = env_str("BERTH_SECRET_KEY")
if not SECRET_KEY and (key_file := env_str("BERTH_SECRET_KEY_FILE")):
    SECRET_KEY = Path(key_file).read_text().strip()
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "BERTH_SECRET_KEY (or BERTH_SECRET_KEY_FILE) is required unless BERTH_DEBUG=true "
            "(generate one with: python -c 'import secrets; print(secrets.token_urlsafe(50))')"
        )
    SECRET_KEY = "insecure-development-key-only-for-BERTH_DEBUG"

# The audit chain's HMAC keys, newest first; older ones only verify events from before a rotation.
# Kept outside the database, so that write access to it is not enough to rewrite the log unnoticed
# (docs/audit.md). Production without one fails the `audit.E001` system check.
BERTH_AUDIT_KEYS = env_secrets("BERTH_AUDIT_KEY")
if not BERTH_AUDIT_KEYS and DEBUG:
    BERTH_AUDIT_KEYS = [generated_secret_file(DATA_DIR / "audit-key")]

ALLOWED_HOSTS = env_list("BERTH_ALLOWED_HOSTS", ["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env_list("BERTH_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "axes",
    # Core apps first: the audit app re-registers the admins of the apps above it as audited ones.
    "dashboard.audit",
    "dashboard.tenancy",
    "dashboard.tasks",
    "django_tasks",
    "django_tasks_db",
    "dashboard",
    "storage",
    "registry",
    # After both feature apps: it joins them (Ceph RBD volumes for the tenants' Kubernetes clusters).
    "dashboard.kubevolumes",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "dashboard.core.middleware.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "dashboard.core.middleware.RequestIdMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "dashboard.core.middleware.VaryOnHtmxMiddleware",
    # Axes must come last so that it sees the outcome of authentication.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "dashboard.urls"
WSGI_APPLICATION = "dashboard.wsgi.application"
ASGI_APPLICATION = "dashboard.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "dashboard.tenancy.context_processors.navigation",
                "registry.context_processors.notifications",
            ],
        },
    },
]

if not env_str("DATABASE_URL"):
    # The embedded default keeps its SQLite file here; create the folder so a fresh clone just works.
    DATA_DIR.mkdir(parents=True, exist_ok=True)
DATABASES = {
    "default": dj_database_url.config(
        env="DATABASE_URL",
        default=f"sqlite:///{DATA_DIR / 'berth.sqlite3'}",
        conn_max_age=env_int("BERTH_DB_CONN_MAX_AGE", 0),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Background tasks write (audit events, progress) while requests do. Taking the write lock at
    # the start of each transaction and waiting for it, rather than failing on a lock upgrade,
    # keeps the embedded database usable with both; WAL lets readers go on meanwhile.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 20, "transaction_mode": "IMMEDIATE", "init_command": "PRAGMA journal_mode=WAL;"}
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    # Authenticates no one; answers permission questions (auditors: the audit log, nothing else) before
    # ModelBackend could grant a permission a user or group was given.
    "dashboard.tenancy.backends.PlatformRoleBackend",
    # Passwords; with BERTH_LOCAL_LOGIN=false only for the break-glass superusers.
    "dashboard.tenancy.backends.LocalPasswordBackend",
    # Single sign-on through an OpenID provider, when BERTH_OIDC_ISSUER is set (docs/sso.md).
    "dashboard.tenancy.oidc.OidcBackend",
    # The login form's username and password checked against LDAP, when BERTH_LDAP_SERVER_URI is set.
    "dashboard.tenancy.ldap_auth.LdapBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "overview"
LOGOUT_REDIRECT_URL = "login"


# Single sign-on with OpenID Connect (docs/sso.md). Off while BERTH_OIDC_ISSUER is empty; the provider's
# endpoints and keys are read from its discovery document when a sign-in first needs them.
BERTH_OIDC_ISSUER = env_str("BERTH_OIDC_ISSUER", "")
BERTH_OIDC_CLIENT_ID = env_str("BERTH_OIDC_CLIENT_ID", "")
BERTH_OIDC_CLIENT_SECRET = env_secret("BERTH_OIDC_CLIENT_SECRET")
if BERTH_OIDC_ISSUER and not (BERTH_OIDC_CLIENT_ID and BERTH_OIDC_CLIENT_SECRET):
    raise ImproperlyConfigured("BERTH_OIDC_ISSUER needs BERTH_OIDC_CLIENT_ID and BERTH_OIDC_CLIENT_SECRET(_FILE) too")
# The button's words: "Sign in with <name>".
BERTH_OIDC_PROVIDER_NAME = env_str("BERTH_OIDC_PROVIDER_NAME", "single sign-on")
BERTH_OIDC_SCOPES = env_str("BERTH_OIDC_SCOPES", "openid email profile")
BERTH_OIDC_GROUPS_CLAIM = env_str("BERTH_OIDC_GROUPS_CLAIM", "groups")
BERTH_OIDC_USERNAME_CLAIM = env_str("BERTH_OIDC_USERNAME_CLAIM", "preferred_username")
BERTH_OIDC_SIGN_ALGORITHMS = env_list("BERTH_OIDC_SIGN_ALGORITHMS", ["RS256"])
BERTH_OIDC_TIMEOUT = env_int("BERTH_OIDC_TIMEOUT", 10)
# OpenID bearer tokens (client credentials) the API accepts: JWTs from the provider above for this audience,
# whose client is mapped to a Berth user by the rule table (docs/sso.md). Empty: the API takes none.
BERTH_OIDC_API_AUDIENCE = env_str("BERTH_OIDC_API_AUDIENCE", "")
# LDAP sign-in with the login form (docs/sso.md); off while BERTH_LDAP_SERVER_URI is empty. Users are found under
# the user base with the filter (%(user)s: the name typed), their groups under the group base.
BERTH_LDAP_SERVER_URI = env_str("BERTH_LDAP_SERVER_URI", "")
BERTH_LDAP_BIND_DN = env_str("BERTH_LDAP_BIND_DN", "")
BERTH_LDAP_BIND_PASSWORD = env_secret("BERTH_LDAP_BIND_PASSWORD")
BERTH_LDAP_START_TLS = env_bool("BERTH_LDAP_START_TLS", False)
BERTH_LDAP_CA_FILE = env_str("BERTH_LDAP_CA_FILE", "")
BERTH_LDAP_USER_BASE = env_str("BERTH_LDAP_USER_BASE", "")
BERTH_LDAP_USER_FILTER = env_str("BERTH_LDAP_USER_FILTER", "(uid=%(user)s)")
BERTH_LDAP_GROUP_BASE = env_str("BERTH_LDAP_GROUP_BASE", "")
BERTH_LDAP_GROUP_FILTER = env_str("BERTH_LDAP_GROUP_FILTER", "(objectClass=groupOfNames)")
BERTH_LDAP_GROUP_TYPE = env_str("BERTH_LDAP_GROUP_TYPE", "groupOfNames")
BERTH_LDAP_TIMEOUT = env_int("BERTH_LDAP_TIMEOUT", 10)
if BERTH_LDAP_SERVER_URI and not (BERTH_LDAP_USER_BASE and BERTH_LDAP_GROUP_BASE):
    raise ImproperlyConfigured("BERTH_LDAP_SERVER_URI needs BERTH_LDAP_USER_BASE and BERTH_LDAP_GROUP_BASE too")
# Password sign-in for everyone (true), or only for superusers, the break-glass accounts (false).
BERTH_LOCAL_LOGIN = env_bool("BERTH_LOCAL_LOGIN", True)
# mozilla-django-oidc's own settings; dashboard/tenancy/oidc.py gives it the ones above and the provider's endpoints.
OIDC_USE_PKCE = True
OIDC_USE_NONCE = True
OIDC_AUTHENTICATION_CALLBACK_URL = "oidc-callback"
OIDC_TIMEOUT = BERTH_OIDC_TIMEOUT
OIDC_TOKEN_USE_BASIC_AUTH = env_bool("BERTH_OIDC_CLIENT_SECRET_BASIC", False)
LOGIN_REDIRECT_URL_FAILURE = "login"

# Failed-login throttling: lock a username+address pair out for a while after repeated failures. The address
# is the client's as dashboard/core/client_ip.py reads it: behind trusted proxies, from X-Forwarded-For.
AXES_CLIENT_IP_CALLABLE = "dashboard.core.client_ip.client_ip"
AXES_FAILURE_LIMIT = env_int("BERTH_LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = env_int("BERTH_LOGIN_COOLOFF_MINUTES", 15) / 60
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_RESET_ON_SUCCESS = True

LANGUAGE_CODE = "en-us"
TIME_ZONE = env_str("BERTH_TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env_str("BERTH_STATIC_ROOT", str(BASE_DIR / "staticfiles")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# Security: safe by default, relaxed only where the embedded plain-HTTP setup needs it.
SECURE_HTTPS = env_bool("BERTH_HTTPS", False)
SESSION_COOKIE_SECURE = SECURE_HTTPS
CSRF_COOKIE_SECURE = SECURE_HTTPS
SECURE_SSL_REDIRECT = SECURE_HTTPS
SECURE_HSTS_SECONDS = env_int("BERTH_HSTS_SECONDS", 31536000 if SECURE_HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_HTTPS
SECURE_HSTS_PRELOAD = env_bool("BERTH_HSTS_PRELOAD", False)
BERTH_BEHIND_PROXY = env_bool("BERTH_BEHIND_PROXY", False)
if BERTH_BEHIND_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# How many proxies in front of Berth append the client's address to X-Forwarded-For; the header is ignored
# at 0, so that a client cannot claim another address (dashboard/core/client_ip.py).
BERTH_TRUSTED_PROXIES = env_int("BERTH_TRUSTED_PROXIES", 1 if BERTH_BEHIND_PROXY else 0)
if BERTH_TRUSTED_PROXIES < 0:
    raise ImproperlyConfigured("BERTH_TRUSTED_PROXIES must be 0 or more")
# Probes and scrapers speak plain HTTP to the pod; a redirect to HTTPS would fail them.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
SESSION_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Everything Berth serves is its own (vendored htmx and CSS), so nothing outside 'self' is allowed.
BERTH_CONTENT_SECURITY_POLICY = env_str(
    "BERTH_CONTENT_SECURITY_POLICY",
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'",
)

# Request bodies (forms, API JSON) up to 1 MiB; a pasted config.json is at most 256 KiB, thrice that
# URL-encoded. Uploaded files are kept in memory up to 256 KiB and a byte, the rest only counted, so a
# form refuses a larger one by its size without Berth holding it (dashboard/core/uploads.py).
DATA_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 256 * 1024
FILE_UPLOAD_HANDLERS = ["dashboard.core.uploads.CappedMemoryUploadHandler"]

REST_FRAMEWORK = {
    # The token class first: a request without credentials, or with a refused token (expired, revoked), gets
    # 401 with a `WWW-Authenticate: Token` challenge rather than 403.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "dashboard.tenancy.authentication.ApiTokenAuthentication",
        "dashboard.tenancy.authentication.OidcBearerAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PARSER_CLASSES": [
        "dashboard.core.api.parsers.NestingSafeJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_PAGINATION_CLASS": "dashboard.core.api.pagination.BerthPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "dashboard.core.api.exceptions.berth_exception_handler",
    # Anonymous throttles read X-Forwarded-For only from the proxies trusted above.
    "NUM_PROXIES": BERTH_TRUSTED_PROXIES,
}
# API tokens expire after at most this many days (their owner may choose fewer).
BERTH_API_TOKEN_DAYS = env_int("BERTH_API_TOKEN_DAYS", 90)
if BERTH_API_TOKEN_DAYS < 1:
    raise ImproperlyConfigured("BERTH_API_TOKEN_DAYS must be at least 1")

SPECTACULAR_SETTINGS = {
    "TITLE": "Berth API",
    "DESCRIPTION": "Ceph RBD block storage and Kubernetes image-pull secrets, per tenant.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# Client-side timeouts for Ceph, in seconds: a dead cluster must fail a request fast, not hang it.
BERTH_CEPH_TIMEOUT = env_int("BERTH_CEPH_TIMEOUT", 4)
# After a connect got no answer, requests for that cluster fail at once for this many seconds instead of
# each waiting BERTH_CEPH_TIMEOUT again; 0 tries every time.
BERTH_CEPH_RETRY_AFTER = env_int("BERTH_CEPH_RETRY_AFTER", 5)
# Image lists come from a cache of header rows per pool and RBD namespace shared through CACHES
# (docs/image-list-cache.md). Images added, removed or renamed by anyone show at once (the pool's image
# directory is checked on every list); sizes and snapshots changed outside Berth within this many seconds
# (the rows are re-read in the background once they are older). 0 turns the cache off.
BERTH_IMAGE_LIST_REVALIDATE = env_int("BERTH_IMAGE_LIST_REVALIDATE", 30)
# Headers a second that re-read reads at most: at full speed, reading 10,000 takes the OSD and the worker half a
# second of both cores, which delays every request answered meanwhile by hundreds of milliseconds; at 2,000 a
# second it takes 5 s and a tenth of a core (a pool of 50,000 takes 25 s, still within the interval). 0: no limit.
BERTH_IMAGE_LIST_REREAD_RATE = env_int("BERTH_IMAGE_LIST_REREAD_RATE", 2000)
# Header rows each process keeps decoded in memory, over all pools (least recently used dropped first).
BERTH_IMAGE_LIST_MEMORY_ROWS = env_int("BERTH_IMAGE_LIST_MEMORY_ROWS", 200_000)

# Seconds one request to a Kubernetes API server may take in all (connecting, TLS, the answer): a silent
# API server fails a registry page within this time.
BERTH_KUBE_TIMEOUT = env_int("BERTH_KUBE_TIMEOUT", 3)

# Where ceph-csi's RBD plugin runs, the driver (provisioner) name it registers, and its cluster list:
# Berth writes tenants' Secrets and `ceph-csi-config` entries there (docs/kubernetes-volumes.md).
BERTH_CSI_NAMESPACE = env_str("BERTH_CSI_NAMESPACE", "ceph-csi-rbd")
BERTH_CSI_PROVISIONER = env_str("BERTH_CSI_PROVISIONER", "rbd.csi.ceph.com")
BERTH_CSI_CONFIG_MAP = env_str("BERTH_CSI_CONFIG_MAP", "ceph-csi-config")

# Every process of a deployment shares one cache (login throttling counts, rate limits): the database's,
# so that no cache server is needed. Its table is made by `manage.py createcachetable`.
CACHES = {"default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "berth_cache"}}

# Background work goes through the database (SQLite here, PostgreSQL in production): every worker on
# every host takes tasks from the same queue (`manage.py berth_worker`).
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
# A running task's worker writes a heartbeat this often; a task silent for BERTH_TASK_STALE_AFTER
# seconds is failed as abandoned (its worker was killed or its host died).
BERTH_TASK_HEARTBEAT = env_int("BERTH_TASK_HEARTBEAT", 5)
BERTH_TASK_STALE_AFTER = env_int("BERTH_TASK_STALE_AFTER", 30)
BERTH_TASK_KEEP_DAYS = env_int("BERTH_TASK_KEEP_DAYS", 30)
BERTH_USAGE_SAMPLE_MINUTES = env_int("BERTH_USAGE_SAMPLE_MINUTES", 60)
# Seconds between two reconciles of every managed pull secret (registry/services/managed.py): a namespace
# added to a tenant, a rotated source or a ServiceAccount created later is taken care of within this time.
BERTH_MANAGED_SECRET_RESYNC = env_int("BERTH_MANAGED_SECRET_RESYNC", 60)
# How often expired RBD trash entries are purged on clusters that have it turned on, and how often
# snapshot schedules are looked at (a schedule's own frequency says when it takes a snapshot).
BERTH_TRASH_PURGE_MINUTES = env_int("BERTH_TRASH_PURGE_MINUTES", 60)
BERTH_SNAPSHOT_SCHEDULE_MINUTES = env_int("BERTH_SNAPSHOT_SCHEDULE_MINUTES", 5)

# /metrics (and the cluster details of /readyz) answer a request that carries this bearer token, or one
# from these networks that did not come through a proxy; see dashboard/health.py.
BERTH_METRICS_TOKEN = env_str("BERTH_METRICS_TOKEN", "")
BERTH_METRICS_ALLOWED_NETWORKS = env_list("BERTH_METRICS_ALLOWED_NETWORKS", ["127.0.0.0/8", "::1/128"])

# "Test login" connects where a user says, so it refuses every address that is not public (loopback,
# private, link-local, ...) unless its host (host or host:port) or network is listed here; see
# registry/services/registry_login.py.
BERTH_REGISTRY_LOGIN_ALLOWED_HOSTS = env_list("BERTH_REGISTRY_LOGIN_ALLOWED_HOSTS", [])
BERTH_REGISTRY_LOGIN_ALLOWED_NETWORKS = env_list("BERTH_REGISTRY_LOGIN_ALLOWED_NETWORKS", [])
# Token services on another host than their registry that may receive a login (Docker Hub's does).
BERTH_REGISTRY_TOKEN_REALM_HOSTS = env_list("BERTH_REGISTRY_TOKEN_REALM_HOSTS", ["auth.docker.io"])
BERTH_REGISTRY_LOGIN_TIMEOUT = env_int("BERTH_REGISTRY_LOGIN_TIMEOUT", 10)
# Per user, the API and the wizard together; a DRF rate ("10/min", "100/hour").
BERTH_REGISTRY_LOGIN_RATE = env_str("BERTH_REGISTRY_LOGIN_RATE", "10/min")
# Credential health (registry/services/credential_health.py): every pull secret in the tenants' registry
# namespaces is test-logged-in this often; an entry with an expiry date is warned about this many days ahead.
BERTH_CREDENTIAL_HEALTH_MINUTES = env_int("BERTH_CREDENTIAL_HEALTH_MINUTES", 30)
BERTH_CREDENTIAL_EXPIRY_WARNING_DAYS = env_int("BERTH_CREDENTIAL_EXPIRY_WARNING_DAYS", 14)
# Outgoing webhooks (registry/services/notifications.py): seconds one delivery may take; a failed delivery is
# tried again after BERTH_WEBHOOK_RETRY_SECONDS, doubling each time, BERTH_WEBHOOK_ATTEMPTS times in all.
BERTH_WEBHOOK_TIMEOUT = env_int("BERTH_WEBHOOK_TIMEOUT", 5)
BERTH_WEBHOOK_RETRY_SECONDS = env_int("BERTH_WEBHOOK_RETRY_SECONDS", 30)
BERTH_WEBHOOK_ATTEMPTS = env_int("BERTH_WEBHOOK_ATTEMPTS", 6)

LOG_LEVEL = env_str("BERTH_LOG_LEVEL", "INFO")
# Error reports show no posted value and no credential-like local variable (dashboard/core/reporting.py).
DEFAULT_EXCEPTION_REPORTER_FILTER = "dashboard.core.reporting.BerthExceptionReporterFilter"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "dashboard.core.middleware.RequestIdLogFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["request_id"]},
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        # The kubernetes client logs request bodies (secret data) at DEBUG.
        "kubernetes": {"level": "WARNING"},
        "urllib3": {"level": "WARNING"},
    },
}
