//! Unpadded base64url (RFC 4648 §5), the API's encoding of every byte string (spec/API.md,
//! "Conventions").

use base64ct::{Base64UrlUnpadded, Encoding};

/// Why a base64url field does not decode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DecodeError {
    /// More characters than the field's maximum number of bytes can take (refused before
    /// anything is allocated).
    TooLarge,
    /// Not unpadded base64url.
    Encoding,
    /// Decodes, but not to the field's exact length.
    Length,
}

/// Encodes `bytes` as unpadded base64url.
pub fn encode(bytes: &[u8]) -> String {
    Base64UrlUnpadded::encode_string(bytes)
}

/// Decodes unpadded base64url of any length.
///
/// # Errors
/// [`DecodeError::Encoding`].
pub fn decode(text: &str) -> Result<Vec<u8>, DecodeError> {
    Base64UrlUnpadded::decode_vec(text).map_err(|_| DecodeError::Encoding)
}

/// Decodes unpadded base64url of at most `max` bytes, refusing longer text before decoding it.
///
/// # Errors
/// [`DecodeError::TooLarge`], [`DecodeError::Encoding`].
pub fn decode_at_most(text: &str, max: usize) -> Result<Vec<u8>, DecodeError> {
    // 4 characters carry 3 bytes.
    if text.len() > max.div_ceil(3).saturating_mul(4) {
        return Err(DecodeError::TooLarge);
    }
    decode(text)
}

/// Decodes unpadded base64url of exactly `N` bytes.
///
/// # Errors
/// [`DecodeError::TooLarge`] (far too long), [`DecodeError::Encoding`],
/// [`DecodeError::Length`].
pub fn decode_array<const N: usize>(text: &str) -> Result<[u8; N], DecodeError> {
    decode_at_most(text, N)?
        .try_into()
        .map_err(|_| DecodeError::Length)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_without_padding() {
        assert_eq!(encode(&[0xfb, 0xff]), "-_8");
        assert_eq!(decode("-_8"), Ok(vec![0xfb, 0xff]));
        assert_eq!(decode("-_8="), Err(DecodeError::Encoding));
        assert_eq!(decode("+/8"), Err(DecodeError::Encoding));
        assert_eq!(decode(""), Ok(vec![]));
    }

    #[test]
    fn lengths() {
        let text = encode(&[7; 32]);
        assert_eq!(decode_array::<32>(&text), Ok([7; 32]));
        assert_eq!(decode_array::<31>(&text), Err(DecodeError::Length));
        assert_eq!(decode_array::<16>(&text), Err(DecodeError::TooLarge));
        assert_eq!(decode_at_most(&text, 32), Ok(vec![7; 32]));
        assert_eq!(decode_at_most(&text, 30), Err(DecodeError::TooLarge));
    }
}
