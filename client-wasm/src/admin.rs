//! The administrator: an [`Account`] whose identity is an administrator of the verified
//! directory. Reads the inbox and tickets (verifying every message before decrypting it),
//! answers, writes internal notes, closes, reopens and assigns tickets, and changes the team
//! (PROTOCOL.md §6.3, §7, §15; API.md "Inbox", "Team"). Canned replies are
//! [`crate::snippets`]'s.
//!
//! Every write re-reads and verifies the directory first, extending the head this client
//! pinned (§7.4), so that keys are wrapped only for administrators of the verified head and
//! messages carry the head the server requires.

use std::collections::BTreeSet;

use sealdesk_crypto::{
    Chain, ChainState, CryptoRng, Directory, DirectoryEntry, DirectoryHead, EndorseContent,
    Identity, KeyId, Members, PublicIdentity, TicketId, WrapSlot, WrappedKey,
};
use sealdesk_wire::directory::AppendEntryBody;
use sealdesk_wire::inbox::{InboxAnswer, InboxQuery};
pub use sealdesk_wire::inbox::{InboxAssigned, InboxCounts, InboxFilter, ListOrder};
use sealdesk_wire::invites::{InviteCreated, InviteRedeemed, RedeemGenesisBody, RedeemInviteBody};
use sealdesk_wire::mail::AdminMailPreferences;
use sealdesk_wire::settings::{Settings, SettingsAnswer};
use sealdesk_wire::team::{AssignmentBody, HistoryWrapsBody, PendingList};
use sealdesk_wire::tickets::WrapsAnswer;
use sealdesk_wire::{EmptyBody, SecretText};

use crate::account::{Account, TicketSummary, summary_of};
use crate::content::{AttachmentRef, Content, DebugData, Outgoing, Text};
use crate::directory::fetch_verified;
use crate::error::{ClientError, Result};
use crate::kept;
use crate::thread::{Participant, Shown, Thread, fetch_ticket, wrap_for};
use crate::transport::{Request, Transport};
use crate::util::{POST_ATTEMPTS, b64, unb64, unb64_array};

/// Most wraps the server takes in one request.
const MAX_WRAPS_PER_REQUEST: usize = 256;

/// The token of an invite given as a link (`.../admin/invite#<token>`) or as the token alone.
fn invite_token(invite: &str) -> &str {
    invite
        .rsplit_once('#')
        .map_or(invite, |(_, token)| token)
        .trim()
}

/// An administrator invite to send over a private channel.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Invite {
    /// The single-use token (base64url).
    pub token: String,
    /// Unix seconds after which the server refuses it.
    pub expires_at: u64,
}

impl Invite {
    /// `/admin/invite#<token>`: prefix it with the instance's URL.
    pub fn path(&self) -> String {
        format!("/admin/invite#{}", self.token)
    }
}

/// What the invitee reads out to the approving administrator.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Redemption {
    /// The account identity's key id, now a pending administrator.
    pub key_id: KeyId,
    /// Its fingerprint (§4.3), computed by this client.
    pub fingerprint: String,
}

/// A key that redeemed an invite and waits for an administrator's `add` entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pending {
    /// The identity the `add` entry would list.
    pub identity: PublicIdentity,
    /// The account's username.
    pub username: String,
    /// Unix seconds.
    pub redeemed_at: u64,
    /// The fingerprint of the identity (§4.3), computed by this client: compare it with the
    /// invitee's out of band before approving.
    pub fingerprint: String,
}

impl Pending {
    /// The identity's key id.
    pub fn key_id(&self) -> KeyId {
        self.identity.key_id()
    }
}

/// An administrator of the verified head.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TeamMember {
    /// The public identity.
    pub identity: PublicIdentity,
    /// Its fingerprint (§4.3).
    pub fingerprint: String,
}

/// What sharing the ticket keys with a new member did.
#[derive(Clone, Debug, Default)]
pub struct History {
    /// Tickets looked at.
    pub tickets: usize,
    /// Wraps stored.
    pub wraps: usize,
    /// Epochs whose key this administrator does not hold itself, so could not pass on.
    pub unavailable: Vec<(TicketId, Chain, u32)>,
    /// Tickets that could not be read or written (call [`Admin::share_history`] again).
    pub failures: Vec<(TicketId, ClientError)>,
}

/// What approving a pending administrator did.
#[derive(Clone, Debug)]
pub struct Approval {
    /// The directory head with the `add` entry.
    pub head: DirectoryHead,
    /// The history wraps for the new administrator.
    pub history: History,
}

/// What removing an administrator did.
#[derive(Clone, Debug)]
pub struct Removal {
    /// The directory head with the `remove` entry.
    pub head: DirectoryHead,
    /// Tickets looked at: every ticket the inbox listed, open or closed, and those the
    /// client knew of itself ([`Admin::rotate`]).
    pub tickets: usize,
    /// Chains on which a rotation opened a new epoch.
    pub rotated: usize,
    /// Tickets that could not be rotated (their next message opens the epoch instead).
    pub failures: Vec<(TicketId, ClientError)>,
    /// Why the team key of the snippets could not be rotated (the next snippet written at a
    /// head with the removal opens the epoch instead, PROTOCOL.md §18.2), if it failed.
    pub team_key_failure: Option<ClientError>,
}

/// A ticket in the inbox: the server's metadata and the verified, decrypted first message.
#[derive(Clone, Debug)]
pub struct InboxItem {
    /// The server's metadata (unsigned).
    pub summary: TicketSummary,
    /// The first message (subject, category, urgency, the reporter's name and text), or why
    /// it cannot be shown.
    pub opening: core::result::Result<Text, ClientError>,
    /// The conversation's last message or attachment, for the inbox's preview line.
    pub last: Option<LastMessage>,
    /// The server's receipt time (Unix seconds) of the oldest reporter message no administrator
    /// answered yet (a message or an attachment after the team's last one), or `None` when the
    /// team wrote last: the start of the reply's due time (spec/API.md, "Instance settings").
    pub waiting_since: Option<u64>,
}

/// The last message or attachment of a conversation, as the inbox previews it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LastMessage {
    /// Whether an administrator sent it.
    pub from_support: bool,
    /// Its first non-empty line (at most [`PREVIEW_CHARS`] characters), or `Attachment: name`.
    pub preview: String,
    /// The server's receipt time, Unix seconds.
    pub received_at: u64,
}

