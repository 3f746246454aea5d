//! A stack's lock in S3, with a lease: an object written only if none exists
//! (`If-None-Match: *`), so two commands can never both win. It names the holder (user, host,
//! pid, command, since) and when its lease expires. The holder renews the lease while it runs
//! (each renewal conditional on the object being the one it wrote, `If-Match` on its ETag).
//!
//! A lock whose lease has expired belongs to a holder that stopped renewing (killed, or cut
//! off): the next command takes it over, again with `If-Match`, so of two takers only one wins.
//! A live lease is never taken; `state unlock --force` removes any lock. Terraform's S3 lock
//! has no lease (a crashed holder's lock stays until someone forces it); this one frees itself.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tokio::sync::Mutex;

use super::{Bucket, precondition_failed};
use crate::StateError;

/// Who holds a stack's lock in S3, and until when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeaseHolder {
    /// The user it runs as.
    pub user: String,
    /// The machine it runs on.
    pub host: String,
    /// Its process id.
    pub pid: u32,
    /// The command it runs.
    pub command: String,
    /// When it took the lease.
    pub since: DateTime<Utc>,
    /// When the lease runs out unless renewed: after that, another command may take it over.
    pub expires: DateTime<Utc>,
}

impl LeaseHolder {
    fn current(command: &str, lease: Duration) -> LeaseHolder {
        let now = Utc::now();
        LeaseHolder {
            user: ["USER", "LOGNAME", "USERNAME"]
                .iter()
                .find_map(|v| std::env::var(v).ok().filter(|u| !u.is_empty()))
                .unwrap_or_default(),
            host: gethostname::gethostname().to_string_lossy().into_owned(),
            pid: std::process::id(),
            command: command.to_string(),
            since: now,
            expires: now + lease,
        }
    }

    /// Whether it has run out.
    pub fn expired(&self) -> bool {
        Utc::now() > self.expires
    }
}

impl std::fmt::Display for LeaseHolder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if !self.user.is_empty() {
            write!(f, "{}@", self.user)?;
        }
        write!(
            f,
            "{} (pid {}, `{}`, since {}, lease until {})",
            self.host,
            self.pid,
            self.command,
            self.since.format("%Y-%m-%dT%H:%M:%SZ"),
            self.expires.format("%Y-%m-%dT%H:%M:%SZ")
        )
    }
}

/// A held lock. Renew it before its lease runs out ([`Lease::keep`] does, in the background),
/// and release it at the end.
pub struct Lease {
    bucket: Bucket,
    key: String,
    etag: String,
    holder: LeaseHolder,
    lease: Duration,
    taken_over: Option<LeaseHolder>,
}

fn lock_key(bucket: &Bucket, stack: &str) -> String {
    bucket.location.key(&format!("{stack}/lock.json"))
}

/// The lock's holder and the object's ETag, if there is a lock.
async fn read(bucket: &Bucket, key: &str) -> Result<Option<(LeaseHolder, String)>, StateError> {
    let Some((body, etag)) = bucket.get(key).await? else {
        return Ok(None);
    };
    let holder = serde_json::from_slice(&body)
        .map_err(|e| StateError::Snapshot(format!("the lock object {key} is not a lock: {e}")))?;
    Ok(Some((holder, etag)))
}

/// Writes `holder` as the lock, only if there is none (`None`) or it is still the object with
/// ETag `over`. `Ok(None)`: the condition did not hold.
async fn write(
    bucket: &Bucket,
    key: &str,
    holder: &LeaseHolder,
    over: Option<&str>,
) -> Result<Option<String>, StateError> {
    let body = serde_json::to_vec_pretty(holder).expect("a holder serialises");
    bucket.put_if(key, body, over).await
}

