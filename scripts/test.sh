#!/usr/bin/env bash
# The whole test suite: on SQLite (the embedded default) for what does not need a server, and everything
# on PostgreSQL and Redis when this machine has them. The two runs share no database, so they run side by
# side (one core each); the SQLite run's report prints when it ends. Extra arguments go to both runs.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTEST=".venv/bin/pytest"

sqlite_run() {
  env -u DATABASE_URL -u REDIS_URL DATABASE_URL="sqlite:///$PWD/var/test.sqlite3" \
    "$PYTEST" -q -m "not postgres and not worker and not browser" -p no:cacheprovider "$@"
}

eval "$(scripts/services.sh)"
if [ -z "${DATABASE_URL:-}" ]; then
  echo "== SQLite (the embedded default) =="
  sqlite_run "$@"
  echo "No PostgreSQL answers on 127.0.0.1:5432: the tests marked postgres were skipped." >&2
  exit 0
fi

mkdir -p var
SQLITE_LOG="var/test-sqlite.log"
sqlite_run "$@" >"$SQLITE_LOG" 2>&1 &
SQLITE_PID=$!
trap 'kill "$SQLITE_PID" 2>/dev/null || true' EXIT

echo "== PostgreSQL ${DATABASE_URL##*@} and Redis ${REDIS_URL:-(none)}: the whole suite =="
pg_status=0
"$PYTEST" -q "$@" || pg_status=$?

sqlite_status=0
wait "$SQLITE_PID" || sqlite_status=$?
trap - EXIT
echo "== SQLite (the embedded default), run alongside =="
cat "$SQLITE_LOG"
if [ "$pg_status" -ne 0 ] || [ "$sqlite_status" -ne 0 ]; then
  echo "Failed: PostgreSQL run exit $pg_status, SQLite run exit $sqlite_status." >&2
  exit 1
fi
