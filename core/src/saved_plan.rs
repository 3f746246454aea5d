//! Saved plans: `preview --save-plan FILE` writes the plan a team reviews, and `up --plan FILE`
//! applies exactly that plan or refuses, changing nothing.
//!
//! "Exactly" is checked, not assumed. The file holds the state it was planned against (lineage
//! and serial), the steering it was made with (`--target`, `--exclude`, `--replace`), every
//! step with its inputs as planned, and a digest of those steps and of the stack's
//! configuration. `up --plan` plans again under the lock with the same steering and the names
//! the saved plan picked. It applies only if the state is the one planned against and the new
//! plan is the saved one, step for step. A value unknown when planned is then checked as it
//! resolves: the executor refuses an operation the plan does not hold (`execute.rs`).

use std::collections::BTreeMap;
use std::path::Path;

use cairn_state::{StackVersion, Store};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::engine::{EngineError, Program};
use crate::plan::{Change, Plan, Step, StepKind};
use crate::props;

/// What the file is.
const FORMAT: &str = "cairn-plan";
/// The format's version: a file of another is refused, not guessed at.
const VERSION: u32 = 1;

/// `--target`, `--exclude` and `--replace` as given to `preview`: part of what was planned.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Steering {
    /// `--target`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub targets: Vec<String>,
    /// `--exclude`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub excludes: Vec<String>,
    /// `--replace`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub replace: Vec<String>,
}

impl Steering {
    /// Whether none was given.
    pub fn is_empty(&self) -> bool {
        *self == Steering::default()
    }
}

/// The digests a saved plan is held to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Digests {
    /// The steps as planned (secrets masked): what the program declares, against the state.
    pub steps: String,
    /// The stack's configuration file as stored (secrets sealed).
    pub config: String,
}

/// One step as saved.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SavedStep {
    /// The resource's name.
    pub name: String,
    /// Its type token.
    #[serde(rename = "type")]
    pub ty: String,
    /// Its provider instance.
    pub provider: String,
    /// `create`, `update`, `replace`, `delete`, `same`, `untargeted` or `read`.
    pub action: String,
    /// The record it is renamed from (an alias), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub renamed_from: Option<String>,
    /// The inputs as planned, in the state's encoding: a value unknown until `up` is `null`
    /// and named in `unknown`; secrets sealed.
    pub inputs: Value,
    /// The inputs not known when planned.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unknown: Vec<String>,
    /// The properties that change.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub changes: Vec<String>,
    /// What a lookup read (`null`: read during `up`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read: Option<Value>,
}

/// A plan as `preview --save-plan` writes it: a versioned JSON document a person can read.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SavedPlan {
    /// `cairn-plan`.
    pub format: String,
    /// The format's version.
    pub version: u32,
    /// The stack planned.
    pub stack: String,
    /// The state planned against (`None`: the stack had none yet).
    pub state: Option<StackVersion>,
    /// When it was planned (RFC 3339).
    pub created_at: String,
    /// The steering it was planned with.
    #[serde(default, skip_serializing_if = "Steering::is_empty")]
    pub steering: Steering,
    /// What it is held to.
    pub digests: Digests,
    /// How many steps of each action.
    pub summary: BTreeMap<String, usize>,
    /// Every step, in the plan's order.
    pub steps: Vec<SavedStep>,
}

/// The context a step's sealed inputs are bound to: a value sealed for one step cannot be
/// passed off as another's.
fn context(stack: &str, step: &str) -> String {
    format!("plan:{stack}:{step}")
}

/// The step as saved, secrets still plain (`{"@secret": …}`).
fn saved_step(step: &Step) -> SavedStep {
    let unknown = step
        .inputs
        .iter()
        .filter(|(_, p)| p.value.is_none())
        .map(|(k, _)| k.clone())
        .collect();
    let read = match &step.change {
        Change::Read { outputs } => Some(outputs.clone().unwrap_or(Value::Null)),
        _ => None,
    };
    SavedStep {
        name: step.name.clone(),
        ty: step.ty.clone(),
        provider: step.provider.clone(),
        action: step.kind().as_str().to_string(),
        renamed_from: step.renamed_from.clone(),
        inputs: props::to_state(&step.inputs),
        unknown,
        changes: step.diffs.iter().map(|d| d.property.clone()).collect(),
        read,
    }
}