impl Lease {
    /// Takes `stack`'s lock for `command` with a lease of `lease`: at once if there is none,
    /// by taking it over if the holder's lease has expired, and otherwise not at all (the error
    /// names the holder).
    pub async fn acquire(
        bucket: &Bucket,
        stack: &str,
        command: &str,
        lease: Duration,
    ) -> Result<Lease, StateError> {
        let key = lock_key(bucket, stack);
        let held = |holder: LeaseHolder| StateError::LeaseHeld {
            stack: stack.to_string(),
            holder: Box::new(holder),
        };
        // Twice at most: a lock released between our write and our read is simply gone.
        for _ in 0..2 {
            let me = LeaseHolder::current(command, lease);
            if let Some(etag) = write(bucket, &key, &me, None).await? {
                return Ok(Lease::held(bucket, key, etag, me, lease, None));
            }
            let Some((holder, etag)) = read(bucket, &key).await? else {
                continue;
            };
            if !holder.expired() {
                return Err(held(holder));
            }
            let me = LeaseHolder::current(command, lease);
            return match write(bucket, &key, &me, Some(&etag)).await? {
                Some(etag) => Ok(Lease::held(bucket, key, etag, me, lease, Some(holder))),
                // Another command took it over first.
                None => match read(bucket, &key).await? {
                    Some((winner, _)) => Err(held(winner)),
                    None => Err(held(holder)),
                },
            };
        }
        Err(StateError::LeaseLost {
            stack: stack.to_string(),
        })
    }

    fn held(
        bucket: &Bucket,
        key: String,
        etag: String,
        holder: LeaseHolder,
        lease: Duration,
        taken_over: Option<LeaseHolder>,
    ) -> Lease {
        Lease {
            bucket: bucket.clone(),
            key,
            etag,
            holder,
            lease,
            taken_over,
        }
    }

    /// The holder whose expired lease this one took over, if it did.
    pub fn taken_over(&self) -> Option<&LeaseHolder> {
        self.taken_over.as_ref()
    }

    /// Who holds it: this command.
    pub fn holder(&self) -> &LeaseHolder {
        &self.holder
    }

    /// Extends the lease by its length from now. Fails if the lock is no longer this one (the
    /// lease ran out and another command took it over): the holder must stop writing.
    pub async fn renew(&mut self) -> Result<(), StateError> {
        let mut next = self.holder.clone();
        next.expires = Utc::now() + self.lease;
        match write(&self.bucket, &self.key, &next, Some(&self.etag)).await? {
            Some(etag) => {
                self.etag = etag;
                self.holder = next;
                Ok(())
            }
            None => Err(self.lost()),
        }
    }

    /// Removes the lock, if it is still this one.
    pub async fn release(self) -> Result<(), StateError> {
        let deleted = self
            .bucket
            .client
            .delete_object()
            .bucket(&self.bucket.location.bucket)
            .key(&self.key)
            .if_match(&self.etag)
            .send()
            .await;
        match deleted {
            Ok(_) => Ok(()),
            // Another command's lock now, or none at all (forced away): not ours to remove,
            // and what this command wrote since may not have been under the lock.
            Err(e)
                if precondition_failed(&e)
                    || e.raw_response().is_some_and(|r| r.status().as_u16() == 404) =>
            {
                Err(self.lost())
            }
            Err(e) => Err(self.bucket.failed(&e)),
        }
    }

    fn lost(&self) -> StateError {
        StateError::LeaseLost {
            stack: self.key.rsplit('/').nth(1).unwrap_or_default().to_string(),
        }
    }

