//! The administrator's keyring file, written by `sealdesk admin login`.
//!
//! It holds the account's identity seed and, as the keyring's application data, the JSON
//! `{"server", "username", "pinned": {"seq", "hash"}}` (the directory head this client saw
//! last), sealed exactly as an account keyring is (PROTOCOL.md §12): a passphrase → Argon2id
//! ([`Argon2Params::DEFAULT`], a fresh 16-byte salt) → master key → keyring key →
//! `KeyringKey::seal`. The file is JSON, `{"format", "argon2", "salt", "sealed"}`; nothing in it
//! is readable without the passphrase. It is written atomically (a temporary file in the same
//! folder, flushed, then renamed) with mode 0600, in a folder created with mode 0700.
//!
//! No session token is kept: each command signs in again with the account password, so a
//! copy of the file alone signs in nowhere, and it never holds a credential that outlives
//! its command.

use std::path::{Path, PathBuf};

use sealdesk_crypto::{
    Argon2Params, CryptoRng, DirectoryHead, IdentitySeed, Keyring, KeyringKey, MasterKey, SALT_LEN,
    Zeroizing, generate_salt,
};
use sealdesk_wire::accounts::Argon2ParamsBody;
use sealdesk_wire::b64;
use serde::{Deserialize, Serialize};

use crate::failure::Failure;
use crate::server::Server;

/// The `format` member of a keyring file.
const FORMAT: &str = "sealdesk-admin-keyring/1";

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileJson {
    format: String,
    /// `{"memory_kib", "iterations", "parallelism"}`, as account bodies write them.
    argon2: Argon2ParamsBody,
    salt: String,
    sealed: String,
}

#[derive(Serialize, Deserialize)]
struct PinJson {
    seq: u64,
    hash: String,
}

/// What the keyring remembers besides the seed (sealed with it).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Profile {
    /// The instance's base URL.
    pub(crate) server: String,
    /// The account (lowercase).
    pub(crate) username: String,
    /// The last verified directory head.
    #[serde(with = "pin")]
    pub(crate) pinned: DirectoryHead,
}

mod pin {
    use sealdesk_crypto::DirectoryHead;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    use super::PinJson;

    pub(super) fn serialize<S: Serializer>(head: &DirectoryHead, s: S) -> Result<S::Ok, S::Error> {
        PinJson {
            seq: head.seq,
            hash: hex::encode(head.hash),
        }
        .serialize(s)
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<DirectoryHead, D::Error> {
        let pin = PinJson::deserialize(d)?;
        let mut hash = [0u8; 32];
        hex::decode_to_slice(&pin.hash, &mut hash).map_err(serde::de::Error::custom)?;
        Ok(DirectoryHead { seq: pin.seq, hash })
    }
}

/// An open keyring: the seed, the profile, and the key and salt it is sealed under.
pub(crate) struct AdminKeyring {
    /// The administrator's identity seed.
    pub(crate) seed: IdentitySeed,
    /// Server, username, pinned head.
    pub(crate) profile: Profile,
    key: KeyringKey,
    salt: [u8; SALT_LEN],
    params: Argon2Params,
}

fn derive(
    passphrase: &str,
    salt: &[u8; SALT_LEN],
    params: Argon2Params,
) -> Result<KeyringKey, Failure> {
    MasterKey::derive(passphrase.as_bytes(), salt, params)
        .map(|master| master.keyring_key())
        .map_err(|_| {
            Failure::usage(
                "keyring.parameters",
                "The keyring's key derivation parameters are out of range.",
            )
        })
}

impl AdminKeyring {
    /// A new keyring under `passphrase`, with a fresh salt from `rng` and `params`
    /// ([`Argon2Params::DEFAULT`] outside tests).
    pub(crate) fn create(
        passphrase: &str,
        params: Argon2Params,
        seed: IdentitySeed,
        profile: Profile,
        rng: &mut impl CryptoRng,
    ) -> Result<AdminKeyring, Failure> {
        let salt = generate_salt(rng);
        Ok(AdminKeyring {
            key: derive(passphrase, &salt, params)?,
            seed,
            profile,
            salt,
            params,
        })
    }

