//! Ticket lists (spec/API.md, "Accounts" and "Inbox"): the administrators' inbox and an
//! account's own tickets, metadata only, one page at a time from the store's indexes
//! ([`crate::storage::Store::list_tickets`]), with keyset cursors and the counts per filter.

use sealdesk_crypto::{ChainState, TicketId};
use sealdesk_wire::b64;
pub use sealdesk_wire::inbox::PAGE_SIZE;

use crate::error::{ApiError, ApiResult};
use crate::sessions::Session;
use crate::state::AppState;
use crate::storage::{
    AssigneeFilter, ListPosition, Order, Status, StatusFilter, TicketCounts, TicketListQuery,
    TicketRecord, TicketSet,
};

/// The version byte that starts every cursor this server makes.
const CURSOR_VERSION: u8 = 1;
/// Bytes of a decoded cursor: version (1) ‖ last_activity (u64, big-endian) ‖ ticket id (16).
const CURSOR_LEN: usize = 25;

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

/// The opaque cursor of `position`: base64url (unpadded) of version `1` ‖ last activity
/// (u64, big-endian) ‖ ticket id (16 bytes), 34 characters (spec/API.md, "Inbox").
pub fn encode_cursor(position: &ListPosition) -> String {
    let mut bytes = Vec::with_capacity(CURSOR_LEN);
    bytes.push(CURSOR_VERSION);
    bytes.extend_from_slice(&position.last_activity.to_be_bytes());
    bytes.extend_from_slice(&position.id);
    b64::encode(&bytes)
}

/// The position a cursor of [`encode_cursor`] names.
///
/// # Errors
/// `400 bad_cursor` for anything else (wrong encoding, length or version).
pub fn decode_cursor(cursor: &str) -> ApiResult<ListPosition> {
    let bad = || {
        ApiError::bad_request(
            "bad_cursor",
            "The cursor is not one this server gave (pass `next_cursor` of the previous page \
             unchanged, or no cursor for the first page).",
        )
    };
    let bytes = b64::decode_array::<CURSOR_LEN>(cursor).map_err(|_| bad())?;
    let (version, rest) = bytes.split_first().ok_or_else(bad)?;
    if *version != CURSOR_VERSION {
        return Err(bad());
    }
    let (last_activity, id) = rest.split_at(8);
    Ok(ListPosition {
        last_activity: u64::from_be_bytes(last_activity.try_into().map_err(|_| bad())?),
        id: id.try_into().map_err(|_| bad())?,
    })
}

/// Where a page starts: after a cursor, or at a numbered page (older clients).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Start {
    /// After this position (the previous page's last ticket).
    After(ListPosition),
    /// At page `n` (zero-based) of [`PAGE_SIZE`] tickets: `n * PAGE_SIZE` tickets skipped.
    Page(u64),
}

impl Start {
    /// The start that `cursor` (decoded) or `page` asks for.
    ///
    /// # Errors
    /// `400 bad_cursor` for a cursor this server did not make, or a cursor with a page other
    /// than 0.
    pub fn parse(cursor: Option<&str>, page: u64) -> ApiResult<Start> {
        match cursor {
            None => Ok(Start::Page(page)),
            Some(_) if page != 0 => Err(ApiError::bad_request(
                "bad_cursor",
                "A cursor continues after the previous page: leave `page` out (or 0) with it.",
            )),
            Some(cursor) => decode_cursor(cursor).map(Start::After),
        }
    }
}

/// One page of a list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Page {
    /// The tickets, in the asked order.
    pub tickets: Vec<Summary>,
    /// Whether further tickets follow.
    pub more: bool,
    /// The cursor of the next page: present exactly when `more` is.
    pub next_cursor: Option<String>,
}

fn page_of(state: &AppState, set: TicketSet, order: Order, start: Start) -> ApiResult<Page> {
    let (after, skip) = match start {
        Start::After(position) => (Some(position), 0),
        Start::Page(page) => (
            None,
            usize::try_from(page)
                .unwrap_or(usize::MAX)
                .saturating_mul(PAGE_SIZE),
        ),
    };
    let found = state.store.list_tickets(&TicketListQuery {
        set,
        order,
        after,
        skip,
        limit: PAGE_SIZE,
    })?;
    let next_cursor = found
        .more
        .then(|| {
            found
                .tickets
                .last()
                .map(|t| encode_cursor(&ListPosition::of(t)))
        })
        .flatten();
    Ok(Page {
        tickets: found.tickets.iter().map(summary).collect(),
        more: next_cursor.is_some(),
        next_cursor,
    })
}

/// A page of the tickets of `session`'s account, newest activity first.
///
/// # Errors
/// Storage failures.
pub fn account_tickets(state: &AppState, session: &Session, start: Start) -> ApiResult<Page> {
    page_of(
        state,
        TicketSet::Account(session.account.account_id.clone()),
        Order::NewestFirst,
        start,
    )
}

/// Which inbox page an administrator asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InboxRequest {
    /// By status.
    pub status: StatusFilter,
    /// By assignee.
    pub assignee: AssigneeFilter,
    /// Newest or oldest activity first.
    pub order: Order,
    /// From where.
    pub start: Start,
}

/// One page of the inbox. The caller checked the administrator's session.
///
/// # Errors
/// Storage failures.
pub fn page(state: &AppState, request: InboxRequest) -> ApiResult<Page> {
    page_of(
        state,
        TicketSet::Inbox {
            status: request.status,
            assignee: request.assignee,
        },
        request.order,
        request.start,
    )
}

/// The number of tickets per inbox filter, `assigned_to_me` for the administrator with key id
/// `me`. The caller checked the administrator's session.
///
/// # Errors
/// Storage failures.
pub fn counts(state: &AppState, me: &[u8; 32]) -> ApiResult<TicketCounts> {
    Ok(state.store.ticket_counts(me)?)
}
