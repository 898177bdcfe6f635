#!/usr/bin/env bash
# Starts this machine's PostgreSQL and Redis when they are installed but stopped, then prints the
# DATABASE_URL and REDIS_URL lines of the ones that answer (for `eval`). Prints nothing for a missing one.
set -u

if command -v pg_isready >/dev/null 2>&1; then
  if ! pg_isready -q -h 127.0.0.1 -p 5432 && [ -d /etc/postgresql ] && command -v pg_ctlcluster >/dev/null; then
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n 1)" main start >&2 || true
    for _ in $(seq 1 20); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 0.5; done
  fi
  if pg_isready -q -h 127.0.0.1 -p 5432; then
    echo "export DATABASE_URL=\${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/creatorhub}"
  fi
fi

if command -v redis-cli >/dev/null 2>&1; then
  if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && command -v redis-server >/dev/null; then
    redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no >&2 || true
    for _ in $(seq 1 20); do redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && break; sleep 0.5; done
  fi
  if redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
    echo "export REDIS_URL=\${REDIS_URL:-redis://127.0.0.1:6379/0}"
  fi
fi
