//! Encrypted attachments (spec/API.md, "Attachments"; PROTOCOL.md §13). Chunks and downloads
//! are raw `application/octet-stream` bytes; only the declaration is JSON.

use serde::{Deserialize, Serialize};

/// Body of `POST /api/v1/tickets/{id}/attachments`: `{"size": 150064}`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeclareAttachmentBody {
    /// Bytes of the encrypted stream (`sealdesk_crypto::encrypted_len` of the file's size).
    pub size: u64,
}

/// Answer of a declared upload: `{"attachment_id": "<32 hex characters>"}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AttachmentDeclared {
    /// The attachment id: 16 random bytes, 32 lowercase hexadecimal characters.
    pub attachment_id: String,
}
