//! Every body against the JSON of spec/API.md: each example (with its placeholders kept as
//! strings) parses into its wire type and serializes back to exactly the same JSON, so a
//! renamed, added or dropped member fails here.

// Test and tool code: a failed expectation stops the run, so it may unwrap, expect and
// panic (the workspace denies these in library code: Cargo.toml, clippy.toml).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use sealdesk_crypto::Argon2Params;
use sealdesk_wire::accounts::*;
use sealdesk_wire::attachments::*;
use sealdesk_wire::directory::*;
use sealdesk_wire::errors::ErrorBody;
use sealdesk_wire::events::MessageEvent;
use sealdesk_wire::inbox::*;
use sealdesk_wire::invites::*;
use sealdesk_wire::pow::*;
use sealdesk_wire::settings::*;
use sealdesk_wire::team::*;
use sealdesk_wire::tickets::*;
use sealdesk_wire::{EmptyBody, SecretText};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

/// Parses `json` as `T` and checks that it serializes back to the same JSON value.
fn pinned<T: Serialize + DeserializeOwned>(json: Value) -> T {
    let typed: T = serde_json::from_value(json.clone()).expect("parses");
    assert_eq!(serde_json::to_value(&typed).expect("serializes"), json);
    typed
}

#[test]
fn errors() {
    let body: ErrorBody = pinned(json!({"error": "not_found", "message": "No such ticket."}));
    assert_eq!(body.error, "not_found");
    // A refusal without a sentence still reads.
    let partial: ErrorBody = serde_json::from_value(json!({"error": "rate_limited"})).unwrap();
    assert_eq!(partial.message, "");
}

#[test]
fn settings() {
    let answer: SettingsAnswer = pinned(json!({
        "categories": [{"name": "Network", "guidance": "Which VPN client, and since when?"}],
        "languages": ["English", "Deutsch"],
        "support_hours": "Monday to Friday, 9:00 to 17:00 CET",
        "response_time": "within one working day",
        "max_attachment_bytes": 26214400, "version": "0.1.0", "mail_enabled": true,
        "embed_origins": ["https://app.example.com"]
    }));
    assert_eq!(answer.settings.categories[0].name, "Network");
    assert!(answer.mail_enabled);
    assert_eq!(answer.embed_origins, ["https://app.example.com"]);
    pinned::<Settings>(json!({
        "categories": [{"name": "Network", "guidance": ""}],
        "languages": [], "support_hours": "", "response_time": ""
    }));
    // Each member optional, unknown members refused.
    let empty: Settings = serde_json::from_value(json!({})).unwrap();
    assert_eq!(empty, Settings::default());
    let named: Settings = serde_json::from_value(json!({"categories": [{"name": "A"}]})).unwrap();
    assert_eq!(named.categories[0].guidance, "");
    assert!(serde_json::from_value::<Settings>(json!({"colour": "red"})).is_err());
    assert!(serde_json::from_value::<Category>(json!({"name": "A", "x": 1})).is_err());
}

#[test]
fn directory() {
    let answer: DirectoryAnswer = pinned(json!({
        "entries": ["<entry>", "..."], "head": {"seq": 3, "hash": "<32 bytes>"}
    }));
    assert_eq!(answer.head.map(|h| h.seq), Some(3));
    pinned::<DirectoryAnswer>(json!({"entries": [], "head": null}));
    pinned::<AppendEntryBody>(json!({"entry": "<202 bytes>"}));
    pinned::<HeadBody>(json!({"seq": 0, "hash": "<32 bytes>"}));
    let query: DirectoryQuery = serde_json::from_value(json!({})).unwrap();
    assert_eq!(query.since, 0);
}

