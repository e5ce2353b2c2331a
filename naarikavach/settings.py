"""Django settings for NaariKavach; every deployment knob is an environment variable with a safe default."""

import os
from pathlib import Path

import dj_database_url

from naarikavach.env import env_bool, env_float, env_int, env_list, env_str, secret_from_env_or_file

BASE_DIR = Path(__file__).resolve().parent.parent
# Machine-local state that must never be committed: generated secrets, the SQLite database, evidence.
LOCAL_DIR = Path(env_str("NAARIKAVACH_LOCAL_DIR", str(BASE_DIR / ".local")))
# Owner only: it holds the secret key, the SQLite database (phone numbers) and evidence.
LOCAL_DIR.mkdir(mode=0o700, parents=True, exist_ok=True)
if LOCAL_DIR.stat().st_mode & 0o077 and LOCAL_DIR.stat().st_uid == os.getuid():
    LOCAL_DIR.chmod(0o700)

SECRET_KEY = secret_from_env_or_file("DJANGO_SECRET_KEY", LOCAL_DIR / "secret_key")
DEBUG = env_bool("DJANGO_DEBUG", False)
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", "")

# HTTPS mode (DJANGO_HTTPS=1, behind TLS): redirects to https, secure cookies, HSTS; `manage.py check
# --deploy` reports nothing in this mode. Behind a TLS-terminating proxy, that proxy must set
# X-Forwarded-Proto (trusted only when TRUSTED_PROXY_COUNT > 0).
HTTPS = env_bool("DJANGO_HTTPS", False)
if HTTPS:
    SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", True)
    SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("DJANGO_HSTS_SECONDS", 365 * 24 * 3600)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("DJANGO_HSTS_PRELOAD", True)
    if env_int("TRUSTED_PROXY_COUNT", 0) > 0:
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_HTTPONLY = True

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "corsheaders",
    "drf_spectacular_sidecar",
    "naarikavach",
    "common",
    "accounts",
    "compat",
    "sos",
    "incidents",
    "response",
    "cameras",
    "realtime",
    "realtime_server",
    "console",
    "detection",
    "dashboard",
    "privacy",
    "contacts",
]

MIDDLEWARE = [
    "common.metrics.MetricsMiddleware",
    "common.api.middleware.RejectNulMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Serves the dashboard's own static files in production too (no separate web server needed).
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Before anything that may answer: a preflight is answered here, never refused for lack of a token.
    "corsheaders.middleware.CorsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "common.api.middleware.ThrottledAsJsonMiddleware",
    "common.api.security_headers.ContentSecurityPolicyMiddleware",
]

# Every password check (API, admin, dashboard sign-in) is counted per client address (accounts/backends.py).
AUTHENTICATION_BACKENDS = ["accounts.backends.RateLimitedModelBackend"]

ROOT_URLCONF = "naarikavach.urls"
WSGI_APPLICATION = "naarikavach.wsgi.application"
ASGI_APPLICATION = "naarikavach.asgi.application"

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
            ],
        },
    },
]

# SQLite in WAL mode by default (readers never block the writer); DATABASE_URL switches to PostgreSQL.
DATABASE_URL = env_str("DATABASE_URL", "")
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=env_int("DB_CONN_MAX_AGE", 60))}
    # One test database per test run (pid), so that concurrent runs on one server never collide.
    DATABASES["default"]["TEST"] = {
        "NAME": env_str("TEST_DB_NAME", f"test_{DATABASES['default']['NAME']}_{os.getpid()}")
    }
else:
    DATABASES = {
        "default": {
            # Django's SQLite backend, with the writers of one process taking turns on a lock of the
            # process instead of sleeping in SQLite's busy handler (naarikavach/sqlite/base.py).
            "ENGINE": "naarikavach.sqlite",
            "NAME": env_str("SQLITE_PATH", str(LOCAL_DIR / "db.sqlite3")),
            # Persistent per-thread connections (the API runs as threaded WSGI): no reconnect and
            # PRAGMAs on every request.
            "CONN_MAX_AGE": env_int("DB_CONN_MAX_AGE", 600),
            "OPTIONS": {
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
                # IMMEDIATE takes the write lock at BEGIN, so concurrent writers queue
                # (up to `timeout`) instead of failing with "database is locked" mid-transaction.
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
            },
            # A file, not memory, so that servers started by the tests in other processes
            # (realtime, detection worker) see the same test database. One per test run (pid),
            # so that two runs on one machine never share, or delete, each other's database.
            "TEST": {"NAME": env_str("SQLITE_TEST_PATH", str(LOCAL_DIR / f"test_db_{os.getpid()}.sqlite3"))},
        }
    }

