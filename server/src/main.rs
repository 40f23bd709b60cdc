//! The `sealdesk` binary: `serve`, `admin invite`, `backup`, `restore`, `config check`.

use std::process::ExitCode;

use clap::Parser;
use sealdesk_server::cli::{self, Cli, Hooks};

fn main() -> ExitCode {
    cli::run(
        Cli::parse(),
        &Hooks {
            serve: sealdesk_server::serve,
            create_invite: |config| {
                sealdesk_server::api::invites::create_cli_invite(
                    &config.data_dir,
                    config.invite_ttl_seconds,
                )
                .map_err(|e| {
                    format!(
                        "cannot create the invite in {}: {e}",
                        config.data_dir.display()
                    )
                })
            },
        },
    )
}
