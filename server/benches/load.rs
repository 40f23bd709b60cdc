//! Load benchmark of the real `sealdesk` binary (issue 3): durable posts per second and p50/p99
//! latency with 32 concurrent clients posting valid signed messages, and in the same run a raw
//! sled insert-and-flush loop on the same disk, the storage limit to compare with.
//!
//! `cargo bench -p sealdesk-server --bench load` (optionally `-- CLIENTS SECONDS`), after
//! `cargo build --release -p sealdesk-cli` (the binary is sealdesk-cli's: cargo does not build it
//! for this package's benchmarks).
//! Figures are recorded in BENCHMARKS.md.

// Test and tool code: a failed expectation stops the run, so it may unwrap, expect and
// panic (the workspace denies these in library code: Cargo.toml, clippy.toml).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../tests/common/mod.rs"]
mod common;

use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use reqwest::blocking::Client;
use sealdesk_crypto::{Kind, Message, system_rng};
use serde_json::json;

use common::{Desk, Server, Ticket, b64};

fn main() {
    let mut args = std::env::args().skip(1).filter(|a| a != "--bench");
    let clients: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(32);
    let seconds: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(5);
    let data = tempfile::tempdir_in(std::env::current_dir().expect("cwd")).expect("tempdir");

    // ---- raw sled insert-and-flush loop on the same disk ----
    let raw_ops = {
        let db = sled::open(data.path().join("raw")).expect("sled");
        let value = vec![7u8; 600];
        let start = Instant::now();
        let mut n = 0u64;
        while start.elapsed() < Duration::from_secs(2) {
            db.insert(n.to_be_bytes(), value.as_slice())
                .expect("insert");
            db.flush().expect("flush");
            n += 1;
        }
        n as f64 / start.elapsed().as_secs_f64()
    };

    // ---- the server ----
    let desk = Arc::new(Desk::with(
        Server::options()
            .dir(data.path())
            .env("SEALDESK_POSTS_PER_MINUTE", "100000000")
            .env("SEALDESK_ANONYMOUS_TICKETS_PER_HOUR", "100000000"),
    ));
    let base = desk.server.base.clone();

    // One ticket per client, each with its own chain state.
    let barrier = Arc::new(Barrier::new(clients + 1));
    let handles: Vec<_> = (0..clients)
        .map(|_| {
            let (base, desk, barrier) = (base.clone(), desk.clone(), barrier.clone());
            std::thread::spawn(move || {
                let http = Client::new();
                let mut rng = system_rng();
                let mut ticket = Ticket::open(&desk);
                let url = format!("{base}/api/v1/tickets/{}/messages", ticket.id());
                let content = vec![b'x'; 1000];

                barrier.wait();
                let start = Instant::now();
                let mut latencies = Vec::new();
                while start.elapsed() < Duration::from_secs(seconds) {
                    let message = Message::seal(
                        &ticket.reporter,
                        ticket.placement(Kind::Message, 0),
                        &ticket.key,
                        &content,
                        &mut rng,
                    )
                    .expect("seal");
                    let sent = Instant::now();
                    let response = http
                        .post(&url)
                        .bearer_auth(&ticket.token)
                        .json(&json!({"message": b64(&message.to_bytes())}))
                        .send()
                        .expect("post");
                    assert_eq!(response.status().as_u16(), 201, "post");
                    latencies.push(sent.elapsed());
                    ticket.accept(&desk, &message);
                }
                latencies
            })
        })
        .collect();
    barrier.wait();
    let start = Instant::now();
    let mut latencies: Vec<Duration> = handles
        .into_iter()
        .flat_map(|h| h.join().expect("client"))
        .collect();
    let elapsed = start.elapsed().as_secs_f64();
    drop(desk);

    latencies.sort();
    let percentile =
        |p: f64| latencies[((latencies.len() as f64 * p) as usize).min(latencies.len() - 1)];
    let posts = latencies.len() as f64 / elapsed;
    println!("clients                   {clients}");
    println!("durable posts/s           {posts:.0}");
    println!(
        "p50 latency               {:.2} ms",
        percentile(0.50).as_secs_f64() * 1e3
    );
    println!(
        "p99 latency               {:.2} ms",
        percentile(0.99).as_secs_f64() * 1e3
    );
    println!("raw sled insert+flush/s   {raw_ops:.0}");
    println!("ratio posts / raw loop    {:.2}", posts / raw_ops);
}
