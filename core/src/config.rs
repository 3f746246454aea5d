//! Per-stack configuration: `Cairn.<stack>.toml` beside the program, as Pulumi keeps
//! `Pulumi.<stack>.yaml`, so that it can be reviewed and committed.
//!
//! Programs read it through typed getters. A value that does not parse, or a required key that
//! is missing, is recorded as an error naming the key; the engine reports all of them after the
//! program has run and before anything is planned, so one run shows every mistake.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::fmt::Display;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use cairn_state::{CryptoError, Kdf, PASSPHRASE_VAR, SecretKey};
use serde::{Deserialize, Serialize};

use crate::Output;

/// A configuration value, as the program sees it.
#[derive(Clone, PartialEq)]
pub enum ConfigValue {
    /// A value stored in clear.
    Plain(String),
    /// A secret, decrypted (never printed by `Debug`).
    Secret(String),
    /// A secret whose ciphertext could not be opened because no passphrase was given.
    Locked,
}

impl std::fmt::Debug for ConfigValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ConfigValue::Plain(v) => f.debug_tuple("Plain").field(v).finish(),
            ConfigValue::Secret(_) => f.write_str("Secret([secret])"),
            ConfigValue::Locked => f.write_str("Locked"),
        }
    }
}

/// A value as the file holds it: secrets only ever as ciphertext.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(untagged)]
enum StoredValue {
    Plain(String),
    Secure { secure: String },
}

/// Where a sealed value belongs (its associated data): a ciphertext copied to another key of
/// the file does not open there.
fn sealed_at(key: &str) -> String {
    format!("config/{key}")
}

/// The salt of the key that seals the file's secrets, and a value sealed with it, so that a
/// wrong passphrase is told apart from a damaged file.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Encryption {
    salt: String,
    check: String,
    /// The key derivation's algorithm and costs ([`Kdf`]); absent in files written before
    /// they were recorded, which used Argon2's defaults.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    kdf: Option<String>,
}

impl Encryption {
    fn key(&self, passphrase: &str) -> Result<SecretKey, CryptoError> {
        let key = SecretKey::derive(passphrase, &self.salt, Kdf::decode(self.kdf.as_deref())?)?;
        key.verify(&self.check)?;
        Ok(key)
    }

    /// A new key for `passphrase` and what to store of it.
    fn create(passphrase: &str) -> Result<(Encryption, SecretKey), CryptoError> {
        let (key, salt, kdf) = SecretKey::create(passphrase)?;
        let enc = Encryption {
            salt,
            check: key.check_value(),
            kdf: Some(kdf.encode()),
        };
        Ok((enc, key))
    }
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct ConfigFile {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    encryption: Option<Encryption>,
    #[serde(default)]
    config: BTreeMap<String, StoredValue>,
}

/// A stack's configuration.
#[derive(Default)]
pub struct Config {
    path: Option<PathBuf>,
    values: BTreeMap<String, ConfigValue>,
    /// Ciphertext of secrets, kept so that saving without the passphrase loses nothing.
    sealed: BTreeMap<String, String>,
    encryption: Option<Encryption>,
    passphrase: Option<String>,
    key: Option<SecretKey>,
    errors: RefCell<Vec<String>>,
    /// Every key the program asked for, set or not: what a set key that nobody reads is
    /// compared against to catch a typo.
    asked: RefCell<std::collections::BTreeSet<String>>,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("path", &self.path)
            .field("values", &self.values)
            .finish_non_exhaustive()
    }
}

/// What can go wrong with a stack's configuration.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {cause}")]
    /// The file cannot be read or parsed.
    Read {
        /// The configuration file.
        path: PathBuf,
        /// Why.
        cause: String,
    },
    #[error("cannot write config file {path}: {cause}")]
    /// The file cannot be written.
    Write {
        /// The configuration file.
        path: PathBuf,
        /// Why.
        cause: String,
    },
    #[error("config file {path}: {cause}")]
    /// A secret of the file cannot be sealed or opened.
    Secrets {
        /// The configuration file.
        path: PathBuf,
        /// Why.
        cause: CryptoError,
    },
    /// A secret key was to be stored without a passphrase to seal it (the key).
    #[error("config key '{0}' is secret: set {PASSPHRASE_VAR} to store it encrypted")]
    SecretNeedsPassphrase(String),
    /// `config get` or `config rm` of a key that is not set (the key).
    #[error("config key '{0}' is not set")]
    NotSet(String),
    /// `-c` given something other than `KEY=VALUE` (what it was given).
    #[error("invalid config assignment '{0}': expected KEY=VALUE")]
    Assignment(String),
    #[error(
        "config key '{0}' is secret: a plain value would be written in clear to the config \
         file; use `config set --secret {0}`, or `config set --plaintext {0} VALUE` to store \
         it in clear on purpose"
    )]
    /// A plain value would be written over a secret key (the key).
    WouldExpose(String),
}

