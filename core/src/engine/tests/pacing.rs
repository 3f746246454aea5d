//! An `up` against emulated rate limits, on tokio's paused clock: the pacer keeps every call
//! within the cloud's bucket, where a client that only retries is throttled.

use crate::pace::Bucket;
use crate::testing::{Backoff, Pacing};

use super::*;

/// The cloud's bucket for creates, updates and deletes: 5 at once, 50 a second.
const MUTATING: Bucket = Bucket::new(5, 50.0);

fn limited(pacing: Pacing) -> Harness {
    let mut h = Harness::new_plain();
    h.cloud = TestProvider::new().with_rate_limits(
        &[("mutating", MUTATING)],
        |_, op| matches!(op, "create" | "update" | "delete").then_some("mutating"),
        pacing,
        Backoff::AWS.faster(100.0),
    );
    h
}

fn many(s: &mut Stack) {
    for i in 0..100 {
        Thing::new(s, &format!("t{i}"), thing("v"));
    }
}

#[tokio::test(start_paused = true)]
async fn a_paced_up_keeps_every_call_within_the_clouds_bucket() {
    let h = limited(Pacing::Paced);
    let exec = h.up(many).await;
    assert!(exec.errors.is_empty(), "{:?}", exec.errors);
    assert_eq!(h.cloud.throttling()["mutating"], (100, 0));
    let exec = h.destroy().await;
    assert!(exec.errors.is_empty(), "{:?}", exec.errors);
    assert_eq!(h.cloud.throttling()["mutating"], (200, 0));
}

#[tokio::test(start_paused = true)]
async fn an_up_that_only_retries_is_throttled_and_still_completes() {
    let h = limited(Pacing::RetryOnly);
    let exec = h.up(many).await;
    assert!(exec.errors.is_empty(), "{:?}", exec.errors);
    let (admitted, throttled) = h.cloud.throttling()["mutating"];
    assert_eq!(admitted, 100);
    assert!(throttled > 0);
    assert_eq!(h.recorded_names().len(), 100);
}
