//! An in-process test provider for the engine's own tests and benchmarks (feature `testing`).
//!
//! It keeps a small "cloud" in memory and enforces what a real cloud would: a resource cannot
//! be created with a reference to something that does not exist, and cannot be deleted while
//! something still refers to it. Latency and failures are configurable per resource, and every
//! call is logged with a logical clock so tests can check ordering without timing.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use serde_json::{Value, json};

use crate::ResourceType;
use crate::config::Config;
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

    fn tick(&self) -> u64 {
        self.inner.clock.fetch_add(1, Ordering::SeqCst) + 1
    }

    async fn call<T>(
        &self,
        op: &'static str,
        name: &str,
        effect: impl FnOnce(&mut BTreeMap<String, (String, Value)>) -> Result<T, ProviderError>,
    ) -> Result<T, ProviderError> {
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
                outputs: outputs(&id, &req.inputs),
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
                outputs: outputs(&req.id, inputs),
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
            Ok(outputs(&req.id, &req.new_inputs))
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
