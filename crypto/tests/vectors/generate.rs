//! Deterministic generator of the protocol's own test vectors (`spec/vectors/*.json`).
//!
//! Shared by `cargo run -p sealdesk-crypto --example gen-vectors` (writes the files) and
//! `tests/vectors.rs` (fails when the committed files differ from what the code produces).
//! Every input is a fixed byte pattern listed in the output. Intermediate values (derived
//! secrets, padded plaintext, HPKE info, signed bytes) are computed here a second time straight
//! from `spec/PROTOCOL.md` with the RustCrypto primitives and asserted equal to what the crate
//! does, so the vectors document the spec, not just the code.

#![allow(dead_code)]

use hkdf::Hkdf;
use sealdesk_crypto::{
    AccessToken, Argon2Params, Chain, ChainState, ConversationStatus, Directory, DirectoryEntry,
    DirectoryHead, EndorseContent, FileKey, Identity, IdentitySeed, Keyring, Kind, LinkFragment,
    MasterKey, Members, Message, Placement, PublicIdentity, StreamEncryptor, TicketId, TicketKey,
    TicketSecret, WrapContext, WrappedKey, Zeroizing, labels,
};
use sealdesk_crypto::{
    Snippet, SnippetContent, SnippetHeader, SnippetId, TeamKey, TeamWrap, TeamWrapContext,
};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// Every vector file: (file name under `spec/vectors/`, contents).
pub fn all() -> Vec<(&'static str, Value)> {
    vec![
        ("identities.json", identities()),
        ("anonymous.json", anonymous()),
        ("account.json", account()),
        ("wraps.json", wraps()),
        ("messages.json", messages()),
        ("directory.json", directory()),
        ("transcript.json", transcript()),
        ("attachment.json", attachment()),
        ("negative.json", negative()),
        ("team.json", team()),
    ]
}

// ---- spec-level helpers, written from PROTOCOL.md §2–§3 independently of the crate ----

/// Unpadded base64url (RFC 4648 §5), as §14 writes a file key.
pub fn base64url(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for group in bytes.chunks(3) {
        let mut buffer = [0u8; 3];
        buffer[..group.len()].copy_from_slice(group);
        let n = u32::from_be_bytes([0, buffer[0], buffer[1], buffer[2]]);
        for i in 0..=group.len() {
            out.push(char::from(ALPHABET[(n >> (18 - 6 * i)) as usize & 63]));
        }
    }
    out
}

fn file_key_base64url(key: &FileKey) -> String {
    base64url(key.as_bytes())
}

pub fn hx(bytes: &[u8]) -> String {
    hex::encode(bytes)
}

/// `pattern(tag)[i] = (tag + 7·i) mod 256`: the fixed "random" inputs of the vectors.
pub fn pattern<const N: usize>(tag: u8) -> [u8; N] {
    let mut out = [0u8; N];
    for (i, b) in out.iter_mut().enumerate() {
        *b = tag.wrapping_add((i as u8).wrapping_mul(7));
    }
    out
}

/// `u8 len(label) || label`.
pub fn lp(label: &str) -> Vec<u8> {
    let mut out = vec![label.len() as u8];
    out.extend_from_slice(label.as_bytes());
    out
}

/// `KDF(ikm, label, L)` = HKDF-SHA256 with an empty salt and info `lp(label)`.
pub fn spec_kdf(ikm: &[u8], label: &str, len: usize) -> Vec<u8> {
    spec_hkdf(&[], ikm, label, len)
}

pub fn spec_hkdf(salt: &[u8], ikm: &[u8], label: &str, len: usize) -> Vec<u8> {
    let mut out = vec![0u8; len];
    Hkdf::<Sha256>::new(Some(salt), ikm)
        .expand(&lp(label), &mut out)
        .expect("length");
    out
}

pub fn spec_hash(label: &str, data: &[u8]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(lp(label));
    h.update(data);
    h.finalize().into()
}

fn x25519_base(secret: &[u8]) -> [u8; 32] {
    let mut basepoint = [0u8; 32];
    basepoint[0] = 9;
    x25519_dalek::x25519(secret.try_into().expect("32 bytes"), basepoint)
}

fn spec_pad(content: &[u8]) -> Vec<u8> {
    let total = (content.len() + 4).next_power_of_two().max(256);
    let mut out = (content.len() as u32).to_be_bytes().to_vec();
    out.extend_from_slice(content);
    out.resize(total, 0);
    out
}

// ---- fixtures ----

/// The named identities used across the vectors.
pub struct Cast {
    pub admin_a: Identity,
    pub admin_b: Identity,
    pub admin_c: Identity,
    pub account_d: Identity,
}

pub const IDENTITY_NAMES: [(&str, u8); 4] = [
    ("admin-a", 0xa0),
    ("admin-b", 0xb0),
    ("admin-c", 0xc0),
    ("account-d", 0xd0),
];

pub fn identity(tag: u8) -> Identity {
    Identity::from_seed(&IdentitySeed::from_bytes(pattern(tag)))
}

pub fn cast() -> Cast {
    Cast {
        admin_a: identity(0xa0),
        admin_b: identity(0xb0),
        admin_c: identity(0xc0),
        account_d: identity(0xd0),
    }
}

pub fn reporter_secret() -> TicketSecret {
    TicketSecret::from_bytes(pattern(0x11))
}

pub fn other_reporter_secret() -> TicketSecret {
    TicketSecret::from_bytes(pattern(0x22))
}

fn public_json(public: &PublicIdentity) -> Value {
    let bytes = public.to_bytes();
    json!({
        "ed25519_public": hx(&bytes[..32]),
        "x25519_public": hx(&bytes[32..]),
        "public_identity": hx(&bytes),
        "key_id": hx(&public.key_id().0),
        "fingerprint": public.fingerprint(),
    })
}

// ---- §4 identities ----

fn identities() -> Value {
    let cases: Vec<Value> = IDENTITY_NAMES
        .iter()
        .map(|(name, tag)| {
            let seed: [u8; 32] = pattern(*tag);
            let identity = identity(*tag);
            let ed_secret = spec_kdf(&seed, labels::IDENTITY_ED25519, 32);
            let x_secret = spec_kdf(&seed, labels::IDENTITY_X25519, 32);
            let public = identity.public().to_bytes();
            let ed_public =
                ed25519_dalek::SigningKey::from_bytes(&ed_secret.clone().try_into().expect("32"))
                    .verifying_key()
                    .to_bytes();
            assert_eq!(ed_public, public[..32], "§4.1 Ed25519 derivation");
            assert_eq!(
                x25519_base(&x_secret),
                public[32..],
                "§4.1 X25519 derivation"
            );
            let key_id = spec_hash(labels::KEY_ID, &public);
            assert_eq!(key_id, identity.key_id().0, "§4.2 key id");
            let mut case = public_json(identity.public());
            let obj = case.as_object_mut().expect("object");
            obj.insert("name".into(), json!(name));
            obj.insert("seed".into(), json!(hx(&seed)));
            obj.insert("ed25519_secret".into(), json!(hx(&ed_secret)));
            obj.insert("x25519_secret".into(), json!(hx(&x_secret)));
            case
        })
        .collect();
    json!({
        "description": "PROTOCOL.md §4: identities from 32-byte seeds; key ids; fingerprints.",
        "cases": cases,
    })
}

// ---- §11 anonymous links ----

