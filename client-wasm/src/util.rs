//! Small helpers shared by the client's flows: base64url, request builders, how often a post is
//! retried.

use base64ct::{Base64UrlUnpadded, Encoding};
use serde_json::Value;

use crate::error::{ClientError, Result};
use crate::transport::{Body, Method, Request};

/// How often a post is retried after the server answered that the chain moved on.
pub(crate) const POST_ATTEMPTS: usize = 3;

/// Unpadded base64url (the API's encoding of every byte string).
pub(crate) fn b64(bytes: &[u8]) -> String {
    Base64UrlUnpadded::encode_string(bytes)
}

/// Decodes unpadded base64url from a server answer; `bad_response` naming `what` otherwise.
pub(crate) fn unb64(text: &str, what: &str) -> Result<Vec<u8>> {
    Base64UrlUnpadded::decode_vec(text).map_err(|_| ClientError::bad_response(what))
}

/// Decodes exactly `N` bytes of unpadded base64url from a server answer.
pub(crate) fn unb64_array<const N: usize>(text: &str, what: &str) -> Result<[u8; N]> {
    unb64(text, what)?
        .try_into()
        .map_err(|_| ClientError::bad_response(what))
}

/// A PUT of a JSON body.
pub(crate) fn put(path: impl Into<String>, body: Value) -> Request {
    Request {
        method: Method::Put,
        path: path.into(),
        bearer: None,
        body: Some(Body::Json(body)),
    }
}

/// A DELETE without a body.
pub(crate) fn delete(path: impl Into<String>) -> Request {
    Request {
        method: Method::Delete,
        path: path.into(),
        bearer: None,
        body: None,
    }
}