/// Longest preview line of [`LastMessage`], in characters.
pub const PREVIEW_CHARS: usize = 140;

/// The preview and the unanswered start of a verified conversation (see [`InboxItem`]).
fn last_and_waiting(messages: &[Shown]) -> (Option<LastMessage>, Option<u64>) {
    let mut last = None;
    let mut waiting_since = None;
    for message in messages {
        let preview = match &message.content {
            Ok(Content::Message(text)) => {
                let line = text.text.lines().map(str::trim).find(|l| !l.is_empty());
                line.unwrap_or("")
                    .chars()
                    .take(PREVIEW_CHARS)
                    .collect::<String>()
            }
            Ok(Content::AttachmentRef(attachment)) => {
                let name: String = attachment.name.chars().take(PREVIEW_CHARS).collect();
                format!("Attachment: {name}")
            }
            // Status changes, notes' kinds, rotations and unreadable messages neither answer
            // nor ask anything.
            _ => continue,
        };
        if message.from_support {
            waiting_since = None;
        } else if waiting_since.is_none() {
            waiting_since = Some(message.received_at);
        }
        last = Some(LastMessage {
            from_support: message.from_support,
            preview,
            received_at: message.received_at,
        });
    }
    (last, waiting_since)
}

/// One page of the inbox.
#[derive(Clone, Debug)]
pub struct InboxPage {
    /// Up to 50 tickets, in the asked order.
    pub tickets: Vec<InboxItem>,
    /// Whether further pages follow.
    pub more: bool,
    /// The cursor of the next page ([`InboxOptions::cursor`]), when `more`.
    pub next_cursor: Option<String>,
    /// The number of tickets per filter (zero from servers older than counts).
    pub counts: InboxCounts,
}

/// Which inbox page to read (spec/API.md, "Inbox").
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct InboxOptions {
    /// By status (`None`: every ticket).
    pub status: Option<InboxFilter>,
    /// Assigned to me or to nobody (`None`: whoever).
    pub assigned: Option<InboxAssigned>,
    /// Newest (default) or oldest activity first.
    pub order: ListOrder,
    /// The previous page's `next_cursor`: continue after it (takes the place of `page`).
    pub cursor: Option<String>,
    /// Zero-based page number, for a numbered page without a cursor.
    pub page: u64,
}

/// A ticket as an administrator reads it: both chains, verified and decrypted.
#[derive(Debug)]
pub struct AdminTicket {
    reporter: PublicIdentity,
    conversation: Thread,
    notes_thread: Thread,
    /// The verified conversation, in order.
    pub messages: Vec<Shown>,
    /// The verified internal notes, in order.
    pub notes: Vec<Shown>,
}

impl AdminTicket {
    /// The ticket.
    pub fn ticket_id(&self) -> TicketId {
        self.conversation.ticket_id()
    }

    /// The first reporter key.
    pub fn reporter(&self) -> &PublicIdentity {
        &self.reporter
    }

    /// Whether the ticket is closed (after the verified messages).
    pub fn is_closed(&self) -> bool {
        self.conversation.state().is_closed()
    }

    /// The ticket's status after the verified conversation (PROTOCOL.md §10.3).
    pub fn status(&self) -> sealdesk_crypto::ConversationStatus {
        self.conversation.state().status()
    }

    /// The verified conversation state.
    pub fn conversation(&self) -> &ChainState {
        self.conversation.state()
    }

    /// The verified notes state.
    pub fn notes_state(&self) -> &ChainState {
        self.notes_thread.state()
    }

    /// The verified state of both chains to keep until the next visit (PROTOCOL.md §10.4),
    /// for [`Admin::read_ticket_with_state`]: opaque bytes ([`crate::kept`]).
    pub fn state_bytes(&self) -> Vec<u8> {
        kept::encode(&[self.conversation.state(), self.notes_thread.state()])
    }

    /// The first message's content (subject, category, urgency, name, email, text), if it
    /// could be decrypted.
    pub fn opening(&self) -> Option<&Text> {
        match self.messages.first().map(|m| &m.content) {
            Some(Ok(Content::Message(text))) => Some(text),
            _ => None,
        }
    }

    /// The debug data the reporter sent, with the seq of each message.
    pub fn debug_data(&self) -> Vec<(u64, &DebugData)> {
        self.contents(|content| match content {
            Content::DebugData(data) => Some(data),
            _ => None,
        })
    }

    /// The attachment references (with their file keys), with the seq of each message.
    pub fn attachments(&self) -> Vec<(u64, &AttachmentRef)> {
        self.contents(|content| match content {
            Content::AttachmentRef(reference) => Some(reference),
            _ => None,
        })
    }

    /// What `pick` takes from the readable conversation messages, with the seq of each.
    fn contents<'a, C>(&'a self, pick: impl Fn(&'a Content) -> Option<&'a C>) -> Vec<(u64, &'a C)> {
        self.messages
            .iter()
            .filter_map(|m| Some((m.seq, pick(m.content.as_ref().ok()?)?)))
            .collect()
    }

    fn threads(&self) -> [&Thread; 2] {
        [&self.conversation, &self.notes_thread]
    }
}

/// A signed-in administrator.
pub struct Admin {
    account: Account,
    directory: Directory,
}

impl core::fmt::Debug for Admin {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Admin")
            .field("account", &self.account)
            .field("head", &self.directory.head_seq())
            .finish_non_exhaustive()
    }
}

impl Admin {
    /// Signs `account` in as an administrator: fetches and verifies the directory (extending
    /// `pinned`, the head this client kept, if any) and checks that the account's identity is
    /// an administrator at its head.
    ///
    /// # Errors
    /// `admin.not_an_administrator`; `directory.*`; `server.*`; `network`.
    pub async fn new<T: Transport>(
        transport: &T,
        account: Account,
        pinned: Option<&DirectoryHead>,
    ) -> Result<Admin> {
        let directory = fetch_verified(transport, pinned).await?;
        check_admin(&directory, &account)?;
        Ok(Admin { account, directory })
    }

