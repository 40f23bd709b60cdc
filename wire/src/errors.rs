//! The body of every refusal (spec/API.md, "Errors").

use serde::{Deserialize, Serialize};

/// `{"error": "<code>", "message": "<a sentence for people>"}`, the body of every 4xx and
/// 5xx answer. Reading it, a missing member is empty (a client falls back to its own words).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// The stable code, such as `not_found` or `transcript.bad_signature`.
    #[serde(default)]
    pub error: String,
    /// A sentence for people; never carries stored content, tokens or secrets.
    #[serde(default)]
    pub message: String,
}
