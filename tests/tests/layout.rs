//! The workspace's module layout (README.md, "Layout"; server/README.md, "Layering"): for each
//! crate, reads every file of its `src/`, builds the graph of module imports at file granularity (`use crate::…`, `use super::…`, paths such
//! as `super::tickets::open` in code, and a parent's paths into its own child modules), and
//! checks that
//!
//! 1. in every crate, no file imports a file that imports it back, directly or through others
//!    (no cycle);
//! 2. in the server, the layering holds: `api` (HTTP) → domain modules → `state` → `services` → foundation
//!    (`error`, `encoding`, `storage`); a module imports only modules of its own layer or below,
//!    so in particular nothing outside `api/` (but the crate root, which composes the app)
//!    imports `crate::api`.
//!
//! Comments, string and character literals are skipped; inline modules (`mod tests { … }`)
//! resolve `super` and `self` relative to themselves.

// Test and tool code: a failed expectation stops the run, so it may unwrap, expect and
// panic (the workspace denies these in library code: Cargo.toml, clippy.toml).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The crates whose modules must not import each other in a circle (folders of the workspace).
const CRATES: [&str; 5] = ["crypto", "wire", "client-wasm", "server", "cli"];

/// The server's layers, highest first. A module belongs to the first layer one of whose prefixes it
/// starts with; modules of no layer (the crate root, `config`, `logging`, `backup`, `pages`,
/// `web`) compose the application and may import anything, but no layered module may import
/// them.
const LAYERS: [(&str, &[&str]); 5] = [
    ("http", &["api"]),
    (
        "domain",
        &[
            "sessions",
            "instance_secret",
            "tickets",
            "team",
            "inbox",
            "directory",
            "invites",
            "settings",
            "attachments",
            "mail",
            "recovery",
            "deletion",
            "snippets",
        ],
    ),
    ("state", &["state"]),
    ("services", &["services"]),
    (
        "foundation",
        &["error", "encoding", "clock", "random", "storage"],
    ),
];

/// A module path below the crate root, e.g. `["api", "tickets"]`; the root is `[]`.
type ModPath = Vec<String>;

fn display(path: &ModPath) -> String {
    if path.is_empty() {
        "crate".to_owned()
    } else {
        format!("crate::{}", path.join("::"))
    }
}

/// Every `.rs` file under `dir`, relative to `root`.
fn files(root: &Path, dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .expect("read src")
        .map(|e| e.expect("entry").path())
        .collect();
    entries.sort();
    for path in entries {
        let relative = path.strip_prefix(root).expect("below src").to_path_buf();
        let first = relative
            .components()
            .next()
            .and_then(|c| c.as_os_str().to_str())
            .unwrap_or("");
        if first.is_empty() {
            continue;
        }
        if path.is_dir() {
            files(root, &path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(relative);
        }
    }
}

/// `api/tickets.rs` → `["api", "tickets"]`, `api/mod.rs` → `["api"]`, `lib.rs` → `[]`.
fn module_of(file: &Path) -> ModPath {
    let mut parts: Vec<String> = file
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    let last = parts.pop().expect("a file name");
    let stem = last.trim_end_matches(".rs");
    if stem != "mod" && stem != "lib" {
        parts.push(stem.to_owned());
    }
    parts
}

/// The source with comments, string literals and character literals replaced by spaces.
fn code_only(source: &str) -> String {
    let bytes = source.as_bytes();
    let mut out = String::with_capacity(source.len());
    let mut i = 0;
    while i < bytes.len() {
        let rest = &source[i..];
        if rest.starts_with("//") {
            let end = rest.find('\n').map_or(source.len(), |n| i + n);
            i = end;
        } else if rest.starts_with("/*") {
            let end = rest.find("*/").map_or(source.len(), |n| i + n + 2);
            out.push(' ');
            i = end;
        } else if rest.starts_with("r#\"") || rest.starts_with("br#\"") {
            let start = rest.find('"').expect("quote");
            let end = rest[start + 1..]
                .find("\"#")
                .map_or(source.len(), |n| i + start + 1 + n + 2);
            out.push_str("\"\"");
            i = end;
        } else if bytes[i] == b'"' {
            let mut j = i + 1;
            while j < bytes.len() && bytes[j] != b'"' {
                j += if bytes[j] == b'\\' { 2 } else { 1 };
            }
            out.push_str("\"\"");
            i = j + 1;
        } else if bytes[i] == b'\'' {
            // A character literal ('x', '\n', '\''), else a lifetime.
            let close = if let Some(escaped) = rest.strip_prefix("'\\") {
                escaped.find('\'').map(|n| n + 3)
            } else {
                rest.chars()
                    .nth(1)
                    .filter(|_| rest[1..].chars().nth(1) == Some('\''))
                    .map(|c| 2 + c.len_utf8())
            };
            match close {
                Some(len) => {
                    out.push_str("' '");
                    i += len;
                }
                None => {
                    out.push('\'');
                    i += 1;
                }
            }
        } else {
            let c = rest.chars().next().expect("a character");
            out.push(c);
            i += c.len_utf8();
        }
    }
    out
}

fn is_ident(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// Expands a use tree (`super::{A, b::{C, D}}`) into its paths.
fn expand(tree: &str) -> Vec<Vec<String>> {
    let tree: String = tree.chars().filter(|c| !c.is_whitespace()).collect();
    let mut out = Vec::new();
    expand_into(&tree, &mut Vec::new(), &mut out);
    out
}

fn expand_into(tree: &str, prefix: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
    match tree.find('{') {
        None => {
            let mut path = prefix.clone();
            let tree = tree.split(" as ").next().unwrap_or(tree);
            path.extend(
                tree.split("::")
                    .filter(|s| !s.is_empty())
                    .map(|s| s.split("as").next().unwrap_or(s).to_owned()),
            );
            out.push(path);
        }
        Some(open) => {
            let head: Vec<String> = tree[..open]
                .split("::")
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect();
            let inner = &tree[open + 1..tree.rfind('}').unwrap_or(tree.len())];
            let depth_before = prefix.len();
            prefix.extend(head);
            let mut depth = 0;
            let mut start = 0;
            for (i, c) in inner.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        if start < i {
                            expand_into(&inner[start..i], prefix, out);
                        }
                        start = i + 1;
                    }
                    _ => {}
                }
            }
            if start < inner.len() {
                expand_into(&inner[start..], prefix, out);
            }
            prefix.truncate(depth_before);
        }
    }
}

