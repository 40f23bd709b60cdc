//! Reads that cannot multiply memory (issue 16, item 3): a page of `GET …/messages` stops at
//! `max_page_bytes` of message bytes, and a reader that follows `more` still gets the whole
//! conversation.

// Test and tool code: a failed expectation stops the run, so it may unwrap, expect and
// panic (the workspace denies these in library code: Cargo.toml, clippy.toml).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use serde_json::Value;

use common::{Desk, Ticket, unb64};

/// The cap used here: a few small messages per page.
const PAGE_BYTES: usize = 2_000;

#[test]
fn pages_stop_at_the_byte_cap_and_more_reads_the_whole_conversation() {
    let desk = Desk::start_with(&[("SEALDESK_MAX_PAGE_BYTES", &PAGE_BYTES.to_string())]);
    let mut ticket = Ticket::open(&desk);
    for i in 0..20 {
        ticket.post(&desk, i % 2 == 0);
    }
    let total = ticket.state.last_seq();
    assert_eq!(total, 21);

    let mut seen = Vec::new();
    let mut pages = 0;
    loop {
        let after = seen.len();
        let response = desk.get(
            &format!(
                "/api/v1/tickets/{}/messages?chain=0&after={after}",
                ticket.id()
            ),
            &ticket.token,
        );
        assert_eq!(response.status().as_u16(), 200);
        let page: Value = response.json().expect("messages JSON");
        let messages = page["messages"].as_array().expect("messages");
        assert!(
            !messages.is_empty(),
            "a page is never empty while messages follow"
        );
        let bytes: Vec<Vec<u8>> = messages.iter().map(|m| unb64(&m["message"])).collect();
        let page_bytes: usize = bytes.iter().map(Vec::len).sum();
        assert!(
            messages.len() == 1 || page_bytes <= PAGE_BYTES,
            "page {pages}: {} messages of {page_bytes} bytes over the {PAGE_BYTES}-byte cap",
            messages.len()
        );
        for message in messages {
            assert_eq!(message["seq"].as_u64(), Some(seen.len() as u64 + 1));
            seen.push(message["seq"].as_u64());
        }
        pages += 1;
        if page["more"] == false {
            break;
        }
        assert!(pages < 100, "more never ends");
    }
    assert_eq!(
        seen.len() as u64,
        total,
        "every message read once, in order"
    );
    assert!(pages > 2, "the cap split the conversation: {pages} pages");
}
