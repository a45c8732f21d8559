"""Gunicorn settings for `sotong serve` (and the benchmark's baseline server, so figures
compare like with like). Override with SOTONG_WEB_WORKERS / SOTONG_WEB_THREADS."""

import multiprocessing
import os

worker_class = "gthread"
workers = int(os.environ.get("SOTONG_WEB_WORKERS", min(4, multiprocessing.cpu_count() * 2)))
threads = int(os.environ.get("SOTONG_WEB_THREADS", 8))
# Platform webhooks retry on slow answers; a request that hangs this long is broken.
timeout = 30
graceful_timeout = 10
keepalive = 5
backlog = 2048
max_requests = 10000
max_requests_jitter = 1000
# No control socket: several servers (tests, benchmarks) may run side by side.
control_socket_disable = True
accesslog = os.environ.get("SOTONG_ACCESS_LOG") or None
# The access log keeps the path only: query strings can carry tokens and personal data.
access_log_format = '%(h)s "%(m)s %(U)s" %(s)s %(b)s %(M)sms'


def post_worker_init(worker: object) -> None:
    """Load in each new worker what Django otherwise loads on its first requests (the URL
    tree with the API's schemas, the translation catalogue, the platform connectors, the
    cipher): without it the first requests after a start or a max_requests restart wait
    a second or more behind those imports."""
    try:
        from django.apps import apps
        from django.conf import settings
        from django.urls import get_resolver
        from django.utils import translation

        get_resolver().url_patterns  # noqa: B018 - imports every urls module
        translation.activate(settings.LANGUAGE_CODE)
        translation.gettext("")
        translation.deactivate()
        if apps.is_installed("sotong.channels"):
            from sotong.core import crypto
            from sotong.platforms.base import connector_classes

            connector_classes()
            crypto.fernet()
        if apps.is_installed("sotong.chat"):
            # The Korean analyser (~2.5 s to load) answers KakaoTalk questions: loaded
            # here, not by the first citizen's question (Kakao gives up after 5 s). Not in
            # the master before the fork: Kiwi's own threads do not survive a fork.
            from sotong.nlp import tokenise

            tokenise.morphemes("소통")
    except Exception:  # a cold worker still serves; the log says why it is cold
        import logging

        logging.getLogger("gunicorn.error").warning("worker warm-up failed", exc_info=True)
