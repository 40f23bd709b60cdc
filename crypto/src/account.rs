//! Account keys: password → Argon2id → master key → authentication key and keyring key; the
//! keyring (the account's identity seed and app data) encrypted under the keyring key
//! (spec/PROTOCOL.md §12).

use core::fmt;

use subtle::ConstantTimeEq;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::encoding::{Reader, Writer};
use crate::error::{Error, Result};
use crate::identity::IdentitySeed;
use crate::labels;
use crate::primitives::{AeadKey, kdf, labeled_hash};
use crate::rng::CryptoRng;

/// Length of an account's Argon2id salt in bytes.
pub const SALT_LEN: usize = 16;
/// Protocol version byte of a sealed keyring.
pub const KEYRING_VERSION: u8 = 1;
/// Largest keyring plaintext in bytes (64 KiB).
pub const MAX_KEYRING_LEN: usize = 64 * 1024;

/// Argon2id (RFC 9106) cost parameters, sent to clients with the salt at pre-login.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Argon2Params {
    /// Memory in KiB (`m`).
    pub memory_kib: u32,
    /// Passes (`t`).
    pub iterations: u32,
    /// Lanes (`p`).
    pub parallelism: u32,
}

impl Argon2Params {
    /// The documented parameters for new accounts: 64 MiB, 3 passes, 1 lane (RFC 9106 §4's
    /// second recommendation with one lane, since browsers run it on one thread). About one
    /// second in a browser.
    pub const DEFAULT: Argon2Params = Argon2Params {
        memory_kib: 64 * 1024,
        iterations: 3,
        parallelism: 1,
    };

    /// Cheap parameters for tests only (256 KiB, 1 pass, 1 lane). Never for real accounts.
    pub const TEST_ONLY_CHEAP: Argon2Params = Argon2Params {
        memory_kib: 256,
        iterations: 1,
        parallelism: 1,
    };

    /// Upper bounds a client accepts from a server, so that a server cannot make it allocate
    /// without limit: memory ≤ 1 GiB, passes ≤ 64, lanes ≤ 16.
    pub const MAX: Argon2Params = Argon2Params {
        memory_kib: 1024 * 1024,
        iterations: 64,
        parallelism: 16,
    };

    /// Whether every parameter is at least that of `floor` (clients refuse weaker parameters
    /// than they were configured to accept, so a server cannot downgrade the derivation).
    pub fn at_least(&self, floor: &Argon2Params) -> bool {
        self.memory_kib >= floor.memory_kib
            && self.iterations >= floor.iterations
            && self.parallelism >= floor.parallelism
    }

    fn to_argon2(self) -> Result<argon2::Argon2<'static>> {
        if !Argon2Params::MAX.at_least(&self) {
            return Err(Error::KeyDerivation);
        }
        let params =
            argon2::Params::new(self.memory_kib, self.iterations, self.parallelism, Some(32))
                .map_err(|_| Error::KeyDerivation)?;
        Ok(argon2::Argon2::new(
            argon2::Algorithm::Argon2id,
            argon2::Version::V0x13,
            params,
        ))
    }
}

/// A fresh random Argon2id salt (16 bytes from `rng`), chosen at registration and at every
/// password change.
pub fn generate_salt(rng: &mut impl CryptoRng) -> [u8; SALT_LEN] {
    let mut salt = [0u8; SALT_LEN];
    rng.fill_bytes(&mut salt);
    salt
}

macro_rules! secret_key {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Zeroize, ZeroizeOnDrop)]
        pub struct $name([u8; 32]);

        impl $name {
            /// The key bytes.
            pub fn as_bytes(&self) -> &[u8; 32] {
                &self.0
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(concat!(stringify!($name), "(<redacted>)"))
            }
        }
    };
}

secret_key!(
    /// The 32-byte Argon2id output. Zeroized on drop; `Debug` redacts it.
    MasterKey
);
secret_key!(
    /// The 32-byte key that proves the password to the server. Zeroized on drop.
    AuthKey
);
secret_key!(
    /// The 32-byte key that encrypts the keyring. Never leaves the client. Zeroized on drop.
    KeyringKey
);

impl MasterKey {
    /// `Argon2id(password, salt, m, t, p)` with a 32-byte output, version 0x13.
    /// `password` is the UTF-8 password after Unicode NFC normalisation (the caller's job).
    ///
    /// # Errors
    /// [`Error::KeyDerivation`] if the parameters exceed [`Argon2Params::MAX`] or Argon2 rejects
    /// them (memory below 8 KiB per lane, zero passes).
    pub fn derive(password: &[u8], salt: &[u8; SALT_LEN], params: Argon2Params) -> Result<Self> {
        let mut out = [0u8; 32];
        params
            .to_argon2()?
            .hash_password_into(password, salt, &mut out)
            .map_err(|_| Error::KeyDerivation)?;
        Ok(MasterKey(out))
    }

