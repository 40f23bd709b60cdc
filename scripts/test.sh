#!/usr/bin/env bash
# The test command of Sealdesk, for a new machine and for CI:
#   scripts/test.sh
# Installs what is missing (scripts/lib.sh: wasm target, rustfmt/clippy, wasm-bindgen-cli
# at the version pinned by Cargo.lock, Debian chromium + chromium-driver, node + npm and
# the npm packages of tools/ and tests/browser/), builds the web package
# (scripts/build-web.sh), type-checks the pages (tsc --checkJs over web/js against the
# module's generated declarations), then runs rustfmt, clippy, the native tests, the embedded web files'
# tests, schemathesis against the real binary (scripts/schemathesis.sh), the crypto and client
# crates' wasm tests in headless Chromium, the independent vector check, each fuzz target
# briefly over its corpus (fuzz/: nightly and cargo-fuzz installed if missing) and the
# browser suite (tests/browser: node --test, playwright-core, axe-core).
# The mail tests (tests/tests/mail.rs) get a real SMTP server: aiosmtpd from PyPI in a venv.
# Idempotent: a second run installs nothing and reuses target/.
set -euo pipefail

# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

START=$SECONDS
ensure_rust

# --- toolchain, wasm-bindgen-cli (pinned by Cargo.lock), headless browser --------
ensure_wasm_target
ensure_rust_components rustfmt clippy
ensure_wasm_bindgen_cli
ensure_chromium
export CHROMEDRIVER="${CHROMEDRIVER:-/usr/bin/chromedriver}"
# The rest of the runner's settings (browser mode, Chromium flags in
# scripts/webdriver.json, timeouts) are in .cargo/config.toml's [env].

# --- the web package ---------------------------------------------------------------
# web/pkg, for the browser suite and the embedded-files tests below (node, npm and binaryen
# are installed by the script if missing).
say "scripts/build-web.sh (the WebAssembly package in web/pkg)"
scripts/build-web.sh

say "tsc --noEmit --checkJs over web/js (against the generated web/pkg/*/sealdesk_client.d.ts)"
# TypeScript from tools/package-lock.json (installed by build-web.sh); tools/tsconfig.web.json.
tools/node_modules/.bin/tsc -p tools/tsconfig.web.json

# --- checks ----------------------------------------------------------------------
LOG="$(mktemp)"
trap 'rm -rf "$LOG" "$LOG.independent" "$LOG.browser" "$LOG.fuzz"' EXIT

say "cargo fmt --check"
cargo fmt --all -- --check

say "cargo clippy (all targets, warnings are errors)"
cargo clippy --workspace --all-targets -- -D warnings

say "cargo clippy -p sealdesk-server -p sealdesk-cli --features embed-web (the release binary's web files)"
cargo clippy -p sealdesk-server -p sealdesk-cli --all-targets --features embed-web -- -D warnings

say "mail tests' SMTP server: aiosmtpd (tests/mail/requirements.txt) in $TARGET_DIR/mail-venv"
MAIL_VENV="$TARGET_DIR/mail-venv"
if [ ! -x "$MAIL_VENV/bin/python" ]; then
    python3 -m venv "$MAIL_VENV" || die "python3 -m venv failed: install python3 and its venv module"
fi
"$MAIL_VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r tests/mail/requirements.txt

say "cargo test --workspace (native)"
cargo test --workspace 2>&1 | tee -a "$LOG"

say "schemathesis against the real binary (scripts/schemathesis.sh: every operation, stateless checks, a real session)"
# Its own venv in target/ (scripts/schemathesis-requirements.txt); about a minute.
scripts/schemathesis.sh

say "cargo test -p sealdesk-server --features embed-web --lib web (serving web/ from inside the binary)"
cargo test -p sealdesk-server --features embed-web --lib web:: 2>&1 | tee -a "$LOG"

say "cargo test -p sealdesk-crypto -p sealdesk-client on $WASM_TARGET (headless Chromium via chromedriver: the crypto, SSE parser, views, fetch transport)"
# --tests: lib + integration tests. Doc tests run natively above; on wasm they
# would only be compiled and reported as "no tests to run". One cargo command for both: built
# apart, js-sys, wasm-bindgen and what depends on them were compiled twice (other features).
cargo test -p sealdesk-crypto -p sealdesk-client --target "$WASM_TARGET" --tests 2>&1 | tee -a "$LOG"

