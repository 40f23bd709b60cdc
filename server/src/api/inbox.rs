//! The administrators' inbox over HTTP (spec/API.md, "Inbox"), and the ticket summaries that
//! ticket lists answer. The listing is [`crate::inbox`]'s.

use std::sync::Arc;

use axum::extract::State;
use serde::{Deserialize, Serialize};

use super::extract::{Bearer, Json, Query};
use crate::encoding::b64;
use crate::error::ApiResult;
use crate::inbox::{self, Filter, Summary};
use crate::sessions;
use crate::state::AppState;
use crate::storage::Status;

/// One ticket in a list: metadata only.
#[derive(Serialize)]
pub struct TicketSummary {
    /// The ticket id (hex).
    pub ticket_id: String,
    /// `open` or `closed`.
    pub status: &'static str,
    /// Whether the last conversation message is an administrator's.
    pub answered: bool,
    /// Unix seconds.
    pub created_at: u64,
    /// Unix seconds of the last message.
    pub last_activity: u64,
    /// The conversation's last seq.
    pub conversation_seq: u64,
    /// In the inbox only: key id (base64url) of the assigned administrator, or `null`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub assigned_to: Option<Option<String>>,
}

impl TicketSummary {
    /// The answer's form of `summary`; `with_assignee` for the inbox.
    pub fn of(summary: &Summary, with_assignee: bool) -> Self {
        TicketSummary {
            ticket_id: summary.ticket_id.to_hex(),
            status: match summary.status {
                Status::Open => "open",
                Status::Closed => "closed",
            },
            answered: summary.answered,
            created_at: summary.created_at,
            last_activity: summary.last_activity,
            conversation_seq: summary.conversation_seq,
            assigned_to: with_assignee.then(|| summary.assigned_to.as_ref().map(|k| b64(k))),
        }
    }
}

/// Which tickets the inbox lists.
#[derive(Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum InboxFilter {
    /// Open tickets.
    Open,
    /// Closed tickets.
    Closed,
    /// Open tickets whose last conversation message is not an administrator's.
    Unanswered,
}

/// Query of `GET /api/v1/inbox`.
#[derive(Deserialize)]
pub struct InboxQuery {
    /// The filter (default: every ticket).
    #[serde(default)]
    pub status: Option<InboxFilter>,
    /// Zero-based page number.
    #[serde(default)]
    pub page: u64,
}

/// Answer of `GET /api/v1/inbox`.
#[derive(Serialize)]
pub struct InboxOut {
    /// Up to 50 tickets, newest activity first.
    pub tickets: Vec<TicketSummary>,
    /// Whether further pages follow.
    pub more: bool,
}

/// `GET /api/v1/inbox?status=open|closed|unanswered&page=N`: ticket metadata for
/// administrators.
pub async fn inbox(
    State(state): State<Arc<AppState>>,
    Query(query): Query<InboxQuery>,
    bearer: Bearer,
) -> ApiResult<Json<InboxOut>> {
    sessions::administrator_session(&state, bearer.token()).await?;
    let filter = match query.status {
        None => Filter::All,
        Some(InboxFilter::Open) => Filter::Open,
        Some(InboxFilter::Closed) => Filter::Closed,
        Some(InboxFilter::Unanswered) => Filter::Unanswered,
    };
    let (tickets, more) = inbox::page(&state, filter, query.page)?;
    Ok(Json(InboxOut {
        tickets: tickets.iter().map(|t| TicketSummary::of(t, true)).collect(),
        more,
    }))
}
