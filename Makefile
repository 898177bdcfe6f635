# The two commands: `make demo` (the dashboard with demo data) and `make test` (the whole suite).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed

.PHONY: demo test lint bench loadtest

# No byte-compiling of every installed file (--no-compile), much of the install's time: Python compiles
# what it imports.
$(INSTALLED): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet --no-compile -e ".[dev]"
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --silent
	touch $@

# The demo's emails go to files in var/mail/ (set EMAIL_BACKEND to print them or send them instead).
demo: export EMAIL_BACKEND ?= django.core.mail.backends.filebased.EmailBackend
demo: $(INSTALLED)
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo
	$(PY) manage.py runserver 127.0.0.1:8000

test: $(INSTALLED) node_modules/.installed
	scripts/test.sh

lint: $(INSTALLED)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports

bench: $(INSTALLED)
	scripts/bench.sh

# 50 users for 60 s against gunicorn (bench/loadtest.py); e.g. `make loadtest ARGS="--users 5 --duration 10"`.
loadtest: $(INSTALLED)
	$(PY) -m bench.loadtest $(ARGS)
