//! The store: opening (and migrating) the database, and every read and write the engine makes.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use rusqlite::{Connection, OptionalExtension, Row, TransactionBehavior, params};
use serde_json::Value;

use crate::error::StateError;
use crate::files;
use crate::lock::{Holder, LockGuard, LockHolder, LockOptions};
use crate::records::{OpKind, PendingOp, ResourceRecord, StackSummary, StackVersion, UpdateRecord};
use crate::s3::Remote;
use crate::schema;
use crate::secrets::{self, Sealer};
use crate::snapshot::{self, StackSnapshot};

/// A stack's lineage: its name and creation time, hashed (the same in every copy of the
/// state, S3's included, as both travel with it).
fn lineage(stack: &str, created_at: &str) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(format!("{stack}\n{created_at}").as_bytes());
    digest[..16].iter().map(|b| format!("{b:02x}")).collect()
}

pub(crate) fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

pub(crate) struct Inner {
    conn: Mutex<Connection>,
    sealer: Sealer,
    checkpointer: Checkpointer,
    lock_options: Mutex<LockOptions>,
    /// Where the stack is kept when this database is a working copy of one in S3. Last, so
    /// that the copy's directory outlives its connections.
    pub(crate) remote: Option<Remote>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        // The commit hook holds a handle that keeps the checkpointer waiting: remove it, stop
        // the checkpointer, and let this connection close last (SQLite then folds the log
        // into the database file).
        if let Ok(conn) = self.conn.get_mut() {
            let _ = conn.commit_hook(None::<fn() -> bool>);
        }
        self.checkpointer.stop();
    }
}

/// Commits between two checkpoints of the write-ahead log (about 1,000 pages).
const CHECKPOINT_EVERY: u32 = 500;

/// Checkpoints the write-ahead log on a connection and thread of its own. SQLite's automatic
/// checkpoint runs inside whichever commit crosses the threshold, fsyncs included, and every
/// operation waiting to record its result waits behind it; a passive checkpoint elsewhere lets
/// writers go on while the log is copied into the database file.
struct Checkpointer {
    wake: Option<std::sync::mpsc::SyncSender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Checkpointer {
    fn start(path: &Path) -> Checkpointer {
        let (wake, rx) = std::sync::mpsc::sync_channel::<()>(1);
        let path = path.to_path_buf();
        let thread = std::thread::Builder::new()
            .name("cairn-checkpoint".into())
            .spawn(move || {
                let Ok(conn) = Connection::open(&path) else {
                    return;
                };
                let _ = conn.busy_timeout(std::time::Duration::from_secs(10));
                while rx.recv().is_ok() {
                    let _ = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()));
                }
            })
            .ok();
        Checkpointer {
            wake: Some(wake),
            thread,
        }
    }

    fn stop(&mut self) {
        self.wake.take();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Inner {
    pub(crate) fn conn(&self) -> Conn<'_> {
        // A panic while holding the lock cannot leave SQLite inconsistent (transactions roll
        // back on drop), so a poisoned mutex is safe to keep using.
        let guard = self.conn.lock().unwrap_or_else(|e| e.into_inner());
        Conn {
            writes_before: self.remote.as_ref().map_or(0, Remote::writes),
            guard: Some(guard),
            mutex: &self.conn,
            remote: self.remote.as_ref(),
        }
    }
}

/// The connection, held. With the state in S3, what a write changed goes there as the write
/// ends: [`Conn::publish`] where the caller must know it arrived (before a provider call,
/// after its result), or when the guard is dropped, where a failure stops later writes.
pub(crate) struct Conn<'a> {
    /// `Some` until published.
    guard: Option<MutexGuard<'a, Connection>>,
    mutex: &'a Mutex<Connection>,
    remote: Option<&'a Remote>,
    /// The working copy's count of row writes when this guard was taken: whether the holder
    /// wrote anything is whether it moved.
    writes_before: u64,
}

impl Conn<'_> {
    /// Lets the connection go and, with the state in S3, returns once what was written under
    /// this guard is in S3 (in an entry of its own, or of several writers at once).
    pub(crate) fn publish(mut self) -> Result<(), StateError> {
        self.send()
    }

    fn send(&mut self) -> Result<(), StateError> {
        let Some(guard) = self.guard.take() else {
            return Ok(());
        };
        match self.remote {
            Some(remote) if remote.writes() != self.writes_before => {
                remote.publish(self.mutex, guard)
            }
            _ => Ok(()),
        }
    }
}

impl std::ops::Deref for Conn<'_> {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        self.guard.as_ref().expect("held until published")
    }
}

