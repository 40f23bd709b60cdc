//! The anonymous reporter: make the ticket link, open the ticket, and read and write the
//! conversation, verifying everything before it is shown (PROTOCOL.md §10, §11, §15).

use std::collections::{BTreeMap, BTreeSet};

use sealdesk_crypto::{
    Chain, ChainState, CryptoRng, Directory, DirectoryHead, EndorseContent, Identity, LinkFragment,
    Members, PublicIdentity, TicketId, TicketSecret, WrapSlot, WrappedKey,
};
use sealdesk_wire::pow::ProofOfWork;
use sealdesk_wire::team::HistoryWrapsBody;
use sealdesk_wire::tickets::{CreateAccountTicketBody, CreateTicketBody, WrapsAnswer};

use crate::content::{Content, DebugData, Outgoing, Text};
use crate::error::{ClientError, Result};
use crate::kept;
use crate::pow;
pub use crate::thread::Shown;
use crate::thread::{Participant, Thread, fetch_ticket, wrap_for};
use crate::transport::{Request, Transport};
use crate::util::{b64, unb64};

/// History wraps per request (the server's limit, spec/API.md).
const MAX_WRAPS_PER_REQUEST: usize = 256;

/// A private ticket link: `/help/ticket/{id}#{secret}`, or `/help/ticket/{id}#{secret}.{seq}.{hash}`
/// when it carries the directory head its creator verified (PROTOCOL.md §11). The fragment never
/// reaches the server.
pub struct TicketLink {
    secret: TicketSecret,
    head: Option<DirectoryHead>,
}

impl TicketLink {
    /// A new link (draws the 32-byte secret from `rng`), carrying no head yet.
    pub fn generate(rng: &mut impl CryptoRng) -> Self {
        TicketLink {
            secret: TicketSecret::generate(rng),
            head: None,
        }
    }

    /// Parses a link or its path (`https://host/help/ticket/{id}#{fragment}`, or from `/help`),
    /// with or without a directory head in the fragment (PROTOCOL.md §11).
    ///
    /// # Errors
    /// `link.malformed` for anything else (including a malformed head); `link.mismatch` when
    /// the id is not the one the secret derives (a mistyped or tampered link).
    pub fn parse(link: &str) -> Result<Self> {
        let malformed =
            || ClientError::new("link.malformed", "This is not a Sealdesk ticket link.");
        let rest = link.split_once("/help/ticket/").ok_or_else(malformed)?.1;
        let (id, fragment) = rest.split_once('#').ok_or_else(malformed)?;
        let id = TicketId::from_hex(id).map_err(|_| malformed())?;
        let LinkFragment { secret, head } =
            LinkFragment::parse(fragment.trim()).map_err(|_| malformed())?;
        if secret.ticket_id() != id {
            return Err(ClientError::new(
                "link.mismatch",
                "The ticket link is damaged: its id and secret do not belong together.",
            ));
        }
        Ok(TicketLink { secret, head })
    }

    /// The ticket id.
    pub fn ticket_id(&self) -> TicketId {
        self.secret.ticket_id()
    }

    /// The directory head the link carries (to pin before opening, PROTOCOL.md §7.4), if any.
    pub fn head(&self) -> Option<DirectoryHead> {
        self.head
    }

    /// `/help/ticket/{id}#{fragment}` (with the head when the link carries one): prefix it
    /// with the instance's URL.
    pub fn path(&self) -> String {
        let fragment = LinkFragment {
            secret: self.secret.clone(),
            head: self.head,
        };
        format!(
            "/help/ticket/{}#{}",
            self.ticket_id().to_hex(),
            fragment.encode()
        )
    }
}

/// What the reporter typed in the new-ticket form.
#[derive(Clone, Debug, Default)]
pub struct Opening {
    /// Subject.
    pub subject: String,
    /// The message.
    pub text: String,
    /// Category, if the instance has categories.
    pub category: Option<String>,
    /// Name, optional.
    pub name: Option<String>,
    /// Email the reporter typed (sent encrypted to the administrators).
    pub email: Option<String>,
    /// Marked urgent.
    pub urgent: bool,
    /// Address for "resend access link" (the server keeps only a keyed hash).
    pub notify_email: Option<String>,
    /// Debug data the reporter left in, sent as a second message.
    pub debug: Option<BTreeMap<String, String>>,
}

