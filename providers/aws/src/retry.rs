//! How AWS calls are retried. Everything gets the SDK's standard retry (throttling, 5xx,
//! dropped connections), except creates: a create whose response was lost may have been done,
//! and re-sending it makes a second VPC (APIs without a client token) or fails on the name the
//! first one took. So creates go through clients that re-send only what AWS refused unprocessed
//! (throttling); any other failure comes back as `ErrorKind::Retryable`, and the engine looks for what
//! the create made before it tries again.

use aws_smithy_runtime_api::client::interceptors::context::InterceptorContext;
use aws_smithy_runtime_api::client::retries::classifiers::{
    ClassifyRetry, RetryAction, RetryClassifierPriority, RetryReason,
};
use aws_smithy_types::retry::ErrorKind;

/// Attempts per call, the first included.
pub(crate) const MAX_ATTEMPTS: u32 = 10;

/// The SDK's standard retry (throttling, 5xx, dropped connections; exponential backoff with
/// jitter) with more attempts than its default 3: one `up` makes hundreds of calls, and a
/// deployment should ride out a throttled minute rather than fail on the third refusal. The
/// retry budget (token bucket) is unlimited because attempts are already bounded per call and
/// calls are bounded by `--parallel`; the default budget of 500 runs dry under sustained
/// throttling long before the attempts do.
pub(crate) fn retry_config() -> aws_config::retry::RetryConfig {
    aws_config::retry::RetryConfig::standard()
        .with_max_attempts(MAX_ATTEMPTS)
        .with_max_backoff(std::time::Duration::from_secs(10))
}

/// Whether the SDK's classifiers judged the attempt throttled.
pub(crate) fn is_throttling(action: &RetryAction) -> bool {
    matches!(
        action,
        RetryAction::RetryIndicated(RetryReason::RetryableError {
            kind: ErrorKind::ThrottlingError,
            ..
        })
    )
}

/// Runs after the SDK's classifiers and keeps only their throttling verdicts: a throttled call
/// was refused before anything happened, any other failure may have happened after the work
/// was done.
#[derive(Debug)]
pub(crate) struct OnlyThrottling;

impl ClassifyRetry for OnlyThrottling {
    fn classify_retry(&self, _ctx: &InterceptorContext) -> RetryAction {
        RetryAction::NoActionIndicated
    }

    fn classify_retry_v2(&self, _ctx: &InterceptorContext, previous: &RetryAction) -> RetryAction {
        match previous {
            throttled if is_throttling(throttled) => previous.clone(),
            RetryAction::RetryIndicated(_) => RetryAction::RetryForbidden,
            other => other.clone(),
        }
    }

    fn name(&self) -> &'static str {
        "cairn: creates are re-sent only when throttled"
    }

    fn priority(&self) -> RetryClassifierPriority {
        // After every classifier of the SDK's (the transient-error one runs last of those).
        RetryClassifierPriority::run_after(RetryClassifierPriority::run_after(
            RetryClassifierPriority::transient_error_classifier(),
        ))
    }
}
