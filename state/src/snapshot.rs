//! One stack as a self-contained document: every row of its resources, interrupted operations,
//! history and outputs, with the salt, costs and check value of the key that sealed its
//! secrets. Secrets stay sealed: exporting never opens one. What `state export` writes and
//! `state import` reads, to move a stack between state files (and, later, backends).

use rusqlite::types::ValueRef;
use rusqlite::{Connection, OptionalExtension, params_from_iter};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::crypto::{CryptoError, Kdf, SecretKey};
use crate::error::StateError;
use crate::secrets::{self, Sealer};

/// What a snapshot says it is, so that another file is refused rather than misread.
const FORMAT: &str = "cairn-stack";
const VERSION: u32 = 1;

/// The tables a stack's rows live in, each with its own key column and the columns that point
/// at another table's keys (renumbered on import, since keys are shared by every stack).
struct Table {
    name: &'static str,
    key: &'static str,
}

const TABLES: &[Table] = &[
    Table {
        name: "updates",
        key: "id",
    },
    Table {
        name: "resources",
        key: "seq",
    },
    Table {
        name: "pending_operations",
        key: "seq",
    },
    Table {
        name: "outputs",
        key: "",
    },
];

/// The key that sealed a stack's secrets, as the database stores it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SealingKey {
    /// The key derivation's salt.
    pub salt: String,
    /// What the key must seal a known text to (a wrong passphrase does not).
    pub check: String,
    /// The key derivation's parameters (`Kdf::encode`), absent for the oldest keys.
    pub kdf: Option<String>,
}

/// A stack, whole.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StackSnapshot {
    /// `cairn-stack`, what the file is.
    pub format: String,
    /// The format's version.
    pub version: u32,
    /// The stack's name.
    pub stack: String,
    /// When it was written (RFC 3339).
    pub created_at: String,
    /// The stack's serial ([`crate::StackVersion`]); 0 in files from before it was kept.
    #[serde(default)]
    pub serial: i64,
    /// The key the stack's secrets are sealed with, if it holds any.
    pub encryption: Option<SealingKey>,
    /// Table name → its rows of this stack, each column by name, sealed values as stored.
    pub tables: Map<String, Value>,
}

/// The rows `sql` selects, each column by name, values as stored.
pub(crate) fn rows(
    conn: &Connection,
    sql: &str,
    params: &[&dyn rusqlite::ToSql],
) -> rusqlite::Result<Vec<Map<String, Value>>> {
    let mut st = conn.prepare_cached(sql)?;
    let columns: Vec<String> = st.column_names().map(str::to_string).collect();
    st.query_map(params, |r| {
        let mut row = Map::new();
        for (i, c) in columns.iter().enumerate() {
            row.insert(c.clone(), json_of(r.get_ref(i)?));
        }
        Ok(row)
    })?
    .collect()
}

fn json_of(v: ValueRef<'_>) -> Value {
    match v {
        ValueRef::Null => Value::Null,
        ValueRef::Integer(i) => Value::from(i),
        ValueRef::Real(f) => Value::from(f),
        ValueRef::Text(t) => Value::String(String::from_utf8_lossy(t).into_owned()),
        ValueRef::Blob(b) => Value::String(String::from_utf8_lossy(b).into_owned()),
    }
}

pub(crate) fn sql_of(v: &Value) -> rusqlite::types::Value {
    use rusqlite::types::Value as Sql;
    match v {
        Value::Null => Sql::Null,
        Value::Bool(b) => Sql::Integer(*b as i64),
        Value::Number(n) => n
            .as_i64()
            .map(Sql::Integer)
            .unwrap_or_else(|| Sql::Real(n.as_f64().unwrap_or_default())),
        Value::String(s) => Sql::Text(s.clone()),
        other => Sql::Text(other.to_string()),
    }
}

pub(crate) fn sealing_key(conn: &Connection) -> Result<Option<SealingKey>, StateError> {
    Ok(conn
        .query_row(
            "SELECT salt, check_value, kdf FROM encryption WHERE id = 1",
            [],
            |r| {
                Ok(SealingKey {
                    salt: r.get(0)?,
                    check: r.get(1)?,
                    kdf: r.get(2)?,
                })
            },
        )
        .optional()?)
}

