//! Shared harness for the real-binary tests: start `sealdesk serve` on an ephemeral port with a
//! temporary data directory, redeem the first invite, build anonymous tickets.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use base64ct::{Base64UrlUnpadded, Encoding};
use reqwest::blocking::Client;
use sealdesk_crypto::{
    Chain, ChainState, Directory, DirectoryEntry, Identity, IdentitySeed, Kind, Members, Message,
    Placement, TicketKey, TicketSecret, WrappedKey, system_rng,
};
use serde_json::{Value, json};

pub fn b64(bytes: &[u8]) -> String {
    Base64UrlUnpadded::encode_string(bytes)
}

/// A running server; killed when dropped.
pub struct Server {
    pub child: Child,
    pub base: String,
    pub invite: Option<String>,
    _data: tempfile::TempDir,
}

impl Server {
    pub fn start(env: &[(&str, &str)]) -> Server {
        let data = tempfile::tempdir().expect("tempdir");
        let mut command = Command::new(env!("CARGO_BIN_EXE_sealdesk"));
        command
            .arg("serve")
            .env("SEALDESK_DATA_DIR", data.path())
            .env("SEALDESK_LISTEN", "127.0.0.1:0")
            .env("SEALDESK_WEB_DIR", data.path().join("no-web"))
            .env("SEALDESK_LOG_LEVEL", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        for (key, value) in env {
            command.env(key, value);
        }
        let mut child = command.spawn().expect("start sealdesk");
        let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
        let first = lines.next().expect("a line").expect("utf-8");
        let base = first
            .strip_prefix("sealdesk listening on ")
            .expect("listening line")
            .to_owned();
        let _ = lines.next();
        let link = lines.next().expect("invite line").expect("utf-8");
        let invite = link
            .split_once('#')
            .map(|(_, token)| token.trim().to_owned());
        Server {
            child,
            base,
            invite,
            _data: data,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// The server's data directory.
    pub fn data_dir(&self) -> &std::path::Path {
        self._data.path()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A server with its first administrator.
pub struct Desk {
    pub server: Server,
    pub http: Client,
    pub admin: Identity,
    pub directory: Directory,
}

impl Desk {
    pub fn start() -> Desk {
        let server = Server::start(&[]);
        let http = Client::new();
        let admin = Identity::from_seed(&IdentitySeed::from_bytes([7; 32]));
        let genesis = DirectoryEntry::genesis(&admin);
        let invite = server.invite.clone().expect("invite");
        let response = http
            .post(server.url("/api/v1/invites/redeem-genesis"))
            .json(&json!({"invite": invite, "entry": b64(&genesis.to_bytes())}))
            .send()
            .expect("redeem");
        assert!(response.status().is_success(), "genesis");
        let directory = Directory::verify(&[genesis]).expect("genesis");
        Desk {
            server,
            http,
            admin,
            directory,
        }
    }
}

/// An anonymous ticket as its reporter's browser holds it.
pub struct Ticket {
    pub secret: TicketSecret,
    pub reporter: Identity,
    pub key: TicketKey,
    pub state: ChainState,
    pub members: Members,
    pub token: String,
}

impl Ticket {
    /// Opens a ticket on `desk` (epoch 0 wrapped for the reporter and the administrator).
    pub fn open(desk: &Desk) -> Ticket {
        let mut rng = system_rng();
        let secret = TicketSecret::generate(&mut rng);
        let reporter = secret.identity();
        let id = secret.ticket_id();
        let key = TicketKey::generate(&mut rng);
        let head = desk.directory.head_seq();
        let members = Members::new(id, reporter.public().clone());
        let state = ChainState::new(id, Chain::Conversation);
        let token = secret.access_token();
        let mut ticket = Ticket {
            token: token.to_base64url(),
            secret,
            reporter,
            key,
            state,
            members,
        };
        let first = ticket.seal(&ticket.reporter, Kind::Message, head);
        let wraps: Vec<String> = [ticket.reporter.public(), desk.admin.public()]
            .iter()
            .map(|r| {
                let wrap = WrappedKey::seal(
                    &ticket.reporter,
                    r,
                    id,
                    Chain::Conversation,
                    0,
                    head,
                    &ticket.key,
                    &mut rng,
                )
                .expect("wrap");
                b64(&wrap.to_bytes())
            })
            .collect();
        let response = desk
            .http
            .post(desk.server.url("/api/v1/tickets"))
            .json(&json!({
                "reporter": b64(&ticket.reporter.public().to_bytes()),
                "access_token_hash": b64(&token.hash()),
                "message": b64(&first.to_bytes()),
                "wraps": wraps,
            }))
            .send()
            .expect("create");
        assert_eq!(response.status().as_u16(), 201, "create");
        ticket
            .state
            .push(&first, &ticket.members, &desk.directory)
            .expect("valid");
        ticket
    }

    pub fn id(&self) -> String {
        self.secret.ticket_id().to_hex()
    }

    /// The next conversation message in epoch 0.
    pub fn seal(&self, sender: &Identity, kind: Kind, dir_seq: u64) -> Message {
        let placement = Placement {
            ticket_id: self.secret.ticket_id(),
            chain: Chain::Conversation,
            seq: self.state.last_seq() + 1,
            prev_hash: self.state.last_hash(),
            epoch: 0,
            dir_seq,
            kind,
        };
        Message::seal(sender, placement, &self.key, b"{}", &mut system_rng()).expect("seal")
    }

    /// Posts the next conversation message, from the administrator or the reporter, and
    /// advances the local state.
    pub fn post(&mut self, desk: &Desk, by_admin: bool) {
        let sender = if by_admin {
            &desk.admin
        } else {
            &self.reporter
        };
        let message = self.seal(sender, Kind::Message, desk.directory.head_seq());
        let response = desk
            .http
            .post(
                desk.server
                    .url(&format!("/api/v1/tickets/{}/messages", self.id())),
            )
            .bearer_auth(&self.token)
            .json(&json!({"message": b64(&message.to_bytes())}))
            .send()
            .expect("post");
        assert_eq!(response.status().as_u16(), 201, "post");
        self.state
            .push(&message, &self.members, &desk.directory)
            .expect("valid");
    }
}

/// The JSON error body's code, after checking that the body has a message.
pub fn error_code(response: reqwest::blocking::Response) -> (u16, String) {
    let status = response.status().as_u16();
    let body: Value = response.json().expect("JSON error body");
    assert!(
        body["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{body}"
    );
    (
        status,
        body["error"].as_str().expect("error code").to_owned(),
    )
}