fn sha256(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256:{hex}")
}

/// The digest of steps with their secrets masked: the file may be read by anyone who reviews
/// it, so it must not let a guess at a secret be checked.
fn steps_digest(steps: &[SavedStep]) -> String {
    let masked: Vec<SavedStep> = steps
        .iter()
        .map(|s| SavedStep {
            inputs: props::masked(&s.inputs),
            read: s.read.as_ref().map(props::masked),
            ..s.clone()
        })
        .collect();
    sha256(&serde_json::to_vec(&masked).unwrap_or_default())
}

/// The stack's configuration file as stored (its secrets sealed), or none.
pub fn config_digest(path: &Path) -> String {
    sha256(&std::fs::read(path).unwrap_or_default())
}

impl SavedPlan {
    /// The document for `plan`, made against `store`'s state of `stack`, its secrets sealed.
    pub fn new(
        store: &Store,
        stack: &str,
        plan: &Plan,
        steering: Steering,
        config_digest: String,
    ) -> Result<SavedPlan, EngineError> {
        let plain: Vec<SavedStep> = plan.steps.iter().map(saved_step).collect();
        let digests = Digests {
            steps: steps_digest(&plain),
            config: config_digest,
        };
        let steps = plain
            .into_iter()
            .map(|mut s| {
                s.inputs = store.seal_document(&s.inputs, &context(stack, &s.name))?;
                Ok(s)
            })
            .collect::<Result<Vec<_>, EngineError>>()?;
        Ok(SavedPlan {
            format: FORMAT.into(),
            version: VERSION,
            stack: stack.to_string(),
            state: store.version(stack)?,
            created_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            steering,
            digests,
            summary: plan
                .counts()
                .iter()
                .map(|(k, n)| (k.as_str().to_string(), *n))
                .collect(),
            steps,
        })
    }

    /// Reads a saved plan, refusing what is not one of this format's version.
    pub fn read(path: &Path) -> Result<SavedPlan, EngineError> {
        let stale = |why: String| EngineError::StalePlan(vec![why]);
        let text = std::fs::read_to_string(path)
            .map_err(|e| stale(format!("cannot read {}: {e}", path.display())))?;
        let plan: SavedPlan = serde_json::from_str(&text)
            .map_err(|e| stale(format!("{} is not a saved plan: {e}", path.display())))?;
        if plan.format != FORMAT || plan.version != VERSION {
            return Err(stale(format!(
                "{} is a '{}' document of version {}; this Cairn applies '{FORMAT}' version \
                 {VERSION}",
                path.display(),
                plan.format,
                plan.version
            )));
        }
        Ok(plan)
    }

    /// Gives `program` the names this plan picked for the properties Cairn names, so that
    /// planning again picks the same.
    pub fn reuse_names(&self, store: &Store, program: &mut Program) -> Result<(), EngineError> {
        for s in self.steps.iter().filter(|s| {
            let made = [StepKind::Create, StepKind::Replace].map(StepKind::as_str);
            made.contains(&s.action.as_str()) && s.inputs.is_object()
        }) {
            let Some(i) = program.stack.index_of(&s.name) else {
                continue;
            };
            let inputs = store.open_document(s.inputs.clone(), &context(&self.stack, &s.name))?;
            let Value::Object(inputs) = inputs else {
                continue;
            };
            let d = &mut program.stack.resources[i];
            d.chosen_names = inputs
                .into_iter()
                .filter(|(k, v)| !d.declares(k) && v.is_string())
                .collect();
        }
        Ok(())
    }