/// The module a path names: the longest prefix of `path` (resolved from `current`) that is a
/// file of the crate.
fn resolve(
    current: &ModPath,
    path: &[String],
    modules: &BTreeSet<ModPath>,
    children: &BTreeSet<String>,
) -> Option<ModPath> {
    let mut base: ModPath;
    let mut rest = path;
    match rest.first().map(String::as_str) {
        Some("crate") => {
            base = Vec::new();
            rest = &rest[1..];
        }
        Some("super") | Some("self") => {
            base = current.clone();
            while let Some(first) = rest.first() {
                match first.as_str() {
                    "super" => {
                        base.pop();
                    }
                    "self" => {}
                    _ => break,
                }
                rest = &rest[1..];
            }
        }
        // A child module declared in this module (`mod tickets;` then `tickets::create`).
        Some(name) if children.contains(name) => base = current.clone(),
        _ => return None,
    }
    let mut found = None;
    let mut candidate = base.clone();
    if modules.contains(&candidate) {
        found = Some(candidate.clone());
    }
    for segment in rest {
        candidate.push(segment.clone());
        if modules.contains(&candidate) {
            found = Some(candidate.clone());
        } else {
            break;
        }
    }
    found
}

/// The modules `source` (the file of module `file_module`) imports.
fn imports(file_module: &ModPath, source: &str, modules: &BTreeSet<ModPath>) -> BTreeSet<ModPath> {
    let code = code_only(source);
    let children_of = |module: &ModPath| -> BTreeSet<String> {
        modules
            .iter()
            .filter(|m| m.len() == module.len() + 1 && m.starts_with(module))
            .map(|m| m[module.len()].clone())
            .collect()
    };
    let file_children = children_of(file_module);
    let mut found = BTreeSet::new();
    // Inline modules: (name, brace depth at which it opened).
    let mut inline: Vec<(String, usize)> = Vec::new();
    let mut depth = 0usize;
    let chars: Vec<(usize, char)> = code.char_indices().collect();
    let mut k = 0;
    let mut previous_ident = String::new();
    let mut pending_mod: Option<String> = None;
    while k < chars.len() {
        let (at, c) = chars[k];
        if c == '{' {
            depth += 1;
            if let Some(name) = pending_mod.take() {
                inline.push((name, depth));
            }
            k += 1;
            continue;
        }
        if c == '}' {
            if inline.last().is_some_and(|(_, d)| *d == depth) {
                inline.pop();
            }
            depth = depth.saturating_sub(1);
            k += 1;
            continue;
        }
        if c == ';' {
            pending_mod = None;
        }
        if !is_ident(c) || (k > 0 && is_ident(chars[k - 1].1)) {
            k += 1;
            continue;
        }
        // An identifier starts here: read a path (`a::b::{c, d}` for a use, `a::b` otherwise).
        let mut end = k;
        while end < chars.len() && is_ident(chars[end].1) {
            end += 1;
        }
        let ident: String = chars[k..end].iter().map(|(_, c)| c).collect();
        if previous_ident == "mod" {
            pending_mod = Some(ident.clone());
        }
        let mut current = file_module.clone();
        current.extend(inline.iter().map(|(name, _)| name.clone()));
        let children = if inline.is_empty() {
            file_children.clone()
        } else {
            BTreeSet::new()
        };
        let paths = if ident == "use" {
            let stop = code[at..].find(';').map_or(code.len(), |n| at + n);
            let tree = code[at + 3..stop].trim();
            end = chars.partition_point(|(i, _)| *i < stop);
            expand(tree)
        } else {
            let mut path = vec![ident.clone()];
            let mut j = end;
            while j + 1 < chars.len() && chars[j].1 == ':' && chars[j + 1].1 == ':' {
                let mut e = j + 2;
                while e < chars.len() && is_ident(chars[e].1) {
                    e += 1;
                }
                if e == j + 2 {
                    break;
                }
                path.push(chars[j + 2..e].iter().map(|(_, c)| c).collect());
                j = e;
            }
            end = j;
            // A lone `crate` or `super` is a visibility (`pub(crate)`), not a path.
            if path.len() > 1 {
                vec![path]
            } else {
                Vec::new()
            }
        };
        for path in paths {
            // `super::*` in an inline `mod tests` names the file's own module: no edge.
            if let Some(target) = resolve(&current, &path, modules, &children)
                && target != *file_module
            {
                found.insert(target);
            }
        }
        previous_ident = ident;
        k = end.max(k + 1);
    }
    found
}

