//! Damaged data is never silent (README.md, "Damaged data"): a one-byte flip in a stopped
//! server's database makes the next `sealdesk serve` refuse to start, naming what is missing
//! and how to restore a backup, unless `--accept-data-loss`; `sealdesk check` passes on a
//! healthy data directory and reports every damage it finds, with exit status 1.
//!
//! sled 0.34 recovers its log up to the first damaged record and drops that record and every
//! later one without an error: before the record of acknowledged writes, the restart below
//! succeeded on a database missing most of the tickets.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::{Desk, Server, Ticket, sealdesk_binary};

/// Tickets written before the damage, each with replies.
const TICKETS: usize = 12;

/// A server whose directory (`root`, with `root/data`) the test owns, without rate limits in
/// the way of writing quickly.
fn desk(root: &Path) -> Desk {
    Desk::with(
        Server::options()
            .dir(root)
            .env("SEALDESK_POSTS_PER_MINUTE", "1000000")
            .env("SEALDESK_ANONYMOUS_TICKETS_PER_HOUR", "1000000")
            .env("SEALDESK_PROOF_OF_WORK_BITS", "0"),
    )
}

/// Writes `TICKETS` tickets with two replies each (all acknowledged) and stops the server as
/// an operator does (SIGTERM: it flushes and closes the database).
fn written_and_stopped(root: &Path) -> Vec<String> {
    let desk = desk(root);
    let mut ids = Vec::new();
    for _ in 0..TICKETS {
        let mut ticket = Ticket::open(&desk);
        ticket.post(&desk, true);
        ticket.post(&desk, false);
        ids.push(ticket.id());
    }
    let mut server = desk.server;
    let pid = server.child.id().to_string();
    let signalled = Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("run kill");
    assert!(signalled.success());
    let status = server.child.wait().expect("wait");
    assert!(status.success(), "graceful stop: {status}");
    ids
}

/// Runs `sealdesk ARGS` on the data directory `root/data` until it ends, or, for a `serve`
/// that starts (prints its listening line), kills it and returns `None`.
fn sealdesk(root: &Path, args: &[&str]) -> Option<Output> {
    let mut child = Command::new(sealdesk_binary())
        .args(args)
        .env("SEALDESK_DATA_DIR", root.join("data"))
        .env("SEALDESK_LISTEN", "127.0.0.1:0")
        .env("SEALDESK_WEB_DIR", root.join("no-web"))
        .env("SEALDESK_LOG_LEVEL", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run sealdesk");
    let stdout = child.stdout.take().expect("stdout");
    let (sender, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if sender.send(line).is_err() {
                break;
            }
        }
    });
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut printed = Vec::new();
    loop {
        match lines.recv_timeout(Duration::from_millis(20)) {
            Ok(line) if line.starts_with("sealdesk listening on ") => {
                let _ = child.kill();
                let _ = child.wait();
                return None;
            }
            Ok(line) => printed.push(line),
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                let mut output = child.wait_with_output().expect("output");
                let mut stdout = printed.join("\n");
                stdout.push('\n');
                output.stdout = stdout.into_bytes();
                return Some(output);
            }
        }
        assert!(Instant::now() < deadline, "sealdesk {args:?} hangs");
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// `sealdesk check` on `root/data`: its exit code and standard output.
fn check(root: &Path) -> (i32, String, String) {
    let output = sealdesk(root, &["check"]).expect("sealdesk check ends");
    (
        output.status.code().expect("exit code"),
        text(&output.stdout),
        text(&output.stderr),
    )
}

/// The length of the written part of sled's log file (it is allocated by segments, the end of
/// the last one still zeros).
fn written_len(data: &Path) -> usize {
    let bytes = std::fs::read(data.join("db")).unwrap();
    bytes.iter().rposition(|&b| b != 0).expect("a written log") + 1
}

/// Flips one bit of the log file's byte at `offset`, as a failing disk would.
fn flip(data: &Path, offset: usize) {
    let file = data.join("db");
    let mut bytes = std::fs::read(&file).unwrap();
    bytes[offset] ^= 0x01;
    std::fs::write(&file, bytes).unwrap();
}

/// What sled itself (as the server opened it before the record of acknowledged writes) does
/// with a one-byte flip at `offset` of a copy of `data`.
#[derive(Debug, PartialEq, Eq)]
enum SledOutcome {
    /// Opening fails: loud.
    OpenError,
    /// Opens, but reading a tree fails: loud at the first read.
    ReadError,
    /// Opens and reads without an error, with tickets missing: the silent loss.
    SilentLoss { tickets_left: usize },
    /// Nothing visible changed.
    Intact,
}

