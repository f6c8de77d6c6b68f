# shellcheck shell=bash
# Sourced by .ci/run: starts the services the tests and examples need, exports
# what they read, and registers the cleanup.

# PostgreSQL for tests/postgres.rs, tests/sqlx.rs and examples/async_pool.rs: a throw-away
# cluster on 127.0.0.1 at a free port (installs Debian's package if missing).
# (The assignment keeps the start's failure: `eval "$(..)"` would hide it.)
pg_env=$(bash .ci/postgres.sh start) || { echo "services.sh: PostgreSQL did not start" >&2; return 1; }
eval "$pg_env"
echo "DATABASE_URL=$DATABASE_URL"
trap 'bash .ci/postgres.sh stop' EXIT
