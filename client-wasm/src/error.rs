//! The client's error: a stable code (exported to JavaScript as the `code` of an `Error`) and a
//! sentence. Verification failures keep the crypto crate's codes (`transcript.bad_signature`,
//! `directory.fork`, ...); server refusals are `server.<code>`; transport failures `network`.

use core::fmt;

/// Every failure of the client.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientError {
    /// Stable machine-readable code.
    pub code: String,
    /// A sentence for people.
    pub message: String,
    /// The HTTP status, for server refusals.
    pub status: Option<u16>,
}

impl ClientError {
    /// An error with a code and a message.
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> Self {
        ClientError {
            code: code.into(),
            message: message.into(),
            status: None,
        }
    }

    /// The network failed or the server could not be reached.
    pub fn network(message: impl Into<String>) -> Self {
        Self::new("network", message)
    }

    /// The server answered something this client cannot read (a protocol violation by the
    /// server, shown as a warning).
    pub fn bad_response(what: &str) -> Self {
        Self::new(
            "bad_response",
            format!("The server's answer to {what} is not valid."),
        )
    }

    /// Whether the server answered 409 (re-read and retry).
    pub fn is_conflict(&self) -> bool {
        self.status == Some(409)
    }
}

impl From<sealdesk_crypto::Error> for ClientError {
    fn from(error: sealdesk_crypto::Error) -> Self {
        ClientError::new(error.code(), error.to_string())
    }
}

impl fmt::Display for ClientError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.message, self.code)
    }
}

impl std::error::Error for ClientError {}

/// Shorthand for client results.
pub type Result<T> = core::result::Result<T, ClientError>;
