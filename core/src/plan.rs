//! The planner: compares what the program declares with what the state records, and decides
//! per resource whether to create, update, replace, delete or leave it, property by property.

use std::collections::{BTreeSet, HashMap};

use cairn_state::ResourceRecord;
use serde_json::Value;

use crate::graph::ResourceGraph;
use crate::output::{Eval, Resolve, ResourceIdx};
use crate::props;
use crate::provider::{NameRule, Prop, PropMap, Related, TypeSchema};
use crate::stack::Stack;
use crate::target::{self, Scope};
use crate::unique::{self, DeleteFirst, Keeps, KeptKey};

/// What the plan does to one resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum StepKind {
    /// Made.
    Create,
    /// Changed in place.
    Update,
    /// Replaced by a new copy.
    Replace,
    /// Deleted.
    Delete,
    /// Left as it is.
    Same,
    /// Left out by `--target` or `--exclude`: not looked at, whatever the program says.
    Untargeted,
    /// A lookup: read, never changed.
    Read,
}

impl StepKind {
    /// The word for it in the plan and in `--json`.
    pub fn as_str(self) -> &'static str {
        match self {
            StepKind::Create => "create",
            StepKind::Update => "update",
            StepKind::Replace => "replace",
            StepKind::Delete => "delete",
            StepKind::Same => "same",
            StepKind::Untargeted => "untargeted",
            StepKind::Read => "read",
        }
    }

    /// Whether a step of this kind changes anything.
    pub fn changes(self) -> bool {
        !matches!(self, StepKind::Same | StepKind::Untargeted | StepKind::Read)
    }
}

/// One property that differs.
#[derive(Debug, Clone, PartialEq)]
pub struct PropDiff {
    /// The property's name.
    pub property: String,
    /// `None` when the property is new.
    pub old: Option<Prop>,
    /// `None` when the property is removed.
    pub new: Option<Prop>,
    /// Changing it cannot be done in place.
    pub forces_replacement: bool,
    /// A name Cairn picked for a replacement's new copy: a consequence of the replacement,
    /// not a cause.
    pub new_name: bool,
}

/// What the plan does to one resource, with what doing it needs: each kind carries its own
/// data, so an update always has its record and a create never has one.
#[derive(Debug, Clone)]
pub enum Change {
    /// Nothing is recorded under the name: it is made.
    Create,
    /// The record is as declared.
    Same {
        /// The record.
        old: ResourceRecord,
    },
    /// Changed in place.
    Update {
        /// The record as it was.
        old: ResourceRecord,
    },
    /// A new copy replaces the old one (created first, unless `delete_first` says why not).
    Replace {
        /// The old copy's record.
        old: ResourceRecord,
        /// Why the old copy is deleted before the new one is created.
        delete_first: Option<DeleteFirst>,
        /// For a replacement that creates first but whose unique key depends on values not
        /// known yet: the key's properties. Should they turn out to keep it, the old copy is
        /// deleted just before the create (once everything the new copy needs is done), unless
        /// something else still refers to it.
        may_delete_first: Option<Vec<String>>,
    },
    /// The record is deleted, and why (`removed from the program`, `replaced earlier`…; none
    /// in a destroy, where every record goes).
    Delete {
        /// The record.
        old: ResourceRecord,
        /// Why it goes.
        reason: Option<String>,
    },
    /// A declaration `--target` or `--exclude` leaves out: left as recorded (or not made).
    Untargeted {
        /// Its record, if it has one.
        old: Option<ResourceRecord>,
    },
    /// A lookup, with what it read; `None` when its arguments are known only once the
    /// resources they come from are made, so it is read during `up`.
    Read {
        /// What it read.
        outputs: Option<Value>,
    },
}

/// One step of a plan.
#[derive(Debug, Clone)]
pub struct Step {
    /// The resource's name.
    pub name: String,
    /// Its type token.
    pub ty: String,
    /// The provider instance it belongs to.
    pub provider: String,
    /// What happens to it, with what that needs.
    pub change: Change,
    /// The desired inputs (values unknown until apply are `None`); a delete's are the
    /// recorded ones.
    pub inputs: PropMap,
    /// The properties that change.
    pub diffs: Vec<PropDiff>,
    /// Whether it is protected.
    pub protect: bool,
    /// The name the resource is recorded under, when the program now calls it something else
    /// (an alias): the record is renamed before anything else happens to it.
    pub renamed_from: Option<String>,
}