#[test]
fn invites() {
    let genesis: RedeemGenesisBody = pinned(json!({
        "invite": "<token>", "entry": "<202-byte genesis entry>"
    }));
    assert_eq!(genesis.invite.expose(), "<token>");
    pinned::<InviteCreated>(json!({"invite": "<32 bytes>", "expires_at": 0}));
    pinned::<RedeemInviteBody>(json!({"invite": "<token>", "username": "bob"}));
    pinned::<InviteRedeemed>(json!({"key_id": "<32 bytes>", "fingerprint": "12345 67890"}));
    assert_eq!(serde_json::to_value(EmptyBody {}).unwrap(), json!({}));
}

#[test]
fn anonymous_ticket_creation() {
    let body: CreateTicketBody = pinned(json!({
        "reporter": "<64-byte public identity derived from the ticket secret>",
        "access_token_hash": "<32-byte token_hash>",
        "message": "<first conversation message: seq 1, epoch 0, dir_seq = directory head>",
        "wraps": ["<epoch-0 conversation key wrapped for the reporter and each current administrator>"],
        "notify_email": "optional@example.org",
        "pow": {"challenge": "<32 bytes>", "nonce": 110}
    }));
    assert_eq!(body.pow.map(|p| p.nonce), Some(110));
    // Without the options: `notify_email` is written as null, `pow` left out.
    let bare: CreateTicketBody = pinned(json!({
        "reporter": "r", "access_token_hash": "h", "message": "m", "wraps": [],
        "notify_email": null
    }));
    assert_eq!(bare.pow, None);
    let minimal: CreateTicketBody = serde_json::from_value(json!({
        "reporter": "r", "access_token_hash": "h", "message": "m", "wraps": []
    }))
    .unwrap();
    assert_eq!(minimal.notify_email, None);
    pinned::<TicketCreated>(json!({"ticket_id": "<hex>"}));
}

#[test]
fn account_ticket_creation() {
    pinned::<CreateAccountTicketBody>(json!({
        "reporter": "r", "message": "m", "wraps": ["w"], "notify_email": null
    }));
    pinned::<CreateAccountTicketBody>(json!({
        "reporter": "r", "message": "m", "wraps": ["w"], "notify_email": "a@example.org"
    }));
}

#[test]
fn ticket_reads() {
    let ticket: TicketAnswer = pinned(json!({
        "ticket_id": "<hex>", "reporter": "<64 bytes>", "status": "open",
        "created_at": 0, "last_activity": 0, "conversation_seq": 3
    }));
    assert_eq!(ticket.status, TicketStatus::Open);
    assert!(
        serde_json::from_value::<TicketStatus>(json!("pending")).is_err(),
        "only open and closed"
    );
    pinned::<MessagesAnswer>(json!({
        "messages": [{"seq": 1, "received_at": 0, "message": "<encoded>"}], "more": false
    }));
    pinned::<WrapsAnswer>(json!({"wraps": ["<238 bytes>"]}));
    let query: ChainQuery = serde_json::from_value(json!({"recipient": "k"})).unwrap();
    assert_eq!((query.chain, query.after), (0, 0));
}

#[test]
fn posts_wraps_and_assignment() {
    pinned::<PostMessageBody>(json!({"message": "<encoded>", "wraps": ["..."]}));
    let no_wraps: PostMessageBody = serde_json::from_value(json!({"message": "m"})).unwrap();
    assert!(no_wraps.wraps.is_empty());
    assert_eq!(no_wraps.endorsed, None);
    pinned::<PostMessageBody>(json!({
        "message": "<encoded>", "wraps": [], "endorsed": "<64 bytes>"
    }));
    pinned::<MessagePosted>(json!({"chain": 0, "seq": 4}));
    pinned::<HistoryWrapsBody>(json!({"wraps": ["<238 bytes>"]}));
    pinned::<WrapsStored>(json!({"stored": 2}));
    pinned::<AssignmentBody>(json!({"assigned_to": "<32-byte key id>"}));
    pinned::<AssignmentBody>(json!({"assigned_to": null}));
}

#[test]
fn attachments() {
    pinned::<DeclareAttachmentBody>(json!({"size": 150064}));
    pinned::<AttachmentDeclared>(json!({"attachment_id": "<32 hex characters>"}));
}

