//! Live updates against the real server: a ticket's event stream announces each new message
//! as (chain, seq) and the client reads and verifies it with `refresh`; without a stream the
//! client polls on the `Poller`'s schedule.

// Test and tool code: a failed expectation stops the run, so it may unwrap, expect and
// panic (the workspace denies these in library code: Cargo.toml, clippy.toml).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use sealdesk_client::attachments::reporter_bearer;
use sealdesk_client::content::{Content, Text};
use sealdesk_client::directory::fetch_verified;
use sealdesk_client::live::{Event, EventStream, Notice, Poller, ticket_events_path};
use sealdesk_client::reporter::{Opening, ReporterTicket, TicketLink};
use sealdesk_client::transport::NativeTransport;
use sealdesk_crypto::{AccessToken, Chain, system_rng};
use sealdesk_system_tests::Instance;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

fn opening() -> Opening {
    Opening {
        subject: "Live".into(),
        text: "Waiting for an answer.".into(),
        ..Opening::default()
    }
}

async fn next_event(stream: &mut EventStream) -> Event {
    tokio::time::timeout(Duration::from_secs(10), stream.next())
        .await
        .expect("an event within 10 s")
        .expect("the stream")
        .expect("the stream goes on")
}

#[test]
fn notifications_lead_to_verified_messages() {
    let instance = Instance::start();
    runtime().block_on(async {
        let transport = NativeTransport::new(&instance.base);
        let directory = fetch_verified(&transport, None).await.expect("directory");
        let mut rng = system_rng();
        let mut ticket = ReporterTicket::create(&transport, &directory, opening(), 1, &mut rng)
            .await
            .expect("create");
        let id = ticket.link().ticket_id();
        let bearer = reporter_bearer(ticket.link()).expect("bearer");

        // Subscribe first, read after `ready`: nothing falls between the two.
        let mut stream =
            EventStream::connect(&instance.base, &ticket_events_path(&id), Some(&bearer))
                .await
                .expect("subscribe");
        let mut poller = Poller::new();
        let ready = Notice::from_event(&next_event(&mut stream).await).expect("notice");
        assert_eq!(ready, Notice::Ready);
        assert!(poller.on_notice(&ready));
        assert_eq!(
            poller.next_due(0),
            None,
            "no polling while the stream is up"
        );
        assert_eq!(
            ticket
                .refresh(&transport, &directory)
                .await
                .expect("refresh"),
            0
        );

        // A second browser replies; the first is told (chain, seq) and reads the message.
        let link = TicketLink::parse(&ticket.link().path()).expect("link");
        let mut other = ReporterTicket::open(&transport, &directory, link)
            .await
            .expect("open");
        for (n, text) in ["first reply", "second reply"].into_iter().enumerate() {
            other
                .reply(&transport, &directory, text, 2, &mut rng)
                .await
                .expect("reply");
            let notice = Notice::from_event(&next_event(&mut stream).await).expect("notice");
            assert_eq!(
                notice,
                Notice::Message {
                    ticket: id,
                    chain: Chain::Conversation,
                    seq: 2 + n as u64,
                }
            );
            assert!(poller.on_notice(&notice));
            assert_eq!(
                ticket
                    .refresh(&transport, &directory)
                    .await
                    .expect("refresh"),
                1
            );
            let last = ticket.messages.last().expect("a message");
            assert_eq!(last.seq, 2 + n as u64);
            match &last.content {
                Ok(Content::Message(Text { text: got, .. })) => assert_eq!(got, text),
                other => panic!("content: {other:?}"),
            }
        }
        assert_eq!(ticket.conversation(), other.conversation());
    });
}

#[test]
fn without_a_stream_the_client_polls() {
    let instance = Instance::start();
    runtime().block_on(async {
        let transport = NativeTransport::new(&instance.base);
        let directory = fetch_verified(&transport, None).await.expect("directory");
        let mut rng = system_rng();
        let mut ticket = ReporterTicket::create(&transport, &directory, opening(), 1, &mut rng)
            .await
            .expect("create");
        let id = ticket.link().ticket_id();

        // A token that does not open the ticket gets no stream (as for an unknown ticket).
        let stranger = AccessToken::generate(&mut rng).to_base64url();
        let refused =
            EventStream::connect(&instance.base, &ticket_events_path(&id), Some(&stranger))
                .await
                .expect_err("no stream for a stranger");
        assert_eq!(refused.code, "server.not_found");
        assert_eq!(refused.status, Some(404));

        // No stream: the app polls on the schedule (a short interval here).
        let mut poller = Poller::with_interval(200);
        poller.stream_down();
        let start = std::time::Instant::now();
        let now = || start.elapsed().as_millis() as u64;
        assert!(poller.is_due(now()), "the first read is due at once");
        ticket
            .refresh(&transport, &directory)
            .await
            .expect("refresh");
        poller.polled(now());

        let link = TicketLink::parse(&ticket.link().path()).expect("link");
        let mut other = ReporterTicket::open(&transport, &directory, link)
            .await
            .expect("open");
        other
            .reply(&transport, &directory, "polled", 2, &mut rng)
            .await
            .expect("reply");
        let mut polls = 0;
        let mut added = 0;
        while added == 0 && polls < 20 {
            let due = poller.next_due(now()).expect("polling");
            tokio::time::sleep(Duration::from_millis(due.saturating_sub(now()))).await;
            assert!(poller.is_due(now()));
            added = ticket
                .refresh(&transport, &directory)
                .await
                .expect("refresh");
            poller.polled(now());
            polls += 1;
        }
        assert_eq!(added, 1, "the reply is read on the next poll");
        assert_eq!(ticket.conversation(), other.conversation());
    });
}
