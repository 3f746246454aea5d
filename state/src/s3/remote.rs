//! A stack's objects in S3 besides its lock: the compacted snapshot and the journal after it.
//!
//! Each journal entry is one small object named by its sequence number (20 digits, so names
//! sort as numbers) and written only if no entry of that number exists (`If-None-Match: *`):
//! two writers can never both write the same entry, and a second one learns at once that it is
//! not alone. The snapshot is written only over the one it was read as (`If-Match` on its
//! ETag), or only if there is none yet. Opening a stack is reading the snapshot, then the
//! entries after the sequence number it folds in.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{Bucket, Got};
use crate::StateError;
use crate::snapshot::StackSnapshot;

/// The snapshot object: the stack as of journal entry `through` (0: before any).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RemoteSnapshot {
    /// The last journal entry folded into it.
    pub through: u64,
    /// The stack as of then.
    pub stack: StackSnapshot,
    /// Each keyed table's highest key ever handed out (SQLite's `sqlite_sequence`), so that a
    /// copy made from the snapshot never hands one out again.
    #[serde(default)]
    pub sequences: std::collections::BTreeMap<String, i64>,
}

/// What a conditional read of the snapshot found.
pub(crate) enum Fetched {
    Unchanged,
    Changed(Option<Box<(RemoteSnapshot, String)>>),
}

/// One stack's snapshot and journal in a bucket.
pub struct RemoteStack {
    bucket: Bucket,
    stack: String,
}

impl RemoteStack {
    /// The objects of `stack` in `bucket` (nothing is read yet).
    pub fn new(bucket: &Bucket, stack: &str) -> RemoteStack {
        RemoteStack {
            bucket: bucket.clone(),
            stack: stack.to_string(),
        }
    }

    fn key(&self, name: &str) -> String {
        self.bucket.location.key(&format!("{}/{name}", self.stack))
    }

    fn entry_key(&self, seq: u64) -> String {
        self.key(&format!("journal/{seq:020}.json"))
    }

    fn conflict(&self, what: &str) -> StateError {
        StateError::RemoteConflict {
            stack: self.stack.clone(),
            what: what.to_string(),
        }
    }

    /// The snapshot and its ETag, if the stack has one.
    pub async fn snapshot(&self) -> Result<Option<(RemoteSnapshot, String)>, StateError> {
        match self.snapshot_unless(None).await? {
            Fetched::Changed(s) => Ok(s.map(|s| *s)),
            Fetched::Unchanged => unreachable!("fetched without a condition"),
        }
    }

    /// The snapshot, unless it is still the one with ETag `known` (`If-None-Match`).
    pub(crate) async fn snapshot_unless(&self, known: Option<&str>) -> Result<Fetched, StateError> {
        let got = self
            .bucket
            .get_unless(&self.key("snapshot.json"), known)
            .await?;
        let (body, etag) = match got {
            Got::Unchanged => return Ok(Fetched::Unchanged),
            Got::Missing => return Ok(Fetched::Changed(None)),
            Got::Object(body, etag) => (body, etag),
        };
        let snapshot = serde_json::from_slice(&body)
            .map_err(|e| StateError::Snapshot(format!("the stack's snapshot: {e}")))?;
        Ok(Fetched::Changed(Some(Box::new((snapshot, etag)))))
    }

    /// Writes the snapshot over the one read as `previous` (or where there is none); returns
    /// its ETag. Refused if the snapshot changed meanwhile.
    pub async fn write_snapshot(
        &self,
        snapshot: &RemoteSnapshot,
        previous: Option<&str>,
    ) -> Result<String, StateError> {
        let body = serde_json::to_vec(snapshot).expect("a snapshot serialises");
        self.bucket
            .put_if(&self.key("snapshot.json"), body, previous)
            .await?
            .ok_or_else(|| self.conflict("the snapshot was written by another command"))
    }

    /// Adds journal entry `seq`. Refused if it exists: another command is writing. (Unless
    /// what is there is this very entry: the SDK sent it again after a response was lost.)
    pub async fn append(&self, seq: u64, entry: &Value) -> Result<(), StateError> {
        let body = serde_json::to_vec(entry).expect("an entry serialises");
        let key = self.entry_key(seq);
        if self
            .bucket
            .put_if(&key, body.clone(), None)
            .await?
            .is_some()
        {
            return Ok(());
        }
        match self.bucket.get(&key).await? {
            Some((there, _)) if there == body => Ok(()),
            _ => Err(self.conflict(&format!("journal entry {seq} exists already"))),
        }
    }

    /// The journal entries after `seq`, in order.
    pub async fn entries_after(&self, seq: u64) -> Result<Vec<(u64, Value)>, StateError> {
        let mut out = Vec::new();
        for (n, key) in self.entry_keys().await? {
            if n <= seq {
                continue;
            }
            let Some((body, _)) = self.bucket.get(&key).await? else {
                continue;
            };
            let entry = serde_json::from_slice(&body)
                .map_err(|e| StateError::Snapshot(format!("journal entry {n}: {e}")))?;
            out.push((n, entry));
        }
        Ok(out)
    }

    /// Removes the entries up to `seq`, once a snapshot folds them in.
    pub async fn drop_through(&self, seq: u64) -> Result<(), StateError> {
        let keys: Vec<String> = self
            .entry_keys()
            .await?
            .into_iter()
            .take_while(|(n, _)| *n <= seq)
            .map(|(_, key)| key)
            .collect();
        self.bucket.delete_all(keys).await
    }

    /// Removes entries `from..=through`, known to be the ones a snapshot just folded in: no
    /// listing, a thousand keys a request.
    pub(crate) async fn drop_range(&self, from: u64, through: u64) -> Result<(), StateError> {
        self.bucket
            .delete_all((from..=through).map(|n| self.entry_key(n)).collect())
            .await
    }

    /// Every journal entry's number and key, in order.
    async fn entry_keys(&self) -> Result<Vec<(u64, String)>, StateError> {
        let b = &self.bucket;
        let prefix = self.key("journal/");
        let mut keys = Vec::new();
        let mut pages = b
            .client
            .list_objects_v2()
            .bucket(&b.location.bucket)
            .prefix(&prefix)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| b.failed(&e))?;
            for object in page.contents() {
                let Some(key) = object.key() else { continue };
                let number = key
                    .strip_prefix(&prefix)
                    .and_then(|n| n.strip_suffix(".json"))
                    .and_then(|n| n.parse().ok());
                if let Some(n) = number {
                    keys.push((n, key.to_string()));
                }
            }
        }
        keys.sort();
        Ok(keys)
    }
}
