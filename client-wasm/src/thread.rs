//! One chain of one ticket as one member sees it: the verified chain state, the ticket's
//! members and the epoch keys this member opened. Shared by every role (anonymous reporter,
//! account holder, administrator; conversation and internal notes), which pass their own
//! identity and bearer credential to each call (PROTOCOL.md §10, §15).
//!
//! Everything is verified before it is shown: a message that fails §10.2 stops the read with a
//! `transcript.*` error and nothing after it is accepted; a verified message whose key cannot
//! be obtained (no wrap, or a wrap that fails §6.3) is shown with that error instead of its
//! content, never with unverified content.

use std::collections::{BTreeMap, BTreeSet};

use sealdesk_crypto::{
    Chain, ChainState, CryptoRng, Directory, Fault, Identity, KeyId, Kind, Members, Message,
    Placement, PublicIdentity, TicketId, TicketKey, WrapSlot, WrappedKey,
};
use sealdesk_wire::tickets::{MessagesAnswer, PostMessageBody, TicketAnswer, WrapsAnswer};

use crate::content::Content;
use crate::error::{ClientError, Result};
use crate::transport::{Request, Transport};
use crate::util::{POST_ATTEMPTS, b64, unb64};

/// A verified message as the interface shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Shown {
    /// Position in its chain.
    pub seq: u64,
    /// Server's receipt time, Unix seconds (0 for a message this client just sent).
    pub received_at: u64,
    /// Key id of the sender.
    pub sender: KeyId,
    /// Whether an administrator sent it (shown on the support side).
    pub from_support: bool,
    /// The kind.
    pub kind: Kind,
    /// The content, or why it cannot be read (the message itself is verified).
    pub content: core::result::Result<Content, ClientError>,
}

/// Who reads or writes a chain (PROTOCOL.md §15): the member's identity, the bearer credential
/// its requests carry, and the directory it verified. Each role builds one for every call: the
/// anonymous reporter (the ticket's identity, its access token), an account holder (the
/// account's identity, its session) and an administrator (likewise, with the directory it
/// re-read before writing).
#[derive(Clone, Copy, Debug)]
pub struct Participant<'a> {
    /// The member's identity: it signs what is sent and opens the wraps addressed to it.
    pub identity: &'a Identity,
    /// The credential of the requests: the ticket's access token (base64url) or a session.
    pub bearer: &'a str,
    /// The verified directory: who the administrators are at its head (§7.4).
    pub directory: &'a Directory,
}

/// A message sealed as the next of a chain, not yet accepted by the server.
pub(crate) struct Sealed {
    pub(crate) message: Message,
    /// The new epoch's key wrapped for every member (base64url), when the message opens one.
    pub(crate) wraps: Vec<String>,
    /// The epoch the message opens, if any (its key is already in the thread's keys).
    pub(crate) opened: Option<u32>,
}

/// One chain of a ticket: verified state, members and the keys of its epochs.
#[derive(Clone, Debug)]
pub struct Thread {
    members: Members,
    state: ChainState,
    keys: BTreeMap<u32, TicketKey>,
}

impl Thread {
    /// An empty chain of the ticket whose members are `members`.
    pub fn new(members: Members, chain: Chain) -> Self {
        let state = ChainState::new(members.ticket_id(), chain);
        Thread {
            members,
            state,
            keys: BTreeMap::new(),
        }
    }

    /// The chain of the ticket whose members are `members`, resumed from a state verified on
    /// an earlier visit (PROTOCOL.md §10.4): the next [`Thread::refresh`] re-reads the kept
    /// last message and verifies only what follows it. It holds no epoch keys; a refresh
    /// fetches those of the new messages.
    pub fn resume(members: Members, kept: ChainState) -> Self {
        Thread {
            members,
            state: kept,
            keys: BTreeMap::new(),
        }
    }

    /// The ticket.
    pub fn ticket_id(&self) -> TicketId {
        self.members.ticket_id()
    }

    /// The chain.
    pub fn chain(&self) -> Chain {
        self.state.chain()
    }

    /// The verified state after the last message (persist it to detect rollbacks later).
    pub fn state(&self) -> &ChainState {
        &self.state
    }