# Rate counters (common/ratelimit.py) are shared by every process: Redis when REDIS_URL is set, else a
# table of the database (created by `migrate`, naarikavach/migrations/0001_cache_table.py).
REDIS_URL = env_str("REDIS_URL", "")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "naarikavach_cache",
            # Culling drops entries regardless of age: keep it far away, or an attacker's many keys
            # would evict (and so reset) the counters that hold them back.
            "OPTIONS": {"MAX_ENTRIES": 1_000_000},
        }
    }
# API tokens (accounts.models.AuthToken): hashed, one per sign-in, expiring. Staff sign in for a shift.
TOKEN_TTL_HOURS = env_float("TOKEN_TTL_HOURS", 24 * 30)
STAFF_TOKEN_TTL_HOURS = env_float("STAFF_TOKEN_TTL_HOURS", 12)
# How often the realtime server re-checks its signed-in sockets' tokens (sign-out, expiry, deactivation).
REALTIME_SESSION_CHECK_SECONDS = env_float("REALTIME_SESSION_CHECK_SECONDS", 2)
# How many proxies in front of the API append to X-Forwarded-For; 0: the header is never trusted.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
# WhiteNoise serves static files straight from the app and npm folders (WHITENOISE_USE_FINDERS);
# set STATIC_ROOT only for a `collectstatic` deployment.
STATIC_ROOT = env_str("STATIC_ROOT", "") or None
STATICFILES_DIRS = [BASE_DIR / "static"] if (BASE_DIR / "static").exists() else []
# The dashboard's libraries come from npm (`npm ci`), served from node_modules under /static/vendor/.
STATICFILES_DIRS += [
    ("vendor/leaflet", BASE_DIR / "node_modules" / "leaflet" / "dist"),
    ("vendor/socket.io", BASE_DIR / "node_modules" / "socket.io-client" / "dist"),
    ("vendor/uplot", BASE_DIR / "node_modules" / "uplot" / "dist"),  # the response-time report's chart
    ("vendor/leaflet.markercluster", BASE_DIR / "node_modules" / "leaflet.markercluster" / "dist"),
]
# WhiteNoise serves straight from the finders, so pages work without collectstatic and with DEBUG off.
WHITENOISE_USE_FINDERS = True

# Evidence is private: MEDIA_ROOT is never served by a public URL, only through authenticated views.
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(LOCAL_DIR / "media")))
MEDIA_URL = "/media-not-public/"

