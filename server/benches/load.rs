//! Load benchmark of the real `sealdesk` binary (issue 3): durable posts per second and p50/p99
//! latency with 32 concurrent clients posting valid signed messages, and in the same run a raw
//! sled insert-and-flush loop on the same disk, the storage limit to compare with.
//!
//! `cargo bench -p sealdesk-server --bench load` (optionally `-- CLIENTS SECONDS`).
//! Figures are recorded in BENCHMARKS.md.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use base64ct::{Base64UrlUnpadded, Encoding};
use reqwest::blocking::Client;
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
    let mut child = Command::new(env!("CARGO_BIN_EXE_sealdesk"))
        .arg("serve")
        .env("SEALDESK_DATA_DIR", data.path().join("server"))
        .env("SEALDESK_LISTEN", "127.0.0.1:0")
        .env("SEALDESK_WEB_DIR", data.path().join("no-web"))
        .env("SEALDESK_LOG_LEVEL", "warn")
        .env("SEALDESK_POSTS_PER_MINUTE", "100000000")
        .env("SEALDESK_ANONYMOUS_TICKETS_PER_HOUR", "100000000")
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

    let http = Client::new();
    let admin = Identity::from_seed(&IdentitySeed::from_bytes([5; 32]));
    let genesis = DirectoryEntry::genesis(&admin);
    let ok = http
        .post(format!("{base}/api/v1/invites/redeem-genesis"))
        .json(&json!({"invite": invite, "entry": b64(&genesis.to_bytes())}))
        .send()
        .expect("redeem")
        .status()
        .is_success();
    assert!(ok, "genesis");
    let directory = Arc::new(Directory::verify(&[genesis]).expect("directory"));
    let admin = Arc::new(admin);

    // One ticket per client, each with its own chain state.
    let barrier = Arc::new(Barrier::new(clients + 1));
    let handles: Vec<_> = (0..clients)
        .map(|_| {
            let (base, directory, admin, barrier) = (
                base.clone(),
                directory.clone(),
                admin.clone(),
                barrier.clone(),
            );
            std::thread::spawn(move || {
                let http = Client::new();
                let mut rng = system_rng();
                let secret = TicketSecret::generate(&mut rng);
                let reporter = secret.identity();
                let id = secret.ticket_id();
                let key = TicketKey::generate(&mut rng);
                let members = Members::new(id, reporter.public().clone());
                let mut state = ChainState::new(id, Chain::Conversation);
                let token = secret.access_token();
                let place = |state: &ChainState| Placement {
                    ticket_id: id,
                    chain: Chain::Conversation,
                    seq: state.last_seq() + 1,
                    prev_hash: state.last_hash(),
                    epoch: 0,
                    dir_seq: 0,
                    kind: Kind::Message,
                };
                let first =
                    Message::seal(&reporter, place(&state), &key, b"{}", &mut rng).expect("seal");
                let wraps: Vec<String> = [reporter.public(), admin.public()]
                    .iter()
                    .map(|r| {
                        b64(&WrappedKey::seal(
                            &reporter,
                            r,
                            id,
                            Chain::Conversation,
                            0,
                            0,
                            &key,
                            &mut rng,
                        )
                        .expect("wrap")
                        .to_bytes())
                    })
                    .collect();
                let created = http
                    .post(format!("{base}/api/v1/tickets"))
                    .json(&json!({
                        "reporter": b64(&reporter.public().to_bytes()),
                        "access_token_hash": b64(&token.hash()),
                        "message": b64(&first.to_bytes()),
                        "wraps": wraps,
                    }))
                    .send()
                    .expect("create");
                assert!(
                    created.status().is_success(),
                    "create: {}",
                    created.status()
                );
                state.push(&first, &members, &directory).expect("valid");
                let url = format!("{base}/api/v1/tickets/{}/messages", id.to_hex());
                let bearer = token.to_base64url();
                let content = vec![b'x'; 1000];

                barrier.wait();
                let start = Instant::now();
                let mut latencies = Vec::new();
                while start.elapsed() < Duration::from_secs(seconds) {
                    let message = Message::seal(&reporter, place(&state), &key, &content, &mut rng)
                        .expect("seal");
                    let sent = Instant::now();
                    let response = http
                        .post(&url)
                        .bearer_auth(&bearer)
                        .json(&json!({"message": b64(&message.to_bytes())}))
                        .send()
                        .expect("post");
                    assert_eq!(response.status().as_u16(), 201, "post");
                    latencies.push(sent.elapsed());
                    state.push(&message, &members, &directory).expect("valid");
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
    let _ = child.kill();
    let _ = child.wait();

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
