//! The engine's commands as a library: preview, up, destroy, refresh and outputs of one stack.
//! The CLI is a thin layer over this; tests and benchmarks drive it directly.

use std::collections::HashMap;
use std::sync::Arc;

use cairn_state::{LockGuard, ResourceRecord, StateError, Store};
use serde_json::{Value, json};

use crate::execute::{Event, Execution, Executor, Mode, RunConfig};
use crate::graph::ResourceGraph;
use crate::plan::{self, Plan};
use crate::props;
use crate::provider::{LookupRequest, ProviderRef, ReadRequest, ResourceContext, read_declared};
use crate::schedule::{Stop, run_dag_until};
use crate::stack::Stack;
use crate::target::Targeting;

mod import;
pub(crate) mod recover;
pub use import::{ImportSpec, ImportedResource};
pub use recover::{Recovered, Resolution};

/// Why a command of the engine stopped: each kind a variant callers and tests match on.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// Mistakes in the program itself (duplicate names, cycles, configuration).
    #[error("the program has {} error(s):\n  {}", .0.len(), .0.join("\n  "))]
    Program(Vec<String>),
    /// Inputs that cannot be planned (invalid values, protected resources).
    #[error("the plan has {} error(s):\n  {}", .0.len(), .0.join("\n  "))]
    Plan(Vec<String>),
    /// Providers that cannot reach their cloud as configured.
    #[error("{} provider(s) cannot be used:\n  {}", .0.len(), .0.join("\n  "))]
    Provider(Vec<String>),
    /// Operations an earlier run left in flight that could not be settled automatically.
    #[error("{} interrupted operation(s) need attention:\n  {}", .0.len(), .0.join("\n  "))]
    Recovery(Vec<String>),
    /// An import refused (a name or id already in the stack, no such provider) or a resource
    /// that could not be read to import it.
    #[error("{} import error(s):\n  {}", .0.len(), .0.join("\n  "))]
    Import(Vec<String>),
    /// A saved plan that no longer applies (`up --plan`): the state moved, the program or its
    /// configuration declare something else, or the file is not a plan. Nothing was changed.
    #[error("the saved plan cannot be applied: nothing was changed\n  {}\nPreview and save the plan again.", .0.join("\n  "))]
    StalePlan(Vec<String>),
    /// The state refused (a lock held, a passphrase wrong or missing, a database error).
    #[error(transparent)]
    State(#[from] StateError),
}

/// A program run and checked: the declarations and their graph.
pub struct Program {
    /// What the program declared.
    pub stack: Stack,
    /// The declarations' dependency graph.
    pub graph: ResourceGraph,
    /// What the commands may touch (`--target`, `--exclude`): everything by default.
    pub targeting: Targeting,
}

impl Program {
    /// Restricts what the commands touch: see [`Targeting`]. A name neither declared nor
    /// recorded is an error, naming the closest, when the command plans.
    pub fn target(&mut self, targeting: Targeting) {
        self.targeting = targeting;
    }

    /// Marks `names` to be replaced by the next plan even if nothing about them changed
    /// (`--replace`). A name the program does not declare is an error naming the closest one.
    pub fn replace(&mut self, names: &[String]) -> Result<(), EngineError> {
        let mut errors = Vec::new();
        for name in names {
            match self.stack.index_of(name) {
                Some(i) if self.stack.resources[i].lookup => errors.push(format!(
                    "--replace {name}: '{name}' is a lookup, which reads what exists and \
                     never makes it"
                )),
                Some(i) => self.stack.resources[i].force_replace = true,
                None => {
                    let closest = self
                        .stack
                        .resources
                        .iter()
                        .map(|d| d.name.as_str())
                        .min_by_key(|d| strsim::damerau_levenshtein(d, name));
                    errors.push(match closest {
                        Some(c) => format!(
                            "--replace {name}: the program declares no resource '{name}'; \
                             did you mean '{c}'?"
                        ),
                        None => format!("--replace {name}: the program declares no resources"),
                    });
                }
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(EngineError::Program(errors))
        }
    }

    /// Runs the program's declarations and checks them: every mistake is reported at once.
    pub fn declare(
        mut stack: Stack,
        program: impl FnOnce(&mut Stack),
    ) -> Result<Program, EngineError> {
        program(&mut stack);
        let mut errors = stack.take_errors();
        let graph = match ResourceGraph::build(&stack) {
            Ok(g) => Some(g),
            Err(e) => {
                errors.extend(e);
                None
            }
        };
        match graph {
            Some(graph) if errors.is_empty() => Ok(Program {
                stack,
                graph,
                targeting: Targeting::default(),
            }),
            _ => Err(EngineError::Program(errors)),
        }
    }
}

/// One stack in one state database.
#[derive(Clone)]
pub struct Engine {
    /// The state the stack lives in.
    pub store: Store,
    /// The stack's name.
    pub stack: String,
}

/// A stack held under its lock for a mutating command; released on drop.
pub struct Session<'e> {
    engine: &'e Engine,
    lock: LockGuard,
    stop: Arc<Stop>,
}

