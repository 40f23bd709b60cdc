//! The anchored directory (PROTOCOL.md §7.4, §7.6, §11): the instance fingerprint `sealdesk
//! serve` prints is the one clients compute; a ticket link carries the directory head its
//! creator verified and the command-line reporter keeps a pin file per server, so a server
//! that substitutes its directory later is refused; `sealdesk admin setup` makes the first
//! administrator from a shell alone.

// Test and tool code: a failed expectation stops the run, so it may unwrap, expect and
// panic (the workspace denies these in library code: Cargo.toml, clippy.toml).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::time::{Duration, Instant};

use sealdesk_client::directory::fetch_verified;
use sealdesk_client::reporter::TicketLink;
use sealdesk_client::transport::NativeTransport;
use sealdesk_crypto::{DirectoryEntry, Identity, system_rng};
use sealdesk_system_tests::{CliRun, FreshInstance, Persistent, ServerOptions, run_cli, runtime};

/// Runs `sealdesk args...` ([`run_cli`]) with its configuration folder in `config` and the
/// given variables.
fn sealdesk(args: &[&str], config: &Path, env: &[(&str, &str)]) -> CliRun {
    let mut all = env.to_vec();
    all.push(("XDG_CONFIG_HOME", path(config)));
    run_cli(args, &all, None)
}

fn path(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// Opens the stopped server's database (without sled's flusher, so the lock goes with it).
fn open_database(dir: &Path) -> sled::Db {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match sled::Config::new().path(dir).flush_every_ms(None).open() {
            Ok(db) => return db,
            Err(_) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(50)),
            Err(error) => panic!("open the database: {error}"),
        }
    }
}

fn new_ticket(base: &str, config: &Path, pin_file: &Path) -> String {
    sealdesk(
        &[
            "ticket",
            "new",
            "--server",
            base,
            "--subject",
            "Login fails",
            "--message",
            "Since this morning.",
            "--pin-file",
            path(pin_file),
        ],
        config,
        &[],
    )
    .ok()
    .trim()
    .to_owned()
}

#[test]
fn serve_prints_the_instance_fingerprint_the_client_computes() {
    let mut server = Persistent::start(ServerOptions::default());
    let rt = runtime();
    let computed = rt.block_on(async {
        let transport = NativeTransport::new(server.base());
        fetch_verified(&transport, None)
            .await
            .expect("directory")
            .instance_fingerprint()
    });
    assert_eq!(computed.len(), 35, "{computed}");
    // Printed once the first administrator is set up, and at every later start.
    let set_up = server.next_line().expect("the set-up line");
    assert_eq!(
        set_up,
        format!("The first administrator is set up. Instance fingerprint: {computed}")
    );
    server.stop();
    server.restart();
    assert_eq!(
        server.next_line().expect("the fingerprint line"),
        format!("Instance fingerprint: {computed}")
    );
    // Once it answers, it also handles the stop signal.
    rt.block_on(async {
        fetch_verified(&NativeTransport::new(server.base()), None)
            .await
            .expect("directory");
    });
    server.stop();
    // `sealdesk config check` reads it from the data directory.
    let config = tempfile::tempdir().expect("tempdir");
    let check = sealdesk(
        &["config", "check"],
        config.path(),
        &[("SEALDESK_DATA_DIR", path(server.data_dir()))],
    )
    .ok();
    assert!(
        check.contains(&format!("instance fingerprint: {computed}")),
        "{check}"
    );
}

