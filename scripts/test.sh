#!/usr/bin/env bash
# The test command of Sealdesk, for a new machine and for CI:
#   scripts/test.sh
# Installs what is missing (wasm target, rustfmt/clippy, wasm-bindgen-cli at the
# version pinned by Cargo.lock, Debian chromium + chromium-driver), then runs
# rustfmt, clippy, the native tests and the crypto and client crates' wasm tests in
# headless Chromium. Idempotent: a second run installs nothing and reuses target/.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT="$(pwd)"

say() { printf '==> %s\n' "$*"; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

START=$SECONDS
CARGO_BIN="${CARGO_HOME:-$HOME/.cargo}/bin"
case ":$PATH:" in *":$CARGO_BIN:"*) ;; *) export PATH="$CARGO_BIN:$PATH" ;; esac
command -v cargo >/dev/null || die "cargo not found: install Rust with rustup first"
command -v rustup >/dev/null || die "rustup not found: the wasm target is installed through rustup"

SUDO=()
if [ "$(id -u)" -ne 0 ]; then SUDO=(sudo); fi

# --- toolchain -----------------------------------------------------------------
WASM_TARGET=wasm32-unknown-unknown
installed_targets="$(rustup target list --installed)"
if ! grep -qx "$WASM_TARGET" <<<"$installed_targets"; then
    say "installing rust target $WASM_TARGET"
    rustup target add "$WASM_TARGET"
fi
installed_components="$(rustup component list --installed)"
for comp in rustfmt clippy; do
    if ! grep -q "^$comp" <<<"$installed_components"; then
        say "installing rustup component $comp"
        rustup component add "$comp"
    fi
done

# --- wasm-bindgen-cli, pinned to the wasm-bindgen in Cargo.lock ---------------
if [ ! -f Cargo.lock ]; then
    say "no Cargo.lock: cargo generate-lockfile"
    cargo generate-lockfile
fi
say "syncing Cargo.lock and fetching dependencies"
cargo fetch --quiet

WB_VERSIONS="$(awk '
    /^\[\[package\]\]/ { name = "" }
    /^name = /         { name = $3 }
    /^version = / && name == "\"wasm-bindgen\"" { gsub(/"/, "", $3); print $3 }
' Cargo.lock | sort -u)"
[ -n "$WB_VERSIONS" ] || die "Cargo.lock has no wasm-bindgen package: sealdesk-crypto needs the wasm32 dev-dependency wasm-bindgen-test"
[ "$(wc -l <<<"$WB_VERSIONS")" -eq 1 ] || die "Cargo.lock has several wasm-bindgen versions: $(tr '\n' ' ' <<<"$WB_VERSIONS")"
WB_VERSION="$WB_VERSIONS"

have_wb="$(wasm-bindgen --version 2>/dev/null || true)"
have_runner="$(wasm-bindgen-test-runner --version 2>/dev/null || true)"
if [ "$have_wb" != "wasm-bindgen $WB_VERSION" ] || [ "$have_runner" != "wasm-bindgen-test-runner $WB_VERSION" ]; then
    say "installing wasm-bindgen-cli $WB_VERSION (had: ${have_wb:-none}; a few minutes)"
    cargo install wasm-bindgen-cli --version "$WB_VERSION"
fi

# --- headless browser ------------------------------------------------------------
if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then
    command -v apt-get >/dev/null || die "/usr/bin/chromium or /usr/bin/chromedriver missing and no apt-get: install Chromium and ChromeDriver"
    say "installing Debian chromium and chromium-driver"
    "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver
fi
export CHROMEDRIVER="${CHROMEDRIVER:-/usr/bin/chromedriver}"
# The rest of the runner's settings (browser mode, Chromium flags in
# scripts/webdriver.json, timeouts) are in .cargo/config.toml's [env].

# --- checks ----------------------------------------------------------------------
LOG="$(mktemp)"
trap 'rm -f "$LOG" "$LOG.independent"' EXIT

say "cargo fmt --check"
cargo fmt --all -- --check

say "cargo clippy (all targets, warnings are errors)"
cargo clippy --workspace --all-targets -- -D warnings

say "cargo test --workspace (native)"
cargo test --workspace 2>&1 | tee -a "$LOG"

say "cargo test -p sealdesk-crypto on $WASM_TARGET (headless Chromium via chromedriver)"
# --tests: lib + integration tests. Doc tests run natively above; on wasm they
# would only be compiled and reported as "no tests to run".
cargo test -p sealdesk-crypto --target "$WASM_TARGET" --tests 2>&1 | tee -a "$LOG"

say "cargo test -p sealdesk-client on $WASM_TARGET (headless Chromium: SSE parser, views, fetch transport)"
cargo test -p sealdesk-client --target "$WASM_TARGET" --tests 2>&1 | tee -a "$LOG"

say "spec/independent/check_vectors.py: an implementation written from PROTOCOL.md alone reproduces spec/vectors"
VENV="$ROOT/target/independent-venv"
if [ ! -x "$VENV/bin/python" ]; then
    say "creating $VENV with cryptography and argon2-cffi (spec/independent/requirements.txt)"
    python3 -m venv "$VENV" || die "python3 -m venv failed: install python3 and its venv module"
fi
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r spec/independent/requirements.txt
"$VENV/bin/python" spec/independent/check_vectors.py | tee "$LOG.independent" | tail -n 1
tail -n 1 "$LOG.independent" | grep -q ' 0 failed$' || die "independent vector check failed"

read -r passed failed ignored < <(awk '
    /^test result: / {
        for (i = 1; i <= NF; i++) {
            if ($(i) ~ /^passed;?$/)  p += $(i-1)
            if ($(i) ~ /^failed;?$/)  f += $(i-1)
            if ($(i) ~ /^ignored;?$/) g += $(i-1)
        }
    }
    END { print p + 0, f + 0, g + 0 }
' "$LOG")

say "all checks passed: fmt, clippy, native tests, wasm tests in headless Chromium, independent vector check ($((SECONDS - START))s)"
echo "tests: $passed passed, $failed failed, $ignored skipped"
