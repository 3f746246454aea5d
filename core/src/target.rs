//! Targeting (`--target`, `--exclude`): which resources a command may touch.
//!
//! A target brings along what it needs and an exclusion takes along what needs it, so the
//! resources in scope never depend on one left out: the planner and executor can leave the
//! rest exactly as recorded. Which way "needs" points depends on the command: creating or
//! updating a resource needs its dependencies to exist, deleting one needs its dependents gone.

use std::collections::{BTreeSet, HashMap};

use cairn_state::ResourceRecord;

use crate::graph::ResourceGraph;
use crate::plan::{Step, StepKind};
use crate::stack::Stack;

/// The names given with `--target` and `--exclude`; both empty means everything.
#[derive(Debug, Clone, Default)]
pub struct Targeting {
    /// `--target`: these and what they depend on.
    pub targets: Vec<String>,
    /// `--exclude`: not these, nor what depends on them.
    pub excludes: Vec<String>,
}

/// The names a command may touch (everything when no targeting was asked for).
#[derive(Debug, Clone, Default)]
pub struct Scope {
    only: Option<BTreeSet<String>>,
}

impl Scope {
    /// Everything: what every command does without `--target` or `--exclude`.
    pub fn everything() -> Scope {
        Scope { only: None }
    }

    /// Whether the resource `name` is in scope.
    pub fn contains(&self, name: &str) -> bool {
        self.only.as_ref().is_none_or(|s| s.contains(name))
    }

    /// The records in scope.
    pub fn keep(&self, records: Vec<ResourceRecord>) -> Vec<ResourceRecord> {
        records
            .into_iter()
            .filter(|r| self.contains(&r.name))
            .collect()
    }

    /// Whether some resources are left out on purpose.
    pub fn is_restricted(&self) -> bool {
        self.only.is_some()
    }
}

/// Edges between names: `edges[a]` are the names `a` leads to.
type Edges<'a> = HashMap<&'a str, Vec<&'a str>>;

impl Targeting {
    /// Whether nothing is left out.
    pub fn is_everything(&self) -> bool {
        self.targets.is_empty() && self.excludes.is_empty()
    }

    /// The scope of `up` and `preview`: each target with everything it depends on in the
    /// program (a record the program no longer declares is only deleted: it needs nothing),
    /// less each exclusion with everything that depends on it, in the program or as recorded.
    pub fn for_up(
        &self,
        stack: &Stack,
        graph: &ResourceGraph,
        records: &[ResourceRecord],
    ) -> Result<Scope, Vec<String>> {
        if self.is_everything() {
            return Ok(Scope::everything());
        }
        let mut needs: Edges = HashMap::new();
        for (i, d) in stack.resources.iter().enumerate() {
            needs.insert(
                &d.name,
                graph
                    .dependencies(i)
                    .map(|j| stack.resources[j].name.as_str())
                    .collect(),
            );
        }
        let mut needed_by = reverse(&needs);
        for (user, used) in recorded_needs(records) {
            for u in used {
                needed_by.entry(u).or_default().push(user);
            }
        }
        let known: BTreeSet<&str> = needs
            .keys()
            .copied()
            .chain(records.iter().map(|r| r.name.as_str()))
            .collect();
        self.scope(&known, &needs, &needed_by)
    }

    /// The scope of `destroy`: each target with everything that depends on it (it cannot
    /// outlive what it refers to), less each exclusion with everything it depends on (what
    /// stays keeps what it refers to).
    pub fn for_destroy(&self, records: &[ResourceRecord]) -> Result<Scope, Vec<String>> {
        if self.is_everything() {
            return Ok(Scope::everything());
        }
        let needs = recorded_needs(records);
        let known = records.iter().map(|r| r.name.as_str()).collect();
        self.scope(&known, &reverse(&needs), &needs)
    }

    /// The scope of `refresh`: reading is harmless, so as `up` would, by the recorded
    /// dependencies.
    pub fn for_refresh(&self, records: &[ResourceRecord]) -> Result<Scope, Vec<String>> {
        if self.is_everything() {
            return Ok(Scope::everything());
        }
        let needs = recorded_needs(records);
        let known = records.iter().map(|r| r.name.as_str()).collect();
        self.scope(&known, &needs, &reverse(&needs))
    }

    /// The targets followed along `along`, less the exclusions followed along `removes`.
    fn scope(
        &self,
        known: &BTreeSet<&str>,
        along: &Edges,
        removes: &Edges,
    ) -> Result<Scope, Vec<String>> {
        let errors: Vec<String> = [("--target", &self.targets), ("--exclude", &self.excludes)]
            .into_iter()
            .flat_map(|(flag, names)| names.iter().map(move |n| (flag, n)))
            .filter(|(_, n)| !known.contains(n.as_str()))
            .map(|(flag, name)| unknown(flag, name, known))
            .collect();
        if !errors.is_empty() {
            return Err(errors);
        }
        let mut only = if self.targets.is_empty() {
            known.clone()
        } else {
            closure(&self.targets, along)
        };
        for name in closure(&self.excludes, removes) {
            only.remove(name);
        }
        Ok(Scope {
            only: Some(only.into_iter().map(str::to_string).collect()),
        })
    }
}

