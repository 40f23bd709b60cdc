//! Small helpers shared by the client's flows: base64url of server answers, how often a post
//! is retried.

use crate::error::{ClientError, Result};

/// Unpadded base64url (the API's encoding of every byte string): the wire crate's.
pub(crate) use sealdesk_wire::b64::encode as b64;

/// How often a post is retried after the server answered that the chain moved on.
pub(crate) const POST_ATTEMPTS: usize = 3;

/// Decodes a byte field of a server answer; `bad_response` naming `what` otherwise.
pub(crate) fn unb64(text: &str, what: &str) -> Result<Vec<u8>> {
    sealdesk_wire::b64::decode(text).map_err(|_| ClientError::bad_response(what))
}

/// Decodes a byte field of exactly `N` bytes of a server answer; `bad_response` otherwise.
pub(crate) fn unb64_array<const N: usize>(text: &str, what: &str) -> Result<[u8; N]> {
    sealdesk_wire::b64::decode_array(text).map_err(|_| ClientError::bad_response(what))
}