    /// Reads the keyring at `path`, then asks `passphrase` for the passphrase (so nobody is
    /// asked for one before the file turns out to be missing or malformed) and opens it.
    ///
    /// # Errors
    /// `config.no_keyring` or `keyring.malformed` (usage errors); `keyring.bad_passphrase` when
    /// it does not open (a wrong passphrase or an altered file); `file.read`; those of
    /// `passphrase`.
    pub(crate) fn open(
        path: &Path,
        passphrase: impl FnOnce() -> Result<Zeroizing<String>, Failure>,
    ) -> Result<AdminKeyring, Failure> {
        let file: FileJson = parse(path)?;
        let params = Argon2Params::from(file.argon2);
        let malformed = || {
            Failure::usage(
                "keyring.malformed",
                format!("{} is not a sealdesk keyring.", path.display()),
            )
        };
        let salt = b64::decode_array::<SALT_LEN>(&file.salt).map_err(|_| malformed())?;
        let sealed = b64::decode(&file.sealed).map_err(|_| malformed())?;
        let key = derive(&passphrase()?, &salt, params)?;
        let keyring = key.open(&sealed).map_err(|_| {
            Failure::new(
                "keyring.bad_passphrase",
                format!(
                    "The keyring {} does not open with this passphrase (or it was altered).",
                    path.display()
                ),
            )
        })?;
        let profile = serde_json::from_slice(&keyring.app_data).map_err(|_| malformed())?;
        Ok(AdminKeyring {
            seed: keyring.identity_seed.clone(),
            profile,
            key,
            salt,
            params,
        })
    }

    /// Seals the keyring again (a fresh AEAD salt from `rng`, the same passphrase) and writes
    /// it to `path` atomically with mode 0600.
    pub(crate) fn save(&self, path: &Path, rng: &mut impl CryptoRng) -> Result<(), Failure> {
        let app_data = serde_json::to_vec(&self.profile)
            .map_err(|_| Failure::new("keyring.encode", "The keyring cannot be encoded."))?;
        let keyring = Keyring {
            identity_seed: self.seed.clone(),
            app_data: Zeroizing::new(app_data),
        };
        let sealed = self.key.seal(&keyring, rng)?;
        let file = FileJson {
            format: FORMAT.to_owned(),
            argon2: self.params.into(),
            salt: b64::encode(&self.salt),
            sealed: b64::encode(&sealed),
        };
        let mut json = serde_json::to_vec_pretty(&file)
            .map_err(|_| Failure::new("keyring.encode", "The keyring cannot be encoded."))?;
        json.push(b'\n');
        super::files::write_private(path, &json, true).map_err(|e| {
            Failure::new(
                "file.write",
                format!("Cannot write the keyring {}: {e}.", path.display()),
            )
        })
    }
}

fn parse(path: &Path) -> Result<FileJson, Failure> {
    let bytes = std::fs::read(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => no_keyring(path),
        _ => Failure::new(
            "file.read",
            format!("Cannot read the keyring {}: {e}.", path.display()),
        ),
    })?;
    warn_if_shared(path);
    let file: FileJson = serde_json::from_slice(&bytes).map_err(|_| {
        Failure::usage(
            "keyring.malformed",
            format!("{} is not a sealdesk keyring.", path.display()),
        )
    })?;
    if file.format != FORMAT {
        return Err(Failure::usage(
            "keyring.malformed",
            format!(
                "{} is a keyring of another format ({:?}) than this sealdesk's.",
                path.display(),
                super::render::clean_line(&file.format)
            ),
        ));
    }
    Ok(file)
}

fn no_keyring(path: &Path) -> Failure {
    Failure::usage(
        "config.no_keyring",
        format!(
            "There is no keyring {}: sign in first with `sealdesk admin login --server URL \
             --username NAME`.",
            path.display()
        ),
    )
}

/// Warns when others may read the keyring (it is encrypted, but the passphrase is all that
/// protects it then).
fn warn_if_shared(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        if let Ok(metadata) = std::fs::metadata(path)
            && metadata.permissions().mode() & 0o077 != 0
        {
            eprintln!(
                "warning: others may read the keyring {}; restrict it with chmod 600.",
                path.display()
            );
        }
    }
    #[cfg(not(unix))]
    let _ = path;
}

