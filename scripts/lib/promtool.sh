# shellcheck shell=bash
# promtool for the CMS tests (`promtool check metrics`, `check rules`, `test rules`). Source it (after
# scripts/lib/postgres.sh, which defines cms_log, cms_die and _cms_as_root_or_sudo), then call
# `cms_promtool_ensure`, which exports PROMTOOL.
#
# Order of preference: $PROMTOOL when set and executable; `promtool` on PATH; else it is installed,
# once, non-interactively: no Debian package ships promtool alone, and installing `prometheus`
# would also set up (and on some systems start) a Prometheus server with its web assets, so the
# package is downloaded with `apt-get download` and only its static /usr/bin/promtool is copied to
# /usr/local/bin. No promtool = failure (the tests that need it fail loudly; they never skip).

if [[ -n "${_CMS_PROMTOOL_LIB_LOADED:-}" ]]; then
    return 0
fi
_CMS_PROMTOOL_LIB_LOADED=1

cms_promtool_ensure() {
    if [[ -n "${PROMTOOL:-}" && -x "${PROMTOOL}" ]]; then
        export PROMTOOL
        return 0
    fi
    if command -v promtool >/dev/null 2>&1; then
        PROMTOOL="$(command -v promtool)"
        export PROMTOOL
        return 0
    fi
    command -v apt-get >/dev/null 2>&1 || cms_die "promtool is missing and apt-get is not available: install promtool (Debian package prometheus) or set PROMTOOL"
    command -v dpkg-deb >/dev/null 2>&1 || cms_die "promtool is missing and dpkg-deb is not available"
    cms_log "installing promtool from Debian's prometheus package (apt-get download, promtool only)"
    local dir log
    dir="$(mktemp -d "${TMPDIR:-/tmp}/cms-promtool.XXXXXX")"
    log="$dir/apt.log"
    # apt's sandbox user must be able to write the download folder.
    chmod 0777 "$dir"
    if ! { _cms_as_root_or_sudo env DEBIAN_FRONTEND=noninteractive apt-get update -q &&
        (cd "$dir" && _cms_as_root_or_sudo env DEBIAN_FRONTEND=noninteractive apt-get download -q prometheus) &&
        dpkg-deb -x "$dir"/prometheus_*.deb "$dir/root" &&
        _cms_as_root_or_sudo install -m 0755 "$dir/root/usr/bin/promtool" /usr/local/bin/promtool; } >"$log" 2>&1 </dev/null; then
        tail -n 40 "$log" >&2
        rm -rf -- "$dir"
        cms_die "installing promtool failed"
    fi
    rm -rf -- "$dir"
    PROMTOOL=/usr/local/bin/promtool
    export PROMTOOL
    cms_log "promtool: $("$PROMTOOL" --version 2>&1 | head -n 1)"
}