fn anonymous() -> Value {
    let cases: Vec<Value> = [reporter_secret(), other_reporter_secret()]
        .iter()
        .map(|secret| {
            let s = secret.as_bytes();
            let id = spec_kdf(s, labels::ANON_TICKET_ID, 16);
            assert_eq!(id, secret.ticket_id().0, "§11 ticket id");
            let seed = spec_kdf(s, labels::ANON_IDENTITY, 32);
            assert_eq!(&seed[..], secret.identity_seed().as_bytes(), "§11 identity seed");
            let token = spec_kdf(s, labels::ANON_ACCESS_TOKEN, 32);
            let access = secret.access_token();
            assert_eq!(&token[..], access.as_bytes(), "§11 access token");
            assert_eq!(spec_hash(labels::TOKEN_HASH, &token), access.hash(), "§11 token hash");
            json!({
                "secret": hx(s),
                "fragment": secret.to_fragment(),
                "ticket_id": hx(&id),
                "link_path": format!("/help/ticket/{}#{}", secret.ticket_id().to_hex(), secret.to_fragment()),
                "identity_seed": hx(&seed),
                "reporter": public_json(secret.identity().public()),
                "access_token": hx(&token),
                "access_token_hash": hx(&access.hash()),
            })
        })
        .collect();
    // Links carrying the directory head (§11): directory.json's head and its
    // genesis head, each after case 0's secret; then fragments a decoder must refuse.
    let secret = reporter_secret();
    let s = secret.to_fragment();
    let cast = cast();
    let entries = directory_entries(&cast);
    let directory = Directory::verify(&entries).expect("directory");
    let heads = [
        DirectoryHead {
            seq: 0,
            hash: entries[0].hash(),
        },
        directory.head(),
    ];
    let with_head: Vec<Value> = heads
        .iter()
        .map(|head| {
            let fragment = format!("{s}.{}.{}", head.seq, base64url(&head.hash));
            let parsed = LinkFragment::parse(&fragment).expect("link with head");
            assert_eq!(parsed.head.as_ref(), Some(head), "§11 head");
            assert_eq!(parsed.encode(), fragment, "§11 encoding");
            json!({
                "fragment": fragment,
                "secret": hx(secret.as_bytes()),
                "head_seq": head.seq,
                "head_hash": hx(&head.hash),
                "link_path": format!("/help/ticket/{}#{fragment}", secret.ticket_id().to_hex()),
            })
        })
        .collect();
    let h = base64url(&directory.head().hash);
    let malformed: Vec<Value> = [
        (format!("{s}."), "a separator without a head"),
        (format!("{s}.3"), "a seq without a hash"),
        (format!("{s}.3."), "an empty hash"),
        (format!("{s}..{h}"), "an empty seq"),
        (format!("{s}.03.{h}"), "a seq with a leading zero"),
        (format!("{s}.+3.{h}"), "a seq with a sign"),
        (
            format!("{s}.18446744073709551616.{h}"),
            "a seq above 2^64 - 1",
        ),
        (format!("{s}.3.{h}="), "a padded hash"),
        (format!("{s}.3.{}", &h[..42]), "a hash of 42 characters"),
        (
            format!("{s}.3.{}", flip_last_bits(&h)),
            "a hash with non-canonical trailing bits",
        ),
        (format!("{s}.3.{h}.3"), "a fourth part"),
        (
            format!("{s}.3.{}", h.replacen(&h[..1], "/", 1)),
            "a character outside base64url",
        ),
        (format!("{}.3.{h}", &s[..42]), "a secret of 42 characters"),
    ]
    .into_iter()
    .map(|(fragment, why)| {
        assert!(LinkFragment::parse(&fragment).is_err(), "{why}");
        json!({"fragment": fragment, "why": why, "expected_error": "link.malformed"})
    })
    .collect();
    // §11.1: a recovering browser's new key claims case 0's ticket.
    let claimer = identity(0xe0);
    let reader = AccessToken::from_bytes(pattern(0x44));
    let ticket_id = secret.ticket_id().0;
    let reader_hash = spec_hash(labels::TOKEN_HASH, reader.as_bytes());
    assert_eq!(
        reader_hash,
        reader.hash(),
        "§11 token hash of the reader token"
    );
    let mut claim_bytes = lp(labels::RECOVERY_CLAIM);
    claim_bytes.extend_from_slice(&ticket_id);
    claim_bytes.extend_from_slice(&claimer.public().to_bytes());
    claim_bytes.extend_from_slice(&reader_hash);
    let claim_signature = claimer.sign_recovery_claim(&ticket_id, &reader_hash);
    claimer
        .public()
        .verify_recovery_claim(&ticket_id, &reader_hash, &claim_signature)
        .expect("§11.1 claim verifies");
    let recovery_claim = json!({
        "identity_seed": hx(&pattern::<32>(0xe0)),
        "claimed": public_json(claimer.public()),
        "ticket_id": hx(&ticket_id),
        "reader_token": hx(reader.as_bytes()),
        "reader_hash": hx(&reader_hash),
        "signed_bytes": hx(&claim_bytes),
        "signature": hx(&claim_signature),
    });
    json!({
        "description": "PROTOCOL.md §11: anonymous ticket secret → fragment, ticket id, reporter identity, access token and its server-side hash. with_head: fragments carrying a directory head (directory.json's log: its genesis head and its head) after case 0's secret. malformed: fragments a decoder must refuse (link.malformed). recovery_claim (§11.1): a recovering browser's new identity (seed 0xe0 pattern) claims case 0's ticket with a reader token.",
        "cases": cases,
        "with_head": with_head,
        "malformed": malformed,
        "recovery_claim": recovery_claim,
    })
}

// ---- §12 accounts ----