say "spec/independent/check_vectors.py: an implementation written from PROTOCOL.md alone reproduces spec/vectors"
VENV="$TARGET_DIR/independent-venv"
if [ ! -x "$VENV/bin/python" ]; then
    say "creating $VENV with cryptography and argon2-cffi (spec/independent/requirements.txt)"
    python3 -m venv "$VENV" || die "python3 -m venv failed: install python3 and its venv module"
fi
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r spec/independent/requirements.txt
"$VENV/bin/python" spec/independent/check_vectors.py | tee "$LOG.independent" | tail -n 1
tail -n 1 "$LOG.independent" | grep -q ' 0 failed$' || die "independent vector check failed"

# Seconds per fuzz target (libFuzzer's -max_total_time, counted from its start; it always
# replays the whole committed corpus first, then searches for new inputs until the time is up):
# a smoke test, not a search; the long runs are benchmarks (FUZZING.md, BENCHMARKS.md "test
# command time").
FUZZ_SECONDS="${SEALDESK_FUZZ_SECONDS:-5}"
say "fuzz targets (fuzz/, FUZZING.md): each over its committed corpus, then new inputs for $FUZZ_SECONDS s"
ensure_nightly
ensure_cargo_fuzz
cargo fmt --manifest-path fuzz/Cargo.toml -- --check
# Their own target folder, kept between runs: the sanitizer flags differ from the workspace's,
# so no build can be shared with it, but a later run rebuilds only what changed (the first
# builds the server's dependencies with ASan: minutes). Built once, then each target runs
# alone (one job: $FUZZ_SECONDS s each, 11 targets, about a minute on 2 cores with the build
# reused).
FUZZ_TARGET_DIR="$TARGET_DIR/fuzz"
(cd fuzz && CARGO_TARGET_DIR="$FUZZ_TARGET_DIR" cargo +"$FUZZ_TOOLCHAIN" fuzz build -O)
fuzz_passed=0
for target in $(cd fuzz && cargo +"$FUZZ_TOOLCHAIN" fuzz list); do
    # libFuzzer adds new inputs to the first folder: a scratch one, so the committed corpus
    # stays as it is; a crash is written to fuzz/artifacts/<target>/ and fails the step.
    mkdir -p "$LOG.fuzz/$target"
    if (cd fuzz && CARGO_TARGET_DIR="$FUZZ_TARGET_DIR" cargo +"$FUZZ_TOOLCHAIN" fuzz run -O "$target" \
        "$LOG.fuzz/$target" "corpus/$target" -- -max_total_time="$FUZZ_SECONDS" -print_final_stats=1) \
        >"$LOG.fuzz/$target.log" 2>&1; then
        say "  $target: $(grep -o 'Done [0-9]* runs in [0-9]* second(s)' "$LOG.fuzz/$target.log")"
        fuzz_passed=$((fuzz_passed + 1))
    else
        tail -n 60 "$LOG.fuzz/$target.log"
        die "fuzz target $target failed (its input is in fuzz/artifacts/$target/; FUZZING.md says how to replay it)"
    fi
done

say "browser suite (tests/browser): the real server and Debian's Chromium driven by playwright-core"
# npm ci when tests/browser/node_modules is missing or package-lock.json changed.
ensure_npm_packages "$ROOT/tests/browser"
# The suite starts target/debug/sealdesk (built by the tests above; a no-op then) serving web/.
cargo build --quiet -p sealdesk-cli
# Readable output here; a TAP copy whose closing counts join the totals below.
node --test --test-concurrency=1 \
    --test-reporter=spec --test-reporter-destination=stdout \
    --test-reporter=tap --test-reporter-destination="$LOG.browser" \
    tests/browser/

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
# node --test's TAP summary: "# pass N", "# fail N", "# skipped N".
read -r b_passed b_failed b_skipped < <(awk '
    /^# pass /    { p = $3 }
    /^# fail /    { f = $3 }
    /^# skipped / { s = $3 }
    END { print p + 0, f + 0, s + 0 }
' "$LOG.browser")
passed=$((passed + b_passed + fuzz_passed))
failed=$((failed + b_failed))
ignored=$((ignored + b_skipped))

say "all checks passed: web package, tsc over web/js, fmt, clippy, native tests, schemathesis, embedded web files, wasm tests in headless Chromium, independent vector check, fuzz targets, browser suite ($((SECONDS - START))s)"
echo "tests: $passed passed, $failed failed, $ignored skipped"
