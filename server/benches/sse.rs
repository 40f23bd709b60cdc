//! Live-delivery benchmark of the real `sealdesk` binary (issue 3): 1,000 clients hold an
//! event stream open on one ticket; a reporter posts 50 messages, 20 ms apart. Latency is
//! measured from the start of each post to each subscriber's receipt of its `message` event.
//!
//! `cargo bench -p sealdesk-server --bench sse` (optionally `-- SUBSCRIBERS MESSAGES`), after
//! `cargo build --release -p sealdesk-cli` (the binary is sealdesk-cli's: cargo does not build it
//! for this package's benchmarks).

// Test and tool code: a failed expectation stops the run, so it may unwrap, expect and
// panic (the workspace denies these in library code: Cargo.toml, clippy.toml).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../tests/common/mod.rs"]
mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use sealdesk_crypto::{Chain, ChainState, Kind, Message, Placement, system_rng};
use serde_json::json;

use common::{Desk, Server, Ticket, b64};

fn main() {
    let mut args = std::env::args().skip(1).filter(|a| a != "--bench");
    let subscribers: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(1000);
    let messages: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(50);
    // The administrator and the ticket, before the runtime (the harness's client blocks).
    // All subscribers share one token and one address: lift the stream and connection caps.
    let desk = Desk::with(Server::options().envs(&[
        ("SEALDESK_POSTS_PER_MINUTE", "100000000"),
        ("SEALDESK_MAX_EVENT_STREAMS_PER_TOKEN", "0"),
        ("SEALDESK_MAX_EVENT_STREAMS_PER_ADDRESS", "0"),
        ("SEALDESK_MAX_CONNECTIONS_PER_ADDRESS", "0"),
    ]));
    let base = desk.server.base.clone();
    let directory = desk.directory.clone();
    let Ticket {
        secret,
        reporter,
        key,
        state,
        members,
        token,
    } = Ticket::open(&desk);
    let id = secret.ticket_id();

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let latencies = runtime.block_on(async move {
        let http = reqwest::Client::new();
        let mut rng = system_rng();
        let place = |state: &ChainState| Placement {
            ticket_id: id,
            chain: Chain::Conversation,
            seq: state.last_seq() + 1,
            prev_hash: state.last_hash(),
            epoch: 0,
            dir_seq: 0,
            kind: Kind::Message,
        };

        // Subscribers: each records (seq, time received) until it has seen every message.
        let events_url = format!("{base}/api/v1/tickets/{}/events", id.to_hex());
        let last_seq = 1 + messages;
        let (ready_tx, mut ready_rx) = tokio::sync::mpsc::channel::<()>(subscribers);
        let mut tasks = Vec::new();
        for _ in 0..subscribers {
            let (client, url, token, ready) = (
                http.clone(),
                events_url.clone(),
                token.clone(),
                ready_tx.clone(),
            );
            tasks.push(tokio::spawn(async move {
                let mut response = client
                    .get(&url)
                    .bearer_auth(&token)
                    .send()
                    .await
                    .expect("subscribe");
                let mut buffer = String::new();
                let mut received = Vec::new();
                let mut signalled = false;
                while let Ok(Some(chunk)) = response.chunk().await {
                    let now = Instant::now();
                    buffer.push_str(&String::from_utf8_lossy(&chunk));
                    while let Some(end) = buffer.find("\n\n") {
                        let event: String = buffer.drain(..end + 2).collect();
                        if event.contains("event: ready") && !signalled {
                            signalled = true;
                            let _ = ready.send(()).await;
                        }
                        if let Some(at) = event.find("\"seq\":") {
                            let digits: String = event[at + 6..]
                                .chars()
                                .take_while(char::is_ascii_digit)
                                .collect();
                            let seq: u64 = digits.parse().expect("seq");
                            received.push((seq, now));
                            if seq == last_seq {
                                return received;
                            }
                        }
                    }
                }
                received
            }));
        }
        drop(ready_tx);
        for _ in 0..subscribers {
            ready_rx.recv().await.expect("every subscriber ready");
        }

        let state = Arc::new(tokio::sync::Mutex::new(state));
        let mut sent_at = Vec::new();
        let url = format!("{base}/api/v1/tickets/{}/messages", id.to_hex());
        for _ in 0..messages {
            let mut state = state.lock().await;
            let message =
                Message::seal(&reporter, place(&state), &key, b"{}", &mut rng).expect("seal");
            let start = Instant::now();
            let response = http
                .post(&url)
                .bearer_auth(&token)
                .json(&json!({"message": b64(&message.to_bytes())}))
                .send()
                .await
                .expect("post");
            assert_eq!(response.status().as_u16(), 201);
            state.push(&message, &members, &directory).expect("valid");
            sent_at.push((message.header.seq, start));
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let mut latencies = Vec::new();
        for task in tasks {
            let received = tokio::time::timeout(Duration::from_secs(30), task)
                .await
                .expect("subscriber finished")
                .expect("task");
            for (seq, at) in received {
                if let Some((_, start)) = sent_at.iter().find(|(s, _)| *s == seq) {
                    latencies.push(at.saturating_duration_since(*start));
                }
            }
        }
        latencies
    });
    drop(desk);

    let mut latencies = latencies;
    latencies.sort();
    let expected = subscribers as u64 * messages;
    let pct = |p: f64| latencies[((latencies.len() as f64 * p) as usize).min(latencies.len() - 1)];
    println!("subscribers               {subscribers}");
    println!("messages                  {messages}");
    println!(
        "deliveries                {} of {expected}",
        latencies.len()
    );
    println!(
        "p50 delivery latency      {:.2} ms",
        pct(0.50).as_secs_f64() * 1e3
    );
    println!(
        "p99 delivery latency      {:.2} ms",
        pct(0.99).as_secs_f64() * 1e3
    );
    println!(
        "max delivery latency      {:.2} ms",
        pct(1.0).as_secs_f64() * 1e3
    );
}
