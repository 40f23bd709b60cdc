//! With the `embed-web` feature, the web folder is compiled into the binary: rebuild when a
//! file in it is added, changed or removed, and refuse to build without the WebAssembly
//! module (`scripts/build-web.sh` writes it to `web/pkg/`).

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    if std::env::var_os("CARGO_FEATURE_EMBED_WEB").is_none() {
        return;
    }
    let web = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../web");
    // A directory is scanned as a whole: a new file counts too (rust-embed's
    // include_bytes! only tracks the files that existed at the last build).
    println!("cargo::rerun-if-changed={}", web.display());
    let module = web.join("pkg/sealdesk_client_bg.wasm");
    if !module.is_file() {
        println!(
            "cargo::error=the `embed-web` feature embeds web/, but {} is missing: run \
             scripts/build-web.sh first",
            module.display()
        );
    }
}