    /// The ticket's verified members.
    pub fn members(&self) -> &Members {
        &self.members
    }

    /// The keys of the epochs this member holds, by epoch.
    pub(crate) fn keys(&self) -> &BTreeMap<u32, TicketKey> {
        &self.keys
    }

    /// Whether `key_id` is one of the ticket's reporter keys: the first, or one endorsed by a
    /// verified and read endorse message (§8.2).
    pub fn is_reporter(&self, key_id: &KeyId) -> bool {
        self.reporters().any(|r| r.key_id() == *key_id)
    }

    /// The reporter keys: the first reporter key, then each key endorsed on the conversation
    /// (each once).
    pub fn reporters(&self) -> impl Iterator<Item = &PublicIdentity> {
        let first = self.members.reporter();
        core::iter::once(first).chain(self.state.reporters().iter().filter(move |r| *r != first))
    }

    /// Who a new epoch's key is wrapped for: the chain's members at the verified head (§8.1),
    /// each once (an account that is both the reporter and an administrator counts once).
    fn recipients(&self, directory: &Directory) -> Vec<PublicIdentity> {
        let mut recipients: Vec<PublicIdentity> = match self.chain() {
            Chain::Conversation => self.reporters().cloned().collect(),
            Chain::Notes => Vec::new(),
        };
        recipients.extend(directory.current_admins().into_iter().cloned());
        let mut seen = BTreeSet::new();
        recipients.retain(|r| seen.insert(r.key_id()));
        recipients
    }

    /// Seals `content` as the next message of the chain (PROTOCOL.md §15, writing). Opens a
    /// new epoch, with a fresh key wrapped for exactly the chain's members at the head, when
    /// the chain is empty, when an administrator was removed since the current epoch opened,
    /// or for a rotation. Draws the key, salts and HPKE randomness from `rng`.
    pub(crate) fn seal_next(
        &mut self,
        me: &Identity,
        directory: &Directory,
        content: &Content,
        rng: &mut impl CryptoRng,
    ) -> Result<Sealed> {
        let bytes = content.to_bytes()?;
        let head = directory.head_seq();
        let (epoch, opens) = match self.state.epoch() {
            None => (0, true),
            Some(current)
                if content.kind() == Kind::Rotate || self.state.must_rotate(directory, head) =>
            {
                (current + 1, true)
            }
            Some(current) => (current, false),
        };
        let mut wraps = Vec::new();
        if opens {
            let key = TicketKey::generate(rng);
            let slot = WrapSlot {
                ticket_id: self.ticket_id(),
                chain: self.chain(),
                epoch,
                dir_seq: head,
            };
            wraps = wrap_for(me, &self.recipients(directory), slot, &key, rng)?;
            self.keys.insert(epoch, key);
        }
        let placement = Placement {
            ticket_id: self.ticket_id(),
            chain: self.chain(),
            seq: self.state.last_seq() + 1,
            prev_hash: self.state.last_hash(),
            epoch,
            dir_seq: head,
            kind: content.kind(),
        };
        let sealed = match self.keys.get(&epoch) {
            Some(key) => Message::seal(me, placement, key, &bytes, rng).map_err(ClientError::from),
            None => Err(ClientError::new(
                "wrap.missing",
                "No key was delivered for the current epoch.",
            )),
        };
        match sealed {
            Ok(message) => Ok(Sealed {
                message,
                wraps,
                opened: opens.then_some(epoch),
            }),
            Err(error) => {
                if opens {
                    self.keys.remove(&epoch);
                }
                Err(error)
            }
        }
    }

    /// Forgets the key of an epoch that a refused message would have opened.
    pub(crate) fn abandon(&mut self, sealed: &Sealed) {
        if let Some(epoch) = sealed.opened {
            self.keys.remove(&epoch);
        }
    }