fn account() -> Value {
    // (name, params, password as typed, password after NFC normalisation: what is hashed)
    let cases: Vec<Value> = [
        ("cheap (tests only)", Argon2Params::TEST_ONLY_CHEAP, "correct horse battery staple", "correct horse battery staple"),
        ("documented default", Argon2Params::DEFAULT, "Pässwörd ✓ 2026", "Pässwörd ✓ 2026"),
        ("typed in NFD, hashed in NFC (cheap)", Argon2Params::TEST_ONLY_CHEAP, "cafe\u{301} \u{2615}", "caf\u{e9} \u{2615}"),
    ]
    .iter()
    .map(|(name, params, typed, password)| {
        let salt: [u8; 16] = pattern(0x33);
        let master = MasterKey::derive(password.as_bytes(), &salt, *params).expect("argon2");
        let auth = master.auth_key();
        let keyring_key = master.keyring_key();
        assert_eq!(&spec_kdf(master.as_bytes(), labels::ACCOUNT_AUTH_KEY, 32)[..], auth.as_bytes());
        assert_eq!(&spec_kdf(master.as_bytes(), labels::ACCOUNT_KEYRING_KEY, 32)[..], keyring_key.as_bytes());
        assert_eq!(spec_hash(labels::ACCOUNT_AUTH_HASH, auth.as_bytes()), auth.server_hash());
        let keyring = Keyring {
            identity_seed: IdentitySeed::from_bytes(pattern(0xd0)),
            app_data: Zeroizing::new(br#"{"saved_tickets":[]}"#.to_vec()),
        };
        let keyring_salt: [u8; 32] = pattern(0x44);
        let sealed = keyring_key.seal_with_salt(&keyring, keyring_salt).expect("seal");
        let okm = spec_hkdf(&keyring_salt, keyring_key.as_bytes(), labels::KEYRING, 44);
        // §12.4: the account's identity (account-d) proves possession for username "dana".
        let account_identity = identity(0xd0);
        let proof = account_identity.sign_identity_proof("dana", &auth.server_hash());
        let mut proof_bytes = lp(labels::ACCOUNT_IDENTITY_PROOF);
        proof_bytes.extend_from_slice(&4u32.to_be_bytes());
        proof_bytes.extend_from_slice(b"dana");
        proof_bytes.extend_from_slice(&auth.server_hash());
        {
            use ed25519_dalek::Verifier;
            let key = ed25519_dalek::VerifyingKey::from_bytes(
                &account_identity.public().to_bytes()[..32].try_into().expect("32"),
            )
            .expect("key");
            key.verify(&proof_bytes, &ed25519_dalek::Signature::from_bytes(&proof))
                .expect("§12.4 identity proof");
        }
        let mut plain = pattern::<32>(0xd0).to_vec();
        plain.extend_from_slice(&(keyring.app_data.len() as u32).to_be_bytes());
        plain.extend_from_slice(&keyring.app_data);
        json!({
            "name": name,
            "password_as_typed_utf8": typed,
            "password_utf8": password,
            "salt": hx(&salt),
            "argon2id": {"memory_kib": params.memory_kib, "iterations": params.iterations, "parallelism": params.parallelism, "output_len": 32, "version": 19},
            "master_key": hx(master.as_bytes()),
            "auth_key": hx(auth.as_bytes()),
            "auth_hash": hx(&auth.server_hash()),
            "keyring_key": hx(keyring_key.as_bytes()),
            "keyring_identity_seed": hx(&pattern::<32>(0xd0)),
            "keyring_app_data_utf8": std::str::from_utf8(&keyring.app_data).expect("utf-8"),
            "keyring_plaintext": hx(&plain),
            "keyring_salt": hx(&keyring_salt),
            "keyring_aead_key": hx(&okm[..32]),
            "keyring_aead_nonce": hx(&okm[32..]),
            "sealed_keyring": hx(&sealed),
            "identity_proof_username_as_typed": "Dana",
            "identity_proof_username": "dana",
            "identity_proof_signed_bytes": hx(&proof_bytes),
            "identity_proof": hx(&proof),
        })
    })
    .collect();
    json!({
        "description": "PROTOCOL.md §12: password (NFC-normalised UTF-8) → Argon2id master key → auth key (and its server hash) and keyring key; keyring sealing; the identity proof (§12.4) of account-d for the username typed as \"Dana\", normalised to \"dana\" (§12.4), and this case's auth_hash. The keyring holds identities.json's account-d seed.",
        "cases": cases,
    })
}

// ---- §6 wraps ----

pub fn wrap_case(
    wrapper: &Identity,
    recipient: &PublicIdentity,
    context: WrapContext,
    key: &TicketKey,
    ikm_tag: u8,
) -> (WrappedKey, Value) {
    let ikm_e: [u8; 32] = pattern(ikm_tag);
    let wrapped =
        WrappedKey::seal_with_ikm(wrapper, recipient, context, key, &ikm_e).expect("wrap");
    let encoded = wrapped.to_bytes();
    let mut info = lp(labels::WRAP_INFO);
    info.extend_from_slice(&encoded[..94]);
    let mut signed = lp(labels::WRAP_SIG);
    signed.extend_from_slice(&encoded[..174]);
    let value = json!({
        "ticket_id": hx(&context.ticket_id.0),
        "chain": context.chain.to_u8(),
        "epoch": context.epoch,
        "dir_seq": context.dir_seq,
        "recipient_key_id": hx(&context.recipient.0),
        "wrapper_key_id": hx(&context.wrapper.0),
        "ticket_key": hx(key.as_bytes()),
        "ikm_e": hx(&ikm_e),
        "hpke_info": hx(&info),
        "enc": hx(&wrapped.enc),
        "ciphertext": hx(&wrapped.ciphertext),
        "signed_bytes": hx(&signed),
        "signature": hx(&wrapped.signature),
        "encoded": hx(&encoded),
    });
    (wrapped, value)
}

fn wraps() -> Value {
    let cast = cast();
    let reporter = reporter_secret().identity();
    let ticket_id = reporter_secret().ticket_id();
    let key = TicketKey::from_bytes(pattern(0x66));
    let notes_key = TicketKey::from_bytes(pattern(0x67));
    let ctx = |chain, recipient: &Identity, wrapper: &Identity| WrapContext {
        ticket_id,
        chain,
        epoch: 0,
        dir_seq: 1,
        recipient: recipient.key_id(),
        wrapper: wrapper.key_id(),
    };
    let (_, a) = wrap_case(
        &reporter,
        cast.admin_b.public(),
        ctx(Chain::Conversation, &cast.admin_b, &reporter),
        &key,
        0x77,
    );
    let (_, b) = wrap_case(
        &reporter,
        reporter.public(),
        ctx(Chain::Conversation, &reporter, &reporter),
        &key,
        0x78,
    );
    let (_, c) = wrap_case(
        &cast.admin_a,
        cast.admin_b.public(),
        ctx(Chain::Notes, &cast.admin_b, &cast.admin_a),
        &notes_key,
        0x79,
    );
    json!({
        "description": "PROTOCOL.md §6: ticket keys wrapped with HPKE base mode (X25519, HKDF-SHA256, ChaCha20Poly1305) and signed by the wrapper. Identities: anonymous.json case 0 (reporter), identities.json (admins).",
        "cases": [
            {"name": "reporter wraps the conversation key for admin-b", "wrap": a},
            {"name": "reporter wraps the conversation key for itself", "wrap": b},
            {"name": "admin-a wraps the notes key for admin-b", "wrap": c},
        ],
    })
}

// ---- §8.2 endorse content ----

/// The §8.2 content of an administrator's endorse message, built from the spec's table.
fn spec_endorse_content(ticket_id: &TicketId, endorsed: &PublicIdentity) -> Vec<u8> {
    let mut out = vec![0x01, 0x01];
    out.extend_from_slice(&ticket_id.0);
    out.extend_from_slice(&endorsed.to_bytes());
    let built = EndorseContent::by_administrator(*ticket_id, endorsed.clone()).to_bytes();
    assert_eq!(out, built, "§8.2 content layout");
    out
}

/// The broken-out fields of an endorse content, as the vectors list them.
fn endorse_content_json(ticket_id: &TicketId, endorsed: &PublicIdentity) -> Value {
    json!({
        "version": 1,
        "grounds": 1,
        "ticket_id": hx(&ticket_id.0),
        "endorsed_public_identity": hx(&endorsed.to_bytes()),
        "endorsed_key_id": hx(&endorsed.key_id().0),
    })
}

// ---- §9 messages ----

pub fn message_case(
    sender: &Identity,
    placement: Placement,
    key: &TicketKey,
    content: &[u8],
    salt_tag: u8,
) -> (Message, Value) {
    let salt: [u8; 32] = pattern(salt_tag);
    let message = Message::seal_with_salt(sender, placement, key, content, salt).expect("seal");
    let encoded = message.to_bytes();
    let header = message.header.to_bytes();
    assert_eq!(
        header,
        encoded[..135],
        "§9.1 header is the encoding's prefix"
    );
    let okm = spec_hkdf(&salt, key.as_bytes(), labels::MESSAGE_KEY, 44);
    let padded = spec_pad(content);
    let mut signed = lp(labels::MESSAGE_SIG);
    signed.extend_from_slice(&encoded[..encoded.len() - 64]);
    assert_eq!(
        spec_hash(labels::MESSAGE_HASH, &encoded),
        message.hash(),
        "§9.5 hash"
    );
    assert_eq!(&message.open(key).expect("open")[..], content);
    let value = json!({
        "sender_key_id": hx(&sender.key_id().0),
        "ticket_id": hx(&placement.ticket_id.0),
        "chain": placement.chain.to_u8(),
        "seq": placement.seq,
        "prev_hash": hx(&placement.prev_hash),
        "epoch": placement.epoch,
        "dir_seq": placement.dir_seq,
        "kind": placement.kind.to_u8(),
        "salt": hx(&salt),
        "chain_key": hx(key.as_bytes()),
        "content": hx(content),
        "padded_plaintext": hx(&padded),
        "message_key": hx(&okm[..32]),
        "message_nonce": hx(&okm[32..]),
        "header": hx(&header),
        "ciphertext": hx(&message.ciphertext),
        "signed_bytes": hx(&signed),
        "signature": hx(&message.signature),
        "encoded": hx(&encoded),
        "hash": hx(&message.hash()),
    });
    (message, value)
}

fn messages() -> Value {
    let cast = cast();
    let reporter = reporter_secret().identity();
    let ticket_id = reporter_secret().ticket_id();
    let key = TicketKey::from_bytes(pattern(0x66));
    let place = |seq, prev_hash, kind| Placement {
        ticket_id,
        chain: Chain::Conversation,
        seq,
        prev_hash,
        epoch: 0,
        dir_seq: 1,
        kind,
    };
    let (m1, v1) = message_case(
        &reporter,
        place(1, [0u8; 32], Kind::Message),
        &key,
        br#"{"text":"I can't sign in since the update.","sent_at":1767225600,"subject":"Cannot sign in","category":"Accounts","urgent":true,"name":"Sam","email":"sam@example.org"}"#,
        0x88,
    );
    let long = "x".repeat(300);
    let (m2, v2) = message_case(
        &cast.admin_a,
        place(2, m1.hash(), Kind::Message),
        &key,
        format!("{{\"text\":\"{long}\",\"sent_at\":1767225900,\"author\":\"Alice\"}}").as_bytes(),
        0x89,
    );
    let (m3, v3) = message_case(
        &reporter,
        place(3, m2.hash(), Kind::Close),
        &key,
        br#"{"sent_at":1767226000}"#,
        0x8a,
    );
    // §14 attachment reference to attachment.json's stream (a reporter's post reopens, §10.3).
    let (file_key, stream) = attachment_stream();
    let reference = json!({
        "attachment_id": hx(&pattern::<16>(0x5e)),
        "name": "trace.log",
        "type": "text/plain",
        "size": ATTACHMENT_LEN,
        "encrypted_size": stream.len(),
        "key": file_key_base64url(&file_key),
        "sent_at": 1767226100,
    });
    let (m4, v4) = message_case(
        &reporter,
        place(4, m3.hash(), Kind::AttachmentRef),
        &key,
        reference.to_string().as_bytes(),
        0x8b,
    );
    // §8.2: admin-a endorses anonymous.json case 1's identity as a further reporter key.
    let endorsed = other_reporter_secret().identity().public().clone();
    let (_, mut v5) = message_case(
        &cast.admin_a,
        place(5, m4.hash(), Kind::Endorse),
        &key,
        &spec_endorse_content(&ticket_id, &endorsed),
        0x8c,
    );
    v5["endorse_content"] = endorse_content_json(&ticket_id, &endorsed);
    json!({
        "description": "PROTOCOL.md §9: messages (header, padding, message key, AEAD, signature, encoding, hash). Chain key = wraps.json ticket_key. Contents are §14 JSON with every required member: the first message with the opening form's members, a reply, a close, and an attachment reference to attachment.json's stream; then an endorse message (kind 8) by admin-a whose content is §8.2's binary layout, broken out in endorse_content.",
        "cases": [v1, v2, v3, v4, v5],
    })
}

// ---- §7 directory ----

/// genesis(A), add(B) by A, add(C) by B, remove(B) by C.
pub fn directory_entries(cast: &Cast) -> Vec<DirectoryEntry> {
    let genesis = DirectoryEntry::genesis(&cast.admin_a);
    let mut dir = Directory::verify(std::slice::from_ref(&genesis)).expect("genesis");
    let add_b = DirectoryEntry::add(&dir, &cast.admin_a, cast.admin_b.public()).expect("add b");
    dir.extend(std::slice::from_ref(&add_b)).expect("extend");
    let add_c = DirectoryEntry::add(&dir, &cast.admin_b, cast.admin_c.public()).expect("add c");
    dir.extend(std::slice::from_ref(&add_c)).expect("extend");
    let remove_b =
        DirectoryEntry::remove(&dir, &cast.admin_c, cast.admin_b.public()).expect("remove b");
    vec![genesis, add_b, add_c, remove_b]
}

fn directory() -> Value {
    let cast = cast();
    let entries = directory_entries(&cast);
    let mut dir = Directory::verify(&entries[..1]).expect("genesis");
    let mut cases = Vec::new();
    for (i, entry) in entries.iter().enumerate() {
        if i > 0 {
            dir.extend(std::slice::from_ref(entry)).expect("extend");
        }
        let encoded = entry.to_bytes();
        let mut signed = lp(labels::DIRECTORY_SIG);
        signed.extend_from_slice(&encoded[..138]);
        assert_eq!(spec_hash(labels::DIRECTORY_HASH, &encoded), entry.hash());
        cases.push(json!({
            "seq": entry.seq,
            "op": format!("{:?}", entry.op).to_lowercase(),
            "subject_key_id": hx(&entry.subject.key_id().0),
            "signer_key_id": hx(&entry.signer.0),
            "prev_hash": hx(&entry.prev_hash),
            "signed_bytes": hx(&signed),
            "encoded": hx(&encoded),
            "hash": hx(&entry.hash()),
            "admins_after": dir.current_admins().iter().map(|a| hx(&a.key_id().0)).collect::<Vec<_>>(),
        }));
    }
    json!({
        "description": "PROTOCOL.md §7: directory log genesis(admin-a), add(admin-b) by admin-a, add(admin-c) by admin-b, remove(admin-b) by admin-c. Identities: identities.json. admins_after lists key ids in the order the administrators were added.",
        "entries": cases,
        "head": {"seq": dir.head().seq, "hash": hx(&dir.head().hash)},
        "instance_fingerprint": dir.instance_fingerprint(),
    })
}

// ---- §10 transcript ----

/// The transcript scenario: directory genesis(A), add(B); reporter opens; A replies; reporter
/// sends debug data; A adds C and removes B; A rotates to epoch 1 and replies; A closes;
/// reporter reopens by writing; A writes an internal note.
pub struct Scenario {
    pub directory_entries: Vec<DirectoryEntry>,
    pub ticket_id: TicketId,
    pub reporter: PublicIdentity,
    pub conversation: Vec<(Message, Vec<u8>)>,
    pub notes: Vec<(Message, Vec<u8>)>,
    pub wraps: Vec<WrappedKey>,
    pub keys: Vec<(Chain, u32, TicketKey)>,
}

pub fn scenario() -> Scenario {
    let cast = cast();
    let secret = reporter_secret();
    let reporter = secret.identity();
    let ticket_id = secret.ticket_id();
    let genesis = DirectoryEntry::genesis(&cast.admin_a);
    let mut dir = Directory::verify(std::slice::from_ref(&genesis)).expect("genesis");
    let add_b = DirectoryEntry::add(&dir, &cast.admin_a, cast.admin_b.public()).expect("add b");
    dir.extend(std::slice::from_ref(&add_b)).expect("extend");

    let k0 = TicketKey::from_bytes(pattern(0x66));
    let k1 = TicketKey::from_bytes(pattern(0x6a));
    let notes0 = TicketKey::from_bytes(pattern(0x67));
    let mut wraps = Vec::new();
    let mut wrap_tag = 0x90u8;
    let mut wrap = |wrapper: &Identity,
                    recipient: &PublicIdentity,
                    chain,
                    epoch,
                    dir_seq,
                    key: &TicketKey,
                    wraps: &mut Vec<WrappedKey>| {
        let context = WrapContext {
            ticket_id,
            chain,
            epoch,
            dir_seq,
            recipient: recipient.key_id(),
            wrapper: wrapper.key_id(),
        };
        let (w, _) = wrap_case(wrapper, recipient, context, key, wrap_tag);
        wrap_tag = wrap_tag.wrapping_add(1);
        wraps.push(w);
    };
    for recipient in [
        reporter.public(),
        cast.admin_a.public(),
        cast.admin_b.public(),
    ] {
        wrap(
            &reporter,
            recipient,
            Chain::Conversation,
            0,
            1,
            &k0,
            &mut wraps,
        );
    }

    let mut conversation: Vec<(Message, Vec<u8>)> = Vec::new();
    let mut salt = 0xb0u8;
    let mut post = |sender: &Identity,
                    epoch: u32,
                    dir_seq: u64,
                    kind: Kind,
                    key: &TicketKey,
                    content: &[u8],
                    chain_msgs: &mut Vec<(Message, Vec<u8>)>,
                    chain: Chain| {
        let (seq, prev_hash) = chain_msgs
            .last()
            .map_or((1, [0u8; 32]), |(m, _)| (m.header.seq + 1, m.hash()));
        let placement = Placement {
            ticket_id,
            chain,
            seq,
            prev_hash,
            epoch,
            dir_seq,
            kind,
        };
        let (m, _) = message_case(sender, placement, key, content, salt);
        salt = salt.wrapping_add(1);
        chain_msgs.push((m, content.to_vec()));
    };
    post(
        &reporter,
        0,
        1,
        Kind::Message,
        &k0,
        br#"{"text":"Hello, my uploads fail.","sent_at":1767225600,"subject":"Uploads fail"}"#,
        &mut conversation,
        Chain::Conversation,
    );
    post(
        &cast.admin_a,
        0,
        1,
        Kind::Message,
        &k0,
        br#"{"text":"Could you send debug data?","sent_at":1767225660,"author":"Alice"}"#,
        &mut conversation,
        Chain::Conversation,
    );
    post(
        &reporter,
        0,
        1,
        Kind::DebugData,
        &k0,
        br#"{"fields":{"user_agent":"Test/1.0","time_zone":"Europe/Berlin"},"sent_at":1767225720}"#,
        &mut conversation,
        Chain::Conversation,
    );

    let add_c = DirectoryEntry::add(&dir, &cast.admin_a, cast.admin_c.public()).expect("add c");
    dir.extend(std::slice::from_ref(&add_c)).expect("extend");
    // History for the new administrator: the epoch-0 key, wrapped at dir_seq 2.
    wrap(
        &cast.admin_a,
        cast.admin_c.public(),
        Chain::Conversation,
        0,
        2,
        &k0,
        &mut wraps,
    );
    let remove_b =
        DirectoryEntry::remove(&dir, &cast.admin_a, cast.admin_b.public()).expect("remove b");
    dir.extend(std::slice::from_ref(&remove_b)).expect("extend");

    // admin-b was removed: the next message opens epoch 1, not wrapped for admin-b.
    for recipient in [
        reporter.public(),
        cast.admin_a.public(),
        cast.admin_c.public(),
    ] {
        wrap(
            &cast.admin_a,
            recipient,
            Chain::Conversation,
            1,
            3,
            &k1,
            &mut wraps,
        );
    }
    post(
        &cast.admin_a,
        1,
        3,
        Kind::Rotate,
        &k1,
        b"",
        &mut conversation,
        Chain::Conversation,
    );
    post(
        &cast.admin_a,
        1,
        3,
        Kind::Message,
        &k1,
        br#"{"text":"Fixed in 2.3.1.","sent_at":1767229200}"#,
        &mut conversation,
        Chain::Conversation,
    );
    post(
        &cast.admin_a,
        1,
        3,
        Kind::Close,
        &k1,
        br#"{"sent_at":1767229260,"author":"Alice"}"#,
        &mut conversation,
        Chain::Conversation,
    );
    post(
        &reporter,
        1,
        3,
        Kind::Message,
        &k1,
        br#"{"text":"Still broken, sorry!","sent_at":1767232800}"#,
        &mut conversation,
        Chain::Conversation,
    );
    // After email recovery admin-a endorses a second reporter key (anonymous.json case 1's
    // identity), wraps epoch 1 for it, and the new key writes.
    let second = other_reporter_secret().identity();
    post(
        &cast.admin_a,
        1,
        3,
        Kind::Endorse,
        &k1,
        &spec_endorse_content(&ticket_id, second.public()),
        &mut conversation,
        Chain::Conversation,
    );
    wrap(
        &cast.admin_a,
        second.public(),
        Chain::Conversation,
        1,
        3,
        &k1,
        &mut wraps,
    );
    post(
        &second,
        1,
        3,
        Kind::Message,
        &k1,
        br#"{"text":"Writing from my new device.","sent_at":1767236400}"#,
        &mut conversation,
        Chain::Conversation,
    );
    // Statuses beyond open and closed (§10.3): admin-a waits for the reporter, the reporter's
    // message reopens, admin-a puts the ticket on hold.
    post(
        &cast.admin_a,
        1,
        3,
        Kind::Waiting,
        &k1,
        br#"{"sent_at":1767236460,"author":"Alice"}"#,
        &mut conversation,
        Chain::Conversation,
    );
    post(
        &second,
        1,
        3,
        Kind::Message,
        &k1,
        br#"{"text":"Here is the log you asked for.","sent_at":1767240000}"#,
        &mut conversation,
        Chain::Conversation,
    );
    post(
        &cast.admin_a,
        1,
        3,
        Kind::OnHold,
        &k1,
        br#"{"sent_at":1767240060}"#,
        &mut conversation,
        Chain::Conversation,
    );

    let mut notes = Vec::new();
    for recipient in [cast.admin_a.public(), cast.admin_c.public()] {
        wrap(
            &cast.admin_a,
            recipient,
            Chain::Notes,
            0,
            3,
            &notes0,
            &mut wraps,
        );
    }
    post(
        &cast.admin_a,
        0,
        3,
        Kind::InternalNote,
        &notes0,
        br#"{"text":"Customer on the legacy plan.","sent_at":1767225680,"author":"Alice"}"#,
        &mut notes,
        Chain::Notes,
    );
    // The ticket's tags (kind 11, §14): the whole set, sorted, on the notes chain.
    post(
        &cast.admin_a,
        0,
        3,
        Kind::Tags,
        &notes0,
        br#"{"tags":["billing","legacy-plan"],"sent_at":1767225690,"author":"Alice"}"#,
        &mut notes,
        Chain::Notes,
    );

    Scenario {
        directory_entries: vec![genesis, add_b, add_c, remove_b],
        ticket_id,
        reporter: reporter.public().clone(),
        conversation,
        notes,
        wraps,
        keys: vec![
            (Chain::Conversation, 0, k0),
            (Chain::Conversation, 1, k1),
            (Chain::Notes, 0, notes0),
        ],
    }
}

/// The spec's name of a status (§10.3), as the vectors write it.
pub fn status_name(status: ConversationStatus) -> &'static str {
    match status {
        ConversationStatus::Open => "open",
        ConversationStatus::Closed => "closed",
        ConversationStatus::Waiting => "waiting",
        ConversationStatus::OnHold => "on_hold",
    }
}

