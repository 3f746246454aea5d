//! An in-process test provider for the engine's own tests and benchmarks (feature `testing`).
//!
//! It keeps a small "cloud" in memory and enforces what a real cloud would: a resource cannot
//! be created with a reference to something that does not exist, and cannot be deleted while
//! something still refers to it. Latency and failures are configurable per resource, and every
//! call is logged with a logical clock so tests can check ordering without timing.
//!
//! It can also emulate a cloud's rate limits (token buckets that throttle the calls beyond
//! them, and a client that paces itself or only retries, `with_rate_limits`), and resources
//! that exist before they are ready (`Warming`, whose readiness a test can hold).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use serde_json::{Value, json};

use tokio::time::Instant;

use crate::ResourceType;
use crate::config::Config;
use crate::pace::{Bucket, Pacer};
use crate::provider::{
    CheckFailure, CreateRequest, Created, DefaultProvider, DeleteRequest, ErrorKind, LookupRequest,
    NameRule, PropMap, Provider, ProviderError, ReadRequest, ReadResult, Related, TypeSchema,
    UpdateRequest,
};
use crate::{Output, ResourceOptions, ResourceRef, Stack};

/// The lookup of a thing by the name it was made under (`test:getThing`): as a cloud's lookup
/// by tags would find it.
pub const GET_THING_BY_NAME: &str = "test:getThing";

/// Looks up the thing made under `made_as` (see [`GET_THING_BY_NAME`]); its outputs are a
/// `Thing`'s.
#[track_caller]
pub fn thing_named(
    stack: &mut Stack,
    name: &str,
    made_as: impl Into<Output<String>>,
) -> ResourceRef {
    let made_as: Output<String> = made_as.into();
    let args = vec![("name", Some(made_as.erase()))];
    stack.lookup::<TestProvider>(GET_THING_BY_NAME, name, args, ResourceOptions::default())
}

/// A test resource, replaced by creating the new copy first.
#[crate::resource(token = "test:Thing", provider = TestProvider)]
pub struct Thing {
    /// Changing it forces a replacement.
    #[replace]
    pub key: Option<String>,
    /// Updated in place.
    pub value: Option<String>,
    /// Ids of other things this one refers to (must exist while it does), in any order.
    #[unordered]
    pub refs: Option<Vec<String>>,
    /// Any value, secret or not.
    pub secret: Option<String>,
    /// Secret whatever its origin, as a password is.
    #[secret]
    pub password: Option<String>,
    /// A nested value, updated in place (as a container's environment is).
    pub labels: Option<BTreeMap<String, String>>,
    #[output]
    pub id: String,
    #[output]
    pub value: Option<String>,
    #[output]
    pub key: Option<String>,
}

/// A test resource with a unique name (within its zone), as many cloud resources have:
/// a replacement that keeps the name must delete first.
#[crate::resource(token = "test:Unique", provider = TestProvider)]
pub struct Unique {
    /// A name unique within its zone; Cairn picks one when unset.
    #[replace]
    #[unique(within(zone), name = UNIQUE_NAMES)]
    pub name: String,
    /// The scope its name is unique in. Changing it forces a replacement.
    #[replace]
    pub zone: Option<String>,
    /// Changing it forces a replacement.
    #[replace]
    pub key: Option<String>,
    /// Updated in place.
    pub value: Option<String>,
    /// Ids of other things this one refers to (must exist while it does).
    pub refs: Option<Vec<String>>,
    #[output]
    pub id: String,
    #[output]
    pub value: Option<String>,
    #[output]
    pub key: Option<String>,
    #[output]
    pub name: String,
}

/// A test resource that exists before it is ready, as a load balancer does: its dependents
/// that take its outputs start while it warms up. Its `ready` output turns true when it is.
#[crate::resource(
    token = "test:Warming",
    provider = TestProvider,
    ready_later = "the test cloud accepts references to it at once"
)]
pub struct Warming {
    /// Changing it forces a replacement.
    #[replace]
    pub key: Option<String>,
    /// Updated in place.
    pub value: Option<String>,
    /// Ids of other things this one refers to (must exist while it does).
    pub refs: Option<Vec<String>>,
    #[output]
    pub id: String,
    #[output]
    pub value: Option<String>,
    /// Whether it has finished warming up.
    #[output]
    pub ready: bool,
}

