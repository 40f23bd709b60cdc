//! Directory entries (spec/PROTOCOL.md §7) as appended by an administrator and read by every
//! client: one entry decodes canonically, and a log made of the input cut into entries either
//! verifies (and then its head and entries agree with the input) or is refused, never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sealdesk_crypto::{Directory, DirectoryEntry, ENTRY_LEN};

fuzz_target!(|data: &[u8]| {
    if let Ok(entry) = DirectoryEntry::from_bytes(data) {
        let encoded = entry.to_bytes();
        assert_eq!(encoded, data, "a decoded entry re-encodes to its input");
        assert_eq!(
            DirectoryEntry::from_bytes(&encoded).expect("re-decodes"),
            entry
        );
    }
    let entries: Vec<&[u8]> = data.chunks(ENTRY_LEN).collect();
    if let Ok(directory) = Directory::verify_encoded(&entries) {
        assert_eq!(directory.entries().len(), entries.len());
        for (kept, given) in directory.entries().iter().zip(&entries) {
            assert_eq!(kept.to_bytes(), *given);
        }
        assert_eq!(directory.head_seq() + 1, entries.len() as u64);
    }
});
