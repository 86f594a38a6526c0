# shellcheck shell=bash disable=SC2034  # variables here are read by the scripts that source this file
# PostgreSQL bootstrap for CMS tests and benchmarks. Source it, then call `cms_pg_ensure`.
#
#   source scripts/lib/postgres.sh
#   cms_pg_ensure            # exports CMS_TEST_DATABASE_URL
#
# Order of preference:
#   1. CMS_TEST_DATABASE_URL, when set (used as given; checked with psql when psql exists);
#   2. the shared server at 127.0.0.1:5432 (trust auth, user postgres), when it answers `select 1`;
#   3. a private throw-away cluster: initdb into a fresh temp dir, a free port on 127.0.0.1, run as the
#      `postgres` user when we are root (the server refuses root), stopped and removed on exit.
#      PostgreSQL is installed with apt-get when no server binaries exist.
# CMS_TEST_FORCE_PRIVATE_PG=1 skips 1 and 2 (used to test path 3 on a machine that has a server).
#
# Cleanup runs from an EXIT trap installed through `cms_on_exit`; a script that needs its own exit work
# should register it with `cms_on_exit 'command'` rather than calling `trap ... EXIT` itself.
# Logs go to stderr with timestamps; server and initdb output go to files, printed only on failure.

if [[ -n "${_CMS_PG_LIB_LOADED:-}" ]]; then
    return 0
fi
_CMS_PG_LIB_LOADED=1

CMS_PG_SHARED_URL="postgres://postgres@127.0.0.1:5432/postgres"
CMS_PG_PRIVATE_DIR=""   # temp dir of the private cluster, when one runs
CMS_PG_PRIVATE_PORT=""
CMS_PG_SOURCE=""        # env | shared | private

cms_log() {
    printf '[%s] %s\n' "$(date '+%H:%M:%S')" "$*" >&2
}

cms_die() {
    cms_log "ERROR: $*"
    exit 1
}

