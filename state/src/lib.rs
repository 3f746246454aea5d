//! Cairn's state store: what exists, what is in flight, who holds the lock, and what happened.
//!
//! One SQLite database holds any number of stacks. Every completed operation is committed in its
//! own small transaction (never a rewrite of the whole snapshot), so a killed process loses
//! nothing that finished, and an operation is recorded as pending before its provider call, so the
//! next run knows what may have happened while nobody was watching.

#![warn(missing_docs)]

mod crypto;
mod error;
pub mod files;
mod lock;
mod records;
pub mod s3;
mod schema;
mod secrets;
mod snapshot;
mod store;

pub use crypto::{
    CryptoError, Kdf, MIN_PASSPHRASE_LEN, NEW_PASSPHRASE_VAR, PASSPHRASE_VAR, SecretKey,
};
pub use error::StateError;
pub use lock::{Holder, LockGuard, LockHolder, LockOptions};
pub use records::{OpKind, PendingOp, ResourceRecord, StackSummary, StackVersion, UpdateRecord};
pub use schema::SCHEMA_VERSION;
pub use secrets::SECRET_MARKER;
pub use snapshot::{SealingKey, StackSnapshot};
pub use store::Store;