impl Step {
    /// The kind of its change.
    pub fn kind(&self) -> StepKind {
        match self.change {
            Change::Create => StepKind::Create,
            Change::Same { .. } => StepKind::Same,
            Change::Update { .. } => StepKind::Update,
            Change::Replace { .. } => StepKind::Replace,
            Change::Delete { .. } => StepKind::Delete,
            Change::Untargeted { .. } => StepKind::Untargeted,
            Change::Read { .. } => StepKind::Read,
        }
    }

    /// The record acted on: the current resource for update, replace and same, the one to
    /// remove for delete.
    pub fn old(&self) -> Option<&ResourceRecord> {
        match &self.change {
            Change::Create | Change::Read { .. } => None,
            Change::Untargeted { old } => old.as_ref(),
            Change::Same { old }
            | Change::Update { old }
            | Change::Replace { old, .. }
            | Change::Delete { old, .. } => Some(old),
        }
    }

    /// Whether the step is of a declaration (every kind but delete).
    pub fn is_declared(&self) -> bool {
        !matches!(self.change, Change::Delete { .. })
    }

    /// For a replacement that deletes the old copy before creating the new one: why.
    pub fn delete_first(&self) -> Option<&DeleteFirst> {
        match &self.change {
            Change::Replace { delete_first, .. } => delete_first.as_ref(),
            _ => None,
        }
    }

    /// A replacement that deletes its old copy first (see [`Step::delete_first`]).
    pub fn deletes_first(&self) -> bool {
        self.delete_first().is_some()
    }

    /// See [`Change::Replace`].
    pub fn may_delete_first(&self) -> Option<&[String]> {
        match &self.change {
            Change::Replace {
                may_delete_first, ..
            } => may_delete_first.as_deref(),
            _ => None,
        }
    }

    /// A lookup that is read during `up`, its arguments not known before.
    pub fn reads_during_apply(&self) -> bool {
        matches!(self.change, Change::Read { outputs: None })
    }

    /// Why a delete happens.
    pub fn reason(&self) -> Option<&str> {
        match &self.change {
            Change::Delete { reason, .. } => reason.as_deref(),
            _ => None,
        }
    }
}

/// A planned stack output.
#[derive(Debug, Clone)]
pub struct PlannedOutput {
    /// The output's name.
    pub name: String,
    /// Its value as far as the plan knows it.
    pub value: Prop,
}

/// The plan: one step per declared resource (in declaration order, so step `i` is declaration
/// `i`), then one per record to delete.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The steps, in the order the doc of [`Plan`] says.
    pub steps: Vec<Step>,
    /// The stack outputs.
    pub outputs: Vec<PlannedOutput>,
}

impl Plan {
    /// Number of steps of each kind.
    pub fn counts(&self) -> HashMap<StepKind, usize> {
        let mut c = HashMap::new();
        for s in &self.steps {
            *c.entry(s.kind()).or_default() += 1;
        }
        c
    }

    /// Whether applying it changes anything (a rename counts).
    pub fn has_changes(&self) -> bool {
        self.steps
            .iter()
            .any(|s| s.kind().changes() || s.renamed_from.is_some())
    }
}

/// Resolves resource outputs from the recorded state, for resources whose outputs are known
/// before anything runs.
pub(crate) struct StateResolver<'a> {
    pub outputs: Vec<Option<&'a Value>>,
    pub names: Vec<&'a str>,
}

impl Resolve for StateResolver<'_> {
    fn outputs(&self, r: ResourceIdx) -> Option<&Value> {
        self.outputs[r.0]
    }
    fn name(&self, r: ResourceIdx) -> &str {
        self.names[r.0]
    }
}

