"""CreatorHub settings, read from the environment (see README: "Configuration").

The defaults run the demo on SQLite with eager Celery tasks and emails printed to the console.
Production sets DEBUG=false, SECRET_KEY, ALLOWED_HOSTS, DATABASE_URL and REDIS_URL.
"""

import re
from datetime import timedelta
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from kombu import Queue
from whitenoise.compress import Compressor

from creatorhub.env import envbool, envfilestorage, envint, envlist, envrate, envstr

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = envbool("DEBUG", "True")
_DEV_SECRET_KEY = "dev-only-insecure-secret-key-do-not-use-in-production"
SECRET_KEY = envstr("SECRET_KEY", _DEV_SECRET_KEY if DEBUG else "")
if not SECRET_KEY:
    raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is false.")
ALLOWED_HOSTS = envlist("ALLOWED_HOSTS", "127.0.0.1,localhost" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = envlist("CSRF_TRUSTED_ORIGINS", "")

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
    "django_filters",
    "anymail",
    "axes",
    "csp",
    "creatorhub",
    "contacts",
    "offers",
    "emails",
    "activity",
    "usage",
    "audience",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "creatorhub.security.PermissionsPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "creatorhub.api.errors.DatabaseUnavailableMiddleware",  # a 503, not a 500, when the database is down
    "axes.middleware.AxesMiddleware",  # last (django-axes): answers a locked-out login
]

