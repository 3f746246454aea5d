//! A stack kept in S3, worked on through a local SQLite copy with the same schema, so that the
//! engine has one code path whatever the backend.
//!
//! Opening makes the copy what S3 holds: the snapshot, then the journal entries after it.
//! After every write to the copy (each pending record, each completed operation) the rows it
//! touched, as they now are, go to S3 as the next journal entry before the write returns
//! (`journal.rs`), so what reaches S3 is per operation and of the operation's size, never the
//! whole state. Taking the lock (a lease, `lease.rs`) reads what others wrote since the copy was
//! made. A snapshot folds the journal in at the end of each locked command, and every
//! [`SNAPSHOT_EVERY`] entries during a long one; the entries it folds in are then removed.
//!
//! A write that could not reach S3 (or found it written by another command) leaves the copy
//! ahead of S3: from then on every write fails, so the command stops, and the next command
//! (from any machine) settles what was in flight from the pending records S3 does hold.

use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Duration;

use chrono::Utc;
use rusqlite::Connection;

use super::journal::{self, Entry, Touched};
use super::lease::{KeptLease, Lease, LeaseHolder};
use super::remote::{Fetched, RemoteSnapshot, RemoteStack};
use super::{Bucket, BucketProblem, Location};
use crate::StateError;
use crate::snapshot;

/// Journal entries between two snapshots written while a command runs: a machine opening the
/// stack after a crash reads at most this many entries after the snapshot.
pub(crate) const SNAPSHOT_EVERY: u64 = 1000;

/// How far the copy is in the stack's journal, and what it holds in S3.
struct Position {
    /// The number the next entry gets.
    next: u64,
    /// The last entry the snapshot folds in (0: none).
    folded: u64,
    /// The ETag of the snapshot this copy knows, if there is one.
    snapshot: Option<String>,
    /// How many entries were read off the copy (or found empty), and how many of those are in
    /// S3: a writer waits until the one holding its rows is.
    taken: u64,
    durable: u64,
    /// An entry is being written: the next waits for it.
    in_flight: bool,
    lease: Option<KeptLease>,
    /// Why this copy may no longer write to S3.
    broken: Option<String>,
}

pub(crate) struct Remote {
    rt: Background,
    bucket: Bucket,
    objects: RemoteStack,
    stack: String,
    /// Rows the update hook saw change since the last entry.
    touched: Arc<Touched>,
    position: Mutex<Position>,
    /// Signalled when an entry has been written (or failed).
    sent: Condvar,
    /// The working copy's private directory, removed with the store.
    _dir: tempfile::TempDir,
}

/// The S3 client's own runtime (the lease is renewed on it while the engine's is busy).
/// Dropped without waiting: a store may be dropped on an async task, where a runtime may not
/// block to shut down, and nothing is left on it by then that must finish.
struct Background(Option<tokio::runtime::Runtime>);

