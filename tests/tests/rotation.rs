//! Removing an administrator against a server that hides tickets from the removing
//! administrator's client (PROTOCOL.md §15, removing an administrator): the real binary
//! behind a hostile transport that leaves tickets out of inbox answers, serves a reporter the
//! directory as it was before the removal (a freeze), and accepts that reporter's post without
//! the check an honest server makes (a post at its directory head). The removed
//! administrator, who kept its epoch keys and colludes with the server, must not be able to
//! read anything written after the removal.

// Test and tool code: a failed expectation stops the run, so it may unwrap, expect and
// panic (the workspace denies these in library code: Cargo.toml, clippy.toml).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::cell::RefCell;
use std::collections::BTreeSet;

use base64ct::{Base64UrlUnpadded, Encoding};
use sealdesk_client::content::Content;
use sealdesk_client::directory::fetch_verified;
use sealdesk_client::reporter::{Opening, ReporterTicket, TicketLink};
use sealdesk_client::transport::{Body, Method, NativeTransport, Request, Response, Transport};
use sealdesk_client::{ClientError, Result};
use sealdesk_crypto::{Chain, Identity, Message, TicketId, TicketKey, system_rng};
use sealdesk_system_tests::{
    Instance, add_administrator, first_admin, runtime, wrapped_epochs, wraps_for,
};
use serde_json::Value;

fn opening(subject: &str) -> Opening {
    Opening {
        subject: subject.into(),
        text: format!("About {subject}."),
        ..Opening::default()
    }
}

/// A hostile server in front of the real one.
struct Hostile<'a> {
    inner: &'a NativeTransport,
    /// Tickets (hex ids) left out of every `status=open` inbox answer: the server lies about
    /// the unsigned status.
    hidden_from_open: BTreeSet<String>,
    /// Tickets (hex ids) left out of every inbox answer.
    hidden: BTreeSet<String>,
    /// Whether posted messages are taken with `201` and never passed on (an honest server
    /// refuses a post not made at its directory head; this one does not).
    takes_posts: bool,
    /// The messages taken.
    accepted: RefCell<Vec<Message>>,
}

impl<'a> Hostile<'a> {
    fn new(inner: &'a NativeTransport) -> Self {
        Hostile {
            inner,
            hidden_from_open: BTreeSet::new(),
            hidden: BTreeSet::new(),
            takes_posts: false,
            accepted: RefCell::new(Vec::new()),
        }
    }
}

impl Transport for Hostile<'_> {
    async fn send(&self, request: Request) -> Result<Response> {
        if self.takes_posts
            && request.method == Method::Post
            && request.path.starts_with("/api/v1/tickets/")
            && request.path.ends_with("/messages")
        {
            let Some(Body::Json(body)) = &request.body else {
                return Err(ClientError::bad_response("a post without a body"));
            };
            let bytes = Base64UrlUnpadded::decode_vec(body["message"].as_str().expect("message"))
                .expect("base64url");
            self.accepted
                .borrow_mut()
                .push(Message::from_bytes(&bytes).expect("a message"));
            return Ok(Response {
                status: 201,
                body: b"{}".to_vec(),
            });
        }
        let is_inbox = request.method == Method::Get && request.path.starts_with("/api/v1/inbox");
        let open_only = request.path.contains("status=open");
        let mut response = self.inner.send(request).await?;
        if is_inbox && response.status == 200 {
            let mut body: Value = serde_json::from_slice(&response.body).expect("json");
            let tickets = body["tickets"].as_array_mut().expect("tickets");
            tickets.retain(|t| {
                let id = t["ticket_id"].as_str().expect("ticket_id");
                let hidden =
                    self.hidden.contains(id) || (open_only && self.hidden_from_open.contains(id));
                !hidden
            });
            response.body = serde_json::to_vec(&body).expect("json");
        }
        Ok(response)
    }
}

/// The keys of `id`'s conversation that `member` can open from its own wraps, read with
/// `session`, by epoch.
async fn conversation_keys(
    transport: &NativeTransport,
    session: &str,
    id: TicketId,
    member: &Identity,
) -> Vec<(u32, TicketKey)> {
    wraps_for(
        transport,
        session,
        id,
        Chain::Conversation,
        &member.key_id(),
    )
    .await
    .into_iter()
    .map(|wrap| (wrap.context.epoch, wrap.open(member).expect("open")))
    .collect()
}

