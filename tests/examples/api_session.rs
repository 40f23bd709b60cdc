//! Prepares a fresh server for scripts/schemathesis.sh: redeems its first-administrator
//! invite with the genesis entry of [`FIRST_ADMIN_SEED`], registers that administrator's
//! account (`root`, cheap Argon2id parameters), opens a ticket owned by that account, and
//! prints the session token and the ticket id, one a line. The script passes the session to
//! schemathesis as `Authorization: Bearer` and the ticket id as every `{id}`, so the
//! authenticated operations and the ticket's operations run against real records.
//!
//! `cargo run -p sealdesk-system-tests --example api_session -- BASE_URL INVITE_TOKEN`

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use sealdesk_client::reporter::Opening;
use sealdesk_crypto::{DirectoryEntry, Identity, IdentitySeed, system_rng};
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
    let (session, ticket) = runtime().block_on(async {
        let admin = first_admin(&transport).await;
        let opening = Opening {
            subject: "Schema tests".into(),
            text: "A ticket for schemathesis to address.".into(),
            category: None,
            name: None,
            email: None,
            urgent: false,
            notify_email: None,
            debug: None,
        };
        let ticket = admin
            .account()
            .create_ticket(&transport, admin.directory(), opening, 1, &mut system_rng())
            .await
            .expect("open a ticket");
        (admin.account().session().to_owned(), ticket.ticket_id())
    });
    println!("{session}");
    println!("{}", ticket.to_hex());
}
