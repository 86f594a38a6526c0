#!/usr/bin/env bash
# shellcheck disable=SC2317  # the cleanup functions are called from the EXIT hooks
# WebSocket fan-out load on this machine, in one command:
#
#   bash benches/run-wsload.sh [WSLOAD ARGS...]     # default: 10,000 sockets, 1,000 hostels, 1,000 events/s, 10 s
#   WSLOAD_NATS=1 bash benches/run-wsload.sh        # the same through a private nats-server (JetStream)
#
# 1. builds `cms` and `wsload` in release (`cargo build --release --locked`);
# 2. gets a PostgreSQL through scripts/lib/postgres.sh and creates a database `cms_bench_<random>`;
#    with WSLOAD_NATS=1, starts a nats-server (scripts/lib/nats.sh) on a free port with a temp store;
# 3. raises the open-files limit (each socket is a descriptor on both sides) and starts `cms serve`;
# 4. runs wsload with --server-pid, which prints memory per socket and commit-to-socket latency;
# 5. on exit: stops the servers, drops the database, removes the temp dir.
#
# Environment (all optional): CMS_BENCH_SKIP_BUILD=1, CARGO_TARGET_DIR (default /root/.cache/cms-target),
# CMS_BENCH_LOG (the server's RUST_LOG, default warn), WSLOAD_NATS=1.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/lib/postgres.sh
source scripts/lib/postgres.sh
# shellcheck source=scripts/lib/nats.sh
source scripts/lib/nats.sh

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/root/.cache/cms-target}"
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"

if [[ "${CMS_BENCH_SKIP_BUILD:-0}" != 1 ]]; then
    cms_log "building cms and wsload (release)"
    cargo build --release --locked -p cms-api -p cms-benches --bins
fi
cms_bin="$CARGO_TARGET_DIR/release/cms"
wsload_bin="$CARGO_TARGET_DIR/release/wsload"
[[ -x "$cms_bin" && -x "$wsload_bin" ]] || cms_die "missing $cms_bin or $wsload_bin"

work="$(mktemp -d "${TMPDIR:-/tmp}/cms-wsbench.XXXXXX")"
remove_work() { rm -rf -- "$work"; }
cms_on_exit remove_work

cms_pg_scratch_database cms_bench
db_url="$CMS_SCRATCH_DB_URL"

nats_pid=""
if [[ "${WSLOAD_NATS:-0}" == 1 ]]; then
    cms_nats_ensure
    nats_port="$(_cms_free_port)" || cms_die "cannot find a free TCP port"
    "$CMS_TEST_NATS_SERVER" -js -a 127.0.0.1 -p "$nats_port" -sd "$work/nats" >"$work/nats.log" 2>&1 &
    nats_pid=$!
    stop_nats() { kill "$nats_pid" 2>/dev/null || true; wait "$nats_pid" 2>/dev/null || true; }
    cms_on_exit stop_nats
    export CMS_NATS_URL="nats://127.0.0.1:$nats_port"
    cms_log "nats-server on $CMS_NATS_URL"
fi

# --- server --------------------------------------------------------------------------------------------
port="$(_cms_free_port)" || cms_die "cannot find a free TCP port"
base="http://127.0.0.1:$port"
secret="$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')" # 64 hex chars; the server wants >= 32 bytes
export CMS_JWT_SECRET="$secret"                        # read by cms and by wsload; never on a command line
server_pid=""
stop_server() {
    [[ -n "$server_pid" ]] || return 0
    if kill -0 "$server_pid" 2>/dev/null; then
        kill -TERM "$server_pid" 2>/dev/null || true
        for _ in $(seq 1 100); do
            kill -0 "$server_pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -0 "$server_pid" 2>/dev/null && kill -KILL "$server_pid" 2>/dev/null
    fi
    wait "$server_pid" 2>/dev/null || true
    cms_log "server stopped (pid $server_pid)"
    server_pid=""
}

cms_log "starting cms serve on $base"
CMS_DATABASE_URL="$db_url" CMS_HTTP_ADDR="127.0.0.1:$port" CMS_DATA_DIR="$work/data" \
    RUST_LOG="${CMS_BENCH_LOG:-warn}" "$cms_bin" serve >"$work/server.log" 2>&1 &
server_pid=$!
cms_on_exit stop_server

ready=0
for _ in $(seq 1 300); do
    if ! kill -0 "$server_pid" 2>/dev/null; then
        tail -n 40 "$work/server.log" >&2
        cms_die "cms serve exited before it was ready"
    fi
    if curl -fsS --noproxy '*' -o /dev/null --max-time 2 "$base/readyz" 2>/dev/null; then
        ready=1
        break
    fi
    sleep 0.2
done
if [[ $ready != 1 ]]; then
    tail -n 40 "$work/server.log" >&2
    cms_die "cms serve not ready after 60 s"
fi
cms_log "server ready (pid $server_pid, $(nproc) CPUs, pool ${CMS_DATABASE_MAX_CONNECTIONS:-10} connections)"

# --- load ----------------------------------------------------------------------------------------------
status=0
"$wsload_bin" --url "$base" --server-pid "$server_pid" "$@" || status=$?
if [[ $status != 0 ]]; then
    cms_log "wsload failed (exit $status); server log tail:"
    tail -n 40 "$work/server.log" >&2
fi
exit "$status"
