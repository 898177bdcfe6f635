#!/usr/bin/env bash
# The benchmarks, on a database of their own: creatorhub_bench on this machine's PostgreSQL when it
# answers (the figures that count), else a SQLite file. Extra arguments go to bench.run.
set -euo pipefail
cd "$(dirname "$0")/.."
eval "$(scripts/services.sh)"
if [ -n "${DATABASE_URL:-}" ]; then
  createdb -h 127.0.0.1 -U postgres creatorhub_bench 2>/dev/null || true
  export DATABASE_URL="postgres://postgres@127.0.0.1:5432/creatorhub_bench"
else
  export DATABASE_URL="sqlite:///$PWD/var/bench.sqlite3"
fi
# The benchmarks' worker gets a Redis database of its own: the worker tests empty theirs (db 5).
export TEST_WORKER_REDIS_URL="${TEST_WORKER_REDIS_URL:-redis://127.0.0.1:6379/6}"
# Production settings, as the product runs: DEBUG off (no query log, no template debugging), over plain
# HTTP on loopback. bench.run collects the static files the pages name.
export DEBUG="${DEBUG:-false}"
export SECRET_KEY="${SECRET_KEY:-bench-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')}"
export SECURE_SSL_REDIRECT=false SESSION_COOKIE_SECURE=false CSRF_COOKIE_SECURE=false
exec .venv/bin/python -m bench.run "$@"