    /// `KDF(master, "sealdesk/v1/account/auth-key", 32)`.
    pub fn auth_key(&self) -> AuthKey {
        let mut key = [0u8; 32];
        kdf(&self.0, labels::ACCOUNT_AUTH_KEY, &mut key);
        AuthKey(key)
    }

    /// `KDF(master, "sealdesk/v1/account/keyring-key", 32)`.
    pub fn keyring_key(&self) -> KeyringKey {
        let mut key = [0u8; 32];
        kdf(&self.0, labels::ACCOUNT_KEYRING_KEY, &mut key);
        KeyringKey(key)
    }
}

impl AuthKey {
    /// Wraps authentication-key bytes received by the server.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        AuthKey(bytes)
    }

    /// What the server stores: `SHA-256(u8 len || "sealdesk/v1/account/auth-hash" || auth_key)`.
    pub fn server_hash(&self) -> [u8; 32] {
        labeled_hash(labels::ACCOUNT_AUTH_HASH, &[&self.0])
    }

    /// Compares this key's hash with a stored hash in constant time.
    pub fn matches_hash(&self, stored: &[u8; 32]) -> bool {
        self.server_hash().ct_eq(stored).into()
    }
}

impl KeyringKey {
    /// Encrypts a keyring, drawing a 32-byte salt from `rng`. Returns
    /// `version (1) || salt (32) || ChaCha20-Poly1305(keyring bytes)`.
    ///
    /// # Errors
    /// [`Error::TooLarge`] if the encoded keyring exceeds [`MAX_KEYRING_LEN`].
    pub fn seal(&self, keyring: &Keyring, rng: &mut impl CryptoRng) -> Result<Vec<u8>> {
        let mut salt = [0u8; 32];
        rng.fill_bytes(&mut salt);
        self.seal_with_salt(keyring, salt)
    }

    /// Deterministic form of [`KeyringKey::seal`] (for vectors).
    ///
    /// # Errors
    /// [`Error::TooLarge`].
    pub fn seal_with_salt(&self, keyring: &Keyring, salt: [u8; 32]) -> Result<Vec<u8>> {
        let plain = keyring.to_bytes()?;
        let mut buf = plain.to_vec();
        keyring_aead_key(self, &salt).seal_in_place(&[KEYRING_VERSION], &mut buf);
        let mut out = Vec::with_capacity(1 + 32 + buf.len());
        out.push(KEYRING_VERSION);
        out.extend_from_slice(&salt);
        out.extend_from_slice(&buf);
        Ok(out)
    }

    /// Decrypts a sealed keyring.
    ///
    /// # Errors
    /// [`Error::Malformed`] for a bad version or length; [`Error::DecryptionFailed`] for a
    /// wrong password (key) or altered bytes.
    pub fn open(&self, sealed: &[u8]) -> Result<Keyring> {
        let mut r = Reader::new(sealed, "sealed keyring");
        r.version(KEYRING_VERSION)?;
        let salt: [u8; 32] = r.array()?;
        let mut buf = Zeroizing::new(r.rest().to_vec());
        keyring_aead_key(self, &salt).open_in_place(&[KEYRING_VERSION], &mut buf)?;
        Keyring::from_bytes(&buf)
    }
}

fn keyring_aead_key(key: &KeyringKey, salt: &[u8; 32]) -> AeadKey {
    AeadKey::derive(salt, &key.0, labels::KEYRING)
}

/// What an account keeps encrypted on the server (spec §12.3): its identity seed and opaque
/// app data (the web client stores saved ticket links and pinned directory heads there).
/// Encoded as `identity_seed (32) || u32 len || app_data`.
#[derive(Clone, Debug)]
pub struct Keyring {
    /// The account's identity seed.
    pub identity_seed: IdentitySeed,
    /// Opaque application data; zeroized on drop.
    pub app_data: Zeroizing<Vec<u8>>,
}

impl Keyring {
    fn to_bytes(&self) -> Result<Zeroizing<Vec<u8>>> {
        if self.app_data.len() > MAX_KEYRING_LEN - 36 {
            return Err(Error::TooLarge);
        }
        let mut w = Writer::with_capacity(36 + self.app_data.len());
        w.bytes(self.identity_seed.as_bytes())
            .var_bytes(&self.app_data);
        Ok(Zeroizing::new(w.finish()))
    }

    fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let mut r = Reader::new(bytes, "keyring");
        let mut seed: [u8; 32] = r.array()?;
        let identity_seed = IdentitySeed::from_bytes(seed);
        seed.zeroize();
        let app_data = Zeroizing::new(r.var_bytes(MAX_KEYRING_LEN)?.to_vec());
        r.finish()?;
        Ok(Keyring {
            identity_seed,
            app_data,
        })
    }
}