/// The stack's rows, read in one transaction (so a run writing meanwhile is seen whole or not
/// at all), or `None` if the database has no such stack.
pub(crate) fn export(
    conn: &mut Connection,
    stack: &str,
) -> Result<Option<StackSnapshot>, StateError> {
    let conn = conn.transaction()?;
    let Some((created_at, serial)) = conn
        .query_row(
            "SELECT created_at, serial FROM stacks WHERE name = ?1",
            [stack],
            |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)),
        )
        .optional()?
    else {
        return Ok(None);
    };
    let mut tables = Map::new();
    for t in TABLES {
        let order = if t.key.is_empty() { "name" } else { t.key };
        let rows = rows(
            &conn,
            &format!("SELECT * FROM {} WHERE stack = ?1 ORDER BY {order}", t.name),
            &[&stack],
        )?
        .into_iter()
        .map(Value::Object)
        .collect();
        tables.insert(t.name.to_string(), Value::Array(rows));
    }
    Ok(Some(StackSnapshot {
        format: FORMAT.into(),
        version: VERSION,
        stack: stack.to_string(),
        created_at,
        serial,
        encryption: sealing_key(&conn)?,
        tables,
    }))
}

fn check_format(snapshot: &StackSnapshot) -> Result<(), StateError> {
    if snapshot.format != FORMAT || snapshot.version != VERSION {
        return Err(StateError::Snapshot(format!(
            "not a stack snapshot this version reads (format '{}', version {})",
            snapshot.format, snapshot.version
        )));
    }
    Ok(())
}

/// Makes the database's copy of the snapshot's stack exactly the snapshot, keys, sealing key
/// and all (inside the caller's transaction): what a working copy of a stack kept elsewhere
/// starts from. Whatever the database held of that stack is replaced.
pub(crate) fn restore(conn: &Connection, snapshot: &StackSnapshot) -> Result<(), StateError> {
    check_format(snapshot)?;
    let stack = &snapshot.stack;
    clear(conn, stack)?;
    if let Some(key) = &snapshot.encryption {
        conn.execute(
            "INSERT INTO encryption(id, salt, check_value, kdf) VALUES (1, ?1, ?2, ?3)",
            rusqlite::params![key.salt, key.check, key.kdf],
        )?;
    }
    conn.execute(
        "INSERT INTO stacks(name, created_at, serial) VALUES (?1, ?2, ?3)",
        rusqlite::params![stack, snapshot.created_at, snapshot.serial],
    )?;
    for t in TABLES {
        for row in snapshot
            .tables
            .get(t.name)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let Value::Object(row) = row else {
                return Err(StateError::Snapshot(format!(
                    "a row of {} is not an object",
                    t.name
                )));
            };
            insert(conn, t.name, row)?;
        }
    }
    Ok(())
}

/// Removes every row of `stack`, and the sealing key: a working copy about to be refilled.
pub(crate) fn clear(conn: &Connection, stack: &str) -> Result<(), StateError> {
    for table in [
        "pending_operations",
        "outputs",
        "resources",
        "updates",
        "locks",
        "stacks",
    ] {
        let column = if table == "stacks" { "name" } else { "stack" };
        conn.execute(&format!("DELETE FROM {table} WHERE {column} = ?1"), [stack])?;
    }
    conn.execute("DELETE FROM encryption", [])?;
    Ok(())
}