/// `$XDG_CONFIG_HOME/sealdesk`, else `~/.config/sealdesk`.
pub(crate) fn config_dir() -> Option<PathBuf> {
    let from_env = |name: &str| {
        std::env::var_os(name)
            .map(PathBuf::from)
            .filter(|p| p.is_absolute())
    };
    from_env("XDG_CONFIG_HOME")
        .or_else(|| from_env("HOME").map(|home| home.join(".config")))
        .map(|dir| dir.join("sealdesk"))
}

/// The default keyring of `server`: `~/.config/sealdesk/admin-<host>.keyring`.
pub(crate) fn default_path(server: &Server) -> Result<PathBuf, Failure> {
    config_dir()
        .map(|dir| dir.join(format!("admin-{}.keyring", server.label)))
        .ok_or_else(no_home)
}

fn no_home() -> Failure {
    Failure::usage(
        "config.no_home",
        "Neither HOME nor XDG_CONFIG_HOME is set: give the keyring with --keyring FILE.",
    )
}

/// The keyring an administrator command uses: `keyring` if given, else the default one of
/// `server`, else the only `admin-*.keyring` in the configuration folder.
pub(crate) fn locate(keyring: Option<&Path>, server: Option<&str>) -> Result<PathBuf, Failure> {
    let path = match (keyring, server) {
        (Some(path), _) => path.to_owned(),
        (None, Some(url)) => default_path(&Server::parse(url)?)?,
        (None, None) => {
            let dir = config_dir().ok_or_else(no_home)?;
            let mut found: Vec<PathBuf> = std::fs::read_dir(&dir)
                .into_iter()
                .flatten()
                .flatten()
                .map(|entry| entry.path())
                .filter(|p| {
                    p.file_name()
                        .and_then(|n| n.to_str())
                        .is_some_and(|n| n.starts_with("admin-") && n.ends_with(".keyring"))
                })
                .collect();
            found.sort();
            match found.len() {
                1 => found.remove(0),
                0 => {
                    return Err(Failure::usage(
                        "config.no_keyring",
                        format!(
                            "There is no keyring in {}: sign in first with `sealdesk admin \
                             login --server URL --username NAME`.",
                            dir.display()
                        ),
                    ));
                }
                _ => {
                    let names: Vec<String> = found
                        .iter()
                        .filter_map(|p| p.file_name()?.to_str().map(str::to_owned))
                        .collect();
                    return Err(Failure::usage(
                        "config.several_keyrings",
                        format!(
                            "There are several keyrings in {} ({}): choose one with --server \
                             URL or --keyring FILE.",
                            dir.display(),
                            names.join(", ")
                        ),
                    ));
                }
            }
        }
    };
    if !path.exists() {
        return Err(no_keyring(&path));
    }
    Ok(path)
}

#[cfg(test)]
mod tests {
    use sealdesk_crypto::system_rng;

    use super::*;

    fn secret(text: &str) -> impl FnOnce() -> Result<Zeroizing<String>, Failure> {
        let text = text.to_owned();
        move || Ok(Zeroizing::new(text))
    }

    fn profile() -> Profile {
        Profile {
            server: "http://127.0.0.1:8080".into(),
            username: "root".into(),
            pinned: DirectoryHead {
                seq: 3,
                hash: [9; 32],
            },
        }
    }

