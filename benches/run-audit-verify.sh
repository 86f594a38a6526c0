#!/usr/bin/env bash
# shellcheck disable=SC2317  # the cleanup functions are called from the EXIT hooks
# Time `cms audit seal` and `cms audit verify` over a large log, in one command:
#
#   bash benches/run-audit-verify.sh [N]            # N events, default 1000000
#
# 1. builds `cms` in release (`cargo build --release --locked -p cms-api --bin cms`);
# 2. gets a PostgreSQL through scripts/lib/postgres.sh, creates a database `cms_audit_bench_<random>`
#    and migrates it (`cms migrate`);
# 3. bulk-inserts N complaint-like events in one SQL statement (generate_series; the position trigger is
#    switched off for the load and the counter set once at the end, as a superuser: far faster than N
#    single appends, and the rows are what appends would have written);
# 4. runs `cms audit seal` (chain rows and a checkpoint every CMS_AUDIT_CHECKPOINT_EVERY, default 1000,
#    each copied to the object store) and then `cms audit verify`, timing both;
# 5. on exit, success or not: drops the database and removes the temp dir.
#
# Environment: CARGO_TARGET_DIR (default /root/.cache/cms-target), CMS_BENCH_SKIP_BUILD=1 to use the
# binary already built, CMS_BENCH_BIN=path to time another cms binary, CMS_AUDIT_CHECKPOINT_EVERY.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/lib/postgres.sh
source scripts/lib/postgres.sh

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/root/.cache/cms-target}"
events="${1:-1000000}"
[[ "$events" =~ ^[0-9]+$ && "$events" -ge 1 ]] || cms_die "N must be a positive number of events"

if [[ "${CMS_BENCH_SKIP_BUILD:-0}" != 1 ]]; then
    cms_log "building cms (release)"
    cargo build --release --locked -p cms-api --bin cms
fi
cms_bin="${CMS_BENCH_BIN:-$CARGO_TARGET_DIR/release/cms}"
[[ -x "$cms_bin" ]] || cms_die "missing $cms_bin"

work="$(mktemp -d "${TMPDIR:-/tmp}/cms-audit-bench.XXXXXX")"
remove_work() { rm -rf -- "$work"; }
cms_on_exit remove_work

cms_pg_scratch_database cms_audit_bench
admin_url="$CMS_SCRATCH_ADMIN_URL" db_url="$CMS_SCRATCH_DB_URL"

export CMS_DATABASE_URL="$db_url" CMS_DATA_DIR="$work/data" RUST_LOG=warn
"$cms_bin" migrate >/dev/null

cms_log "inserting $events events"
start=$SECONDS
psql -v ON_ERROR_STOP=1 -q "$db_url" <<SQL
BEGIN;
ALTER TABLE events DISABLE TRIGGER events_assign_position;
ALTER TABLE event_log_head DISABLE TRIGGER event_log_head_guard;
INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload,
                    metadata, global_position, recorded_at)
SELECT 'Complaint', 'bench-' || (i / 10), (i % 10) + 1,
       CASE WHEN i % 10 = 0 THEN 'ComplaintFiled' ELSE 'CommentAdded' END, '1',
       jsonb_build_object(CASE WHEN i % 10 = 0 THEN 'ComplaintFiled' ELSE 'CommentAdded' END,
           jsonb_build_object('text', 'The tap in room ' || (i % 500) || ' drips again (' || i || ')',
                              'visibility', 'public', 'at', '2026-11-27T00:00:00Z')),
       jsonb_build_object('actor_id', 'res-' || (i % 1000), 'actor_role', 'resident',
                          'command', 'AddComment', 'correlation_id', gen_random_uuid()),
       i + 1, clock_timestamp()
FROM generate_series(0, $events - 1) AS i;
UPDATE event_log_head SET last_position = $events;
ALTER TABLE events ENABLE TRIGGER events_assign_position;
ALTER TABLE event_log_head ENABLE TRIGGER event_log_head_guard;
COMMIT;
VACUUM ANALYZE events;
SQL
cms_log "inserted in $((SECONDS - start)) s"

timed() { # label cmd...
    local label="$1" t0 t1
    shift
    t0=$(date +%s.%N)
    "$@"
    t1=$(date +%s.%N)
    awk -v l="$label" -v a="$t0" -v b="$t1" -v n="$events" \
        'BEGIN { s = b - a; printf "%s: %.1f s, %.0f events/s\n", l, s, n / s }' >>"$work/times"
}
timed seal "$cms_bin" audit seal
timed verify "$cms_bin" audit verify 2>/dev/null
echo
echo "events: $events ($(nproc) CPUs, PostgreSQL $(cms_pg_query "$admin_url" 'show server_version'))"
cat "$work/times"