impl std::ops::DerefMut for Conn<'_> {
    fn deref_mut(&mut self) -> &mut Connection {
        self.guard.as_mut().expect("held until published")
    }
}

impl Drop for Conn<'_> {
    fn drop(&mut self) {
        if let Err(e) = self.send() {
            tracing::error!("{e}");
        }
    }
}

/// A handle on one state database. Cheap to clone; all clones share one connection, which
/// serialises writes (each is a few microseconds, far below any cloud call).
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
    path: PathBuf,
}

impl Store {
    /// Opens (creating if needed) the database at `path` and brings its schema up to date.
    pub fn open(path: impl AsRef<Path>) -> Result<Store, StateError> {
        Store::open_at(path.as_ref().to_path_buf(), None)
    }

    /// Opens `stack` kept in S3 at `location` (`s3://BUCKET/PREFIX`): checks the bucket,
    /// then makes a private working copy of what S3 holds, through which every command works
    /// as on a local file. Credentials, region and endpoint come from the standard AWS
    /// configuration.
    pub fn open_s3(location: crate::s3::Location, stack: &str) -> Result<Store, StateError> {
        let (remote, path) = Remote::connect(location, stack, None)?;
        Store::open_at(path, Some(remote))
    }

    /// The same with an AWS configuration given (a process that reaches several endpoints).
    pub fn open_s3_with(
        location: crate::s3::Location,
        stack: &str,
        sdk: &aws_config::SdkConfig,
    ) -> Result<Store, StateError> {
        let (remote, path) = Remote::connect(location, stack, Some(sdk))?;
        Store::open_at(path, Some(remote))
    }

    /// Opens the state `url` names: `s3://BUCKET/PREFIX` ([`Store::open_s3`], for `stack`),
    /// anything else a local file.
    pub fn open_url(url: &str, stack: &str) -> Result<Store, StateError> {
        match crate::s3::Location::parse(url) {
            Some(location) => Store::open_s3(location, stack),
            None => Store::open(url),
        }
    }

    /// Whether the state is kept in S3 (this database its working copy), where a write
    /// returns only once S3 has it.
    pub fn is_remote(&self) -> bool {
        self.inner.remote.is_some()
    }

    /// With the state in S3, the requests sent to it so far.
    pub fn s3_requests(&self) -> Option<crate::s3::RequestCounts> {
        self.inner.remote.as_ref().map(Remote::requests)
    }

    /// Where the state is: the S3 location, or the file.
    pub fn describe(&self) -> String {
        match &self.inner.remote {
            Some(remote) => remote.location().to_string(),
            None => self.path.display().to_string(),
        }
    }