impl std::ops::Deref for Background {
    type Target = tokio::runtime::Runtime;
    fn deref(&self) -> &tokio::runtime::Runtime {
        self.0.as_ref().expect("only taken when dropped")
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        if let Some(rt) = self.0.take() {
            rt.shutdown_background();
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // Whatever panicked while holding these left them whole (plain values, replaced at once).
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Runs `f` to completion on `rt`, from a thread of its own: the store's callers are
/// synchronous, and often on a runtime's thread themselves, where `block_on` is not allowed.
fn block<F>(rt: &tokio::runtime::Runtime, f: F) -> F::Output
where
    F: std::future::Future + Send,
    F::Output: Send,
{
    std::thread::scope(|s| {
        s.spawn(|| rt.block_on(f))
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })
}

/// Where the copy stood after reading S3.
struct Loaded {
    next: u64,
    folded: u64,
    snapshot: Option<String>,
}

impl Remote {
    /// Connects to the bucket (checking it first) and prepares a working copy's directory;
    /// the copy itself is filled by [`Remote::load`].
    pub(crate) fn connect(
        location: Location,
        stack: &str,
        sdk: Option<&aws_config::SdkConfig>,
    ) -> Result<(Remote, std::path::PathBuf), StateError> {
        let unreachable = |e: &dyn std::fmt::Display| StateError::Bucket {
            bucket: location.bucket.clone(),
            problem: BucketProblem::Unreachable,
            cause: e.to_string(),
        };
        // Wrapped at once: an error below drops it, often on an async task.
        let rt = Background(Some(
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .thread_name("cairn-s3")
                .enable_all()
                .build()
                .map_err(|e| unreachable(&e))?,
        ));
        let bucket = match sdk {
            Some(sdk) => block(&rt, Bucket::connect_with(location.clone(), sdk))?,
            None => block(&rt, Bucket::connect(location.clone()))?,
        };
        // Private (0700) and of this process alone: two commands on one machine never share
        // a copy, and a killed one leaves nothing that a later one would trust.
        let dir = tempfile::Builder::new()
            .prefix("cairn-s3-")
            .tempdir()
            .map_err(|cause| StateError::Directory {
                path: std::env::temp_dir(),
                cause,
            })?;
        let path = dir.path().join("state.db");
        let objects = RemoteStack::new(&bucket, stack);
        Ok((
            Remote {
                rt,
                bucket,
                objects,
                stack: stack.to_string(),
                touched: Default::default(),
                sent: Condvar::new(),
                position: Mutex::new(Position {
                    next: 1,
                    folded: 0,
                    snapshot: None,
                    taken: 0,
                    durable: 0,
                    in_flight: false,
                    lease: None,
                    broken: None,
                }),
                _dir: dir,
            },
            path,
        ))
    }

    pub(crate) fn requests(&self) -> super::RequestCounts {
        self.bucket.requests()
    }

    pub(crate) fn location(&self) -> &Location {
        &self.bucket.location
    }

    /// What the update hook records into.
    pub(crate) fn touched(&self) -> Arc<Touched> {
        self.touched.clone()
    }

    /// Makes the copy of the stack what S3 holds.
    pub(crate) fn load(&self, conn: &mut Connection) -> Result<(), StateError> {
        let loaded = read_into(&self.rt, &self.objects, &self.stack, conn)?;
        self.settle(loaded);
        Ok(())
    }

    fn settle(&self, loaded: Loaded) {
        // What reading wrote into the copy is S3's already.
        self.touched.take();
        let mut p = lock(&self.position);
        p.next = loaded.next;
        p.folded = loaded.folded;
        p.snapshot = loaded.snapshot;
    }

    /// Takes the stack's lock in S3 for `command`, waiting up to `wait` for a live lease to
    /// expire, then brings the copy up to what S3 holds. Returns the holder whose expired lease
    /// was taken over, if one was.
    pub(crate) fn acquire(
        &self,
        conn: &mut Connection,
        command: &str,
        lease: Duration,
        wait: Duration,
    ) -> Result<Option<LeaseHolder>, StateError> {
        let deadline = Utc::now() + wait;
        let taken = block(&self.rt, async {
            loop {
                match Lease::acquire(&self.bucket, &self.stack, command, lease).await {
                    // A lease that ends before the deadline: wait for its end, then take it.
                    Err(StateError::LeaseHeld { holder, .. }) if holder.expires < deadline => {
                        let left = (holder.expires - Utc::now()).to_std().unwrap_or_default();
                        tokio::time::sleep(left + Duration::from_millis(100)).await;
                    }
                    // A live holder renews: its lease moves on, so look again, until the deadline.
                    Err(StateError::LeaseHeld { .. }) if Utc::now() < deadline => {
                        let left = (deadline - Utc::now()).to_std().unwrap_or_default();
                        tokio::time::sleep(left.min(lease / 3).max(Duration::from_millis(100)))
                            .await;
                    }
                    other => return other,
                }
            }
        })?;
        let previous = taken.taken_over().cloned();
        let kept = {
            let _in = self.rt.enter();
            taken.keep()
        };
        lock(&self.position).lease = Some(kept);
        if let Err(e) = self.catch_up(conn) {
            self.release(conn);
            return Err(e);
        }
        Ok(previous)
    }

    /// Reads what was written since the copy was made: the entries after it, or everything
    /// again if a snapshot replaced the one it started from.
    fn catch_up(&self, conn: &mut Connection) -> Result<(), StateError> {
        let (known, next) = {
            let p = lock(&self.position);
            (p.snapshot.clone(), p.next)
        };
        let fetched = block(&self.rt, self.objects.snapshot_unless(known.as_deref()))?;
        if !matches!(fetched, Fetched::Unchanged) {
            return self.load(conn);
        }
        let entries = block(&self.rt, self.objects.entries_after(next - 1))?;
        if entries.is_empty() {
            return Ok(());
        }
        if !contiguous(&entries, next) {
            return self.load(conn);
        }
        let tx = conn.transaction()?;
        let mut last = next - 1;
        for (n, entry) in &entries {
            journal::apply(&tx, &self.stack, &parse_entry(*n, entry)?)?;
            last = *n;
        }
        tx.commit()?;
        self.touched.take();
        lock(&self.position).next = last + 1;
        Ok(())
    }

    /// How many row writes the working copy has seen.
    pub(crate) fn writes(&self) -> u64 {
        self.touched.writes()
    }

    /// Returns once what the caller wrote under `guard` is in S3. Entries go one at a time, in
    /// the order they were read off the copy; a writer that finds one on its way lets the
    /// connection go and waits, and the next entry carries the rows of every writer that waited
    /// meanwhile (group commit): many operations finishing together cost one request, and no
    /// write waits behind more than one entry.
    pub(crate) fn publish<'c>(
        &self,
        conns: &'c Mutex<Connection>,
        mut guard: MutexGuard<'c, Connection>,
    ) -> Result<(), StateError> {
        if !guard.is_autocommit() {
            // Published when the transaction's guard ends.
            return Ok(());
        }
        let mut p = lock(&self.position);
        // The entry the caller's rows go in: the next one read off the copy (none has been
        // since they were written, as that takes the connection, which the caller holds).
        let mine = p.taken + 1;
        // Locks are taken in one order, connection then position, everywhere.
        loop {
            if let Some(why) = &p.broken {
                return Err(self.broken(why));
            }
            if p.durable >= mine {
                return Ok(());
            }
            if p.in_flight {
                drop(guard);
                p = self.sent.wait(p).unwrap_or_else(|e| e.into_inner());
                drop(p);
                guard = conns.lock().unwrap_or_else(|e| e.into_inner());
                p = lock(&self.position);
                continue;
            }
            if p.lease.as_ref().is_some_and(|l| !l.is_held()) {
                p.broken = Some("its lock was lost".into());
                self.sent.notify_all();
                return Err(StateError::LeaseLost {
                    stack: self.stack.clone(),
                });
            }
            let entry = match journal::capture(&guard, &self.stack, &self.touched.take()) {
                Ok(entry) => entry,
                Err(e) => {
                    p.broken = Some(e.to_string());
                    self.sent.notify_all();
                    return Err(e);
                }
            };
            p.taken += 1;
            let batch = p.taken;
            if entry.is_empty() {
                p.durable = batch;
                continue;
            }
            let n = p.next;
            p.next += 1;
            p.in_flight = true;
            drop(p);
            drop(guard);
            let body = serde_json::to_value(&entry).expect("an entry serialises");
            let sent = block(&self.rt, self.objects.append(n, &body));
            guard = conns.lock().unwrap_or_else(|e| e.into_inner());
            p = lock(&self.position);
            p.in_flight = false;
            self.sent.notify_all();
            if let Err(e) = sent {
                p.broken = Some(e.to_string());
                return Err(e);
            }
            p.durable = batch;
            if p.next - 1 - p.folded >= SNAPSHOT_EVERY {
                self.compact(&mut guard, &mut p);
            }
        }
    }

    fn broken(&self, why: &str) -> StateError {
        StateError::RemoteBroken {
            stack: self.stack.clone(),
            cause: why.to_string(),
        }
    }

    /// Writes a snapshot folding in every entry so far, and removes those entries. A failure
    /// only leaves the journal longer (it is still the truth), unless another command wrote
    /// the snapshot: then this one is not alone, and stops writing.
    fn compact(&self, conn: &mut Connection, p: &mut Position) {
        let through = p.next - 1;
        if through == p.folded || p.broken.is_some() {
            return;
        }
        let written = (|| {
            let Some(stack) = snapshot::export(conn, &self.stack)? else {
                return Ok(None);
            };
            let snapshot = RemoteSnapshot {
                through,
                stack,
                sequences: sequences(conn)?,
            };
            block(
                &self.rt,
                self.objects
                    .write_snapshot(&snapshot, p.snapshot.as_deref()),
            )
            .map(Some)
        })();
        match written {
            Ok(Some(etag)) => {
                let from = p.folded + 1;
                p.snapshot = Some(etag);
                p.folded = through;
                if let Err(e) = block(&self.rt, self.objects.drop_range(from, through)) {
                    tracing::warn!("journal entries {from} to {through} were not removed: {e}");
                }
            }
            Ok(None) => {}
            Err(e @ StateError::RemoteConflict { .. }) => {
                tracing::error!("{e}");
                p.broken = Some(e.to_string());
            }
            Err(e) => tracing::warn!("the stack's snapshot was not written: {e}"),
        }
    }

    /// At the end of a locked command: a snapshot of what it did, then the lock released.
    pub(crate) fn release(&self, conn: &mut Connection) {
        let mut p = lock(&self.position);
        self.compact(conn, &mut p);
        if let Some(lease) = p.lease.take()
            && let Err(e) = block(&self.rt, lease.release())
        {
            tracing::warn!("the stack's lock in S3 was not released: {e}");
        }
    }

    /// Removes the stack's lock: one whose lease expired, or with `force` any.
    pub(crate) fn unlock(&self, force: bool) -> Result<LeaseHolder, StateError> {
        block(&self.rt, Lease::unlock(&self.bucket, &self.stack, force))
    }

    /// The stack's lock holder in S3, if it is locked.
    pub(crate) fn holder(&self) -> Result<Option<LeaseHolder>, StateError> {
        block(&self.rt, Lease::holder_of(&self.bucket, &self.stack))
    }

    /// Every stack under the location, each read into a scratch database by `summarise`.
    pub(crate) fn each_stack<T>(
        &self,
        mut summarise: impl FnMut(&Connection) -> Result<Vec<T>, StateError>,
    ) -> Result<Vec<T>, StateError> {
        let names = block(&self.rt, self.bucket.stack_names())?;
        let mut out = Vec::new();
        for name in names {
            let mut conn = Connection::open_in_memory()?;
            crate::schema::migrate(&mut conn, 0)?;
            let objects = RemoteStack::new(&self.bucket, &name);
            read_into(&self.rt, &objects, &name, &mut conn)?;
            out.extend(summarise(&conn)?);
        }
        Ok(out)
    }
}

fn contiguous(entries: &[(u64, serde_json::Value)], from: u64) -> bool {
    entries
        .iter()
        .enumerate()
        .all(|(i, (n, _))| *n == from + i as u64)
}

fn parse_entry(n: u64, entry: &serde_json::Value) -> Result<Entry, StateError> {
    serde_json::from_value(entry.clone())
        .map_err(|e| StateError::Snapshot(format!("journal entry {n}: {e}")))
}

/// `sqlite_sequence`: the highest key each keyed table handed out.
fn sequences(conn: &Connection) -> Result<std::collections::BTreeMap<String, i64>, StateError> {
    let mut st = conn.prepare("SELECT name, seq FROM sqlite_sequence")?;
    let rows = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Makes `conn`'s copy of `stack` the snapshot and the entries after it, in one transaction.
/// A snapshot written between reading it and listing the entries (another command
/// compacting) shows as a gap in the entries: read again.
fn read_into(
    rt: &tokio::runtime::Runtime,
    objects: &RemoteStack,
    stack: &str,
    conn: &mut Connection,
) -> Result<Loaded, StateError> {
    for _ in 0..5 {
        let snapshot = block(rt, objects.snapshot())?;
        let folded = snapshot.as_ref().map_or(0, |(s, _)| s.through);
        let entries = block(rt, objects.entries_after(folded))?;
        if !contiguous(&entries, folded + 1) {
            continue;
        }
        let tx = conn.transaction()?;
        match &snapshot {
            Some((s, _)) => {
                snapshot::restore(&tx, &s.stack)?;
                for (table, seq) in &s.sequences {
                    journal::keep_sequence_above(&tx, table, *seq)?;
                }
            }
            None => snapshot::clear(&tx, stack)?,
        }
        for (n, entry) in &entries {
            journal::apply(&tx, stack, &parse_entry(*n, entry)?)?;
        }
        tx.commit()?;
        return Ok(Loaded {
            next: folded + entries.len() as u64 + 1,
            folded,
            snapshot: snapshot.map(|(_, etag)| etag),
        });
    }
    Err(StateError::RemoteConflict {
        stack: stack.to_string(),
        what: "its journal kept changing while it was read".into(),
    })
}
