# shellcheck shell=bash
# Sourced by .ci/run: starts the services the tests and examples need, exports
# what they read, and registers the cleanup.

# PostgreSQL for tests/postgres.rs, tests/sqlx.rs and examples/async_pool.rs: a throw-away
# cluster on 127.0.0.1 at a free port (installs Debian's package if missing).
eval "$(.ci/postgres.sh start)"
echo "DATABASE_URL=$DATABASE_URL"
trap '.ci/postgres.sh stop' EXIT
