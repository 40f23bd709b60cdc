//! Files: attachments read and uploaded in 64 KiB pieces (never the whole file in memory),
//! downloads saved only once the whole file has verified, and private files written
//! atomically with mode 0600.

use std::fs::{File, OpenOptions};
use std::io::{IsTerminal as _, Read as _, Write as _};
use std::path::{Path, PathBuf};

use sealdesk_client::ClientError;
use sealdesk_client::attachments::{AttachmentFile, Uploader, upload_with_retries};
use sealdesk_client::content::AttachmentRef;
use sealdesk_client::transport::Transport;
use sealdesk_crypto::{CryptoRng, TicketId};

use crate::args::SaveArgs;
use crate::failure::Failure;

/// Writes `bytes` to `path` atomically: a temporary file beside it (mode 0600), flushed to
/// disk, then renamed over `path`. With `create_parent`, creates missing folders with mode
/// 0700.
pub(crate) fn write_private(path: &Path, bytes: &[u8], create_parent: bool) -> std::io::Result<()> {
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
        _ => PathBuf::from("."),
    };
    if create_parent && !parent.exists() {
        let mut builder = std::fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        builder.create(&parent)?;
    }
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temporary = parent.join(format!(".{name}.tmp-{}", std::process::id()));
    let _ = std::fs::remove_file(&temporary);
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let written = options.open(&temporary).and_then(|mut file| {
        file.write_all(bytes)?;
        file.sync_all()
    });
    if let Err(error) = written.and_then(|()| std::fs::rename(&temporary, path)) {
        let _ = std::fs::remove_file(&temporary);
        return Err(error);
    }
    // Make the rename itself durable (best effort: not every system opens folders).
    if let Ok(folder) = File::open(&parent) {
        let _ = folder.sync_all();
    }
    Ok(())
}

/// Checks, before anything is downloaded, that a download may go where `target` says: not
/// to standard output when that is a terminal, unless `--force` (a reporter's bytes could set
/// the window's title, clear the screen or print lines that look like sealdesk's own).
///
/// # Errors
/// `input.terminal_output` (a usage error).
pub(crate) fn check_output(target: &SaveArgs) -> Result<(), Failure> {
    refuse_terminal(&target.out, target.force, std::io::stdout().is_terminal())
}

fn refuse_terminal(out: &Path, force: bool, stdout_is_terminal: bool) -> Result<(), Failure> {
    if out == Path::new("-") && stdout_is_terminal && !force {
        return Err(Failure::usage(
            "input.terminal_output",
            "Standard output is a terminal, and a file's bytes could control it: save the \
             attachment to a file, pipe it into a program, or add --force.",
        ));
    }
    Ok(())
}

/// Saves a verified download to `out` (`-`: standard output).
pub(crate) fn save(out: &Path, bytes: &[u8]) -> Result<(), Failure> {
    if out == Path::new("-") {
        let mut stdout = std::io::stdout().lock();
        return stdout
            .write_all(bytes)
            .and_then(|()| stdout.flush())
            .map_err(|e| Failure::new("file.write", format!("Cannot write the file: {e}.")));
    }
    write_private(out, bytes, false).map_err(|e| {
        Failure::new(
            "file.write",
            format!("Cannot write {}: {e}.", out.display()),
        )
    })
}

/// A file to attach, checked before anything is sent.
#[derive(Debug)]
pub(crate) struct Attachment {
    path: PathBuf,
    name: String,
    size: u64,
}

/// Checks that every file can be read, before the ticket or the reply is sent.
///
/// # Errors
/// `input.attachment` (a usage error) naming the first file that cannot be read.
pub(crate) fn check_attachments(paths: &[PathBuf]) -> Result<Vec<Attachment>, Failure> {
    paths
        .iter()
        .map(|path| {
            let bad = |why: String| {
                Failure::usage(
                    "input.attachment",
                    format!("Cannot attach {}: {why}.", path.display()),
                )
            };
            let metadata = File::open(path)
                .and_then(|f| f.metadata())
                .map_err(|e| bad(e.to_string()))?;
            if !metadata.is_file() {
                return Err(bad("it is not a file".to_owned()));
            }
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .filter(|n| !n.is_empty())
                .ok_or_else(|| bad("it has no file name".to_owned()))?;
            Ok(Attachment {
                path: path.clone(),
                name,
                size: metadata.len(),
            })
        })
        .collect()
}

