//! The crypto benchmark's exports (feature `bench`, built only by
//! `scripts/build-web.sh --bench` into `target/web-bench`, never into a served page's module):
//! the same work as `crypto/benches/crypto.rs`'s `message` and `wrap` groups, so
//! `tests/browser/crypto.bench.mjs` can time Sealdesk's compiled crypto in Chromium next to
//! tweetnacl (BENCHMARKS.md, *Crypto in the browser*). Fixed keys, salts and `ikmE`: only
//! computation is timed.

use sealdesk_crypto::{
    Chain, Identity, IdentitySeed, Kind, Message, Placement, TicketId, TicketKey, WrapContext,
    WrappedKey,
};
use wasm_bindgen::prelude::*;

/// The fixed sender and recipient identities and ticket key of the benchmark.
#[wasm_bindgen]
pub struct CryptoBench {
    sender: Identity,
    recipient: Identity,
    key: TicketKey,
}

#[wasm_bindgen]
impl CryptoBench {
    /// Derives the two identities (from fixed 32-byte seeds) and the ticket key.
    #[wasm_bindgen(constructor)]
    pub fn new() -> CryptoBench {
        CryptoBench {
            sender: Identity::from_seed(&IdentitySeed::from_bytes([1; 32])),
            recipient: Identity::from_seed(&IdentitySeed::from_bytes([2; 32])),
            key: TicketKey::from_bytes([0x22; 32]),
        }
    }

    /// Seals and signs `content` as a conversation message (PROTOCOL.md's message: HKDF of
    /// the message key, padding, ChaCha20-Poly1305, Ed25519 over the signed bytes); returns
    /// the ciphertext's length in bytes, or 0 when `content` is over the 1 MiB limit.
    #[wasm_bindgen(js_name = sealSign)]
    pub fn seal_sign(&self, content: &[u8]) -> usize {
        let placement = Placement {
            ticket_id: TicketId([0x11; 16]),
            chain: Chain::Conversation,
            seq: 1,
            prev_hash: [0; 32],
            epoch: 0,
            dir_seq: 1,
            kind: Kind::Message,
        };
        Message::seal_with_salt(&self.sender, placement, &self.key, content, [0x33; 32])
            .map_or(0, |message| message.ciphertext.len())
    }

    /// Wraps the ticket key for the recipient (HPKE base mode seal, Ed25519 signature by the
    /// sender); returns the wrapped key's signature's first byte plus one (never 0), or 0
    /// when HPKE fails.
    #[wasm_bindgen(js_name = wrapTicketKey)]
    pub fn wrap_ticket_key(&self) -> u32 {
        let recipient = self.recipient.public();
        let context = WrapContext {
            ticket_id: TicketId([0x11; 16]),
            chain: Chain::Conversation,
            epoch: 0,
            dir_seq: 1,
            recipient: recipient.key_id(),
            wrapper: self.sender.key_id(),
        };
        WrappedKey::seal_with_ikm(&self.sender, recipient, context, &self.key, &[0x40; 32])
            .map_or(0, |wrapped| u32::from(wrapped.signature[0]) + 1)
    }
}

/// The primitives a message is made of, alone, to show where its time goes.
#[wasm_bindgen]
impl CryptoBench {
    /// One SHA-512 over `data`; returns the digest's first byte.
    pub fn sha512(&self, data: &[u8]) -> u8 {
        use sha2::Digest;
        sha2::Sha512::digest(data)[0]
    }

    /// One ChaCha20-Poly1305 encryption of a copy of `data` under a fixed key, through
    /// `sealdesk-aead` as messages do; returns the ciphertext's length, or 0 on failure.
    #[wasm_bindgen(js_name = chacha20Poly1305)]
    pub fn chacha20_poly1305(&self, data: &[u8]) -> usize {
        let mut buffer = data.to_vec();
        sealdesk_aead::seal_detached(&[0x22; 32], &[0x33; 12], &[], &mut buffer)
            .map_or(0, |_| buffer.len())
    }

    /// One Ed25519 signature over `data` with a fixed key; returns its first byte.
    #[wasm_bindgen(js_name = ed25519Sign)]
    pub fn ed25519_sign(&self, data: &[u8]) -> u8 {
        use ed25519_dalek::Signer;
        ed25519_dalek::SigningKey::from_bytes(&[1; 32])
            .sign(data)
            .to_bytes()[0]
    }
}

impl Default for CryptoBench {
    fn default() -> Self {
        Self::new()
    }
}
