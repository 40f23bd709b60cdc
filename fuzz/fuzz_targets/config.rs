//! The server's configuration file (server/src/config.rs, TOML), which an operator edits by
//! hand: reading never panics; what reads is validated and printed (`sealdesk config check`)
//! without panicking, and reading the same text twice gives the same configuration.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sealdesk_server::config::Config;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(config) = Config::from_toml_str(text) else {
        return;
    };
    assert_eq!(Config::from_toml_str(text).as_ref(), Ok(&config));
    let _ = config.validate();
    let _ = config.effective_table();
    let _ = config.public_url();
});