    /// Verifies a message the server accepted as the next of the chain, advances the state and
    /// returns it as shown. The writer of an endorse message reads it at once (§8.2), so the
    /// endorsed key counts from the next message on.
    pub(crate) fn accept(
        &mut self,
        directory: &Directory,
        message: &Message,
        received_at: u64,
    ) -> Result<Shown> {
        self.state
            .push(message, &self.members, directory)
            .map_err(|fault| {
                ClientError::from(sealdesk_crypto::Error::Transcript {
                    index: 0,
                    seq: message.header.seq,
                    fault,
                })
            })?;
        if self.state.endorsement_unread()
            && let Some(key) = self.keys.get(&message.header.epoch)
        {
            self.state.read_endorsement(message, key)?;
        }
        Ok(self.show(message, received_at, &BTreeMap::new()))
    }

    /// Fetches the messages after the last verified one, verifies them (§10.2) from the kept
    /// state, obtains the keys of their epochs (§6.3, §6.4) and appends them, decrypted, to
    /// `shown`; returns how many were added. `bearer` is the credential that reads the ticket
    /// (access token or session); `me` the member whose wraps are fetched.
    ///
    /// # Errors
    /// `transcript.*` for a dropped, reordered, altered or injected message (nothing from it
    /// on is accepted; the messages of earlier pages stay in `shown`); `server.*`; `network`;
    /// `bad_response`.
    pub async fn refresh<T: Transport>(
        &mut self,
        transport: &T,
        bearer: &str,
        me: &Identity,
        directory: &Directory,
        shown: &mut Vec<Shown>,
    ) -> Result<usize> {
        let mut added = 0;
        loop {
            // Re-read the last kept message too (PROTOCOL.md §10.4): a server that answers
            // without it, or with another one, rolled the chain back or forked it.
            let kept = self.state.last_seq();
            let path = format!(
                "/api/v1/tickets/{}/messages?chain={}&after={}",
                self.ticket_id().to_hex(),
                self.chain().to_u8(),
                kept.saturating_sub(1)
            );
            let mut answer: MessagesAnswer = transport
                .send(Request::get(path).bearer(Some(bearer)))
                .await?
                .json("the messages")?;
            let mut encoded = answer
                .messages
                .iter()
                .map(|m| unb64(&m.message, "the messages"))
                .collect::<Result<Vec<_>>>()?;
            if kept > 0 {
                self.check_kept_message(encoded.first().map(Vec::as_slice))?;
                let kept_message = encoded.remove(0);
                answer.messages.remove(0);
                if self.state.endorsement_unread() {
                    // The last read ended at an endorse message whose key had not arrived yet
                    // (a new device before its wraps): read it now if the key is there.
                    self.read_kept_endorsement(transport, bearer, me, directory, &kept_message)
                        .await?;
                }
            }
            let (next, verified, failures) = self
                .verify_reading(transport, bearer, me, directory, &encoded)
                .await?;
            self.state = next;
            for (message, out) in verified.iter().zip(&answer.messages) {
                shown.push(self.show(message, out.received_at, &failures));
                added += 1;
            }
            if !answer.more || answer.messages.is_empty() {
                return Ok(added);
            }
        }
    }