impl Config {
    /// Loads the file if it exists; a missing file is an empty configuration. Secrets stay
    /// locked (see [`Config::load_with`]).
    pub fn load(path: impl AsRef<Path>) -> Result<Config, ConfigError> {
        Config::load_with(path, None)
    }

    /// Loads the file, opening its secrets with `passphrase`. A wrong passphrase is an error;
    /// without one, secrets stay locked and a program that reads one gets an error naming it.
    pub fn load_with(
        path: impl AsRef<Path>,
        passphrase: Option<String>,
    ) -> Result<Config, ConfigError> {
        let path = path.as_ref().to_path_buf();
        let file: ConfigFile = match std::fs::read_to_string(&path) {
            Ok(text) => toml::from_str(&text).map_err(|e| ConfigError::Read {
                path: path.clone(),
                cause: e.to_string(),
            })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => ConfigFile::default(),
            Err(e) => {
                return Err(ConfigError::Read {
                    path,
                    cause: e.to_string(),
                });
            }
        };
        let secrets = |cause| ConfigError::Secrets {
            path: path.clone(),
            cause,
        };
        let has_secrets = file
            .config
            .values()
            .any(|v| matches!(v, StoredValue::Secure { .. }));
        let key = match (&file.encryption, &passphrase) {
            (Some(enc), Some(p)) => Some(enc.key(p).map_err(secrets)?),
            (None, _) if has_secrets => return Err(secrets(CryptoError::Damaged)),
            _ => None,
        };
        let mut values = BTreeMap::new();
        let mut sealed = BTreeMap::new();
        for (k, v) in file.config {
            let value = match v {
                StoredValue::Plain(v) => ConfigValue::Plain(v),
                StoredValue::Secure { secure } => {
                    let value = match &key {
                        Some(key) => {
                            let plain = key.open(&secure, &sealed_at(&k)).map_err(secrets)?;
                            let plain = String::from_utf8(plain)
                                .map_err(|_| secrets(CryptoError::Damaged))?;
                            crate::redact::remember_text(&plain);
                            ConfigValue::Secret(plain)
                        }
                        None => ConfigValue::Locked,
                    };
                    sealed.insert(k.clone(), secure);
                    value
                }
            };
            values.insert(k, value);
        }
        Ok(Config {
            path: Some(path),
            values,
            sealed,
            encryption: file.encryption,
            passphrase,
            key,
            ..Config::default()
        })
    }

