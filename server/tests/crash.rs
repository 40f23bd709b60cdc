//! Crash durability of the real `sealdesk` binary: clients post signed messages as fast as they
//! can while the server is killed with SIGKILL at an arbitrary moment, then the server restarts
//! on the same data directory and every message it acknowledged (201) must be there, at its
//! seq, byte for byte, in a chain that still verifies (spec/API.md: "A write is acknowledged
//! (2xx) only after it is durable on disk").
//!
//! Layout: `tickets` anonymous tickets, `threads` client threads (a [`Soak`]). Each ticket is
//! shared by `threads / tickets` threads through a mutex that holds the ticket's `ChainState` and is held
//! for the whole of a post, so every message a client seals is the correct next one: the server
//! has no reason to answer anything but 201 until it dies, and any other answer fails the test.
//! Each post is the reporter's (bearer token) or the administrator's (signature), mixed.
//!
//! A post whose request fails (the server died) has an unknown outcome: after the restart the
//! client re-reads the chain, verifies it and continues from what the server returns.
//!
//! After the last cycle the server is killed once more and `sealdesk check` must pass on the
//! data directory (every chain, wrap and the record of acknowledged writes).
//!
//! `acknowledged_messages_survive_sigkill` runs in the test command (4 tickets, 8 clients, 5
//! cycles; `SEALDESK_CRASH_TICKETS`, `SEALDESK_CRASH_THREADS` and `SEALDESK_CRASH_CYCLES`
//! override them). The soak of BENCHMARKS.md, 32 clients on 32 tickets for 20 cycles, is
//! ignored by default: `cargo test --release -p sealdesk-server --test crash -- --ignored
//! --nocapture`.

// Test and tool code: a failed expectation stops the run, so it may unwrap, expect and
// panic (the workspace denies these in library code: Cargo.toml, clippy.toml).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use reqwest::blocking::Client;
use sealdesk_crypto::{
    Chain, ChainState, Directory, Identity, Kind, Members, Message, Placement, TicketId, TicketKey,
    system_rng,
};
use serde_json::{Value, json};

use common::{Desk, Options, Server, Ticket, b64, unb64};

/// The size of a run.
#[derive(Clone, Copy, Debug)]
struct Soak {
    /// Anonymous tickets written to.
    tickets: usize,
    /// Client threads; thread `t` writes to ticket `t % tickets`.
    threads: usize,
    /// Kill-and-restart cycles.
    cycles: u64,
}

/// `name`'s value from the environment, or `default`.
fn setting<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name).ok().map_or(default, |value| {
        value
            .parse()
            .unwrap_or_else(|_| panic!("{name} is a number"))
    })
}
/// Page size of `GET .../messages` (spec/API.md).
const PAGE: usize = 200;
/// Bound of every HTTP request.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// Bound of a server start (its first lines and a healthy `/healthz`).
const STARTUP_TIMEOUT: Duration = Duration::from_secs(20);
/// A client thread gives up (and fails the test) if the kill has not come by then.
const CYCLE_LIMIT: Duration = Duration::from_secs(15);
/// The test is meaningless with fewer acknowledged messages than this.
const MIN_ACKNOWLEDGED: usize = 50;

/// Delay between the clients' start and the kill in cycle `cycle`: deterministic, spread over
/// 150..=400 ms.
fn kill_delay(cycle: u64) -> Duration {
    Duration::from_millis(150 + (cycle * 7919 + 13) % 251)
}

fn http_client() -> Client {
    Client::builder()
        .connect_timeout(Duration::from_secs(2))
        .timeout(REQUEST_TIMEOUT)
        .build()
        .expect("HTTP client")
}

/// Every run's options: the data directory and each run's standard error
/// (`server-{run}.log`) in `root`.
fn options(root: &Path) -> Options {
    Server::options()
        .dir(root)
        .log_to_file()
        // The clients post far faster than people do; rate limits would answer 429.
        .env("SEALDESK_POSTS_PER_MINUTE", "1000000")
        .env("SEALDESK_PROOF_OF_WORK_BITS", "0")
        .env("SEALDESK_ANONYMOUS_TICKETS_PER_HOUR", "1000000")
        .startup_timeout(STARTUP_TIMEOUT)
}

