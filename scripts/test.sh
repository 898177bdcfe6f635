#!/usr/bin/env bash
# The whole test suite: everything on PostgreSQL and Redis when this machine has them, and on SQLite (the
# embedded default) the tests of what each database does its own way (below); without PostgreSQL, all
# that needs no server on SQLite. The PostgreSQL suite runs as two halves: the tests
# that start servers, workers or a browser (marked worker, browser or slow), which mostly wait for them,
# and the others, followed by the SQLite run. The two lanes share no database (each half has a test
# database of its own; the worker tests, all in the first half, have their own Redis database), so they
# run side by side on the two cores; the first lane's report prints when it ends. Extra arguments go to
# every run.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTEST=".venv/bin/pytest"
LIVE="worker or browser or slow"
# Beside PostgreSQL, SQLite runs the tests of what each database does its own way: the segments' SQL and
# search, imports, counters, activity and the nightly count (dates in a site's time zone), grants to a
# segment, the outbox's claims, the settings and checks, and the demo, whose every page is opened (as
# `make demo` runs on SQLite). The pages' and the API's other tests use the ORM the same way on both
# databases and run on PostgreSQL only; so do the slow ones (fuzzing, the big files). Without PostgreSQL,
# SQLite runs the whole suite but what needs a server.
SQLITE_MARKS="not postgres and not worker and not browser and not slow"
SQLITE_TESTS=(
  tests/audience tests/contacts tests/activity tests/usage
  tests/offers/test_grant_by_segment.py tests/offers/test_grants_and_purchases.py
  tests/emails/test_outbox.py tests/api/test_object_ids.py
  tests/creatorhub/test_seed_demo.py tests/creatorhub/test_settings.py tests/creatorhub/test_pages.py
  tests/creatorhub/test_row_level_security.py tests/creatorhub/test_compiled.py
  tests/creatorhub/test_timestamps.py tests/creatorhub/test_tenancy.py
)

sqlite_run() {
  env -u DATABASE_URL -u REDIS_URL DATABASE_URL="sqlite:///$PWD/var/test.sqlite3" \
    "$PYTEST" -q -m "$SQLITE_MARKS" -p no:cacheprovider "$@"
}

eval "$(scripts/services.sh)"
if [ -z "${DATABASE_URL:-}" ]; then
  SQLITE_MARKS="not postgres and not worker and not browser"
  echo "== SQLite (the embedded default) =="
  sqlite_run "$@"
  echo "No PostgreSQL answers on 127.0.0.1:5432: the tests marked postgres were skipped." >&2
  exit 0
fi

mkdir -p var
LIVE_LOG="var/test-postgres-live.log"
"$PYTEST" -q -p no:cacheprovider -m "$LIVE" "$@" >"$LIVE_LOG" 2>&1 &
LIVE_PID=$!
trap 'kill "$LIVE_PID" 2>/dev/null || true' EXIT

echo "== PostgreSQL ${DATABASE_URL##*@} and Redis ${REDIS_URL:-(none)}: the tests that need no server of their own =="
rest_status=0
DATABASE_URL="${DATABASE_URL}_rest" "$PYTEST" -q -p no:cacheprovider -m "not ($LIVE)" "$@" || rest_status=$?
echo "== SQLite (the embedded default): what each database does its own way =="
sqlite_status=0
sqlite_run "${SQLITE_TESTS[@]}" "$@" || sqlite_status=$?

live_status=0
wait "$LIVE_PID" || live_status=$?
trap - EXIT
echo "== PostgreSQL: the tests that start servers, workers or a browser, run alongside =="
cat "$LIVE_LOG"
if [ "$rest_status" -ne 0 ] || [ "$live_status" -ne 0 ] || [ "$sqlite_status" -ne 0 ]; then
  echo "Failed: PostgreSQL runs exit $rest_status and $live_status, SQLite run exit $sqlite_status." >&2
  exit 1
fi