# --- exit hooks: one EXIT trap running every registered command, last registered first -----------------
_CMS_EXIT_HOOKS=()
_cms_run_exit_hooks() {
    local rc=$? i
    for ((i = ${#_CMS_EXIT_HOOKS[@]} - 1; i >= 0; i--)); do
        eval "${_CMS_EXIT_HOOKS[i]}" || true
    done
    _CMS_EXIT_HOOKS=()
    return "$rc"
}
cms_on_exit() {
    _CMS_EXIT_HOOKS+=("$1")
    trap _cms_run_exit_hooks EXIT
    # Turn Ctrl-C / kill into a normal exit so the EXIT trap cleans up.
    trap 'exit 130' INT
    trap 'exit 143' TERM
}

# --- helpers -------------------------------------------------------------------------------------------
_cms_as_root_or_sudo() {
    if [[ $EUID -eq 0 ]]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        sudo -n "$@"
    else
        cms_die "need root (or password-less sudo) to run: $*"
    fi
}

_cms_apt_install() {
    command -v apt-get >/dev/null 2>&1 || cms_die "apt-get not found; install PostgreSQL (server + psql) by hand or set CMS_TEST_DATABASE_URL"
    cms_log "installing $* with apt-get"
    local log
    log="$(mktemp)"
    if ! { _cms_as_root_or_sudo env DEBIAN_FRONTEND=noninteractive apt-get update -q &&
        _cms_as_root_or_sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
            -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "$@"; } >"$log" 2>&1 </dev/null; then
        tail -n 40 "$log" >&2
        rm -f "$log"
        cms_die "apt-get install $* failed"
    fi
    rm -f "$log"
}

# Directory holding initdb/pg_ctl/postgres (highest installed major version), or empty.
_cms_pg_bindir() {
    local d best=""
    best="$(for d in /usr/lib/postgresql/*/bin; do
        [[ -x "$d/initdb" && -x "$d/pg_ctl" && -x "$d/postgres" ]] && echo "$d"
    done | sort -V | tail -n 1)"
    if [[ -z "$best" ]] && command -v pg_config >/dev/null 2>&1 && [[ -x "$(pg_config --bindir)/initdb" ]]; then
        best="$(pg_config --bindir)"
    fi
    printf '%s' "$best"
}

_cms_ensure_psql() {
    command -v psql >/dev/null 2>&1 && return 0
    _cms_apt_install postgresql-client
    command -v psql >/dev/null 2>&1 || cms_die "psql still missing after installing postgresql-client"
}

# cms_pg_query URL SQL -> prints the result (unaligned, tuples only); non-zero on failure.
cms_pg_query() {
    PGCONNECT_TIMEOUT=5 psql "$1" -X -w -A -t -q -v ON_ERROR_STOP=1 -c "$2" </dev/null
}

# cms_pg_scratch_database PREFIX: a throw-away database `<PREFIX>_<random>` on the server cms_pg_ensure
# found, dropped when the script exits (success or not). Sets CMS_SCRATCH_DB_NAME, CMS_SCRATCH_DB_URL
# (same server, user and options as CMS_TEST_DATABASE_URL) and CMS_SCRATCH_ADMIN_URL. For benchmarks.
cms_pg_scratch_database() {
    cms_pg_ensure
    command -v psql >/dev/null 2>&1 || cms_die "psql is needed to create the benchmark database"
    CMS_SCRATCH_ADMIN_URL="$CMS_TEST_DATABASE_URL"
    [[ "$CMS_SCRATCH_ADMIN_URL" =~ ^(postgres(ql)?://[^/?]+)(/[^?]*)?(\?.*)?$ ]] ||
        cms_die "cannot parse the PostgreSQL URL $(_cms_redact "$CMS_SCRATCH_ADMIN_URL")"
    CMS_SCRATCH_DB_NAME="${1}_$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"
    CMS_SCRATCH_DB_URL="${BASH_REMATCH[1]}/${CMS_SCRATCH_DB_NAME}${BASH_REMATCH[4]:-}"
    cms_pg_query "$CMS_SCRATCH_ADMIN_URL" "create database \"$CMS_SCRATCH_DB_NAME\"" >/dev/null ||
        cms_die "cannot create database $CMS_SCRATCH_DB_NAME"
    cms_on_exit _cms_drop_scratch_database
    cms_log "created database $CMS_SCRATCH_DB_NAME"
}

_cms_drop_scratch_database() {
    cms_pg_query "$CMS_SCRATCH_ADMIN_URL" "drop database if exists \"$CMS_SCRATCH_DB_NAME\" with (force)" >/dev/null &&
        cms_log "dropped database $CMS_SCRATCH_DB_NAME"
}

_cms_tcp_open() { # host port
    (exec 3<>"/dev/tcp/$1/$2") >/dev/null 2>&1
}

_cms_free_port() {
    local port
    if command -v python3 >/dev/null 2>&1 &&
        port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()' 2>/dev/null)" &&
        [[ -n "$port" ]]; then
        printf '%s' "$port"
        return 0
    fi
    local used
    used="$(ss -Htln 2>/dev/null | awk '{print $4}' | sed -E 's/.*:([0-9]+)$/\1/' | sort -u)"
    for _ in $(seq 1 200); do
        port=$((20000 + RANDOM % 40000))
        if ! grep -qx "$port" <<<"$used" && ! _cms_tcp_open 127.0.0.1 "$port"; then
            printf '%s' "$port"
            return 0
        fi
    done
    return 1
}

# Run a command as the cluster owner: `postgres` when we are root, ourselves otherwise.
_cms_pg_run() {
    if [[ $EUID -eq 0 ]]; then
        if command -v runuser >/dev/null 2>&1; then
            runuser -u postgres -- "$@"
        else
            local q
            printf -v q '%q ' "$@"
            su postgres -s /bin/sh -c "$q"
        fi
    else
        "$@"
    fi
}

# --- private cluster -----------------------------------------------------------------------------------
cms_pg_stop_private() {
    [[ -n "$CMS_PG_PRIVATE_DIR" && -d "$CMS_PG_PRIVATE_DIR" ]] || return 0
    local dir="$CMS_PG_PRIVATE_DIR" bindir
    bindir="$(_cms_pg_bindir)"
    if [[ -f "$dir/data/postmaster.pid" ]]; then
        if ! _cms_pg_run "$bindir/pg_ctl" -D "$dir/data" -m immediate -w -t 30 stop >/dev/null 2>&1; then
            local pid
            pid="$(head -n 1 "$dir/data/postmaster.pid" 2>/dev/null || true)"
            if [[ "$pid" =~ ^[0-9]+$ ]]; then kill -KILL "$pid" 2>/dev/null || true; fi
            sleep 0.5
        fi
    fi
    rm -rf -- "$dir"
    cms_log "private PostgreSQL on port ${CMS_PG_PRIVATE_PORT} stopped and removed ($dir)"
    CMS_PG_PRIVATE_DIR=""
    CMS_PG_PRIVATE_PORT=""
}

cms_pg_start_private() {
    local bindir
    bindir="$(_cms_pg_bindir)"
    if [[ -z "$bindir" ]]; then
        _cms_apt_install postgresql postgresql-client
        bindir="$(_cms_pg_bindir)"
        [[ -n "$bindir" ]] || cms_die "no PostgreSQL server binaries under /usr/lib/postgresql/*/bin after apt-get install"
    fi
    _cms_ensure_psql
    if [[ $EUID -eq 0 ]] && ! id postgres >/dev/null 2>&1; then
        cms_log "creating system user postgres"
        useradd --system --user-group --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin postgres ||
            cms_die "cannot create user postgres"
    fi

    local dir
    dir="$(mktemp -d "${TMPDIR:-/tmp}/cms-pg.XXXXXX")"
    chmod 700 "$dir"
    [[ $EUID -eq 0 ]] && chown postgres: "$dir"
    CMS_PG_PRIVATE_DIR="$dir"
    cms_on_exit cms_pg_stop_private

    cms_log "starting private PostgreSQL ($("$bindir/postgres" --version)) in $dir"
    if ! _cms_pg_run "$bindir/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 --no-sync \
        --no-instructions >"$dir/initdb.log" 2>&1; then
        # C.UTF-8 is missing on some minimal images; plain C always exists.
        rm -rf -- "${dir:?}/data"
        _cms_pg_run "$bindir/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --locale=C --no-sync \
            --no-instructions >>"$dir/initdb.log" 2>&1 || {
            cat "$dir/initdb.log" >&2
            cms_die "initdb failed"
        }
    fi
    # Many test databases live side by side and each test pool holds up to 5 connections.
    cat >>"$dir/data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
unix_socket_directories = '$dir'
max_connections = 300
shared_buffers = 128MB
fsync = off
synchronous_commit = off
full_page_writes = off
logging_collector = off
CONF

    local attempt port
    for attempt in 1 2 3 4 5; do
        port="$(_cms_free_port)" || cms_die "cannot find a free TCP port"
        if _cms_pg_run "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -o "-p $port" -w -t 60 start \
            >"$dir/pg_ctl.log" 2>&1; then
            CMS_PG_PRIVATE_PORT="$port"
            break
        fi
        cms_log "pg_ctl start on port $port failed (attempt $attempt); retrying"
        if [[ $attempt -eq 5 ]]; then
            cat "$dir/pg_ctl.log" >&2
            tail -n 30 "$dir/server.log" >&2 2>/dev/null || true
            cms_die "could not start private PostgreSQL"
        fi
        sleep 1
    done

    local url="postgres://postgres@127.0.0.1:${CMS_PG_PRIVATE_PORT}/postgres"
    local i
    for i in $(seq 1 60); do
        cms_pg_query "$url" 'select 1' >/dev/null 2>&1 && break
        [[ $i -eq 60 ]] && {
            tail -n 30 "$dir/server.log" >&2
            cms_die "private PostgreSQL on port ${CMS_PG_PRIVATE_PORT} does not answer"
        }
        sleep 0.5
    done
    CMS_PG_SOURCE="private"
    export CMS_TEST_DATABASE_URL="$url"
    cms_log "private PostgreSQL ready at $url"
}

# --- entry point ---------------------------------------------------------------------------------------
cms_pg_ensure() {
    if [[ "${CMS_TEST_FORCE_PRIVATE_PG:-0}" == 1 ]]; then
        cms_log "CMS_TEST_FORCE_PRIVATE_PG=1: ignoring CMS_TEST_DATABASE_URL and the shared server"
        unset CMS_TEST_DATABASE_URL
        cms_pg_start_private
    elif [[ -n "${CMS_TEST_DATABASE_URL:-}" ]]; then
        CMS_PG_SOURCE="env"
        export CMS_TEST_DATABASE_URL
        if command -v psql >/dev/null 2>&1; then
            cms_pg_query "$CMS_TEST_DATABASE_URL" 'select 1' >/dev/null ||
                cms_die "CMS_TEST_DATABASE_URL is set but does not answer 'select 1': $(_cms_redact "$CMS_TEST_DATABASE_URL")"
        fi
        cms_log "using PostgreSQL from CMS_TEST_DATABASE_URL: $(_cms_redact "$CMS_TEST_DATABASE_URL")"
    elif _cms_tcp_open 127.0.0.1 5432 && _cms_ensure_psql &&
        cms_pg_query "$CMS_PG_SHARED_URL" 'select 1' >/dev/null 2>&1; then
        CMS_PG_SOURCE="shared"
        export CMS_TEST_DATABASE_URL="$CMS_PG_SHARED_URL"
        cms_log "using the shared PostgreSQL at $CMS_PG_SHARED_URL"
    else
        cms_log "no usable PostgreSQL at 127.0.0.1:5432"
        cms_pg_start_private
    fi

    # Every test creates its own database and a pool of at most 5 connections; say how much room there is.
    if command -v psql >/dev/null 2>&1; then
        local maxc
        maxc="$(cms_pg_query "$CMS_TEST_DATABASE_URL" 'show max_connections' 2>/dev/null || true)"
        if [[ "$maxc" =~ ^[0-9]+$ ]]; then
            cms_log "PostgreSQL max_connections=$maxc (test pools use <= 5 connections each)"
            if ((maxc < 50)); then
                cms_log "WARNING: max_connections=$maxc is low; lower test parallelism (e.g. NEXTEST_TEST_THREADS=2) if tests fail to connect"
            fi
        fi
    fi
}

# Hide a password in a URL for logs.
_cms_redact() {
    sed -E 's#(://[^:/@]+):[^@]*@#\1:***@#' <<<"$1"
}