impl Opening {
    /// The first message's content (§14: the text with the opening form's fields).
    fn first_content(&self, now: u64) -> Content {
        Content::Message(Text {
            text: self.text.clone(),
            sent_at: now,
            subject: Some(self.subject.clone()),
            category: self.category.clone(),
            urgent: self.urgent,
            name: self.name.clone(),
            email: self.email.clone(),
            author: None,
        })
    }
}

/// Who opens a new ticket, which decides the route and its body.
pub(crate) enum TicketOwner<'a> {
    /// `POST /api/v1/tickets`, without credential.
    Anonymous {
        /// `token_hash` of the ticket's access token (base64url).
        access_token_hash: String,
        /// The solved challenge, when the instance asks for a proof of work.
        pow: Option<ProofOfWork>,
    },
    /// `POST /api/v1/tickets/account`, with the account's session.
    Account {
        /// The session token.
        session: &'a str,
    },
}

/// Where and how a new ticket is opened.
pub(crate) struct NewTicket<'a> {
    /// The ticket id (derived from the secret, or random for an account's ticket).
    pub(crate) id: TicketId,
    /// Who opens it.
    pub(crate) owner: TicketOwner<'a>,
    /// The credential that reads and writes the ticket afterwards.
    pub(crate) bearer: &'a str,
}

/// Opens a ticket as reporter `me`: seals the first message and the epoch-0 key for the
/// reporter and every administrator of the verified `directory`, posts them to the route of
/// `target.owner`, then sends the opening's debug data, if any, as the second message.
/// Returns the conversation and its shown messages.
pub(crate) async fn create_ticket<T: Transport>(
    transport: &T,
    directory: &Directory,
    me: &Identity,
    target: NewTicket<'_>,
    opening: Opening,
    now: u64,
    rng: &mut impl CryptoRng,
) -> Result<(Thread, Vec<Shown>)> {
    let mut thread = Thread::new(
        Members::new(target.id, me.public().clone()),
        Chain::Conversation,
    );
    let first = thread.seal_next(me, directory, &opening.first_content(now), rng)?;
    let reporter = b64(&me.public().to_bytes());
    let message = b64(&first.message.to_bytes());
    let wraps = first.wraps.clone();
    let notify_email = opening.notify_email.clone();
    match target.owner {
        TicketOwner::Anonymous {
            access_token_hash,
            pow,
        } => {
            let body = CreateTicketBody {
                reporter,
                access_token_hash,
                message,
                wraps,
                notify_email,
                pow,
            };
            let request = Request::post_json("/api/v1/tickets", &body)?;
            transport.send(request).await?.check()?;
        }
        TicketOwner::Account { session } => {
            // The instance may ask accounts for a proof of work too (spec/API.md, "Proof of
            // work"); `?for=account` answers no challenge when it does not.
            let body = CreateAccountTicketBody {
                reporter,
                message,
                wraps,
                notify_email,
                pow: pow::solve_account_challenge(transport).await?,
            };
            let request =
                Request::post_json("/api/v1/tickets/account", &body)?.bearer(Some(session));
            transport.send(request).await?.check()?;
        }
    }
    let mut shown = vec![thread.accept(directory, &first.message, now)?];
    if let Some(fields) = opening.debug {
        let debug = Content::DebugData(DebugData {
            fields,
            sent_at: now,
        });
        let who = Participant {
            identity: me,
            bearer: target.bearer,
            directory,
        };
        thread.send(transport, who, &debug, rng, &mut shown).await?;
    }
    Ok((thread, shown))
}

/// An open anonymous ticket: its keys, verified conversation and messages.
pub struct ReporterTicket {
    link: TicketLink,
    identity: Identity,
    bearer: String,
    thread: Thread,
    /// The verified conversation, in order.
    pub messages: Vec<Shown>,
}

