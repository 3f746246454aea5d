//! The executor: turns a plan into a DAG of operations and runs it through the scheduler,
//! recording each operation in the state the moment it completes.
//!
//! Ordering rules (each an edge of the DAG):
//! - a resource is created or updated after everything it depends on;
//! - a create-before-delete replacement deletes its old copy after the new one exists and after
//!   every resource that referred to the old one has moved off it;
//! - a delete-first replacement deletes its old copy only once everything its new copy needs
//!   has been created or updated (so a failure there leaves the old copy alone), and creates
//!   the new copy right after;
//! - a deleted resource goes after the deleted resources that depended on it (reverse order);
//! - a resource whose type is ready later (`Readiness::Awaited`) has a second node that waits
//!   for it to be ready: the dependents that take its outputs hang off its create, those that
//!   name it in `depends_on` and the delete of the copy it replaces hang off the wait.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use cairn_state::{OpKind, PendingOp, ResourceRecord, Store};
use petgraph::algo::is_cyclic_directed;
use petgraph::graph::{DiGraph, NodeIndex};
use serde_json::Value;

use crate::graph::{ResourceGraph, names_in_depends_on};
use crate::output::{Resolve, ResourceIdx};
use crate::plan::{self, Change, Plan, Step, StepKind};
use crate::props;
use crate::provider::{
    CreateRequest, Created, DeleteRequest, ErrorKind, ProviderError, ProviderRef, ReadRequest,
    Readiness, ResourceContext, UpdateRequest,
};
use crate::redact;
use crate::schedule::{Outcome, Stop, run_dag_until};
use crate::stack::Stack;
use crate::unique::{self, DeleteFirst, Keeps, KeptKey};

/// One node of the operation DAG.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Op {
    /// Create, update or confirm the declared resource of step `usize`.
    Apply(usize),
    /// Delete the old record of step `usize` (a delete, or the old half of a replacement).
    DeleteOld(usize),
    /// Wait until the resource of step `usize`, of a type ready later, is ready.
    Ready(usize),
}

impl Op {
    /// The step it belongs to.
    fn step(self) -> usize {
        let (Op::Apply(i) | Op::DeleteOld(i) | Op::Ready(i)) = self;
        i
    }
}

/// What the wait for a resource's readiness needs from its apply.
struct Settled {
    id: String,
    inputs: Value,
    /// For a create: what it did and when it started, reported once the resource is ready.
    made: Option<(Action, Instant)>,
}

/// What happened to one operation, reported as it happens.
#[derive(Debug, Clone)]
pub struct Event {
    /// The resource.
    pub name: String,
    /// Its type token.
    pub ty: String,
    /// What happened (or started).
    pub action: Action,
    /// How long it took (zero for a start).
    pub elapsed: Duration,
    /// For a failure: what went wrong (secrets redacted), shown where it happens as well as
    /// with every other error at the end.
    pub error: Option<String>,
}

/// What an operation did, or (the `-ing` ones) started doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// The resource was made.
    Created,
    /// It was changed in place.
    Updated,
    /// Its new copy was made (the old one goes in its own event).
    Replaced,
    /// It was deleted.
    Deleted,
    /// The old copy of a replacement is gone (before the new copy's create, for a delete-first
    /// replacement; after it otherwise).
    DeletedOriginal,
    /// The record took the resource's new name (an alias), and nothing else changed.
    Renamed,
    /// A lookup whose arguments were known only during the run was read.
    Read,
    /// The operation failed (the event's `error` says why).
    Failed,
    /// An operation announced as starting turned out to have nothing to do (values known only
    /// at apply showed no change).
    Unchanged,
    /// An operation started (elapsed zero): what it is doing until it finishes.
    Creating,
    /// An update started.
    Updating,
    /// A replacement started.
    Replacing,
    /// A delete started.
    Deleting,
    /// A lookup's read started.
    Reading,
}

impl Action {
    /// Whether the event is an operation starting rather than ending.
    pub fn is_start(self) -> bool {
        matches!(
            self,
            Action::Creating
                | Action::Updating
                | Action::Replacing
                | Action::Deleting
                | Action::Reading
        )
    }

    /// The word for it, as the log, the summary and `--json` say it.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Creating => "creating",
            Action::Updating => "updating",
            Action::Replacing => "replacing",
            Action::Deleting => "deleting",
            Action::Reading => "reading",
            Action::Read => "read",
            Action::Created => "created",
            Action::Updated => "updated",
            Action::Replaced => "replaced",
            Action::Deleted => "deleted",
            Action::DeletedOriginal => "deleted original",
            Action::Renamed => "renamed",
            Action::Failed => "failed",
            Action::Unchanged => "unchanged",
        }
    }
}

/// An operation that failed, naming the resource and, when known, the property.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{verb} '{name}' ({ty}){}: {message}", property.as_ref().map(|p| format!(", property '{p}'")).unwrap_or_default())]
pub struct OpError {
    /// What was being done (`creating`, `deleting`, …).
    pub verb: &'static str,
    /// The resource.
    pub name: String,
    /// Its type token.
    pub ty: String,
    /// The property the failure is about, when the provider could tell.
    pub property: Option<String>,
    /// What went wrong (secrets redacted).
    pub message: String,
}

/// The result of running a plan.
#[derive(Default)]
pub struct Execution {
    /// The operations that failed.
    pub errors: Vec<OpError>,
    /// Operations that never started because something they depend on failed.
    pub skipped: Vec<String>,
    /// Operations done, by what they did (`created`, `replaced`, `deleted`, …), and `failed`:
    /// every operation that changed something is counted, in a failed run too.
    pub counts: HashMap<&'static str, usize>,
    /// Stack outputs evaluated after the run (absent ones could not be computed).
    pub outputs: Vec<(String, Value, bool)>,
    /// Declared resources that do not exist after the run (not created yet, or deleted by a
    /// delete-first replacement whose new copy could not be made).
    pub missing: Vec<String>,
    /// The run was stopped (an interrupt): these operations never started.
    pub not_started: Option<Vec<String>>,
}

