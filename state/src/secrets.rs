//! Secret values at rest in the state database.
//!
//! The engine marks a secret value as `{"@secret": value}` in the JSON it hands the store. The
//! store never writes that form: on the way in each marked value becomes
//! `{"@encrypted": "<nonce+ciphertext, base64>"}`, sealed with a key derived from the stack
//! passphrase, and on the way out it is opened again. The database keeps the key's salt and a
//! check value (table `encryption`), so a wrong passphrase is reported as such.

use std::sync::Mutex;

use rusqlite::{Connection, OptionalExtension, params};
use serde_json::{Map, Value};

use crate::crypto::{CryptoError, Kdf, SecretKey};
use crate::error::StateError;

/// The engine's marker of a plaintext secret.
pub const SECRET_MARKER: &str = "@secret";
/// The stored form of a secret.
const ENCRYPTED_MARKER: &str = "@encrypted";

/// The passphrase given to the store, and the key once derived (derivation is deliberately
/// slow, so it happens at most once per process, or again after a rekey).
#[derive(Default)]
pub(crate) struct Sealer {
    passphrase: Mutex<Option<zeroize::Zeroizing<String>>>,
    key: Mutex<Option<SecretKey>>,
}

/// The columns that hold sealed values: (table, column); each row's `name` says whose.
const SEALED_COLUMNS: &[(&str, &str)] = &[
    ("resources", "inputs"),
    ("resources", "outputs"),
    ("pending_operations", "inputs"),
    ("outputs", "value"),
];

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

/// Rewrites every value marked with `from`, through `f`, which is given the value and where
/// it is (`context#path`: the record, then the path inside it, as associated data).
fn rewrite(
    v: &Value,
    from: &str,
    at: &str,
    f: &dyn Fn(&Value, &str) -> Result<Value, CryptoError>,
) -> Result<Value, CryptoError> {
    if let Some(inner) = single(v, from) {
        return f(inner, at);
    }
    Ok(match v {
        Value::Object(o) => Value::Object(
            o.iter()
                .map(|(k, v)| Ok((k.clone(), rewrite(v, from, &format!("{at}/{k}"), f)?)))
                .collect::<Result<Map<_, _>, CryptoError>>()?,
        ),
        Value::Array(a) => Value::Array(
            a.iter()
                .enumerate()
                .map(|(i, v)| rewrite(v, from, &format!("{at}/{i}"), f))
                .collect::<Result<_, _>>()?,
        ),
        other => other.clone(),
    })
}

/// The stored text `text` (at `context`) with its sealed values opened with `from` and sealed
/// again with `to`.
pub(crate) fn reseal_text(
    text: &str,
    context: &str,
    from: &SecretKey,
    to: &SecretKey,
) -> Result<String, StateError> {
    if !text.contains(ENCRYPTED_MARKER) {
        return Ok(text.to_string());
    }
    let v: Value = serde_json::from_str(text).map_err(|_| CryptoError::Damaged)?;
    let resealed = rewrite(&v, ENCRYPTED_MARKER, context, &|inner, at| {
        let sealed = inner.as_str().ok_or(CryptoError::Damaged)?;
        let plain = zeroize::Zeroizing::new(from.open(sealed, at)?);
        let mut o = Map::new();
        o.insert(ENCRYPTED_MARKER.into(), Value::String(to.seal(&plain, at)));
        Ok(Value::Object(o))
    })?;
    Ok(resealed.to_string())
}

/// Where a sealed value belongs, named by the row that holds it (its table, its name and the
/// column): with the path inside the value, the associated data of each ciphertext.
pub(crate) fn context(table: &str, name: &str, column: &str) -> String {
    format!("{table}/{name}/{column}#")
}

impl Sealer {
    pub(crate) fn set_passphrase(&self, passphrase: Option<String>) {
        *self.passphrase.lock().unwrap_or_else(|e| e.into_inner()) =
            passphrase.map(zeroize::Zeroizing::new);
    }

    pub(crate) fn has_passphrase(&self) -> bool {
        self.cached().is_some()
            || self
                .passphrase
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .is_some()
    }