#[test]
fn accounts() {
    let argon2 = json!({"memory_kib": 65536, "iterations": 3, "parallelism": 1});
    pinned::<PreloginBody>(json!({"username": "alice"}));
    pinned::<PreloginAnswer>(json!({"salt": "<16 bytes>", "argon2": argon2}));
    let register: RegisterBody = pinned(json!({
        "username": "alice",
        "salt": "<16 bytes>",
        "argon2": argon2,
        "auth_key": "<32 bytes>",
        "keyring": "<sealed keyring, at most 1 + 32 + 65536 + 16 bytes>",
        "identity": "<64-byte public identity>",
        "identity_proof": "<64-byte signature, PROTOCOL.md §12.4>"
    }));
    assert!(
        !format!("{register:?}").contains("<32 bytes>"),
        "no auth_key in Debug"
    );
    pinned::<Registered>(json!({"account_id": "<32 hex characters>"}));
    pinned::<LoginBody>(json!({"username": "alice", "auth_key": "<32 bytes>"}));
    let login: LoginAnswer = pinned(json!({
        "session": "<32 bytes>", "expires_at": 0, "account_id": "<hex>", "keyring": "<sealed>",
        "identity": "<64 bytes>", "salt": "<16 bytes>", "argon2": argon2
    }));
    assert!(
        !format!("{login:?}").contains("<32 bytes>"),
        "no session in Debug"
    );
    pinned::<ChangeKeyringBody>(json!({
        "current_auth_key": "a", "salt": "s", "argon2": argon2, "auth_key": "b", "keyring": "k"
    }));
    let tickets: AccountTicketsAnswer = pinned(json!({"tickets": [{
        "ticket_id": "<hex>", "status": "open", "answered": false, "created_at": 0,
        "last_activity": 0, "conversation_seq": 1
    }], "more": true, "next_cursor": "<cursor>"}));
    assert_eq!(tickets.next_cursor.as_deref(), Some("<cursor>"));
    // An older server's answer (every ticket, no page members) still reads.
    let old: AccountTicketsAnswer = serde_json::from_value(json!({"tickets": []})).unwrap();
    assert!(!old.more && old.next_cursor.is_none());
    assert_eq!(
        AccountTicketsQuery {
            cursor: Some("a b".to_owned())
        }
        .path(),
        "/api/v1/accounts/tickets?cursor=a%20b"
    );
    assert_eq!(
        AccountTicketsQuery::default().path(),
        "/api/v1/accounts/tickets"
    );
    assert_eq!(
        tickets.tickets[0].assigned_to, None,
        "no assignee member in an account's list"
    );
}

#[test]
fn argon2_parameters_convert_both_ways() {
    let body = Argon2ParamsBody::from(Argon2Params::DEFAULT);
    assert_eq!(Argon2Params::from(body), Argon2Params::DEFAULT);
    let body: Argon2ParamsBody = Argon2Params::TEST_ONLY_CHEAP.into();
    assert_eq!(
        serde_json::to_value(body).unwrap(),
        json!({
            "memory_kib": Argon2Params::TEST_ONLY_CHEAP.memory_kib,
            "iterations": Argon2Params::TEST_ONLY_CHEAP.iterations,
            "parallelism": Argon2Params::TEST_ONLY_CHEAP.parallelism
        })
    );
}

