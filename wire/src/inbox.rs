//! The administrators' inbox (spec/API.md, "Inbox"), and the keyset pagination it shares with
//! an account's ticket list (spec/API.md, "Accounts").

use serde::{Deserialize, Serialize};

use crate::tickets::TicketListItem;

/// Tickets per page of the inbox and of an account's ticket list.
pub const PAGE_SIZE: usize = 50;

/// Which tickets the inbox lists: `open`, `closed`, `waiting`, `on_hold` or `unanswered`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum InboxFilter {
    /// Open tickets.
    Open,
    /// Closed tickets.
    Closed,
    /// Tickets waiting for the reporter (PROTOCOL.md §10.3).
    Waiting,
    /// Tickets on hold (PROTOCOL.md §10.3).
    #[serde(rename = "on_hold")]
    OnHold,
    /// Open tickets whose last conversation message is not an administrator's.
    Unanswered,
}

impl InboxFilter {
    /// The query value: `open`, `closed`, `waiting`, `on_hold` or `unanswered`.
    pub fn as_str(self) -> &'static str {
        match self {
            InboxFilter::Open => "open",
            InboxFilter::Closed => "closed",
            InboxFilter::Waiting => "waiting",
            InboxFilter::OnHold => "on_hold",
            InboxFilter::Unanswered => "unanswered",
        }
    }
}

/// Whose tickets the inbox lists: `me` (assigned to the session administrator's key id) or
/// `none` (assigned to nobody).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum InboxAssigned {
    /// Assigned to the administrator whose session asks.
    Me,
    /// Assigned to nobody.
    None,
}

impl InboxAssigned {
    /// The query value: `me` or `none`.
    pub fn as_str(self) -> &'static str {
        match self {
            InboxAssigned::Me => "me",
            InboxAssigned::None => "none",
        }
    }
}

/// The order of a ticket list by last activity: `newest` (the default) or `oldest` first.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum ListOrder {
    /// Newest last activity first.
    #[default]
    Newest,
    /// Oldest last activity first ("oldest waiting" is `status=unanswered&order=oldest`).
    Oldest,
}

impl ListOrder {
    /// The query value: `newest` or `oldest`.
    pub fn as_str(self) -> &'static str {
        match self {
            ListOrder::Newest => "newest",
            ListOrder::Oldest => "oldest",
        }
    }
}

/// Query of `GET /api/v1/inbox?status=…&assigned=me|none&order=newest|oldest&cursor=…&page=N`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams), into_params(parameter_in = Query))]
pub struct InboxQuery {
    /// The filter (default: every ticket).
    #[serde(default)]
    pub status: Option<InboxFilter>,
    /// Only tickets assigned to the session's administrator (`me`) or to nobody (`none`);
    /// default: whoever.
    #[serde(default)]
    pub assigned: Option<InboxAssigned>,
    /// `newest` (default) or `oldest` last activity first.
    #[serde(default)]
    pub order: Option<ListOrder>,
    /// The `next_cursor` of the previous page: the page continues after its last ticket
    /// (keyset pagination). Opaque; a cursor the server did not make is `400 bad_cursor`.
    #[serde(default)]
    pub cursor: Option<String>,
    /// Zero-based page number, for clients older than `cursor` (`0` with a cursor).
    #[serde(default)]
    pub page: u64,
}

impl InboxQuery {
    /// The path and query of this request:
    /// `/api/v1/inbox?page=N[&status=S][&assigned=A][&order=O][&cursor=C]`, the cursor
    /// percent-encoded.
    pub fn path(&self) -> String {
        let mut path = format!("/api/v1/inbox?page={}", self.page);
        if let Some(filter) = self.status {
            path.push_str("&status=");
            path.push_str(filter.as_str());
        }
        if let Some(assigned) = self.assigned {
            path.push_str("&assigned=");
            path.push_str(assigned.as_str());
        }
        if let Some(order) = self.order {
            path.push_str("&order=");
            path.push_str(order.as_str());
        }
        if let Some(cursor) = &self.cursor {
            path.push_str("&cursor=");
            push_percent_encoded(&mut path, cursor);
        }
        path
    }
}

/// Appends `value` to `out` with every byte outside RFC 3986's unreserved characters
/// percent-encoded (a cursor is opaque: whatever the server sent goes back unchanged).
fn push_percent_encoded(out: &mut String, value: &str) {
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
}

/// How many tickets each inbox filter holds, whatever page is asked (answered with every
/// inbox page). `mine` and `unassigned` count tickets that are not closed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct InboxCounts {
    /// Every ticket.
    pub all: u64,
    /// Open tickets.
    pub open: u64,
    /// Closed tickets.
    pub closed: u64,
    /// Tickets waiting for the reporter.
    pub waiting: u64,
    /// Tickets on hold.
    pub on_hold: u64,
    /// Open tickets whose last conversation message is not an administrator's.
    pub unanswered: u64,
    /// Tickets not closed, assigned to the session's administrator.
    pub mine: u64,
    /// Tickets not closed, assigned to nobody.
    pub unassigned: u64,
}

/// Answer of `GET /api/v1/inbox`: `{"tickets": [...], "more": true, "next_cursor": "…",
/// "counts": {...}}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct InboxAnswer {
    /// Up to [`PAGE_SIZE`] tickets in the asked order, each with `assigned_to`.
    pub tickets: Vec<TicketListItem>,
    /// Whether further pages follow.
    pub more: bool,
    /// The `cursor` of the next page (present exactly when `more` is true). Servers older
    /// than cursors do not send it.
    #[serde(default)]
    pub next_cursor: Option<String>,
    /// The number of tickets of each filter. Servers older than counts do not send them.
    #[serde(default)]
    pub counts: InboxCounts,
}

/// Query of `GET /api/v1/accounts/tickets?cursor=…`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams), into_params(parameter_in = Query))]
pub struct AccountTicketsQuery {
    /// The `next_cursor` of the previous page; the first page without it. Opaque; a cursor
    /// the server did not make is `400 bad_cursor`.
    #[serde(default)]
    pub cursor: Option<String>,
}

impl AccountTicketsQuery {
    /// The path and query of this request: `/api/v1/accounts/tickets[?cursor=C]`.
    pub fn path(&self) -> String {
        let mut path = "/api/v1/accounts/tickets".to_owned();
        if let Some(cursor) = &self.cursor {
            path.push_str("?cursor=");
            push_percent_encoded(&mut path, cursor);
        }
        path
    }
}
