//! The record of acknowledged writes: a file beside the database, independent of it, that
//! holds how many group commits the server has acknowledged.
//!
//! The database keeps its own count of group commits (the `meta` tree's `commits`, raised
//! before each flush, so it is part of that flush). After the flush succeeds, and before any
//! commit covered by it is answered, the count is written to this file and synced. At the
//! next start the two are compared: a database that holds fewer commits than the file says
//! were acknowledged has lost acknowledged writes (sled's recovery stops at the first damaged
//! record of its log and drops it with everything written after it, without an error), and
//! the server refuses to start (`StoreError::LostWrites`).
//!
//! File `DATA_DIR/acknowledged-commits`, 32 bytes, big-endian u64s: the count, the Unix time
//! (seconds) of the last acknowledged commit, then the bitwise complement of each (a torn or
//! damaged file does not pass for a count). It is rewritten in place (one 32-byte write, then
//! `fdatasync`).

use std::fs::{File, OpenOptions};
use std::io::{self, ErrorKind, Read};
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

/// The file's name inside the data directory.
pub const FILE_NAME: &str = "acknowledged-commits";

/// Length of the file in bytes.
const LEN: usize = 32;

/// A count of group commits and when the last of them was made.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Commits {
    /// Group commits since the database was created.
    pub count: u64,
    /// Unix seconds of the last one (0 for none).
    pub at: u64,
}

impl Commits {
    /// The 16 bytes the database keeps in its `meta` tree: count and time, big-endian.
    pub fn to_bytes(self) -> [u8; 16] {
        let mut bytes = [0; 16];
        bytes[..8].copy_from_slice(&self.count.to_be_bytes());
        bytes[8..].copy_from_slice(&self.at.to_be_bytes());
        bytes
    }

    /// The inverse of [`Commits::to_bytes`]; `None` unless `bytes` is 16 bytes long.
    pub fn from_bytes(bytes: &[u8]) -> Option<Commits> {
        if bytes.len() != 16 {
            return None;
        }
        Some(Commits {
            count: be_u64(bytes, 0)?,
            at: be_u64(bytes, 8)?,
        })
    }
}

/// What the file says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Recorded {
    /// No file: a new data directory, one restored from a backup (a backup holds the database
    /// only), or one written by a Sealdesk before this record existed.
    Missing,
    /// The group commits acknowledged.
    Count(Commits),
    /// The file exists but does not hold a count (wrong length, or the complement does not
    /// match): it was damaged.
    Damaged,
}

/// The path of the record in `data_dir`.
pub fn path(data_dir: &Path) -> PathBuf {
    data_dir.join(FILE_NAME)
}

/// The file's bytes for `commits`.
fn encode(commits: Commits) -> [u8; LEN] {
    let mut bytes = [0; LEN];
    bytes[..16].copy_from_slice(&commits.to_bytes());
    bytes[16..24].copy_from_slice(&(!commits.count).to_be_bytes());
    bytes[24..].copy_from_slice(&(!commits.at).to_be_bytes());
    bytes
}

/// Reads the record of `data_dir`.
///
/// # Errors
/// An I/O error other than "not found".
pub fn read(data_dir: &Path) -> io::Result<Recorded> {
    let mut file = match File::open(path(data_dir)) {
        Ok(file) => file,
        Err(error) if error.kind() == ErrorKind::NotFound => return Ok(Recorded::Missing),
        Err(error) => return Err(error),
    };
    let mut bytes = Vec::with_capacity(LEN);
    file.by_ref().take(LEN as u64 + 1).read_to_end(&mut bytes)?;
    if bytes.len() != LEN {
        return Ok(Recorded::Damaged);
    }
    let (Some(commits), Some(count_complement), Some(at_complement)) = (
        Commits::from_bytes(&bytes[..16]),
        be_u64(&bytes, 16),
        be_u64(&bytes, 24),
    ) else {
        return Ok(Recorded::Damaged);
    };
    if count_complement != !commits.count || at_complement != !commits.at {
        return Ok(Recorded::Damaged);
    }
    Ok(Recorded::Count(commits))
}

fn be_u64(bytes: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_be_bytes(bytes.get(at..at + 8)?.try_into().ok()?))
}