fn transcript() -> Value {
    let s = scenario();
    let dir = Directory::verify(&s.directory_entries).expect("directory");
    let members = Members::new(s.ticket_id, s.reporter.clone());
    let mut states = Vec::new();
    let mut state = ChainState::new(s.ticket_id, Chain::Conversation);
    for (m, _) in &s.conversation {
        state.push(m, &members, &dir).expect("valid transcript");
        if m.header.kind == Kind::Endorse {
            let key = s
                .keys
                .iter()
                .find(|(c, e, _)| *c == Chain::Conversation && *e == m.header.epoch)
                .map(|(_, _, k)| k)
                .expect("epoch key");
            state.read_endorsement(m, key).expect("endorse content");
        }
        let reporters: Vec<String> = state
            .reporters()
            .iter()
            .map(|r| hx(&r.key_id().0))
            .collect();
        states.push(json!({"seq": state.last_seq(), "epoch": state.epoch(), "closed": state.is_closed(), "status": status_name(state.status()), "hash": hx(&state.last_hash()), "reporter_key_ids": reporters}));
    }
    let notes_state = ChainState::verify_encoded(
        s.ticket_id,
        Chain::Notes,
        &s.notes
            .iter()
            .map(|(m, _)| m.to_bytes())
            .collect::<Vec<_>>(),
        &members,
        &dir,
    )
    .expect("notes");
    let msg_json = |(m, content): &(Message, Vec<u8>)| {
        json!({
            "seq": m.header.seq, "epoch": m.header.epoch, "dir_seq": m.header.dir_seq,
            "kind": m.header.kind.to_u8(), "sender_key_id": hx(&m.header.sender.0),
            "content": hx(content), "encoded": hx(&m.to_bytes()), "hash": hx(&m.hash()),
        })
    };
    json!({
        "description": "PROTOCOL.md §10: a verified ticket. Directory: genesis(admin-a), add(admin-b) by admin-a, add(admin-c) by admin-a, remove(admin-b) by admin-a. Reporter: anonymous.json case 0. Message 4 (kind rotate) opens epoch 1 after admin-b's removal; epoch 1 is not wrapped for admin-b. Message 6 closes; message 7, the reporter's, reopens. Message 8 (kind endorse) is admin-a's endorsement of anonymous.json case 1's identity as a second reporter key (§8.2 content; a wrap of epoch 1 follows for it); message 9 is signed by that key. Message 10 (kind waiting, admin-a) sets the status to waiting; message 11, the reporter's, makes it open again; message 12 (kind on hold, admin-a) puts it on hold (§10.3). The notes chain has an internal note and a tags message (kind 11, §14: the ticket's whole tag set). conversation_states gives the status after each message and lists the reporter keys' ids after each message (§10.1). Admin sets are listed in the order the administrators were added.",
        "ticket_id": hx(&s.ticket_id.0),
        "reporter_public_identity": hx(&s.reporter.to_bytes()),
        "directory": s.directory_entries.iter().map(|e| hx(&e.to_bytes())).collect::<Vec<_>>(),
        "chain_keys": s.keys.iter().map(|(chain, epoch, key)| json!({"chain": chain.to_u8(), "epoch": epoch, "key": hx(key.as_bytes())})).collect::<Vec<_>>(),
        "wraps": s.wraps.iter().map(|w| json!({"chain": w.context.chain.to_u8(), "epoch": w.context.epoch, "dir_seq": w.context.dir_seq, "recipient_key_id": hx(&w.context.recipient.0), "wrapper_key_id": hx(&w.context.wrapper.0), "encoded": hx(&w.to_bytes())})).collect::<Vec<_>>(),
        "conversation": s.conversation.iter().map(msg_json).collect::<Vec<_>>(),
        "conversation_states": states,
        "notes": s.notes.iter().map(msg_json).collect::<Vec<_>>(),
        "notes_final": {"seq": notes_state.last_seq(), "epoch": notes_state.epoch(), "hash": hx(&notes_state.last_hash())},
        "reporter_endorsement": reporter_endorsement(&s),
    })
}

