//! The database schema and its migrations.
//!
//! The version lives in SQLite's `user_version`. Migration N takes a database from version N to
//! N+1; each runs in a transaction, so a database is never left half-migrated. A database newer
//! than [`SCHEMA_VERSION`] is refused rather than guessed at.

use rusqlite::Connection;

/// `MIGRATIONS[n]` upgrades a database at version `n` to `n + 1`.
const MIGRATIONS: &[&str] = &[
    // 0 -> 1: the first schema.
    r#"
    CREATE TABLE stacks (
        name        TEXT PRIMARY KEY,
        created_at  TEXT NOT NULL
    );
    CREATE TABLE resources (
        seq          INTEGER PRIMARY KEY AUTOINCREMENT,
        stack        TEXT NOT NULL REFERENCES stacks(name),
        name         TEXT NOT NULL,
        type         TEXT NOT NULL,
        provider     TEXT NOT NULL,
        id           TEXT NOT NULL,
        inputs       TEXT NOT NULL,
        outputs      TEXT NOT NULL,
        dependencies TEXT NOT NULL,
        protect      INTEGER NOT NULL DEFAULT 0,
        replaced     INTEGER NOT NULL DEFAULT 0,
        created_at   TEXT NOT NULL,
        updated_at   TEXT NOT NULL
    );
    CREATE UNIQUE INDEX resources_live ON resources(stack, name) WHERE replaced = 0;
    CREATE TABLE pending_operations (
        seq           INTEGER PRIMARY KEY AUTOINCREMENT,
        stack         TEXT NOT NULL,
        update_id     INTEGER NOT NULL,
        name          TEXT NOT NULL,
        type          TEXT NOT NULL,
        provider      TEXT NOT NULL,
        kind          TEXT NOT NULL,
        resource_seq  INTEGER,
        inputs        TEXT NOT NULL,
        client_token  TEXT NOT NULL,
        started_at    TEXT NOT NULL
    );
    CREATE TABLE updates (
        id           INTEGER PRIMARY KEY AUTOINCREMENT,
        stack        TEXT NOT NULL,
        kind         TEXT NOT NULL,
        started_at   TEXT NOT NULL,
        finished_at  TEXT,
        result       TEXT,
        summary      TEXT NOT NULL DEFAULT '{}'
    );
    CREATE TABLE locks (
        stack    TEXT PRIMARY KEY,
        host     TEXT NOT NULL,
        pid      INTEGER NOT NULL,
        command  TEXT NOT NULL,
        since    TEXT NOT NULL
    );
    CREATE TABLE outputs (
        stack  TEXT NOT NULL,
        name   TEXT NOT NULL,
        value  TEXT NOT NULL,
        PRIMARY KEY (stack, name)
    );
    "#,
    // 1 -> 2: the salt and check value of the key that seals secret values; what a pending
    // create needs to adopt what it made (its dependencies and protection).
    r#"
    ALTER TABLE pending_operations ADD COLUMN dependencies TEXT NOT NULL DEFAULT '[]';
    ALTER TABLE pending_operations ADD COLUMN protect INTEGER NOT NULL DEFAULT 0;
    CREATE TABLE encryption (
        id           INTEGER PRIMARY KEY CHECK (id = 1),
        salt         TEXT NOT NULL,
        check_value  TEXT NOT NULL
    );
    "#,
    // 2 -> 3: when the lock holder's process started (boot and start time), so that a pid
    // reused by another process is not mistaken for the holder, and a dead holder's lock can
    // be taken over.
    r#"
    ALTER TABLE locks ADD COLUMN started TEXT NOT NULL DEFAULT '';
    "#,
    // 3 -> 4: the key derivation's algorithm and costs beside the salt (NULL: Argon2's
    // defaults, as keys were made before), so that they can be raised by a rekey.
    r#"
    ALTER TABLE encryption ADD COLUMN kdf TEXT;
    "#,
    // 4 -> 5: the stack's serial, one more for every write that changes what it records, so
    // that a saved plan can tell the state moved since it was made.
    r#"
    ALTER TABLE stacks ADD COLUMN serial INTEGER NOT NULL DEFAULT 0;
    "#,
];

/// The schema version this build reads and writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

pub(crate) fn version(conn: &Connection) -> rusqlite::Result<i64> {
    conn.query_row("PRAGMA user_version", [], |r| r.get(0))
}

/// Applies every migration above the database's version, each in its own transaction.
pub(crate) fn migrate(conn: &mut Connection, from: i64) -> rusqlite::Result<()> {
    for (n, sql) in MIGRATIONS.iter().enumerate().skip(from as usize) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", n as i64 + 1)?;
        tx.commit()?;
    }
    Ok(())
}
