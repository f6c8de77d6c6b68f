#!/usr/bin/env bash
# A throw-away PostgreSQL server for the async integration tests and the `async_pool` example.
#
#   eval "$(.ci/postgres.sh start)"   # installs PostgreSQL if missing, starts a fresh cluster on
#                                     # 127.0.0.1 at a free port; prints `export DATABASE_URL=...`
#                                     # and `export MANAGED_PG_DIR=...` (everything else goes to stderr)
#   .ci/postgres.sh stop              # stops the cluster of $MANAGED_PG_DIR and deletes it
#
# Works as root in a fresh container (the cluster runs as the `postgres` user, which the Debian
# package creates; initdb refuses to run as root) and as an ordinary user (the cluster runs as that
# user). Nothing outside a temporary directory is touched except installing the package.
set -euo pipefail

log() { printf 'postgres.sh: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

pg_bindir() {
    local dir
    dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
    if [[ -n "$dir" && -x "$dir/initdb" && -x "$dir/pg_ctl" ]]; then
        printf '%s\n' "$dir"
    fi
}

install_postgres() {
    log "initdb not found under /usr/lib/postgresql/*/bin: installing the Debian package"
    local sudo=()
    if [[ $(id -u) -ne 0 ]]; then
        command -v sudo >/dev/null || die "not root and no sudo: install the 'postgresql' package first"
        sudo=(sudo)
    fi
    export DEBIAN_FRONTEND=noninteractive
    "${sudo[@]}" apt-get update -qq >&2
    "${sudo[@]}" apt-get install -y -qq --no-install-recommends postgresql >&2
    # The package may start a system cluster on port 5432; ours does not need it.
    if command -v pg_ctlcluster >/dev/null; then
        for conf in /etc/postgresql/*/main; do
            [[ -d "$conf" ]] || continue
            local version
            version=$(basename "$(dirname "$conf")")
            "${sudo[@]}" pg_ctlcluster "$version" main stop >&2 2>/dev/null || true
        done
    fi
}

# Runs a command as the cluster's owner: `postgres` when we are root, else ourselves.
as_owner() {
    if [[ $(id -u) -eq 0 ]]; then
        if command -v runuser >/dev/null; then
            runuser -u postgres -- "$@"
        else
            su postgres -s /bin/sh -c "$(printf '%q ' "$@")"
        fi
    else
        "$@"
    fi
}

port_is_free() {
    # A refused connection means nobody listens there.
    ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

start() {
    local bindir
    bindir=$(pg_bindir)
    if [[ -z "$bindir" ]]; then
        install_postgres
        bindir=$(pg_bindir)
        [[ -n "$bindir" ]] || die "the postgresql package installed no initdb under /usr/lib/postgresql/*/bin"
    fi
    if [[ $(id -u) -eq 0 ]] && ! id postgres >/dev/null 2>&1; then
        die "running as root but there is no 'postgres' user to own the cluster (initdb refuses root)"
    fi

    # As root the cluster belongs to `postgres`, who must reach the directory:
    # /tmp rather than a $TMPDIR that may sit under /root.
    local base=${TMPDIR:-/tmp} dir
    [[ $(id -u) -eq 0 ]] && base=/tmp
    dir=$(mktemp -d "$base/managed-pg.XXXXXX")
    if [[ $(id -u) -eq 0 ]]; then
        chown postgres: "$dir"
    fi
    log "initdb in $dir (PostgreSQL binaries: $bindir)"
    as_owner "$bindir/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --no-locale >"$dir/initdb.log" 2>&1 \
        || { cat "$dir/initdb.log" >&2; die "initdb failed"; }

    local port attempt
    for attempt in $(seq 1 20); do
        port=$(( 20000 + (RANDOM % 20000) ))
        port_is_free "$port" || continue
        if as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
            -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
            start >&2; then
            log "PostgreSQL running on 127.0.0.1:$port (attempt $attempt)"
            printf 'export MANAGED_PG_DIR=%q\n' "$dir"
            printf 'export MANAGED_PG_BINDIR=%q\n' "$bindir"
            printf 'export DATABASE_URL=%q\n' "postgres://postgres@127.0.0.1:$port/postgres"
            return 0
        fi
        log "start on port $port failed (taken meanwhile?); server log:"
        tail -n 5 "$dir/server.log" >&2 || true
    done
    die "could not start PostgreSQL on a free port"
}

stop() {
    local dir=${MANAGED_PG_DIR:-${1:-}}
    [[ -n "$dir" ]] || die "stop: MANAGED_PG_DIR is not set (run: eval \"\$(.ci/postgres.sh start)\")"
    [[ -d "$dir/data" ]] || { log "stop: no cluster in $dir"; return 0; }
    local bindir=${MANAGED_PG_BINDIR:-$(pg_bindir)}
    as_owner "$bindir/pg_ctl" -D "$dir/data" -m fast -w stop >&2 || log "stop: pg_ctl stop failed (already stopped?)"
    rm -rf "$dir"
    log "stopped and removed $dir"
}

case "${1:-}" in
    start) start ;;
    stop) stop "${2:-}" ;;
    *) die "usage: $0 start | stop   (eval \"\$($0 start)\" exports DATABASE_URL)" ;;
esac
