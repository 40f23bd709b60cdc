//! Owner-only permissions for the data directory, which holds the instance secret, the
//! authentication hashes and the sealed keyrings: directories 0700, files 0600, whatever the
//! umask. sled creates its files itself, so [`restrict`] narrows what is there after it has
//! opened them; files we write ourselves are created 0600 ([`create_private_file`]).

use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};

/// The mode of the data directory and the directories inside it.
pub const DIR_MODE: u32 = 0o700;
/// The mode of every file inside the data directory.
pub const FILE_MODE: u32 = 0o600;

/// Creates `dir` (and missing parents) with mode 0700 if it does not exist.
///
/// # Errors
/// The I/O error of creating it.
pub fn create_private_dir(dir: &Path) -> io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, DIR_MODE);
    builder.create(dir)
}

/// Creates (or truncates) the file `path` with mode 0600 for writing.
///
/// # Errors
/// The I/O error of opening it.
pub fn create_private_file(path: &Path) -> io::Result<File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, FILE_MODE);
    let file = options.open(path)?;
    // The mode above applies only to a new file: an old one keeps its own.
    #[cfg(unix)]
    std::fs::set_permissions(
        path,
        std::os::unix::fs::PermissionsExt::from_mode(FILE_MODE),
    )?;
    Ok(file)
}

/// Sets `dir` and the directories below it to 0700 and their files to 0600 (symbolic links
/// are left alone, not followed). Returns the paths whose permissions were wider (any bit for
/// the group or others), for a warning.
///
/// # Errors
/// The first I/O error reading the tree or changing a mode.
pub fn restrict(dir: &Path) -> io::Result<Vec<PathBuf>> {
    let mut wider = Vec::new();
    #[cfg(unix)]
    restrict_tree(dir, &mut wider)?;
    #[cfg(not(unix))]
    let _ = dir;
    Ok(wider)
}

#[cfg(unix)]
fn restrict_tree(path: &Path, wider: &mut Vec<PathBuf>) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;

    let metadata = std::fs::symlink_metadata(path)?;
    let file_type = metadata.file_type();
    let wanted = if file_type.is_dir() {
        DIR_MODE
    } else if file_type.is_file() {
        FILE_MODE
    } else {
        return Ok(());
    };
    let mode = metadata.permissions().mode() & 0o7777;
    if mode & 0o077 != 0 {
        wider.push(path.to_path_buf());
    }
    if mode != wanted {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(wanted))?;
    }
    if file_type.is_dir() {
        for entry in std::fs::read_dir(path)? {
            restrict_tree(&entry?.path(), wider)?;
        }
    }
    Ok(())
}

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    #[test]
    fn narrows_directories_and_files() {
        let mode = |path: &Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("data");
        create_private_dir(&dir.join("invites")).unwrap();
        assert_eq!(mode(&dir.join("invites")), 0o700);
        std::fs::write(dir.join("db"), b"x").unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        std::fs::set_permissions(dir.join("db"), std::fs::Permissions::from_mode(0o644)).unwrap();
        let wider = restrict(&dir).unwrap();
        assert_eq!(wider, vec![dir.clone(), dir.join("db")]);
        assert_eq!(mode(&dir), 0o700);
        assert_eq!(mode(&dir.join("db")), 0o600);
        assert!(restrict(&dir).unwrap().is_empty());
        drop(create_private_file(&dir.join("new")).unwrap());
        assert_eq!(mode(&dir.join("new")), 0o600);
    }
}
