//! Waiting for AWS, on our own short backoff.
//!
//! The SDK's generated waiters poll EC2 every 15 s or more: right for scripts, far too slow for
//! an engine whose deployments are a critical path of such waits. These poll from 100 ms,
//! growing by half each time up to 2 s, and give up at a deadline.

use std::future::Future;
use std::time::{Duration, Instant};

use cairn::ProviderError;

const FIRST: Duration = Duration::from_millis(100);
const MAX: Duration = Duration::from_secs(2);

/// Polls `check` until it returns `Some`, or fails after `timeout` saying what was awaited.
pub(crate) async fn until<T, F, Fut>(
    what: &str,
    timeout: Duration,
    mut check: F,
) -> Result<T, ProviderError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Option<T>, ProviderError>>,
{
    let deadline = Instant::now() + timeout;
    let mut delay = FIRST;
    loop {
        if let Some(v) = check().await? {
            return Ok(v);
        }
        if Instant::now() + delay > deadline {
            return Err(ProviderError::new(format!(
                "timed out after {}s waiting for {what}",
                timeout.as_secs()
            )));
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 3 / 2).min(MAX);
    }
}

/// Retries `call` while it fails with one of `codes` (AWS's eventual consistency: a role not
/// yet assumable, a group not yet visible), for at most `timeout`. Any other error, and the
/// last one at the deadline, is returned as is.
pub(crate) async fn retry_on<T, F, Fut>(
    codes: &[&str],
    timeout: Duration,
    mut call: F,
) -> Result<T, ProviderError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, ProviderError>>,
{
    let deadline = Instant::now() + timeout;
    let mut delay = FIRST;
    loop {
        match call().await {
            Ok(v) => return Ok(v),
            Err(e) if e.code.as_deref().is_some_and(|c| codes.contains(&c)) => {
                if Instant::now() + delay > deadline {
                    return Err(e);
                }
                tracing::debug!(code = ?e.code, "retrying after an eventually-consistent error");
                tokio::time::sleep(delay).await;
                delay = (delay * 3 / 2).min(MAX);
            }
            Err(e) => return Err(e),
        }
    }
}