/// Kills the server (if it still runs) and starts it again on the same data directory; an
/// administrator exists, so it must print no invite.
fn restart(server: &mut Server) {
    server.restart();
    server.wait_healthy(&http_client(), STARTUP_TIMEOUT);
    // The invite lines are printed before the server answers, so by now they would be in the
    // pipe: an administrator exists, so there must be none, only the instance fingerprint.
    let mut line = server.next_line(Duration::from_millis(50));
    if line
        .as_deref()
        .is_some_and(|l| l.starts_with("Instance fingerprint: "))
    {
        line = server.next_line(Duration::from_millis(50));
    }
    if let Some(line) = line {
        panic!(
            "server run {} printed {line:?} although an administrator exists",
            server.run()
        );
    }
}

/// The test's directory (data directory and server logs), kept and its path printed if the
/// test fails, for investigation.
struct Root(Option<tempfile::TempDir>);

impl Root {
    fn path(&self) -> &Path {
        self.0.as_ref().expect("the directory").path()
    }
}

impl Drop for Root {
    fn drop(&mut self) {
        if thread::panicking()
            && let Some(dir) = self.0.take()
        {
            eprintln!(
                "data directory and server logs kept in {}",
                dir.keep().display()
            );
        }
    }
}

/// What never changes about a ticket.
struct TicketInfo {
    id: TicketId,
    hex: String,
    reporter: Identity,
    key: TicketKey,
    members: Members,
    token: String,
}

/// A ticket's chain as the clients know it, shared by the threads that write to it.
struct Live {
    state: ChainState,
    /// A post failed: its outcome is unknown until the chain is re-read after the restart.
    stopped: bool,
}

/// Everything the clients sent to one ticket over the whole test.
#[derive(Default)]
struct Ledger {
    /// Messages answered 201, by seq (never removed: they must survive every later crash).
    acked: BTreeMap<u64, Vec<u8>>,
    /// Every message sent (acknowledged or not), by seq: a stored message must be one of them.
    sent: BTreeMap<u64, Vec<Vec<u8>>>,
    /// The chain as last read and verified: a later read must extend it.
    chain: Vec<Vec<u8>>,
}

/// The shared context of the client threads of one cycle.
struct Shared {
    base: String,
    admin: Identity,
    directory: Directory,
    tickets: Vec<TicketInfo>,
    live: Vec<Mutex<Live>>,
    /// Set just before the kill: a request error after it is expected, before it a failure.
    killed: AtomicBool,
    cycle: u64,
}

/// A sent message.
struct Sent {
    ticket: usize,
    seq: u64,
    bytes: Vec<u8>,
}

/// What a client thread did in one cycle.
#[derive(Default)]
struct Report {
    acked: Vec<Sent>,
    /// Posts whose request failed: unknown outcome.
    unknown: Vec<Sent>,
    by_reporter: usize,
    by_admin: usize,
    failures: Vec<String>,
}

fn lock(live: &Mutex<Live>) -> std::sync::MutexGuard<'_, Live> {
    live.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A client thread: posts the next message of its ticket until a request fails.