#[test]
fn a_reporter_refuses_a_directory_that_does_not_extend_the_links_head_or_its_pin() {
    let mut server = Persistent::start(ServerOptions::default());
    let config = tempfile::tempdir().expect("tempdir");
    let pin_file = config.path().join("pin.json");
    let link = new_ticket(server.base(), config.path(), &pin_file);
    let parsed = TicketLink::parse(&link).expect("link");
    let head = parsed
        .head()
        .expect("a new link carries the directory head");
    assert_eq!(head.seq, 0);
    assert!(pin_file.exists(), "the first contact pins the directory");
    // Before the substitution: the ticket opens with the link's head and the pin.
    sealdesk(
        &["ticket", "show", &link, "--pin-file", path(&pin_file)],
        config.path(),
        &[],
    )
    .ok();

    // The server substitutes its directory: another genesis, which verifies on its own.
    server.stop();
    let attacker = Identity::generate(&mut system_rng()).1;
    {
        let db = open_database(server.data_dir());
        let directory = db.open_tree("directory").expect("directory");
        directory
            .insert(
                0u64.to_be_bytes(),
                DirectoryEntry::genesis(&attacker).to_bytes(),
            )
            .expect("write");
        db.flush().expect("flush");
    }
    server.restart();
    let base = server.base().to_owned();

    // The link's head, with a fresh pin file: a fork.
    let fresh_pin = config.path().join("fresh.json");
    sealdesk(
        &[
            "ticket",
            "show",
            &link,
            "--server",
            &base,
            "--pin-file",
            path(&fresh_pin),
        ],
        config.path(),
        &[],
    )
    .fails(1, "directory.fork");
    assert!(
        !fresh_pin.exists(),
        "nothing is pinned from a refused directory"
    );

    // A link without a head (the old form), with the pin file of the first contact: a fork.
    let old_form = link
        .rsplitn(3, '.')
        .last()
        .expect("the secret part")
        .to_owned();
    assert!(
        TicketLink::parse(&old_form)
            .expect("old link")
            .head()
            .is_none()
    );
    let pinned_before = std::fs::read_to_string(&pin_file).expect("pin");
    sealdesk(
        &[
            "ticket",
            "reply",
            &old_form,
            "--server",
            &base,
            "--pin-file",
            path(&pin_file),
            "--message",
            "Hello?",
        ],
        config.path(),
        &[],
    )
    .fails(1, "directory.fork");
    assert_eq!(
        std::fs::read_to_string(&pin_file).expect("pin"),
        pinned_before,
        "the kept pin did not move"
    );
    // A new ticket from this machine is refused as well: its pin for the server says so.
    sealdesk(
        &[
            "ticket",
            "new",
            "--server",
            &base,
            "--subject",
            "s",
            "--message",
            "m",
            "--pin-file",
            path(&pin_file),
        ],
        config.path(),
        &[],
    )
    .fails(1, "directory.fork");
}

#[test]
fn admin_setup_makes_the_first_administrator_from_a_shell() {
    let instance = FreshInstance::start();
    let config = tempfile::tempdir().expect("tempdir");
    let secrets = [
        ("SEALDESK_PASSPHRASE", "keyring passphrase"),
        ("SEALDESK_PASSWORD", "a long account password"),
    ];
    let out = sealdesk(
        &[
            "admin",
            "setup",
            "--server",
            &instance.base,
            "--invite",
            &instance.invite,
            "--username",
            "Alice",
        ],
        config.path(),
        &secrets,
    )
    .ok();
    assert!(out.contains("You are the first administrator"), "{out}");
    let rt = runtime();
    let directory = rt.block_on(async {
        fetch_verified(&NativeTransport::new(&instance.base), None)
            .await
            .expect("directory")
    });
    assert!(
        out.contains(&format!(
            "Instance fingerprint: {}",
            directory.instance_fingerprint()
        )),
        "{out}"
    );
    let admin = directory.current_admins()[0].fingerprint();
    assert!(out.contains(&admin), "{out}");
    let keyring = config.path().join("sealdesk").join(format!(
        "admin-{}.keyring",
        instance
            .base
            .trim_start_matches("http://")
            .replace(':', "-")
    ));
    assert!(keyring.exists(), "{}", keyring.display());

    // The keyring works as `login`'s does.
    let inbox = sealdesk(&["admin", "inbox"], config.path(), &secrets).ok();
    assert!(inbox.contains("No tickets"), "{inbox}");

    // The invite is spent: a second setup fails without writing a keyring.
    let other = tempfile::tempdir().expect("tempdir");
    let run = sealdesk(
        &[
            "admin",
            "setup",
            "--server",
            &instance.base,
            "--invite",
            &instance.invite,
            "--username",
            "mallory",
        ],
        other.path(),
        &secrets,
    );
    assert_eq!(run.status, 1, "{}", run.stderr);
    assert!(!other.path().join("sealdesk").exists());
}
