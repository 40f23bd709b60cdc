//! "Resend access link" as recovery (PROTOCOL.md §11.1; API.md "Recovery"): asking for a
//! recovery mail, claiming the ticket with a new key made here, waiting for an administrator,
//! and the administrator's side (the pending claims, the address check, approval by an endorse
//! message, refusal).
//!
//! The new key reads and writes only after an administrator posted an endorse message for it
//! (PROTOCOL.md §8.2); until then the claim gives it nothing.

use sealdesk_crypto::{
    AccessToken, Chain, ChainState, CryptoRng, Directory, Identity, IdentitySeed, KeyId, Members,
    PUBLIC_IDENTITY_LEN, PublicIdentity, TicketId,
};
use sealdesk_wire::recovery::{
    PendingRecoveryList, RecoveryClaimBody, RecoveryClaimed, RecoveryRequestBody, RecoveryStatus,
};
use sealdesk_wire::{EmptyBody, SecretText};

use crate::admin::{Admin, AdminTicket};
use crate::content::Content;
use crate::error::{ClientError, Result};
use crate::kept;
use crate::thread::{Participant, Shown, Thread, fetch_ticket};
use crate::transport::{Request, Transport};
use crate::util::{b64, unb64_array};

/// The page a recovery link opens (its fragment is `{ticket id hex}.{token}`).
pub const RECOVER_PATH: &str = "/help/recover";

/// A mailed recovery link: the ticket and the single-use token.
#[derive(Debug)]
pub struct RecoveryLink {
    ticket_id: TicketId,
    token: AccessToken,
}

impl RecoveryLink {
    /// Reads a link (`…/help/recover#{ticket id}.{token}`) or its fragment alone: the ticket id
    /// as 32 hexadecimal characters, a `.`, then the 32-byte token in unpadded base64url.
    ///
    /// # Errors
    /// `recovery.malformed_link`.
    pub fn parse(text: &str) -> Result<Self> {
        let malformed = || {
            ClientError::new(
                "recovery.malformed_link",
                "This recovery link is incomplete; open it exactly as it was mailed.",
            )
        };
        let fragment = text.trim().rsplit_once('#').map_or(text.trim(), |(_, f)| f);
        let (id, token) = fragment.split_once('.').ok_or_else(malformed)?;
        let ticket_id = TicketId::from_hex(id).map_err(|_| malformed())?;
        let token = AccessToken::from_base64url(token).map_err(|_| malformed())?;
        Ok(RecoveryLink { ticket_id, token })
    }

    /// The ticket the link recovers.
    pub fn ticket_id(&self) -> TicketId {
        self.ticket_id
    }
}

/// The key and reader token a recovering browser made for a ticket. Keep them where the
/// ticket link would be kept: together they are this browser's access to the ticket once an
/// administrator approved.
pub struct RecoveredKey {
    ticket_id: TicketId,
    seed: IdentitySeed,
    identity: Identity,
    reader: AccessToken,
}

impl core::fmt::Debug for RecoveredKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("RecoveredKey")
            .field("ticket_id", &self.ticket_id)
            .field("key_id", &self.identity.key_id())
            .finish_non_exhaustive()
    }
}

impl RecoveredKey {
    /// Rebuilds a kept key from its parts (the 32-byte seed and reader token).
    pub fn from_parts(ticket_id: TicketId, seed: [u8; 32], reader: [u8; 32]) -> Self {
        let seed = IdentitySeed::from_bytes(seed);
        let identity = Identity::from_seed(&seed);
        RecoveredKey {
            ticket_id,
            seed,
            identity,
            reader: AccessToken::from_bytes(reader),
        }
    }

    /// The ticket.
    pub fn ticket_id(&self) -> TicketId {
        self.ticket_id
    }

    /// The new reporter identity.
    pub fn identity(&self) -> &Identity {
        &self.identity
    }

    /// The identity's seed (32 bytes), to keep.
    pub fn seed(&self) -> &IdentitySeed {
        &self.seed
    }

    /// The reader token (32 bytes), to keep.
    pub fn reader(&self) -> &AccessToken {
        &self.reader
    }

    /// The bearer credential for reading and posting: the reader token in base64url.
    pub fn bearer(&self) -> String {
        self.reader.to_base64url()
    }

    /// The new key's fingerprint (PROTOCOL.md §4.3), to show and compare.
    pub fn fingerprint(&self) -> String {
        self.identity.key_id().fingerprint()
    }
}

