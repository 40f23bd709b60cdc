//! Edges benchmark of the real `sealdesk` binary (issue 16, items 2 and 3).
//!
//! 1. Idle connections: opens IDLE TCP connections that send nothing (the server's soft
//!    open-files limit raised at start, `max_connections` above IDLE), then times 50 `/healthz`
//!    requests on a fresh connection each: median and worst.
//! 2. Slow readers: fills one ticket with MESSAGES messages of 512 KiB, then READERS clients
//!    send `GET …/messages` on the reporter's token and read nothing for 3 s; reports the
//!    server's resident memory (VmRSS, and the peak VmHWM) while they wait, for a page with no
//!    byte cap (`max_page_bytes` = 1 GiB, the old behaviour's page of up to 200 messages) and
//!    for the default 4 MiB cap, both with no per-token read limit, and for the defaults
//!    (4 MiB, 4 reads per token), in one run.
//!
//! `cargo bench -p sealdesk-server --bench conns` (optionally `-- IDLE READERS MESSAGES`), after
//! `cargo build --release -p sealdesk-cli`.

// Test and tool code: a failed expectation stops the run, so it may unwrap, expect and
// panic (the workspace denies these in library code: Cargo.toml, clippy.toml).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../tests/common/mod.rs"]
mod common;

use std::io::Write;
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use sealdesk_crypto::{Kind, Message, system_rng};

use common::{Desk, Server, Ticket};

fn address(server: &Server) -> SocketAddr {
    server
        .url("")
        .trim_start_matches("http://")
        .parse()
        .expect("address")
}

/// `VmRSS` and `VmHWM` of process `pid`, in MiB.
fn memory(pid: u32) -> (f64, f64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("status");
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|kb| kb.parse::<f64>().ok())
            .expect("field")
            / 1024.0
    };
    (field("VmRSS:"), field("VmHWM:"))
}

fn idle_connections(idle: usize) {
    let server = Server::start(&[
        ("SEALDESK_MAX_CONNECTIONS", &(idle + 100).to_string()),
        ("SEALDESK_MAX_CONNECTIONS_PER_ADDRESS", "0"),
        ("SEALDESK_HEADER_READ_TIMEOUT_SECONDS", "120"),
    ]);
    let target = address(&server);
    let held: Vec<TcpStream> = (0..idle)
        .map(|_| TcpStream::connect(target).expect("connect"))
        .collect();
    std::thread::sleep(Duration::from_millis(500));
    let mut times: Vec<Duration> = (0..50)
        .map(|_| {
            let http = reqwest::blocking::Client::new();
            let start = Instant::now();
            let response = http
                .get(server.url("/healthz"))
                .timeout(Duration::from_secs(5))
                .send()
                .expect("/healthz");
            assert_eq!(response.status().as_u16(), 200);
            start.elapsed()
        })
        .collect();
    times.sort();
    println!(
        "idle connections held: {}; /healthz over 50 fresh connections: median {:.1} ms, worst {:.1} ms",
        held.len(),
        times[times.len() / 2].as_secs_f64() * 1e3,
        times[times.len() - 1].as_secs_f64() * 1e3,
    );
}

fn slow_readers(label: &str, env: &[(&str, &str)], readers: usize, messages: usize) {
    let mut all = vec![
        ("SEALDESK_POSTS_PER_MINUTE", "100000000"),
        ("SEALDESK_TICKET_QUOTA_BYTES", "10000000000"),
        ("SEALDESK_MAX_CONNECTIONS_PER_ADDRESS", "0"),
    ];
    all.extend_from_slice(env);
    let desk = Desk::start_with(&all);
    let mut ticket = Ticket::open(&desk);
    let content = vec![b'x'; 512 << 10];
    for _ in 0..messages {
        let message = Message::seal(
            &ticket.reporter,
            ticket.placement(Kind::Message, desk.directory.head_seq()),
            &ticket.key,
            &content,
            &mut system_rng(),
        )
        .expect("seal");
        let response = ticket.send(&desk, &message.to_bytes(), Some(&ticket.token));
        assert_eq!(response.status().as_u16(), 201);
        ticket.accept(&desk, &message);
    }
    let pid = desk.server.child.id();
    let (rss_before, _) = memory(pid);
    let target = address(&desk.server);
    let request = format!(
        "GET /api/v1/tickets/{}/messages?chain=0&after=0 HTTP/1.1\r\nHost: x\r\n\
         Authorization: Bearer {}\r\n\r\n",
        ticket.id(),
        ticket.token
    );
    let held: Vec<TcpStream> = (0..readers)
        .map(|_| {
            let mut stream = TcpStream::connect(target).expect("connect");
            stream.write_all(request.as_bytes()).expect("request");
            stream
        })
        .collect();
    std::thread::sleep(Duration::from_secs(3));
    let (rss, peak) = memory(pid);
    println!(
        "{label}: {readers} slow readers of {messages} x 512 KiB: resident {rss_before:.0} MiB \
         before, {rss:.0} MiB while they wait (+{:.0} MiB), peak {peak:.0} MiB",
        rss - rss_before
    );
    drop(held);
}

fn main() {
    let mut args = std::env::args().skip(1).filter(|a| a != "--bench");
    let idle: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(1000);
    let readers: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(12);
    let messages: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(100);
    // This process opens the connections too.
    let limit = rlimit::increase_nofile_limit(u64::MAX).expect("open files limit");
    println!("bench process open-files limit: {limit}");

    idle_connections(idle);
    slow_readers(
        "no byte cap (1 GiB page), no read limit",
        &[
            ("SEALDESK_MAX_PAGE_BYTES", "1073741824"),
            ("SEALDESK_MAX_READS_PER_TOKEN", "0"),
        ],
        readers,
        messages,
    );
    slow_readers(
        "4 MiB page, no read limit",
        &[("SEALDESK_MAX_READS_PER_TOKEN", "0")],
        readers,
        messages,
    );
    slow_readers(
        "defaults (4 MiB page, 4 reads per token)",
        &[],
        readers,
        messages,
    );
}
