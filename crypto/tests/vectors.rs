//! The protocol's own vectors (`spec/vectors/`): the committed files must equal what the code
//! produces, every negative case must be rejected with its stated error, and the positive
//! transcript must verify and decrypt when read back from the JSON alone.

// Test and tool code: a failed expectation stops the run, so it may unwrap, expect and
// panic (the workspace denies these in library code: Cargo.toml, clippy.toml).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "vectors/generate.rs"]
mod generate;

use sealdesk_crypto::{
    Argon2Params, Chain, ChainState, Directory, DirectoryHead, FileKey, Identity, IdentitySeed,
    Kind, MasterKey, Members, Message, PublicIdentity, StreamDecryptor, TicketKey, TicketSecret,
    WrappedKey,
};
use serde_json::Value;
use sha2::{Digest, Sha256};

#[cfg(target_arch = "wasm32")]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

fn committed(name: &str) -> Value {
    let text = match name {
        "identities.json" => include_str!("../../spec/vectors/identities.json"),
        "anonymous.json" => include_str!("../../spec/vectors/anonymous.json"),
        "account.json" => include_str!("../../spec/vectors/account.json"),
        "wraps.json" => include_str!("../../spec/vectors/wraps.json"),
        "messages.json" => include_str!("../../spec/vectors/messages.json"),
        "directory.json" => include_str!("../../spec/vectors/directory.json"),
        "transcript.json" => include_str!("../../spec/vectors/transcript.json"),
        "attachment.json" => include_str!("../../spec/vectors/attachment.json"),
        "negative.json" => include_str!("../../spec/vectors/negative.json"),
        "team.json" => include_str!("../../spec/vectors/team.json"),
        other => panic!("no committed vector file {other}"),
    };
    serde_json::from_str(text).expect("committed vectors are JSON")
}

fn bytes(value: &Value) -> Vec<u8> {
    hex::decode(value.as_str().expect("hex string")).expect("hex")
}

/// A JSON array of hex strings.
fn byte_list(value: &Value) -> Vec<Vec<u8>> {
    value
        .as_array()
        .expect("array of hex strings")
        .iter()
        .map(bytes)
        .collect()
}

