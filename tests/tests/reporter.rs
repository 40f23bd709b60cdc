//! The anonymous reporter's flows through the native client against the real server, and a
//! misbehaving server (altered, dropped and reordered answers) detected with specific errors.

// Test and tool code: a failed expectation stops the run, so it may unwrap, expect and
// panic (the workspace denies these in library code: Cargo.toml, clippy.toml).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::cell::RefCell;
use std::collections::BTreeMap;

use base64ct::{Base64UrlUnpadded, Encoding};
use sealdesk_client::content::{Content, Text};
use sealdesk_client::directory::fetch_verified;
use sealdesk_client::reporter::{Opening, ReporterTicket, TicketLink};
use sealdesk_client::transport::{NativeTransport, Request, Response, Transport};
use sealdesk_client::{ClientError, Result};
use sealdesk_crypto::{Chain, Kind, Message, Placement, TicketKey, system_rng};
use sealdesk_system_tests::{Instance, b64};
use serde_json::{Value, json};

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

fn opening() -> Opening {
    Opening {
        subject: "Uploads fail".into(),
        text: "Since this morning every upload fails.".into(),
        category: Some("Bug".into()),
        name: Some("Robin".into()),
        email: Some("robin@example.org".into()),
        urgent: true,
        notify_email: Some("robin@example.org".into()),
        debug: Some(BTreeMap::from([(
            "user_agent".to_owned(),
            "Test/1.0".to_owned(),
        )])),
    }
}

/// An instance that asks for a proof of work (spec/API.md) still takes the client's anonymous
/// tickets: the client asks for a challenge and solves it (the server's own tests show that a
/// creation without one is refused).
#[test]
fn reporter_solves_the_proof_of_work_when_asked() {
    let instance = Instance::start_with(&[("SEALDESK_PROOF_OF_WORK_BITS", "12")]);
    runtime().block_on(async {
        let transport = NativeTransport::new(&instance.base);
        let directory = fetch_verified(&transport, None).await.expect("directory");
        let challenge: Value = transport
            .send(Request::get("/api/v1/pow/challenge"))
            .await
            .expect("answer")
            .json("the challenge")
            .expect("a challenge");
        assert_eq!(challenge["bits"], 12, "proof of work is on");

        let mut rng = system_rng();
        let ticket =
            ReporterTicket::create(&transport, &directory, opening(), 1_700_000_000, &mut rng)
                .await
                .expect("create with a proof of work");
        let link =
            TicketLink::parse(&format!("{}{}", instance.base, ticket.link().path())).expect("link");
        let reopened = ReporterTicket::open(&transport, &directory, link)
            .await
            .expect("open");
        assert_eq!(
            reopened.messages.len(),
            2,
            "the first message and the debug data"
        );
    });
}

#[test]
fn reporter_opens_reads_replies_and_closes() {
    let instance = Instance::start();
    runtime().block_on(async {
        let transport = NativeTransport::new(&instance.base);
        let directory = fetch_verified(&transport, None).await.expect("directory");
        let mut rng = system_rng();
        let ticket =
            ReporterTicket::create(&transport, &directory, opening(), 1_700_000_000, &mut rng)
                .await
                .expect("create");
        let path = ticket.link().path();
        assert!(path.starts_with("/help/ticket/") && path.contains('#'));
        assert_eq!(
            ticket.messages.len(),
            2,
            "the first message and the debug data"
        );

        // Opening the link elsewhere shows the verified, decrypted conversation.
        let link = TicketLink::parse(&format!("{}{path}", instance.base)).expect("link");
        let mut reopened = ReporterTicket::open(&transport, &directory, link)
            .await
            .expect("open");
        assert_eq!(reopened.messages.len(), 2);
        match &reopened.messages[0].content {
            Ok(Content::Message(Text {
                subject, urgent, ..
            })) => {
                assert_eq!(subject.as_deref(), Some("Uploads fail"));
                assert!(urgent);
            }
            other => panic!("first message: {other:?}"),
        }
        assert_eq!(reopened.messages[1].kind, Kind::DebugData);
        assert!(reopened.messages.iter().all(|m| !m.from_support));

        reopened
            .reply(&transport, &directory, "Any news?", 1_700_000_100, &mut rng)
            .await
            .expect("reply");
        reopened
            .close(&transport, &directory, 1_700_000_200, &mut rng)
            .await
            .expect("close");
        assert!(reopened.is_closed());

        // The first browser catches up and sees the same verified conversation.
        let mut first = ticket;
        assert_eq!(
            first
                .refresh(&transport, &directory)
                .await
                .expect("refresh"),
            2
        );
        assert!(first.is_closed());
        assert_eq!(first.conversation(), reopened.conversation());
    });
}