fn client(shared: &Shared, thread_index: usize) -> Report {
    let mut report = Report::default();
    let mut rng = system_rng();
    let http = http_client();
    let ticket = thread_index % shared.tickets.len();
    let info = &shared.tickets[ticket];
    let url = format!("{}/api/v1/tickets/{}/messages", shared.base, info.hex);
    let started = Instant::now();
    for post in 0usize.. {
        if started.elapsed() > CYCLE_LIMIT {
            report.failures.push(format!(
                "thread {thread_index}: still posting {CYCLE_LIMIT:?} into the cycle"
            ));
            break;
        }
        let mut live = lock(&shared.live[ticket]);
        if live.stopped {
            break;
        }
        let as_admin = (post + thread_index).is_multiple_of(3);
        let placement = Placement {
            ticket_id: info.id,
            chain: Chain::Conversation,
            seq: live.state.last_seq() + 1,
            prev_hash: live.state.last_hash(),
            epoch: 0,
            dir_seq: shared.directory.head_seq(),
            kind: Kind::Message,
        };
        let signer = if as_admin {
            &shared.admin
        } else {
            &info.reporter
        };
        let text = format!(
            r#"{{"text":"cycle {} thread {thread_index} post {post}"}}"#,
            shared.cycle
        );
        let message =
            Message::seal(signer, placement, &info.key, text.as_bytes(), &mut rng).expect("seal");
        let bytes = message.to_bytes();
        let seq = placement.seq;
        let mut request = http.post(&url).json(&json!({"message": b64(&bytes)}));
        if !as_admin {
            request = request.bearer_auth(&info.token);
        }
        match request.send() {
            Err(error) => {
                live.stopped = true;
                if !shared.killed.load(Ordering::SeqCst) {
                    report.failures.push(format!(
                        "thread {thread_index}: ticket {ticket} seq {seq}: request failed \
                         before the kill: {error}"
                    ));
                }
                report.unknown.push(Sent { ticket, seq, bytes });
                break;
            }
            Ok(response) if response.status() == StatusCode::CREATED => {
                // The status line means the handler finished, i.e. after the flush; the body may
                // be cut by the kill, so check it only when it arrives.
                if let Ok(body) = response.json::<Value>()
                    && body != json!({"chain": 0, "seq": seq})
                {
                    report.failures.push(format!(
                        "thread {thread_index}: ticket {ticket} seq {seq}: 201 with {body}"
                    ));
                }
                live.state
                    .push(&message, &info.members, &shared.directory)
                    .expect("our own message is the valid next one");
                if as_admin {
                    report.by_admin += 1;
                } else {
                    report.by_reporter += 1;
                }
                report.acked.push(Sent { ticket, seq, bytes });
            }
            Ok(response) => {
                live.stopped = true;
                let status = response.status();
                let body = response.text().unwrap_or_default();
                report.failures.push(format!(
                    "thread {thread_index}: ticket {ticket} seq {seq}: answered {status}: {body}"
                ));
                // A 4xx/5xx changes nothing (spec/API.md), but count it as unknown anyway.
                report.unknown.push(Sent { ticket, seq, bytes });
                break;
            }
        }
        drop(live);
        // Let the other thread of this ticket have a turn (std's mutex is not fair).
        thread::yield_now();
    }
    report
}