/// Secret outputs are masked, so a stray `{:?}` cannot print one.
impl std::fmt::Debug for Execution {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let outputs: Vec<(&str, Value)> = self
            .outputs
            .iter()
            .map(|(name, value, secret)| {
                let shown = if *secret {
                    Value::String("[secret]".into())
                } else {
                    value.clone()
                };
                (name.as_str(), shown)
            })
            .collect();
        f.debug_struct("Execution")
            .field("errors", &self.errors)
            .field("skipped", &self.skipped)
            .field("counts", &self.counts)
            .field("outputs", &outputs)
            .field("missing", &self.missing)
            .field("not_started", &self.not_started)
            .finish()
    }
}

/// What a run carries out.
#[derive(Clone, Copy)]
pub(crate) enum Mode<'a> {
    /// A program's plan: its declarations are created, updated or replaced in the order of
    /// their graph, and records no longer declared deleted.
    Up {
        stack: &'a Stack,
        graph: &'a ResourceGraph,
    },
    /// Records deleted, dependents first: nothing is declared.
    Destroy,
}

impl Mode<'_> {
    /// The command, as the history records it.
    pub fn command(self) -> &'static str {
        match self {
            Mode::Up { .. } => "up",
            Mode::Destroy => "destroy",
        }
    }
}

/// What an executor is given: one run of one plan against one stack's state.
pub(crate) struct RunConfig<'a> {
    pub stack_name: &'a str,
    pub mode: Mode<'a>,
    pub plan: &'a Plan,
    pub store: &'a Store,
    /// The history row the run belongs to.
    pub update_id: i64,
    pub providers: &'a HashMap<String, ProviderRef>,
    pub on_event: &'a (dyn Fn(&Event) + Sync),
    /// Once requested, no operation starts; those running finish and are recorded.
    pub stop: &'a Stop,
}

/// Everything an operation needs, shared by all of them.
pub(crate) struct Executor<'a> {
    stack_name: &'a str,
    mode: Mode<'a>,
    plan: &'a Plan,
    store: &'a Store,
    update_id: i64,
    providers: &'a HashMap<String, ProviderRef>,
    on_event: &'a (dyn Fn(&Event) + Sync),
    stop: &'a Stop,
    /// Outputs of declared resources as the run makes them known.
    live: Mutex<Vec<Option<Value>>>,
    /// For each step, whether its Apply actually replaced (so DeleteOld knows to act).
    replaced: Vec<AtomicBool>,
    /// For each step, whether its old copy was deleted.
    deleted_old: Vec<AtomicBool>,
    /// For each step, whether its resource's readiness is awaited after it exists (an `Op::Ready`).
    awaits: Vec<bool>,
    /// For each such step, the resource its apply left, for the wait.
    settled: Vec<Mutex<Option<Settled>>>,
    errors: Mutex<Vec<OpError>>,
    counts: Mutex<HashMap<&'static str, usize>>,
}

static TOKEN_COUNTER: AtomicU64 = AtomicU64::new(0);

/// Tries of a create that fails transiently and is found not to have made anything. The
/// provider's own client retries what is safe to re-send (throttling) before that.
const CREATE_ATTEMPTS: u32 = 5;

/// The wait before create attempt `attempt + 1`: 0.5 s doubling, at most 8 s.
fn create_backoff(attempt: u32) -> Duration {
    Duration::from_millis(500 << (attempt - 1).min(4))
}

/// A token unique to one operation (at most 64 ASCII characters, as EC2 requires).
fn client_token() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    let n = TOKEN_COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("cairn-{:x}-{:x}-{n:x}", std::process::id(), nanos)
}

impl<'a> Executor<'a> {
    pub fn new(config: RunConfig<'a>) -> Self {
        let RunConfig {
            stack_name,
            mode,
            plan,
            store,
            update_id,
            providers,
            on_event,
            stop,
        } = config;
        let declared = match mode {
            Mode::Up { stack, .. } => stack.resources.len(),
            Mode::Destroy => 0,
        };
        let live = (0..declared)
            .map(|i| {
                let step = &plan.steps[i];
                match step.kind() {
                    StepKind::Same | StepKind::Update | StepKind::Untargeted => {
                        step.old().map(|o| o.outputs.clone())
                    }
                    _ => match &step.change {
                        Change::Read { outputs } => outputs.clone(),
                        _ => None,
                    },
                }
            })
            .collect();
        let awaits = plan
            .steps
            .iter()
            .enumerate()
            .map(|(i, step)| {
                i < declared
                    && matches!(
                        step.kind(),
                        StepKind::Create | StepKind::Replace | StepKind::Same | StepKind::Update
                    )
                    && providers
                        .get(&step.provider)
                        .and_then(|p| p.provider.schema(&step.ty))
                        .is_some_and(|s| s.readiness == Readiness::Awaited)
            })
            .collect();
        Executor {
            stack_name,
            mode,
            plan,
            store,
            update_id,
            providers,
            on_event,
            stop,
            live: Mutex::new(live),
            replaced: plan.steps.iter().map(|_| AtomicBool::new(false)).collect(),
            deleted_old: plan.steps.iter().map(|_| AtomicBool::new(false)).collect(),
            awaits,
            settled: plan.steps.iter().map(|_| Mutex::default()).collect(),
            errors: Mutex::default(),
            counts: Mutex::default(),
        }
    }