    /// Whether `account`'s identity is an administrator at the head of the verified
    /// directory (extending `pinned`): ask before [`Admin::new`], which takes the account,
    /// while an invitee waits for approval.
    ///
    /// # Errors
    /// `directory.*`; `server.*`; `network`.
    pub async fn is_administrator<T: Transport>(
        transport: &T,
        account: &Account,
        pinned: Option<&DirectoryHead>,
    ) -> Result<bool> {
        let directory = fetch_verified(transport, pinned).await?;
        Ok(check_admin(&directory, account).is_ok())
    }

    /// Makes `account` the first administrator with the invite printed by `sealdesk serve`
    /// or `sealdesk admin invite` (a link `/admin/invite#<token>` or the token): signs the
    /// genesis entry with the account's identity and redeems the invite.
    ///
    /// # Errors
    /// `server.invalid_invite`, `server.conflict` (an administrator exists), `network`, and
    /// those of [`Admin::new`].
    pub async fn redeem_genesis<T: Transport>(
        transport: &T,
        account: Account,
        invite: &str,
    ) -> Result<Admin> {
        let entry = Admin::post_genesis(transport, &account, invite).await?;
        let directory = fetch_verified(transport, None).await?;
        Admin::check_genesis(&directory, &entry)?;
        check_admin(&directory, &account)?;
        Ok(Admin { account, directory })
    }

    /// The first step of [`Admin::redeem_genesis`], for callers that verify the directory
    /// themselves (the browser, against its pinned head): signs the genesis entry (PROTOCOL.md
    /// §7.5) with `account`'s identity and redeems `invite` (a link or the token) with it.
    /// Returns the entry, which the verified directory must start with
    /// ([`Admin::check_genesis`]).
    ///
    /// # Errors
    /// `server.invalid_invite`, `server.conflict` (an administrator exists), `network`.
    pub async fn post_genesis<T: Transport>(
        transport: &T,
        account: &Account,
        invite: &str,
    ) -> Result<DirectoryEntry> {
        let entry = DirectoryEntry::genesis(account.identity());
        let body = RedeemGenesisBody {
            invite: SecretText::new(invite_token(invite).to_owned()),
            entry: b64(&entry.to_bytes()),
        };
        transport
            .send(Request::post_json("/api/v1/invites/redeem-genesis", &body)?)
            .await?
            .check()?;
        Ok(entry)
    }

    /// Checks that the verified `directory` starts with `entry`, the genesis entry this client
    /// sent (PROTOCOL.md §7.5 step 4).
    ///
    /// # Errors
    /// `admin.not_an_administrator`: someone else's genesis won the race, or the server
    /// substituted one.
    pub fn check_genesis(directory: &Directory, entry: &DirectoryEntry) -> Result<()> {
        if directory.entries().first() == Some(entry) {
            Ok(())
        } else {
            Err(ClientError::new(
                "admin.not_an_administrator",
                "The directory does not start with this account's genesis entry.",
            ))
        }
    }

    /// Redeems an administrator invite (a link `/admin/invite#<token>` or the token) with
    /// `account`, which becomes a pending administrator. Read the returned fingerprint out
    /// to the administrator who approves.
    ///
    /// # Errors
    /// `server.invalid_invite`, `server.already_pending`, `server.already_administrator`,
    /// `server.unauthorized`, `network`, `bad_response`.
    pub async fn redeem_invite<T: Transport>(
        transport: &T,
        account: &Account,
        invite: &str,
    ) -> Result<Redemption> {
        let body = RedeemInviteBody {
            invite: SecretText::new(invite_token(invite).to_owned()),
            username: account.username().to_owned(),
        };
        let answer: InviteRedeemed = transport
            .send(
                Request::post_json("/api/v1/admin/invites/redeem", &body)?
                    .bearer(Some(account.session())),
            )
            .await?
            .json("the redemption")?;
        let key_id = KeyId(unb64_array::<32>(&answer.key_id, "the redemption")?);
        if key_id != account.identity().key_id() {
            return Err(ClientError::bad_response("the redemption"));
        }
        Ok(Redemption {
            key_id,
            fingerprint: key_id.fingerprint(),
        })
    }

    /// [`Admin::new`] with a directory the caller fetched and verified (extending the head it
    /// pinned); gives the account back when its identity is not an administrator at the head.
    ///
    /// # Errors
    /// `admin.not_an_administrator`, with the account.
    pub fn from_verified(
        account: Account,
        directory: Directory,
    ) -> core::result::Result<Admin, Box<(Account, ClientError)>> {
        match check_admin(&directory, &account) {
            Ok(()) => Ok(Admin { account, directory }),
            Err(error) => Err(Box::new((account, error))),
        }
    }

    /// The account.
    pub fn account(&self) -> &Account {
        &self.account
    }

    /// The account, to change its password or keyring data (its identity cannot change).
    pub fn account_mut(&mut self) -> &mut Account {
        &mut self.account
    }

    /// Gives the account back (to sign out, say).
    pub fn into_account(self) -> Account {
        self.account
    }

    /// The verified directory (pin its head).
    pub fn directory(&self) -> &Directory {
        &self.directory
    }

    /// The verified directory's head: keep it and pass it to [`Admin::new`] next time.
    pub fn head(&self) -> DirectoryHead {
        self.directory.head()
    }

    /// The administrators of the verified head with their fingerprints, in the order they
    /// were added.
    pub fn team(&self) -> Vec<TeamMember> {
        self.directory
            .current_admins()
            .into_iter()
            .map(|identity| TeamMember {
                identity: identity.clone(),
                fingerprint: identity.fingerprint(),
            })
            .collect()
    }

    /// Re-reads the directory, verifies that it extends the kept head and keeps the new one.
    ///
    /// # Errors
    /// `directory.*` (including `directory.rollback` and `directory.fork`),
    /// `admin.not_an_administrator` once this account was removed, `server.*`, `network`.
    pub async fn refresh_directory<T: Transport>(&mut self, transport: &T) -> Result<()> {
        let directory = fetch_verified(transport, Some(&self.directory.head())).await?;
        check_admin(&directory, &self.account)?;
        self.directory = directory;
        Ok(())
    }

