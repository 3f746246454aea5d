//! Stack locks: one mutating command per stack at a time.
//!
//! A lock is a row, inserted in a transaction that fails if one exists, so two processes can never
//! both win. The row names its holder; a holder on this host whose pid is gone is stale and can be
//! released by hand (`state unlock`), while a live holder's lock is never stolen.

use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::store::Inner;

/// Who holds a stack's lock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockHolder {
    pub host: String,
    pub pid: u32,
    pub command: String,
    pub since: String,
}

impl LockHolder {
    pub(crate) fn current(command: &str) -> Self {
        LockHolder {
            host: gethostname::gethostname().to_string_lossy().into_owned(),
            pid: std::process::id(),
            command: command.to_string(),
            since: crate::store::now(),
        }
    }

    /// True when the holder is on this host and its process no longer exists.
    pub fn is_stale(&self) -> bool {
        let here = gethostname::gethostname().to_string_lossy().into_owned();
        self.host == here && !pid_alive(self.pid)
    }
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

/// Releases the lock when dropped, including on an early return or a panic.
pub struct LockGuard {
    pub(crate) inner: Arc<Inner>,
    pub(crate) stack: String,
    pub(crate) pid: u32,
}

impl Drop for LockGuard {
    fn drop(&mut self) {
        let conn = self.inner.conn();
        // Delete only our own row: a lock released by hand and taken by another must survive.
        let _ = conn.execute(
            "DELETE FROM locks WHERE stack = ?1 AND pid = ?2",
            rusqlite::params![self.stack, self.pid],
        );
    }
}
