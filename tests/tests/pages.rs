//! The native client reads a long conversation whole across pages cut by the server's byte
//! cap (`max_page_bytes`, spec/API.md "GET …/messages"): it follows `more` from the last seq
//! it received, whatever a page holds (issue 16, item 3).

// Test and tool code: a failed expectation stops the run, so it may unwrap, expect and
// panic (the workspace denies these in library code: Cargo.toml, clippy.toml).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use sealdesk_client::directory::fetch_verified;
use sealdesk_client::reporter::{Opening, ReporterTicket, TicketLink};
use sealdesk_client::transport::NativeTransport;
use sealdesk_crypto::system_rng;
use sealdesk_system_tests::Instance;

#[test]
fn the_client_reads_a_conversation_cut_into_small_pages() {
    // Far below one page of 200 small messages: every message is padded to at least
    // MIN_PADDED_LEN bytes, so 25 of them take several pages (the server's tests check the cut).
    let instance = Instance::start_with(&[("SEALDESK_MAX_PAGE_BYTES", "3000")]);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let transport = NativeTransport::new(&instance.base);
        let directory = fetch_verified(&transport, None).await.expect("directory");
        let mut rng = system_rng();
        let opening = Opening {
            subject: "Pages".into(),
            text: "The first message.".into(),
            ..Opening::default()
        };
        let mut ticket =
            ReporterTicket::create(&transport, &directory, opening, 1_700_000_000, &mut rng)
                .await
                .expect("create");
        for i in 0..24u64 {
            ticket
                .reply(
                    &transport,
                    &directory,
                    &format!("Reply {i}"),
                    1_700_000_001 + i,
                    &mut rng,
                )
                .await
                .expect("reply");
        }
        let written = ticket.messages.len();
        assert_eq!(written, 25);

        // A fresh reader of the link gets every message, in order.
        let link =
            TicketLink::parse(&format!("{}{}", instance.base, ticket.link().path())).expect("link");
        let reopened = ReporterTicket::open(&transport, &directory, link)
            .await
            .expect("open across pages");
        assert_eq!(reopened.messages.len(), written, "every message read");
    });
}
