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