/// §8.2 grounds `0x02`: after the conversation's first three messages (epoch 0), the reporter
/// endorses its own second key (anonymous.json case 1's identity, standing for an account's
/// identity), which then writes.
fn reporter_endorsement(s: &Scenario) -> Value {
    let dir = Directory::verify(&s.directory_entries).expect("directory");
    let members = Members::new(s.ticket_id, s.reporter.clone());
    let k0 = s
        .keys
        .iter()
        .find(|(c, e, _)| *c == Chain::Conversation && *e == 0)
        .map(|(_, _, k)| k.clone())
        .expect("epoch 0 key");
    let mut state = ChainState::new(s.ticket_id, Chain::Conversation);
    for (m, _) in &s.conversation[..3] {
        state.push(m, &members, &dir).expect("valid transcript");
    }
    let reporter = reporter_secret().identity();
    let second = other_reporter_secret().identity();
    let built = EndorseContent::by_reporter(s.ticket_id, second.public().clone()).to_bytes();
    let mut content = vec![0x01, 0x02];
    content.extend_from_slice(&s.ticket_id.0);
    content.extend_from_slice(&second.public().to_bytes());
    assert_eq!(content, built, "§8.2 content layout, grounds 0x02");
    let dir_seq = s.conversation[2].0.header.dir_seq;
    let placement = |state: &ChainState, kind| Placement {
        ticket_id: s.ticket_id,
        chain: Chain::Conversation,
        seq: state.last_seq() + 1,
        prev_hash: state.last_hash(),
        epoch: 0,
        dir_seq,
        kind,
    };
    let endorse = Message::seal_with_salt(
        &reporter,
        placement(&state, Kind::Endorse),
        &k0,
        &content,
        pattern(0xf2),
    )
    .expect("seal");
    state.push(&endorse, &members, &dir).expect("valid endorse");
    let added = state.read_endorsement(&endorse, &k0).expect("readable");
    assert_eq!(&added, second.public());
    let text = br#"{"text":"Writing from my account.","sent_at":1767226000}"#.to_vec();
    let reply = Message::seal_with_salt(
        &second,
        placement(&state, Kind::Message),
        &k0,
        &text,
        pattern(0xf3),
    )
    .expect("seal");
    state.push(&reply, &members, &dir).expect("valid reply");
    let one = |m: &Message, content: &[u8]| {
        json!({
            "seq": m.header.seq, "epoch": m.header.epoch, "dir_seq": m.header.dir_seq,
            "kind": m.header.kind.to_u8(), "sender_key_id": hx(&m.header.sender.0),
            "content": hx(content), "encoded": hx(&m.to_bytes()), "hash": hx(&m.hash()),
        })
    };
    let mut broken_out = endorse_content_json(&s.ticket_id, second.public());
    broken_out["grounds"] = json!(2);
    json!({
        "description": "PROTOCOL.md §8.2 grounds 0x02: after the first three messages of `conversation`, the reporter (anonymous.json case 0) signs an endorse message (seq 4, epoch 0, chain key chain_keys' conversation epoch 0) of its own second key, anonymous.json case 1's identity; message 5 is signed by that key. reporter_key_ids is the state's reporter keys after message 5 (§10.1).",
        "messages": [one(&endorse, &content), one(&reply, &text)],
        "endorse_content": broken_out,
        "reporter_key_ids": state.reporters().iter().map(|r| hx(&r.key_id().0)).collect::<Vec<_>>(),
        "final": {"seq": state.last_seq(), "hash": hx(&state.last_hash()), "status": status_name(state.status())},
    })
}

// ---- §13 attachments ----

pub const ATTACHMENT_LEN: usize = 2 * 65536 + 1000;

pub fn attachment_plaintext() -> Vec<u8> {
    (0..ATTACHMENT_LEN).map(|i| (i % 251) as u8).collect()
}

pub fn attachment_stream() -> (FileKey, Vec<u8>) {
    let file_key = FileKey::from_bytes(pattern(0x5c));
    let nonce: [u8; 16] = pattern(0x5d);
    let mut out = nonce.to_vec();
    let mut enc = StreamEncryptor::with_nonce(&file_key, nonce);
    enc.update(&attachment_plaintext(), &mut out)
        .expect("update");
    enc.finish(&mut out).expect("finish");
    (file_key, out)
}

fn attachment() -> Value {
    let (file_key, stream) = attachment_stream();
    let nonce = &stream[..16];
    let payload_key = spec_hkdf(nonce, file_key.as_bytes(), labels::ATTACHMENT_PAYLOAD, 32);
    let chunks: Vec<Value> = stream[16..]
        .chunks(65536 + 16)
        .enumerate()
        .map(|(i, c)| {
            let mut nonce = [0u8; 12];
            nonce[3..11].copy_from_slice(&(i as u64).to_be_bytes());
            nonce[11] = u8::from(i == 2);
            json!({"index": i, "nonce": hx(&nonce), "ciphertext_len": c.len(), "ciphertext_first_16": hx(&c[..16]), "tag": hx(&c[c.len() - 16..]), "sha256": hx(&Sha256::digest(c))})
        })
        .collect();
    assert_eq!(chunks.len(), 3);
    json!({
        "description": "PROTOCOL.md §13: an attachment of three chunks (64 KiB, 64 KiB, 1000 bytes). Plaintext byte i is (i mod 251).",
        "plaintext_len": ATTACHMENT_LEN,
        "plaintext_sha256": hx(&Sha256::digest(attachment_plaintext())),
        "file_key": hx(file_key.as_bytes()),
        "stream_nonce": hx(nonce),
        "payload_key": hx(&payload_key),
        "chunks": chunks,
        "stream_len": stream.len(),
        "stream_sha256": hx(&Sha256::digest(&stream)),
    })
}

// ---- negative vectors ----

/// Applies a negative attachment case's `edits` (PROTOCOL.md §16) to a §13 stream, in order.
/// A chunk is a piece of §13's split: 65,552 bytes after the 16-byte nonce, the last shorter.
pub fn apply_attachment_edits(stream: &[u8], edits: &Value) -> Vec<u8> {
    const PIECE: usize = 65536 + 16;
    let mut out = stream.to_vec();
    for edit in edits.as_array().expect("edits") {
        let number = |key: &str| edit[key].as_u64().expect(key) as usize;
        match edit["edit"].as_str().expect("edit") {
            "truncate" => out.truncate(number("at")),
            "flip" => out[number("byte")] ^= 1 << number("bit"),
            "append" => out.extend_from_slice(
                &hex::decode(edit["bytes"].as_str().expect("bytes")).expect("hex"),
            ),
            kind @ ("drop_chunk" | "swap_chunks") => {
                let mut chunks: Vec<Vec<u8>> =
                    out[16..].chunks(PIECE).map(<[u8]>::to_vec).collect();
                if kind == "drop_chunk" {
                    chunks.remove(number("index"));
                } else {
                    chunks.swap(number("a"), number("b"));
                }
                out.truncate(16);
                out.extend(chunks.concat());
            }
            other => panic!("unknown edit {other}"),
        }
    }
    out
}

/// §14 content of the crafted messages (kinds 1 and 6 both carry `text` and `sent_at`).
const CRAFTED_TEXT: &[u8] = br#"{"text":"Injected.","sent_at":1767229000}"#;

/// The same base64url text with its last character's unused low bits set (non-canonical).
fn flip_last_bits(text: &str) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let last = text.as_bytes()[text.len() - 1];
    let index = ALPHABET.iter().position(|&c| c == last).expect("base64url");
    format!("{}{}", &text[..text.len() - 1], ALPHABET[index | 1] as char)
}

