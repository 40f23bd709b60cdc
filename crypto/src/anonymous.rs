//! Anonymous ticket links: a 32-byte secret in the URL fragment, from which the reporter's
//! identity, the access token and the ticket id are derived (spec/PROTOCOL.md §11).

use core::fmt;

use base64ct::{Base64UrlUnpadded, Encoding};
use subtle::ConstantTimeEq;
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::directory::DirectoryHead;
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

/// A link's fragment (spec §11): the ticket secret, optionally followed by the directory head
/// the creating client verified, as `{secret}.{seq}.{hash}` (43 base64url characters, the
/// head's `seq` in canonical decimal, the head's hash in 43 base64url characters). A fragment
/// of 43 characters alone (the form before heads were carried) stays valid.
#[derive(Clone, Debug)]
pub struct LinkFragment {
    /// The ticket secret.
    pub secret: TicketSecret,
    /// The directory head to pin (§7.4), when the link carries one.
    pub head: Option<DirectoryHead>,
}

/// The separator between a fragment's parts: outside the base64url alphabet.
const FRAGMENT_SEPARATOR: char = '.';

impl LinkFragment {
    /// The fragment text: `{secret}` alone, or `{secret}.{seq}.{hash}` with a head.
    pub fn encode(&self) -> String {
        match &self.head {
            None => self.secret.to_fragment(),
            Some(head) => format!(
                "{}{FRAGMENT_SEPARATOR}{}{FRAGMENT_SEPARATOR}{}",
                self.secret.to_fragment(),
                head.seq,
                Base64UrlUnpadded::encode_string(&head.hash)
            ),
        }
    }

    /// Parses a fragment (§11): one part (the secret) or three parts separated by `.`.
    ///
    /// # Errors
    /// [`Error::Malformed`] for any other number of parts, a secret or hash that is not the
    /// canonical unpadded base64url of 32 bytes, or a `seq` that is not canonical decimal
    /// (ASCII digits only, no leading zero except `0` itself, at most 2^64 − 1).
    pub fn parse(fragment: &str) -> Result<Self> {
        let mut parts = fragment.split(FRAGMENT_SEPARATOR);
        let secret = TicketSecret::from_fragment(parts.next().unwrap_or_default())?;
        let head = match (parts.next(), parts.next(), parts.next()) {
            (None, _, _) => None,
            (Some(seq), Some(hash), None) => Some(DirectoryHead {
                seq: parse_canonical_u64(seq)?,
                hash: decode_hash(hash)?,
            }),
            _ => return Err(Error::Malformed("ticket link head")),
        };
        Ok(LinkFragment { secret, head })
    }
}

/// Canonical decimal: 1 to 20 ASCII digits, no leading zero unless the value is 0, fits u64.
fn parse_canonical_u64(text: &str) -> Result<u64> {
    let malformed = Error::Malformed("ticket link head");
    let canonical = !text.is_empty()
        && text.len() <= 20
        && text.bytes().all(|b| b.is_ascii_digit())
        && (text == "0" || !text.starts_with('0'));
    if !canonical {
        return Err(malformed);
    }
    text.parse::<u64>().map_err(|_| malformed)
}

/// A 32-byte hash in canonical unpadded base64url (43 characters).
fn decode_hash(text: &str) -> Result<[u8; 32]> {
    let mut hash = [0u8; 32];
    let decoded = Base64UrlUnpadded::decode(text.as_bytes(), &mut hash)
        .map_err(|_| Error::Malformed("ticket link head"))?;
    if decoded.len() != 32 {
        return Err(Error::Malformed("ticket link head"));
    }
    Ok(hash)
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

#[cfg(test)]
mod tests {
    use super::*;

    fn secret() -> TicketSecret {
        TicketSecret::from_bytes([7u8; 32])
    }

    #[test]
    fn a_fragment_without_a_head_is_the_secret_alone() {
        let text = secret().to_fragment();
        let parsed = LinkFragment::parse(&text).expect("parses");
        assert!(parsed.head.is_none());
        assert_eq!(parsed.secret.as_bytes(), secret().as_bytes());
        assert_eq!(parsed.encode(), text);
    }

    #[test]
    fn a_fragment_with_a_head_round_trips() {
        let fragment = LinkFragment {
            secret: secret(),
            head: Some(DirectoryHead {
                seq: 12,
                hash: [9u8; 32],
            }),
        };
        let text = fragment.encode();
        assert_eq!(text.len(), 43 + 1 + 2 + 1 + 43);
        let parsed = LinkFragment::parse(&text).expect("parses");
        assert_eq!(parsed.head, fragment.head);
    }

    #[test]
    fn malformed_heads_are_refused() {
        let s = secret().to_fragment();
        let h = Base64UrlUnpadded::encode_string(&[9u8; 32]);
        for bad in [
            format!("{s}."),
            format!("{s}.1"),
            format!("{s}.1."),
            format!("{s}..{h}"),
            format!("{s}.01.{h}"),
            format!("{s}.+1.{h}"),
            format!("{s}.-1.{h}"),
            format!("{s}.18446744073709551616.{h}"),
            format!("{s}.1.{h}="),
            format!("{s}.1.{}", &h[..42]),
            format!("{s}.1.{h}.1"),
            format!("{s}.1.{}l", &h[..42]),
            format!("{s}:1:{h}"),
        ] {
            assert!(LinkFragment::parse(&bad).is_err(), "{bad}");
        }
        assert!(LinkFragment::parse(&format!("{s}.18446744073709551615.{h}")).is_ok());
        assert!(LinkFragment::parse(&format!("{s}.0.{h}")).is_ok());
    }
}