    fn open_at(path: PathBuf, remote: Option<Remote>) -> Result<Store, StateError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            files::create_private_dir(dir).map_err(|cause| StateError::Directory {
                path: dir.to_path_buf(),
                cause,
            })?;
        }
        if let Some(mode) = files::shared_mode(&path) {
            tracing::warn!(
                "the state {} is readable by other users (mode {mode:o}): it holds every input \
                 and output of the stack; `chmod 600` it and its -wal and -shm files",
                path.display()
            );
        }
        files::create_private_file(&path).map_err(|cause| StateError::File {
            path: path.clone(),
            cause,
        })?;
        let corrupt = |e: rusqlite::Error| StateError::Corrupt {
            path: path.clone(),
            cause: e.to_string(),
        };
        let mut conn = Connection::open(&path).map_err(corrupt)?;
        conn.busy_timeout(std::time::Duration::from_secs(10))
            .map_err(corrupt)?;
        // WAL + synchronous=NORMAL: each commit survives the process being killed at any point
        // (the guarantee Cairn makes); only an OS crash or power loss can lose the last commits.
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(corrupt)?;
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(corrupt)?;
        conn.pragma_update(None, "foreign_keys", "ON")
            .map_err(corrupt)?;
        let check: String = conn
            .query_row("PRAGMA quick_check", [], |r| r.get(0))
            .map_err(corrupt)?;
        if check != "ok" {
            return Err(StateError::Corrupt { path, cause: check });
        }
        let version = schema::version(&conn).map_err(corrupt)?;
        if version > schema::SCHEMA_VERSION {
            return Err(StateError::NewerSchema {
                path,
                found: version,
                supported: schema::SCHEMA_VERSION,
            });
        }
        schema::migrate(&mut conn, version)?;
        if let Some(remote) = &remote {
            remote.load(&mut conn)?;
            let touched = remote.touched();
            conn.update_hook(Some(
                move |_: rusqlite::hooks::Action, _: &str, table: &str, rowid: i64| {
                    touched.record(table, rowid);
                },
            ))
            .map_err(corrupt)?;
        }
        conn.pragma_update(None, "wal_autocheckpoint", 0)
            .map_err(corrupt)?;
        let checkpointer = Checkpointer::start(&path);
        if let Some(wake) = checkpointer.wake.clone() {
            let mut commits = 0u32;
            conn.commit_hook(Some(move || {
                commits = commits.wrapping_add(1);
                if commits.is_multiple_of(CHECKPOINT_EVERY) {
                    // Full means a checkpoint is already due: nothing to add.
                    let _ = wake.try_send(());
                }
                false
            }))
            .map_err(corrupt)?;
        }
        Ok(Store {
            inner: Arc::new(Inner {
                conn: Mutex::new(conn),
                sealer: Sealer::default(),
                checkpointer,
                lock_options: Mutex::new(LockOptions::default()),
                remote,
            }),
            path,
        })
    }

    /// The database file (for S3, the working copy's).
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn conn(&self) -> Conn<'_> {
        self.inner.conn()
    }

    /// Gives the store the passphrase that seals secret values (see [`crate::PASSPHRASE_VAR`]).
    /// If the database already holds secrets, the passphrase is checked now: a wrong one is an
    /// error here, before any command does anything. Without one, a stack without secrets
    /// works as before, and reading or writing a secret is an error naming the variable.
    pub fn use_passphrase(&self, passphrase: Option<String>) -> Result<(), StateError> {
        self.inner.sealer.set_passphrase(passphrase);
        self.inner.sealer.verify(&self.conn())
    }

    /// Checks that a secret recorded now could be sealed (a passphrase is given, and one long
    /// enough to make the database's first key), so that a command that will record one can
    /// refuse before it changes anything rather than fail at its first secret.
    pub fn check_can_seal(&self) -> Result<(), StateError> {
        self.inner.sealer.can_seal(&self.conn())
    }

    /// Seals every secret of every stack in this database again, under `new_passphrase` (or
    /// the one given) with the current key derivation parameters, in one transaction: raises
    /// the costs of an older key, or changes the passphrase. Returns how many values were
    /// rewritten. The store keeps working with the new key.
    pub fn rekey(&self, new_passphrase: Option<String>) -> Result<usize, StateError> {
        let mut conn = self.conn();
        let n = self.inner.sealer.rekey(&mut conn, new_passphrase)?;
        conn.publish()?;
        Ok(n)
    }

    /// Every stack this state holds, by name: how many live resources, and its last change.
    pub fn stacks(&self) -> Result<Vec<StackSummary>, StateError> {
        match &self.inner.remote {
            Some(remote) => remote.each_stack(summaries),
            None => summaries(&self.conn()),
        }
    }
}

