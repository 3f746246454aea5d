//! The pacer against an emulated cloud bucket, on tokio's paused clock: every wait is exact, so
//! what is asserted is the algorithm, not the machine.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::Instant;

use super::*;
use crate::testing::CloudBucket;

const SEED: Bucket = Bucket::new(10, 5.0);

/// Sends `calls` calls to the lane `api` at once, each retried at its next slot when the cloud
/// refuses it; returns when each call went through, from the start.
async fn send_all(
    pacer: &Arc<Pacer>,
    cloud: &Arc<Mutex<CloudBucket>>,
    calls: usize,
) -> Vec<Duration> {
    let start = Instant::now();
    let tasks: Vec<_> = (0..calls)
        .map(|_| {
            let (pacer, cloud) = (pacer.clone(), cloud.clone());
            tokio::spawn(async move {
                loop {
                    let ticket = pacer.acquire("api").await;
                    if cloud.lock().unwrap().admit() {
                        ticket.succeeded();
                        return start.elapsed();
                    }
                    ticket.throttled();
                }
            })
        })
        .collect();
    let mut done = Vec::new();
    for t in tasks {
        done.push(t.await.unwrap());
    }
    done
}

#[tokio::test(start_paused = true)]
async fn seeded_with_the_clouds_bucket_no_call_is_throttled_and_none_waits_longer_than_it_requires()
{
    let pacer = Arc::new(Pacer::new(|_| Some(SEED)));
    let cloud = Arc::new(Mutex::new(CloudBucket::new(SEED)));
    let mut done = send_all(&pacer, &cloud, 60).await;
    assert_eq!(cloud.lock().unwrap().throttled(), 0);
    // The bucket's 10 go at once, then one every 0.2 s: call k (from 0) at (k − 9) / 5 s.
    done.sort();
    for (k, at) in done.iter().enumerate() {
        let due = Duration::from_secs_f64(k.saturating_sub(9) as f64 / 5.0);
        assert!(
            at.abs_diff(due) < Duration::from_millis(1),
            "call {k} went at {at:?}, the bucket allows it at {due:?}"
        );
    }
    let stats = &pacer.stats()["api"];
    assert_eq!((stats.calls, stats.throttled), (60, 0));
}

#[tokio::test(start_paused = true)]
async fn an_idle_lane_refills_to_a_full_burst() {
    let pacer = Arc::new(Pacer::new(|_| Some(SEED)));
    let cloud = Arc::new(Mutex::new(CloudBucket::new(SEED)));
    send_all(&pacer, &cloud, 30).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let done = send_all(&pacer, &cloud, 10).await;
    assert!(done.iter().all(|d| d.is_zero()), "{done:?}");
    assert_eq!(cloud.lock().unwrap().throttled(), 0);
}

#[tokio::test(start_paused = true)]
async fn a_cloud_stricter_than_the_seed_is_learnt_and_throttles_stay_rare() {
    // Another client of the account takes half the refill: the cloud allows 2.5 a second.
    let pacer = Arc::new(Pacer::new(|_| Some(SEED)));
    let cloud = Arc::new(Mutex::new(CloudBucket::new(Bucket::new(10, 2.5))));
    let done = send_all(&pacer, &cloud, 1_000).await;
    let (admitted, throttled) = {
        let c = cloud.lock().unwrap();
        (c.admitted(), c.throttled())
    };
    assert_eq!(admitted, 1_000);
    assert!(
        throttled * 100 <= admitted * 5,
        "{throttled} throttled for {admitted} admitted"
    );
    // And the calls still use most of what the cloud allows: (1,000 − 10) / 2.5 s at best.
    let makespan = done.iter().max().unwrap().as_secs_f64();
    let bound = (1_000.0 - 10.0) / 2.5;
    assert!(
        makespan <= bound * 1.25,
        "{makespan} s against {bound} s at best"
    );
}

#[tokio::test(start_paused = true)]
async fn one_throttle_cuts_the_rate_once_however_many_calls_were_on_their_way() {
    let pacer = Pacer::new(|_| Some(SEED));
    let tickets: Vec<Ticket> = {
        let mut v = Vec::new();
        for _ in 0..5 {
            v.push(pacer.acquire("api").await);
        }
        v
    };
    for t in &tickets {
        t.throttled();
    }
    let stats = &pacer.stats()["api"];
    assert_eq!(stats.throttled, 5);
    assert_eq!(stats.rate, SEED.refill / 2.0);
    // A call reserved after the cut, throttled too, cuts again.
    pacer.acquire("api").await.throttled();
    assert_eq!(pacer.stats()["api"].rate, SEED.refill / 4.0);
    // A ticket reports once, however often it is told.
    let ticket = pacer.acquire("api").await;
    ticket.throttled();
    ticket.clone().throttled();
    assert_eq!(pacer.stats()["api"].throttled, 7);
    assert_eq!(pacer.stats()["api"].rate, SEED.refill / 8.0);
    // Each call that goes through wins back a hundredth of the seed, up to the seed.
    for _ in 0..100 {
        pacer.acquire("api").await.succeeded();
    }
    assert_eq!(pacer.stats()["api"].rate, SEED.refill);
}

#[tokio::test(start_paused = true)]
async fn an_api_without_a_seed_is_not_paced() {
    let pacer = Pacer::new(|api| (api == "paced").then_some(Bucket::new(1, 1.0)));
    let start = Instant::now();
    for _ in 0..100 {
        pacer.acquire("free").await.succeeded();
    }
    assert!(start.elapsed().is_zero());
    assert!(!pacer.stats().contains_key("free"));
}

#[tokio::test(start_paused = true)]
async fn a_lane_that_regains_its_rate_waits_only_what_its_bucket_requires() {
    // Cut three times, then regained in full: the next call waits one token at the seed's rate
    // at most, however far the cuts pushed the slots out while the rate was low.
    let pacer = Pacer::new(|_| Some(SEED));
    for _ in 0..3 {
        pacer.acquire("api").await.throttled();
    }
    for _ in 0..100 {
        pacer.acquire("api").await.succeeded();
    }
    assert_eq!(pacer.stats()["api"].rate, SEED.refill);
    let start = Instant::now();
    pacer.acquire("api").await;
    assert!(start.elapsed() <= Duration::from_secs_f64(1.0 / SEED.refill));
}
