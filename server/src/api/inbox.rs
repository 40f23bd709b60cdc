//! The administrators' inbox over HTTP (spec/API.md, "Inbox"), and the list items that ticket
//! lists answer. The listing is [`crate::inbox`]'s.

use std::sync::Arc;

use axum::extract::State;
use sealdesk_wire::b64;
use sealdesk_wire::inbox::{InboxAnswer, InboxFilter, InboxQuery};
use sealdesk_wire::tickets::TicketListItem;

use super::extract::{Bearer, Json, Query};
use super::tickets::ticket_status;
use crate::error::ApiResult;
use crate::inbox::{self, Filter, Summary};
use crate::sessions;
use crate::state::AppState;

/// The answer's form of `summary`: metadata only; `with_assignee` (the inbox) adds
/// `assigned_to` (a key id in base64url, or `null`), which an account's list leaves out.
pub(super) fn list_item(summary: &Summary, with_assignee: bool) -> TicketListItem {
    TicketListItem {
        ticket_id: summary.ticket_id.to_hex(),
        status: ticket_status(summary.status),
        answered: summary.answered,
        created_at: summary.created_at,
        last_activity: summary.last_activity,
        conversation_seq: summary.conversation_seq,
        assigned_to: with_assignee.then(|| summary.assigned_to.as_ref().map(|k| b64::encode(k))),
    }
}

/// `GET /api/v1/inbox?status=open|closed|waiting|on_hold|unanswered&page=N`: ticket metadata for
/// administrators, up to 50 a page, newest activity first.
pub async fn inbox(
    State(state): State<Arc<AppState>>,
    Query(query): Query<InboxQuery>,
    bearer: Bearer,
) -> ApiResult<Json<InboxAnswer>> {
    sessions::administrator_session(&state, bearer.token()).await?;
    let filter = match query.status {
        None => Filter::All,
        Some(InboxFilter::Open) => Filter::Open,
        Some(InboxFilter::Closed) => Filter::Closed,
        Some(InboxFilter::Waiting) => Filter::Waiting,
        Some(InboxFilter::OnHold) => Filter::OnHold,
        Some(InboxFilter::Unanswered) => Filter::Unanswered,
    };
    let (tickets, more) = inbox::page(&state, filter, query.page)?;
    Ok(Json(InboxAnswer {
        tickets: tickets.iter().map(|t| list_item(t, true)).collect(),
        more,
    }))
}