    #[test]
    fn a_keyring_round_trips_and_keeps_its_secrets() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub").join("admin-x.keyring");
        let mut rng = system_rng();
        let seed = IdentitySeed::from_bytes([0xa7; 32]);
        let mut keyring = AdminKeyring::create(
            "correct horse",
            Argon2Params::TEST_ONLY_CHEAP,
            seed,
            profile(),
            &mut rng,
        )
        .unwrap();
        keyring.save(&path, &mut rng).unwrap();

        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains(FORMAT));
        assert!(!text.contains(&hex::encode([0xa7; 32])));
        assert!(!text.contains(&b64::encode(&[0xa7; 32])));
        assert!(!text.contains("127.0.0.1"), "the server is sealed too");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
            let folder = std::fs::metadata(path.parent().unwrap()).unwrap();
            assert_eq!(folder.permissions().mode() & 0o777, 0o700);
        }

        let opened = AdminKeyring::open(&path, secret("correct horse")).unwrap();
        assert_eq!(opened.seed.as_bytes(), &[0xa7; 32]);
        assert_eq!(opened.profile, profile());

        // A new pin is saved in place; no temporary file is left behind.
        keyring.profile.pinned.seq = 4;
        keyring.save(&path, &mut rng).unwrap();
        let entries = std::fs::read_dir(path.parent().unwrap()).unwrap().count();
        assert_eq!(entries, 1);
        let opened = AdminKeyring::open(&path, secret("correct horse")).unwrap();
        assert_eq!(opened.profile.pinned.seq, 4);

        let wrong = AdminKeyring::open(&path, secret("wrong horse"))
            .err()
            .unwrap();
        assert_eq!(wrong.code, "keyring.bad_passphrase");
        assert!(!wrong.usage);

        std::fs::write(&path, "{}").unwrap();
        let malformed = AdminKeyring::open(&path, secret("correct horse"))
            .err()
            .unwrap();
        assert_eq!(
            (malformed.code.as_str(), malformed.usage),
            ("keyring.malformed", true)
        );
        let missing = AdminKeyring::open(&dir.path().join("none"), secret("x"))
            .err()
            .unwrap();
        assert_eq!(
            (missing.code.as_str(), missing.usage),
            ("config.no_keyring", true)
        );
    }

    #[test]
    fn an_explicit_keyring_must_exist() {
        let dir = tempfile::tempdir().unwrap();
        let error = locate(Some(&dir.path().join("nope.keyring")), None).unwrap_err();
        assert_eq!(error.code, "config.no_keyring");
        let error = locate(None, Some("ftp://x")).unwrap_err();
        assert_eq!(error.code, "input.server_url");
    }

    /// A keyring file as `sealdesk admin login` wrote it before the wire types (the
    /// tests' cheap Argon2id parameters, passphrase `correct horse`) still opens.
    #[test]
    fn a_keyring_of_the_first_format_opens() {
        const WRITTEN: &str = r#"{
  "format": "sealdesk-admin-keyring/1",
  "argon2": {
    "memory_kib": 256,
    "iterations": 1,
    "parallelism": 1
  },
  "salt": "aMmGlv2HmyGSQkRUVfeq-Q",
  "sealed": "AVTYCehECbT0feakVcL8f9mMb5vS72AOD7NL_m9KfVXeINOPg5fCVd6QeCG8KDcQEd1lYlhN5VhsDZeSgfmL_HpiuNxgZUJvUS8xTANTTOoj8btS90BfsFwTjL82D_bP2hKFGKX2NOC03AiqOgK_a0y0f9yui8Iv9qb8Pdk2a36FxBFfijYfn_nhMciRdQvCWGAsNuefVvy_hH92R8KQnmqepdH8b9Aip6-KYXTOIo2SidL3f_qFY_r04m7YK-GC2VpXoOsu2kRBF7NPm1i8Ub12qYTcIO8SwSwaZN2T21jloBK2rWVFsw"
}
"#;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("admin-x.keyring");
        std::fs::write(&path, WRITTEN).unwrap();
        let opened = AdminKeyring::open(&path, secret("correct horse")).unwrap();
        assert_eq!(opened.seed.as_bytes(), &[0x42; 32]);
        assert_eq!(opened.params, Argon2Params::TEST_ONLY_CHEAP);
        assert_eq!(
            opened.profile,
            Profile {
                server: "https://support.example".into(),
                username: "root".into(),
                pinned: DirectoryHead {
                    seq: 2,
                    hash: [0x5c; 32],
                },
            }
        );
        // Saved again, the file keeps its members and parameters.
        opened.save(&path, &mut system_rng()).unwrap();
        let file: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        assert_eq!(
            file["argon2"],
            serde_json::json!({"memory_kib": 256, "iterations": 1, "parallelism": 1})
        );
        assert_eq!(file["format"], FORMAT);
    }
}
