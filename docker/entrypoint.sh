#!/bin/sh
# Start one role of the registry: migrate (once, before the others), web (gunicorn), worker or
# beat.
set -eu

# Migrations run as the tables' owner (DATABASE_OWNER_URL); the web server and the workers run
# as DATABASE_URL's role, which grant_app_role lets read and write the tables but only add to
# the audit trail (docs/deployment.md). Without DATABASE_OWNER_URL, one role does both.
migrate() {
    if [ -z "${DATABASE_OWNER_URL:-}" ]; then
        python manage.py migrate --noinput
        return
    fi
    app_role=$(python -c 'import os, environ
print(environ.Env.db_url_config(os.environ["DATABASE_URL"])["USER"])')
    DATABASE_URL="$DATABASE_OWNER_URL" python manage.py migrate --noinput
    # After every migrate: the tables a migration added get their grants too.
    DATABASE_URL="$DATABASE_OWNER_URL" python manage.py grant_app_role "$app_role"
}

case "${1:-web}" in
    migrate)
        migrate
        # The forms are the app's data, written (and audited) as the app's role.
        if python manage.py help sync_forms >/dev/null 2>&1; then
            python manage.py sync_forms
        fi
        ;;
    web)
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