    /// Builds the operation DAG.
    pub fn dag(&self) -> DiGraph<Op, ()> {
        let graph = match self.mode {
            Mode::Up { graph, .. } => Some(graph),
            Mode::Destroy => None,
        };
        let steps = &self.plan.steps;
        let mut dag = DiGraph::new();
        let mut apply: HashMap<usize, NodeIndex> = HashMap::new();
        let mut delete: HashMap<usize, NodeIndex> = HashMap::new();
        let mut ready: HashMap<usize, NodeIndex> = HashMap::new();
        for (i, s) in steps.iter().enumerate() {
            if s.is_declared() {
                apply.insert(i, dag.add_node(Op::Apply(i)));
            }
            if self.awaits[i] {
                let node = dag.add_node(Op::Ready(i));
                dag.add_edge(apply[&i], node, ());
                ready.insert(i, node);
            }
            if matches!(s.kind(), StepKind::Replace | StepKind::Delete) {
                delete.insert(i, dag.add_node(Op::DeleteOld(i)));
            }
        }
        // Dependencies of declared resources: on a resource ready later, only an explicit
        // `depends_on` waits for ready.
        if let (Some(graph), Mode::Up { stack, .. }) = (graph, self.mode) {
            for e in graph.graph.raw_edges() {
                let (from, to) = (e.source().index(), e.target().index());
                let waits = ready
                    .get(&from)
                    .filter(|_| names_in_depends_on(stack, to, from));
                dag.add_edge(*waits.unwrap_or(&apply[&from]), apply[&to], ());
            }
        }
        // Replacements.
        for (&i, &del) in &delete {
            let s = &steps[i];
            if s.kind() == StepKind::Replace {
                if s.deletes_first() {
                    dag.add_edge(del, apply[&i], ());
                } else {
                    // The old copy goes once the new one is ready, not merely made.
                    dag.add_edge(*ready.get(&i).unwrap_or(&apply[&i]), del, ());
                }
            }
        }
        // Deletes wait for whatever still refers to what they delete.
        let by_seq: HashMap<i64, usize> = delete
            .keys()
            .filter_map(|&i| Some((steps[i].old()?.seq, i)))
            .collect();
        let live_by_name: HashMap<&str, usize> = steps
            .iter()
            .enumerate()
            .filter(|(_, s)| s.is_declared())
            .map(|(i, s)| (s.name.as_str(), i))
            .collect();
        for (&i, &del) in &delete {
            let Some(target) = steps[i].old() else {
                continue;
            };
            let dbr = steps[i].deletes_first();
            for step in steps {
                let Some(rec) = step.old() else {
                    continue;
                };
                if !rec.dependencies.iter().any(|d| d == &target.name) || rec.seq == target.seq {
                    continue;
                }
                if let Some(&k) = by_seq.get(&rec.seq) {
                    // The dependent's old copy is deleted too: it goes first.
                    if k != i {
                        dag.add_edge(delete[&k], del, ());
                    }
                } else if !dbr {
                    // The dependent lives on and must move off the old resource first.
                    if let Some(&a) = live_by_name.get(rec.name.as_str()) {
                        dag.add_edge(apply[&a], del, ());
                    }
                }
            }
            // A replaced resource's current dependents move to the new copy before the old goes.
            if let Some(graph) = graph.filter(|_| !dbr && steps[i].kind() == StepKind::Replace) {
                for e in graph.graph.raw_edges() {
                    if e.source().index() == i {
                        dag.add_edge(apply[&e.target().index()], del, ());
                    }
                }
            }
        }
        for (&i, &del) in &delete {
            if steps[i].deletes_first() {
                delete_when_ready(&mut dag, del, apply[&i]);
            }
        }
        dag
    }

    /// Runs the DAG.
    pub async fn run(self, dag: &DiGraph<Op, ()>, parallel: usize) -> Execution {
        assert!(
            !is_cyclic_directed(dag),
            "operation graph has a cycle: planner bug"
        );
        let this = &self;
        let outcome = run_dag_until(dag, parallel, self.stop, |node| {
            let op = dag[node];
            async move {
                let mut started = Instant::now();
                let announced = this.report_start(op);
                let result = match op {
                    Op::Ready(i) => this.await_ready(i).await.map(|made| {
                        made.map(|(action, at)| {
                            started = at;
                            action
                        })
                    }),
                    _ => this.run_op(op).await,
                };
                match result {
                    Ok(Some(action @ (Action::Created | Action::Replaced)))
                        if matches!(op, Op::Apply(i) if this.awaits[i]) =>
                    {
                        // Told when it is ready (`Op::Ready`), which is when it is made.
                        if let Some(s) = this.settled[op.step()].lock().unwrap().as_mut() {
                            s.made = Some((action, started));
                        }
                        true
                    }
                    Ok(Some(action)) => {
                        this.report(op, action, started);
                        true
                    }
                    Ok(None) => {
                        if announced {
                            this.report(op, Action::Unchanged, started);
                        }
                        true
                    }
                    Err(mut e) => {
                        e.message = redact::redact(&e.message);
                        this.report_failure(op, &e, started);
                        this.errors.lock().unwrap().push(e);
                        false
                    }
                }
            }
        })
        .await;
        let named = |which: Outcome| -> Vec<String> {
            let mut names: Vec<String> = dag
                .node_indices()
                .filter(|n| outcome[n.index()] == which)
                .map(|n| self.plan.steps[dag[n].step()].name.clone())
                .collect();
            names.dedup();
            names
        };
        let skipped = named(Outcome::Skipped);
        let not_started = self.stop.requested().then(|| named(Outcome::NotStarted));
        let outputs = self.final_outputs();
        let errors = self.errors.into_inner().unwrap();
        let mut counts = self.counts.into_inner().unwrap();
        // A delete-first replacement whose new copy was not made deleted something all the same.
        for (i, step) in self.plan.steps.iter().enumerate() {
            if step.kind() == StepKind::Replace
                && self.deleted_old[i].load(Ordering::SeqCst)
                && !self.replaced[i].load(Ordering::SeqCst)
            {
                *counts.entry(Action::Deleted.as_str()).or_default() += 1;
            }
        }
        if !errors.is_empty() {
            counts.insert(Action::Failed.as_str(), errors.len());
        }
        Execution {
            errors,
            skipped,
            counts,
            outputs,
            missing: Vec::new(),
            not_started,
        }
    }