    /// Verifies `encoded`, the messages after the kept state (§10.2), reading each endorse
    /// message before the next (§8.2, §15 step 3): it fetches the keys of the epochs it needs
    /// whenever an endorse message is in an epoch whose key this member does not hold yet.
    /// Returns the new state (not yet kept), the verified messages and, per epoch whose key
    /// could not be obtained, why.
    ///
    /// # Errors
    /// `transcript.*` (`transcript.endorsement_unread` when an endorse message's key cannot be
    /// obtained and messages follow it); `server.*`, `network`, `bad_response`.
    async fn verify_reading<T: Transport>(
        &mut self,
        transport: &T,
        bearer: &str,
        me: &Identity,
        directory: &Directory,
        encoded: &[Vec<u8>],
    ) -> Result<(ChainState, Vec<Message>, BTreeMap<u32, ClientError>)> {
        let mut next = self.state.clone();
        let mut verified: Vec<Message> = Vec::with_capacity(encoded.len());
        let mut failures = BTreeMap::new();
        let mut rest = encoded;
        loop {
            let mut attempt = next.clone();
            let keys = &self.keys;
            let outcome =
                attempt.extend_encoded_reading(rest, &self.members, directory, |_, message| {
                    keys.get(&message.header.epoch).cloned()
                });
            let (batch, unread_at) = match outcome {
                Ok(batch) => (batch, None),
                // An endorse message whose key is not here yet: verify up to it, fetch keys.
                Err(sealdesk_crypto::Error::Transcript {
                    index,
                    fault: Fault::EndorsementUnread,
                    ..
                }) if index > 0 => {
                    attempt = next.clone();
                    let batch = attempt.extend_encoded_reading(
                        &rest[..index],
                        &self.members,
                        directory,
                        |_, message| keys.get(&message.header.epoch).cloned(),
                    )?;
                    (batch, Some(index))
                }
                Err(error) => return Err(offset(error, verified.len()).into()),
            };
            let needed: BTreeSet<u32> = batch
                .iter()
                .map(|m| m.header.epoch)
                .filter(|epoch| !self.keys.contains_key(epoch) && !failures.contains_key(epoch))
                .collect();
            if !needed.is_empty() {
                // A new device reads the endorse message that makes it a member with a wrap
                // addressed to it: count it while checking that wrap (§6.3). The key is still
                // the wrapper's, an administrator's, signed; content naming another key adds
                // nothing below.
                let mut for_wraps = attempt.clone();
                if for_wraps.endorsement_unread() {
                    for_wraps.accept_claimed_endorsement(me.public().clone())?;
                }
                let missing = self
                    .fetch_keys(transport, bearer, me, directory, &for_wraps, &needed)
                    .await?;
                failures.extend(missing);
            }
            if attempt.endorsement_unread()
                && let Some(last) = batch.last()
                && let Some(key) = self.keys.get(&last.header.epoch)
            {
                // Unreadable content adds no key; the message is shown with a warning.
                let _ = attempt.read_endorsement(last, key);
            }
            verified.extend(batch);
            next = attempt;
            match unread_at {
                Some(index) if !next.endorsement_unread() => rest = &rest[index..],
                Some(_) => {
                    return Err(sealdesk_crypto::Error::Transcript {
                        index: verified.len(),
                        seq: next.last_seq() + 1,
                        fault: Fault::EndorsementUnread,
                    }
                    .into());
                }
                None => return Ok((next, verified, failures)),
            }
        }
    }

    /// Reads the kept last message, an endorse message whose content was not read, once the
    /// key of its epoch can be had (fetched and verified as in [`Thread::verify_reading`]).
    /// Without the key the state stays as it is, and the next message will fail with
    /// `transcript.endorsement_unread`.
    async fn read_kept_endorsement<T: Transport>(
        &mut self,
        transport: &T,
        bearer: &str,
        me: &Identity,
        directory: &Directory,
        encoded: &[u8],
    ) -> Result<()> {
        let message = Message::from_bytes(encoded)?;
        let epoch = message.header.epoch;
        if !self.keys.contains_key(&epoch) {
            let mut for_wraps = self.state.clone();
            for_wraps.accept_claimed_endorsement(me.public().clone())?;
            let needed = BTreeSet::from([epoch]);
            self.fetch_keys(transport, bearer, me, directory, &for_wraps, &needed)
                .await?;
        }
        if let Some(key) = self.keys.get(&epoch) {
            // Unreadable content adds no key; the message was shown with a warning.
            let _ = self.state.read_endorsement(&message, key);
        }
        Ok(())
    }

    /// Checks that the server still holds the last kept message, unchanged.
    ///
    /// # Errors
    /// `transcript.unexpected_seq` when it is missing (a rollback), `transcript.broken_link`
    /// when another message stands in its place (a fork).
    fn check_kept_message(&self, first: Option<&[u8]>) -> Result<()> {
        let kept = self.state.last_seq();
        let fault = match first.map(Message::from_bytes) {
            None => Some(Fault::UnexpectedSeq {
                expected: kept,
                found: kept.saturating_sub(1),
            }),
            Some(Err(_)) => Some(Fault::Malformed),
            Some(Ok(message)) if message.header.seq != kept => Some(Fault::UnexpectedSeq {
                expected: kept,
                found: message.header.seq,
            }),
            Some(Ok(message)) if message.hash() != self.state.last_hash() => {
                Some(Fault::BrokenLink)
            }
            Some(Ok(_)) => None,
        };
        match fault {
            Some(fault) => Err(sealdesk_crypto::Error::Transcript {
                index: 0,
                seq: kept,
                fault,
            }
            .into()),
            None => Ok(()),
        }
    }