    /// Creates a single-use administrator invite.
    ///
    /// # Errors
    /// `server.*`, `network`, `bad_response`.
    pub async fn create_invite<T: Transport>(&self, transport: &T) -> Result<Invite> {
        let answer: InviteCreated = transport
            .send(
                Request::post_json("/api/v1/admin/invites", &EmptyBody {})?
                    .bearer(Some(self.session())),
            )
            .await?
            .json("the invite")?;
        Ok(Invite {
            token: answer.invite.expose().to_owned(),
            expires_at: answer.expires_at,
        })
    }

    /// Replaces the instance's public settings (categories and their guidance, languages,
    /// support hours, response time: spec/API.md "Instance settings"; public, not encrypted)
    /// and returns them as the server stored them.
    ///
    /// # Errors
    /// `server.bad_settings`, `server.not_an_administrator`, `network`, `bad_response`.
    pub async fn save_settings<T: Transport>(
        &self,
        transport: &T,
        settings: &Settings,
    ) -> Result<SettingsAnswer> {
        transport
            .send(Request::put_json("/api/v1/settings", settings)?.bearer(Some(self.session())))
            .await?
            .json("the settings")
    }

    /// My mail preferences (spec/API.md, "Mail": `GET /api/v1/admin/mail`).
    ///
    /// # Errors
    /// `server.*`, `network`, `bad_response`.
    pub async fn mail_preferences<T: Transport>(
        &self,
        transport: &T,
    ) -> Result<AdminMailPreferences> {
        transport
            .send(Request::get("/api/v1/admin/mail").bearer(Some(self.session())))
            .await?
            .json("the mail preferences")
    }

    /// Replaces my mail preferences (an empty address turns every mail off) and returns them
    /// as stored (`PUT /api/v1/admin/mail`).
    ///
    /// # Errors
    /// `server.bad_email`, `server.mail_off`, `server.*`, `network`, `bad_response`.
    pub async fn save_mail_preferences<T: Transport>(
        &self,
        transport: &T,
        preferences: &AdminMailPreferences,
    ) -> Result<AdminMailPreferences> {
        transport
            .send(
                Request::put_json("/api/v1/admin/mail", preferences)?.bearer(Some(self.session())),
            )
            .await?
            .json("the mail preferences")
    }

    /// The keys waiting for approval, oldest redemption first, with fingerprints computed
    /// here (not the server's).
    ///
    /// # Errors
    /// `invalid_public_key`, `malformed`, `server.*`, `network`, `bad_response`.
    pub async fn pending<T: Transport>(&self, transport: &T) -> Result<Vec<Pending>> {
        let answer: PendingList = transport
            .send(Request::get("/api/v1/admin/pending").bearer(Some(self.session())))
            .await?
            .json("the pending administrators")?;
        answer
            .pending
            .into_iter()
            .map(|p| {
                let what = "the pending administrators";
                let identity = PublicIdentity::from_bytes(&unb64(&p.identity, what)?)?;
                if unb64_array::<32>(&p.key_id, what)? != identity.key_id().0 {
                    return Err(ClientError::bad_response(what));
                }
                Ok(Pending {
                    fingerprint: identity.fingerprint(),
                    identity,
                    username: p.username,
                    redeemed_at: p.redeemed_at,
                })
            })
            .collect()
    }

    /// Declines a pending administrator.
    ///
    /// # Errors
    /// `server.not_found`, `server.*`, `network`.
    pub async fn decline<T: Transport>(&self, transport: &T, pending: &Pending) -> Result<()> {
        let path = format!("/api/v1/admin/pending/{}", b64(&pending.key_id().0));
        transport
            .send(Request::delete(path).bearer(Some(self.session())))
            .await?
            .check()
    }

    /// Approves a pending administrator (after comparing its fingerprint out of band):
    /// appends the signed `add` entry, then wraps the key of every epoch this administrator
    /// holds, of both chains of every ticket, for the new administrator, so it reads the
    /// history (§6.3). Draws HPKE randomness from `rng`.
    ///
    /// # Errors
    /// `directory.*` (the key is or was an administrator), `server.not_pending`, `server.*`,
    /// `network`. Failures while sharing the history are listed in the answer instead.
    pub async fn approve<T: Transport>(
        &mut self,
        transport: &T,
        pending: &Pending,
        rng: &mut impl CryptoRng,
    ) -> Result<Approval> {
        self.append(transport, |directory, me| {
            DirectoryEntry::add(directory, me, &pending.identity)
        })
        .await?;
        if self
            .directory
            .admin_at(self.directory.head_seq(), &pending.key_id())
            .is_none()
        {
            return Err(ClientError::bad_response("the directory"));
        }
        let history = self
            .share_history(transport, &pending.identity, rng)
            .await?;
        Ok(Approval {
            head: self.directory.head(),
            history,
        })
    }

    /// Wraps, for `member` (an administrator of the verified head), the key of every epoch
    /// this administrator holds of both chains of every ticket that `member` has no wrap of.
    /// Safe to repeat after a partial failure.
    ///
    /// # Errors
    /// `admin.not_a_member` when `member` is not a current administrator; `server.*` and
    /// `network` while listing the tickets. Per-ticket failures are listed in the answer.
    pub async fn share_history<T: Transport>(
        &mut self,
        transport: &T,
        member: &PublicIdentity,
        rng: &mut impl CryptoRng,
    ) -> Result<History> {
        self.refresh_directory(transport).await?;
        if self
            .directory
            .admin_at(self.directory.head_seq(), &member.key_id())
            .is_none()
        {
            return Err(ClientError::new(
                "admin.not_a_member",
                "History goes only to administrators of the verified directory.",
            ));
        }
        let mut history = History::default();
        for id in self.all_tickets(transport, None).await? {
            history.tickets += 1;
            match self
                .share_ticket_history(transport, id, member, &mut history.unavailable, rng)
                .await
            {
                Ok(stored) => history.wraps += stored,
                Err(error) => history.failures.push((id, error)),
            }
        }
        Ok(history)
    }

    async fn share_ticket_history<T: Transport>(
        &self,
        transport: &T,
        id: TicketId,
        member: &PublicIdentity,
        unavailable: &mut Vec<(TicketId, Chain, u32)>,
        rng: &mut impl CryptoRng,
    ) -> Result<usize> {
        let ticket = self.read_verified(transport, id).await?;
        let mut wraps = Vec::new();
        for thread in ticket.threads() {
            wraps.extend(
                self.thread_history(transport, thread, member, unavailable, rng)
                    .await?,
            );
        }
        self.post_history(transport, id, &wraps).await
    }

