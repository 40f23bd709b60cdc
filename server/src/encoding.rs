//! Byte strings in JSON bodies are unpadded base64url (RFC 4648 §5); this module decodes them
//! with size limits and clear errors.

use base64ct::{Base64UrlUnpadded, Encoding};

use crate::error::ApiError;

/// Encodes bytes for a JSON body.
pub fn b64(bytes: &[u8]) -> String {
    Base64UrlUnpadded::encode_string(bytes)
}

/// Decodes the JSON field `field`, refusing more than `max` decoded bytes.
pub fn from_b64(field: &str, text: &str, max: usize) -> Result<Vec<u8>, ApiError> {
    // 4 characters carry 3 bytes: refuse oversized input before allocating for it.
    if text.len() > max.div_ceil(3) * 4 {
        return Err(ApiError::bad_request(
            "too_large",
            format!("The field {field} is larger than {max} bytes."),
        ));
    }
    Base64UrlUnpadded::decode_vec(text).map_err(|_| {
        ApiError::bad_request(
            "bad_encoding",
            format!("The field {field} is not unpadded base64url."),
        )
    })
}

/// Decodes a field that must be exactly `N` bytes.
pub fn from_b64_array<const N: usize>(field: &str, text: &str) -> Result<[u8; N], ApiError> {
    from_b64(field, text, N)?.try_into().map_err(|_| {
        ApiError::bad_request(
            "bad_length",
            format!("The field {field} must be {N} bytes."),
        )
    })
}

/// Parses a 32-character hex ticket id from a path.
pub fn ticket_id(text: &str) -> Result<[u8; 16], ApiError> {
    sealdesk_crypto::TicketId::from_hex(text)
        .map(|id| id.0)
        .map_err(|_| ApiError::not_found("ticket"))
}
