# The two commands a newcomer needs: `make run` and `make test`. Each installs what it needs.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
# make test-services: the same suite on PostgreSQL and a real Celery worker fed through Redis.
SERVICES_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/registry
SERVICES_REDIS_URL ?= redis://127.0.0.1:6379/15

.PHONY: install run demo test test-services check-production lint mutation compose-check bench clean

$(VENV)/.installed: pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -e '.[dev]'
	touch $@

install: $(VENV)/.installed

demo: install
	mkdir -p var
	DJANGO_SETTINGS_MODULE=registry.settings.local $(PY) manage.py migrate --verbosity 0
	DJANGO_SETTINGS_MODULE=registry.settings.local $(PY) manage.py sync_forms
	DJANGO_SETTINGS_MODULE=registry.settings.local $(PY) manage.py load_demo

run: demo
	@echo "Serving on http://$(HOST):$(PORT)/ (stop with Ctrl-C)"
	DJANGO_SETTINGS_MODULE=registry.settings.local $(PY) manage.py runserver $(HOST):$(PORT)

test: install
	env -u DATABASE_URL -u REDIS_URL $(PY) -m pytest

test-services: install
	DATABASE_URL=$(SERVICES_DATABASE_URL) REDIS_URL=$(SERVICES_REDIS_URL) $(PY) -m pytest

# The static files collected by the image's own script (docker/collectstatic.sh), then the login
# page, a hashed static file and a signed-in page served by gunicorn under the production settings.
check-production: install
	env -u DATABASE_URL -u REDIS_URL $(PY) -m pytest tests/test_production.py -q

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

# Mutation testing of the modules that guard privacy, access and integrity (pyproject.toml,
# [tool.mutmut] lists them and why the run is set up as it is); the survivors must be those
# listed in mutation/survivors.txt.
mutation: install
	rm -rf mutants
	mkdir -p var
	env -u DATABASE_URL -u REDIS_URL HYPOTHESIS_PROFILE=mutation $(VENV)/bin/mutmut run \
		--max-children 2 >var/mutation.log 2>&1 || { tail -n 60 var/mutation.log; exit 1; }
	$(PY) -m mutation.check

compose-check:
	docker-compose -f docker/compose.yaml config --quiet

clean:
	rm -rf $(VENV) var

# The benchmark suite (database figures run on PostgreSQL; see BENCHMARKS.md). The HTTP figures
# load gunicorn with wrk.
bench: install
	command -v wrk >/dev/null || apt-get install -y wrk
	DJANGO_SETTINGS_MODULE=registry.settings.test $(PY) -m bench.run $(if $(SCALE),--scale $(SCALE))