    /// Seals and posts `content` as the next message of the chain as `who` (opening an epoch
    /// when needed, see [`Thread::seal_next`]) and appends it to `shown`. When the server
    /// answers that the chain moved on, reads the new messages (also appended) and tries again
    /// with a fresh salt.
    ///
    /// # Errors
    /// `server.*`, `network`, verification errors while catching up, `content.*`.
    pub async fn send<T: Transport>(
        &mut self,
        transport: &T,
        who: Participant<'_>,
        content: &Content,
        rng: &mut impl CryptoRng,
        shown: &mut Vec<Shown>,
    ) -> Result<()> {
        let Participant {
            identity: me,
            bearer,
            directory,
        } = who;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let sealed = self.seal_next(me, directory, content, rng)?;
            let path = format!("/api/v1/tickets/{}/messages", self.ticket_id().to_hex());
            let body = PostMessageBody {
                message: b64(&sealed.message.to_bytes()),
                wraps: sealed.wraps.clone(),
                endorsed: match content {
                    Content::Endorse(endorse) => Some(b64(&endorse.endorsed.to_bytes())),
                    _ => None,
                },
            };
            let outcome = match transport
                .send(Request::post_json(path, &body)?.bearer(Some(bearer)))
                .await
            {
                Ok(response) => response.check(),
                Err(error) => Err(error),
            };
            match outcome {
                Ok(()) => {
                    let message = self.accept(directory, &sealed.message, 0)?;
                    shown.push(message);
                    return Ok(());
                }
                Err(error) if error.is_conflict() && attempt < POST_ATTEMPTS => {
                    self.abandon(&sealed);
                    self.refresh(transport, bearer, me, directory, shown)
                        .await?;
                }
                Err(error) => {
                    // If the post did arrive after all, the next read fetches this member's
                    // own wrap of the epoch it opened.
                    self.abandon(&sealed);
                    return Err(error);
                }
            }
        }
    }

    /// Fetches this member's wraps of the chain and opens those of the `needed` epochs after
    /// verifying them against `state` (the chain verified up to the messages that need them).
    /// Returns, per epoch whose key could not be obtained, why.
    async fn fetch_keys<T: Transport>(
        &mut self,
        transport: &T,
        bearer: &str,
        me: &Identity,
        directory: &Directory,
        state: &ChainState,
        needed: &BTreeSet<u32>,
    ) -> Result<BTreeMap<u32, ClientError>> {
        let path = format!(
            "/api/v1/tickets/{}/wraps?chain={}&recipient={}",
            self.ticket_id().to_hex(),
            self.chain().to_u8(),
            b64(&me.key_id().0)
        );
        let answer: WrapsAnswer = transport
            .send(Request::get(path).bearer(Some(bearer)))
            .await?
            .json("the wraps")?;
        let mut failures = BTreeMap::new();
        let mut undecodable = None;
        for encoded in &answer.wraps {
            let wrap = match unb64(encoded, "the wraps")
                .and_then(|bytes| WrappedKey::from_bytes(&bytes).map_err(ClientError::from))
            {
                Ok(wrap) => wrap,
                Err(error) => {
                    undecodable = Some(error);
                    continue;
                }
            };
            let epoch = wrap.context.epoch;
            if !needed.contains(&epoch) || self.keys.contains_key(&epoch) {
                continue;
            }
            match wrap
                .verify(&self.members, directory, state)
                .and_then(|()| wrap.open(me))
            {
                Ok(key) => {
                    self.keys.insert(epoch, key);
                    failures.remove(&epoch);
                }
                Err(error) => {
                    failures.insert(epoch, ClientError::from(error));
                }
            }
        }
        for epoch in needed {
            if !self.keys.contains_key(epoch) && !failures.contains_key(epoch) {
                let error = undecodable.clone().unwrap_or_else(|| {
                    ClientError::new(
                        "wrap.missing",
                        "The key of this message was not delivered to you.",
                    )
                });
                failures.insert(*epoch, error);
            }
        }
        Ok(failures)
    }

    fn show(
        &self,
        message: &Message,
        received_at: u64,
        failures: &BTreeMap<u32, ClientError>,
    ) -> Shown {
        let epoch = message.header.epoch;
        let content = match self.keys.get(&epoch) {
            Some(key) => message
                .open(key)
                .map_err(ClientError::from)
                .and_then(|plain| Content::parse(message.header.kind, &plain))
                .and_then(|content| self.check_endorsement(content)),
            None => Err(failures.get(&epoch).cloned().unwrap_or_else(|| {
                ClientError::new("wrap.missing", "The key of this message is missing.")
            })),
        };
        Shown {
            seq: message.header.seq,
            received_at,
            sender: message.header.sender,
            from_support: !self.is_reporter(&message.header.sender),
            kind: message.header.kind,
            content,
        }
    }
}

