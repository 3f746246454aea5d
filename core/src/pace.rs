//! Client-side pacing of rate-limited APIs: the token buckets a provider's calls wait on before
//! they are sent, seeded with what the cloud documents and adapting when it throttles anyway.
//!
//! Clouds throttle each account and region with a token bucket per API (or class of APIs): a
//! burst of `size` calls, then `refill` a second. A client that only retries spends a large
//! apply in exponential backoff once the bucket is empty; one that paces itself sends each call
//! when the bucket has a token for it, so calls are rarely refused and none waits longer than
//! the bucket requires.
//!
//! Each lane is the cloud's own algorithm, a token bucket: tokens refilled at the lane's rate
//! up to the bucket's size, one taken per call. Waiting calls queue in the order they asked (a
//! fair lock), and only the first waits on a timer, for the token the rate gives it: a rate cut
//! while calls wait applies to all of them, and one woken late (timers round up) costs the
//! others nothing, since the tokens went on accruing. `governor` paces with a quota fixed at
//! construction (GCRA, whose state is a time that depends on the rate); here the rate moves. A
//! throttled call sent at the current rate halves it (once per rate: the calls already on their
//! way when it is cut do not cut it again) and empties the bucket; every call that goes through
//! wins back a hundredth of the seeded rate, up to the seed. Time is tokio's, so tests run it on
//! a paused clock.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::Instant;

/// A token bucket: `size` calls at once, then `refill` a second.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bucket {
    /// The calls a full bucket allows at once.
    pub size: u32,
    /// Tokens added a second.
    pub refill: f64,
}

impl Bucket {
    /// A bucket of `size` tokens refilled with `refill` a second.
    pub const fn new(size: u32, refill: f64) -> Bucket {
        Bucket { size, refill }
    }

    /// The same bucket with time running `factor` times faster (benchmarks that scale a cloud's
    /// minutes down to seconds scale its rates up by as much).
    pub fn faster(self, factor: f64) -> Bucket {
        Bucket {
            refill: self.refill * factor,
            ..self
        }
    }
}

/// Never below this fraction of the seeded rate, however often the cloud throttles: a lane cut
/// to nothing would never learn that the throttling stopped.
const FLOOR: f64 = 1.0 / 64.0;

/// The share of the seeded rate each call that goes through wins back.
const REGAIN: f64 = 1.0 / 100.0;

/// The bucket of each API (or class) a pacer paces; `None` for one it does not.
type Seed = dyn Fn(&str) -> Option<Bucket> + Send + Sync;

/// The limiters of one account and region, one lane per API (or API class), made on first use
/// from the seed.
pub struct Pacer {
    seed: Box<Seed>,
    lanes: Mutex<HashMap<String, Arc<Lane>>>,
}

impl std::fmt::Debug for Pacer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pacer")
            .field("lanes", &self.stats())
            .finish_non_exhaustive()
    }
}

/// What one lane has seen.
#[derive(Debug, Clone, PartialEq)]
pub struct LaneStats {
    /// Calls paced (every attempt, retries included).
    pub calls: u64,
    /// Of those, how many the cloud throttled all the same.
    pub throttled: u64,
    /// The time calls spent waiting for their slot, added up.
    pub waited: Duration,
    /// The rate the lane paces at now (the seed's refill unless the cloud throttled).
    pub rate: f64,
}

struct Lane {
    api: String,
    bucket: Bucket,
    /// Held by the call whose turn it is; tokio's lock is fair, so calls go in order.
    turn: tokio::sync::Mutex<()>,
    state: Mutex<LaneState>,
}

struct LaneState {
    rate: f64,
    /// Tokens at `at`.
    tokens: f64,
    at: Instant,
    /// Bumped at every cut, so that calls sent before it do not cut again.
    epoch: u64,
    calls: u64,
    throttled: u64,
    waited: Duration,
}

impl LaneState {
    /// Adds the tokens accrued since `at`, up to the bucket's size.
    fn refill(&mut self, size: u32, now: Instant) {
        let accrued = (now - self.at).as_secs_f64() * self.rate;
        self.tokens = (self.tokens + accrued).min(f64::from(size));
        self.at = now;
    }
}

/// What a throttle did to its lane.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Slowed {
    /// Cut the rate to this many calls a second (the first throttle of a call sent at the rate
    /// the lane had).
    To(f64),
    /// Nothing more: the call was sent before the lane was slowed down already.
    Already,
}

/// A paced call's reservation: say how it went, so that the lane adapts. Its clones are one
/// ticket: only the first report counts (the SDK consults its retry classifiers more than
/// once per attempt).
#[derive(Clone)]
pub struct Ticket {
    lane: Option<Arc<Lane>>,
    epoch: u64,
    reported: Arc<AtomicBool>,
}

