//! The composed `sealdesk` binary: the server's and the client's commands in one tree, with
//! the exit statuses of the command line (0, 1 when a command fails, 2 for a usage or
//! configuration error). Having an integration test also makes `cargo test` build the binary
//! that the server's and the system tests run (`target/<profile>/sealdesk`).

// Test and tool code: a failed expectation stops the run, so it may unwrap, expect and
// panic (the workspace denies these in library code: Cargo.toml, clippy.toml).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::{Command, Output};

fn sealdesk(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sealdesk"))
        .args(args)
        .env_remove("SEALDESK_CONFIG")
        .env_remove("SEALDESK_KEYRING")
        .output()
        .expect("run sealdesk")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn help_lists_the_servers_and_the_clients_commands() {
    let output = sealdesk(&["--help"]);
    assert_eq!(output.status.code(), Some(0));
    let help = text(&output.stdout);
    for command in ["serve", "admin", "ticket", "backup", "restore", "config"] {
        assert!(
            help.contains(&format!("\n  {command} ")),
            "{command}: {help}"
        );
    }
    let output = sealdesk(&["admin", "--help"]);
    let help = text(&output.stdout);
    for command in [
        "invite", "login", "inbox", "show", "reply", "note", "tag", "approve", "remove", "download",
    ] {
        assert!(
            help.contains(&format!("\n  {command} ")),
            "{command}: {help}"
        );
    }
    let version = text(&sealdesk(&["--version"]).stdout);
    assert_eq!(
        version.trim(),
        format!("sealdesk {}", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn exit_statuses() {
    assert_eq!(sealdesk(&[]).status.code(), Some(2));
    assert_eq!(sealdesk(&["ticket", "new"]).status.code(), Some(2));
    let missing = sealdesk(&["config", "check", "--config", "/nonexistent/sealdesk.toml"]);
    assert_eq!(missing.status.code(), Some(2));
    // A client command ignores --config and fails on its own terms.
    let bad_link = sealdesk(&["ticket", "show", "bad-link", "--config", "/nonexistent"]);
    assert_eq!(bad_link.status.code(), Some(1));
    assert!(
        text(&bad_link.stderr).contains("(link.malformed)"),
        "{}",
        text(&bad_link.stderr)
    );
}