/// Where a claim stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClaimState {
    /// Waiting for an administrator.
    Pending,
    /// Approved: the key is endorsed and the reader token reads.
    Approved,
    /// Declined or expired (the server no longer knows it).
    Gone,
}

/// Asks for a recovery mail to `email`. The answer is the same whether or not the address
/// belongs to a ticket.
///
/// # Errors
/// `server.bad_email`, `server.rate_limited`, `server.*`, `network`.
pub async fn request_recovery<T: Transport>(transport: &T, email: &str) -> Result<()> {
    let body = RecoveryRequestBody {
        email: email.to_owned(),
    };
    transport
        .send(Request::post_json("/api/v1/recovery/request", &body)?)
        .await?
        .check()
}

/// Claims `link`'s ticket with a new key and reader token drawn from `rng` (PROTOCOL.md
/// §11.1); the claim is pending until an administrator approves it.
///
/// # Errors
/// `server.invalid_recovery` (unknown, used or expired link), `server.*`, `network`,
/// `bad_response` (the server names another key).
pub async fn claim<T: Transport>(
    transport: &T,
    link: &RecoveryLink,
    rng: &mut impl CryptoRng,
) -> Result<RecoveredKey> {
    let seed = IdentitySeed::generate(rng);
    let identity = Identity::from_seed(&seed);
    let reader = AccessToken::generate(rng);
    let reader_hash = reader.hash();
    let signature = identity.sign_recovery_claim(&link.ticket_id.0, &reader_hash);
    let body = RecoveryClaimBody {
        token: SecretText::new(link.token.to_base64url()),
        ticket_id: link.ticket_id.to_hex(),
        identity: b64(&identity.public().to_bytes()),
        reader_hash: b64(&reader_hash),
        signature: b64(&signature),
    };
    let answer: RecoveryClaimed = transport
        .send(Request::post_json("/api/v1/recovery/claim", &body)?)
        .await?
        .json("the recovery claim")?;
    if unb64_array::<32>(&answer.key_id, "the recovery claim")? != identity.key_id().0 {
        return Err(ClientError::bad_response("the recovery claim"));
    }
    Ok(RecoveredKey {
        ticket_id: link.ticket_id,
        seed,
        identity,
        reader,
    })
}

/// Where `key`'s claim stands.
///
/// # Errors
/// `server.*`, `network`, `bad_response` (another ticket).
pub async fn claim_state<T: Transport>(transport: &T, key: &RecoveredKey) -> Result<ClaimState> {
    let bearer = key.bearer();
    let response = transport
        .send(Request::get("/api/v1/recovery/status").bearer(Some(&bearer)))
        .await?;
    if response.status == 404 {
        return Ok(ClaimState::Gone);
    }
    let answer: RecoveryStatus = response.json("the recovery status")?;
    if answer.ticket_id != key.ticket_id.to_hex() {
        return Err(ClientError::bad_response("the recovery status"));
    }
    match answer.status.as_str() {
        "pending" => Ok(ClaimState::Pending),
        "approved" => Ok(ClaimState::Approved),
        _ => Err(ClientError::bad_response("the recovery status")),
    }
}

/// A ticket opened with an approved recovered key: the conversation verified and decrypted as
/// the reporter's first key would see it, read and written with the key's reader token.
#[derive(Debug)]
pub struct RecoveredTicket {
    key: RecoveredKey,
    thread: Thread,
    /// The verified conversation, in order.
    pub messages: Vec<Shown>,
}

