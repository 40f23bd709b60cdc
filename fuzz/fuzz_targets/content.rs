//! The decrypted content of a message (spec/PROTOCOL.md §14), written by another member and so
//! untrusted: the first byte picks the kind, the rest is the content. Parsing never panics,
//! and content that parses and re-encodes parses back to the same content.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sealdesk_client::content::Content;
use sealdesk_crypto::Kind;

fuzz_target!(|data: &[u8]| {
    let Some((&kind, bytes)) = data.split_first() else {
        return;
    };
    let Ok(kind) = Kind::from_u8(kind % 11 + 1) else {
        unreachable!("1..=11 are kinds");
    };
    let Ok(content) = Content::parse(kind, bytes) else {
        return;
    };
    assert_eq!(content.kind(), kind);
    if let Ok(encoded) = content.to_bytes() {
        let again = Content::parse(kind, &encoded).expect("re-encoded content parses");
        assert_eq!(again, content, "content round-trips");
    }
});
