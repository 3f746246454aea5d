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

use serde::{Deserialize, Serialize};

use crate::Output;

/// A configuration value as stored in the file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ConfigValue {
    Plain(String),
    Secret { secret: String },
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct ConfigFile {
    #[serde(default)]
    config: BTreeMap<String, ConfigValue>,
}

/// A stack's configuration.
#[derive(Debug, Default)]
pub struct Config {
    path: Option<PathBuf>,
    values: BTreeMap<String, ConfigValue>,
    errors: RefCell<Vec<String>>,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {cause}")]
    Read { path: PathBuf, cause: String },
    #[error("cannot write config file {path}: {cause}")]
    Write { path: PathBuf, cause: String },
    #[error("config key '{0}' is not set")]
    NotSet(String),
    #[error("invalid config assignment '{0}': expected KEY=VALUE")]
    Assignment(String),
}

impl Config {
    /// Loads the file if it exists; a missing file is an empty configuration.
    pub fn load(path: impl AsRef<Path>) -> Result<Config, ConfigError> {
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
        Ok(Config {
            path: Some(path),
            values: file.config,
            errors: RefCell::default(),
        })
    }

    /// An in-memory configuration, for tests and embedding.
    pub fn from_pairs<K: Into<String>, V: Into<String>>(
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Config {
        Config {
            path: None,
            values: pairs
                .into_iter()
                .map(|(k, v)| (k.into(), ConfigValue::Plain(v.into())))
                .collect(),
            errors: RefCell::default(),
        }
    }

    pub fn save(&self) -> Result<(), ConfigError> {
        let Some(path) = &self.path else {
            return Ok(());
        };
        let text = toml::to_string(&ConfigFile {
            config: self.values.clone(),
        })
        .expect("config serialises");
        std::fs::write(path, text).map_err(|e| ConfigError::Write {
            path: path.clone(),
            cause: e.to_string(),
        })
    }

    pub fn set(&mut self, key: &str, value: &str, secret: bool) {
        let value = if secret {
            ConfigValue::Secret {
                secret: value.to_string(),
            }
        } else {
            ConfigValue::Plain(value.to_string())
        };
        self.values.insert(key.to_string(), value);
    }

    /// Applies `KEY=VALUE` from the command line.
    pub fn set_assignment(&mut self, assignment: &str) -> Result<(), ConfigError> {
        let (k, v) = assignment
            .split_once('=')
            .filter(|(k, _)| !k.is_empty())
            .ok_or_else(|| ConfigError::Assignment(assignment.to_string()))?;
        self.set(k, v, false);
        Ok(())
    }

    pub fn entries(&self) -> impl Iterator<Item = (&str, &ConfigValue)> {
        self.values.iter().map(|(k, v)| (k.as_str(), v))
    }

    pub fn raw(&self, key: &str) -> Option<&ConfigValue> {
        self.values.get(key)
    }

    fn error(&self, message: String) {
        self.errors.borrow_mut().push(message);
    }

    pub(crate) fn take_errors(&self) -> Vec<String> {
        std::mem::take(&mut self.errors.borrow_mut())
    }

    /// The value of `key` parsed as `T`, or `None` when unset. A value that does not parse is
    /// an error (reported before planning) naming the key, the value and the expected type.
    pub fn get<T>(&self, key: &str) -> Option<T>
    where
        T: FromStr,
        T::Err: Display,
    {
        match self.values.get(key)? {
            ConfigValue::Secret { .. } => {
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
        if !self.values.contains_key(key) {
            self.error(format!(
                "config key '{key}' is required: set it with `config set {key} VALUE`"
            ));
        }
        self.get(key).unwrap_or_default()
    }

    /// A secret value (set with `config set --secret`), as a secret output.
    pub fn get_secret(&self, key: &str) -> Option<Output<String>> {
        match self.values.get(key)? {
            ConfigValue::Secret { secret } | ConfigValue::Plain(secret) => {
                Some(Output::secret_value(secret.clone()))
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
    fn file_round_trip_keeps_secrets_marked() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("Cairn.dev.toml");
        let mut c = Config::load(&path).unwrap();
        c.set("aws:region", "us-east-2", false);
        c.set("dbPassword", "hunter2", true);
        c.save().unwrap();
        let c = Config::load(&path).unwrap();
        assert_eq!(c.get::<String>("aws:region").as_deref(), Some("us-east-2"));
        assert!(matches!(
            c.raw("dbPassword"),
            Some(ConfigValue::Secret { .. })
        ));
        assert!(c.get_secret("dbPassword").is_some());
    }
}