fn flip(bytes: &[u8], index: usize) -> Vec<u8> {
    let mut out = bytes.to_vec();
    out[index] ^= 0x01;
    out
}

fn negative() -> Value {
    let cast = cast();
    let s = scenario();
    let conv: Vec<Vec<u8>> = s.conversation.iter().map(|(m, _)| m.to_bytes()).collect();
    let mut cases = Vec::new();
    let mut chain_case = |chain: Chain,
                          name: &str,
                          messages: Vec<Vec<u8>>,
                          code: &str,
                          index: usize| {
        cases.push(json!({"type": "transcript", "name": name, "chain": chain.to_u8(), "messages": messages.iter().map(|m| hx(m)).collect::<Vec<_>>(), "expected_error": code, "expected_index": index}));
    };
    chain_case(
        Chain::Conversation,
        "message 2 dropped",
        vec![conv[0].clone(), conv[2].clone()],
        "transcript.unexpected_seq",
        1,
    );
    chain_case(
        Chain::Conversation,
        "messages 2 and 3 reordered",
        vec![conv[0].clone(), conv[2].clone(), conv[1].clone()],
        "transcript.unexpected_seq",
        1,
    );
    chain_case(
        Chain::Conversation,
        "message 1 replayed",
        vec![conv[0].clone(), conv[0].clone()],
        "transcript.unexpected_seq",
        1,
    );
    chain_case(
        Chain::Conversation,
        "ciphertext of message 2 altered",
        vec![conv[0].clone(), flip(&conv[1], 150)],
        "transcript.bad_signature",
        1,
    );
    chain_case(
        Chain::Conversation,
        "header (epoch) of message 2 altered",
        vec![conv[0].clone(), flip(&conv[1], 60)],
        "transcript.bad_epoch",
        1,
    );
    chain_case(
        Chain::Conversation,
        "signature of message 1 altered",
        vec![flip(&conv[0], conv[0].len() - 1)],
        "transcript.bad_signature",
        0,
    );

    // Crafted messages, each valid in itself but wrong at its position.
    let k0 = TicketKey::from_bytes(pattern(0x66));
    let m3 = &s.conversation[2].0;
    let next = |epoch, dir_seq, kind| Placement {
        ticket_id: s.ticket_id,
        chain: Chain::Conversation,
        seq: 4,
        prev_hash: m3.hash(),
        epoch,
        dir_seq,
        kind,
    };
    // Crafted fourth messages, each valid in itself but wrong at its position.
    struct Crafted<'a> {
        name: &'static str,
        sender: &'a Identity,
        epoch: u32,
        dir_seq: u64,
        kind: Kind,
        salt: u8,
        code: &'static str,
    }
    let outsider = Identity::from_seed(&IdentitySeed::from_bytes(pattern(0xee)));
    let (a, b) = (&cast.admin_a, &cast.admin_b);
    let crafted = [
        Crafted {
            name: "old epoch used after an administrator was removed",
            sender: a,
            epoch: 0,
            dir_seq: 3,
            kind: Kind::Message,
            salt: 0xe0,
            code: "transcript.epoch_not_rotated",
        },
        Crafted {
            name: "message signed by a removed administrator",
            sender: b,
            epoch: 1,
            dir_seq: 3,
            kind: Kind::Message,
            salt: 0xe1,
            code: "transcript.not_a_member",
        },
        Crafted {
            name: "message injected by a non-member",
            sender: &outsider,
            epoch: 0,
            dir_seq: 1,
            kind: Kind::Message,
            salt: 0xe2,
            code: "transcript.not_a_member",
        },
        Crafted {
            name: "internal note on the conversation chain",
            sender: a,
            epoch: 1,
            dir_seq: 3,
            kind: Kind::InternalNote,
            salt: 0xe3,
            code: "transcript.kind_not_allowed",
        },
        Crafted {
            name: "tags message on the conversation chain",
            sender: a,
            epoch: 1,
            dir_seq: 3,
            kind: Kind::Tags,
            salt: 0xf1,
            code: "transcript.kind_not_allowed",
        },
        Crafted {
            name: "epoch skipped",
            sender: a,
            epoch: 2,
            dir_seq: 3,
            kind: Kind::Message,
            salt: 0xe4,
            code: "transcript.bad_epoch",
        },
        Crafted {
            name: "message signed by a key that no endorse message added",
            sender: &other_reporter_secret().identity(),
            epoch: 0,
            dir_seq: 1,
            kind: Kind::Message,
            salt: 0xe8,
            code: "transcript.not_a_member",
        },
        Crafted {
            name: "endorse message signed by an administrator removed at its dir_seq",
            sender: b,
            epoch: 1,
            dir_seq: 3,
            kind: Kind::Endorse,
            salt: 0xea,
            code: "transcript.not_a_member",
        },
        Crafted {
            name: "waiting message signed by the reporter (only administrators set it)",
            sender: &reporter_secret().identity(),
            epoch: 0,
            dir_seq: 1,
            kind: Kind::Waiting,
            salt: 0xed,
            code: "transcript.not_a_member",
        },
        Crafted {
            name: "on hold message signed by the reporter (only administrators set it)",
            sender: &reporter_secret().identity(),
            epoch: 0,
            dir_seq: 1,
            kind: Kind::OnHold,
            salt: 0xef,
            code: "transcript.not_a_member",
        },
        Crafted {
            name: "rotation that does not open an epoch",
            sender: a,
            epoch: 0,
            dir_seq: 1,
            kind: Kind::Rotate,
            salt: 0xe6,
            code: "transcript.bad_epoch",
        },
    ];
    for c in crafted {
        // Rotations carry no content; endorse messages §8.2's; the others a §14 text.
        let endorse_content = spec_endorse_content(&s.ticket_id, outsider.public());
        let content: &[u8] = match c.kind {
            Kind::Rotate => b"",
            Kind::Endorse => &endorse_content,
            _ => CRAFTED_TEXT,
        };
        let message = Message::seal_with_salt(
            c.sender,
            next(c.epoch, c.dir_seq, c.kind),
            &k0,
            content,
            pattern(c.salt),
        )
        .expect("seal");
        let mut messages = conv[..3].to_vec();
        messages.push(message.to_bytes());
        chain_case(Chain::Conversation, c.name, messages, c.code, 3);
    }
    let admin_first = Message::seal_with_salt(
        &cast.admin_a,
        Placement {
            ticket_id: s.ticket_id,
            chain: Chain::Conversation,
            seq: 1,
            prev_hash: [0; 32],
            epoch: 0,
            dir_seq: 1,
            kind: Kind::Message,
        },
        &k0,
        CRAFTED_TEXT,
        pattern(0xe7),
    )
    .expect("seal");
    chain_case(
        Chain::Conversation,
        "first conversation message sent by an administrator",
        vec![admin_first.to_bytes()],
        "transcript.not_a_member",
        0,
    );
    // The removed administrator's endorsement dated before its removal, posted after the
    // rotation at the removal (message 4, dir_seq 3): dir_seq goes backwards.
    let m7 = &s.conversation[6].0;
    let backdated_endorse = Message::seal_with_salt(
        b,
        Placement {
            ticket_id: s.ticket_id,
            chain: Chain::Conversation,
            seq: 8,
            prev_hash: m7.hash(),
            epoch: 1,
            dir_seq: 2,
            kind: Kind::Endorse,
        },
        &TicketKey::from_bytes(pattern(0x6a)),
        &spec_endorse_content(&s.ticket_id, outsider.public()),
        pattern(0xeb),
    )
    .expect("seal");
    let mut messages = conv[..7].to_vec();
    messages.push(backdated_endorse.to_bytes());
    chain_case(
        Chain::Conversation,
        "endorse message by an administrator removed at 3, dated 2, after messages dated 3",
        messages,
        "transcript.directory_out_of_range",
        7,
    );
    // An endorse message on the notes chain.
    let notes_endorse = Message::seal_with_salt(
        a,
        Placement {
            ticket_id: s.ticket_id,
            chain: Chain::Notes,
            seq: 1,
            prev_hash: [0; 32],
            epoch: 0,
            dir_seq: 3,
            kind: Kind::Endorse,
        },
        &TicketKey::from_bytes(pattern(0x67)),
        &spec_endorse_content(&s.ticket_id, outsider.public()),
        pattern(0xec),
    )
    .expect("seal");
    chain_case(
        Chain::Notes,
        "endorse message on the notes chain",
        vec![notes_endorse.to_bytes()],
        "transcript.kind_not_allowed",
        0,
    );
    let other = other_reporter_secret();
    let other_first = Message::seal_with_salt(
        &other.identity(),
        Placement {
            ticket_id: other.ticket_id(),
            chain: Chain::Conversation,
            seq: 1,
            prev_hash: [0; 32],
            epoch: 0,
            dir_seq: 1,
            kind: Kind::Message,
        },
        &k0,
        CRAFTED_TEXT,
        pattern(0xe5),
    )
    .expect("seal");
    chain_case(
        Chain::Conversation,
        "message of another ticket swapped in",
        vec![other_first.to_bytes()],
        "transcript.wrong_ticket",
        0,
    );

    // Directory.
    let entries = directory_entries(&cast);
    let enc: Vec<String> = entries.iter().map(|e| hx(&e.to_bytes())).collect();
    let full = Directory::verify(&entries).expect("directory");
    let head = full.head();
    cases.push(json!({"type": "directory_extends", "name": "rolled-back log", "log": enc[..2].to_vec(), "pinned_head": {"seq": head.seq, "hash": hx(&head.hash)}, "expected_error": "directory.rollback"}));
    let genesis_only = Directory::verify(&entries[..1]).expect("genesis");
    let fork_entry =
        DirectoryEntry::add(&genesis_only, &cast.admin_a, cast.admin_c.public()).expect("fork");
    let pinned = Directory::verify(&entries[..2]).expect("two").head();
    cases.push(json!({"type": "directory_extends", "name": "forked log", "log": [enc[0].clone(), hx(&fork_entry.to_bytes())], "pinned_head": {"seq": pinned.seq, "hash": hx(&pinned.hash)}, "expected_error": "directory.fork"}));
    // admin-c signs an entry before being added: craft it by adding admin-d "from" a log where C is admin.
    let c_genesis = DirectoryEntry::genesis(&cast.admin_c);
    let c_dir = Directory::verify(std::slice::from_ref(&c_genesis)).expect("c genesis");
    let mut by_outsider =
        DirectoryEntry::add(&c_dir, &cast.admin_c, cast.account_d.public()).expect("craft");
    by_outsider.prev_hash = entries[0].hash();
    let mut bytes = by_outsider.to_bytes();
    // Re-sign with the modified prev_hash so that only membership is wrong.
    let resigned = {
        let mut signed = lp(labels::DIRECTORY_SIG);
        signed.extend_from_slice(&bytes[..138]);
        use ed25519_dalek::Signer;
        ed25519_dalek::SigningKey::from_bytes(
            &spec_kdf(&pattern::<32>(0xc0), labels::IDENTITY_ED25519, 32)
                .try_into()
                .expect("32"),
        )
        .sign(&signed)
        .to_bytes()
    };
    bytes[138..].copy_from_slice(&resigned);
    cases.push(json!({"type": "directory", "name": "entry signed by a non-administrator", "log": [enc[0].clone(), hx(&bytes)], "expected_error": "directory.not_a_member", "expected_index": 1}));
    cases.push(json!({"type": "directory", "name": "entry with a broken link", "log": [enc[0].clone(), hx(&flip(&entries[1].to_bytes(), 10))], "expected_error": "directory.broken_link", "expected_index": 1}));
    cases.push(json!({"type": "directory", "name": "entry signature altered", "log": [enc[0].clone(), hx(&flip(&entries[1].to_bytes(), 201))], "expected_error": "directory.bad_signature", "expected_index": 1}));

    // Wraps (against the transcript scenario's members and directory).
    let first_wrap = s.wraps[0].to_bytes();
    cases.push(json!({"type": "wrap", "name": "wrapped key ciphertext altered", "wrap": hx(&flip(&first_wrap, 140)), "expected_error": "wrap.bad_signature"}));
    let outsider_wrap = WrappedKey::seal_with_ikm(
        &outsider,
        cast.admin_a.public(),
        WrapContext {
            ticket_id: s.ticket_id,
            chain: Chain::Conversation,
            epoch: 0,
            dir_seq: 1,
            recipient: cast.admin_a.key_id(),
            wrapper: outsider.key_id(),
        },
        &TicketKey::from_bytes(pattern(0x99)),
        &pattern(0x9a),
    )
    .expect("wrap");
    cases.push(json!({"type": "wrap", "name": "key wrapped by a non-member", "wrap": hx(&outsider_wrap.to_bytes()), "expected_error": "wrap.not_a_member"}));
    let backdated = WrappedKey::seal_with_ikm(
        &cast.admin_b,
        cast.admin_a.public(),
        WrapContext {
            ticket_id: s.ticket_id,
            chain: Chain::Conversation,
            epoch: 1,
            dir_seq: 2,
            recipient: cast.admin_a.key_id(),
            wrapper: cast.admin_b.key_id(),
        },
        &TicketKey::from_bytes(pattern(0x99)),
        &pattern(0x9b),
    )
    .expect("wrap");
    cases.push(json!({"type": "wrap", "name": "removed administrator wraps a key for the epoch after its removal (backdated)", "wrap": hx(&backdated.to_bytes()), "expected_error": "wrap.directory_out_of_range"}));

    // Public identities.
    let good = cast.admin_a.public().to_bytes();
    let mut low_order = good;
    low_order[32..].copy_from_slice(&[0u8; 32]);
    cases.push(json!({"type": "public_identity", "name": "X25519 key of low order (zero)", "public_identity": hx(&low_order), "expected_error": "invalid_public_key"}));
    let mut order_8 = good;
    order_8[32..].copy_from_slice(
        &hex::decode("e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800")
            .expect("hex"),
    );
    cases.push(json!({"type": "public_identity", "name": "X25519 key of order 8", "public_identity": hx(&order_8), "expected_error": "invalid_public_key"}));
    let mut weak_ed = good;
    let mut identity_point = [0u8; 32];
    identity_point[0] = 1;
    weak_ed[..32].copy_from_slice(&identity_point);
    cases.push(json!({"type": "public_identity", "name": "Ed25519 key of small order (the identity point)", "public_identity": hx(&weak_ed), "expected_error": "invalid_public_key"}));
    let mut noncanonical = good;
    let mut x = [0xffu8; 32];
    x[0] = 0xee;
    x[31] = 0x7f;
    noncanonical[32..].copy_from_slice(&x);
    cases.push(json!({"type": "public_identity", "name": "X25519 key not canonical (>= 2^255 - 19)", "public_identity": hx(&noncanonical), "expected_error": "invalid_public_key"}));

    // y = p + 3: decodes to the same point as y = 3, so accepting it would give one key two ids.
    let mut ed_noncanonical = good;
    let mut y = [0xffu8; 32];
    y[0] = 0xf0;
    y[31] = 0x7f;
    ed_noncanonical[..32].copy_from_slice(&y);
    cases.push(json!({"type": "public_identity", "name": "Ed25519 key not canonical (y = p + 3)", "public_identity": hx(&ed_noncanonical), "expected_error": "invalid_public_key"}));

    // Attachments: machine-readable edits of attachment.json's stream (PROTOCOL.md §16).
    let (file_key, stream) = attachment_stream();
    let piece = 65536 + 16;
    let last_piece = 16 + 2 * piece;
    let attachment_cases = [
        (
            "last chunk dropped",
            json!([{"edit": "drop_chunk", "index": 2}]),
            "attachment.truncated",
        ),
        (
            "first two chunks swapped",
            json!([{"edit": "swap_chunks", "a": 0, "b": 1}]),
            "decryption_failed",
        ),
        (
            "stream cut inside its nonce",
            json!([{"edit": "truncate", "at": 10}]),
            "attachment.truncated",
        ),
        (
            "stream cut right after its nonce",
            json!([{"edit": "truncate", "at": 16}]),
            "attachment.truncated",
        ),
        (
            "stream cut after the second chunk",
            json!([{"edit": "truncate", "at": last_piece}]),
            "attachment.truncated",
        ),
        (
            "last chunk cut to 10 bytes",
            json!([{"edit": "truncate", "at": last_piece + 10}]),
            "attachment.truncated",
        ),
        (
            "last chunk one byte short",
            json!([{"edit": "truncate", "at": stream.len() - 1}]),
            "decryption_failed",
        ),
        (
            "one byte appended",
            json!([{"edit": "append", "bytes": "00"}]),
            "decryption_failed",
        ),
        (
            "bit flipped in the stream nonce",
            json!([{"edit": "flip", "byte": 3, "bit": 0}]),
            "decryption_failed",
        ),
        (
            "bit flipped in the second chunk's tag",
            json!([{"edit": "flip", "byte": last_piece - 1, "bit": 7}]),
            "decryption_failed",
        ),
        (
            "bit flipped in the last chunk's ciphertext",
            json!([{"edit": "flip", "byte": last_piece + 5, "bit": 2}]),
            "decryption_failed",
        ),
        (
            "last chunk dropped after the first two were swapped",
            json!([{"edit": "swap_chunks", "a": 0, "b": 1}, {"edit": "drop_chunk", "index": 2}]),
            "decryption_failed",
        ),
    ];
    for (name, edits, code) in attachment_cases {
        let edited = apply_attachment_edits(&stream, &edits);
        cases.push(json!({"type": "attachment", "name": name, "file_key": hx(file_key.as_bytes()), "edits": edits, "stream_sha256": hx(&Sha256::digest(&edited)), "expected_error": code}));
    }

    // Endorse messages that verify (§10.2 step 10 admits either role) but whose content
    // names grounds its sender may not use, or no grounds at all (§8.2 Reading).
    let m3 = &s.conversation[2].0;
    let endorse_cases: [(&str, &Identity, u8, u8, &str); 3] = [
        (
            "grounds 0x02 (the reporter's own second key) signed by an administrator",
            &cast.admin_a,
            0x02,
            0xe9,
            "endorsement.not_a_member",
        ),
        (
            "grounds 0x01 (an administrator's endorsement) signed by the reporter",
            &reporter_secret().identity(),
            0x01,
            0xf0,
            "endorsement.not_a_member",
        ),
        (
            "grounds 0x03 (unassigned) signed by the reporter",
            &reporter_secret().identity(),
            0x03,
            0xf1,
            "endorsement.malformed",
        ),
    ];
    for (name, sender, grounds, salt, code) in endorse_cases {
        let mut content = spec_endorse_content(&s.ticket_id, outsider.public());
        content[1] = grounds;
        let message = Message::seal_with_salt(
            sender,
            Placement {
                ticket_id: s.ticket_id,
                chain: Chain::Conversation,
                seq: 4,
                prev_hash: m3.hash(),
                epoch: 0,
                dir_seq: m3.header.dir_seq,
                kind: Kind::Endorse,
            },
            &k0,
            &content,
            pattern(salt),
        )
        .expect("seal");
        let mut messages = conv[..3].to_vec();
        messages.push(message.to_bytes());
        cases.push(json!({"type": "endorsement", "name": name, "chain": 0, "messages": messages.iter().map(|m| hx(m)).collect::<Vec<_>>(), "chain_key": hx(k0.as_bytes()), "expected_error": code}));
    }

    // Keyring and fragment.
    let salt: [u8; 16] = pattern(0x33);
    let right = MasterKey::derive(
        b"correct horse battery staple",
        &salt,
        Argon2Params::TEST_ONLY_CHEAP,
    )
    .expect("argon2");
    let keyring = Keyring {
        identity_seed: IdentitySeed::from_bytes(pattern(0xd0)),
        app_data: Zeroizing::new(Vec::new()),
    };
    let sealed = right
        .keyring_key()
        .seal_with_salt(&keyring, pattern(0x45))
        .expect("seal");
    cases.push(json!({"type": "keyring", "name": "keyring opened with a wrong password", "password_utf8": "correct horse battery stapler", "salt": hx(&salt), "argon2id": {"memory_kib": 256, "iterations": 1, "parallelism": 1}, "sealed_keyring": hx(&sealed), "expected_error": "decryption_failed"}));
    let fragment = reporter_secret().to_fragment();
    cases.push(json!({"type": "fragment", "name": "fragment one character short", "fragment": fragment[..42].to_string(), "expected_error": "malformed"}));
    cases.push(json!({"type": "fragment", "name": "fragment with standard base64 characters", "fragment": format!("{}+", &fragment[..42]), "expected_error": "malformed"}));

    json!({
        "description": "Inputs every implementation must reject, with the error code (PROTOCOL.md §17) and, for transcript and directory cases, the 0-based index of the first rejected item. Transcript cases are messages of transcript.json's ticket on the chain given by `chain` (0 conversation, 1 notes), verified from an empty chain with transcript.json's reporter and directory (head seq 3); wrap cases are verified against that conversation chain after all its messages (epoch 0 opened at directory position 1, epoch 1 at 3), with the same members and directory. Endorsement cases are conversation messages that all verify (§10.2); the content of the last one, an endorse message, is then read (§8.2) with `chain_key` (the key of its epoch) and MUST be refused with `expected_error`, adding no reporter key.",
        "cases": cases,
    })
}

