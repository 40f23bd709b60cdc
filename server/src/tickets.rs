//! Tickets and their chains (spec/API.md, "Tickets"): open a ticket, append a message, read
//! messages and wraps, and who may read a ticket. Every message is verified against the stored
//! chain state and the directory (PROTOCOL.md §10.2) before it is stored; every wrap of a new
//! epoch is verified (§6.3) and must cover exactly the chain's members at the directory head.

use std::collections::BTreeSet;

use axum::http::StatusCode;
use sealdesk_crypto::{
    AccessToken, Chain, ChainState, ConversationStatus, Directory, KeyId, Kind, MAX_PADDED_LEN,
    Members, Message, PUBLIC_IDENTITY_LEN, PublicIdentity, Role, TAG_LEN, TicketId, WRAP_LEN,
    WrappedKey,
};

use crate::clock::now;
use crate::encoding::{from_b64, from_b64_array, ticket_id};
use crate::error::{ApiError, ApiResult};
use crate::instance_secret;
use crate::mail::outbox::{self, MailKind};
use crate::mail::{preferences, subscriptions};
use crate::services::events::Notification;
use crate::services::holds::Holds;
use crate::services::rate_limits::PostKey;
use crate::sessions::{self, Session};
use crate::state::AppState;
use crate::storage::{Owner, RecordKind, Status, StoredMessage, TicketRecord, WrapRecord};

/// Largest encoded message: header, length, padded content and tag, signature.
const MAX_MESSAGE_LEN: usize = sealdesk_crypto::HEADER_LEN + 4 + MAX_PADDED_LEN + TAG_LEN + 64;
/// Most wraps in one request (one per member of a chain).
const MAX_WRAPS: usize = 256;
/// Most messages answered by one read.
pub const MAX_PAGE: usize = 200;

/// A new ticket as sent (`POST /api/v1/tickets` and `POST /api/v1/tickets/account`): byte
/// fields in base64url.
pub struct NewTicket<'a> {
    /// The reporter's public identity (64 bytes).
    pub reporter: &'a str,
    /// The first conversation message (epoch 0, seq 1), signed by the reporter.
    pub message: &'a str,
    /// The epoch-0 conversation key wrapped for the reporter and every current administrator.
    pub wraps: &'a [String],
    /// Optional address for "resend access link" (only a keyed hash is stored).
    pub notify_email: Option<String>,
}

/// Opens a ticket owned by `session`'s account: `ticket.reporter` must be the account's
/// identity.
///
/// # Errors
/// `wrong_reporter`, `429 too_many_open_tickets` when the account already has
/// `max_open_tickets_per_account` open tickets, `429 too_many_requests` while another
/// creation of the account is in progress, and those of [`open`].
pub async fn open_for_account(
    state: &AppState,
    session: Session,
    ticket: NewTicket<'_>,
) -> ApiResult<TicketId> {
    let reporter = from_b64("reporter", ticket.reporter, PUBLIC_IDENTITY_LEN)?;
    if reporter != session.account.identity {
        return Err(ApiError::bad_request(
            "wrong_reporter",
            "An account's ticket is opened with the account's own identity.",
        ));
    }
    // One creation per account at a time: two at once could both count the same open tickets.
    let _creating = Holds::try_hold(
        &state.creations_by_account,
        session.account.account_id.clone(),
        1,
    )
    .ok_or_else(|| {
        ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_requests",
            "Another ticket of this account is being created; wait for it to finish.",
        )
    })?;
    let cap = state.limits.max_open_tickets_per_account;
    if cap != 0 {
        let open_tickets = state
            .store
            .open_tickets_of_account(&session.account.account_id)?;
        if open_tickets >= u64::try_from(cap).unwrap_or(u64::MAX) {
            return Err(ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "too_many_open_tickets",
                format!(
                    "This account has {open_tickets} open tickets, the most this instance \
                     allows; wait until one is closed."
                ),
            ));
        }
    }
    let owner = Owner::Account {
        account_id: session.account.account_id,
    };
    open(state, owner, ticket).await
}