    /// An in-memory configuration, for tests and embedding.
    pub fn from_pairs<K: Into<String>, V: Into<String>>(
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Config {
        Config {
            values: pairs
                .into_iter()
                .map(|(k, v)| (k.into(), ConfigValue::Plain(v.into())))
                .collect(),
            ..Config::default()
        }
    }

    /// Writes the file. Secrets are sealed; a secret set in this process needs the passphrase.
    pub fn save(&mut self) -> Result<(), ConfigError> {
        let Some(path) = self.path.clone() else {
            return Ok(());
        };
        if let Some(k) = self
            .values
            .iter()
            .find(|(_, v)| matches!(v, ConfigValue::Secret(_)))
            .map(|(k, _)| k.clone())
        {
            self.key_for_writing(&k, &path)?;
        }
        let mut config = BTreeMap::new();
        for (k, v) in &self.values {
            let stored = match v {
                ConfigValue::Plain(v) => StoredValue::Plain(v.clone()),
                ConfigValue::Locked => StoredValue::Secure {
                    secure: self.sealed[k].clone(),
                },
                ConfigValue::Secret(plain) => StoredValue::Secure {
                    secure: self
                        .key
                        .as_ref()
                        .expect("derived above")
                        .seal(plain.as_bytes(), &sealed_at(k)),
                },
            };
            config.insert(k.clone(), stored);
        }
        // Whole or not at all, so a crash mid-write never loses a sealed value; private when
        // it holds secrets.
        let secret = config
            .values()
            .any(|v| matches!(v, StoredValue::Secure { .. }));
        let text = toml::to_string(&ConfigFile {
            encryption: self.encryption.clone(),
            config,
        })
        .expect("config serialises");
        cairn_state::files::write_atomic(&path, text.as_bytes(), secret).map_err(|e| {
            ConfigError::Write {
                path,
                cause: e.to_string(),
            }
        })
    }

    /// The key that seals `key`'s value: the file's, or a new one for a file with no secrets.
    fn key_for_writing(&mut self, key: &str, path: &Path) -> Result<&SecretKey, ConfigError> {
        if self.key.is_none() {
            let passphrase = self
                .passphrase
                .as_ref()
                .ok_or_else(|| ConfigError::SecretNeedsPassphrase(key.to_string()))?;
            let secrets = |cause| ConfigError::Secrets {
                path: path.to_path_buf(),
                cause,
            };
            let (enc, k) = match &self.encryption {
                Some(enc) => (enc.clone(), enc.key(passphrase).map_err(secrets)?),
                None => Encryption::create(passphrase).map_err(secrets)?,
            };
            self.encryption = Some(enc);
            self.key = Some(k);
        }
        Ok(self.key.as_ref().expect("set above"))
    }

    /// Seals every secret again under `new_passphrase` (or the same one) with a fresh salt and
    /// the current key derivation costs, then saves: raises the costs of an older file, or
    /// changes its passphrase. Every secret must be open (the passphrase given). Returns how
    /// many secrets were sealed again.
    pub fn rekey(&mut self, new_passphrase: Option<String>) -> Result<usize, ConfigError> {
        let path = self.path.clone().unwrap_or_default();
        let secrets = |cause| ConfigError::Secrets {
            path: path.clone(),
            cause,
        };
        if let Some((k, _)) = self
            .values
            .iter()
            .find(|(_, v)| matches!(v, ConfigValue::Locked))
        {
            return Err(ConfigError::SecretNeedsPassphrase(k.clone()));
        }
        let passphrase = new_passphrase
            .or_else(|| self.passphrase.clone())
            .ok_or_else(|| ConfigError::SecretNeedsPassphrase("(any)".into()))?;
        let (enc, key) = Encryption::create(&passphrase).map_err(secrets)?;
        self.encryption = Some(enc);
        self.key = Some(key);
        self.passphrase = Some(passphrase);
        self.sealed.clear();
        self.save()?;
        Ok(self
            .values
            .values()
            .filter(|v| matches!(v, ConfigValue::Secret(_)))
            .count())
    }

    /// The costs the file's key was derived with, if it has one.
    pub fn kdf(&self) -> Option<Kdf> {
        self.encryption
            .as_ref()
            .and_then(|e| Kdf::decode(e.kdf.as_deref()).ok())
    }

    /// Sets `key`, sealed when `secret` (once written) and remembered for redaction.
    pub fn set(&mut self, key: &str, value: &str, secret: bool) {
        let value = if secret {
            crate::redact::remember_text(value);
            ConfigValue::Secret(value.to_string())
        } else {
            ConfigValue::Plain(value.to_string())
        };
        self.sealed.remove(key);
        self.values.insert(key.to_string(), value);
    }

    /// Applies `KEY=VALUE` from the command line.
    pub fn set_assignment(&mut self, assignment: &str) -> Result<(), ConfigError> {
        let (k, v) = assignment
            .split_once('=')
            .filter(|(k, _)| !k.is_empty())
            .ok_or_else(|| ConfigError::Assignment(assignment.to_string()))?;
        self.refuse_exposing(k)?;
        self.set(k, v, false);
        Ok(())
    }

    /// Refuses to replace a secret with a plain value, which would write it in clear to a file
    /// that is meant to be committed; `config set --plaintext` asks for it explicitly.
    pub fn refuse_exposing(&self, key: &str) -> Result<(), ConfigError> {
        match self.values.get(key) {
            Some(ConfigValue::Secret(_) | ConfigValue::Locked) => {
                Err(ConfigError::WouldExpose(key.to_string()))
            }
            _ => Ok(()),
        }
    }

    /// Every key and its value, in key order.
    pub fn entries(&self) -> impl Iterator<Item = (&str, &ConfigValue)> {
        self.values.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// The value of `key` as stored, plain or secret, without marking it read.
    pub fn raw(&self, key: &str) -> Option<&ConfigValue> {
        self.values.get(key)
    }

    fn error(&self, message: String) {
        self.errors.borrow_mut().push(message);
    }

    pub(crate) fn take_errors(&self) -> Vec<String> {
        std::mem::take(&mut self.errors.borrow_mut())
    }

    /// After the program has run: keys that are set but that it never asked for. One that
    /// looks like a key it did ask for is a mistake (an error naming both); any other is
    /// reported as a warning, since a program may read some keys only in some configurations.
    pub(crate) fn unread(&self) -> (Vec<String>, Vec<String>) {
        let asked = self.asked.borrow();
        let (mut errors, mut warnings) = (Vec::new(), Vec::new());
        for key in self.values.keys().filter(|k| !asked.contains(*k)) {
            let similar = asked
                .iter()
                .find(|a| a.eq_ignore_ascii_case(key) || strsim::damerau_levenshtein(a, key) <= 2);
            match similar {
                Some(meant) => errors.push(format!(
                    "config key '{key}' is set but the program does not read it: did you mean \
                     '{meant}'? (fix it with `config rm {key}` and `config set {meant} ...`)"
                )),
                None => warnings.push(format!(
                    "config key '{key}' is set but the program does not read it"
                )),
            }
        }
        (errors, warnings)
    }

    /// Removes a key; whether it was set.
    pub fn remove(&mut self, key: &str) -> bool {
        self.sealed.remove(key);
        self.values.remove(key).is_some()
    }

    /// The value of `key` parsed as `T`, or `None` when unset. A value that does not parse is
    /// an error (reported before planning) naming the key, the value and the expected type.
    pub fn get<T>(&self, key: &str) -> Option<T>
    where
        T: FromStr,
        T::Err: Display,
    {
        self.asked.borrow_mut().insert(key.to_string());
        match self.values.get(key)? {
            ConfigValue::Secret(_) | ConfigValue::Locked => {
                self.error(format!(
                    "config key '{key}' is secret: read it with `get_secret`, which keeps it secret"
                ));
                None
            }
            ConfigValue::Plain(raw) => match raw.parse() {
                Ok(v) => Some(v),
                Err(e) => {
                    self.error(format!(
                        "config key '{key}': '{raw}' is not a valid {}: {e}",
                        short_type_name::<T>()
                    ));
                    None
                }
            },
        }
    }

    /// The value of `key`, or `default` when unset.
    pub fn get_or<T>(&self, key: &str, default: T) -> T
    where
        T: FromStr,
        T::Err: Display,
    {
        self.get(key).unwrap_or(default)
    }

    /// The value of `key`; when it is unset, an error naming the key is reported before
    /// planning (and `T::default()` stands in so the program can finish declaring).
    pub fn require<T>(&self, key: &str) -> T
    where
        T: FromStr + Default,
        T::Err: Display,
    {
        self.asked.borrow_mut().insert(key.to_string());
        if !self.values.contains_key(key) {
            self.error(format!(
                "config key '{key}' is required: set it with `config set {key} VALUE`"
            ));
        }
        self.get(key).unwrap_or_default()
    }

    /// A secret value (set with `config set --secret`), as a secret output.
    pub fn get_secret(&self, key: &str) -> Option<Output<String>> {
        self.asked.borrow_mut().insert(key.to_string());
        match self.values.get(key)? {
            ConfigValue::Secret(secret) | ConfigValue::Plain(secret) => {
                Some(Output::secret_value(secret.clone()))
            }
            ConfigValue::Locked => {
                self.error(format!(
                    "config key '{key}' is secret and cannot be opened: set {PASSPHRASE_VAR}"
                ));
                None
            }
        }
    }
}

fn short_type_name<T>() -> &'static str {
    let full = std::any::type_name::<T>();
    full.rsplit("::").next().unwrap_or(full)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_getters_report_bad_values_by_key() {
        let c = Config::from_pairs([("enableSsm", "yes"), ("count", "3")]);
        assert_eq!(c.get::<u32>("count"), Some(3));
        assert_eq!(c.get::<bool>("enableSsm"), None);
        assert_eq!(c.get_or("missing", 7), 7);
        let _: String = c.require("roleArn");
        let errors = c.take_errors();
        assert_eq!(errors.len(), 2, "{errors:?}");
        assert!(errors[0].contains("'enableSsm'") && errors[0].contains("bool"));
        assert!(errors[1].contains("'roleArn'") && errors[1].contains("required"));
    }

    #[test]
    fn a_set_key_the_program_never_reads_is_caught_when_it_looks_like_one_it_does() {
        let c = Config::from_pairs([("desiredcount", "3"), ("ssmAmiId", "ami-1")]);
        assert_eq!(c.get_or("desiredCount", 2), 2);
        let (errors, warnings) = c.unread();
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(errors[0].contains("'desiredcount'") && errors[0].contains("'desiredCount'"));
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(warnings[0].contains("'ssmAmiId'"));
    }

    #[test]
    fn file_round_trip_keeps_secrets_marked() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("Cairn.dev.toml");
        let pass = || Some("correct horse".to_string());
        let mut c = Config::load_with(&path, pass()).unwrap();
        c.set("aws:region", "us-east-2", false);
        c.set("dbPassword", "hunter2", true);
        c.save().unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(!text.contains("hunter2"), "{text}");

        let c = Config::load_with(&path, pass()).unwrap();
        assert_eq!(c.get::<String>("aws:region").as_deref(), Some("us-east-2"));
        assert_eq!(
            c.raw("dbPassword"),
            Some(&ConfigValue::Secret("hunter2".into()))
        );
        assert!(c.get_secret("dbPassword").is_some());

        // Without the passphrase the secret stays locked, and saving keeps its ciphertext.
        let mut c = Config::load(&path).unwrap();
        assert_eq!(c.raw("dbPassword"), Some(&ConfigValue::Locked));
        assert!(c.get_secret("dbPassword").is_none());
        assert!(c.take_errors()[0].contains("CAIRN_PASSPHRASE"));
        c.set("imageTag", "v2", false);
        c.save().unwrap();
        let c = Config::load_with(&path, pass()).unwrap();
        assert_eq!(
            c.raw("dbPassword"),
            Some(&ConfigValue::Secret("hunter2".into()))
        );

        // A wrong passphrase is an error, not garbage; so is setting a secret without one.
        let err = Config::load_with(&path, Some("battery staple".into())).unwrap_err();
        assert!(err.to_string().contains("passphrase is wrong"), "{err}");
        let mut c = Config::load(&path).unwrap();
        c.set("token", "s3cr3t", true);
        assert!(matches!(c.save(), Err(ConfigError::SecretNeedsPassphrase(k)) if k == "token"));
    }

