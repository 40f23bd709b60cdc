//! Shared harness for the real-binary tests (and the benchmarks, through `#[path]`): start
//! `sealdesk serve` on an ephemeral port, read the lines it prints, redeem the first invite,
//! build anonymous tickets and accounts as a browser does, and read JSON errors.
//!
//! A server's directory (`root`) holds the data directory (`root/data`), a web directory that
//! does not exist (`root/no-web`) and, when asked for, each run's standard error
//! (`root/server-{run}.log`). It is a temporary directory owned by the [`Server`] unless
//! [`Options::dir`] names one the caller owns, which then outlives every process (restarts).

#![allow(dead_code)]

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, mpsc};
use std::thread;
use std::time::{Duration, Instant};

use base64ct::{Base64UrlUnpadded, Encoding};
use reqwest::StatusCode;
use reqwest::blocking::{Client, Response};
use sealdesk_crypto::{
    Argon2Params, AuthKey, Chain, ChainState, Directory, DirectoryEntry, Identity, IdentitySeed,
    Keyring, Kind, MasterKey, Members, Message, Placement, TicketId, TicketKey, TicketSecret,
    WrapSlot, WrappedKey, Zeroizing, generate_salt, system_rng,
};
use serde_json::{Value, json};

/// The `sealdesk` binary next to this test or benchmark executable
/// (`target/<profile>/sealdesk`). It is sealdesk-cli's, which `cargo test --workspace` builds
/// before running any test; `cargo test -p sealdesk-server` alone does not.
///
/// # Panics
/// If it has not been built.
pub fn sealdesk_binary() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    let profile_dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target directory");
    let binary = profile_dir.join(format!("sealdesk{}", std::env::consts::EXE_SUFFIX));
    let build = if profile_dir.ends_with("release") {
        "cargo build --release -p sealdesk-cli"
    } else {
        "cargo build -p sealdesk-cli"
    };
    assert!(
        binary.exists(),
        "{} is missing: run `{build}` (or `cargo test --workspace`) first",
        binary.display()
    );
    binary
}

/// Set for every server the harness starts (before the test's own variables, which override
/// them): the tests register with the cheap Argon2id parameters ([`cheap`]), and the limits
/// per client address are off, since every test client is 127.0.0.1; the tests of those
/// limits set them.
pub const TEST_LIMITS: &[(&str, &str)] = &[
    ("SEALDESK_ARGON2_MIN_MEMORY_KIB", "256"),
    ("SEALDESK_ARGON2_MIN_ITERATIONS", "1"),
    ("SEALDESK_REQUESTS_PER_MINUTE_PER_ADDRESS", "0"),
    ("SEALDESK_SIGN_INS_PER_MINUTE_PER_ADDRESS", "0"),
    ("SEALDESK_REGISTRATIONS_PER_HOUR_PER_ADDRESS", "0"),
    ("SEALDESK_ACCOUNT_TICKETS_PER_HOUR_PER_ADDRESS", "0"),
    ("SEALDESK_MAX_OPEN_TICKETS_PER_ACCOUNT", "0"),
];

/// The seed of the first administrator, the one [`Desk`] creates.
pub const ADMIN_SEED: [u8; 32] = [7; 32];

pub fn b64(bytes: &[u8]) -> String {
    Base64UrlUnpadded::encode_string(bytes)
}

/// Decodes a base64url JSON string.
pub fn unb64(value: &Value) -> Vec<u8> {
    Base64UrlUnpadded::decode_vec(value.as_str().expect("string")).expect("base64url")
}

// ---- the server process ----

/// How to start a server: [`Server::options`], then the builder methods, then
/// [`Options::start`].
#[derive(Clone, Debug)]
pub struct Options {
    /// Set after the harness's own variables, so they override them.
    env: Vec<(String, String)>,
    dir: Option<PathBuf>,
    log_to_file: bool,
    invite: bool,
    startup_timeout: Duration,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            env: Vec::new(),
            dir: None,
            log_to_file: false,
            invite: true,
            startup_timeout: Duration::from_secs(60),
        }
    }
}

impl Options {
    /// One more environment variable (`SEALDESK_LOG_LEVEL` overrides the default `warn`).
    pub fn env(mut self, name: &str, value: &str) -> Self {
        self.env.push((name.to_owned(), value.to_owned()));
        self
    }

    /// More environment variables, in order.
    pub fn envs(self, env: &[(&str, &str)]) -> Self {
        env.iter()
            .fold(self, |options, (name, value)| options.env(name, value))
    }