impl RecoveredTicket {
    /// Opens the ticket of `key` (after approval): reads the first reporter key from the
    /// server (the first message must be signed by it, §10.2 step 10, so a wrong one fails
    /// verification), then reads and verifies the whole conversation; with `kept` (the state
    /// kept from an earlier visit, [`RecoveredTicket::state_bytes`]) it must extend it
    /// (PROTOCOL.md §10.4).
    ///
    /// # Errors
    /// `server.not_found` before approval, verification errors, `kept.*`, `server.*`,
    /// `network`.
    pub async fn open<T: Transport>(
        transport: &T,
        directory: &Directory,
        key: RecoveredKey,
        kept: Option<&[u8]>,
    ) -> Result<RecoveredTicket> {
        let kept = kept::for_chain(kept, Chain::Conversation)?;
        let bearer = key.bearer();
        let answer = fetch_ticket(transport, &bearer, key.ticket_id).await?;
        let reporter = PublicIdentity::from_bytes(&unb64_array::<PUBLIC_IDENTITY_LEN>(
            &answer.reporter,
            "the ticket",
        )?)?;
        let members = Members::new(key.ticket_id, reporter);
        let mut ticket = RecoveredTicket {
            key,
            thread: Thread::new(members, Chain::Conversation),
            messages: Vec::new(),
        };
        ticket.refresh(transport, directory).await?;
        if let Some(kept) = kept {
            let bearer = ticket.key.bearer();
            let who = Participant {
                identity: &ticket.key.identity,
                bearer: &bearer,
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
    /// were added.
    ///
    /// # Errors
    /// `transcript.*`, `server.*`, `network`.
    pub async fn refresh<T: Transport>(
        &mut self,
        transport: &T,
        directory: &Directory,
    ) -> Result<usize> {
        let bearer = self.key.bearer();
        self.thread
            .refresh(
                transport,
                &bearer,
                &self.key.identity,
                directory,
                &mut self.messages,
            )
            .await
    }

    /// Seals and posts `content` as the next conversation message (as
    /// [`crate::reporter::ReporterTicket::send`]).
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
        let bearer = self.key.bearer();
        let who = Participant {
            identity: &self.key.identity,
            bearer: &bearer,
            directory,
        };
        self.thread
            .send(transport, who, &content, rng, &mut self.messages)
            .await
    }

    /// The recovered key.
    pub fn key(&self) -> &RecoveredKey {
        &self.key
    }

    /// The ticket.
    pub fn ticket_id(&self) -> TicketId {
        self.key.ticket_id
    }

    /// Whether the ticket is closed.
    pub fn is_closed(&self) -> bool {
        self.thread.state().is_closed()
    }

    /// The ticket's status after the verified conversation (PROTOCOL.md §10.3).
    pub fn status(&self) -> sealdesk_crypto::ConversationStatus {
        self.thread.state().status()
    }

    /// The verified conversation state.
    pub fn conversation(&self) -> &ChainState {
        self.thread.state()
    }

    /// The verified state to keep until the next visit (PROTOCOL.md §10.4).
    pub fn state_bytes(&self) -> Vec<u8> {
        kept::encode(&[self.thread.state()])
    }
}

/// A pending recovery claim as an administrator's client checked it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PendingClaim {
    /// The ticket.
    pub ticket_id: TicketId,
    /// The claimed key; its claim signature verified (PROTOCOL.md §11.1).
    pub identity: PublicIdentity,
    /// Its fingerprint, computed by this client.
    pub fingerprint: String,
    /// The address the recovery was requested for.
    pub email: String,
    /// Unix seconds.
    pub claimed_at: u64,
}

impl PendingClaim {
    /// The claimed key's id.
    pub fn key_id(&self) -> KeyId {
        self.identity.key_id()
    }

    /// Whether the `email` the reporter typed in the ticket's first message (decrypted by
    /// this client) is the address of the request, compared after trimming white space and
    /// ASCII lowercasing (PROTOCOL.md §11.1). `None` when the first message has no address
    /// or could not be read.
    pub fn email_matches(&self, ticket: &AdminTicket) -> Option<bool> {
        let typed = ticket.opening()?.email.as_deref()?;
        Some(same_address(typed, &self.email))
    }
}

/// Whether two addresses are the same after trimming and ASCII lowercasing.
pub fn same_address(a: &str, b: &str) -> bool {
    a.trim().eq_ignore_ascii_case(b.trim())
}

impl Admin {
    /// The pending recovery claims, oldest first, each with its claim signature verified by
    /// this client (PROTOCOL.md §11.1); a claim whose signature fails is left out.
    ///
    /// # Errors
    /// `server.*`, `network`, `bad_response`.
    pub async fn recoveries<T: Transport>(&self, transport: &T) -> Result<Vec<PendingClaim>> {
        let what = "the pending recoveries";
        let answer: PendingRecoveryList = transport
            .send(Request::get("/api/v1/admin/recoveries").bearer(Some(self.account().session())))
            .await?
            .json(what)?;
        let mut claims = Vec::new();
        for claim in answer.recoveries {
            let ticket_id = TicketId::from_hex(&claim.ticket_id)
                .map_err(|_| ClientError::bad_response(what))?;
            let identity = PublicIdentity::from_bytes(&unb64_array::<PUBLIC_IDENTITY_LEN>(
                &claim.identity,
                what,
            )?)?;
            let reader_hash = unb64_array::<32>(&claim.reader_hash, what)?;
            let signature = unb64_array::<64>(&claim.signature, what)?;
            if identity
                .verify_recovery_claim(&ticket_id.0, &reader_hash, &signature)
                .is_err()
            {
                continue;
            }
            claims.push(PendingClaim {
                ticket_id,
                fingerprint: identity.key_id().fingerprint(),
                identity,
                email: claim.email,
                claimed_at: claim.claimed_at,
            });
        }
        Ok(claims)
    }

