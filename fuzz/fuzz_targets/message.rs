//! Messages (spec/PROTOCOL.md §9) as the server receives them in a post and a client in a read:
//! decoding never panics, and what decodes re-encodes to exactly the input (the encoding is
//! canonical, so the hash a message is linked by cannot differ between two parsers).
#![no_main]

use libfuzzer_sys::fuzz_target;
use sealdesk_crypto::Message;

fuzz_target!(|data: &[u8]| {
    let Ok(message) = Message::from_bytes(data) else {
        return;
    };
    let encoded = message.to_bytes();
    assert_eq!(encoded, data, "a decoded message re-encodes to its input");
    let again = Message::from_bytes(&encoded).expect("a re-encoded message decodes");
    assert_eq!(again, message);
    assert_eq!(again.hash(), message.hash());
});
