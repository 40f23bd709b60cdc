//! The instance's public settings (spec/API.md, "Instance settings"). The server checks their
//! limits (`bad_settings`); these types are their shape only.

use serde::{Deserialize, Serialize};

/// One ticket category and the guidance shown when a reporter picks it:
/// `{"name", "guidance"?}`. Unknown members are refused.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
#[serde(deny_unknown_fields)]
pub struct Category {
    /// The name (1 to 80 characters, unique ignoring letter case).
    pub name: String,
    /// What to include in a ticket of this category (at most 2000 characters, may be empty).
    #[serde(default)]
    pub guidance: String,
    /// The response-time target of this category's tickets, in minutes (1 to
    /// [`MAX_TARGET_MINUTES`]); it overrides the urgency's ([`ResponseTargets`]). Absent: none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_minutes: Option<u32>,
}

/// Response-time targets per urgency, in minutes (each 1 to [`MAX_TARGET_MINUTES`], absent:
/// none): `{"urgent_minutes"?, "normal_minutes"?}`. A ticket's reply is due at the server's
/// receipt time of its oldest unanswered reporter message plus its target: the category's
/// ([`Category::target_minutes`]) when set, else its urgency's (spec/API.md, "Instance
/// settings"). Unknown members are refused.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
#[serde(deny_unknown_fields)]
pub struct ResponseTargets {
    /// Target of tickets the reporter marked urgent, in minutes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub urgent_minutes: Option<u32>,
    /// Target of the other tickets, in minutes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub normal_minutes: Option<u32>,
}

/// The longest response-time target an instance may set, in minutes (30 days).
pub const MAX_TARGET_MINUTES: u32 = 30 * 24 * 60;

/// Body of `PUT /api/v1/settings`, and the settings as stored: `{"categories", "languages",
/// "support_hours", "response_time", "idle_lock_minutes", "response_targets"}`, each optional (default empty). Unknown members are
/// refused.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// Ticket categories, in the order the pages list them (at most 50).
    #[serde(default)]
    pub categories: Vec<Category>,
    /// Languages the administrators answer in, in the order the pages list them (at most 30).
    #[serde(default)]
    pub languages: Vec<String>,
    /// When support is staffed, as free text ("Monday to Friday, 9:00 to 17:00 CET").
    #[serde(default)]
    pub support_hours: String,
    /// The expected response time, as free text ("within one working day").
    #[serde(default)]
    pub response_time: String,
    /// Minutes without a key press, click or touch after which a signed-in panel or support
    /// tab locks and asks for the password again (1 to 1440); absent: 30
    /// ([`DEFAULT_IDLE_LOCK_MINUTES`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idle_lock_minutes: Option<u32>,
    /// Response-time targets per urgency; each category may override them
    /// ([`Category::target_minutes`]). Absent: no targets, no due times.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_targets: Option<ResponseTargets>,
}

/// The idle lock's delay when [`Settings::idle_lock_minutes`] is absent, in minutes.
pub const DEFAULT_IDLE_LOCK_MINUTES: u32 = 30;

/// The longest idle lock delay an instance may set, in minutes (one day).
pub const MAX_IDLE_LOCK_MINUTES: u32 = 1440;

/// Answer of `GET /api/v1/settings` and `PUT /api/v1/settings`: the [`Settings`]' members,
/// then `max_attachment_bytes` and `version`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
pub struct SettingsAnswer {
    /// The stored settings (empty lists and texts until an administrator saves them).
    #[serde(flatten)]
    pub settings: Settings,
    /// Largest attachment the server accepts, in bytes of the encrypted stream.
    pub max_attachment_bytes: u64,
    /// The server's version, for the debug data.
    pub version: String,
    /// Whether this instance sends mail (`smtp_url` is set): the pages offer "Email me when
    /// support answers" only then.
    #[serde(default)]
    pub mail_enabled: bool,
    /// The host origins allowed to frame the support tab (option `embed_origins`), which are
    /// also the only origins whose `postMessage` messages the tab takes (spec/API.md,
    /// "Embedding the support tab"); empty when embedding is off.
    #[serde(default)]
    pub embed_origins: Vec<String>,
}