    /// The keys of every epoch of `thread` that `member` has no wrap of, wrapped for it with
    /// `dir_seq` at the verified head; epochs whose key this administrator lacks go to
    /// `unavailable`.
    async fn thread_history<T: Transport>(
        &self,
        transport: &T,
        thread: &Thread,
        member: &PublicIdentity,
        unavailable: &mut Vec<(TicketId, Chain, u32)>,
        rng: &mut impl CryptoRng,
    ) -> Result<Vec<String>> {
        let id = thread.ticket_id();
        let head = self.directory.head_seq();
        let mut wraps = Vec::new();
        let chain = thread.chain();
        if let Some(current) = thread.state().epoch() {
            let path = format!(
                "/api/v1/tickets/{}/wraps?chain={}&recipient={}",
                id.to_hex(),
                chain.to_u8(),
                b64(&member.key_id().0)
            );
            let existing: WrapsAnswer = transport
                .send(Request::get(path).bearer(Some(self.session())))
                .await?
                .json("the wraps")?;
            let mut has = BTreeSet::new();
            for encoded in &existing.wraps {
                let wrap = WrappedKey::from_bytes(&unb64(encoded, "the wraps")?)?;
                has.insert(wrap.context.epoch);
            }
            for epoch in 0..=current {
                if has.contains(&epoch) {
                    continue;
                }
                let slot = WrapSlot {
                    ticket_id: id,
                    chain,
                    epoch,
                    dir_seq: head,
                };
                match thread.keys().get(&epoch) {
                    Some(key) => wraps.extend(wrap_for(
                        self.account.identity(),
                        core::slice::from_ref(member),
                        slot,
                        key,
                        rng,
                    )?),
                    None => unavailable.push((id, chain, epoch)),
                }
            }
        }
        Ok(wraps)
    }

    /// Posts history wraps of ticket `id` in batches; returns how many were stored.
    async fn post_history<T: Transport>(
        &self,
        transport: &T,
        id: TicketId,
        wraps: &[String],
    ) -> Result<usize> {
        let mut stored = 0;
        for batch in wraps.chunks(MAX_WRAPS_PER_REQUEST) {
            transport
                .send(
                    Request::post_json(
                        format!("/api/v1/tickets/{}/wraps", id.to_hex()),
                        &HistoryWrapsBody {
                            wraps: batch.to_vec(),
                        },
                    )?
                    .bearer(Some(self.session())),
                )
                .await?
                .check()?;
            stored += batch.len();
        }
        Ok(stored)
    }

    /// Removes an administrator: appends the signed `remove` entry, then posts a *rotate*
    /// message on each chain (with messages) of every ticket the inbox lists, open or closed,
    /// on every page, opening a new epoch whose key is wrapped for the remaining members only
    /// (PROTOCOL.md §15). The inbox is the server's unsigned list: it is read without a
    /// status filter, so a ticket the server claims is closed is rotated too, but a ticket it
    /// leaves out entirely is not (its next message opens the new epoch, §10.2 step 8).
    /// Chains that opened an epoch since the removal are left alone.
    ///
    /// # Errors
    /// `admin.remove_self` (another administrator removes this one);
    /// `admin.unknown_administrator`; `directory.*` (the last administrator); `server.*`;
    /// `network`. Per-ticket failures are listed in the answer.
    pub async fn remove<T: Transport>(
        &mut self,
        transport: &T,
        key_id: &KeyId,
        rng: &mut impl CryptoRng,
    ) -> Result<Removal> {
        if *key_id == self.account.identity().key_id() {
            return Err(ClientError::new(
                "admin.remove_self",
                "An administrator is removed by another administrator.",
            ));
        }
        self.refresh_directory(transport).await?;
        let subject = self
            .directory
            .admin_at(self.directory.head_seq(), key_id)
            .cloned()
            .ok_or_else(|| {
                ClientError::new(
                    "admin.unknown_administrator",
                    "This key is not an administrator of the verified directory.",
                )
            })?;
        self.append(transport, |directory, me| {
            DirectoryEntry::remove(directory, me, &subject)
        })
        .await?;
        // The team key first (PROTOCOL.md §18.2): one request, before the per-ticket work.
        let team_key_failure = self.rotate_team_key(transport, rng).await.err();
        let mut removal = self.rotate_tickets(transport, &[], rng).await?;
        removal.team_key_failure = team_key_failure;
        removal.head = self.directory.head();
        Ok(removal)
    }

    /// Finishes the rotations of the removals in the directory (PROTOCOL.md §15, removing an
    /// administrator, steps 2 to 4), after re-reading it: every ticket the inbox lists (every
    /// status, every page) and every ticket of `known`, ticket ids this client kept itself
    /// (which the server cannot leave out), each once. A chain whose current epoch opened
    /// after the last removal is left alone, so this only does what is left: call it with the
    /// tickets a [`Removal`] lists as failures, or with every ticket this client keeps state
    /// for, right after [`Admin::remove`].
    ///
    /// # Errors
    /// `directory.*`, `admin.not_an_administrator`; `server.*`, `network`, `bad_response`
    /// for the inbox listing. Per-ticket failures are listed in the answer.
    pub async fn rotate<T: Transport>(
        &mut self,
        transport: &T,
        known: &[TicketId],
        rng: &mut impl CryptoRng,
    ) -> Result<Removal> {
        self.refresh_directory(transport).await?;
        self.rotate_tickets(transport, known, rng).await
    }

