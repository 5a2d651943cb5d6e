"""Django settings, all from environment variables with safe embedded defaults.

The embedded default needs no server: SQLite and kombu's filesystem broker,
both under one data folder (``RODAN_DATA_DIR``). Production sets
``DATABASE_URL`` (PostgreSQL) and ``CELERY_BROKER_URL`` (RabbitMQ); the code
path is the same.
"""

import os
from pathlib import Path

import dj_database_url
import platformdirs


def _env_bool(name, default=False):
    value = os.environ.get(name)
    return default if value is None else value.strip().lower() in {"1", "true", "yes", "on"}


def _env_int(name, default):
    return int(os.environ.get(name, default))


BASE_DIR = Path(__file__).resolve().parent
DATA_DIR = Path(os.environ.get("RODAN_DATA_DIR") or platformdirs.user_data_dir("rodan")).resolve()


def _secret_key():
    """The key from the environment, else the one ``rodan up`` stored in the data folder."""
    if os.environ.get("SECRET_KEY"):
        return os.environ["SECRET_KEY"]
    key_file = DATA_DIR / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    return "insecure-development-key-set-SECRET_KEY-in-production"


SECRET_KEY = _secret_key()
DEBUG = _env_bool("DEBUG")
ALLOWED_HOSTS = os.environ.get("ALLOWED_HOSTS", "*").split(",")

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "corsheaders",
    "rodan.apps.RodanConfig",
]

MIDDLEWARE = [
    "corsheaders.middleware.CorsMiddleware",
    "rodan.api.errors.ApiErrorMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]

ROOT_URLCONF = "rodan.urls"
WSGI_APPLICATION = "rodan.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{DATA_DIR / 'rodan.sqlite3'}",
        # Workers keep their connection between jobs (a new PostgreSQL
        # connection per RunJob cost more than the rest of a no-op job);
        # health checks replace one the server dropped.
        conn_max_age=_env_int("DATABASE_CONN_MAX_AGE", 300),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # A worker host cut off from the network mid-transaction would keep its row
    # locks until the kernel gives up on the socket (hours by default): the server
    # probes each idle client after 60 s and drops a silent one about a minute
    # later, so the other hosts' RunJobs are not held up behind a dead one.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault(
        "options", "-c tcp_keepalives_idle=60 -c tcp_keepalives_interval=10 -c tcp_keepalives_count=6"
    )
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Web, workers and scheduler share the file: WAL lets readers run beside
    # the writer, IMMEDIATE transactions take the write lock up front (no
    # lock-upgrade deadlocks), and the timeout makes writers queue, not fail.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 60,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_PASSWORD_VALIDATORS = []
LANGUAGE_CODE = "en-us"
TIME_ZONE = "America/Montreal"
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT") or DATA_DIR / "static")
# WhiteNoise serves static files: collected ones (``rodan setup``), else straight from the packages
# (``rodan up`` collects nothing). Vite names its built files by content hash: cached for a year.
WHITENOISE_USE_FINDERS = True
WHITENOISE_IMMUTABLE_FILE_TEST = r"^.+/frontend/assets/.+-[0-9A-Za-z_-]{8,}\.\w+$"
MEDIA_URL = "/uploads/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT") or DATA_DIR / "media").resolve()
# Largest accepted upload, in bytes (Django's own request limits use it too).
DATA_UPLOAD_MAX_MEMORY_SIZE = _env_int("RODAN_MAX_UPLOAD_BYTES", 512 * 1024 * 1024)
FILE_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
#: Largest JSON body the REST routes decode, in bytes, and how deep its arrays and objects may nest.
RODAN_MAX_JSON_BYTES = _env_int("RODAN_MAX_JSON_BYTES", 16 * 1024 * 1024)
RODAN_MAX_JSON_DEPTH = _env_int("RODAN_MAX_JSON_DEPTH", 100)

# -- E-mail (account mails, run notifications: README "E-mail") -------------
# SMTP once EMAIL_HOST is set; until then each mail is printed to the log of
# the process that sends it, so the embedded defaults need no mail server.
_EMAIL_HOST = os.environ.get("EMAIL_HOST", "")
EMAIL_HOST = _EMAIL_HOST or "localhost"
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND") or (
    "django.core.mail.backends.smtp.EmailBackend" if _EMAIL_HOST else "django.core.mail.backends.console.EmailBackend"
)
EMAIL_PORT = _env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = _env_bool("EMAIL_USE_TLS")
EMAIL_USE_SSL = _env_bool("EMAIL_USE_SSL")
#: Seconds to wait for the mail server (an unreachable one delays the scheduler's pass this long, then backs off).
EMAIL_TIMEOUT = float(os.environ.get("EMAIL_TIMEOUT", 10))
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "rodan@localhost")
#: Where users open the web application; links in mails start with it.
RODAN_PUBLIC_URL = os.environ.get("RODAN_PUBLIC_URL", "http://127.0.0.1:8000")

# -- Celery ---------------------------------------------------------------
BROKER_DIR = DATA_DIR / "broker"
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL") or "filesystem://"
EMBEDDED_BROKER = CELERY_BROKER_URL.startswith("filesystem://")
if EMBEDDED_BROKER:
    CELERY_BROKER_TRANSPORT = "rodan.broker:Transport"