    #[test]
    fn a_file_from_before_the_costs_were_recorded_opens_and_a_rekey_raises_them() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("Cairn.dev.toml");
        // As files were written before: Argon2's defaults, no `kdf` beside the salt.
        let salt = SecretKey::new_salt();
        let old = SecretKey::derive("correct horse", &salt, Kdf::LEGACY).unwrap();
        let text = format!(
            "[encryption]\nsalt = \"{salt}\"\ncheck = \"{}\"\n\n[config]\ndbPassword = {{ secure = \"{}\" }}\n",
            old.check_value(),
            old.seal(b"hunter2", &sealed_at("dbPassword"))
        );
        std::fs::write(&path, text).unwrap();
        let mut c = Config::load_with(&path, Some("correct horse".into())).unwrap();
        assert_eq!(c.kdf(), Some(Kdf::LEGACY));
        assert_eq!(
            c.raw("dbPassword"),
            Some(&ConfigValue::Secret("hunter2".into()))
        );

        assert_eq!(c.rekey(Some("a new passphrase".into())).unwrap(), 1);
        let err = Config::load_with(&path, Some("correct horse".into())).unwrap_err();
        assert!(err.to_string().contains("passphrase is wrong"), "{err}");
        let c = Config::load_with(&path, Some("a new passphrase".into())).unwrap();
        assert_eq!(c.kdf(), Some(Kdf::CURRENT));
        assert_eq!(
            c.raw("dbPassword"),
            Some(&ConfigValue::Secret("hunter2".into()))
        );
        // A sealed value moved to another key does not open there.
        let text = std::fs::read_to_string(&path).unwrap();
        let moved = text.replace("dbPassword", "dbUser");
        assert_ne!(moved, text);
        std::fs::write(&path, moved).unwrap();
        let err = Config::load_with(&path, Some("a new passphrase".into())).unwrap_err();
        assert!(err.to_string().contains("damaged"), "{err}");
        std::fs::write(&path, text).unwrap();
        // Without the passphrase the secrets cannot be sealed again.
        let err = Config::load(&path).unwrap().rekey(None).unwrap_err();
        assert!(
            matches!(err, ConfigError::SecretNeedsPassphrase(_)),
            "{err}"
        );
    }
}