/// What a drift check found for one resource.
#[derive(Debug, Clone)]
pub struct Drift {
    /// The resource.
    pub name: String,
    /// Its type token.
    pub ty: String,
    /// `None` when the resource no longer exists.
    pub changes: Option<Vec<plan::PropDiff>>,
}

impl Engine {
    /// The engine of `stack` in `store`.
    pub fn new(store: Store, stack: impl Into<String>) -> Engine {
        Engine {
            store,
            stack: stack.into(),
        }
    }

    /// What the state records of the stack.
    pub fn records(&self) -> Result<Vec<ResourceRecord>, EngineError> {
        Ok(self.store.resources(&self.stack)?)
    }

    /// Asks every provider instance the program or the state uses whether it can reach its
    /// cloud; all failures are reported together, before anything is planned.
    pub async fn preflight(&self, program: &Program) -> Result<(), EngineError> {
        let recorded = self.store.providers(&self.stack)?;
        let used: std::collections::BTreeSet<&str> = program
            .stack
            .resources
            .iter()
            .map(|d| d.provider.name.as_str())
            .chain(recorded.iter().map(String::as_str))
            .collect();
        let checks = program
            .stack
            .providers
            .iter()
            .filter(|(name, _)| used.contains(name.as_str()))
            .map(|(name, p)| async move {
                p.provider
                    .preflight()
                    .await
                    .map_err(|e| format!("provider '{name}': {e}"))
            });
        let errors: Vec<String> = futures::future::join_all(checks)
            .await
            .into_iter()
            .filter_map(Result::err)
            .collect();
        if errors.is_empty() {
            Ok(())
        } else {
            Err(EngineError::Provider(errors))
        }
    }

    /// What the program's providers say a person must know before a plan (an endpoint
    /// override), each naming its provider; after [`Engine::preflight`].
    pub fn notices(&self, program: &Program) -> Vec<String> {
        program
            .stack
            .providers
            .iter()
            .flat_map(|(name, p)| {
                p.provider
                    .notices()
                    .into_iter()
                    .map(move |n| format!("provider '{name}': {n}"))
            })
            .collect()
    }

    /// The plan for `program` against the current state, without taking the lock.
    ///
    /// The program's lookups are read here: planned once with none read, the lookups whose
    /// arguments are then known are read (all at once), and the program is planned again
    /// with what they returned, until no more can be read (a lookup whose arguments come
    /// from another lookup is read in the next round). Those left are read during `up`.
    pub async fn preview(&self, program: &Program) -> Result<Plan, EngineError> {
        self.plan_against(program, self.records()?).await
    }

    /// [`Engine::preview`] against what the cloud holds now (`preview --refresh`): every
    /// record is read back first, and the plan made against what was read; the state is not
    /// written. Returns the drift too, which the plan's changes include.
    pub async fn preview_refreshed(
        &self,
        program: &Program,
        parallel: usize,
    ) -> Result<(Vec<Drift>, Plan), EngineError> {
        let read = self
            .read_back(program, parallel, false, &Stop::default())
            .await?;
        if !read.errors.is_empty() {
            return Err(EngineError::Plan(read.errors));
        }
        let plan = self.plan_against(program, read.records).await?;
        Ok((read.drifts, plan))
    }

    async fn plan_against(
        &self,
        program: &Program,
        records: Vec<ResourceRecord>,
    ) -> Result<Plan, EngineError> {
        let scope = program
            .targeting
            .for_up(&program.stack, &program.graph, &records)
            .map_err(EngineError::Program)?;
        let mut reads = plan::Reads::new();
        loop {
            let round = plan::plan(&program.stack, &program.graph, &records, &scope, &reads);
            if round.readable.is_empty() {
                return round.plan.map_err(EngineError::Plan);
            }
            let lookups = round
                .readable
                .iter()
                .map(|(i, args)| read_lookup(&self.stack, &program.stack, *i, args));
            let mut errors = Vec::new();
            let read = futures::future::join_all(lookups).await;
            for ((i, _), read) in round.readable.iter().zip(read) {
                match read {
                    Ok(outputs) => {
                        reads.insert(*i, outputs);
                    }
                    Err(e) => errors.push(e),
                }
            }
            if !errors.is_empty() {
                return Err(EngineError::Plan(errors));
            }
        }
    }