#[test]
fn a_damaged_link_is_refused() {
    let mut rng = system_rng();
    let link = TicketLink::generate(&mut rng);
    let path = link.path();
    let (id, secret) = path.split_once('#').expect("fragment");
    let other = TicketLink::generate(&mut rng).path();
    let swapped = format!("{}#{secret}", other.split_once('#').expect("fragment").0);
    assert_eq!(
        TicketLink::parse(&swapped).err().map(|e| e.code),
        Some("link.mismatch".into())
    );
    assert_eq!(
        TicketLink::parse(id).err().map(|e| e.code),
        Some("link.malformed".into())
    );
    assert!(TicketLink::parse(&path).is_ok());
}

/// An edit of the messages in a server's answer.
type Edit = Box<dyn FnMut(&mut Vec<Value>)>;

/// A transport that rewrites the server's answers to message reads.
struct Tampering<'a> {
    inner: &'a NativeTransport,
    edit: RefCell<Edit>,
}

impl Transport for Tampering<'_> {
    async fn send(&self, request: Request) -> Result<Response> {
        let is_read = request.path.contains("/messages?");
        let mut response = self.inner.send(request).await?;
        if is_read && response.status == 200 {
            let mut body: Value = serde_json::from_slice(&response.body).expect("json");
            let messages = body["messages"].as_array_mut().expect("messages");
            (self.edit.borrow_mut())(messages);
            response.body = serde_json::to_vec(&body).expect("json");
        }
        Ok(response)
    }
}

fn flip_byte(messages: &mut [Value], index: usize, at: usize) {
    let encoded = messages[index]["message"].as_str().expect("message");
    let mut bytes = Base64UrlUnpadded::decode_vec(encoded).expect("base64url");
    bytes[at] ^= 1;
    messages[index]["message"] = json!(b64(&bytes));
}

#[test]
fn a_misbehaving_server_is_detected() {
    let instance = Instance::start();
    runtime().block_on(async {
        let transport = NativeTransport::new(&instance.base);
        let directory = fetch_verified(&transport, None).await.expect("directory");
        let mut rng = system_rng();
        let mut ticket = ReporterTicket::create(&transport, &directory, opening(), 1, &mut rng)
            .await
            .expect("create");
        ticket
            .reply(&transport, &directory, "third", 2, &mut rng)
            .await
            .expect("reply");
        let path = ticket.link().path();

        let cases: Vec<(&str, Edit, &str)> = vec![
            (
                "altered ciphertext",
                Box::new(|m: &mut Vec<Value>| flip_byte(m, 1, 200)),
                "transcript.bad_signature",
            ),
            (
                "dropped message",
                Box::new(|m: &mut Vec<Value>| {
                    m.remove(1);
                }),
                "transcript.unexpected_seq",
            ),
            (
                "reordered messages",
                Box::new(|m: &mut Vec<Value>| m.swap(1, 2)),
                "transcript.unexpected_seq",
            ),
            (
                "replayed message",
                Box::new(|m: &mut Vec<Value>| {
                    let first = m[0].clone();
                    m.insert(1, first);
                }),
                "transcript.unexpected_seq",
            ),
        ];
        for (name, edit, code) in cases {
            let tampering = Tampering {
                inner: &transport,
                edit: RefCell::new(edit),
            };
            let link = TicketLink::parse(&path).expect("link");
            let error: ClientError = match ReporterTicket::open(&tampering, &directory, link).await
            {
                Err(error) => error,
                Ok(_) => panic!("{name}: accepted"),
            };
            assert_eq!(error.code, code, "{name}");
        }

        // A message injected by someone who is not a member.
        let outsider = sealdesk_crypto::Identity::generate(&mut rng).1;
        let key = TicketKey::generate(&mut rng);
        let state = ticket.conversation().clone();
        let injected = Message::seal(
            &outsider,
            Placement {
                ticket_id: state.ticket_id(),
                chain: Chain::Conversation,
                seq: state.last_seq() + 1,
                prev_hash: state.last_hash(),
                epoch: 0,
                dir_seq: 0,
                kind: Kind::Message,
            },
            &key,
            b"{}",
            &mut rng,
        )
        .expect("seal");
        let encoded = b64(&injected.to_bytes());
        let tampering = Tampering {
            inner: &transport,
            edit: RefCell::new(Box::new(move |m: &mut Vec<Value>| {
                m.push(json!({"seq": 4, "received_at": 0, "message": encoded}));
            })),
        };
        let link = TicketLink::parse(&path).expect("link");
        let error = ReporterTicket::open(&tampering, &directory, link)
            .await
            .err()
            .expect("rejected");
        assert_eq!(error.code, "transcript.not_a_member");
    });
}
