//! The anonymous reporter: make the ticket link, open the ticket, and read and write the
//! conversation, verifying everything before it is shown (PROTOCOL.md §10, §11, §15).

use std::collections::BTreeMap;

use base64ct::{Base64UrlUnpadded, Encoding};
use sealdesk_crypto::{
    Chain, ChainState, CryptoRng, Directory, Identity, KeyId, Kind, Members, Message, Placement,
    PublicIdentity, ReporterEndorsement, TicketId, TicketKey, TicketSecret, WrappedKey,
};
use serde::Deserialize;
use serde_json::json;

use crate::content::{Content, DebugData, StatusChange, Text};
use crate::error::{ClientError, Result};
use crate::transport::{Request, Transport};

/// How often a post is retried after the server answered that the chain moved on.
const POST_ATTEMPTS: usize = 3;

fn b64(bytes: &[u8]) -> String {
    Base64UrlUnpadded::encode_string(bytes)
}

fn unb64(text: &str, what: &str) -> Result<Vec<u8>> {
    Base64UrlUnpadded::decode_vec(text).map_err(|_| ClientError::bad_response(what))
}

/// A private ticket link: `/help/ticket/{id}#{secret}`. The secret never reaches the server.
pub struct TicketLink {
    secret: TicketSecret,
}

impl TicketLink {
    /// A new link (draws the 32-byte secret from `rng`).
    pub fn generate(rng: &mut impl CryptoRng) -> Self {
        TicketLink {
            secret: TicketSecret::generate(rng),
        }
    }

    /// Parses a link or its path (`https://host/help/ticket/{id}#{secret}`, or from `/help`).
    ///
    /// # Errors
    /// `link.malformed` for anything else; `link.mismatch` when the id is not the one the
    /// secret derives (a mistyped or tampered link).
    pub fn parse(link: &str) -> Result<Self> {
        let malformed =
            || ClientError::new("link.malformed", "This is not a Sealdesk ticket link.");
        let rest = link.split_once("/help/ticket/").ok_or_else(malformed)?.1;
        let (id, fragment) = rest.split_once('#').ok_or_else(malformed)?;
        let id = TicketId::from_hex(id).map_err(|_| malformed())?;
        let secret = TicketSecret::from_fragment(fragment.trim()).map_err(|_| malformed())?;
        if secret.ticket_id() != id {
            return Err(ClientError::new(
                "link.mismatch",
                "The ticket link is damaged: its id and secret do not belong together.",
            ));
        }
        Ok(TicketLink { secret })
    }

    /// The ticket id.
    pub fn ticket_id(&self) -> TicketId {
        self.secret.ticket_id()
    }