/// The MIME type of a file name, by its extension (`application/octet-stream` otherwise).
pub(crate) fn mime_type(name: &str) -> &'static str {
    let extension = name
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    match extension.as_str() {
        "txt" | "log" | "md" => "text/plain",
        "csv" => "text/csv",
        "html" | "htm" => "text/html",
        "json" => "application/json",
        "xml" => "application/xml",
        "pdf" => "application/pdf",
        "zip" => "application/zip",
        "gz" => "application/gzip",
        "tar" => "application/x-tar",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "svg" => "image/svg+xml",
        "mp4" => "video/mp4",
        "webm" => "video/webm",
        _ => "application/octet-stream",
    }
}

/// Reads until `buf` is full or the file ends; returns how many bytes were read.
fn read_full(file: &mut File, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match file.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

/// Encrypts and uploads `attachment` to ticket `id` with `bearer`, piece by piece, waiting
/// out rate limits, network failures and server errors (`sealdesk-client`'s
/// [`upload_with_retries`]); returns the reference to post. Shows progress on standard error
/// when it is a terminal.
pub(crate) async fn upload<T: Transport>(
    transport: &T,
    bearer: &str,
    id: TicketId,
    attachment: &Attachment,
    now: u64,
    rng: &mut impl CryptoRng,
) -> Result<AttachmentRef, Failure> {
    let cannot_read = |e: std::io::Error| {
        ClientError::new(
            "file.read",
            format!("Cannot read {}: {e}.", attachment.path.display()),
        )
    };
    let mut file = File::open(&attachment.path).map_err(cannot_read)?;
    let show = std::io::stderr().is_terminal();
    let name = super::render::clean_line(&attachment.name);
    let progress = |sent: u64, total: u64| {
        if show {
            let percent = sent.saturating_mul(100).checked_div(total).unwrap_or(100);
            eprint!("\ruploading {name}: {percent}%");
            if sent == total {
                eprintln!();
            }
        }
    };
    let mut uploader = Uploader::start(
        transport,
        bearer,
        id,
        AttachmentFile {
            name: attachment.name.clone(),
            mime_type: mime_type(&attachment.name).to_owned(),
            size: attachment.size,
        },
        progress,
        rng,
    )
    .await?;
    let read = |buf: &mut [u8]| read_full(&mut file, buf).map_err(cannot_read);
    let wait = async |delay| tokio::time::sleep(delay).await;
    Ok(upload_with_retries(&mut uploader, read, || now, wait).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_bytes_never_go_to_a_terminal_unasked() {
        let stdout = Path::new("-");
        let error = refuse_terminal(stdout, false, true).unwrap_err();
        assert_eq!(error.code, "input.terminal_output");
        assert!(error.usage);
        assert!(refuse_terminal(stdout, true, true).is_ok());
        assert!(refuse_terminal(stdout, false, false).is_ok());
        assert!(refuse_terminal(Path::new("out.bin"), false, true).is_ok());
    }

    #[test]
    fn types_by_extension() {
        assert_eq!(mime_type("trace.TXT"), "text/plain");
        assert_eq!(mime_type("shot.jpeg"), "image/jpeg");
        assert_eq!(mime_type("core"), "application/octet-stream");
    }

    #[test]
    fn attachments_are_checked_first() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("a.txt");
        std::fs::write(&file, b"hello").unwrap();
        let checked = check_attachments(std::slice::from_ref(&file)).unwrap();
        assert_eq!((checked[0].name.as_str(), checked[0].size), ("a.txt", 5));
        let missing = check_attachments(&[dir.path().join("b.txt")]).unwrap_err();
        assert_eq!(
            (missing.code.as_str(), missing.usage),
            ("input.attachment", true)
        );
        let folder = check_attachments(&[dir.path().to_owned()]).unwrap_err();
        assert!(folder.message.contains("not a file"), "{folder:?}");
    }

    #[test]
    fn private_files_replace_atomically() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.bin");
        std::fs::write(&path, b"old").unwrap();
        write_private(&path, b"new", false).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"new");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert!(write_private(&dir.path().join("no/such/x"), b"x", false).is_err());
    }
}