    /// Renews the lease in the background every third of its length until released.
    pub fn keep(self) -> KeptLease {
        let every = self.lease / 3;
        let until = Arc::new(AtomicI64::new(self.holder.expires.timestamp_millis()));
        let lease = Arc::new(Mutex::new(Some(self)));
        let renewing = {
            let (lease, until) = (lease.clone(), until.clone());
            tokio::spawn(async move {
                let mut wait = every;
                loop {
                    tokio::time::sleep(wait).await;
                    let mut guard = lease.lock().await;
                    let Some(held) = guard.as_mut() else { return };
                    match held.renew().await {
                        Ok(()) => {
                            until.store(held.holder.expires.timestamp_millis(), Ordering::SeqCst);
                            wait = every;
                        }
                        Err(e @ StateError::LeaseLost { .. }) => {
                            tracing::error!("{e}");
                            return;
                        }
                        // A request that failed (S3 unreachable for a moment): try again soon,
                        // while the lease lasts; after that another command may hold it.
                        Err(e) if !held.holder.expired() => {
                            tracing::warn!("the stack's lock could not be renewed, retrying: {e}");
                            wait = (every / 10).max(Duration::from_millis(100));
                        }
                        Err(e) => {
                            tracing::error!("the stack's lock could not be renewed: {e}");
                            return;
                        }
                    }
                }
            })
        };
        KeptLease {
            lease,
            renewing,
            until,
        }
    }

    /// Who holds `stack`'s lock, if anyone does.
    pub async fn holder_of(
        bucket: &Bucket,
        stack: &str,
    ) -> Result<Option<LeaseHolder>, StateError> {
        Ok(read(bucket, &lock_key(bucket, stack))
            .await?
            .map(|(h, _)| h))
    }

    /// Removes `stack`'s lock if its lease has expired, or with `force` whoever holds it
    /// (`state unlock`); returns the holder it was.
    pub async fn unlock(
        bucket: &Bucket,
        stack: &str,
        force: bool,
    ) -> Result<LeaseHolder, StateError> {
        let key = lock_key(bucket, stack);
        let Some((holder, etag)) = read(bucket, &key).await? else {
            return Err(StateError::NotLocked {
                stack: stack.to_string(),
            });
        };
        if !force && !holder.expired() {
            return Err(StateError::LeaseHeld {
                stack: stack.to_string(),
                holder: Box::new(holder),
            });
        }
        let deleted = bucket
            .client
            .delete_object()
            .bucket(&bucket.location.bucket)
            .key(&key)
            .if_match(&etag)
            .send()
            .await;
        match deleted {
            Ok(_) => Ok(holder),
            // Renewed or taken meanwhile: the lock is someone's now, and not this one's to end.
            Err(e) if precondition_failed(&e) => match read(bucket, &key).await? {
                Some((now, _)) => Err(StateError::LeaseHeld {
                    stack: stack.to_string(),
                    holder: Box::new(now),
                }),
                None => Ok(holder),
            },
            Err(e) => Err(bucket.failed(&e)),
        }
    }

    /// Removes `stack`'s lock whoever holds it (`state unlock --force`); returns the holder.
    pub async fn force_release(
        bucket: &Bucket,
        stack: &str,
    ) -> Result<Option<LeaseHolder>, StateError> {
        let key = lock_key(bucket, stack);
        let Some((holder, _)) = read(bucket, &key).await? else {
            return Ok(None);
        };
        bucket
            .client
            .delete_object()
            .bucket(&bucket.location.bucket)
            .key(&key)
            .send()
            .await
            .map_err(|e| bucket.failed(&e))?;
        Ok(Some(holder))
    }
}

/// A lease renewed in the background ([`Lease::keep`]).
pub struct KeptLease {
    lease: Arc<Mutex<Option<Lease>>>,
    renewing: tokio::task::JoinHandle<()>,
    /// When the lease last renewed ends (Unix milliseconds).
    until: Arc<AtomicI64>,
}

impl KeptLease {
    /// Stops renewing and removes the lock.
    pub async fn release(self) -> Result<(), StateError> {
        self.renewing.abort();
        match self.lease.lock().await.take() {
            Some(lease) => lease.release().await,
            None => Ok(()),
        }
    }

    /// Whether the lease is still this command's: false once a renewal failed, or once the
    /// lease last renewed has ended by this machine's clock (a process paused for longer than
    /// the lease may have been taken over while it slept).
    pub fn is_held(&self) -> bool {
        !self.renewing.is_finished()
            && Utc::now().timestamp_millis() < self.until.load(Ordering::SeqCst)
    }
}