/// A cloud's token bucket as the cloud enforces it: a call takes a token or is throttled.
#[derive(Debug)]
pub struct CloudBucket {
    bucket: Bucket,
    tokens: f64,
    at: Instant,
    admitted: u64,
    throttled: u64,
}

impl CloudBucket {
    /// A full bucket.
    pub fn new(bucket: Bucket) -> CloudBucket {
        CloudBucket {
            bucket,
            tokens: f64::from(bucket.size),
            at: Instant::now(),
            admitted: 0,
            throttled: 0,
        }
    }

    /// Takes a token for a call arriving now, or says it is throttled.
    pub fn admit(&mut self) -> bool {
        let now = Instant::now();
        let refilled = (now - self.at).as_secs_f64() * self.bucket.refill;
        self.tokens = (self.tokens + refilled).min(f64::from(self.bucket.size));
        self.at = now;
        // A call paced to the exact moment a token arrives must find it, rounding aside.
        if self.tokens >= 1.0 - 1e-9 {
            self.tokens -= 1.0;
            self.admitted += 1;
            true
        } else {
            self.throttled += 1;
            false
        }
    }

    /// Calls that took a token.
    pub fn admitted(&self) -> u64 {
        self.admitted
    }

    /// Calls refused.
    pub fn throttled(&self) -> u64 {
        self.throttled
    }
}

/// How the test provider's client meets the cloud's rate limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pacing {
    /// Each call waits for its slot in a [`Pacer`] seeded with the cloud's buckets, and is
    /// retried (after `Backoff`) if throttled all the same.
    Paced,
    /// Calls go at once and a throttled one is retried after `Backoff`: Cairn before pacing.
    RetryOnly,
}

/// The retry of a throttled call, as the AWS SDK's standard retry does it: the wait before
/// attempt `n + 1` is `min(max, first × 2ⁿ⁻¹)` times a random factor in [0, 1).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Backoff {
    /// The wait's ceiling before the first retry.
    pub first: Duration,
    /// The longest wait.
    pub max: Duration,
    /// Attempts of a call, the first included; the last refusal is the call's error.
    pub attempts: u32,
}

impl Backoff {
    /// The AWS provider's settings (`cairn-aws`'s `retry.rs`): the SDK's 1 s first backoff,
    /// 10 s at most, 10 attempts.
    pub const AWS: Backoff = Backoff {
        first: Duration::from_secs(1),
        max: Duration::from_secs(10),
        attempts: 10,
    };

    /// The same retry with time running `factor` times faster.
    pub fn faster(self, factor: f64) -> Backoff {
        Backoff {
            first: self.first.div_f64(factor),
            max: self.max.div_f64(factor),
            ..self
        }
    }

    fn wait(&self, attempt: u32) -> Duration {
        let ceiling = self
            .first
            .saturating_mul(1 << (attempt - 1).min(16))
            .min(self.max);
        ceiling.mul_f64(rand::random::<f64>())
    }
}

type BucketOf = dyn Fn(&str, &'static str) -> Option<&'static str> + Send + Sync;

struct RateLimits {
    bucket_of: Arc<BucketOf>,
    cloud: Mutex<HashMap<&'static str, CloudBucket>>,
    pacer: Option<Pacer>,
    backoff: Backoff,
}

/// The rule of `test:Unique`'s generated names.
pub const UNIQUE_NAMES: NameRule = NameRule {
    max_len: 24,
    punctuation: "-",
    lowercase: true,
    refused_prefixes: &[],
};

/// One logged provider call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    /// `create`, `read`, `update`, `delete`, `find` or `lookup`.
    pub op: &'static str,
    /// The resource (or lookup) it was about.
    pub name: String,
    /// Logical time the call started and ended (strictly increasing across all calls).
    pub start: u64,
    /// See `start`.
    pub end: u64,
}