fn insert(conn: &Connection, table: &str, row: &Map<String, Value>) -> rusqlite::Result<()> {
    let columns: Vec<&str> = row.keys().map(String::as_str).collect();
    let sql = format!(
        "INSERT INTO {table}({}) VALUES ({})",
        columns.join(", "),
        (1..=columns.len())
            .map(|i| format!("?{i}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    conn.execute(&sql, params_from_iter(row.values().map(sql_of)))?;
    Ok(())
}

/// Adds the snapshot's stack to the database, in one transaction: refused if the database
/// already has a stack of that name. Sealed values made with another key than the database's
/// are opened with the snapshot's key (from the passphrase the store was given) and sealed
/// again with the database's.
pub(crate) fn import(
    conn: &mut Connection,
    sealer: &Sealer,
    snapshot: &StackSnapshot,
) -> Result<usize, StateError> {
    check_format(snapshot)?;
    let stack = &snapshot.stack;
    // A stack row with nothing in it (made by taking the lock to import) has nothing to lose.
    let exists: bool = conn.query_row(
        "SELECT EXISTS(SELECT 1 FROM updates WHERE stack = ?1)
             OR EXISTS(SELECT 1 FROM resources WHERE stack = ?1)
             OR EXISTS(SELECT 1 FROM pending_operations WHERE stack = ?1)
             OR EXISTS(SELECT 1 FROM outputs WHERE stack = ?1)",
        [stack],
        |r| r.get(0),
    )?;
    if exists {
        return Err(StateError::StackExists(stack.clone()));
    }
    let mine = sealing_key(conn)?;
    // How sealed values change on the way in: not at all, or from the snapshot's key to ours.
    let reseal: Option<(SecretKey, SecretKey)> = match (&snapshot.encryption, &mine) {
        (Some(theirs), Some(ours)) if theirs.salt != ours.salt => {
            let passphrase = sealer.passphrase().ok_or(CryptoError::PassphraseRequired)?;
            let key = SecretKey::derive(
                &passphrase,
                &theirs.salt,
                Kdf::decode(theirs.kdf.as_deref())?,
            )?;
            key.verify(&theirs.check)?;
            Some((key, sealer.key(conn, false)?))
        }
        _ => None,
    };
    let tx = conn.transaction()?;
    if let (Some(theirs), None) = (&snapshot.encryption, &mine) {
        tx.execute(
            "INSERT INTO encryption(id, salt, check_value, kdf) VALUES (1, ?1, ?2, ?3)",
            rusqlite::params![theirs.salt, theirs.check, theirs.kdf],
        )?;
    }
    tx.execute(
        "INSERT INTO stacks(name, created_at, serial) VALUES (?1, ?2, ?3)
         ON CONFLICT(name) DO UPDATE SET created_at = excluded.created_at,
                                         serial = excluded.serial",
        rusqlite::params![stack, snapshot.created_at, snapshot.serial],
    )?;
    // Old key → new key, per table whose keys others point at.
    let mut renumbered: std::collections::HashMap<(&str, i64), i64> = Default::default();
    let mut rows_in = 0;
    for t in TABLES {
        let rows = snapshot
            .tables
            .get(t.name)
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        for row in rows {
            let Value::Object(mut row) = row else {
                return Err(StateError::Snapshot(format!(
                    "a row of {} is not an object",
                    t.name
                )));
            };
            let old_key = row.get(t.key).and_then(Value::as_i64);
            if !t.key.is_empty() {
                row.remove(t.key);
            }
            for (column, points_at) in [("update_id", "updates"), ("resource_seq", "resources")] {
                if let Some(old) = row.get(column).and_then(Value::as_i64) {
                    let new = renumbered.get(&(points_at, old)).copied().unwrap_or(old);
                    row.insert(column.into(), Value::from(new));
                }
            }
            if let Some((theirs, ours)) = &reseal {
                let name = row
                    .get("name")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string();
                for column in ["inputs", "outputs", "value"] {
                    if let Some(Value::String(text)) = row.get(column) {
                        let at = secrets::context(t.name, &name, column);
                        let resealed = secrets::reseal_text(text, &at, theirs, ours)?;
                        row.insert(column.into(), Value::String(resealed));
                    }
                }
            }
            insert(&tx, t.name, &row)?;
            if let Some(old) = old_key {
                renumbered.insert((t.name, old), tx.last_insert_rowid());
            }
            rows_in += 1;
        }
    }
    tx.commit()?;
    Ok(rows_in)
}