    /// Posts a rotation on each chain of every ticket the inbox lists (every status, every
    /// page) and of every ticket of `known`, whose current epoch opened before the last
    /// removal of the verified directory. Closed tickets are rotated too: they stay readable
    /// and can be reopened, and their status is the server's unsigned claim.
    async fn rotate_tickets<T: Transport>(
        &mut self,
        transport: &T,
        known: &[TicketId],
        rng: &mut impl CryptoRng,
    ) -> Result<Removal> {
        let mut removal = Removal {
            head: self.directory.head(),
            tickets: 0,
            rotated: 0,
            failures: Vec::new(),
            team_key_failure: None,
        };
        let mut ids = self.all_tickets(transport, None).await?;
        for id in known {
            if !ids.contains(id) {
                ids.push(*id);
            }
        }
        for id in ids {
            removal.tickets += 1;
            let outcome = async {
                let mut ticket = self.read_verified(transport, id).await?;
                let mut rotated = 0;
                for chain in [Chain::Conversation, Chain::Notes] {
                    let (thread, shown) = ticket.thread_mut(chain);
                    let head = self.directory.head_seq();
                    if thread.state().last_seq() == 0
                        || !thread.state().must_rotate(&self.directory, head)
                    {
                        continue;
                    }
                    thread
                        .send(transport, self.participant(), &Content::Rotate, rng, shown)
                        .await?;
                    rotated += 1;
                }
                Ok::<usize, ClientError>(rotated)
            }
            .await;
            match outcome {
                Ok(rotated) => removal.rotated += rotated,
                Err(error) => removal.failures.push((id, error)),
            }
        }
        Ok(removal)
    }

    /// One page of the inbox (`page` from 0), each ticket with its first message verified
    /// (with the rest of the conversation: one read per ticket) and decrypted, after
    /// re-reading the directory. A ticket that fails verification is listed with the error
    /// instead of its first message.
    ///
    /// # Errors
    /// `directory.*`, `admin.not_an_administrator`, and `server.*`, `network`,
    /// `bad_response` for the listing itself.
    pub async fn inbox<T: Transport>(
        &mut self,
        transport: &T,
        filter: Option<InboxFilter>,
        page: u64,
    ) -> Result<InboxPage> {
        self.inbox_with(
            transport,
            &InboxOptions {
                status: filter,
                page,
                ..InboxOptions::default()
            },
        )
        .await
    }

    /// [`Admin::inbox`] with every option of spec/API.md's inbox: status, assignee, order
    /// and a cursor.
    ///
    /// # Errors
    /// As [`Admin::inbox`]; `server.bad_cursor` for a cursor the server did not make.
    pub async fn inbox_with<T: Transport>(
        &mut self,
        transport: &T,
        options: &InboxOptions,
    ) -> Result<InboxPage> {
        self.refresh_directory(transport).await?;
        let answer = self.inbox_page(transport, options).await?;
        let mut tickets = Vec::with_capacity(answer.tickets.len());
        for summary in answer.tickets {
            let summary = summary_of(summary, "the inbox")?;
            let read = self.read_conversation(transport, summary.ticket_id).await;
            let (last, waiting_since) = match &read {
                Ok((_, thread_messages)) => last_and_waiting(thread_messages),
                Err(_) => (None, None),
            };
            let opening = read.and_then(|(_, thread_messages)| {
                match thread_messages.into_iter().next().map(|m| m.content) {
                    Some(Ok(Content::Message(text))) => Ok(text),
                    Some(Ok(_)) => Err(ClientError::new(
                        "content.unreadable",
                        "The first message of this ticket is not a message.",
                    )),
                    Some(Err(error)) => Err(error),
                    None => Err(ClientError::bad_response("the ticket")),
                }
            });
            tickets.push(InboxItem {
                summary,
                opening,
                last,
                waiting_since,
            });
        }
        Ok(InboxPage {
            tickets,
            more: answer.more,
            next_cursor: answer.next_cursor,
            counts: answer.counts,
        })
    }

    /// Reads a ticket after re-reading the directory (§15, reading step 1): both chains,
    /// verified (§10.2) and decrypted with keys from verified wraps (§6.3); debug data and
    /// attachment references are among the messages.
    ///
    /// # Errors
    /// `directory.*`, `admin.not_an_administrator`, `transcript.*`, `endorsement.*`,
    /// `server.*` (`server.not_found`), `network`.
    pub async fn read_ticket<T: Transport>(
        &mut self,
        transport: &T,
        id: TicketId,
    ) -> Result<AdminTicket> {
        self.refresh_directory(transport).await?;
        self.read_verified(transport, id).await
    }

    /// [`Admin::read_ticket`], then, when `kept` holds the state kept from an earlier visit
    /// ([`AdminTicket::state_bytes`]), checks that each chain extends its kept state
    /// (PROTOCOL.md §10.4; see [`crate::reporter::ReporterTicket::open_with_state`]).
    ///
    /// # Errors
    /// As [`Admin::read_ticket`]; `transcript.unexpected_seq` (a rollback),
    /// `transcript.broken_link` (a fork), `kept.malformed`.
    pub async fn read_ticket_with_state<T: Transport>(
        &mut self,
        transport: &T,
        id: TicketId,
        kept: Option<&[u8]>,
    ) -> Result<AdminTicket> {
        let kept = match kept {
            Some(bytes) => kept::decode(bytes)?,
            None => Vec::new(),
        };
        let mut ticket = self.read_ticket(transport, id).await?;
        let who = Participant {
            identity: self.account.identity(),
            bearer: self.session(),
            directory: &self.directory,
        };
        for state in &kept {
            let (thread, shown) = ticket.thread_mut(state.chain());
            kept::check_extends_kept(transport, who, thread, shown, state).await?;
        }
        Ok(ticket)
    }

    /// [`Admin::read_ticket`] against the directory as kept.
    async fn read_verified<T: Transport>(
        &self,
        transport: &T,
        id: TicketId,
    ) -> Result<AdminTicket> {
        let (conversation, messages) = self.read_conversation(transport, id).await?;
        let reporter = conversation.members().reporter().clone();
        let mut ticket = AdminTicket {
            reporter,
            notes_thread: Thread::new(conversation.members().clone(), Chain::Notes),
            conversation,
            messages,
            notes: Vec::new(),
        };
        ticket
            .notes_thread
            .refresh(
                transport,
                self.session(),
                self.account.identity(),
                &self.directory,
                &mut ticket.notes,
            )
            .await?;
        Ok(ticket)
    }

