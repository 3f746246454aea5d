//! Errors of the state store.

use std::path::PathBuf;

use crate::lock::LockHolder;

#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("state database {path} is unreadable (truncated or corrupted): {cause}")]
    Corrupt { path: PathBuf, cause: String },

    #[error(
        "state database {path} has schema version {found}, newer than this build of Cairn understands ({supported}); upgrade Cairn"
    )]
    NewerSchema {
        path: PathBuf,
        found: i64,
        supported: i64,
    },

    #[error("stack '{stack}' is locked by {holder}{}", stale_note(holder))]
    Locked {
        stack: String,
        holder: Box<LockHolder>,
    },

    #[error("stack '{stack}' has no lock to release")]
    NotLocked { stack: String },

    #[error("stack '{stack}' is locked by a live process ({holder}); refusing to release it")]
    LockAlive {
        stack: String,
        holder: Box<LockHolder>,
    },

    #[error("state record for '{name}' in stack '{stack}' is malformed: {cause}")]
    Malformed {
        stack: String,
        name: String,
        cause: String,
    },

    #[error("cannot create the state directory {path}: {cause}")]
    Directory {
        path: PathBuf,
        cause: std::io::Error,
    },

    #[error("the state bucket '{bucket}' cannot be used: {problem} ({cause})")]
    Bucket {
        bucket: String,
        problem: crate::s3::BucketProblem,
        cause: String,
    },

    #[error(
        "stack '{stack}' is locked by {holder}: its lease is live; wait for it (--lock-timeout 10m), or, if that command is surely gone, `state unlock --force`"
    )]
    LeaseHeld {
        stack: String,
        holder: Box<crate::s3::lease::LeaseHolder>,
    },

    #[error(
        "stack '{stack}': this command's lock was lost (its lease ran out and another command took it over); it must stop"
    )]
    LeaseLost { stack: String },

    #[error("stack '{stack}' in S3: {what}; another command is writing it")]
    RemoteConflict { stack: String, what: String },

    #[error(
        "stack '{stack}' in S3: an earlier write of this command did not reach S3 ({cause}); it stops writing, and the next command settles what it left in flight"
    )]
    RemoteBroken { stack: String, cause: String },

    #[error("stack '{0}' already exists in this state: nothing was imported")]
    StackExists(String),

    #[error("the stack snapshot cannot be read: {0}")]
    Snapshot(String),

    #[error("cannot create the state file {path}: {cause}")]
    File {
        path: PathBuf,
        cause: std::io::Error,
    },

    #[error(transparent)]
    Secrets(#[from] crate::crypto::CryptoError),

    #[error("state database error: {0}")]
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
