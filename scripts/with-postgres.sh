#!/usr/bin/env bash
# Run a command with CMS_TEST_DATABASE_URL pointing at a usable PostgreSQL (see lib/postgres.sh):
#   scripts/with-postgres.sh cargo nextest run -p cms-tests harness_selftest
# A private cluster, if one had to be started, is stopped and removed when the command ends.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/lib/postgres.sh
source scripts/lib/postgres.sh
[[ $# -gt 0 ]] || cms_die "usage: scripts/with-postgres.sh COMMAND [ARGS...]"
cms_pg_ensure
set +e
"$@"
rc=$?
set -e
exit "$rc"
