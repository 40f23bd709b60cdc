//! Wrapped ticket keys (spec/PROTOCOL.md §6) as posted with a message or history and read by
//! a member: decoding never panics, and what decodes re-encodes to exactly the input.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sealdesk_crypto::WrappedKey;

fuzz_target!(|data: &[u8]| {
    let Ok(wrap) = WrappedKey::from_bytes(data) else {
        return;
    };
    let encoded = wrap.to_bytes();
    assert_eq!(encoded, data, "a decoded wrap re-encodes to its input");
    assert_eq!(WrappedKey::from_bytes(&encoded).expect("re-decodes"), wrap);
});