    /// The passphrase given, if any.
    pub(crate) fn passphrase(&self) -> Option<zeroize::Zeroizing<String>> {
        self.passphrase
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    fn cached(&self) -> Option<SecretKey> {
        self.key.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Seals every secret again under a new key (`new_passphrase`, or the same one) derived
    /// with the current parameters, in one transaction, and returns how many values it
    /// rewrote. Raises the costs of a key made with older ones, or changes the passphrase.
    pub(crate) fn rekey(
        &self,
        conn: &mut Connection,
        new_passphrase: Option<String>,
    ) -> Result<usize, StateError> {
        let old = self.key(conn, false)?;
        let passphrase = match new_passphrase {
            Some(p) => zeroize::Zeroizing::new(p),
            None => self
                .passphrase
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clone()
                .ok_or(CryptoError::PassphraseRequired)?,
        };
        let (new, salt, kdf) = SecretKey::create(&passphrase)?;
        let tx = conn.transaction()?;
        let mut rewritten = 0;
        for (table, column) in SEALED_COLUMNS {
            let rows: Vec<(i64, String, String)> = tx
                .prepare(&format!(
                    "SELECT rowid, name, {column} FROM {table} \
                     WHERE {column} LIKE '%{ENCRYPTED_MARKER}%'"
                ))?
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
                .collect::<Result<_, _>>()?;
            for (rowid, name, text) in rows {
                let v: Value = serde_json::from_str(&text).map_err(|_| CryptoError::Damaged)?;
                let at = context(table, &name, column);
                let resealed = rewrite(&v, ENCRYPTED_MARKER, &at, &|inner, at| {
                    let sealed = inner.as_str().ok_or(CryptoError::Damaged)?;
                    let plain = zeroize::Zeroizing::new(old.open(sealed, at)?);
                    let mut o = Map::new();
                    o.insert(ENCRYPTED_MARKER.into(), Value::String(new.seal(&plain, at)));
                    Ok(Value::Object(o))
                })?;
                tx.execute(
                    &format!("UPDATE {table} SET {column} = ?1 WHERE rowid = ?2"),
                    params![resealed.to_string(), rowid],
                )?;
                rewritten += 1;
            }
        }
        tx.execute(
            "UPDATE encryption SET salt = ?1, check_value = ?2, kdf = ?3 WHERE id = 1",
            params![salt, new.check_value(), kdf.encode()],
        )?;
        tx.commit()?;
        *self.key.lock().unwrap_or_else(|e| e.into_inner()) = Some(new);
        *self.passphrase.lock().unwrap_or_else(|e| e.into_inner()) = Some(passphrase);
        Ok(rewritten)
    }

    /// The key derivation's parameters the database's key was made with, if it has one.
    pub(crate) fn kdf(&self, conn: &Connection) -> Result<Option<Kdf>, StateError> {
        let stored: Option<Option<String>> = conn
            .query_row("SELECT kdf FROM encryption WHERE id = 1", [], |r| r.get(0))
            .optional()?;
        Ok(match stored {
            Some(kdf) => Some(Kdf::decode(kdf.as_deref())?),
            None => None,
        })
    }

    /// The key, derived on first use. With `create`, a database that holds no secrets yet gets
    /// a fresh salt; otherwise the stored check value must open.
    pub(crate) fn key(&self, conn: &Connection, create: bool) -> Result<SecretKey, StateError> {
        if let Some(k) = self.cached() {
            return Ok(k);
        }
        let passphrase = self
            .passphrase
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
            .ok_or(CryptoError::PassphraseRequired)?;
        let stored: Option<(String, String, Option<String>)> = conn
            .query_row(
                "SELECT salt, check_value, kdf FROM encryption WHERE id = 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?;
        let key = match stored {
            Some((salt, check, kdf)) => {
                let key = SecretKey::derive(&passphrase, &salt, Kdf::decode(kdf.as_deref())?)?;
                key.verify(&check)?;
                key
            }
            None if create => {
                let (key, salt, kdf) = SecretKey::create(&passphrase)?;
                conn.execute(
                    "INSERT INTO encryption(id, salt, check_value, kdf) VALUES (1, ?1, ?2, ?3)",
                    params![salt, key.check_value(), kdf.encode()],
                )?;
                key
            }
            None => return Err(CryptoError::PassphraseRequired.into()),
        };
        *self.key.lock().unwrap_or_else(|e| e.into_inner()) = Some(key.clone());
        Ok(key)
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

    /// Whether secrets can be sealed now: the database's key opened by the passphrase given,
    /// or, in a database without one yet, a passphrase given that a key can be made from.
    pub(crate) fn can_seal(&self, conn: &Connection) -> Result<(), StateError> {
        let has_salt: bool =
            conn.query_row("SELECT EXISTS(SELECT 1 FROM encryption)", [], |r| r.get(0))?;
        let passphrase = self.passphrase().ok_or(CryptoError::PassphraseRequired)?;
        if has_salt {
            // `verify` opened it when the passphrase was given.
            return Ok(());
        }
        if passphrase.is_empty() {
            return Err(CryptoError::EmptyPassphrase.into());
        }
        if passphrase.chars().count() < crate::MIN_PASSPHRASE_LEN {
            return Err(CryptoError::ShortPassphrase.into());
        }
        Ok(())
    }

    /// The stored text of `v`, which belongs at `context` ([`context`]): secrets sealed.
    pub(crate) fn seal(
        &self,
        conn: &Connection,
        v: &Value,
        context: &str,
    ) -> Result<String, StateError> {
        if !contains(v, SECRET_MARKER) {
            return Ok(v.to_string());
        }
        let key = self.key(conn, true)?;
        let sealed = rewrite(v, SECRET_MARKER, context, &|inner, at| {
            let plain = zeroize::Zeroizing::new(inner.to_string());
            let mut o = Map::new();
            o.insert(
                ENCRYPTED_MARKER.into(),
                Value::String(key.seal(plain.as_bytes(), at)),
            );
            Ok(Value::Object(o))
        })?;
        Ok(sealed.to_string())
    }

    /// `v` as read from the database at `context`, with its secrets opened.
    pub(crate) fn open(
        &self,
        conn: &Connection,
        v: Value,
        context: &str,
    ) -> Result<Value, StateError> {
        if !contains(&v, ENCRYPTED_MARKER) {
            return Ok(v);
        }
        let key = self.key(conn, false)?;
        Ok(rewrite(&v, ENCRYPTED_MARKER, context, &|inner, at| {
            let sealed = inner.as_str().ok_or(CryptoError::Damaged)?;
            let plain = key.open(sealed, at)?;
            let value: Value = serde_json::from_slice(&plain).map_err(|_| CryptoError::Damaged)?;
            let mut o = Map::new();
            o.insert(SECRET_MARKER.into(), value);
            Ok(Value::Object(o))
        })?)
    }
}