# Incidents from AI detection (see docs/incidents.md). Reports at or above a kind's threshold make
# incidents; a report joins an open incident of its kind at its beacon seen within the window.
INCIDENT_THRESHOLDS = {
    "violence": env_float("INCIDENT_THRESHOLD_VIOLENCE", 0.75),
    "scream": env_float("INCIDENT_THRESHOLD_SCREAM", 0.80),
    "camera_tamper": env_float("INCIDENT_THRESHOLD_CAMERA_TAMPER", 0.5),
}
INCIDENT_DEDUP_WINDOW_SECONDS = env_int("INCIDENT_DEDUP_WINDOW_SECONDS", 300)
# Camera health (see docs/cameras.md): a camera without a heartbeat for the grace period, or reporting
# `down`, is offline (a `camera_offline` incident); it is back after reporting well for the recovery time.
CAMERA_OFFLINE_GRACE_SECONDS = env_float("CAMERA_OFFLINE_GRACE_SECONDS", 30.0)
# How often the background worker (run_worker) looks for cameras gone silent.
CAMERA_CHECK_SECONDS = env_float("CAMERA_CHECK_SECONDS", 5.0)
CAMERA_RECOVERY_SECONDS = env_float("CAMERA_RECOVERY_SECONDS", 30.0)
CAMERA_OFFLINE_PRIORITY = env_str("CAMERA_OFFLINE_PRIORITY", "High")
# An SOS position without an accuracy is taken to be this uncertain when linking cameras to it.
CAMERA_SOS_DEFAULT_UNCERTAINTY_M = env_float("CAMERA_SOS_DEFAULT_UNCERTAINTY_M", 50.0)
# How long a responder's snapshot request waits for the camera's worker (a heartbeat to carry the request,
# then the worker's upload); the frame is refused after this.
CAMERA_SNAPSHOT_TIMEOUT_SECONDS = env_float("CAMERA_SNAPSHOT_TIMEOUT_SECONDS", 60.0)
EVIDENCE_MAX_BYTES = env_int("EVIDENCE_MAX_BYTES", 5 * 1024 * 1024)
# Evidence goes to MEDIA_ROOT unless GS_BUCKET_NAME is set: then to Google Cloud Storage (django-storages),
# private, handed out as signed URLs that expire. Credentials: GS_CREDENTIALS_FILE (a service-account key),
# else the machine's default credentials with GS_IAM_SIGN_BLOB=1 to sign through the IAM API.
GS_BUCKET_NAME = env_str("GS_BUCKET_NAME", "")
GS_PROJECT_ID = env_str("GS_PROJECT_ID", "") or None
GS_CREDENTIALS_FILE = env_str("GS_CREDENTIALS_FILE", "")
GS_IAM_SIGN_BLOB = env_bool("GS_IAM_SIGN_BLOB", False)
# How long a signed evidence URL lives: 15 minutes by default, never more than an hour (incidents.storage).
EVIDENCE_URL_EXPIRY_SECONDS = env_int("EVIDENCE_URL_EXPIRY_SECONDS", 900)
# Privacy (docs/privacy.md): the key that signs evidence bundles (made on first use, like the secret key).
EVIDENCE_SIGNING_KEY_FILE = Path(env_str("EVIDENCE_SIGNING_KEY_FILE", str(LOCAL_DIR / "evidence_signing_key.pem")))
# Retention (privacy.retention; `manage.py purge_expired_data`, run daily): days after which each kind of data
# is removed; 0 keeps it for ever. Legal holds exempt an SOS or incident and everything attached to it.
PRIVACY_RETENTION_DAYS = {
    "below_threshold_reports": env_int("RETENTION_BELOW_THRESHOLD_DAYS", 30),
    "closed_incidents": env_int("RETENTION_CLOSED_INCIDENT_DAYS", 730),
    "closed_sos": env_int("RETENTION_CLOSED_SOS_DAYS", 730),
    "sos_trails": env_int("RETENTION_SOS_TRAIL_DAYS", 180),
    "anonymous_sos_contact": env_int("RETENTION_ANONYMOUS_CONTACT_DAYS", 30),
    "view_audit": env_int("RETENTION_VIEW_AUDIT_DAYS", 1095),
    # Camera snapshots on request, counted from the request (cameras.retention).
    "camera_snapshots": env_int("RETENTION_CAMERA_SNAPSHOT_DAYS", 30),
}
# Minimisation of a closed anonymous SOS keeps its first and last points and those at least this far apart.
PRIVACY_MINIMISED_TRAIL_SPACING_M = env_float("PRIVACY_MINIMISED_TRAIL_SPACING_M", 250)
PRIVACY_PURGE_BATCH_SIZE = env_int("PRIVACY_PURGE_BATCH_SIZE", 500)
# Faces in evidence are looked for in a copy at most this many pixels on its longer side (privacy.redaction).
PRIVACY_FACE_DETECTION_MAX_SIDE = env_int("PRIVACY_FACE_DETECTION_MAX_SIDE", 960)
# Alerts for new incidents, sent by `python manage.py send_alerts` (never inside the request).
ALERT_EMAIL_RECIPIENTS = env_list("ALERT_EMAIL_RECIPIENTS", "")
ALERT_WEBHOOK_URLS = env_list("ALERT_WEBHOOK_URLS", "")
ALERT_WEBHOOK_SECRET = secret_from_env_or_file("ALERT_WEBHOOK_SECRET", LOCAL_DIR / "webhook_secret")
ALERT_WEBHOOK_TIMEOUT_SECONDS = env_float("ALERT_WEBHOOK_TIMEOUT_SECONDS", 10)
ALERT_RETRY_BASE_SECONDS = env_float("ALERT_RETRY_BASE_SECONDS", 30)
ALERT_RETRY_MAX_SECONDS = env_float("ALERT_RETRY_MAX_SECONDS", 3600)
ALERT_POLL_SECONDS = env_float("ALERT_POLL_SECONDS", 2)
# Standard Webhooks signing: ALERT_WEBHOOK_SECRET signs (a "whsec_<base64>" secret, or any text used as
# the key's bytes); while receivers move to a new secret, the old ones listed here sign too.
ALERT_WEBHOOK_PREVIOUS_SECRETS = env_list("ALERT_WEBHOOK_PREVIOUS_SECRETS", "")
# A delivery that failed this many times is dead: shown in admin with its last error, retried only by hand.
ALERT_MAX_ATTEMPTS = env_int("ALERT_MAX_ATTEMPTS", 12)
# A sender renews its claims while it sends; a sender that died gives its rows up this soon.
ALERT_CLAIM_LEASE_SECONDS = env_float("ALERT_CLAIM_LEASE_SECONDS", 10)
# Alerts in flight at once per sender (one per target at a time): a slow target never delays another.
ALERT_SENDER_WORKERS = env_int("ALERT_SENDER_WORKERS", 8)
# Escalation (response/, docs/response.md): the scheduler in `manage.py run_worker` looks this often.
ESCALATION_TICK_SECONDS = env_float("ESCALATION_TICK_SECONDS", 0.25)
# Who "notify supervisors" tells, besides the AlertTargets marked as supervisors.
ESCALATION_SUPERVISOR_EMAILS = env_list("ESCALATION_SUPERVISOR_EMAILS", "")
ESCALATION_SUPERVISOR_WEBHOOKS = env_list("ESCALATION_SUPERVISOR_WEBHOOKS", "")
# Nearest units: rough ETA speed, and how old a unit's position may be before it is ignored.
UNIT_ETA_SPEED_KMH = env_float("UNIT_ETA_SPEED_KMH", 30)
UNIT_POSITION_MAX_AGE_SECONDS = env_int("UNIT_POSITION_MAX_AGE_SECONDS", 30 * 60)
# Response-time targets for the report: the share of alerts acknowledged / on scene within these.
RESPONSE_TARGET_ACKNOWLEDGE_SECONDS = env_int("RESPONSE_TARGET_ACKNOWLEDGE_SECONDS", 60)
RESPONSE_TARGET_ON_SCENE_SECONDS = env_int("RESPONSE_TARGET_ON_SCENE_SECONDS", 15 * 60)
# The `sender` of CAP 1.2 alerts (GET …/cap.xml, CAP webhooks): no spaces, commas or '<', '&'.
CAP_SENDER = env_str("CAP_SENDER", "naarikavach@localhost")
# GET /healthz answers 503 while an alert older than this is still undelivered (the sender is down or behind),
# or while more than HEALTH_ALERT_DEAD_MAX alerts were given up in the last HEALTH_ALERT_DEAD_WINDOW_SECONDS
# (someone must look at a target that stopped accepting them, then queue them again in admin).
HEALTH_ALERT_BACKLOG_SECONDS = env_int("HEALTH_ALERT_BACKLOG_SECONDS", 300)
HEALTH_ALERT_DEAD_MAX = env_int("HEALTH_ALERT_DEAD_MAX", 0)
HEALTH_ALERT_DEAD_WINDOW_SECONDS = env_int("HEALTH_ALERT_DEAD_WINDOW_SECONDS", 3600)
EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "NaariKavach <alerts@localhost>")