impl ReporterTicket {
    /// Opens a new anonymous ticket: makes the link, seals the first message and the epoch-0
    /// key for the reporter and every administrator of the verified `directory`, and sends
    /// the debug data if any. Draws the secret, the key, salts and HPKE randomness from `rng`.
    /// When the instance asks for a proof of work (spec/API.md), asks for a challenge and
    /// solves it first (about 2^bits hashes).
    ///
    /// # Errors
    /// `server.*` (e.g. `server.rate_limited`), `network`, `content.*`, crypto errors.
    pub async fn create<T: Transport>(
        transport: &T,
        directory: &Directory,
        opening: Opening,
        now: u64,
        rng: &mut impl CryptoRng,
    ) -> Result<ReporterTicket> {
        let proof = pow::solve_challenge(transport).await?;
        Self::create_with_proof(transport, directory, opening, proof, now, rng).await
    }

    /// [`ReporterTicket::create`] with the proof of work solved already (elsewhere: the
    /// browser solves it in a Web Worker with [`pow::solve_challenge`]), or `None` when the
    /// instance asks for none.
    ///
    /// # Errors
    /// As [`ReporterTicket::create`]; `server.pow_required` (no proof while the instance asks
    /// for one), `server.pow_invalid` (a wrong, expired or reused proof).
    pub async fn create_with_proof<T: Transport>(
        transport: &T,
        directory: &Directory,
        opening: Opening,
        proof: Option<ProofOfWork>,
        now: u64,
        rng: &mut impl CryptoRng,
    ) -> Result<ReporterTicket> {
        let mut link = TicketLink::generate(rng);
        // The link carries the head the first message was wrapped for (PROTOCOL.md §11).
        link.head = Some(directory.head());
        let identity = link.secret.identity();
        let token = link.secret.access_token();
        let bearer = token.to_base64url();
        let target = NewTicket {
            id: link.ticket_id(),
            owner: TicketOwner::Anonymous {
                access_token_hash: b64(&token.hash()),
                pow: proof,
            },
            bearer: &bearer,
        };
        let (thread, messages) =
            create_ticket(transport, directory, &identity, target, opening, now, rng).await?;
        Ok(ReporterTicket {
            link,
            identity,
            bearer,
            thread,
            messages,
        })
    }

    /// Opens an existing ticket from its link: checks that the server's reporter key is the
    /// one the secret derives, then reads and verifies the whole conversation.
    ///
    /// # Errors
    /// `link.wrong_reporter` when the server names another reporter key; verification
    /// errors; `server.*`; `network`.
    pub async fn open<T: Transport>(
        transport: &T,
        directory: &Directory,
        link: TicketLink,
    ) -> Result<ReporterTicket> {
        Self::open_with_state(transport, directory, link, None).await
    }

    /// [`ReporterTicket::open`], then, when `kept` holds the state kept from an earlier visit
    /// ([`ReporterTicket::state_bytes`]), checks that the conversation extends it
    /// (PROTOCOL.md §10.4). Keep [`ReporterTicket::state_bytes`] again after a successful open
    /// and never after a failed one.
    ///
    /// # Errors
    /// As [`ReporterTicket::open`]; `transcript.unexpected_seq` when the conversation is
    /// shorter than the kept one (a rollback), `transcript.broken_link` when it differs at a
    /// kept position (a fork), `kept.malformed` for damaged kept bytes.
    pub async fn open_with_state<T: Transport>(
        transport: &T,
        directory: &Directory,
        link: TicketLink,
        kept: Option<&[u8]>,
    ) -> Result<ReporterTicket> {
        let kept = kept::for_chain(kept, Chain::Conversation)?;
        let identity = link.secret.identity();
        let id = link.ticket_id();
        let bearer = link.secret.access_token().to_base64url();
        let answer = fetch_ticket(transport, &bearer, id).await?;
        if unb64(&answer.reporter, "the ticket")? != identity.public().to_bytes() {
            return Err(ClientError::new(
                "link.wrong_reporter",
                "The server names another reporter key for this ticket than the link's.",
            ));
        }
        let members = Members::new(id, identity.public().clone());
        let mut ticket = ReporterTicket {
            link,
            identity,
            bearer,
            thread: Thread::new(members, Chain::Conversation),
            messages: Vec::new(),
        };
        ticket.refresh(transport, directory).await?;
        if let Some(kept) = kept {
            let who = Participant {
                identity: &ticket.identity,
                bearer: &ticket.bearer,
                directory,
            };
            kept::check_extends_kept(
                transport,
                who,
                &mut ticket.thread,
                &mut ticket.messages,
                &kept,
            )
            .await?;
        }
        Ok(ticket)
    }

