#!/usr/bin/env bash
# Schema tests of the HTTP API against the real binary (BENCHMARKS.md, "Schema-tested API"):
#   scripts/schemathesis.sh [EXAMPLES_PER_OPERATION]   (default 40)
# Starts target/debug/sealdesk on a fresh data directory (loopback, ephemeral port), makes its
# first administrator with a real session and a ticket (tests/examples/api_session.rs), then runs
# schemathesis (PyPI, pinned in scripts/schemathesis-requirements.txt, in a venv the script
# creates) over every operation of the document the server serves at /api/v1/openapi.json,
# with that session as `Authorization: Bearer`, and the stateless checks: no 5xx
# (not_a_server_error), documented status codes and content types, answers that conform to
# their schemas (every error being the JSON ErrorBody). Fails on any finding.
#
# Left out, each for a reason: the two live-update streams (`.../events`: with a valid session
# they stream until their lifetime ends, which no stateless check can wait for; their error
# answers are covered by server/tests/events.rs) and `POST /api/v1/accounts/logout` and
# `logout-everywhere`, which run alone at the end (they end the session the others use).
set -euo pipefail

# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

EXAMPLES="${1:-40}"
VENV="$TARGET_DIR/schemathesis-venv"
if [ ! -x "$VENV/bin/st" ]; then
    say "creating $VENV with schemathesis (scripts/schemathesis-requirements.txt)"
    python3 -m venv "$VENV" || die "python3 -m venv failed: install python3 and its venv module"
fi
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
    -r scripts/schemathesis-requirements.txt

cargo build --quiet -p sealdesk-cli
cargo build --quiet -p sealdesk-system-tests --example api_session

WORK="$(mktemp -d)"
SERVER_PID=""
cleanup() {
    if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
    rm -rf "$WORK"
}
trap cleanup EXIT

# Limits out of the way: schemathesis sends thousands of requests from one address.
# Mail on (so the mail and recovery routes get past `400 mail_off` to their checks), with a
# relay on a closed loopback port: mails are queued in the outbox and only retried, never sent.
SEALDESK_DATA_DIR="$WORK/data" SEALDESK_LISTEN=127.0.0.1:0 SEALDESK_WEB_DIR="$WORK/no-web" \
    SEALDESK_LOG_LEVEL=error SEALDESK_PROOF_OF_WORK_BITS=0 \
    SEALDESK_ANONYMOUS_TICKETS_PER_HOUR=1000000 SEALDESK_POSTS_PER_MINUTE=1000000 \
    SEALDESK_UPLOADS_PER_MINUTE=1000000 SEALDESK_RECOVERY_REQUESTS_PER_HOUR=1000000 \
    SEALDESK_SMTP_URL='smtp://127.0.0.1:9?tls=none' SEALDESK_MAIL_FROM=support@example.org \
    SEALDESK_PUBLIC_URL=http://127.0.0.1 \
    SEALDESK_ARGON2_MIN_MEMORY_KIB=256 SEALDESK_ARGON2_MIN_ITERATIONS=1 \
    SEALDESK_REQUESTS_PER_MINUTE_PER_ADDRESS=0 SEALDESK_SIGN_INS_PER_MINUTE_PER_ADDRESS=0 \
    SEALDESK_REGISTRATIONS_PER_HOUR_PER_ADDRESS=0 SEALDESK_ACCOUNT_TICKETS_PER_HOUR_PER_ADDRESS=0 \
    "$TARGET_DIR/debug/sealdesk" serve >"$WORK/stdout" 2>"$WORK/stderr" &
SERVER_PID=$!
for _ in $(seq 1 200); do
    grep -q '#' "$WORK/stdout" 2>/dev/null && break
    sleep 0.05
done
BASE="$(sed -n 's/^sealdesk listening on //p' "$WORK/stdout")"
INVITE="$(grep -o '#.*' "$WORK/stdout" | head -n 1 | cut -c2-)"
[ -n "$BASE" ] && [ -n "$INVITE" ] || die "the server did not start: $(cat "$WORK/stdout" "$WORK/stderr")"
{ read -r SESSION; read -r TICKET; } < <("$TARGET_DIR/debug/examples/api_session" "$BASE" "$INVITE")
[ -n "$SESSION" ] && [ -n "$TICKET" ] || die "the administrator's setup failed"
# Every `{id}` is that real ticket (its other parameters stay generated), so the ticket's
# operations reach their checks instead of answering 404.
cat >"$WORK/schemathesis.toml" <<TOML
[parameters]
"path.id" = "$TICKET"
TOML

CHECKS=not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance
# From the temporary directory: schemathesis keeps a cache of past findings in the working
# directory, and each run starts from nothing.
run_schemathesis() {
    (cd "$WORK" && "$VENV/bin/st" --config-file "$WORK/schemathesis.toml" run "$BASE/api/v1/openapi.json" --url "$BASE" \
        --header "Authorization: Bearer $SESSION" \
        --checks "$CHECKS" --phases examples,coverage,fuzzing \
        --max-examples "$EXAMPLES" --seed 1 --no-color "$@")
}
say "schemathesis over every operation but the event streams and logout ($EXAMPLES examples each)"
run_schemathesis --exclude-path-regex '/events$' --exclude-path /api/v1/accounts/logout \
    --exclude-path /api/v1/accounts/logout-everywhere
say "schemathesis over POST /api/v1/accounts/logout and logout-everywhere (they end the session)"
run_schemathesis --include-path-regex '^/api/v1/accounts/logout'
if [ -s "$WORK/stderr" ] && grep -qi 'panic' "$WORK/stderr"; then
    die "the server panicked: $(cat "$WORK/stderr")"
fi
say "schemathesis: no finding"