CELERY_BROKER_TRANSPORT_OPTIONS = (
    {
        "data_folder_in": str(BROKER_DIR / "messages"),
        "data_folder_out": str(BROKER_DIR / "messages"),
        "control_folder": str(BROKER_DIR / "control"),
        "processed_folder": str(BROKER_DIR / "processed"),
        "store_processed": False,
        # Workers poll the folder; a short interval keeps dispatch latency low.
        "polling_interval": 0.05,
    }
    if EMBEDDED_BROKER
    else {"confirm_publish": True}
)
CELERY_WORKER_CONCURRENCY = _env_int("CELERY_WORKER_CONCURRENCY", 1)
CELERY_WORKER_MAX_TASKS_PER_CHILD = _env_int("CELERY_WORKER_MAX_TASKS_PER_CHILD", 100)
#: Queues a worker consumes when none is named: every job queue Rodan knows.
RODAN_QUEUES = os.environ.get("RODAN_QUEUES", "celery,Python3,GPU").split(",")

# -- Engine ---------------------------------------------------------------
#: Seconds between a running job's heartbeats, and silence after which its worker counts as dead.
RODAN_HEARTBEAT_INTERVAL = float(os.environ.get("RODAN_HEARTBEAT_INTERVAL", 5))
RODAN_HEARTBEAT_TIMEOUT = float(os.environ.get("RODAN_HEARTBEAT_TIMEOUT", 60))
#: Seconds a dispatched RunJob may sit unclaimed while its queue is empty before it is re-sent.
RODAN_DISPATCH_TIMEOUT = float(os.environ.get("RODAN_DISPATCH_TIMEOUT", 300))
#: How often the reaper looks for dead workers' RunJobs.
RODAN_REAPER_INTERVAL = float(os.environ.get("RODAN_REAPER_INTERVAL", 15))
#: How long a worker waits out an unreachable database (a restart, a dropped connection) before giving up on a step.
RODAN_DATABASE_OUTAGE_SECONDS = float(os.environ.get("RODAN_DATABASE_OUTAGE_SECONDS", 900))
#: Free bytes MEDIA_ROOT needs before the runs a full disk stopped are resumed (more than a page's outputs).
RODAN_RESUME_FREE_BYTES = _env_int("RODAN_RESUME_FREE_BYTES", 256 * 1024 * 1024)
#: How many times one RunJob may be started before a dying worker makes it fail.
RODAN_MAX_ATTEMPTS = _env_int("RODAN_MAX_ATTEMPTS", 3)
#: Default per-job time limits in seconds (a job class may set its own).
RODAN_SOFT_TIME_LIMIT = _env_int("RODAN_SOFT_TIME_LIMIT", 3600)
RODAN_TIME_LIMIT = _env_int("RODAN_TIME_LIMIT", 3900)
#: Seconds an interactive job stays locked to the user who acquired it.
RODAN_WORKING_USER_EXPIRY = _env_int("RODAN_WORKING_USER_EXPIRY", 999999)
#: Make deep-zoom tiles of each image as soon as it is uploaded or written by a job (else when first viewed).
RODAN_EAGER_TILES = _env_bool("RODAN_EAGER_TILES", True)
#: Folders whose sub-packages are job families (``rodan.jobs.<family>``), besides ``jobs/``; colon-separated.
RODAN_JOB_PATH = [p for p in os.environ.get("RODAN_JOB_PATH", "").split(os.pathsep) if p]
#: Extra importable packages loaded as job families under their own names.
RODAN_JOB_PACKAGES = [p for p in os.environ.get("RODAN_JOB_PACKAGES", "").split(",") if p]

REST_FRAMEWORK = {
    # Basic first: a 401 then carries ``WWW-Authenticate: Basic realm="api"`` (rodan-compat.md §1).
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.BasicAuthentication",
        "rest_framework.authentication.TokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PARSER_CLASSES": [
        "rodan.api.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    # The browsable API comes first, so a request without Accept gets HTML, as from Rodan.
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.BrowsableAPIRenderer",
        "rest_framework.renderers.JSONRenderer",
    ],
    "DEFAULT_PAGINATION_CLASS": "rodan.api.pagination.RodanPagination",
    "DEFAULT_METADATA_CLASS": "rodan.api.metadata.RodanMetadata",
    "DEFAULT_SCHEMA_CLASS": "rodan.api.schema.RodanAutoSchema",
    "EXCEPTION_HANDLER": "rodan.api.errors.handle_exception",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Rodan-compatible API",
    "VERSION": "v3.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Each route once: the ``.json``/``.html`` suffix variants would only double the schema.
    "PREPROCESSING_HOOKS": ["drf_spectacular.hooks.preprocess_exclude_path_format"],
    # Separate request components, so a response may say null where a request may not (rodan.api.schema).
    "COMPONENT_SPLIT_REQUEST": True,
}
#: Seconds one Server-Sent Events stream stays open before the client reconnects.
RODAN_EVENT_STREAM_SECONDS = _env_int("RODAN_EVENT_STREAM_SECONDS", 300)
#: Seconds a signed file link handed out by the API stays valid (``rodan.file_access``).
RODAN_FILE_LINK_SECONDS = _env_int("RODAN_FILE_LINK_SECONDS", 12 * 3600)
#: Seconds the event log keeps an event; a client that was away longer gets the current state instead.
RODAN_EVENT_RETENTION = _env_int("RODAN_EVENT_RETENTION", 7 * 24 * 3600)

# CORS as Rodan configures it: any origin, with credentials (rodan-compat.md §1 CORS).
CORS_ALLOW_ALL_ORIGINS = True
CORS_ALLOW_CREDENTIALS = True
CORS_ALLOW_HEADERS = [
    "accept", "accept-encoding", "authorization", "content-type", "dnt", "origin", "user-agent", "x-csrftoken",
    "x-requested-with",
]
CORS_EXPOSE_HEADERS = ["Set-Cookie", "Vary", "Date"]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
}

AUTHENTICATION_BACKENDS = ["rodan.auth.EmailBackend"]
