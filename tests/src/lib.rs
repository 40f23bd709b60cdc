//! Harness of the whole-system tests: the real `sealdesk` binary (built by `cargo test
//! --workspace` in the same target directory) on an ephemeral port with a temporary data
//! directory.

use std::io::{BufRead, BufReader};
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
        "{} is missing: run `cargo test --workspace` (or `cargo build -p sealdesk-server`) first",
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

// ---- Accounts and administrators (tests/tests/account.rs, tests/tests/admin.rs) ----

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