type LatencyFn = dyn Fn(&str, &'static str) -> Duration + Send + Sync;

#[derive(Default)]
struct Inner {
    cloud: Mutex<BTreeMap<String, (String, Value)>>, // id -> (name, inputs)
    calls: Mutex<Vec<Call>>,
    clock: AtomicU64,
    next_id: AtomicUsize,
    failures: Mutex<HashMap<(String, &'static str), String>>,
    latency: Mutex<Option<Arc<LatencyFn>>>,
    running: AtomicUsize,
    max_running: AtomicUsize,
    /// Simulates a process killed mid-call: the call takes effect but never returns.
    hang_after_effect: Mutex<HashSet<(String, &'static str)>>,
    /// Client token of each create -> the id it made, as an API with idempotency tokens keeps.
    tokens: Mutex<HashMap<String, String>>,
    /// Calls that take effect and then report a failure, like a response lost on the way back.
    lost_response: Mutex<HashSet<(String, &'static str)>>,
    /// Calls that fail, without effect, with a transient error this many more times.
    transient: Mutex<HashMap<(String, &'static str), usize>>,
    /// Signalled when a call starts hanging (see `hang_after_effect`).
    hung: tokio::sync::Notify,
    /// Signalled whenever a call ends (see `finished`).
    ended: tokio::sync::Notify,
    /// The cloud's rate limits and the client's answer to them, if emulated.
    limits: Mutex<Option<Arc<RateLimits>>>,
    /// Warming things whose readiness waits for `release_ready`, by name.
    held: Mutex<HashSet<String>>,
    released: tokio::sync::Notify,
    /// Ids of the warming things that are ready.
    ready: Mutex<HashSet<String>>,
    /// The type of each resource ever made, by id.
    types: Mutex<HashMap<String, String>>,
    /// The stack each resource was made for, by id (what a cloud's tags would say).
    stacks: Mutex<HashMap<String, String>>,
}

/// The in-process provider. Clones share one cloud.
#[derive(Clone, Default)]
pub struct TestProvider {
    inner: Arc<Inner>,
}

impl TestProvider {
    /// A provider with an empty cloud of its own.
    pub fn new() -> TestProvider {
        TestProvider::default()
    }

    /// Every call sleeps for `f(name, op)` (`op` is create/read/update/delete).
    pub fn with_latency(
        self,
        f: impl Fn(&str, &'static str) -> Duration + Send + Sync + 'static,
    ) -> Self {
        *self.inner.latency.lock().unwrap() = Some(Arc::new(f));
        self
    }

    /// Emulates a cloud's rate limits: each call draws a token from the bucket
    /// `bucket_of(name, op)` names (one of `buckets`; `None` is not limited) and is throttled
    /// when there is none. The client paces its calls or only retries, as `pacing` says, and
    /// retries a throttled call after `backoff`, up to its attempts.
    pub fn with_rate_limits(
        self,
        buckets: &[(&'static str, Bucket)],
        bucket_of: impl Fn(&str, &'static str) -> Option<&'static str> + Send + Sync + 'static,
        pacing: Pacing,
        backoff: Backoff,
    ) -> Self {
        let seeds: HashMap<String, Bucket> =
            buckets.iter().map(|(n, b)| (n.to_string(), *b)).collect();
        let pacer =
            (pacing == Pacing::Paced).then(|| Pacer::new(move |api| seeds.get(api).copied()));
        *self.inner.limits.lock().unwrap() = Some(Arc::new(RateLimits {
            bucket_of: Arc::new(bucket_of),
            cloud: Mutex::new(
                buckets
                    .iter()
                    .map(|(n, b)| (*n, CloudBucket::new(*b)))
                    .collect(),
            ),
            pacer,
            backoff,
        }));
        self
    }

    /// For each emulated bucket: (calls admitted, calls throttled).
    pub fn throttling(&self) -> BTreeMap<&'static str, (u64, u64)> {
        let limits = self.inner.limits.lock().unwrap().clone();
        limits
            .map(|l| {
                l.cloud
                    .lock()
                    .unwrap()
                    .iter()
                    .map(|(n, b)| (*n, (b.admitted(), b.throttled())))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Makes the readiness of the warming thing `name` wait until [`TestProvider::release_ready`].
    pub fn hold_ready(&self, name: &str) {
        self.inner.held.lock().unwrap().insert(name.to_string());
    }

    /// Lets the warming thing `name` become ready.
    pub fn release_ready(&self, name: &str) {
        self.inner.held.lock().unwrap().remove(name);
        self.inner.released.notify_waiters();
    }

    /// Whether the warming thing with this id is ready.
    pub fn is_ready(&self, id: &str) -> bool {
        self.inner.ready.lock().unwrap().contains(id)
    }

    /// Resolves once an `op` call on `name` has ended.
    pub async fn finished(&self, name: &str, op: &'static str) {
        loop {
            let ended = self.inner.ended.notified();
            tokio::pin!(ended);
            ended.as_mut().enable();
            if self.calls().iter().any(|c| c.op == op && c.name == name) {
                return;
            }
            ended.await;
        }
    }

    /// Makes `op` on resource `name` fail with `message`.
    pub fn fail(&self, name: &str, op: &'static str, message: &str) {
        self.inner
            .failures
            .lock()
            .unwrap()
            .insert((name.to_string(), op), message.to_string());
    }

    /// Makes `op` on `name` fail `times` times, without effect, with a transient error (a
    /// connection refused, a 503) before it works.
    pub fn fail_transiently(&self, name: &str, op: &'static str, times: usize) {
        self.inner
            .transient
            .lock()
            .unwrap()
            .insert((name.to_string(), op), times);
    }

    /// Undoes [`TestProvider::fail`] and [`TestProvider::fail_transiently`].
    pub fn clear_failures(&self) {
        self.inner.failures.lock().unwrap().clear();
        self.inner.transient.lock().unwrap().clear();
    }

    /// Makes `op` on `name` take effect and then fail, as when the response is lost.
    pub fn lose_response(&self, name: &str, op: &'static str) {
        self.inner
            .lost_response
            .lock()
            .unwrap()
            .insert((name.to_string(), op));
    }

    /// Resolves once a call has taken effect and started hanging: the moment to "kill" the run.
    pub async fn hung(&self) {
        self.inner.hung.notified().await
    }

    /// Stops making `op` on `name` hang (see [`TestProvider::hang_after_effect`]).
    pub fn clear_hangs(&self) {
        self.inner.hang_after_effect.lock().unwrap().clear();
    }

    /// Makes `op` on `name` take effect and then never return, like a process killed mid-call.
    pub fn hang_after_effect(&self, name: &str, op: &'static str) {
        self.inner
            .hang_after_effect
            .lock()
            .unwrap()
            .insert((name.to_string(), op));
    }

    /// Makes something in the cloud that no stack manages (what a lookup finds): its id.
    pub fn make_unmanaged(&self, name: &str, value: &str) -> String {
        let id = format!(
            "{name}-{}",
            self.inner.next_id.fetch_add(1, Ordering::SeqCst)
        );
        let inputs = json!({ "value": value });
        self.inner
            .cloud
            .lock()
            .unwrap()
            .insert(id.clone(), (name.to_string(), inputs));
        self.inner
            .types
            .lock()
            .unwrap()
            .insert(id.clone(), Thing::TYPE.to_string());
        id
    }

    /// The calls made so far.
    pub fn calls(&self) -> Vec<Call> {
        self.inner.calls.lock().unwrap().clone()
    }

    /// Mutating calls (create, update, delete) made so far.
    pub fn mutations(&self) -> Vec<Call> {
        self.calls()
            .into_iter()
            .filter(|c| !matches!(c.op, "read" | "find" | "lookup"))
            .collect()
    }

    /// Forgets the calls made so far.
    pub fn clear_calls(&self) {
        self.inner.calls.lock().unwrap().clear();
    }

    /// The resources that exist in the cloud: id -> (name, inputs).
    pub fn cloud(&self) -> BTreeMap<String, (String, Value)> {
        self.inner.cloud.lock().unwrap().clone()
    }

    /// Names of the resources that exist, sorted, with duplicates kept.
    pub fn names(&self) -> Vec<String> {
        let mut v: Vec<String> = self.cloud().values().map(|(n, _)| n.clone()).collect();
        v.sort();
        v
    }

    /// Changes a resource behind the engine's back (drift).
    pub fn tamper(&self, id: &str, inputs: Option<Value>) {
        let mut cloud = self.inner.cloud.lock().unwrap();
        match inputs {
            Some(v) => {
                if let Some(e) = cloud.get_mut(id) {
                    e.1 = v;
                }
            }
            None => {
                cloud.remove(id);
            }
        }
    }

    /// The largest number of calls that were in flight at once.
    pub fn max_concurrency(&self) -> usize {
        self.inner.max_running.load(Ordering::SeqCst)
    }

    /// A resource's outputs; a warming thing's say whether it is ready.
    fn outputs_of(&self, id: &str, inputs: &Value) -> Value {
        let mut out = outputs(id, inputs);
        if self.inner.types.lock().unwrap().get(id).map(String::as_str) == Some(Warming::TYPE) {
            out = json!({ "id": id, "value": inputs.get("value"), "ready": self.is_ready(id) });
        }
        out
    }

    fn tick(&self) -> u64 {
        self.inner.clock.fetch_add(1, Ordering::SeqCst) + 1
    }

    /// Passes the emulated rate limits, as the client and the cloud would between them: waits
    /// for the call's slot (paced), is throttled or admitted, and retries.
    async fn admit(&self, op: &'static str, name: &str) -> Result<(), ProviderError> {
        let limits = self.inner.limits.lock().unwrap().clone();
        let Some(limits) = limits else { return Ok(()) };
        let Some(bucket) = (limits.bucket_of)(name, op) else {
            return Ok(());
        };
        let mut attempt = 1;
        loop {
            let ticket = match &limits.pacer {
                Some(pacer) => Some(pacer.acquire(bucket).await),
                None => None,
            };
            let admitted = limits
                .cloud
                .lock()
                .unwrap()
                .get_mut(bucket)
                .is_none_or(CloudBucket::admit);
            if admitted {
                ticket.inspect(|t| t.succeeded());
                return Ok(());
            }
            if let Some(t) = &ticket {
                t.throttled();
            }
            if attempt == limits.backoff.attempts {
                return Err(ProviderError::new("Throttling: Rate exceeded")
                    .code(Some("Throttling".into()))
                    .retryable());
            }
            tokio::time::sleep(limits.backoff.wait(attempt)).await;
            attempt += 1;
        }
    }

    async fn call<T>(
        &self,
        op: &'static str,
        name: &str,
        effect: impl FnOnce(&mut BTreeMap<String, (String, Value)>) -> Result<T, ProviderError>,
    ) -> Result<T, ProviderError> {
        self.admit(op, name).await?;
        let start = self.tick();
        let now = self.inner.running.fetch_add(1, Ordering::SeqCst) + 1;
        self.inner.max_running.fetch_max(now, Ordering::SeqCst);
        let latency = self.inner.latency.lock().unwrap().clone();
        if let Some(f) = latency {
            let d = f(name, op);
            if !d.is_zero() {
                tokio::time::sleep(d).await;
            }
        }
        let failure = self
            .inner
            .failures
            .lock()
            .unwrap()
            .get(&(name.to_string(), op))
            .cloned();
        let transient = {
            let mut t = self.inner.transient.lock().unwrap();
            match t.get_mut(&(name.to_string(), op)) {
                Some(n) if *n > 0 => {
                    *n -= 1;
                    true
                }
                _ => false,
            }
        };
        let result = match failure {
            Some(message) => Err(ProviderError::on_property("value", message)),
            None if transient => Err(ProviderError::new("service unavailable").retryable()),
            None => effect(&mut self.inner.cloud.lock().unwrap()),
        };
        self.inner.running.fetch_sub(1, Ordering::SeqCst);
        let end = self.tick();
        self.inner.calls.lock().unwrap().push(Call {
            op,
            name: name.to_string(),
            start,
            end,
        });
        self.inner.ended.notify_waiters();
        if self
            .inner
            .hang_after_effect
            .lock()
            .unwrap()
            .contains(&(name.to_string(), op))
        {
            self.inner.hung.notify_one();
            std::future::pending::<()>().await;
        }
        if self
            .inner
            .lost_response
            .lock()
            .unwrap()
            .remove(&(name.to_string(), op))
        {
            return Err(ProviderError::new("connection reset before the response").retryable());
        }
        result
    }
}

fn refs(inputs: &Value) -> Vec<String> {
    inputs
        .get("refs")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

fn outputs(id: &str, inputs: &Value) -> Value {
    let mut out = json!({ "id": id, "value": inputs.get("value"), "key": inputs.get("key") });
    // Only `test:Unique` has a name.
    if let Some(name) = inputs.get("name") {
        out["name"] = name.clone();
    }
    out
}

fn check_refs(
    cloud: &BTreeMap<String, (String, Value)>,
    inputs: &Value,
) -> Result<(), ProviderError> {
    for r in refs(inputs) {
        if !cloud.contains_key(&r) {
            return Err(ProviderError::on_property(
                "refs",
                format!("referenced resource '{r}' does not exist"),
            ));
        }
    }
    Ok(())
}

#[async_trait]
impl Provider for TestProvider {
    fn package(&self) -> &'static str {
        "test"
    }

    fn schema(&self, ty: &str) -> Option<TypeSchema> {
        match ty {
            Thing::TYPE => Some(Thing::SCHEMA),
            Unique::TYPE => Some(Unique::SCHEMA),
            Warming::TYPE => Some(Warming::SCHEMA),
            _ => None,
        }
    }

    fn check(&self, _ty: &str, inputs: &PropMap, _related: &Related<'_>) -> Vec<CheckFailure> {
        match inputs.get("value").and_then(|p| p.value.as_ref()) {
            Some(Value::String(v)) if v.contains('!') => vec![CheckFailure {
                property: Some("value".into()),
                reason: format!("'{v}' is invalid: '!' is not allowed"),
            }],
            _ => Vec::new(),
        }
    }

    async fn create(&self, req: CreateRequest) -> Result<Created, ProviderError> {
        let name = req.resource.name.clone();
        let id = format!(
            "{name}-{}",
            self.inner.next_id.fetch_add(1, Ordering::SeqCst)
        );
        self.call("create", &name, |cloud| {
            check_refs(cloud, &req.inputs)?;
            if req.resource.ty == "test:Unique" {
                let (unique, zone) = (req.inputs.get("name"), req.inputs.get("zone"));
                let types = self.inner.types.lock().unwrap();
                if cloud.iter().any(|(id, (_, v))| {
                    types.get(id).is_some_and(|t| t == "test:Unique")
                        && v.get("name") == unique
                        && v.get("zone") == zone
                }) {
                    return Err(
                        ProviderError::on_property("name", "name already in use").conflict()
                    );
                }
            }
            cloud.insert(id.clone(), (name.clone(), req.inputs.clone()));
            self.inner
                .types
                .lock()
                .unwrap()
                .insert(id.clone(), req.resource.ty.clone());
            self.inner
                .stacks
                .lock()
                .unwrap()
                .insert(id.clone(), req.resource.stack.clone());
            self.inner
                .tokens
                .lock()
                .unwrap()
                .insert(req.client_token.clone(), id.clone());
            Ok(Created {
                outputs: self.outputs_of(&id, &req.inputs),
                id: id.clone(),
            })
        })
        .await
    }

    /// By the create's token, or by what tags would say: this stack, this name, this type.
    async fn find(&self, req: CreateRequest) -> Result<Vec<String>, ProviderError> {
        self.call("find", &req.resource.name, |cloud| {
            let tokens = self.inner.tokens.lock().unwrap();
            let types = self.inner.types.lock().unwrap();
            let stacks = self.inner.stacks.lock().unwrap();
            let by_token = tokens.get(&req.client_token);
            Ok(cloud
                .iter()
                .filter(|(id, (name, _))| {
                    by_token == Some(*id)
                        || (name == &req.resource.name
                            && types.get(*id) == Some(&req.resource.ty)
                            && stacks.get(*id) == Some(&req.resource.stack))
                })
                .map(|(id, _)| id.clone())
                .collect())
        })
        .await
    }

    async fn read(&self, req: ReadRequest) -> Result<Option<ReadResult>, ProviderError> {
        self.call("read", &req.resource.name, |cloud| {
            Ok(cloud.get(&req.id).map(|(_, inputs)| ReadResult {
                inputs: inputs.clone(),
                outputs: self.outputs_of(&req.id, inputs),
            }))
        })
        .await
    }

    /// A thing or a unique by `id`, or a thing by the name it was made under.
    async fn lookup(&self, req: LookupRequest) -> Result<Value, ProviderError> {
        let types = self.inner.types.lock().unwrap().clone();
        self.call("lookup", &req.resource.name, |cloud| {
            let arg = |k: &str| req.args.get(k).and_then(Value::as_str).map(str::to_string);
            let found: Vec<(&String, &Value)> = match req.resource.ty.as_str() {
                GET_THING_BY_NAME => {
                    let name = arg("name");
                    cloud
                        .iter()
                        .filter(|(id, (n, _))| {
                            Some(n) == name.as_ref()
                                && types.get(*id).map(String::as_str) == Some(Thing::TYPE)
                        })
                        .map(|(id, (_, inputs))| (id, inputs))
                        .collect()
                }
                Thing::TYPE | Unique::TYPE => {
                    let id = arg("id");
                    cloud
                        .iter()
                        .filter(|(i, _)| Some(*i) == id.as_ref())
                        .filter(|(i, _)| types.get(*i) == Some(&req.resource.ty))
                        .map(|(id, (_, inputs))| (id, inputs))
                        .collect()
                }
                other => {
                    return Err(
                        ProviderError::new(format!("no lookup '{other}'")).kind(ErrorKind::Invalid)
                    );
                }
            };
            match found.as_slice() {
                [(id, inputs)] => Ok(outputs(id, inputs)),
                [] => Err(ProviderError::new(format!("nothing matches {}", req.args))
                    .kind(ErrorKind::NotFound)),
                many => Err(ProviderError::new(format!(
                    "{} things match {}, and a lookup reads one",
                    many.len(),
                    req.args
                ))
                .kind(ErrorKind::NotFound)),
            }
        })
        .await
    }

    async fn update(&self, req: UpdateRequest) -> Result<Value, ProviderError> {
        self.call("update", &req.resource.name, |cloud| {
            check_refs(cloud, &req.new_inputs)?;
            let entry = cloud
                .get_mut(&req.id)
                .ok_or_else(|| ProviderError::new(format!("'{}' does not exist", req.id)))?;
            entry.1 = req.new_inputs.clone();
            Ok(self.outputs_of(&req.id, &req.new_inputs))
        })
        .await
    }

    /// Waits while the test holds it (`hold_ready`), then marks it ready.
    async fn await_ready(&self, req: ReadRequest) -> Result<Value, ProviderError> {
        let name = &req.resource.name;
        loop {
            let released = self.inner.released.notified();
            tokio::pin!(released);
            released.as_mut().enable();
            if !self.inner.held.lock().unwrap().contains(name) {
                break;
            }
            released.await;
        }
        self.call("ready", name, |cloud| {
            let (_, inputs) = cloud
                .get(&req.id)
                .ok_or_else(|| ProviderError::new(format!("'{}' does not exist", req.id)))?;
            self.inner.ready.lock().unwrap().insert(req.id.clone());
            Ok(self.outputs_of(&req.id, inputs))
        })
        .await
    }

    async fn delete(&self, req: DeleteRequest) -> Result<(), ProviderError> {
        self.call("delete", &req.resource.name, |cloud| {
            if let Some((user, _)) = cloud
                .iter()
                .find(|(_, (_, inputs))| refs(inputs).contains(&req.id))
                .map(|(_, v)| v)
            {
                return Err(ProviderError::new(format!(
                    "'{}' is still referenced by '{user}'",
                    req.id
                )));
            }
            cloud.remove(&req.id);
            Ok(())
        })
        .await
    }
}

impl DefaultProvider for TestProvider {
    const PACKAGE: &'static str = "test";

    fn from_config(_config: &Config) -> Self {
        TestProvider::new()
    }
}
