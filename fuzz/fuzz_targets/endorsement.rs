//! Endorsements (spec/PROTOCOL.md §8): the decrypted content of an `endorse` message, read by
//! every member of the ticket. Decoding never panics; what decodes re-encodes to the input.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sealdesk_crypto::EndorseContent;

fuzz_target!(|data: &[u8]| {
    let Ok(endorsement) = EndorseContent::from_bytes(data) else {
        return;
    };
    let encoded = endorsement.to_bytes();
    assert_eq!(
        encoded, data,
        "a decoded endorsement re-encodes to its input"
    );
    assert_eq!(
        EndorseContent::from_bytes(&encoded).expect("re-decodes"),
        endorsement
    );
});