fn array<const N: usize>(value: &Value) -> [u8; N] {
    bytes(value).try_into().expect("length")
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn committed_vectors_match_the_code() {
    let generated = generate::all();
    assert_eq!(generated.len(), 10);
    for (name, value) in generated {
        assert!(
            committed(name) == value,
            "spec/vectors/{name} differs from the code; if the protocol changed on purpose, \
             update PROTOCOL.md and run `cargo run -p sealdesk-crypto --example gen-vectors`"
        );
    }
}

/// The scenario of transcript.json, rebuilt from the JSON alone.
struct Ticket {
    directory: Directory,
    members: Members,
    conversation: ChainState,
}

fn ticket_from_json() -> Ticket {
    let t = committed("transcript.json");
    let entries: Vec<Vec<u8>> = t["directory"]
        .as_array()
        .expect("entries")
        .iter()
        .map(bytes)
        .collect();
    let directory = Directory::verify_encoded(&entries).expect("directory verifies");
    let ticket_id = sealdesk_crypto::TicketId(array(&t["ticket_id"]));
    let reporter =
        PublicIdentity::from_bytes(&bytes(&t["reporter_public_identity"])).expect("reporter");
    let members = Members::new(ticket_id, reporter);
    let conversation = ChainState::new(ticket_id, Chain::Conversation);
    Ticket {
        directory,
        members,
        conversation,
    }
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn transcript_vector_verifies_and_decrypts() {
    let t = committed("transcript.json");
    let Ticket {
        directory,
        members,
        mut conversation,
    } = ticket_from_json();
    let encoded: Vec<Vec<u8>> = t["conversation"]
        .as_array()
        .expect("messages")
        .iter()
        .map(|m| bytes(&m["encoded"]))
        .collect();
    // Message by message: an endorse message's content is read (§8.2) before the next one.
    let chain_keys: Vec<(u64, u32, TicketKey)> = t["chain_keys"]
        .as_array()
        .expect("keys")
        .iter()
        .map(|k| {
            (
                k["chain"].as_u64().expect("chain"),
                k["epoch"].as_u64().expect("epoch") as u32,
                TicketKey::from_bytes(array(&k["key"])),
            )
        })
        .collect();
    let mut messages: Vec<Message> = Vec::new();
    for (bytes, state) in encoded
        .iter()
        .zip(t["conversation_states"].as_array().expect("states"))
    {
        let mut verified = conversation
            .extend_encoded(&[bytes], &members, &directory)
            .expect("transcript verifies");
        let message = verified.remove(0);
        if message.header.kind == Kind::Endorse {
            let (_, _, key) = chain_keys
                .iter()
                .find(|(c, e, _)| *c == 0 && *e == message.header.epoch)
                .expect("epoch key");
            conversation
                .read_endorsement(&message, key)
                .expect("endorse content");
        }
        let reporters: Vec<Vec<u8>> = conversation
            .reporters()
            .iter()
            .map(|r| r.key_id().0.to_vec())
            .collect();
        assert_eq!(reporters, byte_list(&state["reporter_key_ids"]));
        assert_eq!(
            generate::status_name(conversation.status()),
            state["status"].as_str().expect("status")
        );
        messages.push(message);
    }
    let last = t["conversation_states"]
        .as_array()
        .expect("states")
        .last()
        .expect("state")
        .clone();
    assert_eq!(conversation.last_seq(), last["seq"].as_u64().expect("seq"));
    assert_eq!(conversation.last_hash().to_vec(), bytes(&last["hash"]));
    assert_eq!(
        conversation.is_closed(),
        last["closed"].as_bool().expect("closed")
    );

    // Every recipient we hold a key for unwraps each of its wraps, and each message opens
    // under the unwrapped key of its epoch with the listed content.
    let reporter =
        TicketSecret::from_bytes(array(&committed("anonymous.json")["cases"][0]["secret"]))
            .identity();
    let second_reporter =
        TicketSecret::from_bytes(array(&committed("anonymous.json")["cases"][1]["secret"]))
            .identity();
    let admins: Vec<Identity> = committed("identities.json")["cases"]
        .as_array()
        .expect("identities")
        .iter()
        .map(|c| Identity::from_seed(&IdentitySeed::from_bytes(array(&c["seed"]))))
        .collect();
    let notes_encoded: Vec<Vec<u8>> = t["notes"]
        .as_array()
        .expect("notes")
        .iter()
        .map(|m| bytes(&m["encoded"]))
        .collect();
    let notes = ChainState::verify_encoded(
        members.ticket_id(),
        Chain::Notes,
        &notes_encoded,
        &members,
        &directory,
    )
    .expect("notes verify");
    let mut opened = 0;
    for w in t["wraps"].as_array().expect("wraps") {
        let wrap = WrappedKey::from_bytes(&bytes(&w["encoded"])).expect("wrap decodes");
        let chain = wrap.context.chain;
        let state = if chain == Chain::Conversation {
            &conversation
        } else {
            &notes
        };
        wrap.verify(&members, &directory, state)
            .expect("wrap verifies");
        let holder = [&reporter, &second_reporter]
            .into_iter()
            .chain(admins.iter())
            .find(|i| i.key_id() == wrap.context.recipient)
            .expect("known recipient");
        let key = wrap.open(holder).expect("unwraps");
        for (message, m) in messages
            .iter()
            .zip(t["conversation"].as_array().expect("messages"))
        {
            if chain == Chain::Conversation && message.header.epoch == wrap.context.epoch {
                assert_eq!(
                    message.open(&key).expect("opens").to_vec(),
                    bytes(&m["content"])
                );
                opened += 1;
            }
        }
    }
    // Three messages in epoch 0, each opened by its four recipients (reporter, admin-a,
    // admin-b, and admin-c through the history wrap); nine in epoch 1 by its four (the
    // endorsed second reporter key included).
    assert_eq!(opened, 3 * 4 + 9 * 4);
    // admin-b, removed, holds no wrap of epoch 1.
    let admin_b = admins[1].key_id();
    assert!(t["wraps"].as_array().expect("wraps").iter().all(|w| {
        !(w["epoch"] == 1 && w["chain"] == 0 && bytes(&w["recipient_key_id"]) == admin_b.0)
    }));
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn negative_vectors_are_rejected() {
    let cases = committed("negative.json")["cases"]
        .as_array()
        .expect("cases")
        .clone();
    assert!(
        cases.len() >= 25,
        "negative vectors went missing: {}",
        cases.len()
    );
    let ticket = ticket_from_json();
    let conversation: Vec<Vec<u8>> = committed("transcript.json")["conversation"]
        .as_array()
        .expect("messages")
        .iter()
        .map(|m| bytes(&m["encoded"]))
        .collect();
    // The wrap cases are checked against the chain after its first seven messages (before the
    // endorse message, whose content the test would have to read).
    let mut full_conversation = ticket.conversation.clone();
    full_conversation
        .extend_encoded(&conversation[..7], &ticket.members, &ticket.directory)
        .expect("transcript verifies");
    let (_, stream) = generate::attachment_stream();
    for case in &cases {
        let name = case["name"].as_str().expect("name");
        let expected = case["expected_error"].as_str().expect("expected_error");
        let error = match case["type"].as_str().expect("type") {
            "transcript" => {
                let messages = byte_list(&case["messages"]);
                let chain = match case["chain"].as_u64().expect("chain") {
                    0 => Chain::Conversation,
                    _ => Chain::Notes,
                };
                let mut state = ChainState::new(ticket.members.ticket_id(), chain);
                let err = state
                    .extend_encoded(&messages, &ticket.members, &ticket.directory)
                    .expect_err(name);
                match &err {
                    sealdesk_crypto::Error::Transcript { index, .. } => {
                        assert_eq!(
                            *index as u64,
                            case["expected_index"].as_u64().expect("index"),
                            "{name}"
                        )
                    }
                    other => panic!("{name}: {other:?}"),
                }
                err
            }
            "endorsement" => {
                // Every message verifies; reading the last one's content is refused (§8.2).
                let messages = byte_list(&case["messages"]);
                let mut state = ChainState::new(ticket.members.ticket_id(), Chain::Conversation);
                state
                    .extend_encoded(&messages, &ticket.members, &ticket.directory)
                    .expect(name);
                assert!(state.endorsement_unread(), "{name}");
                let last = Message::from_bytes(messages.last().expect("messages")).expect(name);
                let key = TicketKey::from_bytes(array(&case["chain_key"]));
                let err = state.read_endorsement(&last, &key).expect_err(name);
                assert_eq!(state.reporters().len(), 1, "{name}: no key added");
                err
            }
            "directory" => {
                let log = byte_list(&case["log"]);
                let err = Directory::verify_encoded(&log).expect_err(name);
                match &err {
                    sealdesk_crypto::Error::Directory { index, .. } => {
                        assert_eq!(
                            *index,
                            case["expected_index"].as_u64().expect("index"),
                            "{name}"
                        )
                    }
                    other => panic!("{name}: {other:?}"),
                }
                err
            }
            "directory_extends" => {
                let log = byte_list(&case["log"]);
                let directory = Directory::verify_encoded(&log).expect("the log itself is valid");
                let pinned = DirectoryHead {
                    seq: case["pinned_head"]["seq"].as_u64().expect("seq"),
                    hash: array(&case["pinned_head"]["hash"]),
                };
                directory.check_extends(&pinned).expect_err(name)
            }
            "wrap" => {
                let wrap = WrappedKey::from_bytes(&bytes(&case["wrap"])).expect("decodes");
                wrap.verify(&ticket.members, &ticket.directory, &full_conversation)
                    .expect_err(name)
            }
            "public_identity" => {
                PublicIdentity::from_bytes(&bytes(&case["public_identity"])).expect_err(name)
            }
            "attachment" => {
                let edited = generate::apply_attachment_edits(&stream, &case["edits"]);
                assert_eq!(
                    Sha256::digest(&edited).to_vec(),
                    bytes(&case["stream_sha256"]),
                    "{name}"
                );
                let key = FileKey::from_bytes(array(&case["file_key"]));
                // §13: a stream shorter than its nonce is cut.
                match edited.get(..16) {
                    None => sealdesk_crypto::Error::Truncated,
                    Some(nonce) => {
                        let nonce: [u8; 16] = nonce.try_into().expect("nonce");
                        let mut decryptor = StreamDecryptor::new(&key, &nonce);
                        let mut out = Vec::new();
                        decryptor
                            .update(&edited[16..], &mut out)
                            .and_then(|()| decryptor.finish(&mut out))
                            .expect_err(name)
                    }
                }
            }
            "keyring" => {
                let params = Argon2Params {
                    memory_kib: case["argon2id"]["memory_kib"].as_u64().expect("m") as u32,
                    iterations: case["argon2id"]["iterations"].as_u64().expect("t") as u32,
                    parallelism: case["argon2id"]["parallelism"].as_u64().expect("p") as u32,
                };
                let password = case["password_utf8"].as_str().expect("password");
                let master = MasterKey::derive(password.as_bytes(), &array(&case["salt"]), params)
                    .expect("argon2");
                master
                    .keyring_key()
                    .open(&bytes(&case["sealed_keyring"]))
                    .expect_err(name)
            }
            "fragment" => TicketSecret::from_fragment(case["fragment"].as_str().expect("fragment"))
                .expect_err(name),
            other => panic!("unknown negative vector type {other}"),
        };
        assert_eq!(error.code(), expected, "{name}: {error}");
    }
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn link_fragments_with_heads_parse_and_malformed_ones_are_refused() {
    let anonymous = committed("anonymous.json");
    for case in anonymous["with_head"].as_array().expect("with_head") {
        let parsed = sealdesk_crypto::LinkFragment::parse(case["fragment"].as_str().expect("text"))
            .expect("a link with a head parses");
        let head = parsed.head.expect("the head");
        assert_eq!(head.seq, case["head_seq"].as_u64().expect("seq"));
        assert_eq!(head.hash, array::<32>(&case["head_hash"]));
        assert_eq!(parsed.secret.as_bytes(), &array::<32>(&case["secret"]));
    }
    for case in anonymous["malformed"].as_array().expect("malformed") {
        let fragment = case["fragment"].as_str().expect("text");
        assert!(
            sealdesk_crypto::LinkFragment::parse(fragment).is_err(),
            "{}",
            case["why"]
        );
    }
    let directory = committed("directory.json");
    let entries: Vec<Vec<u8>> = directory["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .map(|e| bytes(&e["encoded"]))
        .collect();
    let verified = Directory::verify_encoded(&entries).expect("directory");
    assert_eq!(
        verified.instance_fingerprint(),
        directory["instance_fingerprint"].as_str().expect("text")
    );
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn reporter_endorsement_vector_adds_the_second_key() {
    let t = committed("transcript.json");
    let ticket = ticket_from_json();
    let v = &t["reporter_endorsement"];
    let mut messages: Vec<Vec<u8>> = t["conversation"].as_array().expect("messages")[..3]
        .iter()
        .map(|m| bytes(&m["encoded"]))
        .collect();
    let own: Vec<Vec<u8>> = v["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .map(|m| bytes(&m["encoded"]))
        .collect();
    messages.extend(own);
    let key = TicketKey::from_bytes(array(&t["chain_keys"][0]["key"]));
    let mut state = ticket.conversation.clone();
    state
        .extend_encoded_reading(&messages, &ticket.members, &ticket.directory, |_, _| {
            Some(key.clone())
        })
        .expect("the reporter's endorsement verifies");
    let ids: Vec<String> = state
        .reporters()
        .iter()
        .map(|r| hex::encode(r.key_id().0))
        .collect();
    let expected: Vec<String> = v["reporter_key_ids"]
        .as_array()
        .expect("ids")
        .iter()
        .map(|id| id.as_str().expect("hex").to_string())
        .collect();
    assert_eq!(ids, expected);
    assert_eq!(ids.len(), 2, "the second key was added");
    assert_eq!(
        hex::encode(state.last_hash()),
        v["final"]["hash"].as_str().expect("hash")
    );
}

/// team.json read back: every wrap verifies and opens, every snippet verifies and opens with
/// its epoch's key, and every refusal fails with its stated error (PROTOCOL.md §18).
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn team_vectors_verify_and_refuse() {
    use sealdesk_crypto::{Snippet, SnippetId, TeamKey, TeamWrap};
    let t = committed("team.json");
    let d = committed("directory.json");
    let entries: Vec<Vec<u8>> = d["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| bytes(&e["encoded"]))
        .collect();
    let directory = Directory::verify_encoded(&entries).unwrap();
    let ids = committed("identities.json");
    let identity_of = |key_id: &Value| -> Identity {
        let wanted = bytes(key_id);
        let seed = ids["cases"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| bytes(&i["key_id"]) == wanted)
            .map(|i| array::<32>(&i["seed"]))
            .expect("a known identity");
        Identity::from_seed(&IdentitySeed::from_bytes(seed))
    };
    let mut keys = std::collections::BTreeMap::new();
    let mut writable = None;
    for w in t["team_wraps"].as_array().unwrap() {
        let wrap = TeamWrap::from_bytes(&bytes(&w["encoded"])).unwrap();
        wrap.verify(&directory).unwrap();
        let key = wrap.open(&identity_of(&w["recipient_key_id"])).unwrap();
        assert_eq!(key.as_bytes().to_vec(), bytes(&w["team_key"]));
        if wrap.writable_at(&directory) {
            writable = writable.max(Some(wrap.context.epoch));
        }
        keys.insert(wrap.context.epoch, key);
    }
    assert_eq!(writable, t["writable_epoch"].as_u64().map(|e| e as u32));
    let read = |encoded: &Value, id: &Value| -> Result<(), String> {
        let snippet = Snippet::from_bytes(&bytes(encoded)).map_err(|e| e.code())?;
        snippet
            .verify(&SnippetId(array(id)), &directory)
            .map_err(|e| e.code())?;
        let key: &TeamKey = keys.get(&snippet.header.epoch).ok_or("snippet.bad_epoch")?;
        snippet.open(key).map(|_| ()).map_err(|e| e.code())
    };
    for s in t["snippets"].as_array().unwrap() {
        read(&s["encoded"], &s["snippet_id"]).unwrap();
    }
    for case in t["snippet_refusals"].as_array().unwrap() {
        assert_eq!(
            read(&case["encoded"], &case["snippet_id"]).unwrap_err(),
            case["expected_error"].as_str().unwrap(),
            "{}",
            case["name"]
        );
    }
    for case in t["team_wrap_refusals"].as_array().unwrap() {
        let wrap = TeamWrap::from_bytes(&bytes(&case["encoded"])).unwrap();
        assert_eq!(
            wrap.verify(&directory).unwrap_err().code(),
            case["expected_error"].as_str().unwrap()
        );
    }
}
