#!/usr/bin/env bash
# The whole test suite: on SQLite (the embedded default) for what does not need a server, then everything
# on PostgreSQL and Redis when this machine has them. Extra arguments go to both pytest runs.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTEST=".venv/bin/pytest"

echo "== SQLite (the embedded default) =="
env -u DATABASE_URL -u REDIS_URL DATABASE_URL="sqlite:///$PWD/var/test.sqlite3" \
  "$PYTEST" -q -m "not postgres and not worker and not browser" -p no:cacheprovider "$@"

eval "$(scripts/services.sh)"
if [ -z "${DATABASE_URL:-}" ]; then
  echo "No PostgreSQL answers on 127.0.0.1:5432: the tests marked postgres were skipped above." >&2
  exit 0
fi
echo "== PostgreSQL ${DATABASE_URL##*@} and Redis ${REDIS_URL:-(none)}: the whole suite =="
"$PYTEST" -q "$@"
