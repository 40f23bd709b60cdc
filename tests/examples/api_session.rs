//! Prepares a fresh server for scripts/schemathesis.sh: redeems its first-administrator
//! invite with the genesis entry of [`FIRST_ADMIN_SEED`], registers that administrator's
//! account (`root`, cheap Argon2id parameters) and prints its session token, which the script
//! passes to schemathesis as `Authorization: Bearer`, so the authenticated operations run with
//! a real administrator's session.
//!
//! `cargo run -p sealdesk-system-tests --example api_session -- BASE_URL INVITE_TOKEN`

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use sealdesk_crypto::{DirectoryEntry, Identity, IdentitySeed};
use sealdesk_system_tests::{FIRST_ADMIN_SEED, b64, first_admin, runtime};
use serde_json::json;

fn main() {
    let mut args = std::env::args().skip(1);
    let (Some(base), Some(invite)) = (args.next(), args.next()) else {
        eprintln!("usage: api_session BASE_URL INVITE_TOKEN");
        std::process::exit(2);
    };
    let admin = Identity::from_seed(&IdentitySeed::from_bytes(FIRST_ADMIN_SEED));
    let entry = DirectoryEntry::genesis(&admin).to_bytes();
    let status = reqwest::blocking::Client::new()
        .post(format!("{base}/api/v1/invites/redeem-genesis"))
        .json(&json!({"invite": invite, "entry": b64(&entry)}))
        .send()
        .expect("redeem the first invite")
        .status();
    assert_eq!(status.as_u16(), 201, "genesis");
    let transport = sealdesk_client::transport::NativeTransport::new(&base);
    let admin = runtime().block_on(first_admin(&transport));
    println!("{}", admin.account().session());
}
