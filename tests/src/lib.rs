//! Harness of the whole-system tests: the real `sealdesk` binary (built by `cargo test
//! --workspace` in the same target directory) on an ephemeral port with a temporary data
//! directory.

// Test and tool code: a failed expectation stops the run, so it may unwrap, expect and
// panic (the workspace denies these in library code: Cargo.toml, clippy.toml).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod smtp;

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use base64ct::{Base64UrlUnpadded, Encoding};
use sealdesk_crypto::{DirectoryEntry, Identity, IdentitySeed};
use serde_json::json;

/// The `sealdesk` binary next to this test executable (`target/<profile>/sealdesk`).
///
/// # Panics
/// If it has not been built (run the workspace's tests, which build it).
pub fn sealdesk_binary() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    let profile_dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target directory");
    let binary = profile_dir.join(format!("sealdesk{}", std::env::consts::EXE_SUFFIX));
    assert!(
        binary.exists(),
        "{} is missing: run `cargo test --workspace` (or `cargo build -p sealdesk-cli`) first",
        binary.display()
    );
    binary
}

/// A running server with its first administrator; killed when dropped.
pub struct Instance {
    child: Child,
    /// Base URL, e.g. `http://127.0.0.1:40123`.
    pub base: String,
    /// The first administrator's identity.
    pub admin: Identity,
    _data: tempfile::TempDir,
}

impl Instance {
    /// Starts the server and makes `[7; 32]`'s identity the first administrator.
    pub fn start() -> Instance {
        Instance::start_with(&[])
    }

