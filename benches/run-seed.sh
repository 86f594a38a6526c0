#!/usr/bin/env bash
# shellcheck disable=SC2317  # the cleanup function is called from the EXIT hook
# Seed N complaints with realistic histories, rebuild every projection, time listings, in one command:
#
#   bash benches/run-seed.sh [N] [extra seed arguments]     # N complaints, default 10000
#
# 1. builds the `seed` tool in release (`cargo build --release --locked -p cms-benches --bin seed`);
# 2. gets a PostgreSQL through scripts/lib/postgres.sh and creates a database `cms_seed_bench_<random>`;
# 3. runs `seed` (benches/src/seed.rs): bulk-inserts the histories, rebuilds every projection from 0
#    (events/s) and times typical listing queries (p50 / p99 / max);
# 4. on exit, success or not: drops the database.
#
# Environment: CARGO_TARGET_DIR (default /root/.cache/cms-target), CMS_BENCH_SKIP_BUILD=1 to use the
# binary already built.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/lib/postgres.sh
source scripts/lib/postgres.sh

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/root/.cache/cms-target}"
complaints="${1:-10000}"
shift || true
[[ "$complaints" =~ ^[0-9]+$ && "$complaints" -ge 1 ]] || cms_die "N must be a positive number of complaints"

if [[ "${CMS_BENCH_SKIP_BUILD:-0}" != 1 ]]; then
    cms_log "building seed (release)"
    cargo build --release --locked -p cms-benches --bin seed
fi
seed_bin="$CARGO_TARGET_DIR/release/seed"
[[ -x "$seed_bin" ]] || cms_die "missing $seed_bin"

cms_pg_scratch_database cms_seed_bench
admin_url="$CMS_SCRATCH_ADMIN_URL" db_url="$CMS_SCRATCH_DB_URL"

echo "complaints: $complaints ($(nproc) CPUs, PostgreSQL $(cms_pg_query "$admin_url" 'show server_version'))"
RUST_LOG=warn "$seed_bin" --database-url "$db_url" --complaints "$complaints" "$@"
