"""Production settings for the HTTP benchmark's gunicorn, with the benchmark's URLconf.

Everything else is production's, keys and checks included: the benchmark passes keys of its own
in the environment, and sends X-Forwarded-Proto as the TLS proxy in front of gunicorn does.
"""

from registry.settings.production import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
