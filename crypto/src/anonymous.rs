//! Anonymous ticket links: a 32-byte secret in the URL fragment, from which the reporter's
//! identity, the access token and the ticket id are derived (spec/PROTOCOL.md §11).

use core::fmt;

use base64ct::{Base64UrlUnpadded, Encoding};
use subtle::ConstantTimeEq;
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::error::{Error, Result};
use crate::identity::{Identity, IdentitySeed};
use crate::labels;
use crate::primitives::{kdf, labeled_hash};
use crate::rng::CryptoRng;
use crate::ticket::{TICKET_ID_LEN, TicketId};

/// Length of a ticket secret in bytes.
pub const TICKET_SECRET_LEN: usize = 32;
/// Length of a ticket secret in the URL fragment: unpadded base64url of 32 bytes.
pub const FRAGMENT_LEN: usize = 43;

/// The 32-byte secret of an anonymous ticket link. Whoever holds it can read and write the
/// ticket as its reporter. Zeroized on drop; `Debug` redacts it.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct TicketSecret([u8; TICKET_SECRET_LEN]);

impl TicketSecret {
    /// Draws a fresh secret (32 bytes from `rng`).
    pub fn generate(rng: &mut impl CryptoRng) -> Self {
        let mut secret = [0u8; TICKET_SECRET_LEN];
        rng.fill_bytes(&mut secret);
        TicketSecret(secret)
    }

    /// Wraps existing secret bytes.
    pub fn from_bytes(bytes: [u8; TICKET_SECRET_LEN]) -> Self {
        TicketSecret(bytes)
    }

    /// The secret bytes.
    pub fn as_bytes(&self) -> &[u8; TICKET_SECRET_LEN] {
        &self.0
    }

    /// The URL fragment form: unpadded base64url (RFC 4648 §5), 43 characters.
    pub fn to_fragment(&self) -> String {
        Base64UrlUnpadded::encode_string(&self.0)
    }

    /// Parses the URL fragment form (constant-time decoding; exactly 43 characters).
    ///
    /// # Errors
    /// [`Error::Malformed`] for anything but the canonical encoding of 32 bytes.
    pub fn from_fragment(fragment: &str) -> Result<Self> {
        let mut secret = [0u8; TICKET_SECRET_LEN];
        let decoded = Base64UrlUnpadded::decode(fragment.as_bytes(), &mut secret)
            .map_err(|_| Error::Malformed("ticket secret"))?;
        if decoded.len() != TICKET_SECRET_LEN {
            secret.zeroize();
            return Err(Error::Malformed("ticket secret"));
        }
        Ok(TicketSecret(secret))
    }

    /// The ticket id: `KDF(secret, "sealdesk/v1/anon/ticket-id", 16)`.
    pub fn ticket_id(&self) -> TicketId {
        let mut id = [0u8; TICKET_ID_LEN];
        kdf(&self.0, labels::ANON_TICKET_ID, &mut id);
        TicketId(id)
    }

    /// The reporter's identity seed: `KDF(secret, "sealdesk/v1/anon/identity", 32)`.
    pub fn identity_seed(&self) -> IdentitySeed {
        let mut seed = [0u8; 32];
        kdf(&self.0, labels::ANON_IDENTITY, &mut seed);
        let result = IdentitySeed::from_bytes(seed);
        seed.zeroize();
        result
    }

    /// The reporter's identity (from [`TicketSecret::identity_seed`]).
    pub fn identity(&self) -> Identity {
        Identity::from_seed(&self.identity_seed())
    }

    /// The access token that authorises reading the ticket:
    /// `KDF(secret, "sealdesk/v1/anon/access-token", 32)`.
    pub fn access_token(&self) -> AccessToken {
        let mut token = [0u8; 32];
        kdf(&self.0, labels::ANON_ACCESS_TOKEN, &mut token);
        AccessToken(token)
    }
}

impl fmt::Debug for TicketSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TicketSecret(<redacted>)")
    }
}

/// A 32-byte bearer token (an anonymous ticket's access token, or a session token). The server
/// keeps only [`AccessToken::hash`]. Zeroized on drop; `Debug` redacts it.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct AccessToken([u8; 32]);

impl AccessToken {
    /// Draws a fresh token (32 bytes from `rng`), e.g. for a session.
    pub fn generate(rng: &mut impl CryptoRng) -> Self {
        let mut token = [0u8; 32];
        rng.fill_bytes(&mut token);
        AccessToken(token)
    }

    /// Wraps existing token bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        AccessToken(bytes)
    }

    /// The token bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// The form sent in HTTP headers: unpadded base64url, 43 characters.
    pub fn to_base64url(&self) -> String {
        Base64UrlUnpadded::encode_string(&self.0)
    }

    /// Parses the header form.
    ///
    /// # Errors
    /// [`Error::Malformed`] for anything but the canonical encoding of 32 bytes.
    pub fn from_base64url(text: &str) -> Result<Self> {
        let mut token = [0u8; 32];
        let decoded = Base64UrlUnpadded::decode(text.as_bytes(), &mut token)
            .map_err(|_| Error::Malformed("access token"))?;
        if decoded.len() != 32 {
            return Err(Error::Malformed("access token"));
        }
        Ok(AccessToken(token))
    }

    /// What the server stores: `SHA-256(u8 len || "sealdesk/v1/token-hash" || token)`.
    pub fn hash(&self) -> [u8; 32] {
        labeled_hash(labels::TOKEN_HASH, &[&self.0])
    }

    /// Compares this token's hash with a stored hash in constant time.
    pub fn matches_hash(&self, stored: &[u8; 32]) -> bool {
        self.hash().ct_eq(stored).into()
    }
}

impl fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AccessToken(<redacted>)")
    }
}
