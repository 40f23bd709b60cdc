//! Ticket links and their fragments (spec/PROTOCOL.md §11), pasted by a user or opened from a
//! mail, and the other text identifiers a client or the server parses (ticket ids, access
//! tokens): parsing never panics and what parses re-encodes canonically.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sealdesk_client::reporter::TicketLink;
use sealdesk_crypto::{AccessToken, LinkFragment, TicketId};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(fragment) = LinkFragment::parse(text) {
        assert_eq!(fragment.encode(), text, "a fragment is canonical");
    }
    if let Ok(link) = TicketLink::parse(text) {
        let path = link.path();
        let again = TicketLink::parse(&path).expect("a link's own path parses");
        assert_eq!(again.path(), path);
        assert_eq!(again.ticket_id(), link.ticket_id());
        assert_eq!(again.head(), link.head());
    }
    if let Ok(id) = TicketId::from_hex(text) {
        assert_eq!(TicketId::from_hex(&id.to_hex()).expect("re-parses"), id);
    }
    if let Ok(token) = AccessToken::from_base64url(text) {
        assert_eq!(token.to_base64url(), text, "an access token is canonical");
    }
});
