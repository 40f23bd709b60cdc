//! Inbox benchmark at scale (issue 13, item 6): the first inbox page and the `unanswered`
//! filter, p50/p99 over one client's sequential requests, at 1,000 / 10,000 / 100,000 tickets,
//! through the real API of the release binary, with the server's resident memory after each
//! size. Also `GET /api/v1/accounts/tickets` for an account that owns no ticket (it read every
//! ticket before the indexes).
//!
//! The first ticket is created through the API; the others are written straight into the
//! stopped server's data directory through the storage backend (`Store::create_ticket`, which
//! updates the indexes in the same transaction as the API would), as copies of that ticket's
//! record, first message and wraps under new ids, with varied status, answered flag and last
//! activity: creating 100,000 tickets through the API (proof of work aside, one signed post
//! each) takes far longer than the measurement. The copies' messages do not verify under the
//! new ids (`sealdesk check` would say so); the inbox does not read messages.
//!
//! `nice -n 10 cargo bench -p sealdesk-server --bench inbox` (optionally `-- 1000,10000,100000
//! REQUESTS`), after `cargo build --release -p sealdesk-cli` (the binary is sealdesk-cli's).
//! Figures are recorded in BENCHMARKS.md ("Inbox at scale").

// Test and tool code: a failed expectation stops the run, so it may unwrap, expect and
// panic (the workspace denies these in library code: Cargo.toml, clippy.toml).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use sealdesk_server::storage::sled_store::SledStore;
use sealdesk_server::storage::{Owner, Status, Store, TicketScan};
use serde_json::Value;

use common::{ADMIN_SEED, Account, Desk, Server, Ticket};

/// p50 and p99 of `samples`, in milliseconds.
fn percentiles(samples: &mut [Duration]) -> (f64, f64) {
    samples.sort();
    let at = |q: f64| {
        let index = ((samples.len() as f64 - 1.0) * q).round() as usize;
        samples[index].as_secs_f64() * 1000.0
    };
    (at(0.50), at(0.99))
}

/// The server's resident memory and its peak, in MiB (`/proc/PID/status`).
fn resident_mib(pid: u32) -> (f64, f64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("proc status");
    let field = |name: &str| -> f64 {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|kb| kb.parse::<f64>().ok())
            .expect("a memory field")
            / 1024.0
    };
    (field("VmRSS:"), field("VmHWM:"))
}

fn main() {
    let mut args = std::env::args().skip(1).filter(|a| a != "--bench");
    let sizes: Vec<u64> = args
        .next()
        .unwrap_or_else(|| "1000,10000,100000".to_owned())
        .split(',')
        .map(|n| n.parse().expect("a size"))
        .collect();
    let requests: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(200);
    let data = tempfile::tempdir_in(std::env::current_dir().expect("cwd")).expect("tempdir");

    let mut desk = Desk::with(
        Server::options()
            .dir(data.path())
            .env("SEALDESK_REQUESTS_PER_MINUTE_PER_ADDRESS", "0")
            .env("SEALDESK_SIGN_INS_PER_MINUTE_PER_ADDRESS", "0"),
    );
    let session = Account::new("root", "admin password", ADMIN_SEED).enrol(&desk);
    let template_id = Ticket::open(&desk).secret.ticket_id().0;
    let data_dir = desk.server.data_dir().to_owned();

    println!(
        "| tickets | first page p50 / p99 (ms) | unanswered p50 / p99 (ms) | account list p50 / p99 (ms) | RSS / peak (MiB) | store on disk (MiB) | populate (s) |"
    );
    println!("|---|---|---|---|---|---|---|");
    let mut stored = 1u64;
    for &size in &sizes {
        // ---- populate the stopped server's directory up to `size` tickets ----
        desk.server.kill();
        let populate = Instant::now();
        let disk_mib;
        {
            let store = SledStore::open(&data_dir).expect("open the store");
            let template = store
                .all_tickets()
                .expect("tickets")
                .into_iter()
                .find(|t| t.id == template_id)
                .expect("the template ticket");
            let first = store
                .messages(&template_id, 0, 0, 1)
                .expect("messages")
                .remove(0);
            let wraps: Vec<_> = store
                .all_wraps()
                .expect("wraps")
                .into_iter()
                .filter(|(id, _)| *id == template_id)
                .map(|(_, wrap)| wrap)
                .collect();
            while stored < size {
                let n = stored;
                let mut record = template.clone();
                record.id[..8].copy_from_slice(&n.to_be_bytes());
                record.id[8..].copy_from_slice(b"inboxben");
                let mut access_token_hash = [0x5a; 32];
                access_token_hash[..8].copy_from_slice(&n.to_be_bytes());
                record.owner = Owner::Anonymous { access_token_hash };
                // Spread over a year, a few tickets per second of activity.
                record.last_activity = 1_700_000_000 + n * 317 % 31_536_000;
                record.created_at = record.last_activity;
                record.status = match n % 10 {
                    0..=4 => Status::Open,
                    5 => Status::Waiting,
                    6 => Status::OnHold,
                    _ => Status::Closed,
                };
                record.answered = !n.is_multiple_of(3);
                store
                    .create_ticket(&record, &first, &wraps)
                    .expect("create a ticket");
                stored += 1;
            }
            store.flush_now().expect("flush");
            disk_mib = store.size_on_disk().expect("size") as f64 / (1 << 20) as f64;
        }
        let populated = populate.elapsed().as_secs_f64();
        desk.server.restart();
        desk.server
            .wait_healthy(&desk.http, Duration::from_secs(60));

        // ---- measure ----
        let measure = |path: &str| -> (f64, f64) {
            for _ in 0..20 {
                let _ = desk.get(path, &session).bytes();
            }
            let mut samples = Vec::with_capacity(requests);
            for _ in 0..requests {
                let started = Instant::now();
                let response = desk.get(path, &session);
                assert_eq!(response.status(), StatusCode::OK, "{path}");
                let body: Value = response.json().expect("json");
                samples.push(started.elapsed());
                assert!(body["tickets"].is_array());
            }
            percentiles(&mut samples)
        };
        let first_page = measure("/api/v1/inbox");
        let unanswered = measure("/api/v1/inbox?status=unanswered");
        let account = measure("/api/v1/accounts/tickets");
        let counts: Value = desk.get("/api/v1/inbox", &session).json().expect("json");
        assert_eq!(counts["counts"]["all"].as_u64(), Some(size.max(1)));
        let (rss, peak) = resident_mib(desk.server.child.id());
        println!(
            "| {size} | {:.2} / {:.2} | {:.2} / {:.2} | {:.2} / {:.2} | {rss:.0} / {peak:.0} | {disk_mib:.0} | {populated:.0} |",
            first_page.0, first_page.1, unanswered.0, unanswered.1, account.0, account.1
        );
    }
}