ROOT_URLCONF = "creatorhub.urls"
WSGI_APPLICATION = "creatorhub.wsgi.application"

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
                "creatorhub.context_processors.dashboard",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        envstr("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
        conn_max_age=envint("DATABASE_CONN_MAX_AGE", "0"),
        conn_health_checks=True,  # a kept connection is checked before reuse (one lost in a restart)
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# PostgreSQL row-level security (creatorhub.rls, README "Row-level security"): every session of every
# process runs as this role (SET ROLE after login), which owns no table and cannot bypass the policies;
# `manage.py migrate` runs as the login user, the tables' owner, and creates the role. It cannot be turned
# off: `check --deploy` fails unless the policies bind the running role. SQLite has no row-level security.
DATABASE_APP_ROLE = ""
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASE_APP_ROLE = envstr("DATABASE_APP_ROLE", "creatorhub_app")
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", DATABASE_APP_ROLE):
        raise ImproperlyConfigured(f"DATABASE_APP_ROLE must be a lower-case name; got {DATABASE_APP_ROLE!r}.")
    DATABASES["default"].setdefault("OPTIONS", {})["assume_role"] = DATABASE_APP_ROLE
elif envstr("DATABASE_APP_ROLE", ""):
    raise ImproperlyConfigured("DATABASE_APP_ROLE needs PostgreSQL (row-level security).")

AUTH_USER_MODEL = "creatorhub.User"
# django-axes first: it refuses a locked-out login before the password is checked; then the email login.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "app-home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = envstr("STATIC_ROOT", str(BASE_DIR / "staticfiles"))
STATICFILES_DIRS = [BASE_DIR / "static"]
# Uploaded imports and written exports: private files, served only through the site's scoped pages. Web
# saves an upload that a worker reads, and a worker writes an export that web serves, so both must use the
# same storage: a directory both mount (FILE_STORAGE=filesystem, MEDIA_ROOT; compose mounts one volume in
# web and worker), or S3-compatible object storage (FILE_STORAGE=s3, django-storages), where downloads are
# redirects to links signed for DOWNLOAD_LINK_SECONDS. S3 credentials come from boto3's usual sources
# (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or the machine's role).
MEDIA_ROOT = envstr("MEDIA_ROOT", str(BASE_DIR / "var" / "media"))
DOWNLOAD_LINK_SECONDS = envint("DOWNLOAD_LINK_SECONDS", "300")
# How long an export's file is kept before it is deleted (the hourly sweep, contacts.export_files).
EXPORT_FILES_KEPT_DAYS = envint("EXPORT_FILES_KEPT_DAYS", "7")
# Whitenoise compresses the collected files (gzip and brotli) once, at collectstatic; source maps, much of
# what the installed apps ship and fetched only by a browser's developer tools, are served as they are.
WHITENOISE_SKIP_COMPRESS_EXTENSIONS = (*Compressor.SKIP_COMPRESS_EXTENSIONS, "map")
STORAGES = {
    "default": envfilestorage("FILE_STORAGE", link_seconds=DOWNLOAD_LINK_SECONDS),
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# Email: any Django backend (SMTP, console, file, or a provider through django-anymail).
EMAIL_BACKEND = envstr("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_FILE_PATH = envstr("EMAIL_FILE_PATH", str(BASE_DIR / "var" / "mail"))
EMAIL_HOST = envstr("EMAIL_HOST", "localhost")
EMAIL_PORT = envint("EMAIL_PORT", "25")
EMAIL_HOST_USER = envstr("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = envstr("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = envbool("EMAIL_USE_TLS", "False")
EMAIL_TIMEOUT = envint("EMAIL_TIMEOUT", "10")  # seconds: a stalled SMTP server fails a send, not the worker
# Milliseconds one part of an automated email may take to render: a site's costly template fails its email
# (or is refused by the editor), not the worker (emails.rendering).
EMAIL_RENDER_BUDGET_MS = envint("EMAIL_RENDER_BUDGET_MS", "500")
DEFAULT_FROM_EMAIL = envstr("DEFAULT_FROM_EMAIL", "CreatorHub <no-reply@creatorhub.localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# Redis: the Celery broker and the cache. Without it, tasks run eagerly and the cache is per process.
REDIS_URL = envstr("REDIS_URL", "")
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_BROKER_URL = REDIS_URL or "memory://localhost/"
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_TIMEZONE = "UTC"
# Emails to one person (a purchase, a grant, an opt-in, a password) have a queue of their own, which bulk
# work (a grant job's batches) cannot fill; every worker takes all three queues.
CELERY_TASK_DEFAULT_QUEUE = "celery"
CELERY_TASK_QUEUES = [Queue("transactional"), Queue("celery"), Queue("bulk")]
CELERY_TASK_ROUTES = {
    "emails.tasks.send_email": {"queue": "transactional"},
    "creatorhub.tasks.send_invitation_email": {"queue": "transactional"},
    "creatorhub.tasks.send_password_reset_email": {"queue": "transactional"},
    "emails.tasks.send_due_emails": {"queue": "bulk"},
}
# Every task has a time limit (a task kind may set its own): the soft one raises in the task, which
# records what it can; the hard one ends the worker process, which Celery replaces.
CELERY_TASK_SOFT_TIME_LIMIT = envint("CELERY_TASK_SOFT_TIME_LIMIT", "300")
CELERY_TASK_TIME_LIMIT = envint("CELERY_TASK_TIME_LIMIT", "360")
# Redis gives a task whose worker died (acks late: its message was never acknowledged) to another worker
# after this many seconds. Longer than the longest task (a 100 MB import), or one still running runs twice.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": envint("CELERY_VISIBILITY_TIMEOUT", "3600")}
CACHES = {
    "default": {"BACKEND": "creatorhub.cache.RedisCache", "LOCATION": REDIS_URL}
    if REDIS_URL
    else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "creatorhub.api.authentication.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "creatorhub.api.pagination.KeysetPagination",
    # Per API key (creatorhub.api.throttling): API_RATE_PER_KEY, and API_WRITE_RATE_PER_KEY for writes.
    "DEFAULT_THROTTLE_CLASSES": [
        "creatorhub.api.throttling.ApiKeyRateThrottle",
        "creatorhub.api.throttling.ApiKeyWriteRateThrottle",
    ],
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "creatorhub.api.errors.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        "creatorhub.api.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "CreatorHub API",
    "DESCRIPTION": (
        "Site resources live under /api/v1/sites/<site>/. Authenticate with a site API key "
        "(`Authorization: Bearer <key>`) or a dashboard session."
    ),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "DEFAULT_GENERATOR_CLASS": "creatorhub.api.schema.PlatformSchemaGenerator",
    "ENUM_NAME_OVERRIDES": {
        "SubscriptionStatusEnum": "contacts.models.SubscriptionStatus",
        "UnsubscribeReasonEnum": "contacts.models.UnsubscribeReason",
        "RoleEnum": "creatorhub.roles.Role",
        "ImportStatusEnum": "contacts.models.ImportStatus",
        "BulkActionKindEnum": "contacts.models.BulkActionKind",
        "JobStatusEnum": "contacts.models.JobStatus",
        "EmailKindEnum": "emails.models.EmailKind",
        "ActivityKindEnum": "activity.models.ActivityKind",
    },
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# Security. Behind a TLS-terminating proxy, production keeps these on (README: "Deploying").
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = envbool("SECURE_SSL_REDIRECT", str(not DEBUG))
SESSION_COOKIE_SECURE = envbool("SESSION_COOKIE_SECURE", str(not DEBUG))
CSRF_COOKIE_SECURE = envbool("CSRF_COOKIE_SECURE", str(not DEBUG))
SECURE_HSTS_SECONDS = envint("SECURE_HSTS_SECONDS", "0" if DEBUG else "31536000")
SECURE_HSTS_INCLUDE_SUBDOMAINS = envbool("SECURE_HSTS_INCLUDE_SUBDOMAINS", str(not DEBUG))
SECURE_HSTS_PRELOAD = envbool("SECURE_HSTS_PRELOAD", str(not DEBUG))
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
# No page uses these browser features (creatorhub.security).
PERMISSIONS_POLICY = envstr(
    "PERMISSIONS_POLICY", "camera=(), microphone=(), geolocation=(), payment=(), usb=()"
)
# Content-Security-Policy (django-csp 4): scripts and styles only from our own static files (htmx is
# served from there; no inline script, style or style attribute), images also as data: URLs. A page may
# widen it for its own response only: the email preview (emails.views) and a public form that
# redirects elsewhere after a sign-up (contacts.public).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
        "base-uri": [NONE],
        "object-src": [NONE],
    },
}

# Abuse limits (README "Abuse limits and security headers"). A rate is "N/period": at most N in each
# window of the period (s, m, h or d, with an optional multiple: "5/15m"), counted in the cache (Redis in
# production) by creatorhub.ratelimits; over it, a 429 with Retry-After.
LOGIN_RATE_PER_IP = envrate("LOGIN_RATE_PER_IP", "30/10m")  # dashboard login POSTs from one address
LOGIN_FAILURES_PER_ACCOUNT = envrate("LOGIN_FAILURES_PER_ACCOUNT", "20/h")  # failed, one email, anywhere
MEMBER_LOGIN_RATE_PER_IP = envrate("MEMBER_LOGIN_RATE_PER_IP", "30/10m")  # member logins, all sites
MEMBER_LOGIN_FAILURES_PER_EMAIL = envrate("MEMBER_LOGIN_FAILURES_PER_EMAIL", "5/15m")  # one site and email
# Password reset requests, the member area's (all sites; one site and email) and the dashboard's apart.
PASSWORD_RESET_RATE_PER_IP = envrate("PASSWORD_RESET_RATE_PER_IP", "10/h")
PASSWORD_RESET_RATE_PER_EMAIL = envrate("PASSWORD_RESET_RATE_PER_EMAIL", "3/h")
FORM_SUBMISSION_RATE_PER_IP = envrate("FORM_SUBMISSION_RATE_PER_IP", "10/10m")  # one public form
API_RATE_PER_KEY = envrate("API_RATE_PER_KEY", "1200/m")  # every request with one API key
API_WRITE_RATE_PER_KEY = envrate("API_WRITE_RATE_PER_KEY", "300/m")  # its POST, PUT, PATCH and DELETE
# django-axes: after LOGIN_FAILURE_LIMIT failed dashboard logins for one account from one address, that
# account is locked for that address only (so nobody can lock its owner out from everywhere) for
# LOGIN_COOLOFF_MINUTES, counted again from each further failure. Kept in the database (axes'
# AccessAttempt, visible in the admin); `manage.py axes_reset` lifts every lock.
AXES_FAILURE_LIMIT = envint("LOGIN_FAILURE_LIMIT", "5")
AXES_COOLOFF_TIME = timedelta(minutes=envint("LOGIN_COOLOFF_MINUTES", "15"))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_USERNAME_FORM_FIELD = "username"
AXES_USERNAME_CALLABLE = "creatorhub.security.axes_username"
AXES_CLIENT_IP_CALLABLE = "creatorhub.ratelimits.client_address"
AXES_LOCKOUT_CALLABLE = "creatorhub.login.locked_out"
AXES_RESET_ON_SUCCESS = True
AXES_DISABLE_ACCESS_LOG = True  # no row per successful login (addresses kept for ever)
AXES_VERBOSE = False

# The public address of the dashboard, for links in emails.
SITE_URL = envstr("SITE_URL", "http://127.0.0.1:8000")
# How long a team invitation stays valid.
INVITATION_MAX_AGE_DAYS = envint("INVITATION_MAX_AGE_DAYS", "7")
# How long a dashboard password reset link works (creatorhub.tokens; at most PASSWORD_RESET_TIMEOUT, the
# member area's set-password links', Django's three days).
DASHBOARD_RESET_MAX_AGE_MINUTES = envint("DASHBOARD_RESET_MAX_AGE_MINUTES", "60")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": envstr("LOG_LEVEL", "INFO")},
    # One line per task is noise in the web process when tasks run eagerly; workers log their own.
    "loggers": {
        "celery.app.trace": {"level": envstr("CELERY_TRACE_LOG_LEVEL", "WARNING")},
        "axes": {"level": "WARNING"},  # failed logins and lockouts; not a line per successful login
    },
}

# The nightly usage run, at USAGE_NIGHTLY_AT (HH:MM, UTC).
USAGE_NIGHTLY_AT = envstr("USAGE_NIGHTLY_AT", "03:00")
try:
    _hour, _minute = (int(part) for part in USAGE_NIGHTLY_AT.split(":"))
except ValueError:
    raise ImproperlyConfigured(f"USAGE_NIGHTLY_AT must look like 03:00; got {USAGE_NIGHTLY_AT!r}.") from None
CELERY_BEAT_SCHEDULE = {
    "requeue-due-emails": {"task": "emails.tasks.requeue_due_emails", "schedule": 60.0},
    "fold-contact-counts": {"task": "contacts.tasks.fold_contact_counts", "schedule": 60.0},
    "delete-expired-export-files": {"task": "contacts.tasks.delete_expired_export_files", "schedule": 3600.0},
    "nightly-usage": {
        "task": "usage.tasks.nightly_usage",
        "schedule": crontab(hour=_hour, minute=_minute),
    },
}

# How long a double opt-in or resubscription confirmation link works.
CONFIRMATION_MAX_AGE_DAYS = envint("CONFIRMATION_MAX_AGE_DAYS", "7")
# How long a segment's count is kept before it is counted again (audience.segments).
SEGMENT_COUNT_SECONDS = envint("SEGMENT_COUNT_SECONDS", "60")
# The largest file a contact import takes, in bytes (100 MB).
IMPORT_MAX_BYTES = envint("IMPORT_MAX_BYTES", "100000000")

# Email service providers' tracking webhooks (bounces, complaints) at /webhooks/<provider>/tracking/,
# authenticated by django-anymail (emails/webhooks.py). What an operator sets:
# - ANYMAIL_WEBHOOK_SECRET: "user:password", a long random pair (comma-separated pairs while rotating),
#   written into the webhook URL given to Postmark, SendGrid, Amazon SNS (and Mailgun, which then checks
#   both): https://user:password@host/webhooks/postmark/tracking/. Unset, the Postmark, SendGrid and
#   Amazon SES webhooks refuse every request (400); anymail alone would only warn and accept anyone.
# - MAILGUN_WEBHOOK_SIGNING_KEY: Mailgun's "HTTP webhook signing key". Unset, the Mailgun webhook fails
#   every request (anymail's configuration error, a 500) instead of trusting an unsigned one.
# - Amazon SES: the SNS subscription is confirmed automatically when its URL carries the secret; that
#   call uses boto3 with the AWS credentials of the environment (sns:ConfirmSubscription), or confirm it
#   by hand in the SNS console. anymail does not verify SNS message signatures: the secret is the proof.
ANYMAIL = {
    "WEBHOOK_SECRET": envlist("ANYMAIL_WEBHOOK_SECRET", ""),
}
if envstr("MAILGUN_WEBHOOK_SIGNING_KEY", ""):  # never "": anymail would verify signatures with an empty key
    ANYMAIL["MAILGUN_WEBHOOK_SIGNING_KEY"] = envstr("MAILGUN_WEBHOOK_SIGNING_KEY", "")
