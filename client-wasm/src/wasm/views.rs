//! What the pages show, as typed values: verified messages, a conversation, an administrator's
//! ticket (with its notes, debug data and attachments), ticket lists, the inbox, the team and
//! the results of team changes. Each is a `Serialize` struct whose JSON is what the exports
//! resolve to (spec names, snake_case); on wasm32 each also derives `Tsify`, so the package's
//! `sealdesk_client.d.ts` declares it and `web/js` is type-checked against it. No view carries a
//! key: an attachment's view has no `key`, and the page downloads by `seq`.

use std::collections::BTreeMap;

use base64ct::{Base64UrlUnpadded, Encoding};
use sealdesk_crypto::{
    Chain, ConversationStatus, EndorseGrounds, KeyId, Kind, PublicIdentity, TicketId, encrypted_len,
};
use serde::Serialize;
use serde_json::Value;

use super::input::{PinnedHead, key_id_text};
use crate::account::TicketSummary;
use crate::admin::{
    AdminTicket, Approval, History, InboxItem, InboxPage, Invite, Pending, Redemption, Removal,
    TeamMember,
};
use crate::content::Content;
use crate::error::ClientError;
use crate::reporter::{ReporterTicket, Shown};

/// The name of a kind in the views: `message`, `debug_data`, `attachment`, `close`,
/// `reopen`, `internal_note`, `rotate`, `endorse`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
#[serde(rename_all = "snake_case")]
pub enum KindName {
    /// A conversation message (kind 1).
    Message,
    /// Debug data (kind 2).
    DebugData,
    /// An attachment reference (kind 3).
    Attachment,
    /// A close (kind 4).
    Close,
    /// A reopen (kind 5).
    Reopen,
    /// An internal note (kind 6).
    InternalNote,
    /// A key rotation (kind 7).
    Rotate,
    /// A further reporter key endorsed by an administrator (kind 8, PROTOCOL.md §8.2): "a
    /// new device was added for the reporter".
    Endorse,
    /// Waiting for the reporter (kind 9, PROTOCOL.md §10.3).
    Waiting,
    /// On hold (kind 10, PROTOCOL.md §10.3).
    OnHold,
    /// The ticket's tags (kind 11, PROTOCOL.md §14), on the notes chain.
    Tags,
}

/// A ticket's status in the views (PROTOCOL.md §10.3): `"open"`, `"closed"`, `"waiting"`
/// (for the reporter) or `"on_hold"`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
#[serde(rename_all = "snake_case")]
pub enum StatusName {
    /// Open.
    Open,
    /// Closed.
    Closed,
    /// Waiting for the reporter.
    Waiting,
    /// On hold.
    OnHold,
}

impl StatusName {
    /// The view's name of `status`.
    pub fn of(status: ConversationStatus) -> Self {
        match status {
            ConversationStatus::Open => StatusName::Open,
            ConversationStatus::Closed => StatusName::Closed,
            ConversationStatus::Waiting => StatusName::Waiting,
            ConversationStatus::OnHold => StatusName::OnHold,
        }
    }
}

impl KindName {
    /// The view's name of `kind`.
    pub fn of(kind: Kind) -> Self {
        match kind {
            Kind::Message => KindName::Message,
            Kind::DebugData => KindName::DebugData,
            Kind::AttachmentRef => KindName::Attachment,
            Kind::Close => KindName::Close,
            Kind::Reopen => KindName::Reopen,
            Kind::InternalNote => KindName::InternalNote,
            Kind::Rotate => KindName::Rotate,
            Kind::Endorse => KindName::Endorse,
            Kind::Waiting => KindName::Waiting,
            Kind::OnHold => KindName::OnHold,
            Kind::Tags => KindName::Tags,
        }
    }

    /// The name as a string (`"message"`, `"debug_data"`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            KindName::Message => "message",
            KindName::DebugData => "debug_data",
            KindName::Attachment => "attachment",
            KindName::Close => "close",
            KindName::Reopen => "reopen",
            KindName::InternalNote => "internal_note",
            KindName::Rotate => "rotate",
            KindName::Endorse => "endorse",
            KindName::Waiting => "waiting",
            KindName::OnHold => "on_hold",
            KindName::Tags => "tags",
        }
    }
}

/// The name of a kind in the views ([`KindName::as_str`]).
pub fn kind_name(kind: Kind) -> &'static str {
    KindName::of(kind).as_str()
}