impl Thread {
    /// An endorse message's content counts only if it names this ticket and its key was added
    /// while verifying (§8.2); otherwise it is shown as a warning, never as a new device.
    fn check_endorsement(&self, content: Content) -> Result<Content> {
        match &content {
            Content::Endorse(endorse)
                if endorse.ticket_id != self.ticket_id()
                    || !self.state.reporters().contains(&endorse.endorsed) =>
            {
                Err(ClientError::new(
                    "endorsement.not_added",
                    "This endorsement names another ticket or was not read; no key was added.",
                ))
            }
            _ => Ok(content),
        }
    }
}

/// The error of a batch verified after `before` messages, indexed within the whole fetch.
fn offset(error: sealdesk_crypto::Error, before: usize) -> sealdesk_crypto::Error {
    match error {
        sealdesk_crypto::Error::Transcript { index, seq, fault } => {
            sealdesk_crypto::Error::Transcript {
                index: index + before,
                seq,
                fault,
            }
        }
        other => other,
    }
}

/// Reads a ticket's metadata with `bearer`.
///
/// # Errors
/// `server.*` (`server.not_found` for a ticket the bearer may not read), `network`,
/// `bad_response`.
pub(crate) async fn fetch_ticket<T: Transport>(
    transport: &T,
    bearer: &str,
    id: TicketId,
) -> Result<TicketAnswer> {
    transport
        .send(Request::get(format!("/api/v1/tickets/{}", id.to_hex())).bearer(Some(bearer)))
        .await?
        .json("the ticket")
}