LOGIN_URL = "/dashboard/login/"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.HashedTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "common.api.pagination.StandardPagination",
    "PAGE_SIZE": 25,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "EXCEPTION_HANDLER": "common.api.exceptions.exception_handler",
    "DEFAULT_PARSER_CLASSES": [
        "common.api.parsers.SafeJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_SCHEMA_CLASS": "common.api.schema.AutoSchema",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}

# Rates for the endpoints anyone may call; read on every request, so they can be changed per deployment.
THROTTLE_RATES = {
    "auth": env_str("THROTTLE_AUTH", "30/min"),
    "register": env_str("THROTTLE_REGISTER", "20/hour"),
}
# The newest points of a trail that GET /api/sos/<id>/ returns (the realtime room's join sends the whole trail).
SOS_DETAIL_MAX_POINTS = env_int("SOS_DETAIL_MAX_POINTS", 500)

# Raising an SOS is never refused per address: beyond these counts per window it is flagged as a
# suspected flood and grouped on the dashboard; only the ceiling answers 429 (sos/flood.py, docs/citizen.md).
SOS_FLOOD_WINDOW_SECONDS = env_int("SOS_FLOOD_WINDOW_SECONDS", 600)
SOS_FLOOD_SENDER_THRESHOLD = env_int("SOS_FLOOD_SENDER_THRESHOLD", 3)
SOS_FLOOD_ADDRESS_THRESHOLD = env_int("SOS_FLOOD_ADDRESS_THRESHOLD", 10)
SOS_FLOOD_NEW_SENDERS_PER_ADDRESS = env_int("SOS_FLOOD_NEW_SENDERS_PER_ADDRESS", 30)
SOS_FLOOD_CEILING = env_int("SOS_FLOOD_CEILING", 600)
SOS_POINTS_PER_MINUTE = env_int("SOS_POINTS_PER_MINUTE", 120)
# Trusted contacts: their live links start with this address; a gateway (SMS/WhatsApp) gets a signed webhook.
PUBLIC_BASE_URL = env_str("PUBLIC_BASE_URL", "http://localhost:8000")
CONTACT_WEBHOOK_URL = env_str("CONTACT_WEBHOOK_URL", "")
# A walk-me-home check-in raises an SOS this long after its time unless she checks in.
CHECKIN_GRACE_SECONDS = env_int("CHECKIN_GRACE_SECONDS", 120)
# The number the citizen page's call and SMS buttons use.
SOS_EMERGENCY_NUMBER = env_str("SOS_EMERGENCY_NUMBER", "112")