/// Verifies and stores a new ticket owned by `owner` (anonymous or an account's) and returns
/// its id.
///
/// # Errors
/// `507 storage_full` past `max_data_bytes`, `conflict`, `no_administrators`,
/// `wraps_incomplete`, `quota_exceeded`, `transcript.<fault>`, `wrap.<fault>`, field errors,
/// storage failures.
pub async fn open(state: &AppState, owner: Owner, ticket: NewTicket<'_>) -> ApiResult<TicketId> {
    state.check_storage_budget()?;
    let reporter_bytes = from_b64("reporter", ticket.reporter, 64)?;
    let reporter = PublicIdentity::from_bytes(&reporter_bytes)
        .map_err(|e| ApiError::rejected(&e, "reporter key"))?;
    // "Email me when support answers": the address is kept (with its keyed lookup) only
    // while the ticket is open and the reporter subscribed (crate::mail::subscriptions).
    // With mail off the address is not kept at all (the pages do not offer it; an older
    // client that sends it loses nothing, since nothing would be mailed).
    // A malformed address is refused either way.
    let notify_address = match ticket.notify_email {
        Some(email) => {
            Some(subscriptions::validate_address(&email)?).filter(|_| state.mail.is_some())
        }
        None => None,
    };
    let email_lookup = match &notify_address {
        Some(address) => Some(instance_secret::email_lookup(state, address).await?),
        None => None,
    };
    let message_bytes = from_b64("message", ticket.message, MAX_MESSAGE_LEN)?;
    let message =
        Message::from_bytes(&message_bytes).map_err(|e| ApiError::rejected(&e, "message"))?;
    let wraps = decode_wraps(ticket.wraps)?;

    let id = message.header.ticket_id;
    let members = Members::new(id, reporter);
    let directory_guard = state.directory.read().await;
    let directory = directory_guard.as_ref().ok_or_else(no_administrators)?;
    let mut conversation = ChainState::new(id, Chain::Conversation);
    verify_next(&mut conversation, &message, &members, directory)?;
    check_epoch_wraps(&conversation, 0, &wraps, &members, directory)?;

    let stored_bytes = (message_bytes.len() + wraps.len() * WRAP_LEN) as u64;
    if stored_bytes > state.limits.ticket_quota_bytes {
        return Err(quota_exceeded());
    }
    let time = now();
    let record = TicketRecord {
        id: id.0,
        reporter: reporter_bytes,
        endorsements: Vec::new(),
        kept_by: Vec::new(),
        owner,
        created_at: time,
        last_activity: time,
        status: Status::Open,
        answered: false,
        assigned_to: None,
        email_lookup,
        chain_states: [
            conversation.to_bytes(),
            ChainState::new(id, Chain::Notes).to_bytes(),
        ],
        storage_bytes: stored_bytes,
    };
    let first = StoredMessage {
        seq: 1,
        received_at: time,
        bytes: message_bytes,
    };
    // The mails this creation causes are queued in the same write.
    let mut mail_writes = match (&record.owner, notify_address) {
        (Owner::Anonymous { .. }, Some(address)) => {
            subscriptions::subscribe_ticket_writes(&id.0, address, time)?
        }
        _ => Vec::new(),
    };
    mail_writes.extend(preferences::admin_mail_writes(
        state,
        MailKind::AdminNewTicket,
        Some(id.0),
        None,
        time,
    )?);
    state
        .store
        .create_ticket_with(&record, &first, &wrap_records(&wraps), &mail_writes)?;
    drop(directory_guard);
    state.commit().await?;
    if !mail_writes.is_empty() {
        outbox::wake(state);
    }
    state.metrics.ticket_created();
    state.events.publish(Notification {
        ticket: id.0,
        chain: 0,
        seq: 1,
    });
    tracing::info!(ticket = %id.to_hex(), "ticket created");
    Ok(id)
}

