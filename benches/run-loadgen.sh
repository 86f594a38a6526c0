#!/usr/bin/env bash
# shellcheck disable=SC2317  # the cleanup functions are called from the EXIT hooks
# Load-test CMS end to end on this machine, in one command:
#
#   bash benches/run-loadgen.sh [LOADGEN ARGS...]     # e.g. --duration 20 --json /tmp/load.json
#
# 1. builds `cms` and `loadgen` in release (`cargo build --release --locked`);
# 2. gets a PostgreSQL through scripts/lib/postgres.sh (CMS_TEST_DATABASE_URL, else the server on
#    127.0.0.1:5432, else a private throw-away cluster) and creates a database `cms_bench_<random>` on it;
# 3. starts `cms serve` on a free loopback port with a random HS256 secret and waits for /readyz;
# 4. runs loadgen (POST /v1/complaints) at concurrency 1, 16 and 64, printing a Markdown table;
# 5. on exit, success or not: stops the server, drops the database, removes the temp dir (and a private
#    cluster, if one was started).
#
# Environment (all optional):
#   LOADGEN_CONCURRENCY  levels, default 1,16,64
#   LOADGEN_REQUESTS     measured requests per level, default 2000
#   LOADGEN_WARMUP       unmeasured requests per level, default 100
#   CMS_BENCH_LOG        the server's RUST_LOG, default warn (per-request info logs would be measured too)
#   CMS_DATABASE_MAX_CONNECTIONS  the server's pool size (cms default: 10)
#   CARGO_TARGET_DIR     default /root/.cache/cms-target
#   CMS_BENCH_SKIP_BUILD=1  use the binaries already built
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/lib/postgres.sh
source scripts/lib/postgres.sh

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/root/.cache/cms-target}"
concurrency="${LOADGEN_CONCURRENCY:-1,16,64}"
requests="${LOADGEN_REQUESTS:-2000}"
warmup="${LOADGEN_WARMUP:-100}"

# --- build ---------------------------------------------------------------------------------------------
if [[ "${CMS_BENCH_SKIP_BUILD:-0}" != 1 ]]; then
    cms_log "building cms and loadgen (release)"
    cargo build --release --locked -p cms-api -p cms-benches --bins
fi
cms_bin="$CARGO_TARGET_DIR/release/cms"
loadgen_bin="$CARGO_TARGET_DIR/release/loadgen"
[[ -x "$cms_bin" && -x "$loadgen_bin" ]] || cms_die "missing $cms_bin or $loadgen_bin"

# --- scratch space, removed last -----------------------------------------------------------------------
work="$(mktemp -d "${TMPDIR:-/tmp}/cms-bench.XXXXXX")"
remove_work() { rm -rf -- "$work"; }
cms_on_exit remove_work

# --- database ------------------------------------------------------------------------------------------
cms_pg_scratch_database cms_bench
db_url="$CMS_SCRATCH_DB_URL"

# --- server --------------------------------------------------------------------------------------------
port="$(_cms_free_port)" || cms_die "cannot find a free TCP port"
base="http://127.0.0.1:$port"
secret="$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')" # 64 hex chars; the server wants >= 32 bytes
export CMS_JWT_SECRET="$secret"                        # read by cms and by loadgen; never on a command line
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
cms_log "running loadgen: concurrency $concurrency, $requests requests per level, $warmup warm-up"
status=0
"$loadgen_bin" --url "$base" --hostel load --concurrency "$concurrency" --requests "$requests" \
    --warmup "$warmup" "$@" || status=$?
if [[ $status != 0 ]]; then
    cms_log "loadgen failed (exit $status); server log tail:"
    tail -n 40 "$work/server.log" >&2
fi
exit "$status"