SPECTACULAR_SETTINGS = {
    "TITLE": "NaariKavach API",
    "DESCRIPTION": "Citizen SOS, police response and CCTV incident API.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "ENUM_NAME_OVERRIDES": {
        "SOSStatusEnum": "sos.models.SOS.Status",
        "IncidentStatusEnum": "incidents.models.Incident.Status",
        "UnitStatusEnum": "accounts.models.Unit.Status",
        "IncidentKindEnum": "incidents.models.IncidentKind",
        "DetectionKindEnum": "incidents.models.DetectionKind",
    },
    # Swagger UI from our own static files (drf-spectacular-sidecar): no CDN, works on closed networks.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "PREPROCESSING_HOOKS": ["compat.schema.exclude_compat_routes"],
    # An example for every request and response that has no hand-written one (common/api/schema_examples.py).
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums",
                             "common.api.schema_examples.add_examples"],
}

# Realtime delivery (see realtime/ and socketio_testing_guide.md).
REALTIME_PORT = env_int("REALTIME_PORT", 8001)
REALTIME_NUDGE_ADDR = env_str("REALTIME_NUDGE_ADDR", "127.0.0.1:8002")
REALTIME_POLL_INTERVAL = env_float("REALTIME_POLL_INTERVAL", 1.0)
# The realtime server's GET /healthz answers 503 once reading the outbox has failed for this long.
REALTIME_HEALTH_STALE_SECONDS = env_float("REALTIME_HEALTH_STALE_SECONDS", 10)
# GET /healthz of the API asks the realtime server (its /healthz/detail, over loopback) how far it has
# delivered, and answers 503 when it is unreachable or when an event older than HEALTH_OUTBOX_LAG_SECONDS is
# still waiting for it. Empty: no realtime check (an API deployed without the realtime server).
HEALTH_REALTIME_URL = env_str("HEALTH_REALTIME_URL", f"http://127.0.0.1:{REALTIME_PORT}")
HEALTH_REALTIME_TIMEOUT_SECONDS = env_float("HEALTH_REALTIME_TIMEOUT_SECONDS", 1.0)
HEALTH_OUTBOX_LAG_SECONDS = env_int("HEALTH_OUTBOX_LAG_SECONDS", 30)
OUTBOX_RETENTION_HOURS = env_float("OUTBOX_RETENTION_HOURS", 72)
# Check every published event against realtime/event_schema.py and refuse a mismatch (the tests turn
# this on; in production a mismatch is logged and the event still delivered).
EVENT_SCHEMA_STRICT = env_bool("EVENT_SCHEMA_STRICT", False)
# How often the realtime server deletes outbox events older than the retention (0: never; see prune_outbox).
REALTIME_PRUNE_INTERVAL = env_float("REALTIME_PRUNE_INTERVAL", 600)
# Browser origins other than our own pages that may call the API and the realtime server (for example a
# NaariKavach web dashboard hosted elsewhere): "https://console.example.org,http://localhost:3000".
# Empty by default. The realtime server also admits pages from ALLOWED_HOSTS (ours, on any port).
CORS_ALLOWED_ORIGINS = env_list("CORS_ALLOWED_ORIGINS", "")
# The NaariKavach-shaped SOS list (compat/): every open SOS, plus the closed ones of this window.
COMPAT_CLOSED_WINDOW_HOURS = env_int("COMPAT_CLOSED_WINDOW_HOURS", 24)
COMPAT_CLOSED_LIMIT = env_int("COMPAT_CLOSED_LIMIT", 200)
COMPAT_LIST_TRAIL_POINTS = 20  # newest points per SOS in the list; the detail has the whole trail
CORS_ALLOW_HEADERS = (
    "accept", "authorization", "content-type", "user-agent", "x-csrftoken", "x-requested-with", "x-sos-token",
)
# Limits per realtime connection (realtime_server/limits.py).
REALTIME_MAX_MESSAGE_BYTES = env_int("REALTIME_MAX_MESSAGE_BYTES", 64 * 1024)
REALTIME_MAX_MESSAGES_PER_SECOND = env_float("REALTIME_MAX_MESSAGES_PER_SECOND", 10)
REALTIME_MESSAGE_BURST = env_float("REALTIME_MESSAGE_BURST", 40)
REALTIME_MAX_UNAUTHENTICATED = env_int("REALTIME_MAX_UNAUTHENTICATED", 200)
REALTIME_AUTH_TIMEOUT_SECONDS = env_float("REALTIME_AUTH_TIMEOUT_SECONDS", 10)

