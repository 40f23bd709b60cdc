//! With the `embed-web` feature, the web folder is compiled into the binary: rebuild when a
//! file in it is added, changed or removed, and refuse to build without the three WebAssembly
//! packages (`scripts/build-web.sh` writes them to `web/pkg/account/`, `web/pkg/admin/` and
//! `web/pkg/reporter/`).

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    if std::env::var_os("CARGO_FEATURE_EMBED_WEB").is_none() {
        return;
    }
    let web = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../web");
    // A directory is scanned as a whole: a new file counts too (rust-embed's
    // include_bytes! only tracks the files that existed at the last build).
    println!("cargo::rerun-if-changed={}", web.display());
    // The support tab's module, the panel's and the reporter's (the anonymous pages).
    for package in ["account", "admin", "reporter"] {
        for file in ["sealdesk_client_bg.wasm", "sealdesk_client.js"] {
            let path = web.join("pkg").join(package).join(file);
            if !path.is_file() {
                println!(
                    "cargo::error=the `embed-web` feature embeds web/, but {} is missing: run \
                     scripts/build-web.sh first",
                    path.display()
                );
            }
        }
    }
}