/// Declares a view whose members are all optional: a member that is `None` is absent from
/// the JSON (and optional, `?`, in the TypeScript declaration).
macro_rules! all_optional {
    ($(#[$meta:meta])* pub struct $name:ident { $($(#[$member:meta])* $field:ident: $ty:ty,)* }) => {
        $(#[$meta])*
        pub struct $name {
            $($(#[$member])* #[serde(skip_serializing_if = "Option::is_none")] pub $field: Option<$ty>,)*
        }
    };
}

all_optional! {
    /// A message's content as the page shows it: PROTOCOL.md §14's JSON of its kind, except
    /// that an attachment reference has no `key`. One type for every kind (the members a kind
    /// does not have are absent): `text`, `sent_at`, `author`, and on a first message
    /// `subject`, `category`, `urgent` (present only when true), `name`, `email`; `fields` for
    /// debug data; `attachment_id`, `name`, `type`, `size`, `encrypted_size` (bytes) for an
    /// attachment; nothing for a rotation; `endorsed`, `fingerprint`, `endorser_fingerprint`,
    /// `grounds` for an endorsement. Times are Unix seconds, the sender's claim.
    #[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
    #[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
    pub struct ContentView {
        /// A message's or note's text.
        text: String,
        /// The sender's clock, Unix seconds.
        sent_at: u64,
        /// The display name an administrator signed with.
        author: String,
        /// First message: the subject.
        subject: String,
        /// First message: the category.
        category: String,
        /// First message: `true` when marked urgent (absent otherwise).
        urgent: bool,
        /// First message: the name the reporter typed; an attachment's file name.
        name: String,
        /// First message: the email the reporter typed.
        email: String,
        /// Debug data: field name → value.
        #[cfg_attr(target_arch = "wasm32", tsify(type = "Record<string, string>"))]
        fields: BTreeMap<String, String>,
        /// An attachment's id, 32 hexadecimal characters.
        attachment_id: String,
        /// An attachment's MIME type.
        #[serde(rename = "type")]
        mime_type: String,
        /// An attachment's size, plaintext bytes.
        size: u64,
        /// An attachment's encrypted stream, bytes (PROTOCOL.md §13).
        encrypted_size: u64,
        /// An endorsement: the endorsed key's id (32 bytes, unpadded base64url).
        endorsed: String,
        /// An endorsement: the endorsed key's fingerprint (PROTOCOL.md §4.3, 35 characters).
        fingerprint: String,
        /// An endorsement: the endorser's fingerprint (the message's sender).
        endorser_fingerprint: String,
        /// A tags message: the ticket's whole tag set after it (PROTOCOL.md §14).
        tags: Vec<String>,
        /// An endorsement's grounds (PROTOCOL.md §8.2): `administrator` (`0x01`, a new device
        /// of the reporter added by an administrator) or `reporter` (`0x02`, the reporter added
        /// its own second key: the ticket was added to an account).
        grounds: String,
    }
}

impl ContentView {
    /// The view of `content`.
    pub fn of(content: &Content) -> Self {
        match content {
            Content::Message(text) | Content::InternalNote(text) => ContentView {
                text: Some(text.text.clone()),
                sent_at: Some(text.sent_at),
                author: text.author.clone(),
                subject: text.subject.clone(),
                category: text.category.clone(),
                urgent: text.urgent.then_some(true),
                name: text.name.clone(),
                email: text.email.clone(),
                ..ContentView::default()
            },
            Content::DebugData(data) => ContentView {
                fields: Some(data.fields.clone()),
                sent_at: Some(data.sent_at),
                ..ContentView::default()
            },
            Content::AttachmentRef(reference) => ContentView {
                attachment_id: Some(reference.attachment_id.clone()),
                name: Some(reference.name.clone()),
                mime_type: Some(reference.mime_type.clone()),
                size: Some(reference.size),
                encrypted_size: Some(reference.encrypted_size),
                sent_at: Some(reference.sent_at),
                ..ContentView::default()
            },
            Content::Close(change)
            | Content::Reopen(change)
            | Content::Waiting(change)
            | Content::OnHold(change) => ContentView {
                sent_at: Some(change.sent_at),
                author: change.author.clone(),
                ..ContentView::default()
            },
            Content::Tags(set) => ContentView {
                tags: Some(set.tags.clone()),
                sent_at: Some(set.sent_at),
                author: set.author.clone(),
                ..ContentView::default()
            },
            Content::Rotate => ContentView::default(),
            Content::Endorse(endorse) => {
                let key_id = endorse.endorsed.key_id();
                ContentView {
                    endorsed: Some(Base64UrlUnpadded::encode_string(&key_id.0)),
                    fingerprint: Some(key_id.fingerprint()),
                    grounds: Some(
                        match endorse.grounds {
                            EndorseGrounds::Administrator => "administrator",
                            EndorseGrounds::Reporter => "reporter",
                        }
                        .to_string(),
                    ),
                    ..ContentView::default()
                }
            }
        }
    }
}

/// [`ContentView::of`] as a JSON value (the command-line client's `--json` output).
pub fn content_view(content: &Content) -> Value {
    serde_json::to_value(ContentView::of(content)).unwrap_or(Value::Null)
}

/// An error as the views carry it: `{code, message}` ([`ClientError`]'s stable code).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
pub struct ErrorView {
    /// The stable code (client-wasm/README.md, *Errors*).
    pub code: String,
    /// A sentence for people.
    pub message: String,
}

impl ErrorView {
    /// The view of `error`.
    pub fn of(error: &ClientError) -> Self {
        ErrorView {
            code: error.code.clone(),
            message: error.message.clone(),
        }
    }
}

/// [`ErrorView::of`] as a JSON value (the command-line client's `--json` output).
pub fn error_view(error: &ClientError) -> Value {
    serde_json::to_value(ErrorView::of(error)).unwrap_or(Value::Null)
}

/// A verified message as the page shows it. `content` is `null`, and `error` says why, when
/// the content cannot be read (the message itself is verified: show a warning in its place).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
pub struct MessageView {
    /// Position in its chain, from 1.
    pub seq: u64,
    /// When the server stored it, Unix seconds; 0 for a message this page just sent.
    pub received_at: u64,
    /// The sender's key id (32 bytes, unpadded base64url).
    pub sender: String,
    /// Whether an administrator sent it.
    pub from_support: bool,
    /// The message's kind.
    pub kind: KindName,
    /// The content ([`ContentView`]), or `null` when it cannot be read.
    pub content: Option<ContentView>,
    /// Why the content cannot be read (`content.unreadable`, `wrap.missing`,
    /// `decryption_failed`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorView>,
}

/// The view of a verified message ([`MessageView`]).
pub fn message_view(shown: &Shown) -> MessageView {
    let (content, error) = match &shown.content {
        Ok(content) => {
            let mut view = ContentView::of(content);
            if shown.kind == Kind::Endorse {
                view.endorser_fingerprint = Some(shown.sender.fingerprint());
            }
            (Some(view), None)
        }
        Err(error) => (None, Some(ErrorView::of(error))),
    };
    MessageView {
        seq: shown.seq,
        received_at: shown.received_at,
        sender: Base64UrlUnpadded::encode_string(&shown.sender.0),
        from_support: shown.from_support,
        kind: KindName::of(shown.kind),
        content,
        error,
    }
}

/// An identity as the views show it, the fingerprint computed here (PROTOCOL.md §4.3).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
pub struct IdentityView {
    /// The key id (32 bytes, unpadded base64url).
    pub key_id: String,
    /// The fingerprint, groups of digits.
    pub fingerprint: String,
}

/// The view of an identity ([`IdentityView`]).
pub fn identity_view(identity: &PublicIdentity) -> IdentityView {
    IdentityView {
        key_id: key_id_text(&identity.key_id()),
        fingerprint: identity.fingerprint(),
    }
}

/// Debug data or an attachment gathered from an administrator's ticket: its content
/// ([`ContentView`]: `fields` and `sent_at`, or the attachment's members without its key) and
/// the position of its message, by which the page downloads an attachment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
pub struct GatheredView {
    /// The message's position in the conversation.
    pub seq: u64,
    /// Its content.
    #[serde(flatten)]
    pub content: ContentView,
}

/// A ticket as the page shows it. Every ticket has `ticket_id`, `closed`, `status` and
/// `messages`; an
/// administrator's adds `reporter`, `opening` (`null` when the first message cannot be read),
/// `notes` (the internal notes), and, gathered from the conversation, `debug_data` and
/// `attachments`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
pub struct TicketView {
    /// 32 hexadecimal characters.
    pub ticket_id: String,
    /// Whether the ticket is closed.
    pub closed: bool,
    /// The status after the verified conversation (PROTOCOL.md §10.3).
    pub status: StatusName,
    /// The conversation, verified.
    pub messages: Vec<MessageView>,
    /// Administrators: the reporter's key.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reporter: Option<IdentityView>,
    /// Administrators: the first message's content, `null` when it cannot be read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub opening: Option<Option<ContentView>>,
    /// Administrators: the internal notes, verified.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notes: Option<Vec<MessageView>>,
    /// Administrators: the debug data of the conversation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub debug_data: Option<Vec<GatheredView>>,
    /// Administrators: the attachments of the conversation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attachments: Option<Vec<GatheredView>>,
    /// Administrators: the ticket's tags, those of the last readable tags message of the
    /// notes (PROTOCOL.md §14, *Tags*); empty before the first.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tags: Option<Vec<String>>,
}

/// A conversation as the page shows it (an anonymous reporter's or an account holder's
/// ticket): [`TicketView`] without the administrators' members.
pub fn conversation_view(
    ticket_id: TicketId,
    status: ConversationStatus,
    messages: &[Shown],
) -> TicketView {
    TicketView {
        ticket_id: ticket_id.to_hex(),
        closed: status == ConversationStatus::Closed,
        status: StatusName::of(status),
        messages: messages.iter().map(message_view).collect(),
        reporter: None,
        opening: None,
        notes: None,
        debug_data: None,
        attachments: None,
        tags: None,
    }
}

/// An anonymous ticket as the page shows it ([`conversation_view`]).
pub fn ticket_view(ticket: &ReporterTicket) -> TicketView {
    conversation_view(ticket.link().ticket_id(), ticket.status(), &ticket.messages)
}

/// How many messages support sent after `after` (the last seq the person saw): messages,
/// attachments, closes and reopens by an administrator, not key rotations nor endorsements. The
/// badge of the support tab.
pub fn unread_answers(messages: &[Shown], after: u64) -> usize {
    messages
        .iter()
        .filter(|m| {
            m.seq > after && m.from_support && !matches!(m.kind, Kind::Rotate | Kind::Endorse)
        })
        .count()
}

/// The largest file (plaintext bytes) whose encrypted stream (`encrypted_len`, PROTOCOL.md
/// §13) fits in `max_encrypted` bytes, the instance's `max_attachment_bytes`: what the pages
/// announce as the limit per file. 0 when not even an empty file fits.
pub fn largest_attachment(max_encrypted: u64) -> u64 {
    let fits = |n: u64| encrypted_len(n).is_some_and(|len| len <= max_encrypted);
    if !fits(0) {
        return 0;
    }
    // The largest n that fits: encrypted_len grows with n.
    let (mut low, mut high) = (0, max_encrypted);
    while low < high {
        let middle = low + (high - low).div_ceil(2);
        if fits(middle) {
            low = middle;
        } else {
            high = middle - 1;
        }
    }
    low
}

/// An administrator's ticket as the panel shows it ([`TicketView`] with every member).
pub fn admin_ticket_view(ticket: &AdminTicket) -> TicketView {
    admin_view(
        ticket.ticket_id(),
        ticket.status(),
        ticket.reporter(),
        &ticket.messages,
        &ticket.notes,
    )
}

/// [`admin_ticket_view`] from its parts.
pub fn admin_view(
    ticket_id: TicketId,
    status: ConversationStatus,
    reporter: &PublicIdentity,
    messages: &[Shown],
    notes: &[Shown],
) -> TicketView {
    let opening = match messages.first().map(|m| &m.content) {
        Some(Ok(content @ Content::Message(_))) => Some(ContentView::of(content)),
        _ => None,
    };
    let gathered = |kind: Kind| -> Vec<GatheredView> {
        messages
            .iter()
            .filter_map(|m| match &m.content {
                Ok(content) if content.kind() == kind => Some(GatheredView {
                    seq: m.seq,
                    content: ContentView::of(content),
                }),
                _ => None,
            })
            .collect()
    };
    TicketView {
        reporter: Some(identity_view(reporter)),
        opening: Some(opening),
        notes: Some(notes.iter().map(message_view).collect()),
        debug_data: Some(gathered(Kind::DebugData)),
        attachments: Some(gathered(Kind::AttachmentRef)),
        tags: Some(current_tags(notes)),
        ..conversation_view(ticket_id, status, messages)
    }
}

/// A ticket's tags: those of the last readable tags message of its `notes` (PROTOCOL.md §14,
/// *Tags*: an unreadable one leaves them as they were), empty before the first.
pub fn current_tags(notes: &[Shown]) -> Vec<String> {
    notes
        .iter()
        .rev()
        .find_map(|m| match &m.content {
            Ok(Content::Tags(set)) => Some(set.tags.clone()),
            _ => None,
        })
        .unwrap_or_default()
}

/// A ticket in a list, as the server describes it (unsigned metadata). In the inbox
/// ([`InboxItemView`]) it also has `assigned_to`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
pub struct SummaryView {
    /// 32 hexadecimal characters.
    pub ticket_id: String,
    /// Whether the ticket is closed.
    pub closed: bool,
    /// The status the server lists (PROTOCOL.md §10.3).
    pub status: StatusName,
    /// Whether an administrator answered since the reporter last wrote.
    pub answered: bool,
    /// Unix seconds.
    pub created_at: u64,
    /// Unix seconds.
    pub last_activity: u64,
    /// The conversation's last seq.
    pub conversation_seq: u64,
}

/// The view of a ticket in a list ([`SummaryView`]).
pub fn summary_view(summary: &TicketSummary) -> SummaryView {
    SummaryView {
        ticket_id: summary.ticket_id.to_hex(),
        closed: summary.closed,
        status: StatusName::of(summary.status),
        answered: summary.answered,
        created_at: summary.created_at,
        last_activity: summary.last_activity,
        conversation_seq: summary.conversation_seq,
    }
}

/// An inbox entry: the summary ([`SummaryView`]'s members), the assignee, and the verified
/// and decrypted first message (`opening`), or `null` and `error` when the ticket cannot be
/// read.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
pub struct InboxItemView {
    /// The server's metadata.
    #[serde(flatten)]
    pub summary: SummaryView,
    /// The assignee's key id, or `null`.
    pub assigned_to: Option<String>,
    /// The first message's content, or `null` when the ticket cannot be read.
    pub opening: Option<ContentView>,
    /// Why the ticket cannot be read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorView>,
    /// The conversation's last message or attachment, or `null` when there is none or the
    /// ticket cannot be read.
    pub last: Option<LastMessageView>,
    /// Server receipt time (Unix seconds) of the oldest reporter message not answered yet, or
    /// `null` when the team wrote last (the start of the reply's due time).
    pub waiting_since: Option<u64>,
}

/// The inbox's preview of a conversation's last message: `{from_support, preview,
/// received_at}` (its first line, at most 140 characters, or `Attachment: name`; Unix seconds).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
pub struct LastMessageView {
    /// Whether an administrator sent it.
    pub from_support: bool,
    /// The first non-empty line, or `Attachment: name`.
    pub preview: String,
    /// Server receipt time, Unix seconds.
    pub received_at: u64,
}

/// The view of an inbox entry ([`InboxItemView`]).
pub fn inbox_item_view(item: &InboxItem) -> InboxItemView {
    let (opening, error) = match &item.opening {
        Ok(text) => (Some(ContentView::of(&Content::Message(text.clone()))), None),
        Err(error) => (None, Some(ErrorView::of(error))),
    };
    InboxItemView {
        summary: summary_view(&item.summary),
        assigned_to: item.summary.assigned_to.as_ref().map(key_id_text),
        opening,
        error,
        last: item.last.as_ref().map(|last| LastMessageView {
            from_support: last.from_support,
            preview: last.preview.clone(),
            received_at: last.received_at,
        }),
        waiting_since: item.waiting_since,
    }
}

/// One page of the inbox.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
pub struct InboxView {
    /// Up to 50 tickets, in the asked order.
    pub tickets: Vec<InboxItemView>,
    /// Whether another page follows.
    pub more: bool,
    /// The cursor of the next page (pass it to `inbox` as `cursor`), or null.
    pub next_cursor: Option<String>,
    /// The number of tickets per filter.
    pub counts: InboxCountsView,
}

/// The number of tickets per inbox filter (spec/API.md, "Inbox"); `mine` and `unassigned`
/// count tickets not closed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
pub struct InboxCountsView {
    /// Every ticket.
    pub all: u64,
    /// Open.
    pub open: u64,
    /// Closed.
    pub closed: u64,
    /// Waiting for the reporter.
    pub waiting: u64,
    /// On hold.
    pub on_hold: u64,
    /// Open and not answered.
    pub unanswered: u64,
    /// Not closed, assigned to this administrator.
    pub mine: u64,
    /// Not closed, assigned to nobody.
    pub unassigned: u64,
}

/// The view of one page of the inbox ([`InboxView`]).
pub fn inbox_view(page: &InboxPage) -> InboxView {
    let counts = page.counts;
    InboxView {
        tickets: page.tickets.iter().map(inbox_item_view).collect(),
        more: page.more,
        next_cursor: page.next_cursor.clone(),
        counts: InboxCountsView {
            all: counts.all,
            open: counts.open,
            closed: counts.closed,
            waiting: counts.waiting,
            on_hold: counts.on_hold,
            unanswered: counts.unanswered,
            mine: counts.mine,
            unassigned: counts.unassigned,
        },
    }
}

/// A key waiting for approval, its fingerprint computed here.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
pub struct PendingView {
    /// The key id (unpadded base64url).
    pub key_id: String,
    /// Its fingerprint (PROTOCOL.md §4.3).
    pub fingerprint: String,
    /// The account's username.
    pub username: String,
    /// When the invite was redeemed, Unix seconds.
    pub redeemed_at: u64,
}

/// The keys waiting for approval ([`PendingView`]), oldest first.
pub fn pending_view(pending: &[Pending]) -> Vec<PendingView> {
    pending
        .iter()
        .map(|p| PendingView {
            key_id: key_id_text(&p.key_id()),
            fingerprint: p.fingerprint.clone(),
            username: p.username.clone(),
            redeemed_at: p.redeemed_at,
        })
        .collect()
}

/// An administrator of the verified head.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
pub struct TeamMemberView {
    /// The key id (unpadded base64url).
    pub key_id: String,
    /// Its fingerprint (PROTOCOL.md §4.3).
    pub fingerprint: String,
    /// Whether it is the signed-in administrator.
    pub me: bool,
}

/// The administrators of the verified head ([`TeamMemberView`]), in the order they were added.
pub fn team_view(team: &[TeamMember], me: &KeyId) -> Vec<TeamMemberView> {
    team.iter()
        .map(|member| {
            let key_id = member.identity.key_id();
            TeamMemberView {
                key_id: key_id_text(&key_id),
                fingerprint: member.fingerprint.clone(),
                me: key_id == *me,
            }
        })
        .collect()
}

/// A ticket a team change could not handle.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
pub struct FailureView {
    /// 32 hexadecimal characters.
    pub ticket_id: String,
    /// The stable error code.
    pub code: String,
    /// A sentence for people.
    pub message: String,
}

fn failures_view(failures: &[(TicketId, ClientError)]) -> Vec<FailureView> {
    failures
        .iter()
        .map(|(id, error)| FailureView {
            ticket_id: id.to_hex(),
            code: error.code.clone(),
            message: error.message.clone(),
        })
        .collect()
}

/// A chain's name in the views.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
#[serde(rename_all = "snake_case")]
pub enum ChainName {
    /// The conversation with the reporter.
    Conversation,
    /// The administrators' internal notes.
    Notes,
}

impl ChainName {
    fn of(chain: Chain) -> Self {
        match chain {
            Chain::Conversation => ChainName::Conversation,
            Chain::Notes => ChainName::Notes,
        }
    }
}

/// An epoch key the approver does not hold, so could not share.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
pub struct UnavailableView {
    /// 32 hexadecimal characters.
    pub ticket_id: String,
    /// The chain of the epoch.
    pub chain: ChainName,
    /// The epoch, from 0.
    pub epoch: u64,
}

/// What sharing the history with a new administrator did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
pub struct HistoryView {
    /// Tickets looked at.
    pub tickets: u64,
    /// Ticket keys wrapped for the newcomer.
    pub wraps: u64,
    /// Epoch keys that could not be shared.
    pub unavailable: Vec<UnavailableView>,
    /// Tickets that failed.
    pub failures: Vec<FailureView>,
}

/// The view of what sharing the history did ([`HistoryView`]).
pub fn history_view(history: &History) -> HistoryView {
    HistoryView {
        tickets: history.tickets as u64,
        wraps: history.wraps as u64,
        unavailable: history
            .unavailable
            .iter()
            .map(|(id, chain, epoch)| UnavailableView {
                ticket_id: id.to_hex(),
                chain: ChainName::of(*chain),
                epoch: u64::from(*epoch),
            })
            .collect(),
        failures: failures_view(&history.failures),
    }
}

/// What approving did: the `add` entry's head and the history shared.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
pub struct ApprovalView {
    /// The directory head after the `add` entry.
    pub head: PinnedHead,
    /// The ticket keys wrapped for the newcomer.
    pub history: HistoryView,
}

/// The view of an approval ([`ApprovalView`]).
pub fn approval_view(approval: &Approval) -> ApprovalView {
    ApprovalView {
        head: PinnedHead::of(&approval.head),
        history: history_view(&approval.history),
    }
}

/// What removing an administrator did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
pub struct RemovalView {
    /// The directory head after the `remove` entry.
    pub head: PinnedHead,
    /// Open tickets looked at.
    pub tickets: u64,
    /// Chains moved to a new epoch.
    pub rotated: u64,
    /// Tickets that could not be moved now (their next message does it).
    pub failures: Vec<FailureView>,
    /// The error code if the canned replies' team key could not be rotated now (the next
    /// canned reply written does it), else `null`.
    pub team_key_failure: Option<String>,
}

/// The view of a removal ([`RemovalView`]).
pub fn removal_view(removal: &Removal) -> RemovalView {
    RemovalView {
        head: PinnedHead::of(&removal.head),
        tickets: removal.tickets as u64,
        rotated: removal.rotated as u64,
        failures: failures_view(&removal.failures),
        team_key_failure: removal.team_key_failure.as_ref().map(|e| e.code.clone()),
    }
}

/// A redeemed invite: the key and its fingerprint (read it out to the approver).
pub fn redemption_view(redemption: &Redemption) -> IdentityView {
    IdentityView {
        key_id: key_id_text(&redemption.key_id),
        fingerprint: redemption.fingerprint.clone(),
    }
}

/// A new administrator invite.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
pub struct InviteView {
    /// `/admin/invite#<token>`: prefix it with the instance's URL.
    pub link: String,
    /// Unix seconds.
    pub expires_at: u64,
}

/// The view of a new invite ([`InviteView`]).
pub fn invite_view(invite: &Invite) -> InviteView {
    InviteView {
        link: invite.path(),
        expires_at: invite.expires_at,
    }
}

/// What `assign` did: the assignee's key id, or `null` when unassigned.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
pub struct AssignmentView {
    /// The assignee's key id, or `null`.
    pub assigned_to: Option<String>,
}

/// A live notification as `onEvent` receives it: `ready` once the subscription is in place,
/// `message` for a stored message (`chain` 1 is an internal note), `resync` when
/// notifications were missed. Each one means: refresh.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum LiveEvent {
    /// The subscription is in place.
    Ready,
    /// A message was stored.
    Message {
        /// The ticket id, 32 hexadecimal characters.
        ticket: String,
        /// 0: the conversation, 1: the internal notes.
        chain: u8,
        /// The message's seq.
        seq: u64,
    },
    /// Notifications were missed.
    Resync,
}

/// An administrator of the verified directory, as the support pages' "Verify" disclosure
/// lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
pub struct AdministratorView {
    /// The key id (unpadded base64url).
    pub key_id: String,
    /// Its fingerprint (PROTOCOL.md §4.3), 35 characters.
    pub fingerprint: String,
}

/// The verified directory as people check it (PROTOCOL.md §7.6): the instance fingerprint to
/// compare with the one the self-hoster publishes, the head verified, and the current
/// administrators with their fingerprints, in the order they were added.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
pub struct DirectoryView {
    /// The genesis entry's hash in the fingerprint form (PROTOCOL.md §7.6), 35 characters.
    pub instance_fingerprint: String,
    /// The verified head.
    pub head: PinnedHead,
    /// The administrators at the head.
    pub administrators: Vec<AdministratorView>,
}

/// The view of a verified `directory` ([`DirectoryView`]).
pub fn directory_view(directory: &sealdesk_crypto::Directory) -> DirectoryView {
    DirectoryView {
        instance_fingerprint: directory.instance_fingerprint(),
        head: PinnedHead::of(&directory.head()),
        administrators: directory
            .current_admins()
            .into_iter()
            .map(|admin| AdministratorView {
                key_id: key_id_text(&admin.key_id()),
                fingerprint: admin.fingerprint(),
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    //! The views, natively and in headless Chromium.

    use std::collections::BTreeMap;

    use sealdesk_crypto::{DirectoryHead, Identity, system_rng};
    use serde_json::json;

    use super::*;
    use crate::account::TicketSummary;
    use crate::admin::LastMessage;

    // The views as JSON, as the pages receive them.
    fn json(view: impl Serialize) -> Value {
        serde_json::to_value(view).expect("a view is JSON")
    }
    fn message_view(shown: &Shown) -> Value {
        json(super::message_view(shown))
    }
    fn conversation_view(id: TicketId, status: ConversationStatus, messages: &[Shown]) -> Value {
        json(super::conversation_view(id, status, messages))
    }
    fn admin_view(
        id: TicketId,
        status: ConversationStatus,
        reporter: &PublicIdentity,
        messages: &[Shown],
        notes: &[Shown],
    ) -> Value {
        json(super::admin_view(id, status, reporter, messages, notes))
    }
    fn summary_view(summary: &TicketSummary) -> Value {
        json(super::summary_view(summary))
    }
    fn inbox_view(page: &InboxPage) -> Value {
        json(super::inbox_view(page))
    }
    fn pending_view(pending: &[Pending]) -> Value {
        json(super::pending_view(pending))
    }
    fn team_view(team: &[TeamMember], me: &KeyId) -> Value {
        json(super::team_view(team, me))
    }
    fn approval_view(approval: &Approval) -> Value {
        json(super::approval_view(approval))
    }
    fn removal_view(removal: &Removal) -> Value {
        json(super::removal_view(removal))
    }
    fn invite_view(invite: &Invite) -> Value {
        json(super::invite_view(invite))
    }
    fn redemption_view(redemption: &Redemption) -> Value {
        json(super::redemption_view(redemption))
    }
    use crate::content::{AttachmentRef, DebugData, StatusChange, Text};

    fn shown(kind: Kind, content: core::result::Result<Content, ClientError>) -> Shown {
        Shown {
            seq: 3,
            received_at: 1_700_000_000,
            sender: KeyId([1; 32]),
            from_support: true,
            kind,
            content,
        }
    }

    fn text(text: &str) -> Text {
        Text {
            text: text.into(),
            sent_at: 5,
            ..Text::default()
        }
    }

    fn reference() -> AttachmentRef {
        AttachmentRef {
            attachment_id: "0123456789abcdef0123456789abcdef".into(),
            name: "log.txt".into(),
            mime_type: "text/plain".into(),
            size: 150_000,
            encrypted_size: 150_064,
            key: Base64UrlUnpadded::encode_string(&[0xab; 32]),
            sent_at: 6,
        }
    }

    /// Every kind's content survives its encoding (§14) and shows as its JSON.
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn content_round_trips_and_views() {
        let text = Text {
            author: Some("Sam".into()),
            ..text("Hello ✓")
        };
        let contents = [
            Content::Message(text.clone()),
            Content::DebugData(DebugData {
                fields: BTreeMap::from([("time_zone".into(), "Europe/Berlin".into())]),
                sent_at: 7,
            }),
            Content::AttachmentRef(reference()),
            Content::Close(StatusChange::default()),
            Content::Reopen(StatusChange {
                sent_at: 8,
                author: None,
            }),
            Content::InternalNote(text),
            Content::Rotate,
        ];
        for content in contents {
            let bytes = content.to_bytes().expect("encode");
            let parsed = Content::parse(content.kind(), &bytes).expect("parse");
            assert_eq!(parsed, content);
            let view = message_view(&shown(content.kind(), Ok(parsed)));
            assert_eq!(view["kind"], kind_name(content.kind()));
            assert_eq!(view["seq"], 3);
            assert_eq!(view["from_support"], true);
            assert!(view.get("error").is_none());
            let shown_content = &view["content"];
            assert!(shown_content.is_object(), "{view}");
            assert!(shown_content.get("key").is_none(), "no file key in a view");
            if content.kind() != Kind::Rotate {
                // The view is the content's own JSON, less the key.
                let mut json: Value = serde_json::from_slice(&bytes).expect("json");
                if let Some(object) = json.as_object_mut() {
                    object.remove("key");
                }
                assert_eq!(*shown_content, json);
            }
        }
        let view = message_view(&shown(
            Kind::Message,
            Err(ClientError::new("content.unreadable", "No.")),
        ));
        assert_eq!(view["content"], Value::Null);
        assert_eq!(view["error"]["code"], "content.unreadable");
        // A member of the wrong type makes the content unreadable (§14).
        assert_eq!(
            Content::parse(Kind::Message, br#"{"text": 1, "sent_at": 0}"#).map_err(|e| e.code),
            Err("content.unreadable".to_owned())
        );
        // Unknown members are ignored.
        assert!(Content::parse(Kind::Close, br#"{"sent_at": 0, "later": true}"#).is_ok());
    }

    fn at(seq: u64, from_support: bool, content: Content) -> Shown {
        Shown {
            seq,
            received_at: 0,
            sender: KeyId([seq as u8; 32]),
            from_support,
            kind: content.kind(),
            content: Ok(content),
        }
    }

    /// A conversation: opened by the reporter with debug data, answered, an attachment from
    /// support, a rotation, a close.
    fn conversation() -> Vec<Shown> {
        let opening = Text {
            subject: Some("VPN".into()),
            category: Some("Network".into()),
            urgent: true,
            name: Some("Robin".into()),
            ..text("It drops.")
        };
        vec![
            at(1, false, Content::Message(opening)),
            at(
                2,
                false,
                Content::DebugData(DebugData {
                    fields: BTreeMap::from([("platform".into(), "Linux".into())]),
                    sent_at: 5,
                }),
            ),
            at(3, true, Content::Message(text("Which client?"))),
            at(4, true, Content::AttachmentRef(reference())),
            at(5, true, Content::Rotate),
            at(6, false, Content::Message(text("WireGuard."))),
            at(7, true, Content::Close(StatusChange::default())),
        ]
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn unread_answers_count_support_messages_after_the_last_seen() {
        let messages = conversation();
        assert_eq!(unread_answers(&messages, 0), 3, "answer, attachment, close");
        assert_eq!(unread_answers(&messages, 3), 2);
        assert_eq!(unread_answers(&messages, 4), 1, "not the rotation");
        assert_eq!(unread_answers(&messages, 7), 0);
        assert_eq!(unread_answers(&messages, u64::MAX), 0);
        assert_eq!(unread_answers(&[], 0), 0);
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn conversation_and_admin_views() {
        let mut rng = system_rng();
        let id = TicketId::generate(&mut rng);
        let messages = conversation();
        let view = conversation_view(id, ConversationStatus::Closed, &messages);
        assert_eq!(view["ticket_id"], id.to_hex());
        assert_eq!(view["closed"], true);
        assert_eq!(view["status"], "closed");
        let view = conversation_view(id, ConversationStatus::Waiting, &messages);
        assert_eq!(
            (&view["closed"], &view["status"]),
            (&json!(false), &json!("waiting"))
        );
        let view = conversation_view(id, ConversationStatus::OnHold, &messages);
        assert_eq!(view["status"], "on_hold");
        assert_eq!(view["messages"].as_array().map(Vec::len), Some(7));
        assert_eq!(view["messages"][0]["content"]["subject"], "VPN");

        let reporter = Identity::generate(&mut rng).1;
        let notes = vec![at(1, true, Content::InternalNote(text("Known issue.")))];
        let view = admin_view(
            id,
            ConversationStatus::Open,
            reporter.public(),
            &messages,
            &notes,
        );
        assert_eq!(view["reporter"]["key_id"], key_id_text(&reporter.key_id()));
        assert_eq!(
            view["reporter"]["fingerprint"],
            reporter.public().fingerprint()
        );
        assert_eq!(view["opening"]["subject"], "VPN");
        assert_eq!(view["opening"]["category"], "Network");
        assert_eq!(view["opening"]["urgent"], true);
        assert_eq!(view["notes"][0]["kind"], "internal_note");
        assert_eq!(view["notes"][0]["content"]["text"], "Known issue.");
        assert_eq!(view["debug_data"][0]["seq"], 2);
        assert_eq!(view["debug_data"][0]["fields"]["platform"], "Linux");
        assert_eq!(view["attachments"][0]["seq"], 4);
        assert_eq!(view["attachments"][0]["name"], "log.txt");
        assert!(view["attachments"][0].get("key").is_none());
        assert!(
            !view.to_string().contains(&reference().key),
            "no key anywhere"
        );

        // An unreadable first message: no opening, the message shows its error.
        let mut broken = messages;
        broken[0].content = Err(ClientError::new("wrap.missing", "No key."));
        let view = admin_view(
            id,
            ConversationStatus::Open,
            reporter.public(),
            &broken,
            &[],
        );
        assert_eq!(view["opening"], Value::Null);
        assert_eq!(view["messages"][0]["error"]["code"], "wrap.missing");
        assert_eq!(view["notes"], json!([]));
        assert_eq!(view["tags"], json!([]));
    }

    /// PROTOCOL.md §14, *Tags*: the last readable tags message of the notes wins; an
    /// unreadable one leaves the tags as they were.
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn tags_are_the_last_readable_set() {
        let set = |tags: &[&str]| {
            Content::Tags(crate::content::TagSet {
                tags: tags.iter().map(|t| (*t).to_owned()).collect(),
                sent_at: 1,
                author: None,
            })
        };
        let mut notes = vec![
            at(1, true, set(&["billing", "vip"])),
            at(2, true, Content::InternalNote(text("Known issue."))),
            at(3, true, set(&["vip"])),
        ];
        assert_eq!(current_tags(&notes), ["vip"]);
        let mut unreadable = at(4, true, set(&[]));
        unreadable.content = Err(ClientError::new("content.unreadable", "No."));
        notes.push(unreadable);
        assert_eq!(current_tags(&notes), ["vip"]);
        notes.push(at(5, true, set(&[])));
        assert!(current_tags(&notes).is_empty());
        assert!(current_tags(&notes[1..2]).is_empty());
        let view = serde_json::to_value(message_view(&notes[0])).unwrap();
        assert_eq!(view["kind"], "tags");
        assert_eq!(view["content"]["tags"], json!(["billing", "vip"]));
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn lists_and_team_views() {
        let mut rng = system_rng();
        let id = TicketId::generate(&mut rng);
        let summary = TicketSummary {
            ticket_id: id,
            closed: false,
            status: ConversationStatus::Waiting,
            answered: true,
            created_at: 10,
            last_activity: 20,
            conversation_seq: 4,
            assigned_to: Some(KeyId([2; 32])),
        };
        let view = summary_view(&summary);
        assert_eq!(
            view,
            json!({"ticket_id": id.to_hex(), "closed": false, "status": "waiting",
                   "answered": true, "created_at": 10, "last_activity": 20, "conversation_seq": 4})
        );
        let opening = Text {
            subject: Some("VPN".into()),
            ..text("It drops.")
        };
        let page = InboxPage {
            tickets: vec![
                InboxItem {
                    summary: summary.clone(),
                    opening: Ok(opening),
                    last: Some(LastMessage {
                        from_support: false,
                        preview: "Still down.".into(),
                        received_at: 25,
                    }),
                    waiting_since: Some(15),
                },
                InboxItem {
                    summary: TicketSummary {
                        assigned_to: None,
                        ..summary
                    },
                    opening: Err(ClientError::new("transcript.bad_signature", "Altered.")),
                    last: None,
                    waiting_since: None,
                },
            ],
            more: true,
            next_cursor: Some("next".into()),
            counts: crate::admin::InboxCounts {
                all: 5,
                unanswered: 2,
                mine: 1,
                ..Default::default()
            },
        };
        let view = inbox_view(&page);
        assert_eq!(view["more"], true);
        assert_eq!(view["next_cursor"], "next");
        assert_eq!(
            view["counts"],
            json!({"all": 5, "open": 0, "closed": 0, "waiting": 0, "on_hold": 0,
                   "unanswered": 2, "mine": 1, "unassigned": 0})
        );
        assert_eq!(
            view["tickets"][0]["assigned_to"],
            key_id_text(&KeyId([2; 32]))
        );
        assert_eq!(view["tickets"][0]["opening"]["subject"], "VPN");
        assert_eq!(
            view["tickets"][0]["last"],
            json!({"from_support": false, "preview": "Still down.", "received_at": 25})
        );
        assert_eq!(view["tickets"][0]["waiting_since"], 15);
        assert_eq!(view["tickets"][1]["last"], Value::Null);
        assert!(view["tickets"][0].get("error").is_none());
        assert_eq!(view["tickets"][1]["assigned_to"], Value::Null);
        assert_eq!(view["tickets"][1]["opening"], Value::Null);
        assert_eq!(
            view["tickets"][1]["error"]["code"],
            "transcript.bad_signature"
        );

        let [a, b] = [(); 2].map(|()| Identity::generate(&mut rng).1);
        let pending = [Pending {
            identity: b.public().clone(),
            username: "bob".into(),
            redeemed_at: 30,
            fingerprint: b.public().fingerprint(),
        }];
        let view = pending_view(&pending);
        assert_eq!(view[0]["key_id"], key_id_text(&b.key_id()));
        assert_eq!(view[0]["fingerprint"], b.key_id().fingerprint());
        assert_eq!(view[0]["username"], "bob");
        assert_eq!(view[0]["redeemed_at"], 30);
        let team: Vec<TeamMember> = [&a, &b]
            .iter()
            .map(|i| TeamMember {
                identity: i.public().clone(),
                fingerprint: i.public().fingerprint(),
            })
            .collect();
        let view = team_view(&team, &a.key_id());
        assert_eq!(view[0]["me"], true);
        assert_eq!(view[1]["me"], false);
        assert_eq!(view[1]["fingerprint"], b.public().fingerprint());

        let head = DirectoryHead {
            seq: 2,
            hash: [3; 32],
        };
        let history = History {
            tickets: 2,
            wraps: 3,
            unavailable: vec![(id, Chain::Notes, 0)],
            failures: vec![(id, ClientError::new("network", "Down."))],
        };
        let view = approval_view(&Approval { head, history });
        assert_eq!(view["head"], crate::wasm::input::head_json(&head));
        assert_eq!(view["history"]["wraps"], 3);
        assert_eq!(view["history"]["unavailable"][0]["chain"], "notes");
        assert_eq!(view["history"]["failures"][0]["code"], "network");
        let view = removal_view(&Removal {
            head,
            tickets: 4,
            rotated: 5,
            failures: Vec::new(),
            team_key_failure: Some(ClientError::new("network", "Down.")),
        });
        assert_eq!(
            view,
            json!({"head": crate::wasm::input::head_json(&head), "tickets": 4, "rotated": 5, "failures": [], "team_key_failure": "network"})
        );
        let view = invite_view(&Invite {
            token: "abc".into(),
            expires_at: 9,
        });
        assert_eq!(view, json!({"link": "/admin/invite#abc", "expires_at": 9}));
        let view = redemption_view(&Redemption {
            key_id: b.key_id(),
            fingerprint: b.key_id().fingerprint(),
        });
        assert_eq!(view["fingerprint"], b.key_id().fingerprint());
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn the_largest_attachment_fits_the_limit() {
        for limit in [
            0,
            31,
            32,
            33,
            65_568,
            65_569,
            65_600,
            25 * 1024 * 1024,
            u64::MAX,
        ] {
            let largest = largest_attachment(limit);
            let fits = |n: u64| encrypted_len(n).is_some_and(|len| len <= limit);
            if limit < 32 {
                assert_eq!(largest, 0, "not even an empty file fits {limit}");
                continue;
            }
            assert!(fits(largest), "{largest} fits {limit}");
            assert!(!fits(largest + 1), "{} does not fit {limit}", largest + 1);
        }
        // 25 MiB of encrypted stream: 400 chunks of tags and the nonce less.
        assert_eq!(
            largest_attachment(25 * 1024 * 1024),
            25 * 1024 * 1024 - 16 - 16 * 400
        );
    }
}