    /// Fetches, verifies and decrypts the messages after the last one seen; returns how many
    /// were added. The kept state makes a server that rolls the conversation back detectable.
    /// A verified message whose key was not delivered (or whose wrap fails verification) is
    /// added with that error (`wrap.*`) as its content.
    ///
    /// # Errors
    /// `transcript.*` for a dropped, reordered, altered or injected message (nothing after
    /// it is shown); `server.*`; `network`.
    pub async fn refresh<T: Transport>(
        &mut self,
        transport: &T,
        directory: &Directory,
    ) -> Result<usize> {
        self.thread
            .refresh(
                transport,
                &self.bearer,
                &self.identity,
                directory,
                &mut self.messages,
            )
            .await
    }

    /// Sends a reply.
    ///
    /// # Errors
    /// As [`ReporterTicket::send`].
    pub async fn reply<T: Transport>(
        &mut self,
        transport: &T,
        directory: &Directory,
        text: &str,
        now: u64,
        rng: &mut impl CryptoRng,
    ) -> Result<()> {
        let content = Outgoing::new(text, now).into_message();
        self.send(transport, directory, content, rng).await
    }

    /// Closes the ticket.
    ///
    /// # Errors
    /// As [`ReporterTicket::send`].
    pub async fn close<T: Transport>(
        &mut self,
        transport: &T,
        directory: &Directory,
        now: u64,
        rng: &mut impl CryptoRng,
    ) -> Result<()> {
        self.send(transport, directory, Content::close(now), rng)
            .await
    }

    /// Seals and posts `content` as the next conversation message, opening a new epoch (for
    /// the reporter keys and the current administrators) when an administrator was removed
    /// since the current one began. When the server answers that the conversation moved on,
    /// reads the new messages and tries again.
    ///
    /// # Errors
    /// `server.*`, `network`, verification errors while catching up, `content.*`.
    pub async fn send<T: Transport>(
        &mut self,
        transport: &T,
        directory: &Directory,
        content: Content,
        rng: &mut impl CryptoRng,
    ) -> Result<()> {
        let who = Participant {
            identity: &self.identity,
            bearer: &self.bearer,
            directory,
        };
        self.thread
            .send(transport, who, &content, rng, &mut self.messages)
            .await
    }

    /// Keeps this anonymous ticket in the list of the account whose identity is `endorsed` and
    /// whose session is `session` ("Keep this ticket in my account", PROTOCOL.md §8.2 grounds
    /// `0x02`, §15; [`crate::account::Account::public`] and
    /// [`crate::account::Account::session`]): posts an endorse message of the account's
    /// identity signed by the link's reporter key, with the account's session (spec/API.md,
    /// "Keeping a ticket in an account"), then wraps every conversation epoch for the account's
    /// key, so that the account reads the whole ticket and writes as the reporter. Repeating
    /// it (the key is already a reporter key) posts no second endorsement and skips wraps that
    /// exist. Returns how many wraps were stored.
    ///
    /// # Errors
    /// As [`ReporterTicket::send`] (`server.keep_needs_account` when the session is not the
    /// account's); `keep.unavailable` when this browser lacks the key of an epoch (the endorse
    /// message is posted, the wraps are not); `server.*`, `network` for the wraps.
    pub async fn keep_in_account<T: Transport>(
        &mut self,
        transport: &T,
        directory: &Directory,
        endorsed: &PublicIdentity,
        session: &str,
        rng: &mut impl CryptoRng,
    ) -> Result<usize> {
        let id = self.link.ticket_id();
        if !self.thread.is_reporter(&endorsed.key_id()) {
            let content =
                Content::Endorse(Box::new(EndorseContent::by_reporter(id, endorsed.clone())));
            let who = Participant {
                identity: &self.identity,
                bearer: session,
                directory,
            };
            self.thread
                .send(transport, who, &content, rng, &mut self.messages)
                .await?;
        }
        let Some(current) = self.thread.state().epoch() else {
            return Ok(0);
        };
        let path = format!(
            "/api/v1/tickets/{}/wraps?chain={}&recipient={}",
            id.to_hex(),
            Chain::Conversation.to_u8(),
            b64(&endorsed.key_id().0)
        );
        let existing: WrapsAnswer = transport
            .send(Request::get(path).bearer(Some(session)))
            .await?
            .json("the wraps")?;
        let mut has = BTreeSet::new();
        for encoded in &existing.wraps {
            has.insert(
                WrappedKey::from_bytes(&unb64(encoded, "the wraps")?)?
                    .context
                    .epoch,
            );
        }
        let mut wraps = Vec::new();
        for epoch in (0..=current).filter(|epoch| !has.contains(epoch)) {
            let key = self.thread.keys().get(&epoch).ok_or_else(|| {
                ClientError::new(
                    "keep.unavailable",
                    "This browser does not hold every key of the ticket; the account cannot \
                     read all of it.",
                )
            })?;
            let slot = WrapSlot {
                ticket_id: id,
                chain: Chain::Conversation,
                epoch,
                dir_seq: directory.head_seq(),
            };
            wraps.extend(wrap_for(
                &self.identity,
                core::slice::from_ref(endorsed),
                slot,
                key,
                rng,
            )?);
        }
        for batch in wraps.chunks(MAX_WRAPS_PER_REQUEST) {
            transport
                .send(
                    Request::post_json(
                        format!("/api/v1/tickets/{}/wraps", id.to_hex()),
                        &HistoryWrapsBody {
                            wraps: batch.to_vec(),
                        },
                    )?
                    .bearer(Some(session)),
                )
                .await?
                .check()?;
        }
        Ok(wraps.len())
    }