    /// Whether `plan`, made now under the lock of `store`'s `stack`, is this saved plan: the
    /// same state, the same configuration, the same steps with the same inputs (secrets
    /// compared opened). Every difference is named.
    pub fn check(
        &self,
        store: &Store,
        stack: &str,
        plan: &Plan,
        config_digest: &str,
    ) -> Result<(), EngineError> {
        let mut why = Vec::new();
        if self.stack != stack {
            why.push(format!(
                "the plan is of stack '{}', not '{stack}'",
                self.stack
            ));
        }
        let now = store.version(stack)?;
        let same = match (&self.state, &now) {
            // Planned before the stack had a state: it may have one now (the lock makes it)
            // as long as nothing was recorded in it.
            (None, now) => now.as_ref().is_none_or(|v| v.serial == 0),
            (Some(a), Some(b)) => a == b,
            (Some(_), None) => false,
        };
        if !same {
            why.push(match (&self.state, &now) {
                (Some(a), Some(b)) if a.lineage != b.lineage => format!(
                    "the state is another stack's (lineage {}, the plan's {}): it was removed \
                     and made again, or the plan is of another state",
                    b.lineage, a.lineage
                ),
                (_, Some(b)) => format!(
                    "the state changed since the plan was made (serial {}, the plan's {}): \
                     someone applied in between",
                    b.serial,
                    self.state.as_ref().map_or(0, |a| a.serial)
                ),
                (_, None) => "the stack's state is gone since the plan was made".to_string(),
            });
        }
        if config_digest != self.digests.config {
            why.push("the stack's configuration changed since the plan was made".into());
        }
        if !why.is_empty() {
            return Err(EngineError::StalePlan(why));
        }
        let fresh: Vec<SavedStep> = plan.steps.iter().map(saved_step).collect();
        let opened = self
            .steps
            .iter()
            .map(|s| {
                let inputs = store.open_document(s.inputs.clone(), &context(stack, &s.name))?;
                Ok(SavedStep {
                    inputs,
                    ..s.clone()
                })
            })
            .collect::<Result<Vec<_>, EngineError>>()?;
        if steps_digest(&fresh) != self.digests.steps || steps_digest(&opened) != self.digests.steps
        {
            why.extend(differences(&opened, &fresh));
            if why.is_empty() {
                why.push("the steps differ from the plan's (their digests differ)".into());
            }
        } else {
            // The digest masks secrets: the secret values themselves must match too.
            for (saved, now) in opened.iter().zip(&fresh) {
                if saved.inputs != now.inputs {
                    why.push(format!(
                        "'{}': a secret input now has another value than planned",
                        saved.name
                    ));
                }
            }
        }
        if why.is_empty() {
            Ok(())
        } else {
            Err(EngineError::StalePlan(why))
        }
    }
}

/// What differs between the saved steps (opened) and `fresh`, by resource.
fn differences(saved: &[SavedStep], fresh: &[SavedStep]) -> Vec<String> {
    let mut out = Vec::new();
    let by_name = |steps: &[SavedStep]| -> BTreeMap<String, SavedStep> {
        steps
            .iter()
            .map(|s| {
                let deleted = s.action == StepKind::Delete.as_str();
                (format!("{} {deleted}", s.name), s.clone())
            })
            .collect()
    };
    let (saved, now) = (by_name(saved), by_name(fresh));
    for (key, s) in &saved {
        let Some(n) = now.get(key) else {
            out.push(format!(
                "'{}': the plan would {} it; the program now does not",
                s.name, s.action
            ));
            continue;
        };
        if s.action != n.action {
            out.push(format!(
                "'{}': the plan would {} it; it would now {} it",
                s.name, s.action, n.action
            ));
        } else if (&s.ty, &s.provider) != (&n.ty, &n.provider) {
            out.push(format!("'{}': its type or provider changed", s.name));
        } else if s.read.as_ref().map(props::masked) != n.read.as_ref().map(props::masked) {
            out.push(format!("'{}': the lookup now reads something else", s.name));
        } else {
            let (a, b) = (props::masked(&s.inputs), props::masked(&n.inputs));
            let props: Vec<String> = a
                .as_object()
                .into_iter()
                .chain(b.as_object())
                .flat_map(|m| m.keys().cloned())
                .collect::<std::collections::BTreeSet<_>>()
                .into_iter()
                .filter(|k| a.get(k) != b.get(k))
                .collect();
            if !props.is_empty() || s.unknown != n.unknown || s.changes != n.changes {
                out.push(format!(
                    "'{}': its inputs differ from the plan's ({})",
                    s.name,
                    if props.is_empty() {
                        "what is known".to_string()
                    } else {
                        props.join(", ")
                    }
                ));
            }
        }
    }
    for (key, n) in &now {
        if !saved.contains_key(key) {
            out.push(format!(
                "'{}': the program would now {} it; the plan does not hold it",
                n.name, n.action
            ));
        }
    }
    out
}