// ---- §18 team key and snippets ----

fn team_wrap_case(
    wrapper: &Identity,
    recipient: &PublicIdentity,
    context: TeamWrapContext,
    key: &TeamKey,
    ikm_tag: u8,
) -> Value {
    let ikm_e: [u8; 32] = pattern(ikm_tag);
    let wrap = TeamWrap::seal_with_ikm(wrapper, recipient, context, key, &ikm_e).expect("wrap");
    let encoded = wrap.to_bytes();
    assert_eq!(encoded.len(), 229);
    let mut info = lp(labels::TEAM_WRAP_INFO);
    info.extend_from_slice(&encoded[..85]);
    let mut signed = lp(labels::TEAM_WRAP_SIG);
    signed.extend_from_slice(&encoded[..165]);
    json!({
        "epoch": context.epoch,
        "opened_at": context.opened_at,
        "dir_seq": context.dir_seq,
        "recipient_key_id": hx(&context.recipient.0),
        "wrapper_key_id": hx(&context.wrapper.0),
        "team_key": hx(key.as_bytes()),
        "ikm_e": hx(&ikm_e),
        "hpke_info": hx(&info),
        "enc": hx(&wrap.enc),
        "ciphertext": hx(&wrap.ciphertext),
        "signed_bytes": hx(&signed),
        "signature": hx(&wrap.signature),
        "encoded": hx(&encoded),
    })
}