    /// Uses `root`, which the caller owns and which outlives the server, instead of a
    /// temporary directory.
    pub fn dir(mut self, root: &Path) -> Self {
        self.dir = Some(root.to_owned());
        self
    }

    /// Writes each run's standard error to `root/server-{run}.log` (otherwise it is
    /// discarded); see [`Server::log`] and [`Server::stop`].
    pub fn log_to_file(mut self) -> Self {
        self.log_to_file = true;
        self
    }

    /// An administrator exists: the server prints its listening line and no invite.
    pub fn no_invite(mut self) -> Self {
        self.invite = false;
        self
    }

    /// How long to wait for each line printed at startup (60 s unless set).
    pub fn startup_timeout(mut self, timeout: Duration) -> Self {
        self.startup_timeout = timeout;
        self
    }

    pub fn start(self) -> Server {
        let (temp, root) = match &self.dir {
            Some(root) => (None, root.clone()),
            None => {
                let temp = tempfile::tempdir().expect("tempdir");
                let root = temp.path().to_owned();
                (Some(temp), root)
            }
        };
        let run = Run::spawn(&self, &root, 0);
        Server {
            child: run.child,
            base: run.base,
            invite: run.invite,
            lines: Mutex::new(run.lines),
            run: 0,
            data: root.join("data"),
            root,
            options: self,
            _temp: temp,
        }
    }
}

/// One process, as [`Run::spawn`] leaves it.
struct Run {
    child: Child,
    base: String,
    invite: Option<String>,
    lines: mpsc::Receiver<String>,
}

impl Run {
    fn spawn(options: &Options, root: &Path, run: u64) -> Run {
        let log_path = root.join(format!("server-{run}.log"));
        let stderr = if options.log_to_file {
            Stdio::from(File::create(&log_path).expect("log file"))
        } else {
            Stdio::null()
        };
        let mut command = Command::new(sealdesk_binary());
        command
            .arg("serve")
            .env("SEALDESK_DATA_DIR", root.join("data"))
            .env("SEALDESK_LISTEN", "127.0.0.1:0")
            .env("SEALDESK_WEB_DIR", root.join("no-web"))
            .env("SEALDESK_LOG_LEVEL", "warn")
            .envs(TEST_LIMITS.iter().copied())
            .stdout(Stdio::piped())
            .stderr(stderr);
        for (name, value) in &options.env {
            command.env(name, value);
        }
        let mut child = command.spawn().expect("start sealdesk");
        // Standard output is read by a thread until the process dies: startup can time out,
        // and later lines (there should be none) stay readable with `Server::next_line`.
        let stdout = child.stdout.take().expect("stdout");
        let (sender, lines) = mpsc::channel();
        thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if sender.send(line).is_err() {
                    break;
                }
            }
        });
        match Run::startup_lines(options, &lines, &log_path, run) {
            Ok((base, invite)) => Run {
                child,
                base,
                invite,
                lines,
            },
            Err(problem) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("{problem}")
            }
        }
    }

    /// Reads the listening line and, if expected, the invite lines; returns the base URL and
    /// the invite's token.
    fn startup_lines(
        options: &Options,
        lines: &mpsc::Receiver<String>,
        log_path: &Path,
        run: u64,
    ) -> Result<(String, Option<String>), String> {
        let next_line = |what: &str| {
            lines.recv_timeout(options.startup_timeout).map_err(|e| {
                let log = if options.log_to_file {
                    format!("{:?}", std::fs::read_to_string(log_path))
                } else {
                    "not kept".to_owned()
                };
                format!("server run {run}: no {what} ({e}); its log: {log}")
            })
        };
        let first = next_line("listening line")?;
        let base = first
            .strip_prefix("sealdesk listening on ")
            .ok_or_else(|| format!("unexpected first line {first:?}"))?
            .to_owned();
        let invite = if options.invite {
            next_line("invite announcement")?;
            let link = next_line("invite link")?;
            link.split_once('#')
                .map(|(_, token)| token.trim().to_owned())
        } else {
            None
        };
        Ok((base, invite))
    }
}

/// A running server; killed when dropped.
pub struct Server {
    pub child: Child,
    pub base: String,
    /// The first invite's token, when the server printed one.
    pub invite: Option<String>,
    lines: Mutex<mpsc::Receiver<String>>,
    run: u64,
    data: PathBuf,
    root: PathBuf,
    options: Options,
    _temp: Option<tempfile::TempDir>,
}