    async fn read_conversation<T: Transport>(
        &self,
        transport: &T,
        id: TicketId,
    ) -> Result<(Thread, Vec<Shown>)> {
        let answer = fetch_ticket(transport, self.session(), id).await?;
        let reporter = PublicIdentity::from_bytes(&unb64(&answer.reporter, "the ticket")?)?;
        let members = Members::new(id, reporter);
        let mut thread = Thread::new(members, Chain::Conversation);
        let mut messages = Vec::new();
        thread
            .refresh(
                transport,
                self.session(),
                self.account.identity(),
                &self.directory,
                &mut messages,
            )
            .await?;
        Ok((thread, messages))
    }

    /// Fetches, verifies and decrypts what was added to both chains (after re-reading the
    /// directory); returns how many messages and notes were added.
    ///
    /// # Errors
    /// As [`Admin::read_ticket`].
    pub async fn refresh<T: Transport>(
        &mut self,
        transport: &T,
        ticket: &mut AdminTicket,
    ) -> Result<usize> {
        self.refresh_directory(transport).await?;
        let mut added = 0;
        for chain in [Chain::Conversation, Chain::Notes] {
            let (thread, shown) = ticket.thread_mut(chain);
            added += thread
                .refresh(
                    transport,
                    self.session(),
                    self.account.identity(),
                    &self.directory,
                    shown,
                )
                .await?;
        }
        Ok(added)
    }

    /// Replies on the conversation with `reply`'s text, as "the support team" when its author
    /// is `None`, else as that display name.
    ///
    /// # Errors
    /// As [`Admin::send`].
    pub async fn reply<T: Transport>(
        &mut self,
        transport: &T,
        ticket: &mut AdminTicket,
        reply: Outgoing,
        rng: &mut impl CryptoRng,
    ) -> Result<()> {
        self.send(transport, ticket, reply.into_message(), rng)
            .await
    }

    /// Writes `note` as an internal note (the notes chain, readable by administrators only;
    /// its first note opens epoch 0 with a key wrapped for every current administrator).
    ///
    /// # Errors
    /// As [`Admin::send`].
    pub async fn note<T: Transport>(
        &mut self,
        transport: &T,
        ticket: &mut AdminTicket,
        note: Outgoing,
        rng: &mut impl CryptoRng,
    ) -> Result<()> {
        self.send(transport, ticket, note.into_note(), rng).await
    }

    /// Posts `content` on its chain (internal notes and tags on the notes chain, everything else on
    /// the conversation) after re-reading the directory (§15, writing step 1), opening a new
    /// epoch when the chain is empty or an administrator was removed since the current one
    /// opened. A close is [`Content::close`], a reopen [`Content::reopen`].
    ///
    /// # Errors
    /// `directory.*`, `admin.not_an_administrator`, `server.*`, `network`, verification
    /// errors while catching up, `content.*`.
    pub async fn send<T: Transport>(
        &mut self,
        transport: &T,
        ticket: &mut AdminTicket,
        content: Content,
        rng: &mut impl CryptoRng,
    ) -> Result<()> {
        self.refresh_directory(transport).await?;
        let chain = match content {
            Content::InternalNote(_) | Content::Tags(_) => Chain::Notes,
            _ => Chain::Conversation,
        };
        let (thread, shown) = ticket.thread_mut(chain);
        thread
            .send(transport, self.participant(), &content, rng, shown)
            .await
    }

    /// Endorses `endorsed` as a further reporter key of `ticket` (PROTOCOL.md §8.2, §15
    /// "Endorsing a reporter key"; after email recovery): re-reads the directory, posts an
    /// endorse message (kind 8) on the conversation with the key in clear for the server, then
    /// wraps every conversation epoch this administrator holds for the new key, so it reads
    /// the history and writes as the reporter. Returns how many wraps were stored. Repeating
    /// it endorses the key again (a second endorse message) and skips wraps that exist.
    ///
    /// # Errors
    /// As [`Admin::send`]; `admin.endorse_unavailable` when a conversation epoch's key is not
    /// held (the message is posted; the wraps are not); `server.*`, `network` for the wraps.
    pub async fn endorse<T: Transport>(
        &mut self,
        transport: &T,
        ticket: &mut AdminTicket,
        endorsed: &PublicIdentity,
        rng: &mut impl CryptoRng,
    ) -> Result<usize> {
        let content = Content::Endorse(Box::new(EndorseContent::by_administrator(
            ticket.ticket_id(),
            endorsed.clone(),
        )));
        self.send(transport, ticket, content, rng).await?;
        let mut unavailable = Vec::new();
        let wraps = self
            .thread_history(
                transport,
                &ticket.conversation,
                endorsed,
                &mut unavailable,
                rng,
            )
            .await?;
        if !unavailable.is_empty() {
            return Err(ClientError::new(
                "admin.endorse_unavailable",
                "Some of this ticket's keys are not held by this administrator; another \
                 administrator must share them with the new key.",
            ));
        }
        self.post_history(transport, ticket.ticket_id(), &wraps)
            .await
    }

    /// Deletes the closed ticket `id` with everything the server stores for it
    /// (spec/API.md, `DELETE /api/v1/tickets/{id}`).
    ///
    /// # Errors
    /// `server.not_closed` (open, waiting or on hold), `server.not_found`, `server.*`,
    /// `network`.
    pub async fn delete_ticket<T: Transport>(&self, transport: &T, id: TicketId) -> Result<()> {
        transport
            .send(
                Request::delete(format!("/api/v1/tickets/{}", id.to_hex()))
                    .bearer(Some(self.session())),
            )
            .await?
            .check()
    }

    /// Assigns ticket `id` to `assignee`, an administrator of the verified directory, or
    /// unassigns it (`None`).
    ///
    /// # Errors
    /// `admin.bad_assignee` for a key that is not an administrator at the verified head;
    /// `server.*`, `network`.
    pub async fn assign<T: Transport>(
        &mut self,
        transport: &T,
        id: TicketId,
        assignee: Option<&KeyId>,
    ) -> Result<()> {
        self.refresh_directory(transport).await?;
        if let Some(key_id) = assignee
            && self
                .directory
                .admin_at(self.directory.head_seq(), key_id)
                .is_none()
        {
            return Err(ClientError::new(
                "admin.bad_assignee",
                "Tickets are assigned to administrators of the verified directory only.",
            ));
        }
        let body = AssignmentBody {
            assigned_to: assignee.map(|k| b64(&k.0)),
        };
        transport
            .send(
                Request::put_json(format!("/api/v1/tickets/{}/assignment", id.to_hex()), &body)?
                    .bearer(Some(self.session())),
            )
            .await?
            .check()
    }

