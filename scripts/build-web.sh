#!/usr/bin/env bash
# Builds the browser's WebAssembly package into web/pkg/ (git-ignored):
#   scripts/build-web.sh [--profile PROFILE]
# Installs what is missing (wasm32 target, wasm-bindgen-cli at the version pinned by
# Cargo.lock, node and npm, binaryen from npm into tools/node_modules as tools/package-lock.json
# pins it), then:
#   1. cargo build -p sealdesk-client for wasm32 with the `wasm-release` profile (Cargo.toml:
#      opt-level "z", LTO, one codegen unit, panic = "abort"); --profile measures another;
#   2. wasm-bindgen --target web (the ES module sealdesk_client.js and its _bg.wasm);
#   3. binaryen's wasm-opt -Oz (npm's, not Debian's older one, whose output failed to load);
# and prints the sizes, raw and gzipped. Steps 2 and 3 are skipped when web/pkg already holds
# their output for the same module, tools and flags (target/web-pkg.stamp).
set -euo pipefail

# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

PROFILE=wasm-release
while [ $# -gt 0 ]; do
    case "$1" in
    --profile) PROFILE="${2:?--profile needs a cargo profile name}"; shift 2 ;;
    --profile=*) PROFILE="${1#--profile=}"; shift ;;
    -h | --help) sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument: $1 (usage: scripts/build-web.sh [--profile PROFILE])" ;;
    esac
done

# The budget the module's gzipped size is measured against (the issue's 250 KB).
BUDGET_GZIP=$((250 * 1000))
WASM_OPT_FLAGS=(-Oz)
OUT="$ROOT/web/pkg"
STAMP="$ROOT/target/web-pkg.stamp"

ensure_rust
ensure_wasm_target
ensure_wasm_bindgen_cli
ensure_npm_packages "$ROOT/tools"
WASM_OPT="$ROOT/tools/node_modules/.bin/wasm-opt"
[ -x "$WASM_OPT" ] || die "$WASM_OPT missing after npm ci: is binaryen in tools/package.json?"

say "cargo build -p sealdesk-client --target $WASM_TARGET --profile $PROFILE"
cargo build --quiet -p sealdesk-client --target "$WASM_TARGET" --profile "$PROFILE"
# cargo names the output folder of the `dev` profile "debug".
PROFILE_DIR="$PROFILE"
[ "$PROFILE" = dev ] && PROFILE_DIR=debug
[ "$PROFILE" = test ] && PROFILE_DIR=debug
[ "$PROFILE" = bench ] && PROFILE_DIR=release
INPUT="$ROOT/target/$WASM_TARGET/$PROFILE_DIR/sealdesk_client.wasm"
[ -f "$INPUT" ] || die "cargo did not produce $INPUT"

sha() { sha256sum "$1" | cut -d' ' -f1; }
size_line() { # FILE: "N bytes, M gzipped"
    printf "%'d bytes, %'d gzipped" "$(stat -c %s "$1")" "$(gzip -9 -c "$1" | wc -c)"
}

want="input $(sha "$INPUT")
wasm-bindgen $WB_VERSION
$("$WASM_OPT" --version) ${WASM_OPT_FLAGS[*]}"
if [ -f "$STAMP" ] && [ -f "$OUT/sealdesk_client.js" ] && [ -f "$OUT/sealdesk_client_bg.wasm" ] &&
    [ "$(cat "$STAMP")" = "$want
output $(sha "$OUT/sealdesk_client_bg.wasm")" ]; then
    say "web/pkg is up to date ($PROFILE)"
else
    TMP="$ROOT/target/web-pkg.tmp"
    rm -rf "$TMP"
    say "wasm-bindgen --target web (sealdesk_client.js and sealdesk_client_bg.wasm)"
    wasm-bindgen --target web --out-dir "$TMP" "$INPUT"
    echo "    after wasm-bindgen: $(size_line "$TMP/sealdesk_client_bg.wasm")"
    say "wasm-opt ${WASM_OPT_FLAGS[*]} (binaryen $("$WASM_OPT" --version | awk '{print $3}'), from npm)"
    "$WASM_OPT" "${WASM_OPT_FLAGS[@]}" "$TMP/sealdesk_client_bg.wasm" -o "$TMP/sealdesk_client_bg.wasm.opt"
    mv "$TMP/sealdesk_client_bg.wasm.opt" "$TMP/sealdesk_client_bg.wasm"
    rm -rf "$OUT"
    mv "$TMP" "$OUT"
    printf '%s\noutput %s\n' "$want" "$(sha "$OUT/sealdesk_client_bg.wasm")" >"$STAMP"
fi

wasm_gzip="$(gzip -9 -c "$OUT/sealdesk_client_bg.wasm" | wc -c)"
echo "    web/pkg/sealdesk_client_bg.wasm: $(size_line "$OUT/sealdesk_client_bg.wasm")"
echo "    web/pkg/sealdesk_client.js:      $(size_line "$OUT/sealdesk_client.js")"
if [ "$wasm_gzip" -gt "$BUDGET_GZIP" ]; then
    printf "    note: the module is over its budget of %'d bytes gzipped (client-wasm/README.md, Building)\n" "$BUDGET_GZIP"
fi