    /// The ticket's link (keep it: it is the only way back to the ticket).
    pub fn link(&self) -> &TicketLink {
        &self.link
    }

    /// Whether the ticket is closed.
    pub fn is_closed(&self) -> bool {
        self.thread.state().is_closed()
    }

    /// The ticket's status after the verified conversation (PROTOCOL.md §10.3).
    pub fn status(&self) -> sealdesk_crypto::ConversationStatus {
        self.thread.state().status()
    }

    /// The verified conversation state (persist it to detect rollbacks on the next visit).
    pub fn conversation(&self) -> &ChainState {
        self.thread.state()
    }

    /// The verified state to keep until the next visit (PROTOCOL.md §10.4), for
    /// [`ReporterTicket::open_with_state`]: opaque bytes ([`crate::kept`]).
    pub fn state_bytes(&self) -> Vec<u8> {
        kept::encode(&[self.thread.state()])
    }
}

#[cfg(test)]
mod tests {
    use sealdesk_crypto::system_rng;

    use super::*;

    fn code(result: Result<TicketLink>) -> Option<String> {
        result.err().map(|e| e.code)
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn links_parse_with_and_without_a_head() {
        let mut link = TicketLink::generate(&mut system_rng());
        let old_form = link.path();
        assert!(
            TicketLink::parse(&old_form)
                .expect("old form")
                .head()
                .is_none()
        );
        let head = DirectoryHead {
            seq: 3,
            hash: [5u8; 32],
        };
        link.head = Some(head);
        let new_form = format!("https://help.example.org{}", link.path());
        assert!(new_form.starts_with(&format!("https://help.example.org{old_form}.3.")));
        let parsed = TicketLink::parse(&new_form).expect("new form");
        assert_eq!(parsed.head(), Some(head));
        assert_eq!(parsed.ticket_id(), link.ticket_id());
        assert_eq!(parsed.path(), link.path());
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn malformed_heads_are_link_malformed() {
        let link = TicketLink::generate(&mut system_rng()).path();
        let hash = "BQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQU";
        assert!(TicketLink::parse(&format!("{link}.3.{hash}")).is_ok());
        for bad in [
            format!("{link}."),
            format!("{link}.3"),
            format!("{link}.03.{hash}"),
            format!("{link}.3.{hash}x"),
            format!("{link}.3.{}", &hash[..42]),
            format!("{link}.3.{hash}.4"),
            format!("{link}.-3.{hash}"),
        ] {
            assert_eq!(
                code(TicketLink::parse(&bad)).as_deref(),
                Some("link.malformed"),
                "{bad}"
            );
        }
    }
}
