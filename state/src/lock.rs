//! Stack locks: one mutating command per stack at a time.
//!
//! A lock is a row, inserted in a transaction that fails if one exists, so two processes can never
//! both win. The row names its holder, with when its process started: a holder on this host whose
//! process is gone (its pid unused, or used by a process that started at another time) is stale,
//! and the next command takes its lock over, saying so. A live holder's lock, or one on another
//! host (which cannot be checked), is never taken: `state unlock --force` releases those.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::s3::lease::LeaseHolder;
use crate::store::Inner;

/// Who holds a stack's lock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockHolder {
    /// The machine it runs on.
    pub host: String,
    /// Its process id.
    pub pid: u32,
    /// The command it runs (`up`, `destroy`, …).
    pub command: String,
    /// When it took the lock (RFC 3339).
    pub since: String,
    /// When the holder's process started (`<boot id>:<start time>`), empty if unknown (a lock
    /// written before this was recorded, or a system without `/proc`).
    pub started: String,
}

impl LockHolder {
    pub(crate) fn current(command: &str) -> Self {
        let pid = std::process::id();
        LockHolder {
            host: gethostname::gethostname().to_string_lossy().into_owned(),
            pid,
            command: command.to_string(),
            since: crate::store::now(),
            started: process_started(pid).unwrap_or_default(),
        }
    }

    /// True when the holder is on this host and its process no longer exists: its pid is not
    /// running, or is running a process that started at another time than the holder's.
    pub fn is_stale(&self) -> bool {
        let here = gethostname::gethostname().to_string_lossy().into_owned();
        if self.host != here {
            return false;
        }
        if !pid_alive(self.pid) {
            return true;
        }
        !self.started.is_empty() && process_started(self.pid).is_some_and(|now| now != self.started)
    }
}

/// When process `pid` started, as `<boot id>:<start time in clock ticks since boot>` (field 22
/// of `/proc/<pid>/stat`, after the parenthesised command name, which may hold spaces).
#[cfg(target_os = "linux")]
fn process_started(pid: u32) -> Option<String> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after_name = &stat[stat.rfind(')')? + 1..];
    // Fields from the state (the third) on: the start time is the 22nd, so the 20th here.
    let start = after_name.split_whitespace().nth(19)?;
    let boot = std::fs::read_to_string("/proc/sys/kernel/random/boot_id").unwrap_or_default();
    Some(format!("{}:{start}", boot.trim()))
}

#[cfg(not(target_os = "linux"))]
fn process_started(_pid: u32) -> Option<String> {
    None
}

impl fmt::Display for LockHolder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "`{}` (pid {} on {}, since {})",
            self.command, self.pid, self.host, self.since
        )
    }
}

#[cfg(target_os = "linux")]
fn pid_alive(pid: u32) -> bool {
    std::path::Path::new(&format!("/proc/{pid}")).exists()
}

#[cfg(not(target_os = "linux"))]
fn pid_alive(_pid: u32) -> bool {
    // Without a cheap portable check, assume alive: never steal a lock we cannot judge.
    true
}

/// Who holds (or held) a stack's lock: a process named in a local state's row, or the
/// holder of a lease in S3.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Holder {
    /// A process named in the state file's lock row.
    Local(LockHolder),
    /// The holder of the stack's lease in S3.
    Lease(LeaseHolder),
}

impl Holder {
    /// The command it runs.
    pub fn command(&self) -> &str {
        match self {
            Holder::Local(h) => &h.command,
            Holder::Lease(h) => &h.command,
        }
    }

    /// The machine it runs on.
    pub fn host(&self) -> &str {
        match self {
            Holder::Local(h) => &h.host,
            Holder::Lease(h) => &h.host,
        }
    }

    /// Its process id.
    pub fn pid(&self) -> u32 {
        match self {
            Holder::Local(h) => h.pid,
            Holder::Lease(h) => h.pid,
        }
    }

    /// Whether the holder may still be running: not a dead process, not an expired lease.
    pub fn is_live(&self) -> bool {
        match self {
            Holder::Local(h) => !h.is_stale(),
            Holder::Lease(h) => !h.expired(),
        }
    }

    /// Why a lock of this holder could be taken over.
    pub fn why_free(&self) -> &'static str {
        match self {
            Holder::Local(_) => "its process is gone",
            Holder::Lease(_) => "its lease expired (the holder stopped renewing it)",
        }
    }
}

impl fmt::Display for Holder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Holder::Local(h) => h.fmt(f),
            Holder::Lease(h) => h.fmt(f),
        }
    }
}

/// How taking a lock waits, and how long a lease in S3 lasts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LockOptions {
    /// How long to wait for a held lock before failing (Terraform's `-lock-timeout`).
    pub wait: Duration,
    /// How long a lease in S3 lasts unless renewed: how long a killed holder's lock stays.
    pub lease: Duration,
}

impl Default for LockOptions {
    fn default() -> Self {
        LockOptions {
            wait: Duration::ZERO,
            lease: Duration::from_secs(60),
        }
    }
}

/// Releases the lock when dropped, including on an early return or a panic.
pub struct LockGuard {
    pub(crate) inner: Arc<Inner>,
    pub(crate) stack: String,
    pub(crate) pid: u32,
    pub(crate) taken_over: Option<Holder>,
    /// A lease in S3 is held too: snapshot the stack and release it at the end.
    pub(crate) remote: bool,
}

impl LockGuard {
    /// The stale holder whose lock this one took over, if it did.
    pub fn taken_over(&self) -> Option<&Holder> {
        self.taken_over.as_ref()
    }
}

impl Drop for LockGuard {
    fn drop(&mut self) {
        let conn = self.inner.conn();
        // Delete only our own row: a lock released by hand and taken by another must survive.
        let _ = conn.execute(
            "DELETE FROM locks WHERE stack = ?1 AND pid = ?2",
            rusqlite::params![self.stack, self.pid],
        );
        drop(conn);
        if self.remote
            && let Some(remote) = &self.inner.remote
        {
            remote.release(&mut self.inner.conn());
        }
    }
}