/// The module graph of the workspace crate in folder `krate` (its `src/`).
fn graph(krate: &str) -> BTreeMap<ModPath, BTreeSet<ModPath>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(krate)
        .join("src");
    let mut list = Vec::new();
    files(&root, &root, &mut list);
    let modules: BTreeSet<ModPath> = list.iter().map(|f| module_of(f)).collect();
    list.iter()
        .map(|file| {
            let source = std::fs::read_to_string(root.join(file)).expect("read a source file");
            let module = module_of(file);
            let edges = imports(&module, &source, &modules);
            (module, edges)
        })
        .collect()
}

/// A cycle of the graph, as the modules along it (first = last), if there is one.
fn find_cycle(graph: &BTreeMap<ModPath, BTreeSet<ModPath>>) -> Option<Vec<ModPath>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        Open,
        Done,
    }
    fn visit(
        node: &ModPath,
        graph: &BTreeMap<ModPath, BTreeSet<ModPath>>,
        marks: &mut BTreeMap<ModPath, Mark>,
        stack: &mut Vec<ModPath>,
    ) -> Option<Vec<ModPath>> {
        marks.insert(node.clone(), Mark::Open);
        stack.push(node.clone());
        for next in graph.get(node).into_iter().flatten() {
            match marks.get(next).copied().unwrap_or(Mark::New) {
                Mark::Open => {
                    let start = stack.iter().position(|m| m == next).expect("on the stack");
                    let mut cycle = stack[start..].to_vec();
                    cycle.push(next.clone());
                    return Some(cycle);
                }
                Mark::New => {
                    if let Some(cycle) = visit(next, graph, marks, stack) {
                        return Some(cycle);
                    }
                }
                Mark::Done => {}
            }
        }
        stack.pop();
        marks.insert(node.clone(), Mark::Done);
        None
    }
    let mut marks = BTreeMap::new();
    for node in graph.keys() {
        if marks.get(node).copied().unwrap_or(Mark::New) == Mark::New
            && let Some(cycle) = visit(node, graph, &mut marks, &mut Vec::new())
        {
            return Some(cycle);
        }
    }
    None
}

/// The layer of a module (its index in [`LAYERS`], 0 highest), or `None` if unlayered.
fn layer(module: &ModPath) -> Option<usize> {
    let first = module.first()?;
    LAYERS
        .iter()
        .position(|(_, prefixes)| prefixes.contains(&first.as_str()))
}