/// Appends a verified message to ticket `id` (hex) and returns its chain and seq. A reporter
/// authorises with the ticket's access token or its account's session (`token`); an
/// administrator's signature (checked against the directory head) is its authorisation. A
/// reporter key's endorse message (grounds `0x02`, PROTOCOL.md §8.2) comes with the session of
/// the account whose identity it endorses, and adds the ticket to that account's list
/// ([`TicketRecord::kept_by`]).
///
/// # Errors
/// `unauthorized`, `conflict`, `unexpected_wraps`, `rate_limited`, `quota_exceeded`,
/// `keep_needs_account` (a reporter key's endorse message without the session of the account
/// it names), `transcript.<fault>`, `wrap.<fault>`, field errors, storage failures.
pub async fn post(
    state: &AppState,
    id: &str,
    token: Option<&AccessToken>,
    message: &str,
    wraps: &[String],
    endorsed: Option<&str>,
) -> ApiResult<(Chain, u64)> {
    let id = ticket_id(id)?;
    let message_bytes = from_b64("message", message, MAX_MESSAGE_LEN)?;
    let message =
        Message::from_bytes(&message_bytes).map_err(|e| ApiError::rejected(&e, "message"))?;
    let wraps = decode_wraps(wraps)?;
    let endorsed = endorsed_key(&message, endorsed)?;
    if message.header.ticket_id.0 != id {
        return Err(ApiError::bad_request(
            "wrong_ticket",
            "The message belongs to another ticket.",
        ));
    }

    // Looked up before the lock is taken, so that random ids never enter the lock map.
    if state.store.ticket(&id)?.is_none() {
        return Err(ApiError::not_found("ticket"));
    }
    let lock = state.ticket_lock(id);
    let _serialised = lock.lock().await;
    let mut record = state
        .store
        .ticket(&id)?
        .ok_or_else(|| ApiError::not_found("ticket"))?;
    let directory_guard = state.directory.read().await;
    let directory = directory_guard.as_ref().ok_or_else(no_administrators)?;
    let members = members_of(&record)?;
    let chain = message.header.chain;
    let sender_is_admin = directory
        .admin_at(directory.head_seq(), &message.header.sender)
        .is_some();
    // Keeping the ticket in an account (PROTOCOL.md §8.2 grounds 0x02): the reporter's client
    // posts its endorse message of the account's identity with that account's session, so no
    // one can put a ticket into another person's list.
    let keeping = match &endorsed {
        Some(endorsed) => sessions::session(state, token)?.filter(|session| {
            sessions::identity_of(session).is_ok_and(|identity| identity == *endorsed)
        }),
        None => None,
    };
    if !sender_is_admin
        && keeping.is_none()
        && !bearer_matches(token, &record)
        && !recovered_reader_matches(state, token, &record)?
        && !sessions::session_owns(state, token, &record)?
    {
        return Err(ApiError::unauthorized());
    }

    let slot = usize::from(chain.to_u8());
    let mut chain_state =
        ChainState::from_bytes(&record.chain_states[slot]).map_err(|_| corrupt_record())?;
    if message.header.seq <= chain_state.last_seq() {
        return Err(ApiError::conflict(
            "A message was posted at this position first; read the new messages and retry.",
        ));
    }
    let epoch_before = chain_state.epoch();
    // Role before the push: a message may not change who its sender is, but an endorse
    // message is judged against the keys before it.
    let role = chain_state
        .member_at(
            &members,
            directory,
            message.header.dir_seq,
            &message.header.sender,
        )
        .map(|(_, role)| role);
    // The server cannot read the grounds; a reporter key's endorse message is accepted only
    // to keep the ticket in the signed-in account whose key it names.
    if message.header.kind == Kind::Endorse && role == Some(Role::Reporter) && keeping.is_none() {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "keep_needs_account",
            "A reporter's endorse message adds the key of the signed-in account only: post it \
             with the session of the account whose identity it names.",
        ));
    }
    verify_next(&mut chain_state, &message, &members, directory)?;
    let opened = chain_state.epoch() != epoch_before;
    match (opened, wraps.is_empty()) {
        (true, _) => check_epoch_wraps(
            &chain_state,
            message.header.epoch,
            &wraps,
            &members,
            directory,
        )?,
        (false, true) => {}
        (false, false) => {
            return Err(ApiError::bad_request(
                "unexpected_wraps",
                "Wraps accompany only a message that opens a new epoch.",
            ));
        }
    }
    // The wraps of an endorse message that opens an epoch go to the members before it; then
    // the key counts. verify_next held the message to the head and to an administrator on
    // the conversation (§10.2 step 10); the server takes the key it cannot read from the body.
    if let Some(endorsed) = endorsed {
        chain_state
            .accept_claimed_endorsement(endorsed)
            .map_err(|e| ApiError::rejected(&e, "endorse message"))?;
    }
    // Counted only now that the signature verified: a forged message naming an
    // administrator cannot spend that administrator's allowance.
    state.rate_limits.post(&PostKey::of(
        sender_is_admin,
        &message.header.sender,
        &record.owner,
    ))?;

    let added = (message_bytes.len() + wraps.len() * WRAP_LEN) as u64;
    // The quota bounds what the reporter's credential can store; an administrator's verified
    // post is exempt (still counted), so a leaked access token cannot silence the team.
    if !sender_is_admin
        && record.storage_bytes.saturating_add(added) > state.limits.ticket_quota_bytes
    {
        return Err(quota_exceeded());
    }
    let time = now();
    if role == Some(Role::Reporter)
        && let Some(session) = &keeping
        && !session.owns(&record)
    {
        record.kept_by.push(session.account.account_id.clone());
    }
    record.storage_bytes += added;
    record.last_activity = time;
    record.chain_states[slot] = chain_state.to_bytes();
    if chain == Chain::Conversation {
        // An endorse message is no answer to the reporter.
        if message.header.kind != Kind::Endorse {
            record.answered = role == Some(Role::Administrator);
        }
        record.status = match chain_state.status() {
            ConversationStatus::Open => Status::Open,
            ConversationStatus::Closed => Status::Closed,
            ConversationStatus::Waiting => Status::Waiting,
            ConversationStatus::OnHold => Status::OnHold,
        };
    }
    let seq = message.header.seq;
    let stored = StoredMessage {
        seq,
        received_at: time,
        bytes: message_bytes,
    };
    // An administrator's reply (not a note, close or endorsement) notifies the reporter; a
    // reporter's message notifies the administrators who chose it. Queued in the same write.
    let mut mail_writes = Vec::new();
    if chain == Chain::Conversation && message.header.kind == Kind::Message {
        if role == Some(Role::Administrator) {
            mail_writes = subscriptions::reply_notification_writes(state, &record, time)?;
        } else if !sender_is_admin {
            mail_writes = preferences::admin_mail_writes(
                state,
                MailKind::AdminReporterReply,
                Some(id),
                None,
                time,
            )?;
        }
    }
    state.store.append_message_with(
        &record,
        chain.to_u8(),
        &stored,
        &wrap_records(&wraps),
        &mail_writes,
    )?;
    drop(directory_guard);
    state.commit().await?;
    if !mail_writes.is_empty() {
        outbox::wake(state);
    }
    state.metrics.message_posted();
    state.events.publish(Notification {
        ticket: id,
        chain: chain.to_u8(),
        seq,
    });
    Ok((chain, seq))
}