impl Ticket {
    fn first_report(&self) -> bool {
        !self.reported.swap(true, Ordering::SeqCst)
    }

    /// The API (or class) it was paced as; `None` for one not paced.
    pub fn api(&self) -> Option<&str> {
        self.lane.as_deref().map(|l| l.api.as_str())
    }
}

impl std::fmt::Debug for Ticket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ticket")
            .field("paced", &self.lane.is_some())
            .finish()
    }
}

impl Ticket {
    /// The cloud throttled the call: slow the lane down. `None` for a call not paced, or a
    /// ticket already reported.
    pub fn throttled(&self) -> Option<Slowed> {
        let lane = self.lane.as_ref().filter(|_| self.first_report())?;
        let mut s = lane.state.lock().unwrap();
        s.throttled += 1;
        if s.epoch != self.epoch {
            return Some(Slowed::Already);
        }
        // The cloud's bucket is empty: so is the lane's, refilling at half the rate.
        s.refill(lane.bucket.size, Instant::now());
        s.epoch += 1;
        s.rate = (s.rate / 2.0).max(lane.bucket.refill * FLOOR);
        s.tokens = 0.0;
        Some(Slowed::To(s.rate))
    }

    /// The call went through: win back some of the rate a throttle cost.
    pub fn succeeded(&self) {
        let Some(lane) = self.lane.as_ref().filter(|_| self.first_report()) else {
            return;
        };
        let mut s = lane.state.lock().unwrap();
        let seed = lane.bucket.refill;
        if s.rate < seed {
            // What accrued so far accrued at the old rate.
            s.refill(lane.bucket.size, Instant::now());
            s.rate = (s.rate + seed * REGAIN).min(seed);
        }
    }
}

impl Pacer {
    /// Pacing by `seed`: the bucket of each API (or class) the calls name, `None` for one that
    /// is not paced.
    pub fn new(seed: impl Fn(&str) -> Option<Bucket> + Send + Sync + 'static) -> Pacer {
        Pacer {
            seed: Box::new(seed),
            lanes: Mutex::default(),
        }
    }

    /// Waits until a call to `api` may be sent, and reserves it.
    pub async fn acquire(&self, api: &str) -> Ticket {
        let Some(lane) = self.lane(api) else {
            return Ticket {
                lane: None,
                epoch: 0,
                reported: Arc::default(),
            };
        };
        let asked = Instant::now();
        let epoch = Self::take_turn(&lane, asked).await;
        Ticket {
            lane: Some(lane),
            epoch,
            reported: Arc::default(),
        }
    }

    /// Waits for the lane's turn, then for the slot; returns the rate's epoch it was sent at.
    async fn take_turn(lane: &Lane, asked: Instant) -> u64 {
        let _turn = lane.turn.lock().await;
        loop {
            let slot = {
                let mut s = lane.state.lock().unwrap();
                let now = Instant::now();
                s.refill(lane.bucket.size, now);
                // A call paced to the moment its token arrives takes it, rounding aside.
                if s.tokens >= 1.0 - 1e-9 {
                    s.tokens -= 1.0;
                    s.calls += 1;
                    s.waited += now - asked;
                    return s.epoch;
                }
                now + Duration::from_secs_f64((1.0 - s.tokens) / s.rate)
            };
            tokio::time::sleep_until(slot).await;
        }
    }

    /// What each lane has seen so far, by API.
    pub fn stats(&self) -> BTreeMap<String, LaneStats> {
        let lanes = self.lanes.lock().unwrap();
        lanes
            .iter()
            .map(|(api, lane)| {
                let s = lane.state.lock().unwrap();
                let stats = LaneStats {
                    calls: s.calls,
                    throttled: s.throttled,
                    waited: s.waited,
                    rate: s.rate,
                };
                (api.clone(), stats)
            })
            .collect()
    }

    fn lane(&self, api: &str) -> Option<Arc<Lane>> {
        let mut lanes = self.lanes.lock().unwrap();
        if let Some(lane) = lanes.get(api) {
            return Some(lane.clone());
        }
        let bucket = (self.seed)(api).filter(|b| b.size > 0 && b.refill > 0.0)?;
        let lane = Arc::new(Lane {
            api: api.to_string(),
            bucket,
            turn: tokio::sync::Mutex::new(()),
            state: Mutex::new(LaneState {
                rate: bucket.refill,
                tokens: f64::from(bucket.size),
                at: Instant::now(),
                epoch: 0,
                calls: 0,
                throttled: 0,
                waited: Duration::ZERO,
            }),
        });
        lanes.insert(api.to_string(), lane.clone());
        Some(lane)
    }
}

#[cfg(all(test, feature = "testing"))]
mod tests;