#[test]
fn inbox() {
    let answer: InboxAnswer = pinned(json!({
        "tickets": [{"ticket_id": "<hex>", "status": "open", "answered": false, "created_at": 0,
                     "last_activity": 0, "assigned_to": null, "conversation_seq": 1},
                    {"ticket_id": "<hex>", "status": "closed", "answered": true, "created_at": 0,
                     "last_activity": 0, "assigned_to": "<key id>", "conversation_seq": 1}],
        "more": true,
        "next_cursor": "<cursor>",
        "counts": {"all": 9, "open": 4, "closed": 3, "waiting": 1, "on_hold": 1,
                   "unanswered": 2, "mine": 1, "unassigned": 5}
    }));
    assert_eq!(answer.counts.unanswered, 2);
    assert_eq!(answer.next_cursor.as_deref(), Some("<cursor>"));
    assert_eq!(
        answer.tickets[0].assigned_to,
        Some(None),
        "null is kept, not dropped"
    );
    assert_eq!(
        answer.tickets[1].assigned_to,
        Some(Some("<key id>".to_owned()))
    );
    let query = InboxQuery {
        status: Some(InboxFilter::Unanswered),
        page: 2,
        ..InboxQuery::default()
    };
    assert_eq!(query.path(), "/api/v1/inbox?page=2&status=unanswered");
    let query = InboxQuery {
        status: Some(InboxFilter::Unanswered),
        assigned: Some(InboxAssigned::Me),
        order: Some(ListOrder::Oldest),
        cursor: Some("Ab-_c/+&=".to_owned()),
        page: 0,
    };
    assert_eq!(
        query.path(),
        "/api/v1/inbox?page=0&status=unanswered&assigned=me&order=oldest&cursor=Ab-_c%2F%2B%26%3D"
    );
    for assigned in [InboxAssigned::Me, InboxAssigned::None] {
        assert_eq!(
            serde_json::to_value(assigned).unwrap(),
            json!(assigned.as_str())
        );
    }
    for order in [ListOrder::Newest, ListOrder::Oldest] {
        assert_eq!(serde_json::to_value(order).unwrap(), json!(order.as_str()));
    }
    assert_eq!(InboxQuery::default().path(), "/api/v1/inbox?page=0");
    for filter in [
        InboxFilter::Open,
        InboxFilter::Closed,
        InboxFilter::Unanswered,
    ] {
        assert_eq!(
            serde_json::to_value(filter).unwrap(),
            json!(filter.as_str())
        );
    }
}

#[test]
fn team() {
    pinned::<PendingList>(json!({"pending": [{
        "key_id": "<32 bytes>", "identity": "<64 bytes>", "username": "bob",
        "redeemed_at": 0, "fingerprint": "12345 67890 12345 67890 12345 67890"
    }]}));
}

#[test]
fn proof_of_work() {
    pinned::<ChallengeAnswer>(json!({
        "challenge": "<32 random bytes>", "bits": 16, "expires_at": 1700000600u64
    }));
    let off: ChallengeAnswer = pinned(json!({"challenge": null, "bits": 0, "expires_at": null}));
    assert_eq!(off.challenge, None);
    pinned::<ProofOfWork>(json!({"challenge": "<the challenge>", "nonce": 110}));
}

#[test]
fn live_update_data() {
    let data: MessageEvent =
        serde_json::from_str(r#"{"ticket":"0123456789abcdef0123456789abcdef","chain":0,"seq":5}"#)
            .unwrap();
    assert_eq!((data.chain, data.seq), (0, 5));
    assert_eq!(
        serde_json::to_string(&data).unwrap(),
        r#"{"ticket":"0123456789abcdef0123456789abcdef","chain":0,"seq":5}"#,
        "the server's exact text"
    );
}

#[test]
fn secrets_stay_strings() {
    let secret = SecretText::from("token".to_owned());
    assert_eq!(serde_json::to_value(&secret).unwrap(), json!("token"));
}

#[test]
fn mail() {
    pinned::<sealdesk_wire::mail::Unsubscribed>(json!({"unsubscribed": true}));
    let preferences: sealdesk_wire::mail::AdminMailPreferences = pinned(json!({
        "address": "a@example.org", "new_tickets": true, "reporter_replies": false,
        "assigned": true, "recoveries": false, "digest": true
    }));
    assert!(preferences.digest);
    pinned::<sealdesk_wire::mail::AccountNotifications>(json!({"address": "c@example.org"}));
    // Unknown members are refused.
    assert!(
        serde_json::from_value::<sealdesk_wire::mail::AdminMailPreferences>(json!({"adress": "x"}))
            .is_err()
    );
}