/// Checks that `reader` may read `chain` (0 conversation, 1 notes for administrators only);
/// `404 not_found` otherwise, as for a chain that does not exist.
///
/// # Errors
/// `not_found`.
pub fn check_chain(chain: u8, reader: Reader) -> ApiResult<()> {
    if chain > 1 || (chain == 1 && reader != Reader::Administrator) {
        return Err(ApiError::not_found("chain"));
    }
    Ok(())
}

/// Up to [`MAX_PAGE`] messages of `chain` after seq `after`, in order, and whether more follow;
/// a page stops before the message that would take its message bytes over
/// `Limits::max_page_bytes` (spec/API.md, "Messages": at least one message per page).
///
/// # Errors
/// `not_found` for a chain `reader` may not read; storage failures.
pub fn messages(
    state: &AppState,
    record: &TicketRecord,
    reader: Reader,
    chain: u8,
    after: u64,
) -> ApiResult<(Vec<StoredMessage>, bool)> {
    check_chain(chain, reader)?;
    Ok(state.store.messages_within(
        &record.id,
        chain,
        after,
        MAX_PAGE,
        state.limits.max_page_bytes,
    )?)
}

/// The wraps of `chain` addressed to `recipient` (a key id, base64url), by epoch.
///
/// # Errors
/// `not_found` for a chain `reader` may not read; `missing_recipient`, field errors, storage
/// failures.
pub fn wraps_for(
    state: &AppState,
    record: &TicketRecord,
    reader: Reader,
    chain: u8,
    recipient: Option<&str>,
) -> ApiResult<Vec<WrapRecord>> {
    check_chain(chain, reader)?;
    let recipient = recipient.ok_or_else(|| {
        ApiError::bad_request("missing_recipient", "Give the recipient's key id.")
    })?;
    let recipient = from_b64_array::<32>("recipient", recipient)?;
    Ok(state.store.wraps_for(&record.id, chain, &recipient)?)
}

