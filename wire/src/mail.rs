//! Mail bodies (spec/API.md, "Mail"): unsubscribing, an administrator's mail preferences and
//! an account's notification address. The server checks the addresses (`bad_email`).

use serde::{Deserialize, Serialize};

/// Answer of `POST /api/v1/unsubscribe/{token}`: `{"unsubscribed": true}`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
pub struct Unsubscribed {
    /// Always `true`: the recipient gets no more of these mails.
    pub unsubscribed: bool,
}

/// Body of `PUT /api/v1/admin/mail` and answer of both its routes: `{"address", "new_tickets",
/// "reporter_replies", "assigned", "recoveries", "digest"}`. An empty `address` turns every
/// mail off (and deletes the preferences). Unknown members are refused.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
#[serde(deny_unknown_fields)]
pub struct AdminMailPreferences {
    /// Where the mails go (at most 254 bytes); empty: no mail.
    #[serde(default)]
    pub address: String,
    /// Mail each new ticket.
    #[serde(default)]
    pub new_tickets: bool,
    /// Mail each reporter's answer.
    #[serde(default)]
    pub reporter_replies: bool,
    /// Mail each ticket assigned to me.
    #[serde(default)]
    pub assigned: bool,
    /// Mail each recovery waiting for approval.
    #[serde(default)]
    pub recoveries: bool,
    /// One digest every `mail_digest_interval_seconds` instead of a mail per event.
    #[serde(default)]
    pub digest: bool,
}

/// Body of `PUT /api/v1/accounts/notifications` and answer of both its routes:
/// `{"address"}`; an empty address stops the account's reply notifications. Unknown members
/// are refused.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
#[serde(deny_unknown_fields)]
pub struct AccountNotifications {
    /// Where reply notifications of the account's tickets go (at most 254 bytes); empty: none.
    #[serde(default)]
    pub address: String,
}
