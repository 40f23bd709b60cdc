//! A chain's verified state (spec/PROTOCOL.md §10) as kept by the server beside each ticket and
//! by clients in local storage: decoding never panics, and what decodes round-trips.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sealdesk_crypto::ChainState;

fuzz_target!(|data: &[u8]| {
    let Ok(state) = ChainState::from_bytes(data) else {
        return;
    };
    let encoded = state.to_bytes();
    let again = ChainState::from_bytes(&encoded).expect("a re-encoded chain state decodes");
    assert_eq!(again, state, "a decoded chain state round-trips");
    assert_eq!(again.to_bytes(), encoded);
});
