"""gunicorn's settings for the web role: read by the image's entrypoint and by the HTTP
benchmark (bench/http.py), so that the figures are those of the server as deployed."""

import os

bind = "0.0.0.0:8000"
workers = int(os.environ.get("WEB_CONCURRENCY", "3"))
accesslog = "-"
# X-Forwarded-Proto and the like are believed from the same TLS proxies whose X-Forwarded-For
# the registry believes (TRUSTED_PROXIES; registry/people/addresses.py), and from no one else.
forwarded_allow_ips = os.environ.get("TRUSTED_PROXIES", "")