/// Evaluates a declaration's properties; failures name the resource and property.
pub(crate) fn evaluate_inputs(
    stack: &Stack,
    decl: usize,
    resolver: &dyn Resolve,
) -> Result<PropMap, Vec<String>> {
    let d = &stack.resources[decl];
    // A property the type declares secret is secret whatever its value's origin.
    let always_secret = d
        .provider
        .provider()
        .schema(d.ty)
        .map(|s| s.secret)
        .unwrap_or_default();
    let mut map = PropMap::new();
    let mut errors = Vec::new();
    for (prop, output) in &d.properties {
        let r = output.evaluate(resolver);
        let value = match r.value {
            Eval::Known(v) => Some(v),
            Eval::Unknown => None,
            Eval::Failed(reason) => {
                errors.push(format!(
                    "resource '{}' ({}), property '{prop}': {reason}",
                    d.name, d.ty
                ));
                continue;
            }
        };
        map.insert(
            prop.to_string(),
            Prop {
                value,
                secret: r.secret || always_secret.contains(prop),
            },
        );
    }
    if errors.is_empty() {
        Ok(map)
    } else {
        Err(errors)
    }
}

/// Properties that differ between `old` and `new`, ignoring `ignore`. An unknown new value
/// always differs: it is never assumed equal to what is there.
pub(crate) fn diff(
    old: &PropMap,
    new: &PropMap,
    schema: &TypeSchema,
    ignore: &[String],
) -> Vec<PropDiff> {
    let keys: BTreeSet<&String> = old.keys().chain(new.keys()).collect();
    let mut out = Vec::new();
    for k in keys {
        if ignore.iter().any(|i| i == k) {
            continue;
        }
        let (o, n) = (old.get(k), new.get(k));
        let unordered = schema.unordered.contains(&k.as_str());
        let same = match (o, n) {
            (Some(o), Some(n)) => match (&o.value, &n.value) {
                (_, None) => false,
                (Some(a), Some(b)) if unordered => crate::provider::same_members(a, b),
                (a, b) => a == b,
            },
            (None, None) => true,
            // A property absent on one side and null on the other is the same absence.
            (Some(p), None) | (None, Some(p)) => p.value == Some(Value::Null),
        };
        if !same {
            out.push(PropDiff {
                property: k.clone(),
                old: o.cloned(),
                new: n.cloned(),
                forces_replacement: schema.replace_on_changes.contains(&k.as_str()),
                new_name: false,
            });
        }
    }
    out
}

/// What to do with one declared resource, given its record's inputs (`None`: nothing is
/// recorded under its name), whether the record is of the same type and provider, and its
/// inputs now: the one decision the planner makes at plan time and the executor again once
/// every input is known. Returns the kind and the properties that differ.
pub(crate) fn decide(
    recorded: Option<&PropMap>,
    same_type: bool,
    force_replace: bool,
    inputs: &PropMap,
    schema: &TypeSchema,
    ignore: &[String],
) -> (StepKind, Vec<PropDiff>) {
    let Some(recorded) = recorded else {
        return (StepKind::Create, Vec::new());
    };
    let diffs = diff(recorded, inputs, schema, ignore);
    let kind = if !same_type || force_replace {
        StepKind::Replace
    } else if diffs.is_empty() {
        StepKind::Same
    } else if diffs.iter().any(|p| p.forces_replacement) {
        StepKind::Replace
    } else {
        StepKind::Update
    };
    (kind, diffs)
}

/// Applies `ignore_changes`: the recorded values of ignored properties are kept.
pub(crate) fn keep_ignored(inputs: &mut PropMap, old: &PropMap, ignore: &[String]) {
    for k in ignore {
        match old.get(k) {
            Some(v) => {
                inputs.insert(k.clone(), v.clone());
            }
            None => {
                inputs.remove(k);
            }
        }
    }
}

/// What the lookups read so far, by declaration: the outputs the planner uses for them.
pub(crate) type Reads = HashMap<usize, Value>;

/// One round of planning: the plan (or its errors), and the lookups not read yet whose
/// arguments it knows, with them. While there are such lookups, the plan is not final: its
/// errors may come of the values they will give (a replacement forced by a zone not known
/// yet), so the engine reads them and plans again (`engine.rs: Engine::preview`).
pub(crate) struct Round {
    pub plan: Result<Plan, Vec<String>>,
    pub readable: Vec<(usize, PropMap)>,
}