/// Creates an anonymous ticket as the reporter's browser does; returns it, its first message
/// and its verified state.
fn open_ticket(desk: &Desk) -> (TicketInfo, Vec<u8>, ChainState) {
    let (ticket, body) = Ticket::draft(desk, br#"{"text":"help"}"#);
    let response = desk.post("/api/v1/tickets", &body, None);
    assert_eq!(response.status(), StatusCode::CREATED);
    let info = TicketInfo {
        id: ticket.secret.ticket_id(),
        hex: ticket.id(),
        reporter: ticket.reporter,
        key: ticket.key,
        members: ticket.members,
        token: ticket.token,
    };
    (info, unb64(&body["message"]), ticket.state)
}

/// Reads and verifies the directory; it must be exactly the genesis entry the test posted.
fn read_directory(http: &Client, server: &Server, genesis: &[u8]) -> Directory {
    let body: Value = http
        .get(server.url("/api/v1/directory"))
        .send()
        .expect("GET directory")
        .json()
        .expect("directory JSON");
    let entries: Vec<Vec<u8>> = body["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .map(unb64)
        .collect();
    let directory = Directory::verify_encoded(&entries).expect("the directory verifies");
    assert_eq!(
        entries,
        [genesis.to_vec()],
        "the directory is the genesis entry"
    );
    let head = directory.head();
    assert_eq!(body["head"]["seq"], json!(head.seq));
    assert_eq!(body["head"]["hash"], json!(b64(&head.hash)));
    directory
}

/// Every message of a ticket's conversation, paginated, as `(seq, bytes)`.
fn read_chain(http: &Client, server: &Server, info: &TicketInfo) -> Vec<Vec<u8>> {
    let mut chain = Vec::new();
    loop {
        let after = chain.len();
        let response = http
            .get(server.url(&format!(
                "/api/v1/tickets/{}/messages?chain=0&after={after}",
                info.hex
            )))
            .bearer_auth(&info.token)
            .send()
            .expect("GET messages");
        assert_eq!(response.status(), StatusCode::OK);
        let page: Value = response.json().expect("messages JSON");
        let messages = page["messages"].as_array().expect("messages");
        let more = page["more"].as_bool().expect("more");
        assert!(messages.len() <= PAGE, "a page holds at most {PAGE}");
        assert!(!more || messages.len() == PAGE, "a short page with more");
        for message in messages {
            let seq = message["seq"].as_u64().expect("seq");
            assert_eq!(seq, chain.len() as u64 + 1, "seqs are contiguous from 1");
            chain.push(unb64(&message["message"]));
        }
        if !more {
            return chain;
        }
    }
}

/// Outcome of the check after a restart.
#[derive(Default)]
struct Check {
    /// Posts of unknown outcome that the server kept.
    unknown_kept: usize,
    /// Total length of the chains.
    messages: usize,
    /// Acknowledged messages missing or stored with other bytes.
    lost: usize,
    /// Chains that verified and held every acknowledged message.
    intact: usize,
    problems: Vec<String>,
}

/// Re-reads every ticket after a restart, verifies it, checks it against the ledgers and
/// resynchronises the clients' chain states.
fn check_and_resync(
    http: &Client,
    server: &Server,
    directory: &Directory,
    tickets: &[TicketInfo],
    ledgers: &mut [Ledger],
    unknown: &[Sent],
) -> (Check, Vec<ChainState>) {
    let mut check = Check::default();
    let mut states = Vec::new();
    for (index, (info, ledger)) in tickets.iter().zip(ledgers.iter_mut()).enumerate() {
        let chain = read_chain(http, server, info);
        check.messages += chain.len();
        let state = ChainState::verify_encoded(
            info.id,
            Chain::Conversation,
            &chain,
            &info.members,
            directory,
        )
        .unwrap_or_else(|e| panic!("ticket {index}: the stored chain does not verify: {e}"));
        let lost_before = check.lost;
        for (&seq, bytes) in &ledger.acked {
            match chain.get(seq as usize - 1) {
                Some(stored) if stored == bytes => {}
                Some(_) => {
                    check.lost += 1;
                    check.problems.push(format!(
                        "ticket {index}: acknowledged seq {seq} is stored with other bytes"
                    ));
                }
                None => {
                    check.lost += 1;
                    check.problems.push(format!(
                        "ticket {index}: acknowledged seq {seq} is missing (chain has {})",
                        chain.len()
                    ));
                }
            }
        }
        // The chain verified above (or the test stopped).
        if check.lost == lost_before {
            check.intact += 1;
        }
        if !chain.starts_with(&ledger.chain) {
            check.problems.push(format!(
                "ticket {index}: the chain ({} messages) does not extend the one read after the \
                 previous restart ({} messages)",
                chain.len(),
                ledger.chain.len()
            ));
        }
        for (position, bytes) in chain.iter().enumerate() {
            let seq = position as u64 + 1;
            if !ledger
                .sent
                .get(&seq)
                .is_some_and(|sent| sent.contains(bytes))
            {
                check.problems.push(format!(
                    "ticket {index}: stored seq {seq} is no message the clients sent"
                ));
            }
        }
        check.unknown_kept += unknown
            .iter()
            .filter(|u| u.ticket == index && chain.get(u.seq as usize - 1) == Some(&u.bytes))
            .count();
        // The ticket record's chain state (updated in the same transaction) agrees.
        let meta: Value = http
            .get(server.url(&format!("/api/v1/tickets/{}", info.hex)))
            .bearer_auth(&info.token)
            .send()
            .expect("GET ticket")
            .json()
            .expect("ticket JSON");
        if meta["conversation_seq"] != json!(chain.len()) {
            check.problems.push(format!(
                "ticket {index}: conversation_seq {} but {} messages stored",
                meta["conversation_seq"],
                chain.len()
            ));
        }
        ledger.chain = chain;
        states.push(state);
    }
    (check, states)
}

/// Per-cycle figures for the summary.
struct CycleLine {
    delay: Duration,
    acked: usize,
    by_reporter: usize,
    by_admin: usize,
    unknown: usize,
    unknown_kept: usize,
    chain_total: usize,
    restart: Duration,
    elapsed: Duration,
}

#[test]
fn acknowledged_messages_survive_sigkill() {
    soak(Soak {
        tickets: setting("SEALDESK_CRASH_TICKETS", 4),
        threads: setting("SEALDESK_CRASH_THREADS", 8),
        cycles: setting("SEALDESK_CRASH_CYCLES", 5),
    });
}

/// The soak of BENCHMARKS.md ("Crash soak").
#[test]
#[ignore = "a soak of a few minutes: run it with --ignored (BENCHMARKS.md)"]
fn soak_32_clients_20_cycles() {
    soak(Soak {
        tickets: 32,
        threads: 32,
        cycles: 20,
    });
}

fn soak(size: Soak) {
    println!("{size:?}");
    let test_started = Instant::now();
    // Owned by the test, not by a server run: the data directory outlives every process.
    let root = Root(Some(tempfile::tempdir().expect("tempdir")));
    let server = options(root.path()).start();
    server.wait_healthy(&http_client(), STARTUP_TIMEOUT);
    let desk = Desk::on(server, http_client());
    let genesis = desk.genesis().to_bytes();
    let directory = read_directory(&desk.http, &desk.server, &genesis);

    let mut tickets = Vec::new();
    let mut ledgers: Vec<Ledger> = Vec::new();
    let mut states = Vec::new();
    for _ in 0..size.tickets {
        let (info, first, state) = open_ticket(&desk);
        let mut ledger = Ledger::default();
        ledger.acked.insert(1, first.clone());
        ledger.sent.insert(1, vec![first.clone()]);
        ledger.chain = vec![first];
        tickets.push(info);
        ledgers.push(ledger);
        states.push(state);
    }
    let Desk {
        mut server, admin, ..
    } = desk;

    let mut lines = Vec::new();
    let mut failures = Vec::new();
    let mut shared = Arc::new(Shared {
        base: server.base.clone(),
        admin,
        directory,
        tickets,
        live: Vec::new(),
        killed: AtomicBool::new(false),
        cycle: 0,
    });
    let mut lost = 0usize;
    let mut intact_checks = 0usize;
    for cycle in 0..size.cycles {
        let cycle_started = Instant::now();
        {
            let context = Arc::get_mut(&mut shared).expect("no thread holds the context");
            context.base = server.base.clone();
            context.cycle = cycle;
            context.killed = AtomicBool::new(false);
            context.live = states
                .drain(..)
                .map(|state| {
                    Mutex::new(Live {
                        state,
                        stopped: false,
                    })
                })
                .collect();
        }
        let threads: Vec<_> = (0..size.threads)
            .map(|index| {
                let shared = Arc::clone(&shared);
                thread::spawn(move || client(&shared, index))
            })
            .collect();
        let delay = kill_delay(cycle);
        thread::sleep(delay);
        shared.killed.store(true, Ordering::SeqCst);
        server.kill();

        let mut line = CycleLine {
            delay,
            acked: 0,
            by_reporter: 0,
            by_admin: 0,
            unknown: 0,
            unknown_kept: 0,
            chain_total: 0,
            restart: Duration::ZERO,
            elapsed: Duration::ZERO,
        };
        let mut unknown = Vec::new();
        for handle in threads {
            let report = handle.join().expect("client thread");
            line.acked += report.acked.len();
            line.by_reporter += report.by_reporter;
            line.by_admin += report.by_admin;
            line.unknown += report.unknown.len();
            failures.extend(
                report
                    .failures
                    .into_iter()
                    .map(|f| format!("cycle {cycle}: {f}")),
            );
            for sent in report.acked {
                let ledger = &mut ledgers[sent.ticket];
                ledger
                    .sent
                    .entry(sent.seq)
                    .or_default()
                    .push(sent.bytes.clone());
                if ledger.acked.insert(sent.seq, sent.bytes).is_some() {
                    failures.push(format!(
                        "cycle {cycle}: ticket {} seq {} acknowledged twice",
                        sent.ticket, sent.seq
                    ));
                }
            }
            for sent in &report.unknown {
                ledgers[sent.ticket]
                    .sent
                    .entry(sent.seq)
                    .or_default()
                    .push(sent.bytes.clone());
            }
            unknown.extend(report.unknown);
        }

        let restart_started = Instant::now();
        restart(&mut server);
        line.restart = restart_started.elapsed();
        // A fresh client: no pooled connection to the dead process (whose port the new one
        // may even have been given).
        let http = http_client();
        let directory = read_directory(&http, &server, &genesis);
        let (check, resynced) = check_and_resync(
            &http,
            &server,
            &directory,
            &shared.tickets,
            &mut ledgers,
            &unknown,
        );
        states = resynced;
        line.unknown_kept = check.unknown_kept;
        lost += check.lost;
        intact_checks += check.intact;
        line.chain_total = check.messages;
        line.elapsed = cycle_started.elapsed();
        failures.extend(
            check
                .problems
                .into_iter()
                .map(|p| format!("cycle {cycle}: {p}")),
        );
        lines.push(line);
        if !failures.is_empty() {
            break;
        }
    }

    println!(
        "cycle  kill-after  acked  (reporter/admin)  in-flight  in-flight-kept  stored  restart  \
         cycle-time"
    );
    for (cycle, line) in lines.iter().enumerate() {
        println!(
            "{cycle:>5}  {:>8}ms  {:>5}  ({:>4}/{:<4})       {:>9}  {:>14}  {:>6}  {:>5}ms  \
             {:>8}ms",
            line.delay.as_millis(),
            line.acked,
            line.by_reporter,
            line.by_admin,
            line.unknown,
            line.unknown_kept,
            line.chain_total,
            line.restart.as_millis(),
            line.elapsed.as_millis(),
        );
    }
    let total: usize = lines.iter().map(|l| l.acked).sum();
    println!(
        "total acknowledged during the cycles: {total}; acknowledged messages lost: {lost}; \
         chains intact after restarts: {intact_checks} of {}; test time {:?}",
        lines.len() * size.tickets,
        test_started.elapsed()
    );
    // The server's own verification agrees: every chain, wrap and the record of acknowledged
    // writes (sealdesk check, README.md "Damaged data").
    server.kill();
    let checked = std::process::Command::new(common::sealdesk_binary())
        .arg("check")
        .env("SEALDESK_DATA_DIR", server.data_dir())
        .env("SEALDESK_LOG_LEVEL", "warn")
        .output()
        .expect("run sealdesk check");
    let report = String::from_utf8_lossy(&checked.stdout);
    println!("sealdesk check:\n{report}");
    if !checked.status.success() {
        failures.push(format!("sealdesk check failed after the soak:\n{report}"));
    }
    assert!(
        failures.is_empty(),
        "{} failure(s):\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(
        total > MIN_ACKNOWLEDGED,
        "only {total} acknowledged messages: the test proves little"
    );
}