/// `unix_seconds` as `YYYY-MM-DD HH:MM:SS UTC` (proleptic Gregorian calendar), or "the
/// creation of the database" for 0.
pub fn utc(unix_seconds: u64) -> String {
    if unix_seconds == 0 {
        return "the creation of the database".to_owned();
    }
    let days = unix_seconds / 86_400;
    let second_of_day = unix_seconds % 86_400;
    // Days to a civil date (H. Hinnant, "chrono-Compatible Low-Level Date Algorithms").
    let z = days + 719_468;
    let era = z / 146_097;
    let day_of_era = z % 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1_460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let shifted_month = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * shifted_month + 2) / 5 + 1;
    let month = if shifted_month < 10 {
        shifted_month + 3
    } else {
        shifted_month - 9
    };
    let year = year_of_era + era * 400 + u64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02} UTC",
        second_of_day / 3_600,
        second_of_day % 3_600 / 60,
        second_of_day % 60
    )
}

/// The open record, written by the flusher after each successful flush.
pub struct Writer {
    file: File,
}

impl Writer {
    /// Opens (creating it 0600 if needed) the record of `data_dir` and writes `commits` to it,
    /// synced; the directory is synced too, so a new file's name is durable.
    ///
    /// # Errors
    /// I/O errors.
    pub fn open(data_dir: &Path, commits: Commits) -> io::Result<Writer> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .open(path(data_dir))?;
        let writer = Writer { file };
        writer.write(commits)?;
        writer.file.set_len(LEN as u64)?;
        writer.file.sync_all()?;
        File::open(data_dir)?.sync_all()?;
        Ok(writer)
    }

    /// Records `commits` as acknowledged: one write in place, then `fdatasync`.
    ///
    /// # Errors
    /// I/O errors: the commits it would cover must not be acknowledged.
    pub fn write(&self, commits: Commits) -> io::Result<()> {
        self.file.write_all_at(&encode(commits), 0)?;
        self.file.sync_data()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_and_reads_the_count() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(read(dir.path()).unwrap(), Recorded::Missing);
        let seven = Commits {
            count: 7,
            at: 1_700_000_000,
        };
        let writer = Writer::open(dir.path(), seven).unwrap();
        assert_eq!(read(dir.path()).unwrap(), Recorded::Count(seven));
        let last = Commits {
            count: u64::MAX - 1,
            at: 5,
        };
        writer.write(last).unwrap();
        assert_eq!(read(dir.path()).unwrap(), Recorded::Count(last));
        assert_eq!(Commits::from_bytes(&last.to_bytes()), Some(last));
        assert_eq!(Commits::from_bytes(&[0; 15]), None);
        drop(writer);
        let bytes = std::fs::read(path(dir.path())).unwrap();
        assert_eq!(bytes.len(), LEN);
    }

    #[test]
    fn utc_formats_civil_time() {
        assert_eq!(utc(0), "the creation of the database");
        assert_eq!(utc(1), "1970-01-01 00:00:01 UTC");
        assert_eq!(utc(951_782_400), "2000-02-29 00:00:00 UTC");
        assert_eq!(utc(1_700_000_000), "2023-11-14 22:13:20 UTC");
        assert_eq!(utc(4_107_542_399), "2100-02-28 23:59:59 UTC");
    }

    #[test]
    fn a_damaged_file_is_not_a_count() {
        let dir = tempfile::tempdir().unwrap();
        let commits = Commits { count: 300, at: 9 };
        drop(Writer::open(dir.path(), commits).unwrap());
        let good = std::fs::read(path(dir.path())).unwrap();
        for at in [7, 15] {
            let mut bytes = good.clone();
            bytes[at] ^= 0x01;
            std::fs::write(path(dir.path()), &bytes).unwrap();
            assert_eq!(read(dir.path()).unwrap(), Recorded::Damaged);
        }
        std::fs::write(path(dir.path()), &good[..16]).unwrap();
        assert_eq!(read(dir.path()).unwrap(), Recorded::Damaged);
        std::fs::write(path(dir.path()), [good.as_slice(), &[0]].concat()).unwrap();
        assert_eq!(read(dir.path()).unwrap(), Recorded::Damaged);
    }
}
