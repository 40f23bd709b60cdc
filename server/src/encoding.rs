//! Encodings at the server's edges: byte fields of JSON bodies, decoded with
//! [`sealdesk_wire::b64`] under size limits and answered with the API's error codes
//! (spec/API.md, "Conventions"), ticket ids in paths, and records stored as JSON.

use axum::http::StatusCode;
use sealdesk_wire::b64::{self, DecodeError};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::{ApiError, ApiResult};
use crate::storage::StoreError;

/// The answer to a base64url field `field` of at most (or, for `bad_length`, exactly) `max`
/// bytes that does not decode: `400 too_large`, `400 bad_encoding` or `400 bad_length`, each
/// naming the field.
fn field_error(field: &str, error: DecodeError, max: usize) -> ApiError {
    match error {
        DecodeError::TooLarge => ApiError::bad_request(
            "too_large",
            format!("The field {field} is larger than {max} bytes."),
        ),
        DecodeError::Encoding => ApiError::bad_request(
            "bad_encoding",
            format!("The field {field} is not unpadded base64url."),
        ),
        DecodeError::Length => ApiError::bad_request(
            "bad_length",
            format!("The field {field} must be {max} bytes."),
        ),
    }
}

/// Decodes the JSON field `field`, refusing more than `max` decoded bytes (before decoding).
///
/// # Errors
/// `400 too_large`, `400 bad_encoding`.
pub fn from_b64(field: &str, text: &str, max: usize) -> ApiResult<Vec<u8>> {
    b64::decode_at_most(text, max).map_err(|e| field_error(field, e, max))
}

/// Decodes a field that must be exactly `N` bytes.
///
/// # Errors
/// `400 too_large` (far too long), `400 bad_encoding`, `400 bad_length`.
pub fn from_b64_array<const N: usize>(field: &str, text: &str) -> ApiResult<[u8; N]> {
    b64::decode_array::<N>(text).map_err(|e| field_error(field, e, N))
}

/// Parses a 32-character hex ticket id from a path.
///
/// # Errors
/// `404 not_found` (a malformed id names no ticket).
pub fn ticket_id(text: &str) -> ApiResult<[u8; 16]> {
    sealdesk_crypto::TicketId::from_hex(text)
        .map(|id| id.0)
        .map_err(|_| ApiError::not_found("ticket"))
}

/// A record as stored: compact JSON.
///
/// # Errors
/// `500 storage` (no stored record type fails to serialize).
pub fn to_record<T: Serialize>(value: &T) -> ApiResult<Vec<u8>> {
    serde_json::to_vec(value).map_err(|e| StoreError::Backend(e.to_string()).into())
}

/// A stored record read back; `what` names it in the log and the answer ("attachment
/// record").
///
/// # Errors
/// `500 storage` ("A stored {what} is damaged; nothing was changed.") if it does not decode.
pub fn from_record<T: DeserializeOwned>(bytes: &[u8], what: &str) -> ApiResult<T> {
    serde_json::from_slice(bytes).map_err(|_| {
        tracing::error!("a stored {what} does not decode");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "storage",
            format!("A stored {what} is damaged; nothing was changed."),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_answer_the_api_codes() {
        let code = |e: ApiError| (e.status, e.code);
        assert_eq!(from_b64("x", "AAEC", 3).unwrap(), vec![0, 1, 2]);
        assert_eq!(
            code(from_b64("x", "AAECAw", 3).unwrap_err()),
            (StatusCode::BAD_REQUEST, "too_large".to_owned())
        );
        assert_eq!(
            code(from_b64("x", "AA=", 3).unwrap_err()),
            (StatusCode::BAD_REQUEST, "bad_encoding".to_owned())
        );
        assert_eq!(
            code(from_b64_array::<4>("x", "AAEC").unwrap_err()),
            (StatusCode::BAD_REQUEST, "bad_length".to_owned())
        );
        let error = from_b64_array::<2>("salt", "AAEC").unwrap_err();
        assert_eq!(error.message, "The field salt must be 2 bytes.");
        assert_eq!(from_b64_array::<3>("x", "AAEC").unwrap(), [0, 1, 2]);
    }

    #[test]
    fn records_round_trip_and_damage_is_a_storage_error() {
        let bytes = to_record(&vec![1u8, 2]).unwrap();
        assert_eq!(from_record::<Vec<u8>>(&bytes, "list").unwrap(), vec![1, 2]);
        let error = from_record::<Vec<u8>>(b"{", "list").unwrap_err();
        assert_eq!(
            (error.status, error.code.as_str()),
            (StatusCode::INTERNAL_SERVER_ERROR, "storage")
        );
    }
}
