#!/usr/bin/env bash
# Builds what is needed and runs Sealdesk, for a new machine and every day after:
#   scripts/serve.sh [ARGS...]          (ARGS go to `sealdesk serve`, e.g. --config FILE)
# 1. scripts/build-web.sh: installs what is missing (wasm32 target, wasm-bindgen-cli, node
#    and npm, binaryen) and builds the WebAssembly package into web/pkg/ (skipped when it is
#    up to date);
# 2. cargo build --release with the `embed-web` feature: target/release/sealdesk carries web/
#    and needs nothing else (copy it anywhere);
# 3. runs `sealdesk serve` in the current directory: 127.0.0.1:8080, sled in ./data, and the
#    first administrator's invite link on standard output while there is no administrator.
#    SEALDESK_* variables and --config FILE change any option (server/sealdesk.example.toml).
set -euo pipefail

# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
ensure_rust

"$ROOT/scripts/build-web.sh"

say "cargo build --release -p sealdesk-cli --features embed-web (the sealdesk binary, web files inside)"
(cd "$ROOT" && cargo build --release --quiet -p sealdesk-cli --features embed-web)

say "starting sealdesk serve in $(pwd) (Ctrl-C stops it)"
exec "$TARGET_DIR/release/sealdesk" serve "$@"
