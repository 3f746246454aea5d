//! Secret values at rest in the state database.
//!
//! The engine marks a secret value as `{"@secret": value}` in the JSON it hands the store. The
//! store never writes that form: on the way in each marked value becomes
//! `{"@encrypted": "<nonce+ciphertext, base64>"}`, sealed with a key derived from the stack
//! passphrase, and on the way out it is opened again. The database keeps the key's salt and a
//! check value (table `encryption`), so a wrong passphrase is reported as such.

use std::sync::{Mutex, OnceLock};

use rusqlite::{Connection, OptionalExtension, params};
use serde_json::{Map, Value};

use crate::crypto::{CryptoError, SecretKey};
use crate::error::StateError;

/// The engine's marker of a plaintext secret.
pub const SECRET_MARKER: &str = "@secret";
/// The stored form of a secret.
const ENCRYPTED_MARKER: &str = "@encrypted";

/// The passphrase given to the store, and the key once derived (derivation is deliberately
/// slow, so it happens at most once per process).
#[derive(Default)]
pub(crate) struct Sealer {
    passphrase: Mutex<Option<String>>,
    key: OnceLock<SecretKey>,
}

fn single<'v>(v: &'v Value, marker: &str) -> Option<&'v Value> {
    match v.as_object() {
        Some(o) if o.len() == 1 => o.get(marker),
        _ => None,
    }
}

fn contains(v: &Value, marker: &str) -> bool {
    match v {
        Value::Object(o) => o.contains_key(marker) || o.values().any(|v| contains(v, marker)),
        Value::Array(a) => a.iter().any(|v| contains(v, marker)),
        _ => false,
    }
}

/// Rewrites every value marked with `from`, through `f`.
fn rewrite(
    v: &Value,
    from: &str,
    f: &dyn Fn(&Value) -> Result<Value, CryptoError>,
) -> Result<Value, CryptoError> {
    if let Some(inner) = single(v, from) {
        return f(inner);
    }
    Ok(match v {
        Value::Object(o) => Value::Object(
            o.iter()
                .map(|(k, v)| Ok((k.clone(), rewrite(v, from, f)?)))
                .collect::<Result<Map<_, _>, CryptoError>>()?,
        ),
        Value::Array(a) => Value::Array(
            a.iter()
                .map(|v| rewrite(v, from, f))
                .collect::<Result<_, _>>()?,
        ),
        other => other.clone(),
    })
}

impl Sealer {
    pub(crate) fn set_passphrase(&self, passphrase: Option<String>) {
        *self.passphrase.lock().unwrap_or_else(|e| e.into_inner()) = passphrase;
    }

    pub(crate) fn has_passphrase(&self) -> bool {
        self.key.get().is_some()
            || self
                .passphrase
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .is_some()
    }

    /// The key, derived on first use. With `create`, a database that holds no secrets yet gets
    /// a fresh salt; otherwise the stored check value must open.
    pub(crate) fn key(&self, conn: &Connection, create: bool) -> Result<&SecretKey, StateError> {
        if let Some(k) = self.key.get() {
            return Ok(k);
        }
        let passphrase = self
            .passphrase
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
            .ok_or(CryptoError::PassphraseRequired)?;
        let stored: Option<(String, String)> = conn
            .query_row(
                "SELECT salt, check_value FROM encryption WHERE id = 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        let key = match stored {
            Some((salt, check)) => {
                let key = SecretKey::derive(&passphrase, &salt)?;
                key.verify(&check)?;
                key
            }
            None if create => {
                let salt = SecretKey::new_salt();
                let key = SecretKey::derive(&passphrase, &salt)?;
                conn.execute(
                    "INSERT INTO encryption(id, salt, check_value) VALUES (1, ?1, ?2)",
                    params![salt, key.check_value()],
                )?;
                key
            }
            None => return Err(CryptoError::PassphraseRequired.into()),
        };
        Ok(self.key.get_or_init(|| key))
    }

    /// Checks a given passphrase against the database at once, so that a wrong one is an
    /// error before anything else happens rather than when the first secret is read.
    pub(crate) fn verify(&self, conn: &Connection) -> Result<(), StateError> {
        let has_salt: bool =
            conn.query_row("SELECT EXISTS(SELECT 1 FROM encryption)", [], |r| r.get(0))?;
        if has_salt && self.has_passphrase() {
            self.key(conn, false)?;
        }
        Ok(())
    }

    /// The stored text of `v`: secrets sealed.
    pub(crate) fn seal(&self, conn: &Connection, v: &Value) -> Result<String, StateError> {
        if !contains(v, SECRET_MARKER) {
            return Ok(v.to_string());
        }
        let key = self.key(conn, true)?;
        let sealed = rewrite(v, SECRET_MARKER, &|inner| {
            let mut o = Map::new();
            o.insert(
                ENCRYPTED_MARKER.into(),
                Value::String(key.seal(inner.to_string().as_bytes())),
            );
            Ok(Value::Object(o))
        })?;
        Ok(sealed.to_string())
    }

    /// `v` as read from the database, with its secrets opened.
    pub(crate) fn open(&self, conn: &Connection, v: Value) -> Result<Value, StateError> {
        if !contains(&v, ENCRYPTED_MARKER) {
            return Ok(v);
        }
        let key = self.key(conn, false)?;
        Ok(rewrite(&v, ENCRYPTED_MARKER, &|inner| {
            let sealed = inner.as_str().ok_or(CryptoError::Damaged)?;
            let plain = key.open(sealed)?;
            let value: Value = serde_json::from_slice(&plain).map_err(|_| CryptoError::Damaged)?;
            let mut o = Map::new();
            o.insert(SECRET_MARKER.into(), value);
            Ok(Value::Object(o))
        })?)
    }
}
