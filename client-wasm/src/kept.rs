//! Verified state kept between visits (PROTOCOL.md §10.4): what a client stores of a ticket
//! after reading it, and the check that the next visit's answer extends it. A server that
//! drops the newest messages between two visits (a rollback) or serves another branch of the
//! conversation (a fork) is then caught with the same `transcript.*` error as tampering.
//!
//! The stored bytes are `count (u8) || count × (length (u32 BE) || ChainState::to_bytes)`,
//! one entry per chain the member reads (the conversation; administrators also the internal
//! notes). They are local storage, never sent to the server.

use core::cmp::Ordering;

use sealdesk_crypto::{Chain, ChainState, Error as CryptoError, Fault};

use crate::error::{ClientError, Result};
use crate::thread::{Participant, Shown, Thread};
use crate::transport::Transport;

/// How many times the check re-reads a chain that grows while it compares (a message posted
/// between its two reads) before it gives up.
const ROUNDS: usize = 4;

/// At most this many chains per ticket (conversation and notes).
const MAX_CHAINS: usize = 2;

fn malformed() -> ClientError {
    ClientError::new(
        "kept.malformed",
        "The state kept from an earlier visit of this ticket is damaged.",
    )
}

/// Encodes the verified state of each chain of one ticket for local storage (the format in
/// the module documentation).
pub fn encode(states: &[&ChainState]) -> Vec<u8> {
    let mut out = vec![states.len() as u8];
    for state in states {
        let bytes = state.to_bytes();
        out.extend_from_slice(&(bytes.len() as u32).to_be_bytes());
        out.extend_from_slice(&bytes);
    }
    out
}

/// Decodes [`encode`]: the kept state of each chain, at most one per chain.
///
/// # Errors
/// `kept.malformed` for bytes that are not such an encoding.
pub fn decode(bytes: &[u8]) -> Result<Vec<ChainState>> {
    let (&count, mut rest) = bytes.split_first().ok_or_else(malformed)?;
    if usize::from(count) > MAX_CHAINS {
        return Err(malformed());
    }
    let mut states: Vec<ChainState> = Vec::new();
    for _ in 0..count {
        let (length, tail) = rest.split_first_chunk::<4>().ok_or_else(malformed)?;
        let length = u32::from_be_bytes(*length) as usize;
        if tail.len() < length {
            return Err(malformed());
        }
        let (state, tail) = tail.split_at(length);
        let state = ChainState::from_bytes(state).map_err(|_| malformed())?;
        if states.iter().any(|s| s.chain() == state.chain()) {
            return Err(malformed());
        }
        states.push(state);
        rest = tail;
    }
    if !rest.is_empty() {
        return Err(malformed());
    }
    Ok(states)
}

/// The kept state of `chain`, if `kept` (an [`encode`]d value) has one.
///
/// # Errors
/// `kept.malformed`.
pub(crate) fn for_chain(kept: Option<&[u8]>, chain: Chain) -> Result<Option<ChainState>> {
    match kept {
        None => Ok(None),
        Some(bytes) => Ok(decode(bytes)?.into_iter().find(|s| s.chain() == chain)),
    }
}

fn transcript(seq: u64, fault: Fault) -> ClientError {
    ClientError::from(CryptoError::Transcript {
        index: 0,
        seq,
        fault,
    })
}

/// Checks that `thread`, just read and verified from its first message, extends `kept`, the
/// state kept from an earlier visit (PROTOCOL.md §10.4): it is at least as long, and the
/// message at the kept position is the kept one. When the thread is longer, the server is
/// asked for the chain after the kept state (the kept last message re-read, what follows
/// verified from it) and both reads must meet at the same position with the same hash;
/// messages posted meanwhile are appended to `shown` as a refresh would.
///
/// # Errors
/// `transcript.unexpected_seq` for a chain shorter than the kept one (a rollback),
/// `transcript.broken_link` for another message at a kept position (a fork),
/// `transcript.wrong_ticket` for a state kept of another ticket; verification errors of the
/// re-read; `server.*`; `network`.
pub(crate) async fn check_extends_kept<T: Transport>(
    transport: &T,
    who: Participant<'_>,
    thread: &mut Thread,
    shown: &mut Vec<Shown>,
    kept: &ChainState,
) -> Result<()> {
    if kept.ticket_id() != thread.ticket_id() || kept.chain() != thread.chain() {
        return Err(transcript(0, Fault::WrongTicket));
    }
    let Participant {
        identity,
        bearer,
        directory,
    } = who;
    let mut resumed: Option<Thread> = None;
    for _ in 0..ROUNDS {
        if thread.state().last_seq() <= kept.last_seq() {
            // Shorter: a rollback; as long: the same last hash, or a fork.
            return thread
                .state()
                .check_extends(kept)
                .map_err(ClientError::from);
        }
        let other =
            resumed.get_or_insert_with(|| Thread::resume(thread.members().clone(), kept.clone()));
        if other.state().last_seq() < thread.state().last_seq() {
            other
                .refresh(transport, bearer, identity, directory, &mut Vec::new())
                .await?;
        }
        match other.state().last_seq().cmp(&thread.state().last_seq()) {
            Ordering::Equal => {
                return thread
                    .state()
                    .check_extends(other.state())
                    .map_err(ClientError::from);
            }
            Ordering::Greater => {
                thread
                    .refresh(transport, bearer, identity, directory, shown)
                    .await?;
            }
            Ordering::Less => {}
        }
    }
    Err(transcript(
        thread.state().last_seq(),
        Fault::UnexpectedSeq {
            expected: kept.last_seq(),
            found: thread.state().last_seq(),
        },
    ))
}

#[cfg(test)]
mod tests {
    use sealdesk_crypto::{TicketId, system_rng};

    use super::*;

    #[test]
    fn kept_states_round_trip_and_damage_is_refused() {
        let id = TicketId::generate(&mut system_rng());
        let conversation = ChainState::new(id, Chain::Conversation);
        let notes = ChainState::new(id, Chain::Notes);
        let bytes = encode(&[&conversation, &notes]);
        assert_eq!(
            decode(&bytes).map_err(|e| e.code),
            Ok(vec![conversation.clone(), notes])
        );
        assert_eq!(
            for_chain(Some(&bytes), Chain::Conversation).map_err(|e| e.code),
            Ok(Some(conversation.clone()))
        );
        let twice = encode(&[&conversation, &conversation]);
        for damaged in [&bytes[..bytes.len() - 1], &[][..], &[3][..], &twice[..]] {
            assert_eq!(
                decode(damaged).map_err(|e| e.code),
                Err("kept.malformed".to_owned())
            );
        }
    }
}
