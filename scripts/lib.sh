# shellcheck shell=bash
# Shared by scripts/test.sh, scripts/build-web.sh and scripts/serve.sh (sourced, not run):
# messages, and the installation of what is missing, each step saying what it installs:
#   ensure_rust                 cargo and rustup on PATH (rustup itself is a prerequisite)
#   ensure_wasm_target          rustup target wasm32-unknown-unknown
#   ensure_rust_components C..  rustup components (rustfmt, clippy)
#   ensure_wasm_bindgen_cli     wasm-bindgen-cli at the version of wasm-bindgen in Cargo.lock
#   ensure_chromium             Debian's chromium and chromium-driver (apt)
#   ensure_node                 node and npm (Debian's nodejs and npm, apt)
#   ensure_npm_packages DIR     DIR/node_modules from DIR/package-lock.json (npm ci)
#   ensure_nightly              rustup's nightly toolchain (cargo-fuzz needs its sanitizers)
#   ensure_cargo_fuzz           cargo-fuzz at CARGO_FUZZ_VERSION (cargo install --locked)
# Each is idempotent: when everything is there, nothing is installed and nothing is printed.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# cargo's output folder: $CARGO_TARGET_DIR when set (relative to the repository root, where the
# scripts run cargo), else target/.
case "${CARGO_TARGET_DIR:-}" in
"") TARGET_DIR="$ROOT/target" ;;
/*) TARGET_DIR="$CARGO_TARGET_DIR" ;;
*) TARGET_DIR="$ROOT/$CARGO_TARGET_DIR" ;;
esac
WASM_TARGET=wasm32-unknown-unknown

say() { printf '==> %s\n' "$*"; }
die() {
    printf 'error: %s\n' "$*" >&2
    exit 1
}

SUDO=()
if [ "$(id -u)" -ne 0 ]; then SUDO=(sudo); fi

ensure_rust() {
    local cargo_bin="${CARGO_HOME:-$HOME/.cargo}/bin"
    case ":$PATH:" in *":$cargo_bin:"*) ;; *) export PATH="$cargo_bin:$PATH" ;; esac
    command -v cargo >/dev/null || die "cargo not found: install Rust with rustup first"
    command -v rustup >/dev/null || die "rustup not found: the wasm target is installed through rustup"
}

ensure_wasm_target() {
    if ! rustup target list --installed | grep -qx "$WASM_TARGET"; then
        say "installing rust target $WASM_TARGET"
        rustup target add "$WASM_TARGET"
    fi
}

ensure_rust_components() {
    local installed comp
    installed="$(rustup component list --installed)"
    for comp in "$@"; do
        if ! grep -q "^$comp" <<<"$installed"; then
            say "installing rustup component $comp"
            rustup component add "$comp"
        fi
    done
}

# Sets WB_VERSION to the version of the wasm-bindgen crate in Cargo.lock (creating and syncing
# the lock file first), then installs wasm-bindgen-cli at exactly that version if the
# wasm-bindgen or wasm-bindgen-test-runner on PATH is another one or missing.
ensure_wasm_bindgen_cli() {
    if [ ! -f "$ROOT/Cargo.lock" ]; then
        say "no Cargo.lock: cargo generate-lockfile"
        (cd "$ROOT" && cargo generate-lockfile)
    fi
    say "syncing Cargo.lock and fetching dependencies"
    (cd "$ROOT" && cargo fetch --quiet)

    local versions
    versions="$(awk '
        /^\[\[package\]\]/ { name = "" }
        /^name = /         { name = $3 }
        /^version = / && name == "\"wasm-bindgen\"" { gsub(/"/, "", $3); print $3 }
    ' "$ROOT/Cargo.lock" | sort -u)"
    [ -n "$versions" ] || die "Cargo.lock has no wasm-bindgen package: sealdesk-client depends on it for wasm32"
    [ "$(wc -l <<<"$versions")" -eq 1 ] || die "Cargo.lock has several wasm-bindgen versions: $(tr '\n' ' ' <<<"$versions")"
    WB_VERSION="$versions"

    local have_wb have_runner
    have_wb="$(wasm-bindgen --version 2>/dev/null || true)"
    have_runner="$(wasm-bindgen-test-runner --version 2>/dev/null || true)"
    if [ "$have_wb" != "wasm-bindgen $WB_VERSION" ] || [ "$have_runner" != "wasm-bindgen-test-runner $WB_VERSION" ]; then
        say "installing wasm-bindgen-cli $WB_VERSION (had: ${have_wb:-none}; a few minutes)"
        cargo install wasm-bindgen-cli --version "$WB_VERSION"
    fi
}

APT_UPDATED=
apt_install() {
    command -v apt-get >/dev/null || die "apt-get not found: install $* by hand"
    if [ -z "$APT_UPDATED" ]; then
        "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
        APT_UPDATED=1
    fi
    "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@"
}

ensure_chromium() {
    if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then
        say "installing Debian chromium and chromium-driver (apt)"
        apt_install chromium chromium-driver
    fi
}

ensure_node() {
    if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
        say "installing Debian nodejs and npm (apt)"
        apt_install nodejs npm
    fi
}

# Installs DIR/node_modules exactly as DIR/package-lock.json pins it (npm ci), unless that lock
# file is what was installed last time. Without a lock file, npm install writes one.
ensure_npm_packages() {
    local dir="$1" stamp="$1/node_modules/.sealdesk-installed-lock"
    ensure_node
    if [ -f "$dir/package-lock.json" ]; then
        if [ -d "$dir/node_modules" ] && cmp -s "$dir/package-lock.json" "$stamp"; then
            return
        fi
        say "installing the npm packages of ${dir#"$ROOT"/} (npm ci, versions pinned by its package-lock.json)"
        (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
    else
        say "installing the npm packages of ${dir#"$ROOT"/} (npm install: no package-lock.json yet, writing one)"
        (cd "$dir" && npm install --no-audit --no-fund --loglevel=error)
    fi
    cp "$dir/package-lock.json" "$stamp"
}

# The nightly toolchain of the fuzz targets (fuzz/, FUZZING.md): libFuzzer's instrumentation
# and the address sanitizer are nightly-only flags. The channel, not a dated nightly: a machine
# that already has a nightly reuses it instead of downloading another.
FUZZ_TOOLCHAIN="${FUZZ_TOOLCHAIN:-nightly}"
ensure_nightly() {
    if ! rustup run "$FUZZ_TOOLCHAIN" rustc --version >/dev/null 2>&1; then
        say "installing the rust toolchain $FUZZ_TOOLCHAIN (minimal profile, for cargo-fuzz)"
        rustup toolchain install "$FUZZ_TOOLCHAIN" --profile minimal
    fi
}

# cargo-fuzz, pinned; its own dependencies as its Cargo.lock pins them.
CARGO_FUZZ_VERSION=0.13.2
ensure_cargo_fuzz() {
    if [ "$(cargo fuzz --version 2>/dev/null)" != "cargo-fuzz $CARGO_FUZZ_VERSION" ]; then
        say "installing cargo-fuzz $CARGO_FUZZ_VERSION (cargo install --locked; a few minutes)"
        cargo install cargo-fuzz --version "$CARGO_FUZZ_VERSION" --locked
    fi
}