/// The summary of every stack a database holds.
fn summaries(conn: &Connection) -> Result<Vec<StackSummary>, StateError> {
    {
        let mut st = conn.prepare(
            "SELECT s.name,
                    (SELECT COUNT(*) FROM resources r WHERE r.stack = s.name AND r.replaced = 0),
                    (SELECT u.kind FROM updates u WHERE u.stack = s.name ORDER BY u.id DESC LIMIT 1),
                    (SELECT u.started_at FROM updates u WHERE u.stack = s.name
                       ORDER BY u.id DESC LIMIT 1)
             FROM stacks s ORDER BY s.name",
        )?;
        let rows = st.query_map([], |r| {
            Ok(StackSummary {
                name: r.get(0)?,
                resources: r.get::<_, i64>(1)?.unsigned_abs(),
                last_kind: r.get(2)?,
                last_at: r.get(3)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

impl Store {
    /// The stack whole, secrets still sealed, to move it elsewhere ([`Store::import_stack`]);
    /// `None` if this state has no such stack.
    pub fn export_stack(&self, stack: &str) -> Result<Option<StackSnapshot>, StateError> {
        snapshot::export(&mut self.conn(), stack)
    }

    /// Adds an exported stack, in one transaction; refused if a stack of its name exists.
    /// Secrets sealed with another key are sealed again with this state's, which takes the
    /// passphrase (the same for both). Returns how many rows were added.
    pub fn import_stack(&self, snapshot: &StackSnapshot) -> Result<usize, StateError> {
        let mut conn = self.conn();
        let rows = snapshot::import(&mut conn, &self.inner.sealer, snapshot)?;
        conn.publish()?;
        Ok(rows)
    }

    /// The parameters the database's key was derived with, if it holds a key.
    pub fn kdf(&self) -> Result<Option<crate::Kdf>, StateError> {
        self.inner.sealer.kdf(&self.conn())
    }

    /// `v` (secrets as `{"@secret": …}`) with each secret sealed under the state's key, for
    /// a document kept outside the database (a saved plan); `context` binds each sealed value
    /// to its place, as in the database.
    pub fn seal_document(&self, v: &Value, context: &str) -> Result<Value, StateError> {
        let conn = self.conn();
        let text = self.inner.sealer.seal(&conn, v, context)?;
        serde_json::from_str(&text).map_err(|e| StateError::Malformed {
            stack: String::new(),
            name: context.to_string(),
            cause: e.to_string(),
        })
    }

    /// A document from [`Store::seal_document`] with its secrets opened.
    pub fn open_document(&self, v: Value, context: &str) -> Result<Value, StateError> {
        let conn = self.conn();
        self.inner.sealer.open(&conn, v, context)
    }

    /// Whether secret values can be written (a passphrase was given).
    pub fn can_store_secrets(&self) -> bool {
        self.inner.sealer.has_passphrase()
    }

    fn seal(
        &self,
        conn: &Connection,
        v: &Value,
        table: &str,
        name: &str,
        column: &str,
    ) -> Result<String, StateError> {
        let context = secrets::context(table, name, column);
        self.inner.sealer.seal(conn, v, &context)
    }

    fn ensure_stack(conn: &Connection, stack: &str) -> rusqlite::Result<()> {
        conn.execute(
            "INSERT OR IGNORE INTO stacks(name, created_at) VALUES (?1, ?2)",
            params![stack, now()],
        )?;
        Ok(())
    }

    /// Counts one change to what the stack records, in the transaction making it.
    fn bump_serial(conn: &Connection, stack: &str) -> rusqlite::Result<()> {
        conn.execute(
            "UPDATE stacks SET serial = serial + 1 WHERE name = ?1",
            [stack],
        )?;
        Ok(())
    }

    /// [`Store::bump_serial`] for the stack holding record `seq`.
    fn bump_serial_of(conn: &Connection, seq: i64) -> rusqlite::Result<()> {
        conn.execute(
            "UPDATE stacks SET serial = serial + 1
             WHERE name = (SELECT stack FROM resources WHERE seq = ?1)",
            [seq],
        )?;
        Ok(())
    }

    /// Which state of the stack this is: its lineage and serial (`None` before its first
    /// write). A saved plan holds both and applies only to the same.
    pub fn version(&self, stack: &str) -> Result<Option<StackVersion>, StateError> {
        let conn = self.conn();
        let row = conn
            .query_row(
                "SELECT created_at, serial FROM stacks WHERE name = ?1",
                [stack],
                |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)),
            )
            .optional()?;
        Ok(row.map(|(created_at, serial)| StackVersion {
            lineage: lineage(stack, &created_at),
            serial,
        }))
    }

    // ---- locks ----------------------------------------------------------------------------

    /// How [`Store::lock`] waits and how long a lease in S3 lasts.
    pub fn set_lock_options(&self, options: LockOptions) {
        *self
            .inner
            .lock_options
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = options;
    }

    fn lock_options(&self) -> LockOptions {
        *self
            .inner
            .lock_options
            .lock()
            .unwrap_or_else(|e| e.into_inner())
    }

    /// Takes the stack's lock for `command`, or fails naming the holder (at once, or once
    /// [`LockOptions::wait`] has passed). A stale holder's lock (its process gone:
    /// [`LockHolder::is_stale`]; in S3, its lease expired) is taken over, and the guard says
    /// whose it was; what that process left in flight is for the caller to settle. In S3 the
    /// lock is a lease renewed while the guard lives, and taking it brings the working copy up
    /// to what other machines wrote.
    pub fn lock(&self, stack: &str, command: &str) -> Result<LockGuard, StateError> {
        let options = self.lock_options();
        let remote_previous = match &self.inner.remote {
            Some(remote) => {
                let mut conn = self.inner.conn.lock().unwrap_or_else(|e| e.into_inner());
                remote
                    .acquire(&mut conn, command, options.lease, options.wait)?
                    .map(Holder::Lease)
            }
            None => None,
        };
        let deadline = std::time::Instant::now() + options.wait;
        let local = loop {
            match self.lock_here(stack, command) {
                Err(StateError::Locked { .. }) if std::time::Instant::now() < deadline => {
                    std::thread::sleep(std::time::Duration::from_millis(250));
                }
                other => break other,
            }
        };
        match local {
            Ok(mut guard) => {
                guard.remote = self.inner.remote.is_some();
                if remote_previous.is_some() {
                    guard.taken_over = remote_previous;
                }
                Ok(guard)
            }
            Err(e) => {
                if let Some(remote) = &self.inner.remote {
                    remote.release(&mut self.inner.conn.lock().unwrap_or_else(|e| e.into_inner()));
                }
                Err(e)
            }
        }
    }

    fn lock_here(&self, stack: &str, command: &str) -> Result<LockGuard, StateError> {
        let holder = LockHolder::current(command);
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        Self::ensure_stack(&tx, stack)?;
        let taken_over = match Self::lock_holder_in(&tx, stack)? {
            Some(existing) if existing.is_stale() => {
                tx.execute("DELETE FROM locks WHERE stack = ?1", [stack])?;
                Some(existing)
            }
            Some(existing) => {
                return Err(StateError::Locked {
                    stack: stack.to_string(),
                    holder: Box::new(existing),
                });
            }
            None => None,
        };
        tx.execute(
            "INSERT INTO locks(stack, host, pid, command, since, started) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                stack,
                holder.host,
                holder.pid,
                holder.command,
                holder.since,
                holder.started
            ],
        )?;
        tx.commit()?;
        conn.publish()?;
        Ok(LockGuard {
            inner: self.inner.clone(),
            stack: stack.to_string(),
            pid: holder.pid,
            taken_over: taken_over.map(Holder::Local),
            remote: false,
        })
    }

    fn lock_holder_in(conn: &Connection, stack: &str) -> Result<Option<LockHolder>, StateError> {
        Ok(conn
            .query_row(
                "SELECT host, pid, command, since, started FROM locks WHERE stack = ?1",
                [stack],
                |r| {
                    Ok(LockHolder {
                        host: r.get(0)?,
                        pid: r.get(1)?,
                        command: r.get(2)?,
                        since: r.get(3)?,
                        started: r.get(4)?,
                    })
                },
            )
            .optional()?)
    }

    /// Who holds the stack's lock, if anyone does.
    pub fn lock_holder(&self, stack: &str) -> Result<Option<Holder>, StateError> {
        match &self.inner.remote {
            Some(remote) => Ok(remote.holder()?.map(Holder::Lease)),
            None => Ok(Self::lock_holder_in(&self.conn(), stack)?.map(Holder::Local)),
        }
    }

    /// Releases a lock left behind by a process that no longer exists (in S3: whose lease
    /// expired). A live holder's lock (or one on another host, which cannot be checked) is
    /// only released with `force`.
    pub fn unlock(&self, stack: &str, force: bool) -> Result<Holder, StateError> {
        if let Some(remote) = &self.inner.remote {
            return Ok(Holder::Lease(remote.unlock(force)?));
        }
        let conn = self.conn();
        let holder = Self::lock_holder_in(&conn, stack)?.ok_or_else(|| StateError::NotLocked {
            stack: stack.to_string(),
        })?;
        if !force && !holder.is_stale() {
            return Err(StateError::LockAlive {
                stack: stack.to_string(),
                holder: Box::new(holder),
            });
        }
        conn.execute("DELETE FROM locks WHERE stack = ?1", [stack])?;
        Ok(Holder::Local(holder))
    }

    // ---- resources ------------------------------------------------------------------------

    /// Every resource record of the stack, in the order they were written.
    pub fn resources(&self, stack: &str) -> Result<Vec<ResourceRecord>, StateError> {
        let conn = self.conn();
        let mut st = conn.prepare_cached(
            "SELECT seq, name, type, provider, id, inputs, outputs, dependencies, protect, replaced
             FROM resources WHERE stack = ?1 ORDER BY seq",
        )?;
        let rows = st.query_map([stack], raw_resource)?;
        rows.map(|row| {
            let row = row?;
            let name = row.name.clone();
            row.parse(stack, &|v, column| {
                let context = secrets::context("resources", &name, column);
                self.inner.sealer.open(&conn, v, &context)
            })
        })
        .collect()
    }

    /// The names of the provider instances the stack's records name.
    pub fn providers(&self, stack: &str) -> Result<Vec<String>, StateError> {
        let conn = self.conn();
        let mut st = conn.prepare_cached(
            "SELECT DISTINCT provider FROM resources WHERE stack = ?1 ORDER BY provider",
        )?;
        let names = st
            .query_map([stack], |r| r.get(0))?
            .collect::<Result<Vec<String>, _>>()?;
        Ok(names)
    }

    /// Records a finished create. With `replacing`, the live record of the same name becomes the
    /// old copy of a create-before-delete replacement, in the same transaction.
    pub fn complete_create(
        &self,
        stack: &str,
        op_seq: i64,
        record: &ResourceRecord,
        replacing: Option<i64>,
    ) -> Result<ResourceRecord, StateError> {
        let mut conn = self.conn();
        let (inputs, outputs) = (
            self.seal(&conn, &record.inputs, "resources", &record.name, "inputs")?,
            self.seal(&conn, &record.outputs, "resources", &record.name, "outputs")?,
        );
        let tx = conn.transaction()?;
        Self::ensure_stack(&tx, stack)?;
        Self::bump_serial(&tx, stack)?;
        if let Some(old) = replacing {
            tx.execute(
                "UPDATE resources SET replaced = 1, updated_at = ?2 WHERE seq = ?1",
                params![old, now()],
            )?;
        }
        let ts = now();
        tx.execute(
            "INSERT INTO resources(stack, name, type, provider, id, inputs, outputs, dependencies,
                                   protect, replaced, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, 0, ?10, ?10)",
            params![
                stack,
                record.name,
                record.ty,
                record.provider,
                record.id,
                inputs,
                outputs,
                serde_json::to_string(&record.dependencies).expect("strings serialise"),
                record.protect,
                ts,
            ],
        )?;
        let seq = tx.last_insert_rowid();
        tx.execute("DELETE FROM pending_operations WHERE seq = ?1", [op_seq])?;
        tx.commit()?;
        conn.publish()?;
        Ok(ResourceRecord {
            seq,
            replaced: false,
            ..record.clone()
        })
    }

    /// Renames the live record `seq` to `to` (the program calls the resource by a new name and
    /// the old one as its alias), in one transaction: its sealed values are sealed again under
    /// the new name (the name is part of what seals them), and the records that depend on it
    /// name it anew.
    pub fn rename_resource(&self, stack: &str, seq: i64, to: &str) -> Result<(), StateError> {
        let records = self.resources(stack)?;
        let Some(record) = records.iter().find(|r| r.seq == seq) else {
            return Err(StateError::Malformed {
                stack: stack.to_string(),
                name: to.to_string(),
                cause: format!("no record {seq} to rename"),
            });
        };
        let from = record.name.as_str();
        let mut conn = self.conn();
        let (inputs, outputs) = (
            self.seal(&conn, &record.inputs, "resources", to, "inputs")?,
            self.seal(&conn, &record.outputs, "resources", to, "outputs")?,
        );
        let tx = conn.transaction()?;
        Self::bump_serial(&tx, stack)?;
        tx.execute(
            "UPDATE resources SET name = ?2, inputs = ?3, outputs = ?4, updated_at = ?5
             WHERE seq = ?1",
            params![seq, to, inputs, outputs, now()],
        )?;
        for r in records
            .iter()
            .filter(|r| r.seq != seq && r.dependencies.iter().any(|d| d == from))
        {
            let deps: Vec<&str> = r
                .dependencies
                .iter()
                .map(|d| if d == from { to } else { d.as_str() })
                .collect();
            tx.execute(
                "UPDATE resources SET dependencies = ?2 WHERE seq = ?1",
                params![
                    r.seq,
                    serde_json::to_string(&deps).expect("strings serialise")
                ],
            )?;
        }
        tx.commit()?;
        conn.publish()?;
        Ok(())
    }

    /// Records a finished in-place update (or a refresh that read new values).
    pub fn complete_update(
        &self,
        op_seq: Option<i64>,
        record: &ResourceRecord,
    ) -> Result<(), StateError> {
        let mut conn = self.conn();
        let (inputs, outputs) = (
            self.seal(&conn, &record.inputs, "resources", &record.name, "inputs")?,
            self.seal(&conn, &record.outputs, "resources", &record.name, "outputs")?,
        );
        let tx = conn.transaction()?;
        Self::bump_serial_of(&tx, record.seq)?;
        tx.execute(
            "UPDATE resources SET id = ?2, inputs = ?3, outputs = ?4, dependencies = ?5,
                                  protect = ?6, updated_at = ?7
             WHERE seq = ?1",
            params![
                record.seq,
                record.id,
                inputs,
                outputs,
                serde_json::to_string(&record.dependencies).expect("strings serialise"),
                record.protect,
                now(),
            ],
        )?;
        if let Some(op) = op_seq {
            tx.execute("DELETE FROM pending_operations WHERE seq = ?1", [op])?;
        }
        tx.commit()?;
        conn.publish()?;
        Ok(())
    }

    /// Records a finished delete (or drops the record of a resource found gone).
    pub fn complete_delete(
        &self,
        op_seq: Option<i64>,
        resource_seq: i64,
    ) -> Result<(), StateError> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        Self::bump_serial_of(&tx, resource_seq)?;
        tx.execute("DELETE FROM resources WHERE seq = ?1", [resource_seq])?;
        if let Some(op) = op_seq {
            tx.execute("DELETE FROM pending_operations WHERE seq = ?1", [op])?;
        }
        tx.commit()?;
        conn.publish()?;
        Ok(())
    }

    // ---- pending operations ---------------------------------------------------------------

    /// Records an operation about to be sent to a provider; returns its sequence number.
    pub fn begin_operation(&self, stack: &str, op: &PendingOp) -> Result<i64, StateError> {
        let conn = self.conn();
        let inputs = self.seal(&conn, &op.inputs, "pending_operations", &op.name, "inputs")?;
        Self::ensure_stack(&conn, stack)?;
        conn.prepare_cached(
            "INSERT INTO pending_operations(stack, update_id, name, type, provider, kind,
                                            resource_seq, inputs, client_token, started_at,
                                            dependencies, protect)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
        )?
        .execute(params![
            stack,
            op.update_id,
            op.name,
            op.ty,
            op.provider,
            op.kind.as_str(),
            op.resource_seq,
            inputs,
            op.client_token,
            now(),
            serde_json::to_string(&op.dependencies).expect("strings serialise"),
            op.protect,
        ])?;
        let seq = conn.last_insert_rowid();
        conn.publish()?;
        Ok(seq)
    }

    /// Clears an operation whose provider call failed cleanly (nothing happened, or the provider
    /// said so), leaving the resource records as they were.
    pub fn abandon_operation(&self, op_seq: i64) -> Result<(), StateError> {
        let conn = self.conn();
        conn.execute("DELETE FROM pending_operations WHERE seq = ?1", [op_seq])?;
        conn.publish()?;
        Ok(())
    }

    /// The operations of `stack` left in flight by a command that stopped mid-call.
    pub fn pending_operations(&self, stack: &str) -> Result<Vec<PendingOp>, StateError> {
        let conn = self.conn();
        let mut st = conn.prepare(
            "SELECT seq, update_id, name, type, provider, kind, resource_seq, inputs,
                    client_token, started_at, dependencies, protect
             FROM pending_operations WHERE stack = ?1 ORDER BY seq",
        )?;
        let rows = st.query_map([stack], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, String>(5)?,
                r.get::<_, Option<i64>>(6)?,
                r.get::<_, String>(7)?,
                r.get::<_, String>(8)?,
                r.get::<_, String>(9)?,
                r.get::<_, String>(10)?,
                r.get::<_, bool>(11)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (
                seq,
                update_id,
                name,
                ty,
                provider,
                kind,
                resource_seq,
                inputs,
                token,
                started,
                dependencies,
                protect,
            ) = row?;
            let malformed = |cause: String| StateError::Malformed {
                stack: stack.to_string(),
                name: name.clone(),
                cause,
            };
            let kind = OpKind::parse(&kind)
                .ok_or_else(|| malformed(format!("unknown operation kind '{kind}'")))?;
            let inputs = self.inner.sealer.open(
                &conn,
                serde_json::from_str(&inputs).map_err(|e| malformed(e.to_string()))?,
                &secrets::context("pending_operations", &name, "inputs"),
            )?;
            let dependencies =
                serde_json::from_str(&dependencies).map_err(|e| malformed(e.to_string()))?;
            out.push(PendingOp {
                seq,
                update_id,
                kind,
                inputs,
                name,
                ty,
                provider,
                resource_seq,
                client_token: token,
                started_at: started,
                dependencies,
                protect,
            });
        }
        Ok(out)
    }

    // ---- stack outputs --------------------------------------------------------------------

    /// Replaces the stack's exported outputs.
    pub fn set_outputs(&self, stack: &str, outputs: &[(String, Value)]) -> Result<(), StateError> {
        // The same outputs again (an `up` that changed nothing) are no change to the stack.
        if self.outputs(stack)? == outputs {
            return Ok(());
        }
        let mut conn = self.conn();
        let sealed = outputs
            .iter()
            .map(|(name, value)| Ok((name, self.seal(&conn, value, "outputs", name, "value")?)))
            .collect::<Result<Vec<_>, StateError>>()?;
        let tx = conn.transaction()?;
        Self::ensure_stack(&tx, stack)?;
        Self::bump_serial(&tx, stack)?;
        tx.execute("DELETE FROM outputs WHERE stack = ?1", [stack])?;
        for (name, value) in sealed {
            tx.execute(
                "INSERT INTO outputs(stack, name, value) VALUES (?1, ?2, ?3)",
                params![stack, name, value],
            )?;
        }
        tx.commit()?;
        conn.publish()?;
        Ok(())
    }

    /// The stack outputs the last `up` stored, secrets sealed as stored.
    pub fn outputs(&self, stack: &str) -> Result<Vec<(String, Value)>, StateError> {
        let conn = self.conn();
        let mut st =
            conn.prepare("SELECT name, value FROM outputs WHERE stack = ?1 ORDER BY name")?;
        let rows = st.query_map([stack], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (name, value) = row?;
            let value = serde_json::from_str(&value).map_err(|e| StateError::Malformed {
                stack: stack.to_string(),
                name: name.clone(),
                cause: e.to_string(),
            })?;
            let context = secrets::context("outputs", &name, "value");
            out.push((name, self.inner.sealer.open(&conn, value, &context)?));
        }
        Ok(out)
    }

    // ---- history --------------------------------------------------------------------------

    /// Starts the history row of a command (`kind`: `up`, `destroy`, `refresh`): its id.
    pub fn begin_update(&self, stack: &str, kind: &str) -> Result<i64, StateError> {
        let conn = self.conn();
        Self::ensure_stack(&conn, stack)?;
        conn.execute(
            "INSERT INTO updates(stack, kind, started_at) VALUES (?1, ?2, ?3)",
            params![stack, kind, now()],
        )?;
        let id = conn.last_insert_rowid();
        conn.publish()?;
        Ok(id)
    }

    /// Ends the history row `id` with its result and summary.
    pub fn finish_update(
        &self,
        id: i64,
        succeeded: bool,
        summary: &Value,
    ) -> Result<(), StateError> {
        let conn = self.conn();
        conn.execute(
            "UPDATE updates SET finished_at = ?2, result = ?3, summary = ?4 WHERE id = ?1",
            params![
                id,
                now(),
                if succeeded { "succeeded" } else { "failed" },
                summary.to_string()
            ],
        )?;
        conn.publish()
    }

    /// The commands that changed `stack`, newest first.
    pub fn history(&self, stack: &str) -> Result<Vec<UpdateRecord>, StateError> {
        let conn = self.conn();
        let mut st = conn.prepare(
            "SELECT id, stack, kind, started_at, finished_at, result, summary
             FROM updates WHERE stack = ?1 ORDER BY id DESC",
        )?;
        let rows = st.query_map([stack], |r| {
            let summary: String = r.get(6)?;
            Ok(UpdateRecord {
                id: r.get(0)?,
                stack: r.get(1)?,
                kind: r.get(2)?,
                started_at: r.get(3)?,
                finished_at: r.get(4)?,
                result: r.get(5)?,
                summary: serde_json::from_str(&summary).unwrap_or(Value::Null),
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

/// A resources row before its JSON columns are parsed.
struct RawResource {
    seq: i64,
    name: String,
    ty: String,
    provider: String,
    id: String,
    inputs: String,
    outputs: String,
    dependencies: String,
    protect: bool,
    replaced: bool,
}

fn raw_resource(r: &Row<'_>) -> rusqlite::Result<RawResource> {
    Ok(RawResource {
        seq: r.get(0)?,
        name: r.get(1)?,
        ty: r.get(2)?,
        provider: r.get(3)?,
        id: r.get(4)?,
        inputs: r.get(5)?,
        outputs: r.get(6)?,
        dependencies: r.get(7)?,
        protect: r.get(8)?,
        replaced: r.get(9)?,
    })
}

impl RawResource {
    fn parse(
        self,
        stack: &str,
        open: &dyn Fn(Value, &str) -> Result<Value, StateError>,
    ) -> Result<ResourceRecord, StateError> {
        let malformed = |cause: serde_json::Error| StateError::Malformed {
            stack: stack.to_string(),
            name: self.name.clone(),
            cause: cause.to_string(),
        };
        Ok(ResourceRecord {
            seq: self.seq,
            inputs: open(
                serde_json::from_str(&self.inputs).map_err(malformed)?,
                "inputs",
            )?,
            outputs: open(
                serde_json::from_str(&self.outputs).map_err(malformed)?,
                "outputs",
            )?,
            dependencies: serde_json::from_str(&self.dependencies).map_err(malformed)?,
            name: self.name,
            ty: self.ty,
            provider: self.provider,
            id: self.id,
            protect: self.protect,
            replaced: self.replaced,
        })
    }
}

#[cfg(test)]
mod tests;