/// The conversation's last seq.
///
/// # Errors
/// `500 storage` if the stored chain state does not decode.
pub fn conversation_seq(record: &TicketRecord) -> ApiResult<u64> {
    let conversation =
        ChainState::from_bytes(&record.chain_states[0]).map_err(|_| corrupt_record())?;
    Ok(conversation.last_seq())
}

// ---- helpers ----

/// Who reads a ticket.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reader {
    /// The ticket's access token, or a session of the account that owns it.
    Reporter,
    /// A session of an account whose identity is an administrator at the directory head.
    Administrator,
}

/// Loads a ticket the bearer may read: with the ticket's access token, a session of its
/// account, or an administrator's session. An unknown ticket and a wrong token or session
/// both answer 404, so a token holder learns nothing about other tickets.
///
/// # Errors
/// `not_found`, storage failures.
pub async fn authorised_ticket(
    state: &AppState,
    id: &str,
    token: Option<&AccessToken>,
) -> ApiResult<(TicketRecord, Reader)> {
    let id = ticket_id(id)?;
    let record = state
        .store
        .ticket(&id)?
        .ok_or_else(|| ApiError::not_found("ticket"))?;
    if bearer_matches(token, &record) || recovered_reader_matches(state, token, &record)? {
        return Ok((record, Reader::Reporter));
    }
    if let Some(session) = sessions::session(state, token)? {
        let is_admin = state
            .directory
            .read()
            .await
            .as_ref()
            .is_some_and(|directory| session.is_administrator(directory));
        if is_admin {
            return Ok((record, Reader::Administrator));
        }
        if session.owns(&record) {
            return Ok((record, Reader::Reporter));
        }
    }
    Err(ApiError::not_found("ticket"))
}

/// Whether the bearer token is the ticket's access token (compared by hash, in constant time).
fn bearer_matches(token: Option<&AccessToken>, record: &TicketRecord) -> bool {
    let Owner::Anonymous { access_token_hash } = &record.owner else {
        return false;
    };
    token.is_some_and(|token| token.matches_hash(access_token_hash))
}

/// Whether the bearer token is the reader token of an approved recovery of this ticket
/// (spec/API.md, "Recovery"; stored by `crate::recovery` under its hash, with the ticket id as
/// the value). It reads and posts as the ticket's access token does.
///
/// # Errors
/// Storage failures.
fn recovered_reader_matches(
    state: &AppState,
    token: Option<&AccessToken>,
    record: &TicketRecord,
) -> ApiResult<bool> {
    let Some(token) = token else {
        return Ok(false);
    };
    let ticket = state.store.get(RecordKind::RecoveryReader, &token.hash())?;
    Ok(ticket.is_some_and(|id| id == record.id))
}

/// The ticket's first reporter key as [`Members`]; endorsed keys are in the conversation's
/// stored chain state (PROTOCOL.md §8.1, §10.1).
///
/// # Errors
/// `500 storage` if the stored record does not decode.
pub fn members_of(record: &TicketRecord) -> ApiResult<Members> {
    let reporter = PublicIdentity::from_bytes(&record.reporter).map_err(|_| corrupt_record())?;
    Ok(Members::new(TicketId(record.id), reporter))
}

/// The `endorsed` member of a post (spec/API.md, "Endorse messages"): required for an endorse
/// message (kind 8), refused on any other kind, a valid public identity (§4.2).
///
/// # Errors
/// `missing_endorsed`, `unexpected_endorsed`, field errors, `invalid_public_key`.
fn endorsed_key(message: &Message, endorsed: Option<&str>) -> ApiResult<Option<PublicIdentity>> {
    match (message.header.kind == Kind::Endorse, endorsed) {
        (true, None) => Err(ApiError::bad_request(
            "missing_endorsed",
            "An endorse message carries the endorsed key as \"endorsed\".",
        )),
        (false, Some(_)) => Err(ApiError::bad_request(
            "unexpected_endorsed",
            "Only an endorse message carries \"endorsed\".",
        )),
        (false, None) => Ok(None),
        (true, Some(text)) => {
            let bytes = from_b64_array::<PUBLIC_IDENTITY_LEN>("endorsed", text)?;
            PublicIdentity::from_bytes(&bytes)
                .map(Some)
                .map_err(|e| ApiError::rejected(&e, "endorsed key"))
        }
    }
}

