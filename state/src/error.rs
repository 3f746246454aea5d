//! Errors of the state store.

use std::path::PathBuf;

use crate::lock::LockHolder;

/// What can go wrong with the state: each kind a variant that callers and tests match on.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("state database {path} is unreadable (truncated or corrupted): {cause}")]
    /// The database file cannot be read as one.
    Corrupt {
        /// The database file.
        path: PathBuf,
        /// SQLite's words.
        cause: String,
    },

    #[error(
        "state database {path} has schema version {found}, newer than this build of Cairn understands ({supported}); upgrade Cairn"
    )]
    /// A newer Cairn wrote the database.
    NewerSchema {
        /// The database file.
        path: PathBuf,
        /// Its schema version.
        found: i64,
        /// The newest this build reads.
        supported: i64,
    },

    #[error("stack '{stack}' is locked by {holder}{}", stale_note(holder))]
    /// Another live command holds the stack's lock.
    Locked {
        /// The stack.
        stack: String,
        /// Who holds it.
        holder: Box<LockHolder>,
    },

    #[error("stack '{stack}' has no lock to release")]
    /// `state unlock` found no lock.
    NotLocked {
        /// The stack.
        stack: String,
    },

    #[error("stack '{stack}' is locked by a live process ({holder}); refusing to release it")]
    /// `state unlock` without `--force` met a lock whose holder still runs.
    LockAlive {
        /// The stack.
        stack: String,
        /// Who holds it.
        holder: Box<LockHolder>,
    },

    #[error("state record for '{name}' in stack '{stack}' is malformed: {cause}")]
    /// A record that does not parse.
    Malformed {
        /// The stack.
        stack: String,
        /// The resource.
        name: String,
        /// What is wrong with it.
        cause: String,
    },

    #[error("cannot create the state directory {path}: {cause}")]
    /// The state's directory cannot be made private.
    Directory {
        /// The directory.
        path: PathBuf,
        /// The system's words.
        cause: std::io::Error,
    },

    #[error("the state bucket '{bucket}' cannot be used: {problem} ({cause})")]
    /// The S3 bucket of `--state s3://…` is missing, forbidden or elsewhere.
    Bucket {
        /// The bucket.
        bucket: String,
        /// What is wrong with it.
        problem: crate::s3::BucketProblem,
        /// S3's words.
        cause: String,
    },

    #[error(
        "stack '{stack}' is locked by {holder}: its lease is live; wait for it (--lock-timeout 10m), or, if that command is surely gone, `state unlock --force`"
    )]
    /// Another command's lease on the stack in S3 is live.
    LeaseHeld {
        /// The stack.
        stack: String,
        /// Whose lease it is.
        holder: Box<crate::s3::lease::LeaseHolder>,
    },

    #[error(
        "stack '{stack}': this command's lock was lost (its lease ran out and another command took it over); it must stop"
    )]
    /// This command's lease ran out and was taken over: it must stop writing.
    LeaseLost {
        /// The stack.
        stack: String,
    },

    #[error("stack '{stack}' in S3: {what}; another command is writing it")]
    /// An object in S3 changed under this command (a conditional write refused).
    RemoteConflict {
        /// The stack.
        stack: String,
        /// Which object, and how.
        what: String,
    },

    #[error(
        "stack '{stack}' in S3: an earlier write of this command did not reach S3 ({cause}); it stops writing, and the next command settles what it left in flight"
    )]
    /// An earlier write did not reach S3: every later one fails.
    RemoteBroken {
        /// The stack.
        stack: String,
        /// Why the earlier write failed.
        cause: String,
    },

    #[error("stack '{0}' already exists in this state: nothing was imported")]
    /// An import or migration would go over a stack that exists (its name).
    StackExists(String),

    #[error("the stack snapshot cannot be read: {0}")]
    /// A stack snapshot (an export, or S3's copy) does not parse (why).
    Snapshot(String),

    #[error("cannot create the state file {path}: {cause}")]
    /// A state file cannot be made.
    File {
        /// The file.
        path: PathBuf,
        /// The system's words.
        cause: std::io::Error,
    },

    #[error(transparent)]
    /// Sealing or opening a secret failed (no passphrase, a wrong one, a damaged value).
    Secrets(#[from] crate::crypto::CryptoError),

    #[error("state database error: {0}")]
    /// SQLite refused.
    Sqlite(#[from] rusqlite::Error),
}

fn stale_note(holder: &LockHolder) -> &'static str {
    if holder.is_stale() {
        "; that process no longer exists (it was killed or crashed): release the lock with \
         `state unlock`, and the next `up` settles what it left in flight"
    } else {
        ""
    }
}
