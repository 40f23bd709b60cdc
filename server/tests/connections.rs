//! No outage from idle or slow clients (issue 16, item 2): a bounded flood of idle and
//! half-sent connections on loopback does not stop `/healthz`, the header-read and idle
//! timeouts close them (and an idle keep-alive connection), and the per-address cap closes a client's connections beyond it at once.

// Test and tool code: a failed expectation stops the run, so it may unwrap, expect and
// panic (the workspace denies these in library code: Cargo.toml, clippy.toml).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use reqwest::blocking::Client;

use common::Server;

/// Connections of each kind in the flood (idle, half a header): bounded, and below the
/// default soft limit of 1,024 open files of the test process.
const FLOOD: usize = 300;

fn address(server: &Server) -> SocketAddr {
    let url = server.url("");
    url.trim_start_matches("http://").parse().expect("address")
}

/// Whether the server closed `stream` within `wait`: a read ends (0 bytes, or a reset). Bytes
/// the server still sends first (the rest of an answer) are read and skipped.
fn closed_within(stream: &mut TcpStream, wait: Duration) -> bool {
    let deadline = Instant::now() + wait;
    let mut buffer = [0u8; 256];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return false;
        }
        stream.set_read_timeout(Some(left)).expect("timeout");
        match stream.read(&mut buffer) {
            Ok(0) => return true,
            Ok(_) => {}
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                return false;
            }
            Err(_) => return true,
        }
    }
}

/// `/healthz` answers 200 within `limit`, on a new connection (a pooled one may just have been
/// closed by the idle timeout).
fn assert_healthy_within(server: &Server, limit: Duration) {
    let http = Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .expect("client");
    let start = Instant::now();
    let response = http
        .get(server.url("/healthz"))
        .timeout(limit)
        .send()
        .expect("/healthz answers during the flood");
    assert_eq!(response.status().as_u16(), 200);
    assert!(
        start.elapsed() < limit,
        "/healthz took {:?}",
        start.elapsed()
    );
}

#[test]
fn idle_and_half_sent_connections_do_not_stop_healthz_and_are_closed() {
    let server = Server::start(&[
        ("SEALDESK_HEADER_READ_TIMEOUT_SECONDS", "2"),
        ("SEALDESK_IDLE_TIMEOUT_SECONDS", "2"),
        // Every connection here comes from 127.0.0.1: the flood fits under this cap.
        ("SEALDESK_MAX_CONNECTIONS_PER_ADDRESS", "1000"),
    ]);
    let target = address(&server);
    let mut idle: Vec<TcpStream> = (0..FLOOD)
        .map(|_| TcpStream::connect(target).expect("connect"))
        .collect();
    let mut half: Vec<TcpStream> = (0..FLOOD)
        .map(|_| {
            let mut stream = TcpStream::connect(target).expect("connect");
            stream
                .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
                .expect("half a header");
            stream
        })
        .collect();
    // A keep-alive connection that sent one request and then went idle.
    let mut kept = TcpStream::connect(target).expect("connect");
    kept.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .expect("request");
    let mut answer = [0u8; 512];
    kept.set_read_timeout(Some(Duration::from_secs(2)))
        .expect("timeout");
    let read = kept.read(&mut answer).expect("answer");
    assert!(
        answer[..read].starts_with(b"HTTP/1.1 200"),
        "keep-alive answer"
    );
    let flooded = Instant::now();
    assert_healthy_within(&server, Duration::from_secs(1));

    // After the header and idle timeouts (2 s) every flood connection is closed by the server.
    std::thread::sleep(Duration::from_secs(2).saturating_sub(flooded.elapsed()));
    let mut kept = vec![kept];
    for (kind, streams) in [
        ("idle", &mut idle),
        ("half-sent", &mut half),
        ("keep-alive idle", &mut kept),
    ] {
        for (i, stream) in streams.iter_mut().enumerate() {
            assert!(
                closed_within(stream, Duration::from_secs(3)),
                "{kind} connection {i} still open after the timeouts"
            );
        }
    }
    assert_healthy_within(&server, Duration::from_secs(1));
}

#[test]
fn connections_beyond_the_per_address_cap_are_closed_at_once() {
    const CAP: usize = 20;
    let server = Server::start(&[
        ("SEALDESK_MAX_CONNECTIONS_PER_ADDRESS", &CAP.to_string()),
        ("SEALDESK_HEADER_READ_TIMEOUT_SECONDS", "30"),
    ]);
    let target = address(&server);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    // Another loopback address (Linux routes all of 127/8 to lo) is another client.
    let held = runtime.block_on(async {
        let mut held = Vec::new();
        for _ in 0..=CAP {
            let socket = tokio::net::TcpSocket::new_v4().expect("socket");
            socket
                .bind("127.0.0.2:0".parse().expect("address"))
                .expect("bind 127.0.0.2");
            held.push(socket.connect(target).await.expect("connect"));
        }
        held
    });
    let mut held: Vec<TcpStream> = held
        .into_iter()
        .map(|s| {
            let s = s.into_std().expect("std");
            s.set_nonblocking(false).expect("blocking");
            s
        })
        .collect();
    let mut beyond = held.pop().expect("the connection beyond the cap");
    assert!(
        closed_within(&mut beyond, Duration::from_secs(2)),
        "connection {} from one address was kept",
        CAP + 1
    );
    for (i, stream) in held.iter_mut().enumerate() {
        assert!(
            !closed_within(stream, Duration::from_millis(20)),
            "connection {i} under the cap was closed"
        );
    }
    // Another address is still served.
    assert_healthy_within(&server, Duration::from_secs(1));
}

/// A `429 too_many_streams` JSON error.
fn assert_too_many_streams(response: reqwest::blocking::Response) {
    assert_eq!(response.status().as_u16(), 429);
    let body: serde_json::Value = response.json().expect("JSON error");
    assert_eq!(body["error"], "too_many_streams", "{body}");
    assert!(
        body["message"]
            .as_str()
            .is_some_and(|m| m.contains("streams"))
    );
}

#[test]
fn event_streams_are_capped_per_token_and_per_address() {
    let desk = common::Desk::start_with(&[
        ("SEALDESK_MAX_EVENT_STREAMS_PER_TOKEN", "2"),
        ("SEALDESK_MAX_EVENT_STREAMS_PER_ADDRESS", "3"),
    ]);
    let first = common::Ticket::open(&desk);
    let second = common::Ticket::open(&desk);
    let events = |ticket: &common::Ticket| {
        desk.get(
            &format!("/api/v1/tickets/{}/events", ticket.id()),
            &ticket.token,
        )
    };
    let mut open = Vec::new();
    for _ in 0..2 {
        let stream = events(&first);
        assert_eq!(stream.status().as_u16(), 200);
        open.push(stream);
    }
    // A third stream on the same token.
    assert_too_many_streams(events(&first));
    // Another token from the same address: one more fits under the address cap of 3.
    let stream = events(&second);
    assert_eq!(stream.status().as_u16(), 200);
    open.push(stream);
    assert_too_many_streams(events(&second));
    // The server still answers everything else.
    assert_healthy_within(&desk.server, Duration::from_secs(1));
}