#[test]
fn a_ticket_hidden_from_the_removal_stays_unreadable_to_the_removed_administrator() {
    let server = Instance::start_with(&[("SEALDESK_ANONYMOUS_TICKETS_PER_HOUR", "1000")]);
    runtime().block_on(async {
        let transport = NativeTransport::new(&server.base);
        let mut rng = system_rng();
        let mut root = first_admin(&transport).await;
        let bob = add_administrator(&transport, &mut root, "bob", &mut rng).await;
        let bob_identity = bob.identity();
        let bob_key = bob_identity.key_id();
        let bob_session = bob.session().to_owned();
        let before_removal = fetch_verified(&transport, None).await.expect("directory");
        assert_eq!(before_removal.head_seq(), 1, "genesis and Bob");

        // Five tickets, each with its first epoch wrapped for Bob too: one the server lists,
        // one it lists only as closed (a lie: it is open), one really closed (and reopened
        // later by the reporter), two it never lists, one of which the removing client kept
        // itself.
        let mut links = Vec::new();
        for subject in ["listed", "claimed closed", "closed", "never listed", "kept"] {
            let ticket =
                ReporterTicket::create(&transport, &before_removal, opening(subject), 1, &mut rng)
                    .await
                    .expect("create");
            links.push(ticket.link().path());
        }
        let ids: Vec<TicketId> = links
            .iter()
            .map(|l| TicketLink::parse(l).expect("link").ticket_id())
            .collect();
        let [_, claimed_closed, closed, never_listed, kept] = ids[..] else {
            unreachable!()
        };
        let mut read = root.read_ticket(&transport, closed).await.expect("read");
        root.send(&transport, &mut read, Content::close(2), &mut rng)
            .await
            .expect("close");

        // Bob, still an administrator, takes the keys his wraps open (a removed administrator
        // keeps whatever it already held).
        let mut bob_keys = Vec::new();
        for &id in &ids {
            let keys = conversation_keys(&transport, &bob_session, id, bob_identity).await;
            assert_eq!(keys.len(), 1, "epoch 0");
            bob_keys.extend(keys);
        }

        // Root removes Bob through a server that hides tickets from the rotation.
        let mut hostile = Hostile::new(&transport);
        hostile.hidden_from_open.insert(claimed_closed.to_hex());
        hostile.hidden.insert(never_listed.to_hex());
        hostile.hidden.insert(kept.to_hex());
        let removal = root
            .remove(&hostile, &bob_key, &mut rng)
            .await
            .expect("remove");
        assert_eq!(removal.head.seq, 2);
        assert!(removal.failures.is_empty(), "{:?}", removal.failures);
        // The ticket the client kept itself is rotated as well; the listed ones are not
        // rotated twice.
        let finished = root
            .rotate(&hostile, &[kept], &mut rng)
            .await
            .expect("rotate");
        assert!(finished.failures.is_empty(), "{:?}", finished.failures);
        assert_eq!((finished.tickets, finished.rotated), (4, 1));

        // The reporters of the tickets the server hid come back: the server serves them the
        // directory as it was before the removal and takes their replies without checking
        // the directory head. Whatever they write, Bob's old keys must not open it.
        hostile.takes_posts = true;
        for (id, name) in [
            (claimed_closed, "claimed closed"),
            (closed, "closed"),
            (kept, "kept"),
        ] {
            let link = links[ids.iter().position(|&i| i == id).expect("known")].clone();
            let visit = ReporterTicket::open(
                &hostile,
                &before_removal,
                TicketLink::parse(&link).expect("link"),
            )
            .await;
            if let Ok(mut ticket) = visit {
                ticket
                    .reply(&hostile, &before_removal, "Still broken.", 3, &mut rng)
                    .await
                    .expect("the hostile server takes the reply");
            }
            for message in hostile.accepted.borrow_mut().drain(..) {
                assert!(
                    bob_keys.iter().all(|(_, key)| message.open(key).is_err()),
                    "the removed administrator reads a reply written after the removal on the \
                     {name} ticket (epoch {})",
                    message.header.epoch
                );
            }
            // The rotation carries the removal's directory position: a client that does not
            // know of the removal refuses the ticket rather than write in the old epoch.
            let refusal = ReporterTicket::open(
                &hostile,
                &before_removal,
                TicketLink::parse(&link).expect("link"),
            )
            .await
            .err()
            .map(|e| e.code);
            assert_eq!(
                refusal.as_deref(),
                Some("transcript.directory_out_of_range"),
                "{name}"
            );
        }

        // The rotation looked at every ticket the server lists, whatever status it claims.
        assert_eq!(
            removal.tickets, 3,
            "every ticket the server lists, whatever the status it claims"
        );

        // With the verified directory, every reply (also on the ticket the removing client
        // never saw, which opens its new epoch at this first message, §10.2 step 8) is in an
        // epoch wrapped for the remaining members only.
        let after_removal = fetch_verified(&transport, None).await.expect("directory");
        let session = root.account().session().to_owned();
        for (link, &id) in links.iter().zip(&ids) {
            let mut ticket = ReporterTicket::open(
                &transport,
                &after_removal,
                TicketLink::parse(link).expect("link"),
            )
            .await
            .expect("open");
            ticket
                .reply(&transport, &after_removal, "Any news?", 4, &mut rng)
                .await
                .expect("reply");
            assert_eq!(ticket.conversation().epoch(), Some(1));
            assert_eq!(
                wrapped_epochs(&transport, &session, id, Chain::Conversation, &bob_key).await,
                BTreeSet::from([0])
            );
            let seen = root.read_ticket(&transport, id).await.expect("root reads");
            assert!(seen.messages.iter().all(|m| m.content.is_ok()));
        }
    });
    // Rotated epochs and their wraps pass the server's own verification.
    server.kill_and_check();
}