/// A step in scope that deletes a record (a delete, or a replacement's old copy) which a
/// resource left out still refers to: it would be left pointing at nothing, so the plan is
/// refused, naming what to add.
pub(crate) fn left_referring(
    steps: &[Step],
    records: &[ResourceRecord],
    scope: &Scope,
) -> Vec<String> {
    let mut errors = Vec::new();
    for step in steps.iter().filter(|s| scope.contains(&s.name)) {
        let verb = match step.kind() {
            StepKind::Delete => "deleted",
            StepKind::Replace => "replaced",
            _ => continue,
        };
        // An old copy left by an earlier replacement: what refers to the name refers to the
        // new copy.
        if step.old().is_none_or(|o| o.replaced) {
            continue;
        }
        let users: Vec<String> = records
            .iter()
            .filter(|r| !r.replaced && !scope.contains(&r.name))
            .filter(|r| r.dependencies.contains(&step.name))
            .map(|r| format!("'{}'", r.name))
            .collect();
        if !users.is_empty() {
            errors.push(format!(
                "resource '{}' ({}) would be {verb}, but {} refer{} to it and {} left out by                  --target/--exclude; target {} too",
                step.name,
                step.ty,
                users.join(", "),
                if users.len() == 1 { "s" } else { "" },
                if users.len() == 1 { "is" } else { "are" },
                if users.len() == 1 { "it" } else { "them" },
            ));
        }
    }
    errors
}

/// What each record depended on when it was last applied.
fn recorded_needs(records: &[ResourceRecord]) -> Edges<'_> {
    let mut needs: Edges = HashMap::new();
    for r in records {
        needs
            .entry(&r.name)
            .or_default()
            .extend(r.dependencies.iter().map(String::as_str));
    }
    needs
}

fn reverse<'a>(edges: &Edges<'a>) -> Edges<'a> {
    let mut reversed: Edges = HashMap::new();
    for (&from, to) in edges {
        for &t in to {
            reversed.entry(t).or_default().push(from);
        }
    }
    reversed
}

/// `start` and everything reachable from it along `edges`.
fn closure<'a>(start: &'a [String], edges: &Edges<'a>) -> BTreeSet<&'a str> {
    let mut seen = BTreeSet::new();
    let mut todo: Vec<&str> = start.iter().map(String::as_str).collect();
    while let Some(name) = todo.pop() {
        if seen.insert(name) {
            todo.extend(edges.get(name).into_iter().flatten());
        }
    }
    seen
}

fn unknown(flag: &str, name: &str, known: &BTreeSet<&str>) -> String {
    match known
        .iter()
        .min_by_key(|k| strsim::damerau_levenshtein(k, name))
    {
        Some(closest) => format!(
            "{flag} {name}: the program declares no resource '{name}' and the state records \
             none; did you mean '{closest}'?"
        ),
        None => format!("{flag} {name}: the stack has no resources"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(name: &str, deps: &[&str]) -> ResourceRecord {
        ResourceRecord {
            seq: 0,
            name: name.into(),
            ty: "test:Thing".into(),
            provider: "test".into(),
            id: format!("id-{name}"),
            inputs: serde_json::json!({}),
            outputs: serde_json::json!({}),
            dependencies: deps.iter().map(|d| d.to_string()).collect(),
            protect: false,
            replaced: false,
        }
    }

    /// vpc <- subnet <- service, vpc <- sg <- service; log stands alone.
    fn records() -> Vec<ResourceRecord> {
        vec![
            record("vpc", &[]),
            record("subnet", &["vpc"]),
            record("sg", &["vpc"]),
            record("service", &["subnet", "sg"]),
            record("log", &[]),
        ]
    }

    fn names(scope: &Scope, records: &[ResourceRecord]) -> Vec<String> {
        records
            .iter()
            .filter(|r| scope.contains(&r.name))
            .map(|r| r.name.clone())
            .collect()
    }

    fn targeting(targets: &[&str], excludes: &[&str]) -> Targeting {
        Targeting {
            targets: targets.iter().map(|s| s.to_string()).collect(),
            excludes: excludes.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn a_destroy_target_takes_its_dependents_and_an_exclusion_keeps_what_it_needs() {
        let r = records();
        let scope = targeting(&["subnet"], &[]).for_destroy(&r).unwrap();
        assert_eq!(names(&scope, &r), ["subnet", "service"]);
        let scope = targeting(&[], &["service"]).for_destroy(&r).unwrap();
        assert_eq!(names(&scope, &r), ["log"]);
        let scope = targeting(&["vpc"], &["sg"]).for_destroy(&r).unwrap();
        assert_eq!(
            names(&scope, &r),
            ["subnet", "service"],
            "sg stays, and vpc with it"
        );
    }

    #[test]
    fn a_refresh_target_reads_what_it_needs_and_an_exclusion_skips_what_needs_it() {
        let r = records();
        let scope = targeting(&["service"], &[]).for_refresh(&r).unwrap();
        assert_eq!(names(&scope, &r), ["vpc", "subnet", "sg", "service"]);
        let scope = targeting(&[], &["sg"]).for_refresh(&r).unwrap();
        assert_eq!(names(&scope, &r), ["vpc", "subnet", "log"]);
    }

    #[test]
    fn an_unknown_name_suggests_the_closest() {
        let err = targeting(&["servce"], &["lgo"])
            .for_destroy(&records())
            .unwrap_err();
        assert_eq!(err.len(), 2);
        assert!(err[0].contains("--target servce") && err[0].contains("did you mean 'service'"));
        assert!(err[1].contains("--exclude lgo") && err[1].contains("did you mean 'log'"));
    }

    #[test]
    fn no_targeting_is_everything() {
        let scope = Targeting::default().for_destroy(&records()).unwrap();
        assert!(!scope.is_restricted());
        assert!(scope.contains("anything"));
    }
}
