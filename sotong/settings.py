"""Django settings. Values come from the environment through sotong.config (see README)."""

from __future__ import annotations

import os
from pathlib import Path

from django.utils.translation import gettext_lazy as _

from sotong import config as sotong_config

CONFIG = sotong_config.load()

PACKAGE_DIR = Path(__file__).resolve().parent
DATA_DIR = CONFIG.data_dir

SECRET_KEY = CONFIG.secret_key
DEBUG = CONFIG.debug
ALLOWED_HOSTS = list(CONFIG.allowed_hosts)
CSRF_TRUSTED_ORIGINS = list(CONFIG.csrf_trusted_origins)
SOTONG_ENCRYPTION_KEYS = CONFIG.encryption_keys
SOTONG_ENVIRONMENT = CONFIG.environment
SOTONG_PUBLIC_URL = CONFIG.public_url

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "axes",
    "django_tasks_db",
    "ninja",
    "sotong.core",
    "sotong.channels",
    "sotong.publishing",
    "sotong.faq",
    "sotong.notifications",
    "sotong.inbox",
    "sotong.audience",
    "sotong.chat",
    "sotong.participation",
    "sotong.web",
    "sotong.api",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "sotong.core.middleware.StaffContextMiddleware",
    # Axes last: it answers locked-out logins before the view runs.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "sotong.urls"
WSGI_APPLICATION = "sotong.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "sotong.web.context_processors.shell",
                "sotong.notifications.context_processors.unread",
            ],
        },
    },
]

DATABASES = {"default": CONFIG.database}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

TASKS = {
    "default": {
        "BACKEND": "django_tasks_db.DatabaseBackend",
        "QUEUES": ["default", "platform", "maintenance"],
    }
}

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "web:home"
LOGOUT_REDIRECT_URL = "login"

# Login lockout: 5 failures for one account from one address lock it for 15 minutes.
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = 0.25  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_VERBOSE = False
# Usernames are personal data; the access log keeps them, the process log does not.
AXES_SENSITIVE_PARAMETERS = ["password", "username"]

SESSION_COOKIE_AGE = 60 * 60 * 9  # one working day
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False  # HTMX reads the token from the page, not the cookie
SESSION_COOKIE_SECURE = CONFIG.https
CSRF_COOKIE_SECURE = CONFIG.https
if CONFIG.https:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"

LANGUAGE_CODE = "ko"
LANGUAGES = [("ko", _("Korean")), ("en", _("English"))]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
TIME_ZONE = "Asia/Seoul"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
if DEBUG:
    # No collectstatic needed while developing; WhiteNoise serves from the apps.
    STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
    WHITENOISE_USE_FINDERS = True
    WHITENOISE_AUTOREFRESH = True
MEDIA_ROOT = DATA_DIR / "media"

# How long the scheduler's lease lasts and how old a worker heartbeat may be before its
# running tasks count as orphaned.
SOTONG_SCHEDULER_LEASE_SECONDS = float(os.environ.get("SOTONG_SCHEDULER_LEASE_SECONDS", 30))
SOTONG_WORKER_HEARTBEAT_SECONDS = float(os.environ.get("SOTONG_WORKER_HEARTBEAT_SECONDS", 10))
SOTONG_WORKER_LOST_AFTER_SECONDS = float(os.environ.get("SOTONG_WORKER_LOST_AFTER_SECONDS", 90))
SOTONG_TASK_MAX_ATTEMPTS = int(os.environ.get("SOTONG_TASK_MAX_ATTEMPTS", 3))

# Notices are emailed to staff who have an address, when a mail server is configured
# (SOTONG_EMAIL_HOST, or any Django SOTONG_EMAIL_BACKEND); SOTONG_EMAIL_NOTIFICATIONS=false
# turns it off. The notice in Sotong stands either way.
_EMAIL_HOST = os.environ.get("SOTONG_EMAIL_HOST", "")
_EMAIL_BACKEND = os.environ.get("SOTONG_EMAIL_BACKEND", "")
if _EMAIL_HOST and not _EMAIL_BACKEND:
    MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {
                "host": _EMAIL_HOST,
                "port": int(os.environ.get("SOTONG_EMAIL_PORT", 25)),
                "username": os.environ.get("SOTONG_EMAIL_USER", ""),
                "password": os.environ.get("SOTONG_EMAIL_PASSWORD", ""),
                "use_tls": os.environ.get("SOTONG_EMAIL_TLS", "").lower() in {"1", "true", "on"},
                "timeout": 10,
            },
        }
    }
else:
    MAILERS = {
        "default": {"BACKEND": _EMAIL_BACKEND or "django.core.mail.backends.console.EmailBackend"}
    }
DEFAULT_FROM_EMAIL = os.environ.get("SOTONG_EMAIL_FROM", "sotong@localhost")
SOTONG_EMAIL_NOTIFICATIONS = os.environ.get(
    "SOTONG_EMAIL_NOTIFICATIONS", "true" if _EMAIL_HOST or _EMAIL_BACKEND else "false"
).lower() in {"1", "true", "yes", "on"}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": "INFO"},
    "loggers": {
        # Replaces Django's own console handler, which would print every line twice.
        "django": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "django.db.backends": {"level": "WARNING"},
        "axes": {"level": "WARNING"},
        # httpx logs every URL at INFO; platform URLs can carry tokens and personal data.
        "httpx": {"level": "WARNING"},
        "httpcore": {"level": "WARNING"},
    },
}
