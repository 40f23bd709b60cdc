//! Deterministic binary encoding (spec/PROTOCOL.md §2): fixed-size fields, big-endian integers,
//! labels prefixed by their length in one byte. Decoding never panics: every read is checked.

use crate::error::{Error, Result};

/// Appends fields to a byte vector in protocol order.
#[derive(Default)]
pub(crate) struct Writer {
    buf: Vec<u8>,
}

impl Writer {
    pub(crate) fn with_capacity(capacity: usize) -> Self {
        Writer {
            buf: Vec::with_capacity(capacity),
        }
    }

    /// A label as `u8 length || ASCII bytes` (labels are at most 255 bytes).
    pub(crate) fn label(&mut self, label: &str) -> &mut Self {
        debug_assert!(label.len() <= 255);
        self.buf.push(label.len() as u8);
        self.buf.extend_from_slice(label.as_bytes());
        self
    }

    pub(crate) fn u8(&mut self, value: u8) -> &mut Self {
        self.buf.push(value);
        self
    }

    pub(crate) fn u32(&mut self, value: u32) -> &mut Self {
        self.buf.extend_from_slice(&value.to_be_bytes());
        self
    }

    pub(crate) fn u64(&mut self, value: u64) -> &mut Self {
        self.buf.extend_from_slice(&value.to_be_bytes());
        self
    }

    pub(crate) fn bytes(&mut self, bytes: &[u8]) -> &mut Self {
        self.buf.extend_from_slice(bytes);
        self
    }

    /// Variable-length bytes as `u32 length || bytes`.
    pub(crate) fn var_bytes(&mut self, bytes: &[u8]) -> &mut Self {
        // Callers bound every variable field far below 4 GiB before encoding.
        self.u32(bytes.len() as u32);
        self.bytes(bytes)
    }

    pub(crate) fn finish(self) -> Vec<u8> {
        self.buf
    }
}

/// `u8 length || label` as bytes, for use as HKDF info or hash prefix.
pub(crate) fn label_bytes(label: &str) -> Vec<u8> {
    let mut w = Writer::with_capacity(label.len() + 1);
    w.label(label);
    w.finish()
}

/// Reads fields from a byte slice; every read checks the remaining length.
pub(crate) struct Reader<'a> {
    data: &'a [u8],
    what: &'static str,
}

impl<'a> Reader<'a> {
    /// `what` names the structure in errors ("message", "wrap", ...).
    pub(crate) fn new(data: &'a [u8], what: &'static str) -> Self {
        Reader { data, what }
    }

    fn malformed(&self) -> Error {
        Error::Malformed(self.what)
    }

    pub(crate) fn take(&mut self, len: usize) -> Result<&'a [u8]> {
        if self.data.len() < len {
            return Err(self.malformed());
        }
        let (head, tail) = self.data.split_at(len);
        self.data = tail;
        Ok(head)
    }

    pub(crate) fn array<const N: usize>(&mut self) -> Result<[u8; N]> {
        let bytes = self.take(N)?;
        let mut out = [0u8; N];
        out.copy_from_slice(bytes);
        Ok(out)
    }

    pub(crate) fn u8(&mut self) -> Result<u8> {
        Ok(self.array::<1>()?[0])
    }

    pub(crate) fn u32(&mut self) -> Result<u32> {
        Ok(u32::from_be_bytes(self.array()?))
    }

    pub(crate) fn u64(&mut self) -> Result<u64> {
        Ok(u64::from_be_bytes(self.array()?))
    }

    /// Everything not yet read.
    pub(crate) fn rest(&mut self) -> &'a [u8] {
        let rest = self.data;
        self.data = &[];
        rest
    }

    /// `u32 length || bytes`, with the length bounded by `max`.
    pub(crate) fn var_bytes(&mut self, max: usize) -> Result<&'a [u8]> {
        let len = self.u32()? as usize;
        if len > max {
            return Err(self.malformed());
        }
        self.take(len)
    }

    /// Checks that the version byte equals `expected`.
    pub(crate) fn version(&mut self, expected: u8) -> Result<()> {
        if self.u8()? != expected {
            return Err(self.malformed());
        }
        Ok(())
    }

    /// Fails unless every byte was consumed.
    pub(crate) fn finish(self) -> Result<()> {
        if self.data.is_empty() {
            Ok(())
        } else {
            Err(self.malformed())
        }
    }
}