fn spec_snippet_content(title: &str, body: &str) -> Vec<u8> {
    let mut out = (title.len() as u32).to_be_bytes().to_vec();
    out.extend_from_slice(title.as_bytes());
    out.extend_from_slice(&(body.len() as u32).to_be_bytes());
    out.extend_from_slice(body.as_bytes());
    out
}

fn snippet_case(
    signer: &Identity,
    id_tag: u8,
    epoch: u32,
    key: &TeamKey,
    salt_tag: u8,
    title: &str,
    body: &str,
) -> (Snippet, Value) {
    let header = SnippetHeader {
        id: SnippetId(pattern(id_tag)),
        epoch,
        signer: signer.key_id(),
        salt: pattern(salt_tag),
    };
    let content = SnippetContent {
        title: title.into(),
        body: body.into(),
    };
    let snippet = Snippet::seal_with_header(signer, header, key, &content).expect("snippet");
    let encoded = snippet.to_bytes();
    let spec_content = spec_snippet_content(title, body);
    assert_eq!(spec_content, *content.to_bytes());
    let padded = spec_pad(&spec_content);
    let okm = spec_hkdf(&header.salt, key.as_bytes(), labels::SNIPPET_KEY, 44);
    let header_bytes = header.to_bytes();
    let mut signed = lp(labels::SNIPPET_SIG);
    signed.extend_from_slice(&encoded[..encoded.len() - 64]);
    let value = json!({
        "snippet_id": hx(&header.id.0),
        "epoch": epoch,
        "signer_key_id": hx(&header.signer.0),
        "salt": hx(&header.salt),
        "team_key": hx(key.as_bytes()),
        "title": title,
        "body": body,
        "content": hx(&spec_content),
        "padded": hx(&padded),
        "snippet_key": hx(&okm[..32]),
        "snippet_nonce": hx(&okm[32..]),
        "header": hx(&header_bytes),
        "ciphertext": hx(&snippet.ciphertext),
        "signed_bytes": hx(&signed),
        "signature": hx(&snippet.signature),
        "encoded": hx(&encoded),
    });
    (snippet, value)
}

/// directory.json's log (genesis(A), add(B), add(C), remove(B) by C); epoch 0 opened by A at
/// position 2 for A, B, C; epoch 1 opened by C at position 3 (after B's removal) for A and C;
/// snippets by A in epoch 0 and by C in epoch 1; cases to refuse.
fn team() -> Value {
    let cast = cast();
    let entries = directory_entries(&cast);
    let dir = Directory::verify(&entries).expect("directory");
    let key0 = TeamKey::from_bytes(pattern(0x31));
    let key1 = TeamKey::from_bytes(pattern(0x32));
    let ctx =
        |epoch, opened_at, dir_seq, recipient: &Identity, wrapper: &Identity| TeamWrapContext {
            epoch,
            opened_at,
            dir_seq,
            recipient: recipient.key_id(),
            wrapper: wrapper.key_id(),
        };
    let mut wraps = Vec::new();
    for (i, recipient) in [&cast.admin_a, &cast.admin_b, &cast.admin_c]
        .into_iter()
        .enumerate()
    {
        wraps.push(team_wrap_case(
            &cast.admin_a,
            recipient.public(),
            ctx(0, 2, 2, recipient, &cast.admin_a),
            &key0,
            0x40 + i as u8,
        ));
    }
    for (i, recipient) in [&cast.admin_a, &cast.admin_c].into_iter().enumerate() {
        wraps.push(team_wrap_case(
            &cast.admin_c,
            recipient.public(),
            ctx(1, 3, 3, recipient, &cast.admin_c),
            &key1,
            0x48 + i as u8,
        ));
    }
    let writable = [
        TeamWrap::from_bytes(
            &hex::decode(wraps[0]["encoded"].as_str().expect("hex")).expect("hex"),
        )
        .expect("wrap")
        .writable_at(&dir),
        TeamWrap::from_bytes(
            &hex::decode(wraps[3]["encoded"].as_str().expect("hex")).expect("hex"),
        )
        .expect("wrap")
        .writable_at(&dir),
    ];
    assert_eq!(writable, [false, true]);
    let (_, s0) = snippet_case(
        &cast.admin_a,
        0x51,
        0,
        &key0,
        0x52,
        "Password reset",
        "Hello {reporter_name},\n\nyou can reset your password under Settings. I have noted this as {ticket_ref}.\n\n{admin_name}",
    );
    let (s1, v1) = snippet_case(
        &cast.admin_c,
        0x53,
        1,
        &key1,
        0x54,
        "Merci ✓",
        "Bonjour {reporter_name}, merci pour votre message.",
    );
    // Refusals, each against the head of the log above and the keys above.
    let (_, by_removed) = snippet_case(
        &cast.admin_b,
        0x55,
        0,
        &key0,
        0x56,
        "Old",
        "Written by admin-b, removed at position 3.",
    );
    let mut tampered = s1.to_bytes();
    tampered[85 + 4 + 10] ^= 0x01;
    let mut relabelled = s1.clone();
    relabelled.header.epoch = 0;
    let stale_wrap = team_wrap_case(
        &cast.admin_b,
        cast.admin_a.public(),
        ctx(2, 3, 3, &cast.admin_a, &cast.admin_b),
        &key1,
        0x4a,
    );
    json!({
        "description": "PROTOCOL.md §18: the team key and snippets. Directory: directory.json (head 3; admin-b removed at 3). Epoch 0 is opened by admin-a at position 2 for admin-a, admin-b and admin-c; epoch 1 by admin-c at position 3 for admin-a and admin-c. writable_epoch is the epoch a client holding these wraps encrypts new snippets under at the head (§18.2, Writing). Snippet refusals: expected_error for §18.3's reading steps with both keys held; team wrap refusals: §18.2's checks.",
        "team_wraps": wraps,
        "writable_epoch": 1,
        "snippets": [s0, v1],
        "snippet_refusals": [
            {"name": "signed by admin-b, removed before the head", "snippet_id": by_removed["snippet_id"].clone(), "encoded": by_removed["encoded"].clone(), "expected_error": "snippet.not_a_member"},
            {"name": "ciphertext byte flipped", "snippet_id": hx(&s1.header.id.0), "encoded": hx(&tampered), "expected_error": "snippet.bad_signature"},
            {"name": "served under another id", "snippet_id": hx(&pattern::<16>(0x57)), "encoded": hx(&s1.to_bytes()), "expected_error": "snippet.wrong_id"},
            {"name": "epoch relabelled 1 to 0 (signature not redone)", "snippet_id": hx(&s1.header.id.0), "encoded": hx(&relabelled.to_bytes()), "expected_error": "snippet.bad_signature"},
        ],
        "team_wrap_refusals": [
            {"name": "wrapped by admin-b at position 3, after its removal", "encoded": stale_wrap["encoded"].clone(), "expected_error": "team_key.not_a_member"},
        ],
    })
}