impl Server {
    /// A server with `env` on a temporary directory, standard error discarded.
    pub fn start(env: &[(&str, &str)]) -> Server {
        Server::options().envs(env).start()
    }

    pub fn options() -> Options {
        Options::default()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// The server's data directory.
    pub fn data_dir(&self) -> &Path {
        &self.data
    }

    /// This run's standard error, when [`Options::log_to_file`] asked for it.
    pub fn log_path(&self) -> PathBuf {
        self.root.join(format!("server-{}.log", self.run))
    }

    /// What this run wrote to standard error so far.
    pub fn log(&self) -> String {
        assert!(self.options.log_to_file, "standard error is not kept");
        String::from_utf8_lossy(&std::fs::read(self.log_path()).expect("log")).into_owned()
    }

    /// The number of this run: 0, then one more at each [`Server::restart`].
    pub fn run(&self) -> u64 {
        self.run
    }

    /// The next line the server prints after its startup lines, if one comes within `timeout`.
    pub fn next_line(&self, timeout: Duration) -> Option<String> {
        self.lines.lock().expect("lines").recv_timeout(timeout).ok()
    }

    /// Waits until `/healthz` answers 200 (panics after `timeout`).
    pub fn wait_healthy(&self, http: &Client, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        loop {
            match http.get(self.url("/healthz")).send() {
                Ok(response) if response.status() == StatusCode::OK => return,
                _ if Instant::now() < deadline => thread::sleep(Duration::from_millis(10)),
                other => panic!("the server never became healthy: {other:?}"),
            }
        }
    }

    /// SIGKILL (`Child::kill` on Unix), then reap the process.
    pub fn kill(&mut self) {
        self.child.kill().expect("SIGKILL");
        self.child.wait().expect("reap");
    }

    /// Stops the server and returns everything it wrote to standard error.
    pub fn stop(mut self) -> String {
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.log()
    }

    /// Kills this run (if it still runs) and starts the next on the same directory, with the
    /// same options except that no invite is expected: an administrator exists by now.
    pub fn restart(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.run += 1;
        self.options.invite = false;
        let run = Run::spawn(&self.options, &self.root, self.run);
        self.child = run.child;
        self.base = run.base;
        self.invite = run.invite;
        self.lines = Mutex::new(run.lines);
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

// ---- a server with its first administrator ----

/// A server with its first administrator.
pub struct Desk {
    pub server: Server,
    pub http: Client,
    pub admin: Identity,
    pub directory: Directory,
}

impl Desk {
    pub fn start() -> Desk {
        Desk::with(Server::options())
    }

    /// A server started with `env`.
    pub fn start_with(env: &[(&str, &str)]) -> Desk {
        Desk::with(Server::options().envs(env))
    }

    pub fn with(options: Options) -> Desk {
        Desk::on(options.start(), Client::new())
    }

    /// The first administrator (seed [`ADMIN_SEED`]) redeems `server`'s invite through `http`,
    /// which stays the desk's client.
    pub fn on(server: Server, http: Client) -> Desk {
        let admin = Identity::from_seed(&IdentitySeed::from_bytes(ADMIN_SEED));
        let genesis = DirectoryEntry::genesis(&admin);
        let invite = server
            .invite
            .clone()
            .expect("an invite is printed when there is no administrator");
        let response = http
            .post(server.url("/api/v1/invites/redeem-genesis"))
            .json(&json!({"invite": invite, "entry": b64(&genesis.to_bytes())}))
            .send()
            .expect("redeem");
        assert_eq!(response.status(), StatusCode::CREATED, "genesis");
        let directory = Directory::verify(&[genesis]).expect("genesis");
        Desk {
            server,
            http,
            admin,
            directory,
        }
    }

    /// The genesis entry the administrator posted.
    pub fn genesis(&self) -> &DirectoryEntry {
        &self.directory.entries()[0]
    }

    /// A JSON POST, with a bearer credential if given.
    pub fn post(&self, path: &str, body: &Value, bearer: Option<&str>) -> Response {
        let mut request = self.http.post(self.server.url(path)).json(body);
        if let Some(bearer) = bearer {
            request = request.bearer_auth(bearer);
        }
        request.send().expect("post")
    }

    /// A GET with a bearer credential.
    pub fn get(&self, path: &str, bearer: &str) -> Response {
        self.http
            .get(self.server.url(path))
            .bearer_auth(bearer)
            .send()
            .expect("get")
    }
}

// ---- anonymous tickets ----

/// A ticket's first conversation message (seq 1, epoch 0) from `reporter` with `content`, and
/// its fresh key wrapped for the reporter and the administrator. Returns the key, the chain
/// state after the message, the members and the creation body's `reporter`, `message` and
/// `wraps` fields.
pub fn first_message(
    desk: &Desk,
    reporter: &Identity,
    id: TicketId,
    content: &[u8],
) -> (TicketKey, ChainState, Members, Value) {
    let mut rng = system_rng();
    let key = TicketKey::generate(&mut rng);
    let head = desk.directory.head_seq();
    let placement = Placement {
        ticket_id: id,
        chain: Chain::Conversation,
        seq: 1,
        prev_hash: [0; 32],
        epoch: 0,
        dir_seq: head,
        kind: Kind::Message,
    };
    let message = Message::seal(reporter, placement, &key, content, &mut rng).expect("seal");
    let wraps: Vec<String> = [reporter.public(), desk.admin.public()]
        .iter()
        .map(|recipient| {
            let wrap = WrappedKey::seal(
                reporter,
                recipient,
                WrapSlot {
                    ticket_id: id,
                    chain: Chain::Conversation,
                    epoch: 0,
                    dir_seq: head,
                },
                &key,
                &mut rng,
            )
            .expect("wrap");
            b64(&wrap.to_bytes())
        })
        .collect();
    let members = Members::new(id, reporter.public().clone());
    let mut state = ChainState::new(id, Chain::Conversation);
    state
        .push(&message, &members, &desk.directory)
        .expect("valid first message");
    let body = json!({
        "reporter": b64(&reporter.public().to_bytes()),
        "message": b64(&message.to_bytes()),
        "wraps": wraps,
    });
    (key, state, members, body)
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
    /// A new anonymous ticket whose first message carries `content`, not yet created: its
    /// parts, with the first message in `state`, and the body of `POST /api/v1/tickets`.
    pub fn draft(desk: &Desk, content: &[u8]) -> (Ticket, Value) {
        let secret = TicketSecret::generate(&mut system_rng());
        let reporter = secret.identity();
        let (key, state, members, mut body) =
            first_message(desk, &reporter, secret.ticket_id(), content);
        let token = secret.access_token();
        body["access_token_hash"] = json!(b64(&token.hash()));
        let ticket = Ticket {
            token: token.to_base64url(),
            secret,
            reporter,
            key,
            state,
            members,
        };
        (ticket, body)
    }

    /// Opens a ticket on `desk` (epoch 0 wrapped for the reporter and the administrator).
    pub fn open(desk: &Desk) -> Ticket {
        let (ticket, body) = Ticket::draft(desk, b"{}");
        let response = desk
            .http
            .post(desk.server.url("/api/v1/tickets"))
            .json(&body)
            .send()
            .expect("create");
        assert_eq!(response.status().as_u16(), 201, "create");
        ticket
    }

    pub fn id(&self) -> String {
        self.secret.ticket_id().to_hex()
    }

    /// The placement of the next conversation message in epoch 0.
    pub fn placement(&self, kind: Kind, dir_seq: u64) -> Placement {
        Placement {
            ticket_id: self.secret.ticket_id(),
            chain: Chain::Conversation,
            seq: self.state.last_seq() + 1,
            prev_hash: self.state.last_hash(),
            epoch: 0,
            dir_seq,
            kind,
        }
    }

    /// The next conversation message in epoch 0.
    pub fn seal(&self, sender: &Identity, kind: Kind, dir_seq: u64) -> Message {
        Message::seal(
            sender,
            self.placement(kind, dir_seq),
            &self.key,
            b"{}",
            &mut system_rng(),
        )
        .expect("seal")
    }

    /// Posts an encoded message to the conversation, with a bearer credential if given.
    pub fn send(&self, desk: &Desk, message: &[u8], bearer: Option<&str>) -> Response {
        desk.post(
            &format!("/api/v1/tickets/{}/messages", self.id()),
            &json!({"message": b64(message)}),
            bearer,
        )
    }

    /// Advances the local state by a message the server accepted.
    pub fn accept(&mut self, desk: &Desk, message: &Message) {
        self.state
            .push(message, &self.members, &desk.directory)
            .expect("valid");
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
        let response = self.send(desk, &message.to_bytes(), Some(&self.token));
        assert_eq!(response.status().as_u16(), 201, "post");
        self.accept(desk, &message);
    }
}

// ---- accounts, as a browser makes them ----

/// The keys a password gives for one salt (PROTOCOL.md §12).
pub struct Derived {
    pub salt: [u8; 16],
    pub master: MasterKey,
}

impl Derived {
    pub fn new(password: &str) -> Derived {
        let salt = generate_salt(&mut system_rng());
        Derived::with_salt(password, salt)
    }

    pub fn with_salt(password: &str, salt: [u8; 16]) -> Derived {
        let master = MasterKey::derive(password.as_bytes(), &salt, Argon2Params::TEST_ONLY_CHEAP)
            .expect("argon2");
        Derived { salt, master }
    }

    pub fn auth_key(&self) -> String {
        b64(self.master.auth_key().as_bytes())
    }

    /// A keyring holding `seed` and `app_data`, sealed under the keyring key.
    pub fn seal(&self, seed: [u8; 32], app_data: &[u8]) -> Vec<u8> {
        let keyring = Keyring {
            identity_seed: IdentitySeed::from_bytes(seed),
            app_data: Zeroizing::new(app_data.to_vec()),
        };
        self.master
            .keyring_key()
            .seal(&keyring, &mut system_rng())
            .expect("seal keyring")
    }
}

/// The cheap Argon2id parameters the tests register with, as JSON.
pub fn cheap() -> Value {
    json!({"memory_kib": 256, "iterations": 1, "parallelism": 1})
}

/// The identity proof of PROTOCOL.md §12.4 for this registration.
pub fn identity_proof(identity: &Identity, username: &str, auth_key: &AuthKey) -> String {
    b64(&identity.sign_identity_proof(username, &auth_key.server_hash()))
}

/// An account as its browser knows it.
pub struct Account {
    pub username: String,
    pub seed: [u8; 32],
    pub derived: Derived,
    pub sealed: Vec<u8>,
}

impl Account {
    /// An account whose keyring's application data is `{"links":[]}`.
    pub fn new(username: &str, password: &str, seed: [u8; 32]) -> Account {
        Account::with_app_data(username, password, seed, b"{\"links\":[]}")
    }

    pub fn with_app_data(
        username: &str,
        password: &str,
        seed: [u8; 32],
        app_data: &[u8],
    ) -> Account {
        let derived = Derived::new(password);
        let sealed = derived.seal(seed, app_data);
        Account {
            username: username.to_owned(),
            seed,
            derived,
            sealed,
        }
    }

    pub fn identity(&self) -> Identity {
        Identity::from_seed(&IdentitySeed::from_bytes(self.seed))
    }

    pub fn register_body(&self) -> Value {
        let identity = self.identity();
        json!({
            "username": self.username,
            "salt": b64(&self.derived.salt),
            "argon2": cheap(),
            "auth_key": self.derived.auth_key(),
            "keyring": b64(&self.sealed),
            "identity": b64(&identity.public().to_bytes()),
            "identity_proof": identity_proof(
                &identity,
                &self.username.to_ascii_lowercase(),
                &self.derived.master.auth_key(),
            ),
        })
    }

    pub fn register(&self, desk: &Desk) -> Response {
        desk.post("/api/v1/accounts/register", &self.register_body(), None)
    }

    /// The login request, whatever its answer.
    pub fn login_response(&self, desk: &Desk) -> Response {
        desk.post(
            "/api/v1/accounts/login",
            &json!({"username": self.username, "auth_key": self.derived.auth_key()}),
            None,
        )
    }

    /// Signs in; returns the login answer.
    pub fn login(&self, desk: &Desk) -> Value {
        let response = self.login_response(desk);
        assert_eq!(response.status(), StatusCode::OK);
        response.json().expect("json")
    }

    /// Registers and signs in; returns the session token.
    pub fn enrol(&self, desk: &Desk) -> String {
        assert_eq!(self.register(desk).status(), StatusCode::CREATED);
        self.login(desk)["session"]
            .as_str()
            .expect("session")
            .to_owned()
    }
}

// ---- errors ----

/// The JSON error body's status and code, after checking that the body has a message.
pub fn error_status(response: Response) -> (StatusCode, String) {
    let status = response.status();
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

/// [`error_status`] with the status as a number.
pub fn error_code(response: Response) -> (u16, String) {
    let (status, code) = error_status(response);
    (status.as_u16(), code)
}
