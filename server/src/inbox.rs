//! Ticket lists (spec/API.md, "Accounts" and "Inbox"): the administrators' inbox and an
//! account's own tickets, metadata only, newest activity first.

use sealdesk_crypto::{ChainState, TicketId};

use crate::error::ApiResult;
use crate::sessions::Session;
use crate::state::AppState;
use crate::storage::{Status, TicketRecord};

/// Inbox page size.
pub const INBOX_PAGE: usize = 50;

/// Which tickets the inbox lists.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Filter {
    /// Every ticket.
    All,
    /// Open tickets.
    Open,
    /// Closed tickets.
    Closed,
    /// Tickets waiting for the reporter.
    Waiting,
    /// Tickets on hold.
    OnHold,
    /// Open tickets whose last conversation message is not an administrator's.
    Unanswered,
}

/// One ticket in a list: metadata only.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Summary {
    /// The ticket id.
    pub ticket_id: TicketId,
    /// Open, closed, waiting or on hold.
    pub status: Status,
    /// Whether the last conversation message is an administrator's.
    pub answered: bool,
    /// Unix seconds.
    pub created_at: u64,
    /// Unix seconds of the last message.
    pub last_activity: u64,
    /// The conversation's last seq (0 if the stored chain state does not decode, logged).
    pub conversation_seq: u64,
    /// Key id of the assigned administrator.
    pub assigned_to: Option<[u8; 32]>,
}

fn summary(record: &TicketRecord) -> Summary {
    let conversation_seq = ChainState::from_bytes(&record.chain_states[0])
        .map(|state| state.last_seq())
        .unwrap_or_else(|_| {
            tracing::error!("a stored ticket record does not decode");
            0
        });
    Summary {
        ticket_id: TicketId(record.id),
        status: record.status,
        answered: record.answered,
        created_at: record.created_at,
        last_activity: record.last_activity,
        conversation_seq,
        assigned_to: record.assigned_to,
    }
}

/// Newest activity first; ties by id, so pages are stable.
fn newest_first(tickets: &mut [TicketRecord]) {
    tickets.sort_by(|a, b| {
        b.last_activity
            .cmp(&a.last_activity)
            .then_with(|| a.id.cmp(&b.id))
    });
}

/// The tickets of `session`'s account, newest activity first.
///
/// # Errors
/// Storage failures.
pub fn account_tickets(state: &AppState, session: &Session) -> ApiResult<Vec<Summary>> {
    let mut tickets: Vec<TicketRecord> = state
        .store
        .tickets()?
        .into_iter()
        .filter(|t| session.owns(t))
        .collect();
    newest_first(&mut tickets);
    Ok(tickets.iter().map(summary).collect())
}

/// Page `page` (zero-based, [`INBOX_PAGE`] tickets) of the inbox under `filter`, newest
/// activity first, and whether further pages follow. The caller checked the administrator's
/// session.
///
/// # Errors
/// Storage failures.
pub fn page(state: &AppState, filter: Filter, page: u64) -> ApiResult<(Vec<Summary>, bool)> {
    let mut tickets: Vec<TicketRecord> = state
        .store
        .tickets()?
        .into_iter()
        .filter(|t| match filter {
            Filter::All => true,
            Filter::Open => t.status == Status::Open,
            Filter::Closed => t.status == Status::Closed,
            Filter::Waiting => t.status == Status::Waiting,
            Filter::OnHold => t.status == Status::OnHold,
            Filter::Unanswered => t.status == Status::Open && !t.answered,
        })
        .collect();
    newest_first(&mut tickets);
    let skip = usize::try_from(page)
        .unwrap_or(usize::MAX)
        .saturating_mul(INBOX_PAGE);
    let more = tickets.len() > skip.saturating_add(INBOX_PAGE);
    Ok((
        tickets
            .iter()
            .skip(skip)
            .take(INBOX_PAGE)
            .map(summary)
            .collect(),
        more,
    ))
}