#[test]
fn no_module_imports_a_module_that_imports_it_back() {
    let mut cycles = Vec::new();
    for krate in CRATES {
        let graph = graph(krate);
        assert!(
            graph.len() > 2,
            "the source files of {krate} were found: {graph:?}"
        );
        if let Some(cycle) = find_cycle(&graph) {
            let names: Vec<String> = cycle.iter().map(display).collect();
            cycles.push(format!("{krate}: {}", names.join(" -> ")));
        }
    }
    assert!(cycles.is_empty(), "import cycles:\n{}", cycles.join("\n"));
}

#[test]
fn server_modules_import_only_their_own_layer_or_below() {
    let graph = graph("server");
    let mut violations = Vec::new();
    for (module, edges) in &graph {
        let Some(from) = layer(module) else {
            continue;
        };
        for target in edges {
            match layer(target) {
                Some(to) if to >= from => {}
                Some(to) => violations.push(format!(
                    "{} ({}) imports {} ({})",
                    display(module),
                    LAYERS[from].0,
                    display(target),
                    LAYERS[to].0
                )),
                None => violations.push(format!(
                    "{} ({}) imports {}, which composes the application",
                    display(module),
                    LAYERS[from].0,
                    display(target)
                )),
            }
        }
    }
    assert!(
        violations.is_empty(),
        "layering (server/README.md) broken:\n{}",
        violations.join("\n")
    );
}

#[test]
fn the_checker_sees_imports() {
    let modules: BTreeSet<ModPath> = [
        vec![],
        vec!["a".to_owned()],
        vec!["a".to_owned(), "b".to_owned()],
        vec!["c".to_owned()],
    ]
    .into_iter()
    .collect();
    let b = vec!["a".to_owned(), "b".to_owned()];
    let source = "use super::{X, super::c::{Y}};\n// use crate::nothing;\n\
                  fn f() { let s = \"crate::c\"; }\n#[cfg(test)]\nmod tests { use super::*; }";
    let edges = imports(&b, source, &modules);
    assert_eq!(
        edges,
        [vec!["a".to_owned()], vec!["c".to_owned()]]
            .into_iter()
            .collect()
    );
    let parent = "pub mod b;\nfn r() { b::go(); crate::c::f(); }";
    let edges = imports(&vec!["a".to_owned()], parent, &modules);
    assert_eq!(
        edges,
        [b.clone(), vec!["c".to_owned()]].into_iter().collect()
    );
    let mut graph = BTreeMap::new();
    graph.insert(b.clone(), [vec!["a".to_owned()]].into_iter().collect());
    graph.insert(vec!["a".to_owned()], [b.clone()].into_iter().collect());
    assert!(find_cycle(&graph).is_some());
}

/// The server files that may name the full scan of the tickets (`TicketScan::all_tickets`):
/// `sealdesk check`, backup and the storage backend itself (its migration and tests).
const FULL_SCAN_ALLOWED: [&str; 6] = [
    "check.rs",
    "backup.rs",
    "storage/mod.rs",
    "storage/sled_store.rs",
    "storage/sled_index.rs",
    "storage/sled_index_tests.rs",
];

/// Issue 13: no request path reads every ticket. The `Store` trait, which the state that
/// handlers reach holds, offers no full scan, and no server module but those of
/// [`FULL_SCAN_ALLOWED`] names one (`all_tickets`, `TicketScan`, or the former
/// `Store::tickets()`).
#[test]
fn no_request_path_reads_every_ticket() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("server")
        .join("src");
    let mut list = Vec::new();
    files(&root, &root, &mut list);
    let mut offenders = Vec::new();
    for file in &list {
        let name = file.to_string_lossy().replace('\\', "/");
        let code = code_only(&std::fs::read_to_string(root.join(file)).expect("read"));
        let scans = ["all_tickets", "TicketScan", ".tickets()"]
            .iter()
            .any(|needle| code.contains(needle));
        if scans && !FULL_SCAN_ALLOWED.contains(&name.as_str()) {
            offenders.push(name);
        }
    }
    assert!(
        offenders.is_empty(),
        "these server modules read every ticket (a request must use the store's indexes: \
         Store::list_tickets, ticket_counts, open_tickets_of_account, tickets_by_email_lookup): \
         {offenders:?}"
    );
    let storage = code_only(&std::fs::read_to_string(root.join("storage/mod.rs")).expect("read"));
    let start = storage.find("pub trait Store:").expect("the Store trait");
    let end = start
        + storage[start..]
            .find("\n}\n")
            .expect("the end of the Store trait");
    let store_trait = &storage[start..end];
    for full_scan in ["fn tickets(", "fn all_tickets("] {
        assert!(
            !store_trait.contains(full_scan),
            "the Store trait offers a full scan ({full_scan}...)"
        );
    }
}