    /// Takes the stack's lock for `command`; fails at once if another live process holds it.
    /// A dead holder's lock is taken over ([`Session::taken_over`] says whose).
    pub fn lock(&self, command: &str) -> Result<Session<'_>, EngineError> {
        Ok(Session {
            engine: self,
            lock: self.store.lock(&self.stack, command)?,
            stop: Arc::default(),
        })
    }

    /// Stack outputs as recorded by the last `up`: (name, value, secret).
    pub fn outputs(&self) -> Result<Vec<(String, Value, bool)>, EngineError> {
        Ok(self
            .store
            .outputs(&self.stack)?
            .into_iter()
            .map(|(name, v)| {
                let (value, secret) = props::value_from_state(&v);
                (name, value, secret)
            })
            .collect())
    }
}

/// The program's providers, and those that need nothing to be made (`random`) whether the
/// program still declares them or not, so that the last password it stops declaring can go.
fn providers_of(stack: &Stack) -> HashMap<String, ProviderRef> {
    let mut providers: HashMap<String, ProviderRef> = stack
        .providers
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    use crate::provider::DefaultProvider;
    let random = crate::random::RandomProvider::PACKAGE;
    providers
        .entry(random.to_string())
        .or_insert_with(|| ProviderRef {
            name: random.to_string(),
            provider: std::sync::Arc::new(crate::random::RandomProvider),
        });
    providers
}

/// Whether applying `plan` records a secret, as far as the plan knows: a resource made or
/// changed with a secret among its inputs (whole, or inside a value), one of the `random`
/// provider (whose outputs are secret), or a secret stack output.
fn records_secrets(plan: &Plan) -> bool {
    use crate::plan::StepKind;
    let holds = |p: &crate::provider::Prop| {
        p.secret || p.value.as_ref().is_some_and(crate::props::holds_secret)
    };
    let steps = plan.steps.iter().filter(|s| {
        matches!(
            s.kind(),
            StepKind::Create | StepKind::Update | StepKind::Replace
        )
    });
    steps.into_iter().any(|s| {
        s.provider == <crate::random::RandomProvider as crate::provider::DefaultProvider>::PACKAGE
            || s.inputs.values().any(holds)
    }) || plan.outputs.iter().any(|o| holds(&o.value))
}

/// Reads the lookup of declaration `i` with `args`, all known: its outputs, or the error
/// naming it.
pub(crate) async fn read_lookup(
    stack_name: &str,
    stack: &Stack,
    i: usize,
    args: &crate::provider::PropMap,
) -> Result<Value, String> {
    let d = &stack.resources[i];
    let args = props::to_plain(args).unwrap_or(Value::Null);
    let request = LookupRequest {
        resource: ResourceContext {
            stack: stack_name.to_string(),
            name: d.name.clone(),
            ty: d.ty.to_string(),
        },
        args,
    };
    let outputs = d.provider.provider.lookup(request).await.map_err(|e| {
        let property = e
            .property
            .map(|p| format!(", argument '{p}'"))
            .unwrap_or_default();
        crate::redact::redact(&format!(
            "lookup '{}' ({}){property}: {}",
            d.name, d.ty, e.message
        ))
    })?;
    crate::redact::remember_outputs(&outputs);
    Ok(outputs)
}

fn summary(kind: &str, exec: &Execution) -> Value {
    json!({
        "command": kind,
        "counts": exec.counts,
        "errors": exec.errors.len(),
        "skipped": exec.skipped.len(),
        "missing": exec.missing,
    })
}