    /// Approves `claim` on `ticket` (read by this administrator): posts the endorse message
    /// for the claimed key with the wraps of the conversation's epochs (PROTOCOL.md §8.2,
    /// [`Admin::endorse`]), then tells the server, which lets the claim's reader token in.
    /// Returns how many wraps were stored.
    ///
    /// # Errors
    /// `recovery.wrong_ticket`, as [`Admin::endorse`], `server.not_endorsed`, `server.*`,
    /// `network`.
    pub async fn approve_recovery<T: Transport>(
        &mut self,
        transport: &T,
        ticket: &mut AdminTicket,
        claim: &PendingClaim,
        rng: &mut impl CryptoRng,
    ) -> Result<usize> {
        if ticket.ticket_id() != claim.ticket_id {
            return Err(ClientError::new(
                "recovery.wrong_ticket",
                "This claim is for another ticket.",
            ));
        }
        let stored = if ticket.conversation().reporters().contains(&claim.identity) {
            // Endorsed before (an approval interrupted after its message): only tell the server.
            0
        } else {
            self.endorse(transport, ticket, &claim.identity, rng)
                .await?
        };
        let path = format!(
            "/api/v1/admin/recoveries/{}/{}/approve",
            claim.ticket_id.to_hex(),
            b64(&claim.key_id().0)
        );
        transport
            .send(Request::post_json(path, &EmptyBody {})?.bearer(Some(self.account().session())))
            .await?
            .check()?;
        Ok(stored)
    }

    /// Declines `claim`: the server forgets it, and its key and reader token get nothing.
    ///
    /// # Errors
    /// `server.not_found`, `server.*`, `network`.
    pub async fn decline_recovery<T: Transport>(
        &self,
        transport: &T,
        claim: &PendingClaim,
    ) -> Result<()> {
        let path = format!(
            "/api/v1/admin/recoveries/{}/{}",
            claim.ticket_id.to_hex(),
            b64(&claim.key_id().0)
        );
        transport
            .send(Request::delete(path).bearer(Some(self.account().session())))
            .await?
            .check()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use sealdesk_crypto::system_rng;

    use super::*;

    #[test]
    fn a_link_is_read_from_the_whole_url_or_its_fragment_and_damage_is_refused() {
        let token = AccessToken::generate(&mut system_rng());
        let id = TicketId([7; 16]);
        let fragment = format!("{}.{}", id.to_hex(), token.to_base64url());
        for text in [
            format!("https://help.example.org/help/recover#{fragment}"),
            format!("  {fragment}\n"),
        ] {
            let link = RecoveryLink::parse(&text).expect("link");
            assert_eq!(link.ticket_id(), id);
            assert_eq!(link.token.as_bytes(), token.as_bytes());
        }
        let token_text = token.to_base64url();
        for damaged in [
            String::new(),
            id.to_hex(),
            format!("{}{}", id.to_hex(), token_text),
            format!("{}.{}", &id.to_hex()[1..], token_text),
            format!("{}.{}", id.to_hex(), &token_text[1..]),
            format!("{}.{}=", id.to_hex(), token_text),
        ] {
            let error = RecoveryLink::parse(&damaged).expect_err(&damaged);
            assert_eq!(error.code, "recovery.malformed_link");
        }
    }

    #[test]
    fn addresses_compare_trimmed_and_ascii_case_insensitive() {
        assert!(same_address(" Dana@Example.org", "dana@example.org "));
        assert!(!same_address("dana@example.org", "dana@example.com"));
        assert!(!same_address("dana@example.org", "dan@example.org"));
    }

    #[test]
    fn a_kept_key_rebuilds_the_same_identity_and_bearer() {
        let key = RecoveredKey::from_parts(TicketId([1; 16]), [2; 32], [3; 32]);
        let again = RecoveredKey::from_parts(TicketId([1; 16]), [2; 32], [3; 32]);
        assert_eq!(key.identity().key_id(), again.identity().key_id());
        assert_eq!(key.bearer(), again.bearer());
        assert_eq!(key.fingerprint(), key.identity().key_id().fingerprint());
        assert_ne!(
            key.identity().key_id(),
            RecoveredKey::from_parts(TicketId([1; 16]), [4; 32], [3; 32])
                .identity()
                .key_id()
        );
    }
}
