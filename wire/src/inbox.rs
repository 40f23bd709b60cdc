//! The administrators' inbox (spec/API.md, "Inbox").

use serde::{Deserialize, Serialize};

use crate::tickets::TicketListItem;

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

/// Query of `GET /api/v1/inbox?status=open|closed|waiting|on_hold|unanswered&page=N`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams), into_params(parameter_in = Query))]
pub struct InboxQuery {
    /// The filter (default: every ticket).
    #[serde(default)]
    pub status: Option<InboxFilter>,
    /// Zero-based page number.
    #[serde(default)]
    pub page: u64,
}

impl InboxQuery {
    /// The path and query of this request: `/api/v1/inbox?page=N[&status=S]`.
    pub fn path(&self) -> String {
        let mut path = format!("/api/v1/inbox?page={}", self.page);
        if let Some(filter) = self.status {
            path.push_str("&status=");
            path.push_str(filter.as_str());
        }
        path
    }
}

/// Answer of `GET /api/v1/inbox`: `{"tickets": [...], "more": true}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct InboxAnswer {
    /// Up to 50 tickets, newest activity first, each with `assigned_to`.
    pub tickets: Vec<TicketListItem>,
    /// Whether further pages follow.
    pub more: bool,
}
