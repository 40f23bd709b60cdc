//! The administrators' inbox over HTTP (spec/API.md, "Inbox"), and the list items that ticket
//! lists answer. The listing is [`crate::inbox`]'s.

use std::sync::Arc;

use axum::extract::State;
use sealdesk_wire::b64;
use sealdesk_wire::inbox::{
    InboxAnswer, InboxAssigned, InboxCounts, InboxFilter, InboxQuery, ListOrder,
};
use sealdesk_wire::tickets::TicketListItem;

use super::extract::{Bearer, Json, Query};
use super::tickets::ticket_status;
use crate::error::ApiResult;
use crate::inbox::{self, InboxRequest, Start, Summary};
use crate::sessions;
use crate::state::AppState;
use crate::storage::{AssigneeFilter, Order, StatusFilter};

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

/// `GET /api/v1/inbox?status=open|closed|waiting|on_hold|unanswered&assigned=me|none&order=newest|oldest&cursor=C&page=N`:
/// ticket metadata for administrators, up to 50 a page, from the store's indexes, with the
/// cursor of the next page and the counts per filter. `400 bad_cursor` for a cursor this
/// server did not make.
pub async fn inbox(
    State(state): State<Arc<AppState>>,
    Query(query): Query<InboxQuery>,
    bearer: Bearer,
) -> ApiResult<Json<InboxAnswer>> {
    let (_, identity) = sessions::administrator_session(&state, bearer.token()).await?;
    let me = identity.key_id().0;
    let status = match query.status {
        None => StatusFilter::All,
        Some(InboxFilter::Open) => StatusFilter::Open,
        Some(InboxFilter::Closed) => StatusFilter::Closed,
        Some(InboxFilter::Waiting) => StatusFilter::Waiting,
        Some(InboxFilter::OnHold) => StatusFilter::OnHold,
        Some(InboxFilter::Unanswered) => StatusFilter::Unanswered,
    };
    let assignee = match query.assigned {
        None => AssigneeFilter::Any,
        Some(InboxAssigned::Me) => AssigneeFilter::To(me),
        Some(InboxAssigned::None) => AssigneeFilter::Unassigned,
    };
    let order = match query.order.unwrap_or_default() {
        ListOrder::Newest => Order::NewestFirst,
        ListOrder::Oldest => Order::OldestFirst,
    };
    let start = Start::parse(query.cursor.as_deref(), query.page)?;
    let page = inbox::page(
        &state,
        InboxRequest {
            status,
            assignee,
            order,
            start,
        },
    )?;
    let counts = inbox::counts(&state, &me)?;
    Ok(Json(InboxAnswer {
        tickets: page.tickets.iter().map(|t| list_item(t, true)).collect(),
        more: page.more,
        next_cursor: page.next_cursor,
        counts: InboxCounts {
            all: counts.all,
            open: counts.open,
            closed: counts.closed,
            waiting: counts.waiting,
            on_hold: counts.on_hold,
            unanswered: counts.unanswered,
            mine: counts.assigned_to_me,
            unassigned: counts.unassigned,
        },
    }))
}