impl Session<'_> {
    /// The dead process whose lock this session took over, if it did: what it left in flight
    /// is settled by [`Session::recover`].
    pub fn taken_over(&self) -> Option<&cairn_state::Holder> {
        self.lock.taken_over()
    }

    /// The engine the session locks a stack of.
    pub fn engine(&self) -> &Engine {
        self.engine
    }

    /// Stops the session's run once requested (from a signal handler): no operation starts,
    /// those in flight finish and are recorded, and the run returns with what never started.
    pub fn stop(&self) -> Arc<Stop> {
        self.stop.clone()
    }

    /// Plans under the lock, so nothing changes between plan and apply.
    pub async fn plan(&self, program: &Program) -> Result<Plan, EngineError> {
        self.engine.preview(program).await
    }

    /// The plan that deletes what the stack records (what `program` targets of it).
    pub fn plan_destroy(&self, program: &Program) -> Result<Plan, EngineError> {
        let records = self.engine.records()?;
        let records = program
            .targeting
            .for_destroy(&records)
            .map_err(EngineError::Program)?
            .keep(records);
        plan::plan_destroy(&records).map_err(EngineError::Plan)
    }

    /// Applies `plan` (from [`Session::plan`]) with at most `parallel` operations at once
    /// (0: no limit), reporting each operation through `on_event`.
    pub async fn apply(
        &self,
        program: &Program,
        plan: &Plan,
        parallel: usize,
        on_event: &(dyn Fn(&Event) + Sync),
    ) -> Result<Execution, EngineError> {
        let mode = Mode::Up {
            stack: &program.stack,
            graph: &program.graph,
        };
        // A secret the run would record and could not seal would stop it halfway.
        if records_secrets(plan) {
            self.engine.store.check_can_seal()?;
        }
        self.execute(program, mode, plan, parallel, on_event).await
    }

    /// Deletes everything the stack's state records (a plan from [`Session::plan_destroy`]),
    /// dependents first, through the program's provider instances (the records name theirs).
    pub async fn destroy(
        &self,
        program: &Program,
        plan: &Plan,
        parallel: usize,
        on_event: &(dyn Fn(&Event) + Sync),
    ) -> Result<Execution, EngineError> {
        self.execute(program, Mode::Destroy, plan, parallel, on_event)
            .await
    }

    /// Runs a plan as one recorded update: an `up` (the plan's steps follow the program's
    /// declarations) or a `destroy` (it only deletes), through the program's providers.
    async fn execute(
        &self,
        program: &Program,
        mode: Mode<'_>,
        plan: &Plan,
        parallel: usize,
        on_event: &(dyn Fn(&Event) + Sync),
    ) -> Result<Execution, EngineError> {
        let e = self.engine;
        let update = e.store.begin_update(&e.stack, mode.command())?;
        let providers = providers_of(&program.stack);
        let exec = Executor::new(RunConfig {
            stack_name: &e.stack,
            mode,
            plan,
            store: &e.store,
            update_id: update,
            providers: &providers,
            on_event,
            stop: &self.stop,
        });
        let dag = exec.dag();
        let mut result = exec.run(&dag, parallel).await;
        // Only a failure can leave a declared resource missing.
        if matches!(mode, Mode::Up { .. }) && !result.errors.is_empty() {
            let records = e.records()?;
            let live: std::collections::HashSet<&str> = records
                .iter()
                .filter(|r| !r.replaced)
                .map(|r| r.name.as_str())
                .collect();
            result.missing = program
                .stack
                .resources
                .iter()
                .filter(|d| !d.lookup && !live.contains(d.name.as_str()))
                .map(|d| d.name.clone())
                .collect();
        }
        if result.errors.is_empty() {
            let outputs: Vec<(String, Value)> = result
                .outputs
                .iter()
                .map(|(n, v, secret)| (n.clone(), props::value_to_state(v, *secret)))
                .collect();
            e.store.set_outputs(&e.stack, &outputs)?;
        }
        e.store.finish_update(
            update,
            result.errors.is_empty(),
            &summary(mode.command(), &result),
        )?;
        Ok(result)
    }

    /// Reads every recorded resource back from its provider and reports the drift; with
    /// `write`, records what was read (and drops records of resources that are gone).
    pub async fn refresh(
        &self,
        program: &Program,
        parallel: usize,
        write: bool,
    ) -> Result<(Vec<Drift>, Vec<String>), EngineError> {
        let r = self
            .engine
            .read_back(program, parallel, write, &self.stop)
            .await?;
        Ok((r.drifts, r.errors))
    }
}

/// What reading every record back found.
pub struct ReadBack {
    /// What drifted.
    pub drifts: Vec<Drift>,
    /// Records that could not be read (or recorded).
    pub errors: Vec<String>,
    /// The records as the cloud has them now (those found gone left out).
    pub records: Vec<ResourceRecord>,
}