    /// Signs the entry `make` builds on the verified head and appends it; when the directory
    /// moved on meanwhile, re-reads it and signs again. Keeps the new head.
    async fn append<T: Transport>(
        &mut self,
        transport: &T,
        make: impl Fn(&Directory, &Identity) -> sealdesk_crypto::Result<DirectoryEntry>,
    ) -> Result<()> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            self.refresh_directory(transport).await?;
            let entry = make(&self.directory, self.account.identity())?;
            let response = transport
                .send(
                    Request::post_json(
                        "/api/v1/directory",
                        &AppendEntryBody {
                            entry: b64(&entry.to_bytes()),
                        },
                    )?
                    .bearer(Some(self.session())),
                )
                .await?;
            match response.check() {
                Ok(()) => {
                    self.refresh_directory(transport).await?;
                    if self.directory.entries().get(entry.seq as usize) != Some(&entry) {
                        return Err(ClientError::bad_response("the directory"));
                    }
                    return Ok(());
                }
                Err(error) if error.is_conflict() && attempt < POST_ATTEMPTS => {}
                Err(error) => return Err(error),
            }
        }
    }

    async fn inbox_page<T: Transport>(
        &self,
        transport: &T,
        options: &InboxOptions,
    ) -> Result<InboxAnswer> {
        let query = InboxQuery {
            status: options.status,
            assigned: options.assigned,
            order: (options.order != ListOrder::Newest).then_some(options.order),
            cursor: options.cursor.clone(),
            page: options.page,
        };
        transport
            .send(Request::get(query.path()).bearer(Some(self.session())))
            .await?
            .json("the inbox")
    }

    /// Every ticket id the inbox lists under `filter`, collected before anything is written
    /// (writing reorders the inbox).
    async fn all_tickets<T: Transport>(
        &self,
        transport: &T,
        filter: Option<InboxFilter>,
    ) -> Result<Vec<TicketId>> {
        let mut ids = Vec::new();
        let mut seen = std::collections::BTreeSet::new();
        let mut options = InboxOptions {
            status: filter,
            ..InboxOptions::default()
        };
        loop {
            let answer = self.inbox_page(transport, &options).await?;
            for summary in answer.tickets {
                let id = summary_of(summary, "the inbox")?.ticket_id;
                if seen.insert(id.0) {
                    ids.push(id);
                }
            }
            match answer.next_cursor {
                // The cursor continues after the last ticket (keyset), so a ticket written to
                // meanwhile neither repeats nor pushes another out of the listing.
                Some(cursor) if answer.more => options.cursor = Some(cursor),
                // A server older than cursors: numbered pages.
                None if answer.more => options.page += 1,
                _ => return Ok(ids),
            }
        }
    }

    fn session(&self) -> &str {
        self.account.session()
    }

    /// This administrator as the member who writes: its identity and session, and the
    /// directory as last verified.
    fn participant(&self) -> Participant<'_> {
        Participant {
            identity: self.account.identity(),
            bearer: self.account.session(),
            directory: &self.directory,
        }
    }
}

impl AdminTicket {
    fn thread_mut(&mut self, chain: Chain) -> (&mut Thread, &mut Vec<Shown>) {
        match chain {
            Chain::Conversation => (&mut self.conversation, &mut self.messages),
            Chain::Notes => (&mut self.notes_thread, &mut self.notes),
        }
    }
}

fn check_admin(directory: &Directory, account: &Account) -> Result<()> {
    if directory
        .admin_at(directory.head_seq(), &account.identity().key_id())
        .is_some()
    {
        Ok(())
    } else {
        Err(ClientError::new(
            "admin.not_an_administrator",
            "This account's key is not an administrator of the verified directory.",
        ))
    }
}

#[cfg(test)]
mod tests {
    use sealdesk_crypto::{KeyId, Kind};

    use super::{ClientError, Content, LastMessage, Shown, Text, invite_token, last_and_waiting};

    fn shown(received_at: u64, from_support: bool, text: &str) -> Shown {
        Shown {
            seq: received_at,
            received_at,
            sender: KeyId([u8::from(from_support); 32]),
            from_support,
            kind: Kind::Message,
            content: Ok(Content::Message(Text {
                text: text.into(),
                sent_at: received_at,
                author: None,
                subject: None,
                category: None,
                urgent: false,
                name: None,
                email: None,
            })),
        }
    }

    #[test]
    fn the_preview_is_the_last_line_and_waiting_starts_after_the_last_answer() {
        let opening = shown(10, false, "\n  First line \nsecond");
        assert_eq!(
            last_and_waiting(std::slice::from_ref(&opening)),
            (
                Some(LastMessage {
                    from_support: false,
                    preview: "First line".into(),
                    received_at: 10
                }),
                Some(10)
            )
        );
        let answered = [opening.clone(), shown(20, true, "Try this")];
        let (last, waiting) = last_and_waiting(&answered);
        assert_eq!(
            last.map(|l| (l.from_support, l.preview)),
            Some((true, "Try this".into()))
        );
        assert_eq!(waiting, None);
        // Two reporter messages after the answer: the oldest one starts the wait. An unreadable
        // message is neither a preview nor an answer.
        let mut unreadable = shown(50, true, "");
        unreadable.content = Err(ClientError::new("content.unreadable", "x"));
        let again = [
            opening,
            shown(20, true, "Try this"),
            shown(30, false, "No luck"),
            shown(40, false, "Still nothing"),
            unreadable,
        ];
        let (last, waiting) = last_and_waiting(&again);
        assert_eq!(last.map(|l| l.preview), Some("Still nothing".into()));
        assert_eq!(waiting, Some(30));
    }

    #[test]
    fn invites_are_taken_from_links_or_alone() {
        assert_eq!(
            invite_token("https://desk.example/admin/invite#abc_-1"),
            "abc_-1"
        );
        assert_eq!(invite_token("/admin/invite#abc "), "abc");
        assert_eq!(invite_token(" abc\n"), "abc");
    }
}