    /// Like [`Instance::start`], with extra configuration variables (`SEALDESK_*`).
    pub fn start_with(env: &[(&str, &str)]) -> Instance {
        let data = tempfile::tempdir().expect("tempdir");
        let mut child = Command::new(sealdesk_binary())
            .arg("serve")
            .envs(env.iter().copied())
            .env("SEALDESK_DATA_DIR", data.path())
            .env("SEALDESK_LISTEN", "127.0.0.1:0")
            .env("SEALDESK_WEB_DIR", data.path().join("no-web"))
            .env("SEALDESK_LOG_LEVEL", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start sealdesk");
        let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
        let first = lines.next().expect("a line").expect("utf-8");
        let base = first
            .strip_prefix("sealdesk listening on ")
            .expect("listening")
            .to_owned();
        let _ = lines.next();
        let link = lines.next().expect("invite").expect("utf-8");
        let invite = link.split_once('#').expect("token").1.trim().to_owned();
        let admin = Identity::from_seed(&IdentitySeed::from_bytes([7; 32]));
        let entry = DirectoryEntry::genesis(&admin).to_bytes();
        let status = reqwest::blocking::Client::new()
            .post(format!("{base}/api/v1/invites/redeem-genesis"))
            .json(&json!({"invite": invite, "entry": b64(&entry)}))
            .send()
            .expect("redeem the first invite")
            .status();
        assert_eq!(status.as_u16(), 201, "genesis");
        Instance {
            child,
            base,
            admin,
            _data: data,
        }
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Unpadded base64url.
pub fn b64(bytes: &[u8]) -> String {
    Base64UrlUnpadded::encode_string(bytes)
}

/// The wraps of `chain` of ticket `id` for `recipient`, as the server hands them out to
/// `bearer` (an access token or a session), decoded but not verified.
///
/// # Panics
/// If the request fails or the answer is not a list of wraps.
pub async fn wraps_for(
    transport: &sealdesk_client::transport::NativeTransport,
    bearer: &str,
    id: sealdesk_crypto::TicketId,
    chain: sealdesk_crypto::Chain,
    recipient: &sealdesk_crypto::KeyId,
) -> Vec<sealdesk_crypto::WrappedKey> {
    let path = format!(
        "/api/v1/tickets/{}/wraps?chain={}&recipient={}",
        id.to_hex(),
        chain.to_u8(),
        b64(&recipient.0)
    );
    let answer: serde_json::Value = sealdesk_client::transport::Transport::send(
        transport,
        sealdesk_client::transport::Request::get(path).bearer(Some(bearer)),
    )
    .await
    .expect("wraps")
    .json("wraps")
    .expect("json");
    answer["wraps"]
        .as_array()
        .expect("wraps")
        .iter()
        .map(|w| {
            let bytes = base64ct::Base64UrlUnpadded::decode_vec(w.as_str().expect("string"))
                .expect("base64url");
            sealdesk_crypto::WrappedKey::from_bytes(&bytes).expect("wrap")
        })
        .collect()
}

/// The epochs of `chain` of ticket `id` wrapped for `recipient`, as the server hands them
/// out to an administrator's session.
///
/// # Panics
/// If the request fails or the answer is not a list of wraps.
pub async fn wrapped_epochs(
    transport: &sealdesk_client::transport::NativeTransport,
    session: &str,
    id: sealdesk_crypto::TicketId,
    chain: sealdesk_crypto::Chain,
    recipient: &sealdesk_crypto::KeyId,
) -> std::collections::BTreeSet<u32> {
    wraps_for(transport, session, id, chain, recipient)
        .await
        .iter()
        .map(|wrap| wrap.context.epoch)
        .collect()
}

/// The epoch-0 key of ticket `id`'s conversation, from `member`'s wrap read with `bearer`
/// (what a member, or a hostile server's accomplice who is one, holds).
///
/// # Panics
/// If the wrap is missing or does not open.
pub async fn epoch_key(
    transport: &sealdesk_client::transport::NativeTransport,
    bearer: &str,
    id: sealdesk_crypto::TicketId,
    member: &Identity,
) -> sealdesk_crypto::TicketKey {
    wraps_for(
        transport,
        bearer,
        id,
        sealdesk_crypto::Chain::Conversation,
        &member.key_id(),
    )
    .await
    .into_iter()
    .find(|wrap| wrap.context.epoch == 0)
    .expect("the epoch-0 wrap")
    .open(member)
    .expect("open")
}

// ---- The command line (tests/tests/cli.rs, tests/tests/anchored.rs) ----

/// What a run of the `sealdesk` binary did ([`run_cli`]).
pub struct CliRun {
    /// The exit status.
    pub status: i32,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

/// Runs `sealdesk args...` with only the given variables among the client's own (and
/// `stdin`, if any, as standard input; none otherwise). Without `HOME` or `XDG_CONFIG_HOME`
/// in `env`, the run gets a configuration folder of its own.
///
/// # Panics
/// If the binary cannot be run or prints something other than UTF-8.
pub fn run_cli(args: &[&str], env: &[(&str, &str)], stdin: Option<&str>) -> CliRun {
    let mut command = std::process::Command::new(sealdesk_binary());
    command.args(args);
    for name in [
        "SEALDESK_PASSWORD",
        "SEALDESK_PASSPHRASE",
        "SEALDESK_KEYRING",
        "SEALDESK_LINK",
        "SEALDESK_CONFIG",
        "SEALDESK_INVITE",
        "XDG_CONFIG_HOME",
    ] {
        command.env_remove(name);
    }
    for (name, value) in env {
        command.env(name, value);
    }
    // Reporter commands keep a pin file per server in the configuration folder: without a
    // folder of the test's own, a fresh one per run (ports are reused across servers).
    let own_config = tempfile::tempdir().expect("tempdir");
    if !env
        .iter()
        .any(|(name, _)| *name == "HOME" || *name == "XDG_CONFIG_HOME")
    {
        command.env("XDG_CONFIG_HOME", own_config.path());
    }
    command
        .stdin(if stdin.is_some() {
            std::process::Stdio::piped()
        } else {
            std::process::Stdio::null()
        })
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = command.spawn().expect("run sealdesk");
    if let Some(input) = stdin {
        // A command that refuses its arguments exits without reading standard input: the
        // write then fails with a broken pipe, which is that command's answer, not the test's.
        let written = child
            .stdin
            .take()
            .expect("stdin")
            .write_all(input.as_bytes());
        if let Err(error) = written {
            assert_eq!(error.kind(), std::io::ErrorKind::BrokenPipe, "write stdin");
        }
    }
    let output = child.wait_with_output().expect("wait for sealdesk");
    CliRun {
        status: output.status.code().expect("exit status"),
        stdout: String::from_utf8(output.stdout).expect("utf-8 stdout"),
        stderr: String::from_utf8(output.stderr).expect("utf-8 stderr"),
    }
}

impl CliRun {
    /// Asserts success and returns standard output.
    ///
    /// # Panics
    /// If the run failed.
    pub fn ok(self) -> String {
        assert_eq!(
            self.status, 0,
            "stdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self.stdout
    }

    /// Asserts exit status `status` with the one error line ending in `(code)`.
    ///
    /// # Panics
    /// If the run did otherwise.
    pub fn fails(self, status: i32, code: &str) -> CliRun {
        assert_eq!(
            self.status, status,
            "stdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        let last = self.stderr.lines().last().unwrap_or_default();
        assert!(
            last.starts_with("error: ") && last.ends_with(&format!("({code})")),
            "error line for {code}: {}",
            self.stderr
        );
        self
    }
}

// ---- Accounts and administrators (tests/tests/account.rs, tests/tests/admin.rs) ----

/// Registers `username` (password `pw`, [`CHEAP`] parameters) and makes it an administrator:
/// an invite from `root`, redeemed, then approved (the next directory entry, signed by `root`).
///
/// # Panics
/// If any step fails.
pub async fn add_administrator<T: sealdesk_client::transport::Transport>(
    transport: &T,
    root: &mut sealdesk_client::admin::Admin,
    username: &str,
    rng: &mut impl sealdesk_crypto::CryptoRng,
) -> sealdesk_client::account::Account {
    let account =
        sealdesk_client::account::Account::register(transport, username, "pw", CHEAP, rng)
            .await
            .expect("register");
    let invite = root.create_invite(transport).await.expect("invite");
    sealdesk_client::admin::Admin::redeem_invite(transport, &account, &invite.path())
        .await
        .expect("redeem");
    let pending = root.pending(transport).await.expect("pending");
    root.approve(transport, &pending[0], rng)
        .await
        .expect("approve");
    account
}

/// The seed of the first administrator that [`Instance::start`] makes.
pub const FIRST_ADMIN_SEED: [u8; 32] = [7; 32];

/// Argon2id parameters of test accounts: the cheap ones (never for real accounts).
pub const CHEAP: sealdesk_crypto::Argon2Params = sealdesk_crypto::Argon2Params::TEST_ONLY_CHEAP;

/// A multi-threaded runtime for the async client.
///
/// # Panics
/// If the runtime cannot be built.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

/// Registers the account `root` whose keyring holds the first administrator's seed
/// ([`FIRST_ADMIN_SEED`]) and signs it in as an administrator.
///
/// # Panics
/// If registration or sign-in fails.
pub async fn first_admin<T: sealdesk_client::transport::Transport>(
    transport: &T,
) -> sealdesk_client::admin::Admin {
    let mut rng = sealdesk_crypto::system_rng();
    let account = sealdesk_client::account::Account::register_with_seed(
        transport,
        "root",
        "root password",
        CHEAP,
        IdentitySeed::from_bytes(FIRST_ADMIN_SEED),
        &mut rng,
    )
    .await
    .expect("register the first administrator's account");
    sealdesk_client::admin::Admin::new(transport, account, None)
        .await
        .expect("the first administrator signs in")
}

/// A running server without any administrator, and the first-administrator invite it
/// printed; killed when dropped.
pub struct FreshInstance {
    child: Child,
    /// Base URL.
    pub base: String,
    /// The invite link (`.../admin/invite#<token>`).
    pub invite: String,
    _data: tempfile::TempDir,
}

impl FreshInstance {
    /// Starts the server and leaves the first invite unredeemed.
    ///
    /// # Panics
    /// If the server does not start.
    pub fn start() -> FreshInstance {
        let data = tempfile::tempdir().expect("tempdir");
        let mut child = Command::new(sealdesk_binary())
            .arg("serve")
            .env("SEALDESK_DATA_DIR", data.path())
            .env("SEALDESK_LISTEN", "127.0.0.1:0")
            .env("SEALDESK_WEB_DIR", data.path().join("no-web"))
            .env("SEALDESK_LOG_LEVEL", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start sealdesk");
        let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
        let first = lines.next().expect("a line").expect("utf-8");
        let base = first
            .strip_prefix("sealdesk listening on ")
            .expect("listening")
            .to_owned();
        let _ = lines.next();
        let invite = lines
            .next()
            .expect("invite")
            .expect("utf-8")
            .trim()
            .to_owned();
        FreshInstance {
            child,
            base,
            invite,
            _data: data,
        }
    }
}

impl Drop for FreshInstance {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

// ---- Restartable servers with captured logs (tests/tests/misbehaving.rs, plaintext.rs) ----

/// What a [`Persistent`] server runs with.
#[derive(Clone, Debug)]
pub struct ServerOptions {
    /// `SEALDESK_LOG_LEVEL` (`warn` by default).
    pub log_level: String,
    /// Further environment variables (`SEALDESK_*` options).
    pub env: Vec<(String, String)>,
}

impl Default for ServerOptions {
    fn default() -> Self {
        ServerOptions {
            log_level: "warn".to_owned(),
            env: Vec::new(),
        }
    }
}

/// One run of the server process.
struct Run {
    child: Child,
    base: String,
    lines: std::sync::mpsc::Receiver<String>,
    stderr: Option<std::thread::JoinHandle<()>>,
}

/// A server on a data directory that outlives its process: stop it (gracefully or by
/// SIGKILL), edit or copy the directory, and start it again on the same data. Everything
/// the server writes to standard error, over all runs, is kept ([`Persistent::log`]).
/// The process is killed when this is dropped.
pub struct Persistent {
    data: tempfile::TempDir,
    options: ServerOptions,
    run: Option<Run>,
    log: std::sync::Arc<std::sync::Mutex<Vec<u8>>>,
    /// The first administrator's identity (seed [`FIRST_ADMIN_SEED`]).
    pub admin: Identity,
}

impl Persistent {
    /// Starts a server with `options` on a new data directory and makes
    /// [`FIRST_ADMIN_SEED`]'s identity the first administrator (as [`Instance::start`]).
    ///
    /// # Panics
    /// If the server does not start or the genesis entry is refused.
    pub fn start(options: ServerOptions) -> Persistent {
        let data = tempfile::tempdir().expect("tempdir");
        let mut server = Persistent {
            data,
            options,
            run: None,
            log: std::sync::Arc::default(),
            admin: Identity::from_seed(&IdentitySeed::from_bytes(FIRST_ADMIN_SEED)),
        };
        server
            .try_start()
            .unwrap_or_else(|problem| panic!("{problem}"));
        let lines = &server.run.as_ref().expect("running").lines;
        let wait = std::time::Duration::from_secs(10);
        let _ = lines.recv_timeout(wait);
        let link = lines.recv_timeout(wait).expect("the invite line");
        let invite = link.split_once('#').expect("token").1.trim().to_owned();
        let entry = DirectoryEntry::genesis(&server.admin).to_bytes();
        let status = reqwest::blocking::Client::new()
            .post(format!("{}/api/v1/invites/redeem-genesis", server.base()))
            .json(&json!({"invite": invite, "entry": b64(&entry)}))
            .send()
            .expect("redeem the first invite")
            .status();
        assert_eq!(status.as_u16(), 201, "genesis");
        server
    }

    /// Starts the next run on the data directory, or says why the process did not start
    /// (its exit status and standard error).
    ///
    /// # Errors
    /// The process ended before printing its listening line.
    ///
    /// # Panics
    /// If it is running already.
    pub fn try_start(&mut self) -> Result<(), String> {
        assert!(self.run.is_none(), "the server is running");
        let mut command = Command::new(sealdesk_binary());
        command
            .arg("serve")
            .env("SEALDESK_DATA_DIR", self.data.path())
            .env("SEALDESK_LISTEN", "127.0.0.1:0")
            .env("SEALDESK_WEB_DIR", self.data.path().join("no-web"))
            .env("SEALDESK_LOG_LEVEL", &self.options.log_level)
            .env("SEALDESK_LOG_FORMAT", "text");
        for (key, value) in &self.options.env {
            command.env(key, value);
        }
        let mut child = command
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start sealdesk");
        let mut stderr_pipe = child.stderr.take().expect("stderr");
        let log = std::sync::Arc::clone(&self.log);
        let stderr = std::thread::spawn(move || {
            let mut buffer = [0u8; 8192];
            loop {
                match std::io::Read::read(&mut stderr_pipe, &mut buffer) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => log
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner)
                        .extend_from_slice(&buffer[..n]),
                }
            }
        });
        let stdout = child.stdout.take().expect("stdout");
        let (sender, lines) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if sender.send(line).is_err() {
                    break;
                }
            }
        });
        let first = lines.recv_timeout(std::time::Duration::from_secs(20));
        let base = first.ok().and_then(|line| {
            line.strip_prefix("sealdesk listening on ")
                .map(str::to_owned)
        });
        let Some(base) = base else {
            let _ = child.kill();
            let status = child.wait().expect("reap");
            let _ = stderr.join();
            return Err(format!(
                "the server did not start ({status}); it wrote:\n{}",
                self.log()
            ));
        };
        self.run = Some(Run {
            child,
            base,
            lines,
            stderr: Some(stderr),
        });
        Ok(())
    }

    /// Starts the next run on the data directory.
    ///
    /// # Panics
    /// If it is running already or does not start.
    pub fn restart(&mut self) {
        self.try_start()
            .unwrap_or_else(|problem| panic!("{problem}"));
    }

    /// The running server's base URL (it changes with every run).
    ///
    /// # Panics
    /// If the server is stopped.
    pub fn base(&self) -> &str {
        &self.run.as_ref().expect("the server is running").base
    }

    /// The next line the running server writes to standard output after its listening line
    /// (for example its instance fingerprint), waiting up to 10 seconds; `None` if none came.
    ///
    /// # Panics
    /// If the server is stopped.
    pub fn next_line(&self) -> Option<String> {
        let run = self.run.as_ref().expect("the server is running");
        run.lines
            .recv_timeout(std::time::Duration::from_secs(10))
            .ok()
    }

    /// The data directory (edit it only while the server is stopped).
    pub fn data_dir(&self) -> &std::path::Path {
        self.data.path()
    }

    /// Whether a run is going on.
    pub fn is_running(&self) -> bool {
        self.run.is_some()
    }

    /// Stops the server as an operator does (SIGTERM: it finishes, flushes the database and
    /// exits) and checks that it exited successfully.
    ///
    /// # Panics
    /// If it is not running, or does not exit successfully within 20 seconds.
    pub fn stop(&mut self) {
        let mut run = self.run.take().expect("the server is running");
        let pid = run.child.id().to_string();
        let signalled = Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("run kill");
        assert!(signalled.success(), "SIGTERM to {pid}");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        let status = loop {
            if let Some(status) = run.child.try_wait().expect("wait") {
                break status;
            }
            if std::time::Instant::now() > deadline {
                let _ = run.child.kill();
                let _ = run.child.wait();
                panic!("the server did not stop within 20 s of SIGTERM");
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        };
        if let Some(stderr) = run.stderr.take() {
            let _ = stderr.join();
        }
        assert!(status.success(), "graceful stop: {status}\n{}", self.log());
    }

    /// Kills the server (SIGKILL: no shutdown at all) and reaps it.
    ///
    /// # Panics
    /// If it is not running.
    pub fn kill(&mut self) {
        let mut run = self.run.take().expect("the server is running");
        run.child.kill().expect("SIGKILL");
        run.child.wait().expect("reap");
        if let Some(stderr) = run.stderr.take() {
            let _ = stderr.join();
        }
    }

    /// A copy of the data directory as it is now (a backup).
    ///
    /// # Panics
    /// If the server is running, or on an I/O error.
    pub fn snapshot(&self) -> tempfile::TempDir {
        assert!(
            !self.is_running(),
            "stop the server before copying its data"
        );
        let copy = tempfile::tempdir().expect("tempdir");
        copy_dir(self.data.path(), copy.path());
        copy
    }

    /// Replaces the data directory by `snapshot` (restoring a backup).
    ///
    /// # Panics
    /// If the server is running, or on an I/O error.
    pub fn restore(&self, snapshot: &tempfile::TempDir) {
        assert!(
            !self.is_running(),
            "stop the server before restoring its data"
        );
        for entry in std::fs::read_dir(self.data.path()).expect("read the data directory") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                std::fs::remove_dir_all(&path).expect("remove");
            } else {
                std::fs::remove_file(&path).expect("remove");
            }
        }
        copy_dir(snapshot.path(), self.data.path());
    }

    /// Everything the server wrote to standard error so far, over all runs.
    pub fn log(&self) -> String {
        let log = self
            .log
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        String::from_utf8_lossy(&log).into_owned()
    }
}

impl Drop for Persistent {
    fn drop(&mut self) {
        if let Some(mut run) = self.run.take() {
            let _ = run.child.kill();
            let _ = run.child.wait();
        }
    }
}

/// Copies the files and folders of `from` into `to` (which exists).
///
/// # Panics
/// On an I/O error.
pub fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    for entry in std::fs::read_dir(from).expect("read a directory") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("file type").is_dir() {
            std::fs::create_dir_all(&target).expect("create a directory");
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy a file");
        }
    }
}

/// The files under `dir`, recursively.
///
/// # Panics
/// On an I/O error.
pub fn files_under(dir: &std::path::Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).expect("read a directory") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            files.extend(files_under(&path));
        } else {
            files.push(path);
        }
    }
    files
}