impl Engine {
    /// Reads every record `program` targets back from its provider: the drift, and the
    /// records as they are now. With `write` (only under the lock: [`Session::refresh`])
    /// what was read is recorded too.
    pub(crate) async fn read_back(
        &self,
        program: &Program,
        parallel: usize,
        write: bool,
        stop: &Stop,
    ) -> Result<ReadBack, EngineError> {
        let e = self;
        let records = e.records()?;
        let records = program
            .targeting
            .for_refresh(&records)
            .map_err(EngineError::Program)?
            .keep(records);
        let providers = providers_of(&program.stack);
        let update = if write {
            Some(e.store.begin_update(&e.stack, "refresh")?)
        } else {
            None
        };
        let mut dag = petgraph::graph::DiGraph::<usize, ()>::new();
        for i in 0..records.len() {
            dag.add_node(i);
        }
        let drifts = std::sync::Mutex::new(Vec::new());
        let errors = std::sync::Mutex::new(Vec::new());
        let now = std::sync::Mutex::new(Vec::new());
        run_dag_until(&dag, parallel, stop, |n| {
            let rec = &records[dag[n]];
            let (drifts, errors, now_records) = (&drifts, &errors, &now);
            let providers = &providers;
            async move {
                let Some(p) = providers.get(&rec.provider) else {
                    errors.lock().unwrap().push(format!(
                        "reading '{}' ({}): provider '{}' is not declared by the program",
                        rec.name, rec.ty, rec.provider
                    ));
                    return false;
                };
                let old = props::from_state(&rec.inputs);
                let read = read_declared(
                    p.provider.as_ref(),
                    ReadRequest {
                        resource: ResourceContext {
                            stack: e.stack.clone(),
                            name: rec.name.clone(),
                            ty: rec.ty.clone(),
                        },
                        id: rec.id.clone(),
                        inputs: props::to_plain(&old).unwrap_or(Value::Null),
                        outputs: rec.outputs.clone(),
                    },
                )
                .await;
                let outcome = match read {
                    Err(err) => {
                        errors
                            .lock()
                            .unwrap()
                            .push(format!("reading '{}' ({}): {}", rec.name, rec.ty, err));
                        return false;
                    }
                    Ok(None) => {
                        now_records.lock().unwrap().push((rec.seq, None));
                        drifts.lock().unwrap().push(Drift {
                            name: rec.name.clone(),
                            ty: rec.ty.clone(),
                            changes: None,
                        });
                        if write {
                            e.store.complete_delete(None, rec.seq).map(|_| ())
                        } else {
                            Ok(())
                        }
                    }
                    Ok(Some(r)) => {
                        let now = props::from_plain(&r.inputs, &old);
                        let schema = p.provider.schema(&rec.ty).unwrap_or_default();
                        let changes = plan::diff(&old, &now, &schema, &[]);
                        let outputs_changed = r.outputs != rec.outputs;
                        let read = ResourceRecord {
                            inputs: props::to_state(&now),
                            outputs: r.outputs.clone(),
                            ..rec.clone()
                        };
                        now_records.lock().unwrap().push((rec.seq, Some(read)));
                        if !changes.is_empty() {
                            drifts.lock().unwrap().push(Drift {
                                name: rec.name.clone(),
                                ty: rec.ty.clone(),
                                changes: Some(changes.clone()),
                            });
                        }
                        if write && (!changes.is_empty() || outputs_changed) {
                            let new = ResourceRecord {
                                inputs: props::to_state(&now),
                                outputs: r.outputs,
                                ..rec.clone()
                            };
                            e.store.complete_update(None, &new)
                        } else {
                            Ok(())
                        }
                    }
                };
                if let Err(err) = outcome {
                    errors
                        .lock()
                        .unwrap()
                        .push(format!("recording '{}' in the state: {err}", rec.name));
                    return false;
                }
                true
            }
        })
        .await;
        let drifts = drifts.into_inner().unwrap();
        let errors = errors.into_inner().unwrap();
        if let Some(update) = update {
            e.store.finish_update(
                update,
                errors.is_empty(),
                &json!({"command": "refresh", "drifted": drifts.len(), "errors": errors.len()}),
            )?;
        }
        // Every record, as read where it was read (the ones not targeted as recorded).
        let read: HashMap<i64, Option<ResourceRecord>> =
            now.into_inner().unwrap().into_iter().collect();
        let records = self
            .records()?
            .into_iter()
            .filter_map(|r| match read.get(&r.seq) {
                Some(now) => now.clone(),
                None => Some(r),
            })
            .collect();
        Ok(ReadBack {
            drifts,
            errors,
            records,
        })
    }
}

/// True when the plan would change nothing.
pub fn is_noop(plan: &Plan) -> bool {
    !plan.has_changes()
}

#[cfg(all(test, feature = "testing"))]
mod tests;