    /// Says an operation that will change something started (an unchanged resource's is
    /// quiet), and whether it said so.
    fn report_start(&self, op: Op) -> bool {
        let step = &self.plan.steps[op.step()];
        let action = match (op, step.kind()) {
            (Op::Apply(_), StepKind::Create) => Action::Creating,
            (Op::Apply(_), StepKind::Update) => Action::Updating,
            (Op::Apply(_), StepKind::Replace) => Action::Replacing,
            (Op::Apply(_), StepKind::Read) if step.reads_during_apply() => Action::Reading,
            (Op::DeleteOld(_), _) => Action::Deleting,
            // A create's wait goes on under the create's own "creating".
            (Op::Apply(_) | Op::Ready(_), _) => return false,
        };
        (self.on_event)(&Event {
            name: step.name.clone(),
            ty: step.ty.clone(),
            action,
            elapsed: Duration::ZERO,
            error: None,
        });
        true
    }

    fn report_failure(&self, op: Op, e: &OpError, started: Instant) {
        let step = &self.plan.steps[op.step()];
        (self.on_event)(&Event {
            name: step.name.clone(),
            ty: step.ty.clone(),
            action: Action::Failed,
            elapsed: started.elapsed(),
            error: Some(e.to_string()),
        });
    }

    fn report(&self, op: Op, action: Action, started: Instant) {
        let step = &self.plan.steps[op.step()];
        if !matches!(
            action,
            Action::Failed | Action::DeletedOriginal | Action::Unchanged
        ) {
            *self
                .counts
                .lock()
                .unwrap()
                .entry(action.as_str())
                .or_default() += 1;
        }
        (self.on_event)(&Event {
            name: step.name.clone(),
            ty: step.ty.clone(),
            action,
            elapsed: started.elapsed(),
            error: None,
        });
    }

    fn final_outputs(&self) -> Vec<(String, Value, bool)> {
        let Mode::Up { stack, .. } = self.mode else {
            return Vec::new();
        };
        let live = self.live.lock().unwrap();
        let resolver = LiveResolver {
            outputs: &live,
            stack,
        };
        stack
            .exports
            .iter()
            .filter_map(|(name, o)| {
                let r = o.evaluate(&resolver);
                match r.value {
                    crate::output::Eval::Known(v) => Some((name.clone(), v, r.secret)),
                    _ => None,
                }
            })
            .collect()
    }

    fn provider(&self, step: &Step) -> Result<&ProviderRef, OpError> {
        self.providers.get(&step.provider).ok_or_else(|| OpError {
            verb: "managing",
            name: step.name.clone(),
            ty: step.ty.clone(),
            property: None,
            message: format!(
                "provider '{}' is not declared by the program (it must stay declared while \
                 resources it manages exist)",
                step.provider
            ),
        })
    }

    fn context(&self, step: &Step) -> ResourceContext {
        ResourceContext {
            stack: self.stack_name.to_string(),
            name: step.name.clone(),
            ty: step.ty.clone(),
        }
    }

    fn fail(step: &Step, verb: &'static str, message: impl Into<String>) -> OpError {
        OpError {
            verb,
            name: step.name.clone(),
            ty: step.ty.clone(),
            property: None,
            message: message.into(),
        }
    }

    fn provider_fail(step: &Step, verb: &'static str, e: ProviderError) -> OpError {
        OpError {
            verb,
            name: step.name.clone(),
            ty: step.ty.clone(),
            property: e.property,
            message: e.message,
        }
    }

    fn state_fail(step: &Step, verb: &'static str, e: cairn_state::StateError) -> OpError {
        Self::fail(
            step,
            verb,
            format!("recording the result in the state failed: {e}"),
        )
    }

    async fn run_op(&self, op: Op) -> Result<Option<Action>, OpError> {
        match (op, self.mode) {
            (Op::Apply(i), Mode::Up { stack, .. }) => self.apply(stack, i).await,
            // `dag` makes no Apply without a program.
            (Op::Apply(_), Mode::Destroy) => Ok(None),
            (Op::DeleteOld(i), _) => self.delete_old(i).await,
            (Op::Ready(i), _) => self.await_ready(i).await.map(|m| m.map(|(a, _)| a)),
        }
    }

