//! Random bytes from the operating system's generator (`sealdesk_crypto::system_rng`), for
//! ids, tokens and challenges the server draws.

use sealdesk_crypto::{CryptoRng, system_rng};

/// `N` random bytes.
pub fn bytes<const N: usize>() -> [u8; N] {
    fill(&mut system_rng())
}

fn fill<const N: usize>(rng: &mut impl CryptoRng) -> [u8; N] {
    let mut out = [0u8; N];
    rng.fill_bytes(&mut out);
    out
}
