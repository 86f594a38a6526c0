# shellcheck shell=bash
# s3s-fs for the photo tests (docs/adr/0010). Source it, then call `cms_s3s_ensure`.
#
#   source scripts/lib/s3s.sh
#   cms_s3s_ensure           # exports CMS_TEST_S3S_FS
#
# Order of preference:
#   1. CMS_TEST_S3S_FS, when set and executable;
#   2. the cached binary $CMS_TOOLS_DIR/s3s-fs-0.14.1/bin/s3s-fs (default /root/.cache/cms-tools);
#   3. `cargo install s3s-fs --version 0.14.1 --features binary --locked` into that cache (about
#      4 minutes of CPU once; its build dir is removed afterwards). Later runs reuse the binary.
# The tests start one server per test on a free port; nothing here starts one.

if [[ -n "${_CMS_S3S_LIB_LOADED:-}" ]]; then
    return 0
fi
_CMS_S3S_LIB_LOADED=1

CMS_S3S_VERSION="0.14.1"

cms_s3s_ensure() {
    if [[ -n "${CMS_TEST_S3S_FS:-}" && -x "${CMS_TEST_S3S_FS}" ]]; then
        cms_log "s3s-fs: $CMS_TEST_S3S_FS (CMS_TEST_S3S_FS)"
        return 0
    fi
    local tools="${CMS_TOOLS_DIR:-/root/.cache/cms-tools}"
    local root="$tools/s3s-fs-$CMS_S3S_VERSION"
    local binary="$root/bin/s3s-fs"
    if [[ ! -x "$binary" ]]; then
        cms_log "installing s3s-fs $CMS_S3S_VERSION into $root (once; about 4 minutes)"
        mkdir -p "$tools"
        local log build
        log="$(mktemp)"
        build="$(mktemp -d "$tools/s3s-fs-build.XXXXXX")"
        if ! CARGO_TARGET_DIR="$build" cargo install s3s-fs --version "$CMS_S3S_VERSION" \
            --features binary --locked --root "$root" >"$log" 2>&1 </dev/null; then
            tail -n 40 "$log" >&2
            rm -rf -- "$log" "$build"
            cms_die "cargo install s3s-fs $CMS_S3S_VERSION failed"
        fi
        rm -rf -- "$log" "$build"
    fi
    export CMS_TEST_S3S_FS="$binary"
    cms_log "s3s-fs: $binary"
}