/// Plans the program against the recorded resources and what its lookups read (`reads`; a
/// lookup not in it is planned as read during apply).
///
/// Every declaration is planned, so the program is checked whole; then those out of `scope`
/// are marked [`Change::Untargeted`], and records out of it are left alone.
pub(crate) fn plan(
    stack: &Stack,
    graph: &ResourceGraph,
    records: &[ResourceRecord],
    scope: &Scope,
    reads: &Reads,
) -> Round {
    let mut readable = Vec::new();
    let plan = plan_round(stack, graph, records, scope, reads, &mut readable);
    Round { plan, readable }
}

fn plan_round(
    stack: &Stack,
    graph: &ResourceGraph,
    records: &[ResourceRecord],
    scope: &Scope,
    reads: &Reads,
    readable: &mut Vec<(usize, PropMap)>,
) -> Result<Plan, Vec<String>> {
    let live: HashMap<&str, &ResourceRecord> = records
        .iter()
        .filter(|r| !r.replaced)
        .map(|r| (r.name.as_str(), r))
        .collect();
    let n = stack.resources.len();
    let mut resolver = StateResolver {
        outputs: vec![None; n],
        names: stack.resources.iter().map(|d| d.name.as_str()).collect(),
    };
    let mut steps: Vec<Option<Step>> = vec![None; n];
    let mut errors = Vec::new();

    for &i in &graph.order {
        let d = &stack.resources[i];
        if d.lookup {
            match plan_lookup(stack, i, &live, reads, &resolver) {
                Ok(step) => {
                    resolver.outputs[i] = reads.get(&i);
                    if step.reads_during_apply() && step.inputs.values().all(|p| p.value.is_some())
                    {
                        readable.push((i, step.inputs.clone()));
                    }
                    steps[i] = Some(step);
                }
                Err(e) => errors.extend(e),
            }
            continue;
        }
        let Some(schema) = d.provider.provider.schema(d.ty) else {
            errors.push(format!(
                "resource '{}': provider '{}' has no resource type '{}'",
                d.name, d.provider.name, d.ty
            ));
            continue;
        };
        let mut inputs = match evaluate_inputs(stack, i, &resolver) {
            Ok(m) => m,
            Err(e) => {
                errors.extend(e);
                continue;
            }
        };
        // Before a check can quote one back in an error.
        crate::redact::remember_props(&inputs);
        // The inputs of the resources each property comes from: already planned, since the
        // graph's order puts dependencies first.
        let mut related = Related::default();
        for (prop, output) in &d.properties {
            let sources: Vec<_> = output
                .dependencies()
                .filter_map(|r| {
                    let src = steps[r.0].as_ref()?;
                    Some((stack.resources[r.0].ty, &src.inputs))
                })
                .collect();
            if !sources.is_empty() {
                related.sources.insert(prop.to_string(), sources);
            }
        }
        // Recorded under its name, or else under one of its former names (an alias).
        let (old, renamed_from) = match live.get(d.name.as_str()) {
            Some(o) => (Some(*o), None),
            None => d
                .aliases
                .iter()
                .find_map(|a| live.get(a.as_str()).map(|o| (Some(*o), Some(a.clone()))))
                .unwrap_or((None, None)),
        };
        // Its own name among its aliases is no claim on another record.
        let others = d.aliases.iter().filter(|a| **a != d.name);
        for a in others.filter(|a| stack.index_of(a).is_some()) {
            errors.push(format!(
                "resource '{}' has the alias '{a}', which the program declares too: a record \
                 can be only one of them",
                d.name
            ));
        }
        // The recorded resource is this one (not another type or another provider's).
        let same = old.filter(|o| o.ty == d.ty && o.provider == d.provider.name);
        let old_props = old
            .map(|o| props::from_state(&o.inputs))
            .unwrap_or_default();
        let ignore: &[String] = if same.is_some() {
            &d.ignore_changes
        } else {
            &[]
        };
        // Unique names the program leaves to Cairn keep the one recorded.
        let auto: Vec<(&'static str, &NameRule)> = schema
            .auto_named()
            .filter(|(p, _)| !d.declares(p))
            .collect();
        if same.is_some() {
            for (p, _) in &auto {
                if let Some(v) = old_props.get(*p) {
                    inputs.insert(p.to_string(), v.clone());
                }
            }
            keep_ignored(&mut inputs, &old_props, ignore);
        }
        let (kind, mut diffs) = decide(
            old.map(|_| &old_props),
            same.is_some(),
            d.force_replace,
            &inputs,
            &schema,
            ignore,
        );
        // A new copy gets a new name, so it never collides with the old one.
        if matches!(kind, StepKind::Create | StepKind::Replace) && !auto.is_empty() {
            for (p, rule) in &auto {
                let name = d
                    .chosen_names
                    .get(*p)
                    .cloned()
                    .unwrap_or_else(|| Value::String(unique::generate(rule, &d.name)));
                inputs.insert(p.to_string(), Prop::known(name));
            }
            if old.is_some() {
                diffs = diff(&old_props, &inputs, &schema, ignore);
                for d in &mut diffs {
                    if auto.iter().any(|(p, _)| *p == d.property) {
                        d.forces_replacement = false;
                        d.new_name = true;
                    }
                }
            }
        }
        // Providers check values as they will be sent: the secrets inside them unwrapped.
        let checked: PropMap = inputs
            .iter()
            .map(|(k, p)| {
                let value = p.value.as_ref().map(props::plain);
                (k.clone(), Prop { value, ..p.clone() })
            })
            .collect();
        let failures = d.provider.provider.check(d.ty, &checked, &related);
        for f in failures {
            errors.push(match f.property {
                Some(p) => format!(
                    "resource '{}' ({}), property '{p}': {}",
                    d.name, d.ty, f.reason
                ),
                None => format!("resource '{}' ({}): {}", d.name, d.ty, f.reason),
            });
        }
        if matches!(kind, StepKind::Same | StepKind::Update) {
            resolver.outputs[i] = old.map(|o| &o.outputs);
        }
        let keeps = unique::keeps(&schema, &old_props, &inputs);
        let delete_first = if kind != StepKind::Replace {
            None
        } else if d.delete_before_replace {
            Some(DeleteFirst::Requested)
        } else if let (Some(_), Keeps::Yes(key)) = (same, keeps) {
            Some(DeleteFirst::Kept(KeptKey::of(key, &inputs)))
        } else {
            // Its old copy refers to a dependency that is deleted before it is replaced, so it
            // must be gone first too.
            graph
                .dependencies(i)
                .find(|&j| {
                    steps[j]
                        .as_ref()
                        .is_some_and(|s| s.kind() == StepKind::Replace && s.deletes_first())
                })
                .map(|j| DeleteFirst::Dependency(stack.resources[j].name.clone()))
        };
        if kind == StepKind::Replace
            && old.is_some_and(|o| o.protect)
            && d.protect
            && scope.contains(&d.name)
        {
            errors.push(format!(
                "resource '{}' is protected and this change would replace it (changed: {}); \
                 set `protect: false` first",
                d.name,
                diffs
                    .iter()
                    .filter(|p| p.forces_replacement)
                    .map(|p| p.property.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        let may_delete_first = match keeps {
            Keeps::Maybe(key)
                if same.is_some() && kind == StepKind::Replace && delete_first.is_none() =>
            {
                Some(key.key.iter().map(|p| p.to_string()).collect())
            }
            _ => None,
        };
        let change = match (kind, old.cloned()) {
            (StepKind::Same, Some(old)) => Change::Same { old },
            (StepKind::Update, Some(old)) => Change::Update { old },
            (StepKind::Replace, Some(old)) => Change::Replace {
                old,
                delete_first,
                may_delete_first,
            },
            _ => Change::Create,
        };
        steps[i] = Some(Step {
            name: d.name.clone(),
            ty: d.ty.to_string(),
            provider: d.provider.name.clone(),
            change,
            inputs,
            diffs,
            protect: d.protect,
            renamed_from,
        });
    }

    let mut steps: Vec<Step> = steps.into_iter().flatten().collect();
    if steps.len() != n {
        return Err(errors);
    }
    errors.extend(unique_collisions(stack, &steps));
    for step in steps.iter_mut().filter(|s| !scope.contains(&s.name)) {
        step.change = Change::Untargeted {
            old: step.old().cloned(),
        };
        step.diffs.clear();
    }
    errors.extend(deletes_still_in_use(stack, &steps));
    let renamed: std::collections::HashSet<String> = steps
        .iter()
        .filter_map(|s| s.renamed_from.clone())
        .collect();
    for r in records.iter().filter(|r| scope.contains(&r.name)) {
        // A record a declaration takes over under a new name is declared.
        let declared =
            stack.index_of(&r.name).is_some() || (!r.replaced && renamed.contains(&r.name));
        if r.replaced || !declared {
            if r.protect && !r.replaced {
                errors.push(format!(
                    "resource '{}' is protected and no longer in the program; \
                     declare it with `protect: false` and run up, then remove it",
                    r.name
                ));
            }
            steps.push(delete_step(
                r,
                Some(if r.replaced {
                    "old copy of a replaced resource"
                } else {
                    "removed from the program"
                }),
            ));
        }
    }

    let outputs = stack
        .exports
        .iter()
        .map(|(name, o)| {
            let r = o.evaluate(&resolver);
            let value = match r.value {
                Eval::Known(v) => Some(v),
                _ => None,
            };
            PlannedOutput {
                name: name.clone(),
                value: Prop {
                    value,
                    secret: r.secret,
                },
            }
        })
        .collect();

    errors.extend(target::left_referring(&steps, records, scope));
    if errors.is_empty() {
        Ok(Plan { steps, outputs })
    } else {
        Err(errors)
    }
}

/// A lookup's step: its arguments as far as they are known, and what it read, if it was.
fn plan_lookup(
    stack: &Stack,
    i: usize,
    live: &HashMap<&str, &ResourceRecord>,
    reads: &Reads,
    resolver: &dyn Resolve,
) -> Result<Step, Vec<String>> {
    let d = &stack.resources[i];
    // A record of the name is a resource the stack manages: reading it instead would leave it
    // in the cloud unmanaged, deleting it would destroy what the program still uses.
    if let Some(r) = live.get(d.name.as_str()) {
        return Err(vec![format!(
            "lookup '{}' ({}) has the name of a resource the stack manages ({}, {}), and a \
             lookup neither deletes nor gives up what the stack manages: give the lookup \
             another name (and keep declaring the resource to keep it)",
            d.name, d.ty, r.ty, r.id
        )]);
    }
    let args = evaluate_inputs(stack, i, resolver)?;
    Ok(Step {
        name: d.name.clone(),
        ty: d.ty.to_string(),
        provider: d.provider.name.clone(),
        change: Change::Read {
            outputs: reads.get(&i).cloned(),
        },
        inputs: args,
        diffs: Vec::new(),
        protect: false,
        renamed_from: None,
    })
}

/// Two declared resources of one type that ask for the same unique name (or key) in the same
/// scope: the cloud would refuse the second, so the plan does.
fn unique_collisions(stack: &Stack, steps: &[Step]) -> Vec<String> {
    let mut seen: HashMap<(String, &str, String), &str> = HashMap::new();
    let mut errors = Vec::new();
    for (i, step) in steps.iter().enumerate().take(stack.resources.len()) {
        if step.kind() == StepKind::Read {
            continue;
        }
        let provider = &stack.resources[i].provider;
        let Some(schema) = provider.provider.schema(&step.ty) else {
            continue;
        };
        for key in schema.unique {
            // Unknown values are left to the cloud; an absent one is the default.
            let values: Option<Vec<&Value>> = key
                .key
                .iter()
                .chain(key.within)
                .map(|p| match step.inputs.get(*p) {
                    None => Some(&Value::Null),
                    Some(v) => v.value.as_ref(),
                })
                .collect();
            let Some(values) = values else { continue };
            let id = (
                provider.name.clone(),
                step.ty.as_str(),
                format!("{values:?}"),
            );
            if let Some(first) = seen.insert(id, &step.name) {
                errors.push(format!(
                    "resources '{first}' and '{}' ({}) both ask for {}, which must be unique{}",
                    step.name,
                    step.ty,
                    KeptKey::of(key, &step.inputs).what(),
                    if key.within.is_empty() {
                        String::new()
                    } else {
                        format!(" within the same {}", key.within.join(", "))
                    }
                ));
            }
        }
    }
    errors
}

/// A replacement that deletes first while a resource that stays refers to it: that resource
/// can move to the new copy only once the new copy exists, so the cloud would refuse the delete
/// (or the resource would be left pointing at nothing). Refused at plan time, before anything
/// is touched, with what to change.
fn deletes_still_in_use(stack: &Stack, steps: &[Step]) -> Vec<String> {
    let mut errors = Vec::new();
    for (i, step) in steps.iter().enumerate().take(stack.resources.len()) {
        let Some(why) = step.delete_first() else {
            continue;
        };
        let users: Vec<&str> = stack
            .resources
            .iter()
            .enumerate()
            .filter(|(j, d)| {
                matches!(
                    steps[*j].kind(),
                    StepKind::Update | StepKind::Same | StepKind::Untargeted
                ) && d
                    .properties
                    .iter()
                    .any(|(_, o)| o.dependencies().any(|r| r.0 == i))
            })
            .map(|(_, d)| d.name.as_str())
            .collect();
        if users.is_empty() {
            continue;
        }
        errors.push(format!(
            "resource '{}' ({}) would be replaced by deleting it first ({why}), but {} still \
             refer{} to it and can move to the new copy only once that exists: {}",
            step.name,
            step.ty,
            users
                .iter()
                .map(|u| format!("'{u}'"))
                .collect::<Vec<_>>()
                .join(", "),
            if users.len() == 1 { "s" } else { "" },
            why.remedy()
        ));
    }
    errors
}

/// A plan that deletes every recorded resource (`destroy`).
pub fn plan_destroy(records: &[ResourceRecord]) -> Result<Plan, Vec<String>> {
    let protected: Vec<&str> = records
        .iter()
        .filter(|r| r.protect && !r.replaced)
        .map(|r| r.name.as_str())
        .collect();
    if !protected.is_empty() {
        return Err(protected
            .into_iter()
            .map(|n| {
                format!(
                    "resource '{n}' is protected; set `protect: false` and run up before destroy"
                )
            })
            .collect());
    }
    Ok(Plan {
        steps: dependents_first(records)
            .into_iter()
            .map(|r| delete_step(r, None))
            .collect(),
        outputs: Vec::new(),
    })
}

/// The records in the order a destroy deletes them: each after every record that depends on it
/// (by the names it records), otherwise in the order they were written.
fn dependents_first(records: &[ResourceRecord]) -> Vec<&ResourceRecord> {
    let mut dependents: Vec<usize> = records
        .iter()
        .map(|r| {
            records
                .iter()
                .filter(|o| o.seq != r.seq && o.dependencies.contains(&r.name))
                .count()
        })
        .collect();
    let mut done = vec![false; records.len()];
    let mut order = Vec::with_capacity(records.len());
    while order.len() < records.len() {
        // A cycle (which the graph never records) would leave none ready: take the first left.
        let next = (0..records.len())
            .find(|&i| !done[i] && dependents[i] == 0)
            .or_else(|| (0..records.len()).find(|&i| !done[i]))
            .unwrap_or_default();
        done[next] = true;
        order.push(&records[next]);
        for (i, r) in records.iter().enumerate() {
            if !done[i]
                && records[next].dependencies.contains(&r.name)
                && r.seq != records[next].seq
            {
                dependents[i] = dependents[i].saturating_sub(1);
            }
        }
    }
    order
}

fn delete_step(r: &ResourceRecord, reason: Option<&str>) -> Step {
    Step {
        name: r.name.clone(),
        ty: r.ty.clone(),
        provider: r.provider.clone(),
        change: Change::Delete {
            old: r.clone(),
            reason: reason.map(str::to_string),
        },
        inputs: props::from_state(&r.inputs),
        diffs: Vec::new(),
        protect: r.protect,
        renamed_from: None,
    }
}
