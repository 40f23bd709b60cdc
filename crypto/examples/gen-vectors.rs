//! Writes the protocol's test vectors to `spec/vectors/` (or the directory given as the first
//! argument): `cargo run -p sealdesk-crypto --example gen-vectors`.

// Test and tool code: a failed expectation stops the run, so it may unwrap, expect and
// panic (the workspace denies these in library code: Cargo.toml, clippy.toml).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../tests/vectors/generate.rs"]
mod generate;

fn main() -> std::io::Result<()> {
    let dir = std::env::args()
        .nth(1)
        .unwrap_or_else(|| concat!(env!("CARGO_MANIFEST_DIR"), "/../spec/vectors").to_string());
    std::fs::create_dir_all(&dir)?;
    for (name, value) in generate::all() {
        let text = serde_json::to_string_pretty(&value)? + "\n";
        std::fs::write(format!("{dir}/{name}"), text)?;
        println!("wrote {dir}/{name}");
    }
    Ok(())
}