/// Copies the files and folders of `from` into `to` (which exists).
fn copy_dir(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

fn sled_outcome(data: &Path, offset: usize, scratch: &Path) -> SledOutcome {
    let copy = scratch.join(format!("flip-{offset}"));
    std::fs::create_dir_all(&copy).unwrap();
    copy_dir(data, &copy);
    flip(&copy, offset);
    let outcome = match sled::open(&copy) {
        Err(_) => SledOutcome::OpenError,
        Ok(db) => {
            let mut outcome = SledOutcome::Intact;
            for name in ["tickets", "messages", "wraps", "directory", "meta"] {
                let tree = db.open_tree(name).unwrap();
                if tree.iter().any(|item| item.is_err()) {
                    outcome = SledOutcome::ReadError;
                }
            }
            if outcome == SledOutcome::Intact {
                let left = db.open_tree("tickets").unwrap().len();
                if left < TICKETS {
                    outcome = SledOutcome::SilentLoss { tickets_left: left };
                }
            }
            outcome
        }
    };
    let _ = std::fs::remove_dir_all(&copy);
    outcome
}

#[test]
fn a_flipped_byte_that_sled_drops_silently_is_refused_at_start_and_reported_by_check() {
    let root = tempfile::tempdir().unwrap();
    written_and_stopped(root.path());

    // On a copy: opening a sled database snapshots it, and a flip in the snapshotted part of
    // the log makes the next open fail loudly. The silent loss is in the log written since
    // the last open, here all of it.
    let healthy = tempfile::tempdir().unwrap();
    std::fs::create_dir(healthy.path().join("data")).unwrap();
    copy_dir(&root.path().join("data"), &healthy.path().join("data"));
    let (status, report, _) = check(healthy.path());
    assert_eq!(status, 0, "healthy data: {report}");
    assert!(
        report.contains(&format!("tickets: {TICKETS}\n")),
        "{report}"
    );
    assert!(report.contains("check passed"), "{report}");

    // Measure what sled does with a flip at 40 places of the written log, and keep a place
    // where it silently drops acknowledged tickets (what this test must catch).
    let data = root.path().join("data");
    let written = written_len(&data);
    let scratch = tempfile::tempdir().unwrap();
    let mut outcomes = Vec::new();
    for step in 1..40 {
        let offset = written * step / 40;
        outcomes.push((offset, sled_outcome(&data, offset, scratch.path())));
    }
    println!("a one-byte flip in {written} written bytes of sled's log, by offset:");
    for (offset, outcome) in &outcomes {
        println!("  {offset:>7}: {outcome:?}");
    }
    let silent = outcomes
        .iter()
        .find(|(_, outcome)| matches!(outcome, SledOutcome::SilentLoss { .. }))
        .map(|(offset, _)| *offset)
        .expect("a flip that sled turns into a silent loss");
    flip(&data, silent);

    let refused = sealdesk(root.path(), &["serve"])
        .expect("the server refuses damaged data instead of starting on what is left");
    assert_eq!(refused.status.code(), Some(1));
    let error = text(&refused.stderr);
    for expected in [
        "lost acknowledged writes",
        "are missing",
        "sealdesk restore BACKUP_FILE --force",
        "sealdesk check",
        "--accept-data-loss",
    ] {
        assert!(error.contains(expected), "{expected:?} in {error}");
    }

    let (status, report, stderr) = check(root.path());
    assert_eq!(status, 1, "damaged data: {report}");
    assert!(
        report.contains("PROBLEM: the database lost acknowledged writes"),
        "{report}"
    );
    assert!(report.contains("check FAILED"), "{report}");
    assert!(stderr.contains("problem(s) found"), "{stderr}");
    // The check leaves the evidence: the server still refuses.
    assert_eq!(
        sealdesk(root.path(), &["serve"])
            .expect("still refused")
            .status
            .code(),
        Some(1)
    );

    // The operator accepts the loss: the server starts on what is left, and the record
    // follows the database from then on.
    assert!(
        sealdesk(root.path(), &["serve", "--accept-data-loss"]).is_none(),
        "starts with --accept-data-loss"
    );
    let (status, report, _) = check(root.path());
    assert_eq!(status, 0, "after accepting the loss: {report}");
    assert!(
        sealdesk(root.path(), &["serve"]).is_none(),
        "starts normally afterwards"
    );
}

/// Edits a stopped server's database directly, as damage would.
fn edit_database(data: &Path, edit: impl FnOnce(&sled::Db)) {
    let db = sled::open(data).unwrap();
    edit(&db);
    db.flush().unwrap();
}

#[test]
fn check_names_the_ticket_whose_chain_or_wrap_is_damaged() {
    let root = tempfile::tempdir().unwrap();
    let ids = written_and_stopped(root.path());
    let data = root.path().join("data");

    // The last message of one ticket's conversation disappears; a wrap of another is altered.
    let lost = hex_bytes(&ids[3]);
    let altered = hex_bytes(&ids[7]);
    edit_database(&data, |db| {
        let messages = db.open_tree("messages").unwrap();
        let mut key = lost.clone();
        key.push(0);
        key.extend_from_slice(&3u64.to_be_bytes());
        assert!(messages.remove(key).unwrap().is_some());
        let wraps = db.open_tree("wraps").unwrap();
        let (key, value) = wraps.scan_prefix(&altered).next().unwrap().unwrap();
        let mut value = value.to_vec();
        let last = value.len() - 1;
        value[last] ^= 0x01;
        wraps.insert(key, value).unwrap();
    });

    let (status, report, _) = check(root.path());
    assert_eq!(status, 1, "{report}");
    let problems: Vec<&str> = report
        .lines()
        .filter(|line| line.starts_with("PROBLEM: "))
        .collect();
    assert_eq!(problems.len(), 2, "{report}");
    assert!(
        problems[0].contains(&format!("ticket {}", ids[3]))
            && problems[0].contains("stored state is at seq 3"),
        "{report}"
    );
    assert!(
        problems[1].contains(&format!("wrap of ticket {}", ids[7]))
            && problems[1].contains("does not verify"),
        "{report}"
    );
}

fn hex_bytes(hex: &str) -> Vec<u8> {
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect()
}

/// The ticket indexes (schema version 2): a data directory written before them (version 1)
/// gets them at the next `serve`, `sealdesk check` verifies them against the records, and a
/// lost entry or a wrong counter fails the check loudly.
#[test]
fn ticket_indexes_are_built_for_old_directories_and_checked() {
    let root = tempfile::tempdir().unwrap();
    written_and_stopped(root.path());
    let data = root.path().join("data");
    let (status, report, _) = check(root.path());
    assert_eq!(status, 0, "{report}");

    // What an older Sealdesk wrote: schema version 1, no index trees.
    edit_database(&data, |db| {
        db.drop_tree("ticket_index").unwrap();
        db.drop_tree("ticket_counts").unwrap();
        db.open_tree("meta")
            .unwrap()
            .insert(b"schema_version", &1u32.to_be_bytes()[..])
            .unwrap();
    });
    let (status, report, _) = check(root.path());
    assert_eq!(status, 0, "check reads an old directory as it is: {report}");
    assert!(
        sealdesk(root.path(), &["serve"]).is_none(),
        "serve builds the indexes and starts"
    );
    let (status, report, _) = check(root.path());
    assert_eq!(
        status, 0,
        "the built indexes agree with the records: {report}"
    );
    edit_database(&data, |db| {
        let version = db
            .open_tree("meta")
            .unwrap()
            .get(b"schema_version")
            .unwrap();
        assert_eq!(version.unwrap().as_ref(), &2u32.to_be_bytes()[..]);
        assert!(!db.open_tree("ticket_index").unwrap().is_empty());
    });

    // Damage: one index entry lost, one counter changed.
    edit_database(&data, |db| {
        let index = db.open_tree("ticket_index").unwrap();
        let key = index.iter().keys().next().unwrap().unwrap();
        index.remove(key).unwrap();
        let counts = db.open_tree("ticket_counts").unwrap();
        let (key, _) = counts.iter().next().unwrap().unwrap();
        counts.insert(key, &999u64.to_be_bytes()[..]).unwrap();
    });
    let (status, report, _) = check(root.path());
    assert_eq!(status, 1, "{report}");
    let problems: Vec<&str> = report
        .lines()
        .filter(|line| line.starts_with("PROBLEM: "))
        .collect();
    assert_eq!(problems.len(), 2, "{report}");
    assert!(problems[0].contains("lacks 1 entries"), "{report}");
    assert!(
        problems[1].contains("1 ticket counters disagree"),
        "{report}"
    );
}