    /// `/help/ticket/{id}#{secret}`: prefix it with the instance's URL.
    pub fn path(&self) -> String {
        format!(
            "/help/ticket/{}#{}",
            self.ticket_id().to_hex(),
            self.secret.to_fragment()
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

/// A verified message as the interface shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Shown {
    /// Position in the conversation.
    pub seq: u64,
    /// Server's receipt time, Unix seconds.
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

#[derive(Deserialize)]
struct TicketAnswer {
    reporter: String,
    endorsements: Vec<String>,
}

#[derive(Deserialize)]
struct MessagesAnswer {
    messages: Vec<MessageOut>,
    more: bool,
}

#[derive(Deserialize)]
struct MessageOut {
    received_at: u64,
    message: String,
}

#[derive(Deserialize)]
struct WrapsAnswer {
    wraps: Vec<String>,
}

/// An open anonymous ticket: its keys, verified conversation and messages.
pub struct ReporterTicket {
    link: TicketLink,
    identity: Identity,
    bearer: String,
    members: Members,
    conversation: ChainState,
    keys: BTreeMap<u32, TicketKey>,
    /// The verified conversation, in order.
    pub messages: Vec<Shown>,
}

impl ReporterTicket {
    /// Opens a new anonymous ticket: makes the link, seals the first message and the epoch-0
    /// key for the reporter and every administrator of the verified `directory`, and sends
    /// the debug data if any. Draws the secret, the key, salts and HPKE randomness from `rng`.
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
        let link = TicketLink::generate(rng);
        let identity = link.secret.identity();
        let id = link.ticket_id();
        let token = link.secret.access_token();
        let key = TicketKey::generate(rng);
        let head = directory.head_seq();
        let content = Content::Message(Text {
            text: opening.text,
            sent_at: now,
            subject: Some(opening.subject),
            category: opening.category,
            urgent: opening.urgent,
            name: opening.name,
            email: opening.email,
            author: None,
        });
        let placement = Placement {
            ticket_id: id,
            chain: Chain::Conversation,
            seq: 1,
            prev_hash: [0; 32],
            epoch: 0,
            dir_seq: head,
            kind: Kind::Message,
        };
        let first = Message::seal(&identity, placement, &key, &content.to_bytes()?, rng)?;
        let mut recipients = vec![identity.public().clone()];
        recipients.extend(directory.current_admins().into_iter().cloned());
        let wraps = wrap_for(&identity, &recipients, id, 0, head, &key, rng)?;
        let body = json!({
            "reporter": b64(&identity.public().to_bytes()),
            "access_token_hash": b64(&token.hash()),
            "message": b64(&first.to_bytes()),
            "wraps": wraps,
            "notify_email": opening.notify_email,
        });
        transport
            .send(Request::post("/api/v1/tickets", body))
            .await?
            .check()?;

        let members = Members::new(id, identity.public().clone());
        let mut conversation = ChainState::new(id, Chain::Conversation);
        conversation
            .push(&first, &members, directory)
            .map_err(|fault| {
                ClientError::from(sealdesk_crypto::Error::Transcript {
                    index: 0,
                    seq: 1,
                    fault,
                })
            })?;
        let mut ticket = ReporterTicket {
            bearer: token.to_base64url(),
            link,
            identity,
            members,
            conversation,
            keys: BTreeMap::from([(0, key)]),
            messages: Vec::new(),
        };
        ticket.messages.push(ticket.show(&first, now));
        if let Some(fields) = opening.debug {
            ticket
                .send(
                    transport,
                    directory,
                    Content::DebugData(DebugData {
                        fields,
                        sent_at: now,
                    }),
                    rng,
                )
                .await?;
        }
        Ok(ticket)
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
        let identity = link.secret.identity();
        let id = link.ticket_id();
        let bearer = link.secret.access_token().to_base64url();
        let answer: TicketAnswer = transport
            .send(Request::get(format!("/api/v1/tickets/{}", id.to_hex())).bearer(Some(&bearer)))
            .await?
            .json("the ticket")?;
        if unb64(&answer.reporter, "the ticket")? != identity.public().to_bytes() {
            return Err(ClientError::new(
                "link.wrong_reporter",
                "The server names another reporter key for this ticket than the link's.",
            ));
        }
        let mut members = Members::new(id, identity.public().clone());
        for encoded in &answer.endorsements {
            let endorsement = ReporterEndorsement::from_bytes(&unb64(encoded, "an endorsement")?)?;
            members.endorse(&endorsement, directory)?;
        }
        let mut ticket = ReporterTicket {
            link,
            identity,
            bearer,
            members,
            conversation: ChainState::new(id, Chain::Conversation),
            keys: BTreeMap::new(),
            messages: Vec::new(),
        };
        ticket.refresh(transport, directory).await?;
        Ok(ticket)
    }

    /// Fetches, verifies and decrypts the messages after the last one seen; returns how many
    /// were added. The kept state makes a server that rolls the conversation back detectable.
    ///
    /// # Errors
    /// `transcript.*` for a dropped, reordered, altered or injected message (nothing after
    /// it is shown); `wrap.*`; `server.*`; `network`.
    pub async fn refresh<T: Transport>(
        &mut self,
        transport: &T,
        directory: &Directory,
    ) -> Result<usize> {
        let mut added = 0;
        loop {
            let path = format!(
                "/api/v1/tickets/{}/messages?chain=0&after={}",
                self.link.ticket_id().to_hex(),
                self.conversation.last_seq()
            );
            let answer: MessagesAnswer = transport
                .send(Request::get(path).bearer(Some(&self.bearer)))
                .await?
                .json("the messages")?;
            let encoded = answer
                .messages
                .iter()
                .map(|m| unb64(&m.message, "the messages"))
                .collect::<Result<Vec<_>>>()?;
            let mut next = self.conversation.clone();
            let verified = next.extend_encoded(&encoded, &self.members, directory)?;
            self.conversation = next;
            for (message, out) in verified.iter().zip(&answer.messages) {
                self.ensure_key(transport, directory, message.header.epoch)
                    .await?;
                let shown = self.show(message, out.received_at);
                self.messages.push(shown);
                added += 1;
            }
            if !answer.more || answer.messages.is_empty() {
                return Ok(added);
            }
        }
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
        let content = Content::Message(Text {
            text: text.to_owned(),
            sent_at: now,
            ..Text::default()
        });
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
        let content = Content::Close(StatusChange {
            sent_at: now,
            author: None,
        });
        self.send(transport, directory, content, rng).await
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
        let bytes = content.to_bytes()?;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let head = directory.head_seq();
            let current = self.conversation.epoch().unwrap_or(0);
            let rotate = self.conversation.must_rotate(directory, head);
            let epoch = if rotate { current + 1 } else { current };
            let mut wraps = Vec::new();
            if rotate {
                let key = TicketKey::generate(rng);
                let mut recipients: Vec<PublicIdentity> = self.members.reporters().to_vec();
                recipients.extend(directory.current_admins().into_iter().cloned());
                wraps = wrap_for(
                    &self.identity,
                    &recipients,
                    self.link.ticket_id(),
                    epoch,
                    head,
                    &key,
                    rng,
                )?;
                self.keys.insert(epoch, key);
            }
            let key = self.keys.get(&epoch).ok_or_else(|| {
                ClientError::new(
                    "wrap.missing",
                    "No key was delivered for the current epoch.",
                )
            })?;
            let placement = Placement {
                ticket_id: self.link.ticket_id(),
                chain: Chain::Conversation,
                seq: self.conversation.last_seq() + 1,
                prev_hash: self.conversation.last_hash(),
                epoch,
                dir_seq: head,
                kind: content.kind(),
            };
            let message = Message::seal(&self.identity, placement, key, &bytes, rng)?;
            let path = format!(
                "/api/v1/tickets/{}/messages",
                self.link.ticket_id().to_hex()
            );
            let body = json!({"message": b64(&message.to_bytes()), "wraps": wraps});
            let response = transport
                .send(Request::post(path, body).bearer(Some(&self.bearer)))
                .await?;
            match response.check() {
                Ok(()) => {
                    self.conversation
                        .push(&message, &self.members, directory)
                        .map_err(|fault| {
                            ClientError::from(sealdesk_crypto::Error::Transcript {
                                index: 0,
                                seq: message.header.seq,
                                fault,
                            })
                        })?;
                    let shown = self.show(&message, 0);
                    self.messages.push(shown);
                    return Ok(());
                }
                Err(error) if error.is_conflict() && attempt < POST_ATTEMPTS => {
                    if rotate {
                        self.keys.remove(&epoch);
                    }
                    self.refresh(transport, directory).await?;
                }
                Err(error) => return Err(error),
            }
        }
    }

    /// The ticket's link (keep it: it is the only way back to the ticket).
    pub fn link(&self) -> &TicketLink {
        &self.link
    }

    /// Whether the ticket is closed.
    pub fn is_closed(&self) -> bool {
        self.conversation.is_closed()
    }

    /// The verified conversation state (persist it to detect rollbacks on the next visit).
    pub fn conversation(&self) -> &ChainState {
        &self.conversation
    }

    /// Fetches, verifies and opens this reporter's wrap of `epoch` if it is not known yet.
    async fn ensure_key<T: Transport>(
        &mut self,
        transport: &T,
        directory: &Directory,
        epoch: u32,
    ) -> Result<()> {
        if self.keys.contains_key(&epoch) {
            return Ok(());
        }
        let path = format!(
            "/api/v1/tickets/{}/wraps?chain=0&recipient={}",
            self.link.ticket_id().to_hex(),
            b64(&self.identity.key_id().0)
        );
        let answer: WrapsAnswer = transport
            .send(Request::get(path).bearer(Some(&self.bearer)))
            .await?
            .json("the wraps")?;
        for encoded in &answer.wraps {
            let wrap = WrappedKey::from_bytes(&unb64(encoded, "the wraps")?)?;
            if wrap.context.epoch != epoch || self.keys.contains_key(&wrap.context.epoch) {
                continue;
            }
            wrap.verify(&self.members, directory, &self.conversation)?;
            let key = wrap.open(&self.identity)?;
            self.keys.insert(wrap.context.epoch, key);
        }
        if self.keys.contains_key(&epoch) {
            Ok(())
        } else {
            Err(ClientError::new(
                "wrap.missing",
                "The key of a verified message was not delivered.",
            ))
        }
    }

    fn show(&self, message: &Message, received_at: u64) -> Shown {
        let from_support = !self
            .members
            .reporters()
            .iter()
            .any(|r| r.key_id() == message.header.sender);
        let content = match self.keys.get(&message.header.epoch) {
            Some(key) => message
                .open(key)
                .map_err(ClientError::from)
                .and_then(|plain| Content::parse(message.header.kind, &plain)),
            None => Err(ClientError::new(
                "wrap.missing",
                "The key of this message is missing.",
            )),
        };
        Shown {
            seq: message.header.seq,
            received_at,
            sender: message.header.sender,
            from_support,
            kind: message.header.kind,
            content,
        }
    }
}

/// Wraps `key` for each recipient, signed by `wrapper`, as base64url strings.
fn wrap_for(
    wrapper: &Identity,
    recipients: &[PublicIdentity],
    id: TicketId,
    epoch: u32,
    dir_seq: u64,
    key: &TicketKey,
    rng: &mut impl CryptoRng,
) -> Result<Vec<String>> {
    recipients
        .iter()
        .map(|recipient| {
            let wrap = WrappedKey::seal(
                wrapper,
                recipient,
                id,
                Chain::Conversation,
                epoch,
                dir_seq,
                key,
                rng,
            )?;
            Ok(b64(&wrap.to_bytes()))
        })
        .collect()
}