# Web pages (dashboard/): where browsers reach the realtime server (empty: same host, REALTIME_PORT)
# and the map tiles (empty: no tile layer, for closed networks; markers and lists still work).
REALTIME_PUBLIC_URL = env_str("REALTIME_PUBLIC_URL", "")
MAP_TILE_URL = env_str("MAP_TILE_URL", "https://tile.openstreetmap.org/{z}/{x}/{y}.png")
MAP_TILE_ATTRIBUTION = env_str("MAP_TILE_ATTRIBUTION", "&copy; OpenStreetMap contributors")
MAP_DEFAULT_CENTER = [float(part) for part in env_list("MAP_DEFAULT_CENTER", "12.9716,77.5946")]
MAP_DEFAULT_ZOOM = env_int("MAP_DEFAULT_ZOOM", 12)
# The console's alarm sounds again this often while any alert waits for an acknowledgement (docs/dashboard.md).
DASHBOARD_ALARM_REPEAT_SECONDS = env_int("DASHBOARD_ALARM_REPEAT_SECONDS", 10)

# LOG_FORMAT=json: one JSON object per line, for log collectors. Refusals that are the client's fault
# (a Host header not in ALLOWED_HOSTS) are logged as one line, without Django's traceback.
LOG_FORMAT = env_str("LOG_FORMAT", "plain")
_LINE = "%(asctime)s %(levelname)s %(name)s: %(message)s"
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"()": "common.logging.JsonFormatter"} if LOG_FORMAT == "json" else {"format": _LINE},
        "one_line": {"()": "common.logging.OneLineJsonFormatter"} if LOG_FORMAT == "json"
        else {"()": "common.logging.OneLineFormatter", "format": _LINE},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain"},
        "console_one_line": {"class": "logging.StreamHandler", "formatter": "one_line"},
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.request": {"level": "ERROR"},
        "django.security": {"handlers": ["console_one_line"], "level": "INFO", "propagate": False},
    },
}
