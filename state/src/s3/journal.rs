//! What one journal entry holds, how it is read off the working copy after a write, and how it
//! is applied to another copy.
//!
//! An entry is the new value of every row a write touched: a row of a keyed table (resources,
//! pending operations, history) by its key, or `None` where the row is gone; the stack's
//! outputs, its own row and the sealing key, which have no key of their own worth naming,
//! whole. Values are read from the database after the write committed, so an entry says what
//! the rows are, not what was done to them: applying it twice, or applying one that recorded a
//! change rolled back, leaves the same rows.

use std::collections::BTreeSet;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use rusqlite::{Connection, OptionalExtension, params_from_iter};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::StateError;
use crate::snapshot::{rows, sql_of};

/// The tables whose rows an entry names by key (their `INTEGER PRIMARY KEY`, which is the
/// rowid the update hook reports).
const KEYED: &[(&str, &str)] = &[
    ("updates", "id"),
    ("resources", "seq"),
    ("pending_operations", "seq"),
];

/// A row the update hook saw change: its table and rowid.
pub(crate) type RowKey = (String, i64);

/// What the update hook saw: the rows changed since the last entry was taken, and how many row
/// writes there were in all (so that a writer can tell whether it wrote anything).
#[derive(Default)]
pub(crate) struct Touched {
    rows: Mutex<BTreeSet<RowKey>>,
    writes: AtomicU64,
}

impl Touched {
    pub(crate) fn record(&self, table: &str, rowid: i64) {
        // The lock row is the working copy's own; the lock in S3 is the lease.
        if table == "locks" {
            return;
        }
        self.writes.fetch_add(1, Ordering::Relaxed);
        self.rows().insert((table.to_string(), rowid));
    }

    pub(crate) fn writes(&self) -> u64 {
        self.writes.load(Ordering::Relaxed)
    }

    pub(crate) fn take(&self) -> BTreeSet<RowKey> {
        std::mem::take(&mut *self.rows())
    }

    fn rows(&self) -> std::sync::MutexGuard<'_, BTreeSet<RowKey>> {
        self.rows.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// One change in an entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "what", rename_all = "snake_case")]
pub(crate) enum Change {
    /// The stack's own row (its creation time).
    Stack { row: Map<String, Value> },
    /// The key that seals secrets: salt, check value and costs, never the key itself.
    Encryption { row: Option<Map<String, Value>> },
    /// A row of a keyed table as it now is, or `None`: gone.
    Row {
        table: String,
        key: i64,
        row: Option<Map<String, Value>>,
    },
    /// Every output of the stack.
    Outputs { rows: Vec<Map<String, Value>> },
}

/// One journal entry.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct Entry {
    pub(crate) changes: Vec<Change>,
}

impl Entry {
    pub(crate) fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }
}

/// The entry for the rows in `touched`, read as they are now. The stack's own row and the
/// sealing key come first, so that applying the entry in order never breaks a foreign key.
pub(crate) fn capture(
    conn: &Connection,
    stack: &str,
    touched: &BTreeSet<RowKey>,
) -> Result<Entry, StateError> {
    let tables: BTreeSet<&str> = touched.iter().map(|(t, _)| t.as_str()).collect();
    let mut changes = Vec::new();
    if tables.contains("stacks")
        && let Some(row) = rows(conn, "SELECT * FROM stacks WHERE name = ?1", &[&stack])?
            .into_iter()
            .next()
    {
        changes.push(Change::Stack { row });
    }
    if tables.contains("encryption") {
        let row = rows(conn, "SELECT * FROM encryption WHERE id = 1", &[])?
            .into_iter()
            .next();
        changes.push(Change::Encryption { row });
    }
    for (table, key) in touched {
        let Some((table, column)) = KEYED.iter().find(|(t, _)| t == table) else {
            continue;
        };
        let row = rows(
            conn,
            &format!("SELECT * FROM {table} WHERE {column} = ?1"),
            &[key],
        )?
        .into_iter()
        .next();
        changes.push(Change::Row {
            table: table.to_string(),
            key: *key,
            row,
        });
    }
    if tables.contains("outputs") {
        let rows = rows(
            conn,
            "SELECT * FROM outputs WHERE stack = ?1 ORDER BY name",
            &[&stack],
        )?;
        changes.push(Change::Outputs { rows });
    }
    Ok(Entry { changes })
}

/// Inserts `row` into `table`, or updates the row with the same `key` columns.
fn upsert(
    conn: &Connection,
    table: &str,
    key: &[&str],
    row: &Map<String, Value>,
) -> rusqlite::Result<()> {
    let columns: Vec<&str> = row.keys().map(String::as_str).collect();
    let updates: Vec<String> = columns
        .iter()
        .filter(|c| !key.contains(c))
        .map(|c| format!("{c} = excluded.{c}"))
        .collect();
    let on_conflict = if updates.is_empty() {
        "DO NOTHING".to_string()
    } else {
        format!("DO UPDATE SET {}", updates.join(", "))
    };
    let sql = format!(
        "INSERT INTO {table}({}) VALUES ({}) ON CONFLICT({}) {on_conflict}",
        columns.join(", "),
        (1..=columns.len())
            .map(|i| format!("?{i}"))
            .collect::<Vec<_>>()
            .join(", "),
        key.join(", "),
    );
    conn.execute(&sql, params_from_iter(row.values().map(sql_of)))?;
    Ok(())
}

/// Keeps AUTOINCREMENT above every key an entry named, gone rows included, so that a key
/// another machine used is never handed out again here.
pub(crate) fn keep_sequence_above(
    conn: &Connection,
    table: &str,
    key: i64,
) -> rusqlite::Result<()> {
    let known: Option<i64> = conn
        .query_row(
            "SELECT seq FROM sqlite_sequence WHERE name = ?1",
            [table],
            |r| r.get(0),
        )
        .optional()?;
    match known {
        Some(seq) if seq >= key => {}
        Some(_) => {
            conn.execute(
                "UPDATE sqlite_sequence SET seq = ?2 WHERE name = ?1",
                rusqlite::params![table, key],
            )?;
        }
        None => {
            conn.execute(
                "INSERT INTO sqlite_sequence(name, seq) VALUES (?1, ?2)",
                rusqlite::params![table, key],
            )?;
        }
    }
    Ok(())
}

/// Applies `entry` to a copy of `stack` (inside the caller's transaction).
pub(crate) fn apply(conn: &Connection, stack: &str, entry: &Entry) -> Result<(), StateError> {
    for change in &entry.changes {
        match change {
            Change::Stack { row } => upsert(conn, "stacks", &["name"], row)?,
            Change::Encryption { row } => {
                conn.execute("DELETE FROM encryption", [])?;
                if let Some(row) = row {
                    upsert(conn, "encryption", &["id"], row)?;
                }
            }
            Change::Row { table, key, row } => {
                let Some((table, column)) = KEYED.iter().find(|(t, _)| t == table) else {
                    return Err(StateError::Snapshot(format!(
                        "a journal entry names an unknown table '{table}'"
                    )));
                };
                match row {
                    Some(row) => upsert(conn, table, &[column], row)?,
                    None => {
                        conn.execute(&format!("DELETE FROM {table} WHERE {column} = ?1"), [key])?;
                    }
                }
                keep_sequence_above(conn, table, *key)?;
            }
            Change::Outputs { rows } => {
                conn.execute("DELETE FROM outputs WHERE stack = ?1", [stack])?;
                for row in rows {
                    upsert(conn, "outputs", &["stack", "name"], row)?;
                }
            }
        }
    }
    Ok(())
}
