//! Shared fixtures: a deterministic generator, fixed identities, a small desk (directory,
//! ticket, reporter) and proptest runners.
#![allow(dead_code)]

use std::convert::Infallible;

use hpke::rand_core::{TryCryptoRng, TryRng};
use proptest::test_runner::{Config, RngSeed, TestRunner};
use sealdesk_crypto::{
    Chain, ChainState, Directory, DirectoryEntry, Identity, IdentitySeed, Kind, Members, Placement,
    TicketId, TicketKey, TicketSecret,
};

/// SplitMix64 over a seeded counter: deterministic, and *only* for tests.
pub struct TestRng(u64);

impl TestRng {
    pub fn new(seed: u64) -> Self {
        TestRng(seed)
    }
}

impl TryRng for TestRng {
    type Error = Infallible;

    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        Ok(self.try_next_u64()? as u32)
    }

    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        Ok(z ^ (z >> 31))
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
        for chunk in dst.chunks_mut(8) {
            let word = self.try_next_u64()?.to_le_bytes();
            chunk.copy_from_slice(&word[..chunk.len()]);
        }
        Ok(())
    }
}

impl TryCryptoRng for TestRng {}

/// `len` deterministic bytes.
pub fn bytes(seed: u64, len: usize) -> Vec<u8> {
    let mut out = vec![0u8; len];
    let _ = TestRng::new(seed).try_fill_bytes(&mut out);
    out
}

/// A fixed identity per `n`.
pub fn identity(n: u8) -> Identity {
    Identity::from_seed(&IdentitySeed::from_bytes([n; 32]))
}

pub fn key(n: u8) -> TicketKey {
    TicketKey::from_bytes([n; 32])
}

/// A proptest runner with a fixed seed and no failure files.
pub fn runner(cases: u32) -> TestRunner {
    TestRunner::new(Config {
        cases,
        failure_persistence: None,
        rng_seed: RngSeed::Fixed(0x5ea1_de5c),
        ..Config::default()
    })
}

/// Administrators A (genesis, dir seq 0), B (added at 1) and C (added at 2); an anonymous
/// ticket whose reporter comes from a fixed `TicketSecret`.
pub struct Desk {
    pub admins: Vec<Identity>,
    pub directory: Directory,
    pub secret: TicketSecret,
    pub reporter: Identity,
    pub ticket: TicketId,
    pub members: Members,
}

impl Desk {
    pub fn new() -> Self {
        let admins = vec![identity(0xa1), identity(0xb2), identity(0xc3)];
        let mut directory = Directory::verify(&[DirectoryEntry::genesis(&admins[0])]).unwrap();
        for subject in &admins[1..] {
            let entry = DirectoryEntry::add(&directory, &admins[0], subject.public()).unwrap();
            directory.extend(&[entry]).unwrap();
        }
        let secret = TicketSecret::from_bytes([0x5e; 32]);
        let reporter = secret.identity();
        let ticket = secret.ticket_id();
        let members = Members::new(ticket, reporter.public().clone());
        Desk {
            admins,
            directory,
            secret,
            reporter,
            ticket,
            members,
        }
    }

    /// Appends the removal of admin `index` (signed by A, or by B when removing A).
    pub fn remove_admin(&mut self, index: usize) -> u64 {
        let signer = if index == 0 { 1 } else { 0 };
        let entry = DirectoryEntry::remove(
            &self.directory,
            &self.admins[signer],
            self.admins[index].public(),
        )
        .unwrap();
        self.directory.extend(&[entry]).unwrap();
        self.directory.head_seq()
    }
}

/// Where the next message of a verified chain goes.
pub fn next(state: &ChainState, epoch: u32, dir_seq: u64, kind: Kind) -> Placement {
    Placement {
        ticket_id: state.ticket_id(),
        chain: state.chain(),
        seq: state.last_seq() + 1,
        prev_hash: state.last_hash(),
        epoch,
        dir_seq,
        kind,
    }
}

/// A conversation state for `desk`'s ticket.
pub fn conversation(desk: &Desk) -> ChainState {
    ChainState::new(desk.ticket, Chain::Conversation)
}
