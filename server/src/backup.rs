//! `sealdesk backup` and `sealdesk restore`: the data directory's sled database as one file.
//!
//! The sled database lives directly in the data directory (`SledStore::open(data_dir)`).
//! A backup opens it exclusively (sled's lock: a running server makes the open fail, which is
//! reported as "stop the server first"), so the snapshot is consistent. Files the server keeps
//! beside the database (pending command-line invites in `invites/`) are not part of a backup.
//!
//! Format (integers big-endian):
//!
//! ```text
//! magic        "SEALDESK-BACKUP\n"                       16 bytes
//! version      u32 = 1
//! tree count   u64
//! per tree     name length u64, name, entry count u64,
//!              per entry: key length u64, key, value length u64, value   (key order)
//! checksum     SHA-256 of every byte above                 32 bytes
//! ```
//!
//! The file is written to `FILE.tmp`, synced and renamed, so `FILE` is either the old file or
//! a complete new one. A restore verifies the whole file (magic, version, structure, checksum)
//! before it touches the data directory, imports into a new sibling directory and only then
//! swaps it in, so a failure at any point leaves the data directory as it was.

use crate::storage::sled_store::{LOCK_WAIT, is_lock_error, open_waiting_for_lock};
use std::collections::HashSet;
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use sha2::{Digest, Sha256};

/// The first bytes of every backup file.
pub const MAGIC: &[u8; 16] = b"SEALDESK-BACKUP\n";
/// The backup format this code writes and reads.
pub const FORMAT_VERSION: u32 = 1;

/// The file sled keeps its lock on, inside the database directory.
const SLED_DB_FILE: &str = "db";
/// Checksum length.
const HASH_LEN: u64 = 32;

/// Why a backup or restore failed.
#[derive(Debug)]
pub enum BackupError {
    /// The database is in use (sled's lock is held): a server is running on it.
    Locked(PathBuf),
    /// There is no sled database in the data directory.
    NoDatabase(PathBuf),
    /// The backup file is damaged, truncated, not a backup or of an unknown format version;
    /// nothing was changed.
    Invalid {
        /// The backup file.
        file: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// The data directory is not empty and `--force` was not given.
    NotEmpty(PathBuf),
    /// Any other failure (I/O, database); the message says what was being done.
    Failed(String),
}

impl std::fmt::Display for BackupError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BackupError::Locked(dir) => write!(
                f,
                "stop the server first: sealdesk serve is using {} (the database is locked)",
                dir.display()
            ),
            BackupError::NoDatabase(dir) => {
                write!(
                    f,
                    "there is no Sealdesk database in {} (is data_dir set correctly?)",
                    dir.display()
                )
            }
            BackupError::Invalid { file, reason } => write!(
                f,
                "the backup {} cannot be restored: {reason}; nothing was changed",
                file.display()
            ),
            BackupError::NotEmpty(dir) => write!(
                f,
                "{} is not empty: restore into an empty or missing directory, or pass --force to \
                 move the current data aside first",
                dir.display()
            ),
            BackupError::Failed(message) => f.write_str(message),
        }
    }
}

impl std::error::Error for BackupError {}

/// What a backup file holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Summary {
    /// Number of trees.
    pub trees: u64,
    /// Number of key/value pairs over all trees.
    pub records: u64,
    /// Size of the backup file in bytes.
    pub bytes: u64,
    /// The SHA-256 checksum at the end of the file.
    pub sha256: [u8; 32],
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} trees, {} records, {} bytes, SHA-256 {}",
            self.trees,
            self.records,
            self.bytes,
            hex::encode(self.sha256)
        )
    }
}

/// The result of a restore.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Restored {
    /// What was restored.
    pub summary: Summary,
    /// Where the previous data directory was moved (`DATA_DIR.before-restore-<unix time>`),
    /// if there was one with content.
    pub previous: Option<PathBuf>,
}

fn failed(what: impl std::fmt::Display, error: impl std::fmt::Display) -> BackupError {
    BackupError::Failed(format!("{what}: {error}"))
}