    /// Creates, updates or replaces the declared resource of step `i`, re-deciding with the
    /// values now known.
    async fn apply(&self, stack: &Stack, i: usize) -> Result<Option<Action>, OpError> {
        let step = &self.plan.steps[i];
        if step.kind() == StepKind::Untargeted {
            return Ok(None);
        }
        if step.kind() == StepKind::Read {
            return self.read(stack, i).await;
        }
        let decl = &stack.resources[i];
        let mut inputs = self.evaluate(stack, i, "evaluating")?;
        self.remember_secrets(&inputs);
        let provider = self.provider(step)?;
        let schema = provider.provider.schema(&step.ty).unwrap_or_default();
        // The names Cairn picked at plan time (or kept from the record).
        for (p, _) in schema.auto_named() {
            if let Some(v) = step.inputs.get(p).filter(|_| !decl.declares(p)) {
                inputs.insert(p.to_string(), v.clone());
            }
        }
        let deps: Vec<String> = {
            let mut names: Vec<String> = self
                .dependency_names(stack, i)
                .into_iter()
                .map(str::to_string)
                .collect();
            names.sort();
            names.dedup();
            names
        };
        // Recorded under a former name (an alias): renamed first, so that everything after
        // writes to the record under the name the program now gives it.
        let renamed = match (&step.renamed_from, step.old()) {
            (Some(_), Some(old)) if !step.deletes_first() => {
                let (stack_name, seq, to) =
                    (self.stack_name.to_string(), old.seq, step.name.clone());
                self.record(move |s| s.rename_resource(&stack_name, seq, &to))
                    .await
                    .map_err(|e| Self::state_fail(step, "renaming", e))?;
                Some(ResourceRecord {
                    name: step.name.clone(),
                    ..old.clone()
                })
            }
            _ => None,
        };
        // The old record still live for this name (a delete-before-replace removed it already).
        let old = renamed
            .as_ref()
            .or(step.old())
            .filter(|_| !step.deletes_first());
        let same_type = old.is_some_and(|o| o.ty == step.ty && o.provider == step.provider);
        let old_props = old.map(|o| props::from_state(&o.inputs));
        let ignore = match &old_props {
            Some(recorded) if same_type => {
                plan::keep_ignored(&mut inputs, recorded, &decl.ignore_changes);
                decl.ignore_changes.as_slice()
            }
            _ => &[],
        };
        // Decided again now that every input is known, by the planner's own rule.
        let (kind, diffs) = plan::decide(
            old_props.as_ref(),
            same_type,
            decl.force_replace,
            &inputs,
            &schema,
            ignore,
        );
        let replace = matches!(kind, StepKind::Create | StepKind::Replace);
        let plain = props::to_plain(&inputs).ok_or_else(|| {
            Self::fail(
                step,
                "evaluating",
                "inputs are still unknown after their dependencies finished",
            )
        })?;

        if let Some(old) = old {
            if kind == StepKind::Same {
                // Unchanged; keep the record's dependencies and protection current.
                if old.dependencies != deps || old.protect != decl.protect {
                    let mut rec = old.clone();
                    rec.dependencies = deps;
                    rec.protect = decl.protect;
                    self.record(move |s| s.complete_update(None, &rec))
                        .await
                        .map_err(|e| Self::state_fail(step, "recording", e))?;
                }
                self.live.lock().unwrap()[i] = Some(old.outputs.clone());
                self.settle(i, &old.id, &plain);
                return Ok(renamed.is_some().then_some(Action::Renamed));
            }
            if replace && step.kind() != StepKind::Replace {
                return Err(Self::fail(
                    step,
                    "updating",
                    format!(
                        "a value that was not known at plan time now forces a replacement ({}); \
                         run up again to plan it",
                        diffs
                            .iter()
                            .filter(|d| d.forces_replacement)
                            .map(|d| d.property.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                ));
            }
            if replace && same_type {
                let old_props = props::from_state(&old.inputs);
                if let Keeps::Yes(key) = unique::keeps(&schema, &old_props, &inputs) {
                    // A value unknown at plan time turned out to keep a unique key: the new copy
                    // cannot be made beside the old. Everything it needs is done by now, so it is
                    // as safe to delete the old copy first as a planned delete-first, unless
                    // something still refers to it.
                    let kept = KeptKey::of(key, &inputs);
                    let users = self.users_of(step, old)?;
                    if !users.is_empty() {
                        return Err(Self::fail(
                            step,
                            "replacing",
                            format!(
                                "now that its inputs are known, the new copy would keep {} \
                                 of the copy that exists, which the cloud refuses beside it, and \
                                 {} still refer{} to the old copy; nothing was changed: {}",
                                kept.what(),
                                users.join(", "),
                                if users.len() == 1 { "s" } else { "" },
                                DeleteFirst::Kept(kept.clone()).remedy()
                            ),
                        ));
                    }
                    let started = Instant::now();
                    self.delete_record(step, provider, old).await?;
                    self.deleted_old[i].store(true, Ordering::SeqCst);
                    self.report(Op::DeleteOld(i), Action::DeletedOriginal, started);
                    let new = NewCopy {
                        inputs,
                        plain,
                        deps,
                        protect: decl.protect,
                    };
                    return self.create(i, provider, new, None).await;
                }
            }
            if !replace {
                let changed = diffs.iter().map(|d| d.property.clone()).collect();
                let op_seq = self
                    .begin(step, OpKind::Update, Some(old.seq), &inputs)
                    .await?;
                let result = provider
                    .provider
                    .update(UpdateRequest {
                        resource: self.context(step),
                        id: old.id.clone(),
                        old_inputs: props::to_plain(&props::from_state(&old.inputs))
                            .unwrap_or(Value::Null),
                        new_inputs: plain.clone(),
                        old_outputs: old.outputs.clone(),
                        changed,
                    })
                    .await;
                let outputs = match result {
                    Ok(outputs) => outputs,
                    // The call may have done the work before it failed (a response lost, and
                    // the re-sent call refused because it is done): it did if the resource
                    // now is as asked.
                    Err(e) => match self.updated_anyway(step, provider, old, &plain).await {
                        Some(outputs) => outputs,
                        None => {
                            let err = self.abandon(step, op_seq, e, "updating").await;
                            self.reread(step, provider, old).await;
                            return Err(err);
                        }
                    },
                };
                let rec = ResourceRecord {
                    inputs: props::to_state(&inputs),
                    outputs: outputs.clone(),
                    dependencies: deps,
                    protect: decl.protect,
                    ..old.clone()
                };
                self.record(move |s| s.complete_update(Some(op_seq), &rec))
                    .await
                    .map_err(|e| Self::state_fail(step, "updating", e))?;
                self.live.lock().unwrap()[i] = Some(outputs);
                self.settle(i, &old.id, &plain);
                return Ok(Some(Action::Updated));
            }
        }

        self.create(
            i,
            provider,
            NewCopy {
                inputs,
                plain,
                deps,
                protect: decl.protect,
            },
            old.map(|o| o.seq),
        )
        .await
    }

    /// Creates the declared resource of step `i` (new, or the new copy of a replacement whose
    /// old record is `replaces`, kept until its own delete).
    async fn create(
        &self,
        i: usize,
        provider: &ProviderRef,
        new: NewCopy,
        replaces: Option<i64>,
    ) -> Result<Option<Action>, OpError> {
        let step = &self.plan.steps[i];
        let NewCopy {
            inputs,
            plain,
            deps,
            protect,
        } = new;
        let token = client_token();
        let op_seq = self
            .begin_with_token(
                step,
                OpKind::Create,
                None,
                &inputs,
                &token,
                (&deps, protect),
            )
            .await?;
        let mut attempt = 1;
        let (created, recorded) = loop {
            let result = provider
                .provider
                .create(CreateRequest {
                    resource: self.context(step),
                    inputs: plain.clone(),
                    client_token: token.clone(),
                })
                .await;
            let mut e = match result {
                Ok(created) => break (created, props::to_state(&inputs)),
                Err(e) => e,
            };
            // A failed call may still have taken effect (a response lost on the way back, a
            // 5xx after the work was done), and a name taken may be taken by this very
            // resource (made by an attempt whose response was lost): look before reporting it
            // or trying again, so that nothing is made twice and nothing is orphaned. The
            // provider finds only what is provably this stack's resource.
            if let Some((id, now)) = self.made_anyway(step, provider, &inputs, &token).await {
                break self
                    .finish_adopted(step, provider, &inputs, &plain, id, now)
                    .await;
            }
            if e.is(ErrorKind::Conflict) {
                e.message = format!(
                    "{}; what exists is not this stack's '{}' (it does not carry its tags, or \
                     differs from what the program declares): rename it in the program (or \
                     leave the name unset, so that Cairn names it), or remove what exists",
                    e.message, step.name
                );
            }
            if !e.is(ErrorKind::Retryable) || attempt == CREATE_ATTEMPTS {
                return Err(self.abandon(step, op_seq, e, "creating").await);
            }
            tracing::debug!(resource = %step.name, attempt, "create failed transiently: {e}");
            tokio::time::sleep(create_backoff(attempt)).await;
            attempt += 1;
        };
        self.settle(i, &created.id, &plain);
        let rec = ResourceRecord {
            seq: 0,
            name: step.name.clone(),
            ty: step.ty.clone(),
            provider: step.provider.clone(),
            id: created.id,
            inputs: recorded,
            outputs: created.outputs.clone(),
            dependencies: deps,
            protect,
            replaced: false,
        };
        let stack = self.stack_name.to_string();
        self.record(move |s| s.complete_create(&stack, op_seq, &rec, replaces))
            .await
            .map_err(|e| Self::state_fail(step, "creating", e))?;
        self.live.lock().unwrap()[i] = Some(created.outputs);
        if step.kind() == StepKind::Replace {
            self.replaced[i].store(true, Ordering::SeqCst);
            return Ok(Some(Action::Replaced));
        }
        Ok(Some(Action::Created))
    }

    /// Leaves what the wait for step `i`'s readiness needs, if its type is ready later.
    fn settle(&self, i: usize, id: &str, inputs: &Value) {
        if self.awaits[i] {
            *self.settled[i].lock().unwrap() = Some(Settled {
                id: id.to_string(),
                inputs: inputs.clone(),
                made: None,
            });
        }
    }

    /// Waits until the resource step `i`'s apply left is ready, and records its outputs then.
    /// For a create, returns what it did and when it started: it is made now.
    async fn await_ready(&self, i: usize) -> Result<Option<(Action, Instant)>, OpError> {
        let step = &self.plan.steps[i];
        let Some(settled) = self.settled[i].lock().unwrap().take() else {
            // The apply left nothing to wait for (a create that failed never gets here).
            return Ok(None);
        };
        let verb = if settled.made.is_some() {
            "creating"
        } else {
            "waiting for"
        };
        let provider = self.provider(step)?;
        let outputs = self.live.lock().unwrap()[i].clone().unwrap_or(Value::Null);
        let wait = provider.provider.await_ready(ReadRequest {
            resource: self.context(step),
            id: settled.id.clone(),
            inputs: settled.inputs,
            outputs: outputs.clone(),
        });
        // Nothing is pending during the wait, so an interrupt need not sit through it.
        let ready = tokio::select! {
            ready = wait => ready,
            () = self.stop.until_requested() => {
                return Err(Self::fail(step, verb, format!(
                    "interrupted before it was ready: it exists ({}) and is recorded, and the \
                     next up waits for it",
                    settled.id
                )));
            }
        };
        let ready = ready.map_err(|e| {
            let mut err = Self::provider_fail(step, verb, e);
            err.message = format!(
                "{}; it exists ({}) and is recorded, but is not ready: if it never becomes \
                     ready, `up --replace {}` makes a new one",
                err.message, settled.id, step.name
            );
            err
        })?;
        if ready != outputs {
            // What the cloud finished setting up shows in its outputs (a state): recorded, for
            // the outputs of the stack and the next plan.
            let (stack, name, now) = (
                self.stack_name.to_string(),
                step.name.clone(),
                ready.clone(),
            );
            self.record(move |s| {
                let Some(mut rec) = s.resources(&stack)?.into_iter().find(|r| r.name == name)
                else {
                    return Ok(());
                };
                rec.outputs = now;
                s.complete_update(None, &rec)
            })
            .await
            .map_err(|e| Self::state_fail(step, verb, e))?;
            self.live.lock().unwrap()[i] = Some(ready);
        }
        Ok(settled.made)
    }

    /// The inputs of declaration `i` with the outputs the run knows by now; a failure is
    /// `verb`'s.
    fn evaluate(
        &self,
        stack: &Stack,
        i: usize,
        verb: &'static str,
    ) -> Result<crate::provider::PropMap, OpError> {
        let live = self.live.lock().unwrap();
        let resolver = LiveResolver {
            outputs: &live,
            stack,
        };
        plan::evaluate_inputs(stack, i, &resolver)
            .map_err(|e| Self::fail(&self.plan.steps[i], verb, e.join("; ")))
    }

    /// Reads the lookup of step `i` if the plan could not (its arguments came from resources
    /// this run makes): nothing is recorded, its outputs serve the resources that use them.
    async fn read(&self, stack: &Stack, i: usize) -> Result<Option<Action>, OpError> {
        let step = &self.plan.steps[i];
        if !step.reads_during_apply() {
            return Ok(None);
        }
        let args = self.evaluate(stack, i, "reading")?;
        let outputs = crate::engine::read_lookup(self.stack_name, stack, i, &args)
            .await
            .map_err(|message| Self::fail(step, "reading", message))?;
        self.live.lock().unwrap()[i] = Some(outputs);
        Ok(Some(Action::Read))
    }

    /// Names of the recorded resources, other than `rec` itself, that depended on `rec` when
    /// last applied and so may still refer to it.
    fn users_of(&self, step: &Step, rec: &ResourceRecord) -> Result<Vec<String>, OpError> {
        let records = self
            .store
            .resources(self.stack_name)
            .map_err(|e| Self::state_fail(step, "replacing", e))?;
        Ok(records
            .into_iter()
            .filter(|r| r.seq != rec.seq && r.dependencies.contains(&rec.name))
            .map(|r| format!("'{}'", r.name))
            .collect())
    }

    fn remember_secrets(&self, inputs: &crate::provider::PropMap) {
        redact::remember_props(inputs);
    }

    /// After a failed create: what it made anyway, if the provider can find it.
    async fn made_anyway(
        &self,
        step: &Step,
        provider: &ProviderRef,
        inputs: &crate::provider::PropMap,
        token: &str,
    ) -> Option<(String, crate::provider::ReadResult)> {
        let records = self.store.resources(self.stack_name).ok()?;
        crate::engine::recover::find_made(
            provider.provider.as_ref(),
            self.context(step),
            props::to_plain(inputs)?,
            token,
            &records,
        )
        .await
        .ok()
        .flatten()
    }

    /// What a create that failed had made after all (`id`, read back as `now`), brought to
    /// what was asked when the create stopped halfway (a VPC made, its DNS attributes not yet
    /// set): the create's record, and what to record. If finishing fails, it is recorded as
    /// read, and the next plan finishes it.
    async fn finish_adopted(
        &self,
        step: &Step,
        provider: &ProviderRef,
        inputs: &crate::provider::PropMap,
        plain: &Value,
        id: String,
        now: crate::provider::ReadResult,
    ) -> (Created, Value) {
        let as_read = props::from_plain(&now.inputs, inputs);
        let schema = provider.provider.schema(&step.ty).unwrap_or_default();
        let missing = plan::diff(&as_read, inputs, &schema, &[]);
        if !missing.is_empty() && missing.iter().all(|d| !d.forces_replacement) {
            let finished = provider
                .provider
                .update(UpdateRequest {
                    resource: self.context(step),
                    id: id.clone(),
                    old_inputs: now.inputs.clone(),
                    new_inputs: plain.clone(),
                    old_outputs: now.outputs.clone(),
                    changed: missing.iter().map(|d| d.property.clone()).collect(),
                })
                .await;
            match finished {
                Ok(outputs) => return (Created { id, outputs }, props::to_state(inputs)),
                Err(e) => tracing::warn!(
                    "'{}' was adopted but could not be finished now (the next up will): {e}",
                    step.name
                ),
            }
        }
        let created = Created {
            id,
            outputs: now.outputs,
        };
        (created, props::to_state(&as_read))
    }

    /// After a failed update: the outputs of the resource if reading it back shows it already
    /// as `wanted`.
    async fn updated_anyway(
        &self,
        step: &Step,
        provider: &ProviderRef,
        old: &ResourceRecord,
        wanted: &Value,
    ) -> Option<Value> {
        let req = crate::provider::ReadRequest {
            resource: self.context(step),
            id: old.id.clone(),
            inputs: wanted.clone(),
            outputs: old.outputs.clone(),
        };
        let read = crate::provider::read_declared(provider.provider.as_ref(), req).await;
        match read {
            Ok(Some(now)) if &now.inputs == wanted => Some(now.outputs),
            _ => None,
        }
    }

    /// Deletes the old record of step `i`.
    async fn delete_old(&self, i: usize) -> Result<Option<Action>, OpError> {
        let step = &self.plan.steps[i];
        if step.kind() == StepKind::Replace
            && !step.deletes_first()
            && !self.replaced[i].load(Ordering::SeqCst)
        {
            // The replacement turned out unnecessary once values were known.
            return Ok(None);
        }
        let Some(rec) = step.old() else {
            // `dag` makes a DeleteOld only for steps with a record.
            return Ok(None);
        };
        if step.kind() == StepKind::Delete && rec.protect && !rec.replaced {
            return Err(Self::fail(step, "deleting", "resource is protected"));
        }
        if self.deleted_old[i].load(Ordering::SeqCst) {
            // Its new copy's create deleted it first (see `Executor::apply`).
            return Ok(None);
        }
        let provider = self.provider(step)?;
        self.delete_record(step, provider, rec).await?;
        self.deleted_old[i].store(true, Ordering::SeqCst);
        Ok(Some(if step.kind() == StepKind::Delete {
            Action::Deleted
        } else {
            Action::DeletedOriginal
        }))
    }

    /// Deletes the resource `rec` records, and its record.
    async fn delete_record(
        &self,
        step: &Step,
        provider: &ProviderRef,
        rec: &ResourceRecord,
    ) -> Result<(), OpError> {
        let inputs = props::from_state(&rec.inputs);
        self.remember_secrets(&inputs);
        let op_seq = self
            .begin(step, OpKind::Delete, Some(rec.seq), &inputs)
            .await?;
        let result = provider
            .provider
            .delete(DeleteRequest {
                resource: self.context(step),
                id: rec.id.clone(),
                inputs: props::to_plain(&inputs).unwrap_or(Value::Null),
                outputs: rec.outputs.clone(),
            })
            .await;
        if let Err(e) = result {
            let err = self.abandon(step, op_seq, e, "deleting").await;
            self.reread(step, provider, rec).await;
            return Err(err);
        }
        let resource_seq = rec.seq;
        self.record(move |s| s.complete_delete(Some(op_seq), resource_seq))
            .await
            .map_err(|e| Self::state_fail(step, "deleting", e))
    }

    async fn begin(
        &self,
        step: &Step,
        kind: OpKind,
        resource_seq: Option<i64>,
        inputs: &crate::provider::PropMap,
    ) -> Result<i64, OpError> {
        self.begin_with_token(
            step,
            kind,
            resource_seq,
            inputs,
            &client_token(),
            (&[], false),
        )
        .await
    }

    async fn begin_with_token(
        &self,
        step: &Step,
        kind: OpKind,
        resource_seq: Option<i64>,
        inputs: &crate::provider::PropMap,
        token: &str,
        (dependencies, protect): (&[String], bool),
    ) -> Result<i64, OpError> {
        let verb = match kind {
            OpKind::Create => "creating",
            OpKind::Update => "updating",
            OpKind::Delete => "deleting",
        };
        let stack = self.stack_name.to_string();
        let op = PendingOp {
            seq: 0,
            update_id: self.update_id,
            name: step.name.clone(),
            ty: step.ty.clone(),
            provider: step.provider.clone(),
            kind,
            resource_seq,
            inputs: props::to_state(inputs),
            client_token: token.to_string(),
            started_at: String::new(),
            dependencies: dependencies.to_vec(),
            protect,
        };
        self.record(move |s| s.begin_operation(&stack, &op))
            .await
            .map_err(|e| Self::state_fail(step, verb, e))
    }

    /// Runs a state write off the operations' task when the state is in S3, where the write
    /// waits for S3 to have it: the other operations go on meanwhile, and the writes that wait
    /// together go to S3 in one request (`cairn-state`'s group commit). A local write takes
    /// microseconds, and runs in place.
    async fn record<T: Send + 'static>(
        &self,
        write: impl FnOnce(&Store) -> Result<T, cairn_state::StateError> + Send + 'static,
    ) -> Result<T, cairn_state::StateError> {
        if !self.store.is_remote() {
            return write(self.store);
        }
        let store = self.store.clone();
        match tokio::task::spawn_blocking(move || write(&store)).await {
            Ok(result) => result,
            Err(e) => std::panic::resume_unwind(e.into_panic()),
        }
    }

    /// On a provider error the operation is over: its pending record is cleared (what the
    /// failed call may have changed is read back by [`Executor::reread`] or, for a create,
    /// looked for by [`Executor::made_anyway`]).
    async fn abandon(
        &self,
        step: &Step,
        op_seq: i64,
        e: ProviderError,
        verb: &'static str,
    ) -> OpError {
        if let Err(se) = self.record(move |s| s.abandon_operation(op_seq)).await {
            return Self::state_fail(step, verb, se);
        }
        Self::provider_fail(step, verb, e)
    }

    /// After a failed update or delete: records the resource as it now is, since a call that
    /// failed halfway may have changed it (an internet gateway detached, then its delete
    /// refused), and the next plan must diff against that, not against the old record.
    /// Best effort: if the read fails too, the record stays and `refresh` can fix it.
    async fn reread(&self, step: &Step, provider: &ProviderRef, rec: &ResourceRecord) {
        let resource = self.context(step);
        let read = crate::engine::recover::record_as_read(
            self.store,
            provider.provider.as_ref(),
            resource,
            rec,
            None,
        );
        if let Err(e) = read.await {
            tracing::warn!("reading '{}' back after a failure: {e}", step.name);
        }
    }

    fn dependency_names<'s>(&self, stack: &'s Stack, i: usize) -> Vec<&'s str> {
        let decl = &stack.resources[i];
        let mut on = Vec::new();
        for (_, p) in &decl.properties {
            on.extend(p.dependencies().map(|d| d.0));
        }
        for d in &decl.depends_on {
            match d {
                crate::stack::DependsOn::Resource(r) => on.push(r.0),
                crate::stack::DependsOn::Name(n) => on.extend(stack.index_of(n)),
            }
        }
        // Lookups are never recorded, so no delete waits for one.
        on.into_iter()
            .map(|j| &stack.resources[j])
            .filter(|d| !d.lookup)
            .map(|d| d.name.as_str())
            .collect()
    }
}

