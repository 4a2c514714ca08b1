#!/bin/sh
# The production static files: hashed names, compressed copies and the manifest, collected into
# STATIC_ROOT with the production settings. The image build runs this, and so do CI
# (make check-production) and tests/test_production.py, so that the files the image would serve
# are the ones that were checked.
set -eu
cd "$(dirname "$0")/.."
DJANGO_SETTINGS_MODULE=registry.settings.production \
    exec "${PYTHON:-python}" manage.py collectstatic --noinput --verbosity 0