/// Wraps `key` of the epoch `slot` for each recipient, signed by `wrapper`, as base64url
/// strings (one per recipient, in their order). Draws each wrap's HPKE randomness from `rng`.
///
/// # Errors
/// `hpke` (it cannot fail for validated recipients).
pub(crate) fn wrap_for(
    wrapper: &Identity,
    recipients: &[PublicIdentity],
    slot: WrapSlot,
    key: &TicketKey,
    rng: &mut impl CryptoRng,
) -> Result<Vec<String>> {
    recipients
        .iter()
        .map(|recipient| {
            let wrap = WrappedKey::seal(wrapper, recipient, slot, key, rng)?;
            Ok(b64(&wrap.to_bytes()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use core::future::Future;
    use core::task::{Context, Poll, Waker};

    use sealdesk_crypto::{DirectoryEntry, system_rng};
    use serde_json::{Value, json};

    use super::*;
    use crate::content::Text;
    use crate::transport::Response;

    /// Runs a future that never waits (the fake transport answers at once).
    fn block_on<F: Future>(future: F) -> F::Output {
        let mut future = core::pin::pin!(future);
        let mut cx = Context::from_waker(Waker::noop());
        loop {
            if let Poll::Ready(value) = future.as_mut().poll(&mut cx) {
                return value;
            }
        }
    }

    /// A server that holds one chain's messages and hands out the given wraps.
    struct Fake {
        messages: Vec<Vec<u8>>,
        wraps: Vec<Vec<u8>>,
    }

    impl Transport for Fake {
        async fn send(&self, request: Request) -> Result<Response> {
            let body: Value = if request.path.contains("/messages?") {
                let after: usize = request
                    .path
                    .rsplit_once("after=")
                    .and_then(|(_, n)| n.parse().ok())
                    .unwrap_or(0);
                let messages: Vec<Value> = self
                    .messages
                    .iter()
                    .enumerate()
                    .skip(after)
                    .map(|(i, m)| json!({"seq": i + 1, "received_at": 5, "message": b64(m)}))
                    .collect();
                json!({"messages": messages, "more": false})
            } else if request.path.contains("/wraps?") {
                let wraps: Vec<String> = self.wraps.iter().map(|w| b64(w)).collect();
                json!({"wraps": wraps})
            } else {
                return Ok(Response {
                    status: 404,
                    body: br#"{"error":"not_found","message":"no"}"#.to_vec(),
                });
            };
            Ok(Response {
                status: 200,
                body: serde_json::to_vec(&body).expect("json"),
            })
        }
    }

    /// Administrators `a` (genesis) and `b` (added at 1, removed at 2), and the directory
    /// after each entry.
    fn team() -> (Identity, Identity, [Directory; 3]) {
        let mut rng = system_rng();
        let a = Identity::generate(&mut rng).1;
        let b = Identity::generate(&mut rng).1;
        let genesis = DirectoryEntry::genesis(&a);
        let d0 = Directory::verify(core::slice::from_ref(&genesis)).expect("genesis");
        let add = DirectoryEntry::add(&d0, &a, b.public()).expect("add");
        let d1 = Directory::verify(&[genesis.clone(), add.clone()]).expect("add");
        let remove = DirectoryEntry::remove(&d1, &a, b.public()).expect("remove");
        let d2 = Directory::verify(&[genesis, add, remove]).expect("remove");
        (a, b, [d0, d1, d2])
    }

    fn text(text: &str) -> Content {
        Content::Message(Text {
            text: text.into(),
            ..Text::default()
        })
    }

    fn recipients(sealed: &Sealed) -> BTreeSet<KeyId> {
        sealed
            .wraps
            .iter()
            .map(|w| {
                let bytes = unb64(w, "wrap").expect("base64url");
                WrappedKey::from_bytes(&bytes)
                    .expect("wrap")
                    .context
                    .recipient
            })
            .collect()
    }

    #[test]
    fn epochs_open_for_exactly_the_members_of_the_chain() {
        let mut rng = system_rng();
        let (a, b, [_, d1, d2]) = team();
        let reporter = Identity::generate(&mut rng).1;
        let id = TicketId::generate(&mut rng);
        let mut conversation = Thread::new(
            Members::new(id, reporter.public().clone()),
            Chain::Conversation,
        );

        let first = conversation
            .seal_next(&reporter, &d1, &text("hello"), &mut rng)
            .expect("seal");
        assert_eq!(first.opened, Some(0));
        assert_eq!(
            recipients(&first),
            BTreeSet::from([reporter.key_id(), a.key_id(), b.key_id()])
        );
        conversation.accept(&d1, &first.message, 0).expect("accept");

        let second = conversation
            .seal_next(&a, &d1, &text("hi"), &mut rng)
            .expect("seal");
        assert_eq!((second.opened, second.wraps.len()), (None, 0));
        conversation
            .accept(&d1, &second.message, 0)
            .expect("accept");

        // After b's removal the next message opens epoch 1, without b.
        let third = conversation
            .seal_next(&reporter, &d2, &text("again"), &mut rng)
            .expect("seal");
        assert_eq!(third.opened, Some(1));
        assert_eq!(
            recipients(&third),
            BTreeSet::from([reporter.key_id(), a.key_id()])
        );
        conversation.accept(&d2, &third.message, 0).expect("accept");

        // A rotation always opens an epoch.
        let rotate = conversation
            .seal_next(&a, &d2, &Content::Rotate, &mut rng)
            .expect("seal");
        assert_eq!(rotate.opened, Some(2));
        conversation
            .accept(&d2, &rotate.message, 0)
            .expect("accept");
        assert_eq!(conversation.state().epoch(), Some(2));

        // Notes go to administrators only; an abandoned epoch's key is forgotten.
        let mut notes = Thread::new(conversation.members().clone(), Chain::Notes);
        let note = Content::InternalNote(Text {
            text: "between us".into(),
            ..Text::default()
        });
        let sealed = notes.seal_next(&a, &d1, &note, &mut rng).expect("seal");
        assert_eq!(
            recipients(&sealed),
            BTreeSet::from([a.key_id(), b.key_id()])
        );
        notes.abandon(&sealed);
        assert!(notes.keys().is_empty());
    }

    #[test]
    fn an_administrator_who_is_also_the_reporter_gets_one_wrap() {
        let mut rng = system_rng();
        let (a, b, [_, d1, _]) = team();
        let id = TicketId::generate(&mut rng);
        let mut thread = Thread::new(Members::new(id, a.public().clone()), Chain::Conversation);
        let first = thread
            .seal_next(&a, &d1, &text("own ticket"), &mut rng)
            .expect("seal");
        assert_eq!(first.wraps.len(), 2);
        assert_eq!(recipients(&first), BTreeSet::from([a.key_id(), b.key_id()]));
    }

    /// A new ticket's members (a fresh reporter) and the reporter's first message, "hello",
    /// sealed at `directory`'s head.
    fn reporter_says_hello(directory: &Directory) -> (Members, Sealed) {
        let mut rng = system_rng();
        let reporter = Identity::generate(&mut rng).1;
        let id = TicketId::generate(&mut rng);
        let members = Members::new(id, reporter.public().clone());
        let mut writer = Thread::new(members.clone(), Chain::Conversation);
        let first = writer
            .seal_next(&reporter, directory, &text("hello"), &mut rng)
            .expect("seal");
        (members, first)
    }

    #[test]
    fn a_withheld_or_forged_wrap_shows_the_verified_message_with_a_warning() {
        let (a, _, [d0, ..]) = team();
        let (members, first) = reporter_says_hello(&d0);
        let for_a = first
            .wraps
            .iter()
            .map(|w| unb64(w, "wrap").expect("base64url"))
            .find(|w| WrappedKey::from_bytes(w).expect("wrap").context.recipient == a.key_id())
            .expect("a's wrap");
        let mut forged = for_a.clone();
        let last = forged.len() - 1;
        forged[last] ^= 1;
        let messages = vec![first.message.to_bytes()];

        let cases = [
            (Vec::new(), Some("wrap.missing")),
            (vec![forged], Some("wrap.bad_signature")),
            (vec![for_a], None),
        ];
        for (wraps, expected) in cases {
            let fake = Fake {
                messages: messages.clone(),
                wraps,
            };
            let mut reader = Thread::new(members.clone(), Chain::Conversation);
            let mut shown = Vec::new();
            let added = block_on(reader.refresh(&fake, "token", &a, &d0, &mut shown))
                .expect("the transcript verifies");
            assert_eq!(added, 1);
            assert_eq!(reader.state().last_seq(), 1);
            assert!(!shown[0].from_support);
            assert_eq!(shown[0].received_at, 5);
            match expected {
                Some(code) => {
                    assert_eq!(
                        shown[0].content.as_ref().err().map(|e| e.code.as_str()),
                        Some(code)
                    );
                }
                None => assert_eq!(shown[0].content, Ok(text("hello"))),
            }
        }
    }

    #[test]
    fn a_broken_transcript_is_refused_and_nothing_is_kept() {
        let (a, _, [d0, ..]) = team();
        let (members, first) = reporter_says_hello(&d0);
        let mut altered = first.message.to_bytes();
        altered[200] ^= 1;
        let fake = Fake {
            messages: vec![altered],
            wraps: Vec::new(),
        };
        let mut reader = Thread::new(members, Chain::Conversation);
        let mut shown = Vec::new();
        let error =
            block_on(reader.refresh(&fake, "token", &a, &d0, &mut shown)).expect_err("altered");
        assert_eq!(error.code, "transcript.bad_signature");
        assert!(shown.is_empty());
        assert_eq!(reader.state().last_seq(), 0);
    }
}
