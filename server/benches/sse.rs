//! Live-delivery benchmark of the real `sealdesk` binary (issue 3): 1,000 clients hold an
//! event stream open on one ticket; a reporter posts 50 messages, 20 ms apart. Latency is
//! measured from the start of each post to each subscriber's receipt of its `message` event.
//!
//! `cargo bench -p sealdesk-server --bench sse` (optionally `-- SUBSCRIBERS MESSAGES`).

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64ct::{Base64UrlUnpadded, Encoding};
use sealdesk_crypto::{
    Chain, ChainState, Directory, DirectoryEntry, Identity, IdentitySeed, Kind, Members, Message,
    Placement, TicketKey, TicketSecret, WrappedKey, system_rng,
};
use serde_json::json;

fn b64(bytes: &[u8]) -> String {
    Base64UrlUnpadded::encode_string(bytes)
}

fn main() {
    let mut args = std::env::args().skip(1).filter(|a| a != "--bench");
    let subscribers: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(1000);
    let messages: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(50);
    let data = tempfile::tempdir().expect("tempdir");
    let mut child = Command::new(env!("CARGO_BIN_EXE_sealdesk"))
        .arg("serve")
        .env("SEALDESK_DATA_DIR", data.path())
        .env("SEALDESK_LISTEN", "127.0.0.1:0")
        .env("SEALDESK_WEB_DIR", data.path().join("no-web"))
        .env("SEALDESK_LOG_LEVEL", "warn")
        .env("SEALDESK_POSTS_PER_MINUTE", "100000000")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start sealdesk");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let base = lines.next().expect("line").expect("utf-8");
    let base = base
        .strip_prefix("sealdesk listening on ")
        .expect("listening")
        .to_owned();
    let _ = lines.next();
    let invite = lines.next().expect("invite").expect("utf-8");
    let invite = invite.split_once('#').expect("token").1.trim().to_owned();

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let latencies = runtime.block_on(async move {
        let http = reqwest::Client::new();
        let admin = Identity::from_seed(&IdentitySeed::from_bytes([5; 32]));
        let genesis = DirectoryEntry::genesis(&admin);
        http.post(format!("{base}/api/v1/invites/redeem-genesis"))
            .json(&json!({"invite": invite, "entry": b64(&genesis.to_bytes())}))
            .send()
            .await
            .expect("redeem");
        let directory = Directory::verify(&[genesis]).expect("directory");

        let mut rng = system_rng();
        let secret = TicketSecret::generate(&mut rng);
        let reporter = secret.identity();
        let id = secret.ticket_id();
        let key = TicketKey::generate(&mut rng);
        let members = Members::new(id, reporter.public().clone());
        let mut state = ChainState::new(id, Chain::Conversation);
        let token = secret.access_token().to_base64url();
        let place = |state: &ChainState| Placement {
            ticket_id: id,
            chain: Chain::Conversation,
            seq: state.last_seq() + 1,
            prev_hash: state.last_hash(),
            epoch: 0,
            dir_seq: 0,
            kind: Kind::Message,
        };
        let first = Message::seal(&reporter, place(&state), &key, b"{}", &mut rng).expect("seal");
        let wraps: Vec<String> = [reporter.public(), admin.public()]
            .iter()
            .map(|r| {
                b64(
                    &WrappedKey::seal(&reporter, r, id, Chain::Conversation, 0, 0, &key, &mut rng)
                        .expect("wrap")
                        .to_bytes(),
                )
            })
            .collect();
        http.post(format!("{base}/api/v1/tickets"))
            .json(&json!({
                "reporter": b64(&reporter.public().to_bytes()),
                "access_token_hash": b64(&secret.access_token().hash()),
                "message": b64(&first.to_bytes()),
                "wraps": wraps,
            }))
            .send()
            .await
            .expect("create");
        state.push(&first, &members, &directory).expect("valid");

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
    let _ = child.kill();
    let _ = child.wait();

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