/// Verifies `message` as the next of `chain_state` (PROTOCOL.md §10.2) and that it was
/// written against the directory head: the server refuses stale `dir_seq`, which closes the
/// backdating window of §10.2.
fn verify_next(
    chain_state: &mut ChainState,
    message: &Message,
    members: &Members,
    directory: &Directory,
) -> ApiResult<()> {
    if message.header.dir_seq != directory.head_seq() {
        return Err(ApiError::conflict(
            "The administrator directory changed; read it again and re-seal the message.",
        ));
    }
    chain_state
        .push(message, members, directory)
        .map_err(|fault| {
            let error = sealdesk_crypto::Error::Transcript {
                index: 0,
                seq: message.header.seq,
                fault,
            };
            ApiError::rejected(&error, "message")
        })
}

/// Checks the wraps that accompany the message opening `epoch`: each verifies (§6.3), and
/// together they go to exactly the chain's members at the head, once each.
fn check_epoch_wraps(
    chain_state: &ChainState,
    epoch: u32,
    wraps: &[WrappedKey],
    members: &Members,
    directory: &Directory,
) -> ApiResult<()> {
    let head = directory.head_seq();
    let mut expected: BTreeSet<KeyId> = directory
        .admins_at(head)
        .iter()
        .map(|admin| admin.key_id())
        .collect();
    if chain_state.chain() == Chain::Conversation {
        expected.insert(members.reporter().key_id());
        expected.extend(chain_state.reporters().iter().map(PublicIdentity::key_id));
    }
    let mut seen = BTreeSet::new();
    for wrap in wraps {
        if wrap.context.epoch != epoch || wrap.context.chain != chain_state.chain() {
            return Err(ApiError::bad_request(
                "wrong_epoch",
                "Every wrap must be for the epoch and chain the message opens.",
            ));
        }
        wrap.verify(members, directory, chain_state)
            .map_err(|e| ApiError::rejected(&e, "wrapped key"))?;
        if !seen.insert(wrap.context.recipient) {
            return Err(ApiError::bad_request(
                "duplicate_wrap",
                "Two wraps for the same member.",
            ));
        }
    }
    if seen != expected {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "wraps_incomplete",
            "The new epoch's key must be wrapped for exactly the chain's current members.",
        ));
    }
    Ok(())
}

/// Decodes the wraps of a request (base64url, at most 256).
///
/// # Errors
/// `too_many_wraps`, field errors, `wrap.<fault>` for a wrap that does not decode.
pub fn decode_wraps(encoded: &[String]) -> ApiResult<Vec<WrappedKey>> {
    if encoded.len() > MAX_WRAPS {
        return Err(ApiError::bad_request(
            "too_many_wraps",
            "Too many wraps in one request.",
        ));
    }
    encoded
        .iter()
        .map(|text| {
            let bytes = from_b64("wraps", text, WRAP_LEN)?;
            WrappedKey::from_bytes(&bytes).map_err(|e| ApiError::rejected(&e, "wrapped key"))
        })
        .collect()
}

/// The stored form of wraps.
pub fn wrap_records(wraps: &[WrappedKey]) -> Vec<WrapRecord> {
    wraps
        .iter()
        .map(|w| WrapRecord {
            chain: w.context.chain.to_u8(),
            epoch: w.context.epoch,
            recipient: w.context.recipient.0,
            bytes: w.to_bytes(),
        })
        .collect()
}

/// `409 no_administrators`: nothing can be encrypted before the first administrator exists.
pub fn no_administrators() -> ApiError {
    ApiError::new(
        StatusCode::CONFLICT,
        "no_administrators",
        "This instance has no administrator yet, so tickets cannot be encrypted to anyone.",
    )
}

fn quota_exceeded() -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "quota_exceeded",
        "This ticket has reached its storage quota.",
    )
}

/// `500 storage` for a stored ticket record that does not decode (logged).
pub fn corrupt_record() -> ApiError {
    tracing::error!("a stored ticket record does not decode");
    ApiError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "storage",
        "A stored ticket record is damaged; nothing was changed.",
    )
}
