//! Tickets: creation, messages, wraps, metadata (spec/API.md, "Tickets").

use serde::{Deserialize, Deserializer, Serialize};

use crate::pow::ProofOfWork;

/// Body of `POST /api/v1/tickets` (an anonymous ticket): `{"reporter", "access_token_hash",
/// "message", "wraps", "notify_email"?, "pow"?}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreateTicketBody {
    /// The reporter's public identity (64 bytes, base64url), derived from the ticket secret.
    pub reporter: String,
    /// `token_hash` of the access token (32 bytes, base64url, PROTOCOL.md §11).
    pub access_token_hash: String,
    /// The first conversation message (epoch 0, seq 1), signed by the reporter (base64url).
    pub message: String,
    /// The epoch-0 conversation key wrapped for the reporter and every current administrator
    /// (base64url each).
    pub wraps: Vec<String>,
    /// Optional address for "resend access link" (the server keeps only a keyed hash);
    /// written as `null` when absent.
    #[serde(default)]
    pub notify_email: Option<String>,
    /// The solved proof-of-work challenge, required when the instance asks for one; left out
    /// when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pow: Option<ProofOfWork>,
}

/// Body of `POST /api/v1/tickets/account`: as [`CreateTicketBody`] without the access token:
/// `{"reporter", "message", "wraps", "notify_email"?, "pow"?}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreateAccountTicketBody {
    /// The account's public identity (64 bytes, base64url; must be the session's).
    pub reporter: String,
    /// The first conversation message (epoch 0, seq 1), signed by the account's identity.
    pub message: String,
    /// The epoch-0 conversation key wrapped for the account and every current administrator.
    pub wraps: Vec<String>,
    /// Optional address for "resend access link"; written as `null` when absent.
    #[serde(default)]
    pub notify_email: Option<String>,
    /// The solved proof-of-work challenge, required when the instance asks for one for
    /// account tickets too (`400 pow_required` otherwise); left out when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pow: Option<ProofOfWork>,
}

/// Answer of both creations: `{"ticket_id": "<hex>"}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TicketCreated {
    /// The ticket id, 32 lowercase hexadecimal characters.
    pub ticket_id: String,
}

/// Body of `POST /api/v1/tickets/{id}/messages`: `{"message", "wraps", "endorsed"?}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PostMessageBody {
    /// The next message of its chain (base64url).
    pub message: String,
    /// When the message opens an epoch: the new key wrapped for every member of the chain;
    /// empty otherwise (and when absent).
    #[serde(default)]
    pub wraps: Vec<String>,
    /// With an endorse message (kind 8, PROTOCOL.md §8.2) only, and then required: the
    /// endorsed public identity in clear (64 bytes, base64url), for the server, which cannot
    /// read the content. Left out on every other kind.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endorsed: Option<String>,
}

/// Answer of a posted message: `{"chain": 0, "seq": 4}`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MessagePosted {
    /// The chain (0 conversation, 1 notes).
    pub chain: u8,
    /// The message's position.
    pub seq: u64,
}

/// Query of `GET /api/v1/tickets/{id}/messages?chain=0&after=N` and
/// `GET /api/v1/tickets/{id}/wraps?chain=0&recipient=<key id>`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams), into_params(parameter_in = Query))]
pub struct ChainQuery {
    /// 0 conversation (default), 1 notes (administrators only).
    #[serde(default)]
    pub chain: u8,
    /// Messages after this seq (default 0: from the first).
    #[serde(default)]
    pub after: u64,
    /// For wraps: the recipient's key id (32 bytes, base64url).
    #[serde(default)]
    pub recipient: Option<String>,
}

/// One message of [`MessagesAnswer`]: `{"seq", "received_at", "message"}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MessageItem {
    /// Position on its chain.
    pub seq: u64,
    /// Unix seconds when the server accepted it.
    pub received_at: u64,
    /// The encoded message (base64url).
    pub message: String,
}

/// Answer of `GET /api/v1/tickets/{id}/messages`: `{"messages": [...], "more": false}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MessagesAnswer {
    /// Up to 200 messages after `after`, in order.
    pub messages: Vec<MessageItem>,
    /// Whether more messages follow.
    pub more: bool,
}

/// Answer of `GET /api/v1/tickets/{id}/wraps`: `{"wraps": [...]}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WrapsAnswer {
    /// Encoded wrapped keys (238 bytes each, base64url) addressed to the recipient, by epoch.
    pub wraps: Vec<String>,
}

/// A ticket's status as the server lists it (PROTOCOL.md §10.3): `"open"`, `"closed"`,
/// `"waiting"` (for the reporter) or `"on_hold"`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum TicketStatus {
    /// `"open"`.
    Open,
    /// `"closed"`.
    Closed,
    /// `"waiting"`: waiting for the reporter.
    Waiting,
    /// `"on_hold"`.
    #[serde(rename = "on_hold")]
    OnHold,
}

/// Answer of `GET /api/v1/tickets/{id}`: `{"ticket_id", "reporter", "status", "created_at",
/// "last_activity", "conversation_seq"}`. Endorsed reporter keys are not listed: they are
/// endorse messages on the conversation (PROTOCOL.md §8.2).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TicketAnswer {
    /// The ticket id (hex).
    pub ticket_id: String,
    /// The first reporter key (64 bytes, base64url).
    pub reporter: String,
    /// Open or closed.
    pub status: TicketStatus,
    /// Unix seconds.
    pub created_at: u64,
    /// Unix seconds of the last message.
    pub last_activity: u64,
    /// The conversation's last seq.
    pub conversation_seq: u64,
}

/// One ticket of a list (`GET /api/v1/accounts/tickets`, `GET /api/v1/inbox`): metadata
/// only, `{"ticket_id", "status", "answered", "created_at", "last_activity",
/// "conversation_seq", "assigned_to"?}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TicketListItem {
    /// The ticket id (hex).
    pub ticket_id: String,
    /// Open or closed.
    pub status: TicketStatus,
    /// Whether the last conversation message is an administrator's.
    pub answered: bool,
    /// Unix seconds.
    pub created_at: u64,
    /// Unix seconds of the last message.
    pub last_activity: u64,
    /// The conversation's last seq.
    pub conversation_seq: u64,
    /// In the inbox only (`Some`): key id (base64url) of the assigned administrator, or
    /// `null`. Absent from an account's list (`None`).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub assigned_to: Option<Option<String>>,
}

/// A member that is present, even as `null`, is `Some` (a missing one is the `default`).
fn present<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(deserializer).map(Some)
}