/// Opens the sled database in `dir`, turning a held lock into [`BackupError::Locked`].
fn open_db(dir: &Path, create_new: bool) -> Result<sled::Db, BackupError> {
    let config = sled::Config::new().path(dir).create_new(create_new);
    open_waiting_for_lock(&config, LOCK_WAIT).map_err(|error| {
        if is_lock_error(&error) {
            BackupError::Locked(dir.to_path_buf())
        } else {
            failed(
                format_args!("cannot open the database in {}", dir.display()),
                error,
            )
        }
    })
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Makes a rename or creation inside `dir` durable (best effort: not every platform can
/// sync a directory).
fn sync_dir(dir: &Path) {
    if let Ok(handle) = File::open(dir) {
        let _ = handle.sync_all();
    }
}

/// The directory containing `path` ("." for a bare name).
fn parent_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// `path` with `suffix` appended to its file name.
fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// Writes a backup of the database in `data_dir` to `file` (through `FILE.tmp`, synced and
/// renamed into place).
///
/// # Errors
/// [`BackupError::Locked`] while a server uses the database, [`BackupError::NoDatabase`] if
/// `data_dir` holds none, [`BackupError::Failed`] on I/O or database errors (`FILE` is then
/// left as it was).
pub fn backup(data_dir: &Path, file: &Path) -> Result<Summary, BackupError> {
    if !data_dir.join(SLED_DB_FILE).is_file() {
        return Err(BackupError::NoDatabase(data_dir.to_path_buf()));
    }
    let db = open_db(data_dir, false)?;
    let tmp = with_suffix(file, ".tmp");
    let written = write_backup(&db, &tmp);
    drop(db);
    let summary = match written {
        Ok(summary) => summary,
        Err(error) => {
            let _ = fs::remove_file(&tmp);
            return Err(error);
        }
    };
    if let Err(error) = fs::rename(&tmp, file) {
        let _ = fs::remove_file(&tmp);
        return Err(failed(
            format_args!("cannot rename {} into place", tmp.display()),
            error,
        ));
    }
    sync_dir(&parent_of(file));
    Ok(summary)
}

/// A writer that hashes and counts what passes through it.
struct HashingWriter<W> {
    inner: W,
    hasher: Sha256,
    bytes: u64,
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

fn write_backup(db: &sled::Db, tmp: &Path) -> Result<Summary, BackupError> {
    let io_error = |e: io::Error| failed(format_args!("cannot write {}", tmp.display()), e);
    let db_error = |e: sled::Error| failed("cannot read the database", e);
    // The backup holds what the database holds (ciphertext and the metadata of the threat
    // model, notification emails included): readable by its owner only.
    let _ = fs::remove_file(tmp);
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let file = options.open(tmp).map_err(io_error)?;
    let mut out = HashingWriter {
        inner: BufWriter::new(file),
        hasher: Sha256::new(),
        bytes: 0,
    };
    let mut names = db.tree_names();
    names.sort();
    out.write_all(MAGIC).map_err(io_error)?;
    out.write_all(&FORMAT_VERSION.to_be_bytes())
        .map_err(io_error)?;
    out.write_all(&(names.len() as u64).to_be_bytes())
        .map_err(io_error)?;
    let mut records = 0u64;
    for name in &names {
        let tree = db.open_tree(name).map_err(db_error)?;
        let count = tree.len() as u64;
        write_bytes(&mut out, name).map_err(io_error)?;
        out.write_all(&count.to_be_bytes()).map_err(io_error)?;
        let mut seen = 0u64;
        for entry in tree.iter() {
            let (key, value) = entry.map_err(db_error)?;
            write_bytes(&mut out, &key).map_err(io_error)?;
            write_bytes(&mut out, &value).map_err(io_error)?;
            seen += 1;
        }
        if seen != count {
            return Err(BackupError::Failed(
                "the database changed while it was being backed up".to_owned(),
            ));
        }
        records += count;
    }
    let sha256: [u8; 32] = out.hasher.finalize().into();
    let mut inner = out.inner;
    inner.write_all(&sha256).map_err(io_error)?;
    let file = inner.into_inner().map_err(|e| io_error(e.into_error()))?;
    file.sync_all().map_err(io_error)?;
    Ok(Summary {
        trees: names.len() as u64,
        records,
        bytes: out.bytes + HASH_LEN,
        sha256,
    })
}

fn write_bytes(out: &mut impl Write, bytes: &[u8]) -> io::Result<()> {
    out.write_all(&(bytes.len() as u64).to_be_bytes())?;
    out.write_all(bytes)
}

/// What the parser hands to its sink.
enum Item<'a> {
    /// A tree starts; its records follow.
    Tree(&'a [u8]),
    /// A record of the current tree.
    Record(&'a [u8], &'a [u8]),
}

/// Reads a backup, checking its structure and bounds as it goes, and verifies the checksum.
struct Parser {
    input: BufReader<File>,
    hasher: Sha256,
    /// Bytes read so far (all hashed).
    position: u64,
    /// Length of the part before the checksum.
    body_len: u64,
}

impl Parser {
    fn read(&mut self, buf: &mut [u8]) -> Result<(), String> {
        self.input.read_exact(buf).map_err(|e| match e.kind() {
            io::ErrorKind::UnexpectedEof => "the file is truncated".to_owned(),
            _ => format!("cannot read it ({e})"),
        })?;
        self.hasher.update(&*buf);
        self.position += buf.len() as u64;
        Ok(())
    }

    fn read_u64(&mut self) -> Result<u64, String> {
        let mut buf = [0; 8];
        self.read(&mut buf)?;
        Ok(u64::from_be_bytes(buf))
    }

    /// A length-prefixed byte string that must end before the checksum.
    fn read_bytes(&mut self, into: &mut Vec<u8>) -> Result<(), String> {
        let len = self.read_u64()?;
        if len > self.body_len.saturating_sub(self.position) {
            return Err(format!(
                "a length at byte {} points past the end of the file (damaged or truncated)",
                self.position - 8
            ));
        }
        into.clear();
        into.resize(
            usize::try_from(len).map_err(|_| "a length is too large".to_owned())?,
            0,
        );
        self.read(into)
    }
}

/// Parses `file` completely, handing trees and records to `sink`, and checks magic, version,
/// structure and checksum. With a sink that does nothing, this is the verification.
fn parse(
    file: &Path,
    sink: &mut dyn FnMut(Item<'_>) -> Result<(), BackupError>,
) -> Result<Summary, BackupError> {
    let invalid = |reason: String| BackupError::Invalid {
        file: file.to_path_buf(),
        reason,
    };
    let handle = File::open(file)
        .map_err(|e| failed(format_args!("cannot open the backup {}", file.display()), e))?;
    let len = handle
        .metadata()
        .map_err(|e| failed(format_args!("cannot read the backup {}", file.display()), e))?
        .len();
    let header_len = MAGIC.len() as u64 + 4 + 8;
    if len < header_len + HASH_LEN {
        return Err(invalid(format!(
            "it is too short to be a Sealdesk backup ({len} bytes)"
        )));
    }
    let mut parser = Parser {
        input: BufReader::with_capacity(1 << 16, handle),
        hasher: Sha256::new(),
        position: 0,
        body_len: len - HASH_LEN,
    };
    let mut magic = [0; 16];
    parser.read(&mut magic).map_err(invalid)?;
    if &magic != MAGIC {
        return Err(invalid(
            "it is not a Sealdesk backup (wrong magic bytes)".to_owned(),
        ));
    }
    let mut version = [0; 4];
    parser.read(&mut version).map_err(invalid)?;
    let version = u32::from_be_bytes(version);
    if version != FORMAT_VERSION {
        return Err(invalid(format!(
            "it has format version {version}, and this sealdesk reads version {FORMAT_VERSION}"
        )));
    }
    let trees = parser.read_u64().map_err(invalid)?;
    let mut names = HashSet::new();
    let mut records = 0u64;
    let (mut name, mut key, mut value, mut previous_key) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for _ in 0..trees {
        parser.read_bytes(&mut name).map_err(invalid)?;
        if !names.insert(name.clone()) {
            return Err(invalid("a tree appears twice".to_owned()));
        }
        sink(Item::Tree(&name))?;
        let count = parser.read_u64().map_err(invalid)?;
        for index in 0..count {
            parser.read_bytes(&mut key).map_err(invalid)?;
            parser.read_bytes(&mut value).map_err(invalid)?;
            if index > 0 && key <= previous_key {
                return Err(invalid("the keys of a tree are out of order".to_owned()));
            }
            sink(Item::Record(&key, &value))?;
            std::mem::swap(&mut previous_key, &mut key);
        }
        records += count;
    }
    if parser.position != parser.body_len {
        return Err(invalid(
            "there are unexpected bytes after the last tree".to_owned(),
        ));
    }
    let computed: [u8; 32] = parser.hasher.finalize().into();
    let mut stored = [0; 32];
    parser
        .input
        .read_exact(&mut stored)
        .map_err(|e| invalid(format!("cannot read it ({e})")))?;
    if computed != stored {
        return Err(invalid(
            "its SHA-256 checksum does not match (the file is damaged or was altered)".to_owned(),
        ));
    }
    Ok(Summary {
        trees,
        records,
        bytes: len,
        sha256: stored,
    })
}

/// Checks a backup file completely (magic, version, structure, checksum) without restoring.
///
/// # Errors
/// [`BackupError::Invalid`] naming what is wrong, or [`BackupError::Failed`] if it cannot be
/// read.
pub fn verify(file: &Path) -> Result<Summary, BackupError> {
    parse(file, &mut |_| Ok(()))
}

/// What is at the data directory's path now.
enum Target {
    Missing,
    Empty,
    NonEmpty,
}

/// Restores the backup `file` into `data_dir`.
///
/// The file is verified first; nothing is touched if it is damaged. A missing or empty
/// `data_dir` is simply filled. A non-empty one is refused unless `force`: then the backup is
/// imported into a new sibling directory, the current data directory is renamed to
/// `DATA_DIR.before-restore-<unix time>` and the new one takes its place.
///
/// # Errors
/// [`BackupError::Invalid`] for a damaged backup, [`BackupError::NotEmpty`] without `force`,
/// [`BackupError::Locked`] while a server uses the current database,
/// [`BackupError::Failed`] on I/O or database errors. In every case the data directory is
/// left as it was.
pub fn restore(file: &Path, data_dir: &Path, force: bool) -> Result<Restored, BackupError> {
    let expected = verify(file)?;

    let data_dir = std::path::absolute(data_dir)
        .map_err(|e| failed(format_args!("cannot resolve {}", data_dir.display()), e))?;
    let Some(name) = data_dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
    else {
        return Err(BackupError::Failed(format!(
            "cannot restore into {}: name the data directory itself",
            data_dir.display()
        )));
    };
    let parent = parent_of(&data_dir);
    let target = match fs::read_dir(&data_dir) {
        Ok(mut entries) => match entries.next() {
            None => Target::Empty,
            Some(_) => Target::NonEmpty,
        },
        Err(e) if e.kind() == io::ErrorKind::NotFound => Target::Missing,
        Err(e) => {
            return Err(failed(
                format_args!("cannot read {}", data_dir.display()),
                e,
            ));
        }
    };
    if matches!(target, Target::NonEmpty) {
        if !force {
            return Err(BackupError::NotEmpty(data_dir));
        }
        if data_dir.join(SLED_DB_FILE).is_file() {
            // Refuse to move a database that a running server has open. Other failures to
            // open it (a damaged database is a reason to restore) do not stop the restore.
            if let Err(BackupError::Locked(dir)) = open_db(&data_dir, false) {
                return Err(BackupError::Locked(dir));
            }
        }
    }

    fs::create_dir_all(&parent)
        .map_err(|e| failed(format_args!("cannot create {}", parent.display()), e))?;
    let stamp = unix_now();
    let staging = parent.join(format!(".{name}.restoring-{stamp}-{}", std::process::id()));
    if let Err(error) = import(file, &staging, &expected) {
        let _ = fs::remove_dir_all(&staging);
        return Err(error);
    }

    // Owner-only, as `serve` keeps it: sled created the restored files with the umask's mode.
    if let Err(error) = crate::storage::permissions::restrict(&staging) {
        let _ = fs::remove_dir_all(&staging);
        return Err(failed(
            "cannot set owner-only permissions on the restored data",
            error,
        ));
    }
    let previous = match target {
        Target::Missing => None,
        Target::Empty => {
            fs::remove_dir(&data_dir).map_err(|e| {
                let _ = fs::remove_dir_all(&staging);
                failed(
                    format_args!("cannot replace the empty {}", data_dir.display()),
                    e,
                )
            })?;
            None
        }
        Target::NonEmpty => {
            let mut aside = parent.join(format!("{name}.before-restore-{stamp}"));
            let mut n = 1;
            while aside.exists() {
                aside = parent.join(format!("{name}.before-restore-{stamp}-{n}"));
                n += 1;
            }
            fs::rename(&data_dir, &aside).map_err(|e| {
                let _ = fs::remove_dir_all(&staging);
                failed(format_args!("cannot move {} aside", data_dir.display()), e)
            })?;
            Some(aside)
        }
    };
    if let Err(error) = fs::rename(&staging, &data_dir) {
        match &previous {
            Some(aside) => {
                let _ = fs::rename(aside, &data_dir);
            }
            None if matches!(target, Target::Empty) => {
                let _ = fs::create_dir(&data_dir);
            }
            None => {}
        }
        let _ = fs::remove_dir_all(&staging);
        return Err(failed(
            format_args!("cannot move the restored data into {}", data_dir.display()),
            error,
        ));
    }
    sync_dir(&parent);
    Ok(Restored {
        summary: expected,
        previous,
    })
}

/// Imports the (already verified) backup into a new database at `staging` and flushes it.
fn import(file: &Path, staging: &Path, expected: &Summary) -> Result<(), BackupError> {
    let db = open_db(staging, true)?;
    let db_error = |e: sled::Error| failed("cannot write the restored database", e);
    let mut tree: Option<sled::Tree> = None;
    let summary = parse(file, &mut |item| {
        match item {
            Item::Tree(name) => tree = Some(db.open_tree(name).map_err(db_error)?),
            Item::Record(key, value) => {
                if let Some(tree) = &tree {
                    tree.insert(key, value).map_err(db_error)?;
                }
            }
        }
        Ok(())
    })?;
    drop(tree);
    if summary != *expected {
        return Err(BackupError::Failed(format!(
            "the backup {} changed while it was being restored; nothing was changed",
            file.display()
        )));
    }
    db.flush().map_err(db_error)?;
    drop(db);
    sync_dir(staging);
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    type Contents = BTreeMap<Vec<u8>, Vec<(Vec<u8>, Vec<u8>)>>;

    fn contents(dir: &Path) -> Contents {
        let db = open_waiting_for_lock(&sled::Config::new().path(dir), LOCK_WAIT).unwrap();
        let mut all = Contents::new();
        for name in db.tree_names() {
            let tree = db.open_tree(&name).unwrap();
            let entries = tree
                .iter()
                .map(|e| e.map(|(k, v)| (k.to_vec(), v.to_vec())).unwrap())
                .collect();
            all.insert(name.to_vec(), entries);
        }
        all
    }

    /// A database with several trees, binary keys, an empty value and a large value.
    fn make_db(dir: &Path) -> Contents {
        let db = open_waiting_for_lock(&sled::Config::new().path(dir), LOCK_WAIT).unwrap();
        db.insert(b"in-default-tree", b"x".as_slice()).unwrap();
        let meta = db.open_tree("meta").unwrap();
        meta.insert(b"schema_version", &1u32.to_be_bytes()[..])
            .unwrap();
        let messages = db.open_tree("messages").unwrap();
        for i in 0u64..300 {
            let mut key = vec![7u8; 17];
            key.extend_from_slice(&i.to_be_bytes());
            messages
                .insert(key, vec![(i % 251) as u8; (i as usize * 13) % 700])
                .unwrap();
        }
        let chunks = db.open_tree("attachment_chunks").unwrap();
        chunks.insert([0u8, 255, 0], vec![0xAB; 70_000]).unwrap();
        chunks.insert(b"empty", b"".as_slice()).unwrap();
        db.open_tree("sessions").unwrap();
        db.flush().unwrap();
        drop((meta, messages, chunks));
        drop(db);
        contents(dir)
    }

    fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
        let mut files = BTreeMap::new();
        let mut stack = vec![dir.to_path_buf()];
        while let Some(d) = stack.pop() {
            for entry in fs::read_dir(&d).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    stack.push(path);
                } else {
                    files.insert(path.clone(), fs::read(&path).unwrap());
                }
            }
        }
        files
    }

    fn siblings(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    /// The restored data directory is owner-only (0700, files 0600), whatever the umask and
    /// whatever the empty directory it replaces allowed.
    #[cfg(unix)]
    #[test]
    fn restore_leaves_owner_only_permissions() {
        use std::os::unix::fs::PermissionsExt;

        let tmp = tempfile::tempdir().unwrap();
        let source = tmp.path().join("data");
        make_db(&source);
        let file = tmp.path().join("sealdesk.backup");
        backup(&source, &file).unwrap();
        let empty = tmp.path().join("empty");
        fs::create_dir(&empty).unwrap();
        fs::set_permissions(&empty, fs::Permissions::from_mode(0o755)).unwrap();
        for target in [tmp.path().join("missing"), empty] {
            restore(&file, &target, false).unwrap();
            let mode = |path: &Path| fs::metadata(path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode(&target), 0o700, "{}", target.display());
            let files = snapshot(&target);
            assert!(!files.is_empty());
            for path in files.keys() {
                assert_eq!(mode(path), 0o600, "{}", path.display());
            }
        }
    }

    #[test]
    fn round_trip_of_several_trees() {
        let tmp = tempfile::tempdir().unwrap();
        let source = tmp.path().join("data");
        let expected = make_db(&source);
        assert!(expected.len() >= 5, "{:?}", expected.keys());

        let file = tmp.path().join("sealdesk.backup");
        let summary = backup(&source, &file).unwrap();
        assert!(!with_suffix(&file, ".tmp").exists());
        let bytes = fs::read(&file).unwrap();
        assert!(bytes.starts_with(MAGIC));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(&file).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert_eq!(summary.bytes, bytes.len() as u64);
        assert_eq!(summary.trees, expected.len() as u64);
        assert_eq!(
            summary.records,
            expected.values().map(|t| t.len() as u64).sum::<u64>()
        );
        let body = &bytes[..bytes.len() - 32];
        let digest: [u8; 32] = Sha256::digest(body).into();
        assert_eq!(&bytes[bytes.len() - 32..], &digest);
        assert_eq!(verify(&file).unwrap(), summary);

        let target = tmp.path().join("restored");
        let restored = restore(&file, &target, false).unwrap();
        assert_eq!(restored.summary, summary);
        assert_eq!(restored.previous, None);
        assert_eq!(contents(&target), expected);
        // Nothing but the two data directories and the backup is left behind.
        assert_eq!(
            siblings(tmp.path()),
            ["data", "restored", "sealdesk.backup"]
        );

        // Backing up the restored database gives the same bytes.
        let again = tmp.path().join("again.backup");
        backup(&target, &again).unwrap();
        assert_eq!(fs::read(&again).unwrap(), bytes);

        // An existing empty directory is filled too.
        let empty = tmp.path().join("empty");
        fs::create_dir(&empty).unwrap();
        restore(&file, &empty, false).unwrap();
        assert_eq!(contents(&empty), expected);
    }

    #[test]
    fn damaged_backup_is_refused_and_changes_nothing() {
        let tmp = tempfile::tempdir().unwrap();
        let source = tmp.path().join("data");
        make_db(&source);
        let file = tmp.path().join("b");
        backup(&source, &file).unwrap();
        let good = fs::read(&file).unwrap();

        let target = tmp.path().join("target");
        make_db(&target);
        let before = snapshot(&target);
        let names_before = siblings(tmp.path());
        let missing = tmp.path().join("missing");

        for position in [0, 17, 30, good.len() / 2, good.len() - 40, good.len() - 1] {
            let mut bad = good.clone();
            bad[position] ^= 0x01;
            fs::write(&file, &bad).unwrap();
            for (dir, force) in [(&target, true), (&missing, false)] {
                let error = restore(&file, dir, force).unwrap_err();
                assert!(
                    matches!(error, BackupError::Invalid { .. }),
                    "{position}: {error}"
                );
                assert!(error.to_string().contains("nothing was changed"), "{error}");
            }
            assert_eq!(snapshot(&target), before, "byte {position}");
            assert_eq!(siblings(tmp.path()), names_before, "byte {position}");
        }
        for cut in [0, 10, good.len() / 2, good.len() - 1] {
            fs::write(&file, &good[..cut]).unwrap();
            assert!(matches!(
                restore(&file, &target, true),
                Err(BackupError::Invalid { .. })
            ));
        }
        let mut longer = good.clone();
        longer.push(0);
        fs::write(&file, &longer).unwrap();
        assert!(matches!(
            restore(&file, &target, true),
            Err(BackupError::Invalid { .. })
        ));
        assert_eq!(snapshot(&target), before);
        assert!(!missing.exists());
    }

    #[test]
    fn non_empty_directory_needs_force_and_is_moved_aside() {
        let tmp = tempfile::tempdir().unwrap();
        let source = tmp.path().join("data");
        let expected = make_db(&source);
        let file = tmp.path().join("b");
        backup(&source, &file).unwrap();

        let target = tmp.path().join("target");
        fs::create_dir(&target).unwrap();
        fs::write(target.join("keep-me"), b"old").unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            fs::set_permissions(&target, fs::Permissions::from_mode(0o700)).unwrap();
        }
        let error = restore(&file, &target, false).unwrap_err();
        assert!(matches!(error, BackupError::NotEmpty(_)), "{error}");
        assert!(error.to_string().contains("--force"), "{error}");
        assert_eq!(siblings(&target), ["keep-me"]);

        let restored = restore(&file, &target, true).unwrap();
        let previous = restored.previous.unwrap();
        assert!(
            previous
                .file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("target.before-restore-"),
            "{}",
            previous.display()
        );
        assert_eq!(fs::read(previous.join("keep-me")).unwrap(), b"old");
        assert_eq!(contents(&target), expected);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(&target).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o700);
        }

        // Forcing over an existing database works as well, and keeps the old one aside.
        let restored = restore(&file, &source, true).unwrap();
        assert_eq!(contents(restored.previous.as_ref().unwrap()), expected);
        assert_eq!(contents(&source), expected);
    }

    #[test]
    fn locked_database_gives_a_clear_message() {
        let tmp = tempfile::tempdir().unwrap();
        let data = tmp.path().join("data");
        make_db(&data);
        let file = tmp.path().join("b");
        backup(&data, &file).unwrap();

        let running = open_waiting_for_lock(&sled::Config::new().path(&data), LOCK_WAIT).unwrap();
        let error = backup(&data, &tmp.path().join("other")).unwrap_err();
        assert!(matches!(error, BackupError::Locked(_)), "{error}");
        assert_eq!(
            error.to_string(),
            format!(
                "stop the server first: sealdesk serve is using {} (the database is locked)",
                data.display()
            )
        );
        assert!(!tmp.path().join("other").exists());
        assert!(!tmp.path().join("other.tmp").exists());

        let error = restore(&file, &data, true).unwrap_err();
        assert!(matches!(error, BackupError::Locked(_)), "{error}");
        assert!(
            error.to_string().starts_with("stop the server first"),
            "{error}"
        );
        drop(running);
        assert_eq!(siblings(tmp.path()), ["b", "data"]);
    }

    #[test]
    fn backup_of_a_directory_without_database_is_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let error = backup(&tmp.path().join("nothing"), &tmp.path().join("b")).unwrap_err();
        assert!(matches!(error, BackupError::NoDatabase(_)), "{error}");
        assert!(!tmp.path().join("nothing").exists());
    }
}