/// Makes the delete half `del` of a delete-first replacement wait for everything its new copy
/// (`create`) waits for, except what itself waits for the delete (the old copies of dependents
/// that must go first): when one of those fails, the old copy is left alone.
fn delete_when_ready(dag: &mut DiGraph<Op, ()>, del: NodeIndex, create: NodeIndex) {
    use petgraph::Direction::Outgoing;
    use petgraph::visit::{Dfs, Reversed, Walker};
    use std::collections::HashSet;

    let ancestors: HashSet<NodeIndex> = Dfs::new(Reversed(&*dag), create)
        .iter(Reversed(&*dag))
        .collect();
    // What cannot run before the delete: reached from it on the way to the create. Every path
    // from the delete to an ancestor of the create stays among those ancestors.
    let mut after = HashSet::from([del]);
    let mut todo = vec![del];
    while let Some(n) = todo.pop() {
        for m in dag.neighbors_directed(n, Outgoing) {
            if ancestors.contains(&m) && after.insert(m) {
                todo.push(m);
            }
        }
    }
    // Enough to wait for the last of the rest: their own ancestors are among the rest too.
    let mut last: Vec<NodeIndex> = ancestors
        .iter()
        .copied()
        .filter(|a| {
            *a != create
                && !after.contains(a)
                && dag
                    .neighbors_directed(*a, Outgoing)
                    .any(|m| m == create || after.contains(&m))
                && !dag.contains_edge(*a, del)
        })
        .collect();
    last.sort();
    for a in last {
        dag.add_edge(a, del, ());
    }
}

/// What a create sends and records.
struct NewCopy {
    inputs: crate::provider::PropMap,
    plain: Value,
    deps: Vec<String>,
    protect: bool,
}

struct LiveResolver<'a> {
    outputs: &'a [Option<Value>],
    stack: &'a Stack,
}

impl Resolve for LiveResolver<'_> {
    fn outputs(&self, r: ResourceIdx) -> Option<&Value> {
        self.outputs[r.0].as_ref()
    }
    fn name(&self, r: ResourceIdx) -> &str {
        &self.stack.resources[r.0].name
    }
}
