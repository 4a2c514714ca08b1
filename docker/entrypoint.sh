#!/bin/sh
# Start one role of the registry: web (migrate, load forms, gunicorn), worker or beat.
set -eu

case "${1:-web}" in
    web)
        python manage.py migrate --noinput
        if python manage.py help sync_forms >/dev/null 2>&1; then
            python manage.py sync_forms
        fi
        # Workers, binding and logs: docker/gunicorn.conf.py (the HTTP benchmark runs it too).
        exec gunicorn registry.wsgi:application --config /app/docker/gunicorn.conf.py
        ;;
    worker)
        exec celery -A registry worker --loglevel INFO --concurrency "${WORKER_CONCURRENCY:-2}"
        ;;
    beat)
        exec celery -A registry beat --loglevel INFO --schedule /app/var/celerybeat-schedule
        ;;
    *)
        exec "$@"
        ;;
esac
