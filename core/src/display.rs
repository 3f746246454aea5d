//! How plans, drift and outputs are shown: as text for people and as JSON for machines.
//! Secret values are masked here and nowhere else needs to remember to.

use std::fmt::Write;

use serde_json::{Value, json};

use crate::engine::Drift;
use crate::plan::{Plan, PropDiff, Step, StepKind};
use crate::props;
use crate::value_diff::{Line, Mark, diff_lines, value_lines};

/// Whether text for people is coloured: `console`'s choice (a terminal, `NO_COLOR` and
/// `CLICOLOR_FORCE` honoured), which `--color` overrides for the process.
fn colored() -> bool {
    console::colors_enabled()
}

/// The colour of a kind of change: create green, update yellow, delete red, replace magenta.
fn paint(kind: StepKind, text: &str, color: bool) -> String {
    let style = match kind {
        StepKind::Create => console::Style::new().green(),
        StepKind::Update => console::Style::new().yellow(),
        StepKind::Replace => console::Style::new().magenta(),
        StepKind::Delete => console::Style::new().red(),
        StepKind::Read => console::Style::new().cyan(),
        StepKind::Same | StepKind::Untargeted => console::Style::new(),
    };
    style.force_styling(color).apply_to(text).to_string()
}

fn symbol(kind: StepKind, dbr: bool) -> &'static str {
    match kind {
        StepKind::Create => "+",
        StepKind::Update => "~",
        StepKind::Replace if dbr => "-+",
        StepKind::Replace => "+-",
        StepKind::Delete => "-",
        StepKind::Read => ">",
        StepKind::Same | StepKind::Untargeted => " ",
    }
}

/// How a plan is shown to a person.
#[derive(Debug, Clone, Copy)]
pub struct PlanView {
    /// The stack outputs (`preview`; `up` shows them once, after the run, instead).
    pub outputs: bool,
    /// Coloured for a terminal (`--color`, `NO_COLOR` and `CLICOLOR_FORCE` decide by default).
    pub color: bool,
    /// Every property of an update or replacement, not only those that change (`--diff`).
    pub all_properties: bool,
}

impl Default for PlanView {
    fn default() -> PlanView {
        PlanView {
            outputs: true,
            color: colored(),
            all_properties: false,
        }
    }
}

/// The plan as text: changed resources with their property diffs, the stack outputs, then a
/// summary line.
pub fn plan_text(plan: &Plan) -> String {
    plan_text_with(plan, PlanView::default())
}

/// The plan as text, in colour or not, whatever the terminal: for tests of what people see.
pub fn plan_text_styled(plan: &Plan, color: bool) -> String {
    plan_text_with(
        plan,
        PlanView {
            color,
            ..PlanView::default()
        },
    )
}

/// The plan as text, as `view` says to show it.
pub fn plan_text_with(plan: &Plan, view: PlanView) -> String {
    let mut out = String::new();
    let mut shown: Vec<&Step> = plan
        .steps
        .iter()
        .filter(|s| s.kind().changes() || s.renamed_from.is_some() || s.kind() == StepKind::Read)
        .collect();
    crate::tree::group(&mut shown, |s| s.name.as_str());
    let mut open = Vec::new();
    for step in shown {
        let indent = crate::tree::enter(&mut out, &mut open, &step.name);
        for line in step_text(step, view).lines() {
            let _ = writeln!(out, "{indent}{line}");
        }
    }
    if view.outputs && !plan.outputs.is_empty() {
        out.push_str("Outputs:\n");
        for o in &plan.outputs {
            let _ = writeln!(out, "    {}: {}", o.name, props::display(&o.value));
        }
    }
    let _ = writeln!(out, "{}", summary(plan));
    out
}

/// One step's row and property lines (the name without its components: the tree shows them).
fn step_text(step: &Step, view: PlanView) -> String {
    let color = view.color;
    let mut out = String::new();
    let short = crate::tree::short(&step.name);
    let kind = step.kind();
    // A rename that changes nothing else is shown as what it is.
    let head = if kind == StepKind::Same {
        paint(
            StepKind::Update,
            &format!("{:<2} {:<8}", "~", "rename"),
            color,
        )
    } else {
        let head = format!(
            "{:<2} {:<8}",
            symbol(kind, step.deletes_first()),
            kind.as_str()
        );
        paint(kind, &head, color)
    };
    let _ = write!(out, "  {} {} ({})", head, short, step.ty);
    if let Some(from) = &step.renamed_from {
        let _ = write!(out, "  [renamed from '{from}']");
    }
    if let Some(reason) = step.reason() {
        let _ = write!(out, "  [{reason}]");
    }
    if step.reads_during_apply() {
        let _ = write!(out, "  [read during up: its arguments are not known yet]");
    }
    if step.kind() == StepKind::Replace {
        let forced: Vec<&str> = step
            .diffs
            .iter()
            .filter(|d| d.forces_replacement)
            .map(|d| d.property.as_str())
            .collect();
        if !forced.is_empty() {
            let _ = write!(out, "  [forced by {}]", forced.join(", "));
        } else if step
            .old()
            .is_some_and(|o| o.ty == step.ty && o.provider == step.provider)
        {
            // Nothing forces it: it was asked for.
            let _ = write!(out, "  [replacement requested]");
        }
        if let Some(why) = &step.delete_first() {
            let _ = write!(out, "  [delete before replace: {why}]");
        }
        if let Some(key) = &step.may_delete_first() {
            let _ = write!(
                out,
                "  [delete before replace if {} still collide{} once known]",
                key.join(", "),
                if key.len() == 1 { "s" } else { "" }
            );
        }
    }
    out.push('\n');
    if matches!(step.kind(), StepKind::Create | StepKind::Read) {
        let mark = match step.kind() {
            StepKind::Create => Mark::Add,
            _ => Mark::Same,
        };
        for (k, p) in &step.inputs {
            push_lines(&mut out, &value_lines(mark, k, p), color);
        }
    }
    let unchanged = step
        .inputs
        .iter()
        .filter(|_| view.all_properties && step.old().is_some() && step.is_declared())
        .filter(|(k, _)| !step.diffs.iter().any(|d| &d.property == *k));
    let mut properties: Vec<(&str, Vec<Line>)> = step
        .diffs
        .iter()
        .map(|d| (d.property.as_str(), diff_lines(d, note(d))))
        .chain(unchanged.map(|(k, p)| (k.as_str(), value_lines(Mark::Same, k, p))))
        .collect();
    properties.sort_by(|a, b| a.0.cmp(b.0));
    for (_, lines) in properties {
        push_lines(&mut out, &lines, color);
    }
    out
}

/// Property lines under a resource's row, marked and coloured by what happens to them.
fn push_lines(out: &mut String, lines: &[Line], color: bool) {
    for l in lines {
        let style = match l.mark {
            Mark::Add => console::Style::new().green(),
            Mark::Remove => console::Style::new().red(),
            Mark::Change => console::Style::new().yellow(),
            Mark::Same => console::Style::new().dim(),
        };
        let _ = writeln!(
            out,
            "      {}",
            style.force_styling(color).apply_to(l.text())
        );
    }
}

fn note(d: &PropDiff) -> &'static str {
    if d.forces_replacement {
        "  (forces replacement)"
    } else if d.new_name {
        "  (a new name for the new copy)"
    } else {
        ""
    }
}

/// The closing line, in Terraform's and Pulumi's words: `Plan: 3 to create, 1 to update,
/// 1 to replace, 2 to delete (30 unchanged)`, or `Plan: no changes (35 unchanged)`.
fn summary(plan: &Plan) -> String {
    let counts = plan.counts();
    let mut changes: Vec<String> = [
        (StepKind::Create, "to create"),
        (StepKind::Update, "to update"),
        (StepKind::Replace, "to replace"),
        (StepKind::Delete, "to delete"),
    ]
    .iter()
    .filter_map(|(k, label)| counts.get(k).map(|n| format!("{n} {label}")))
    .collect();
    // Renamed and otherwise the same: counted as renames, not as unchanged.
    let renames = plan
        .steps
        .iter()
        .filter(|s| s.kind() == StepKind::Same && s.renamed_from.is_some())
        .count();
    if renames > 0 {
        changes.push(format!("{renames} to rename"));
    }
    let changes = if changes.is_empty() {
        "no changes".to_string()
    } else {
        changes.join(", ")
    };
    let unchanged = counts.get(&StepKind::Same).copied().unwrap_or(0) - renames;
    let rest: Vec<String> = [
        (unchanged, "unchanged"),
        (
            counts.get(&StepKind::Untargeted).copied().unwrap_or(0),
            "not targeted",
        ),
        (counts.get(&StepKind::Read).copied().unwrap_or(0), "read"),
    ]
    .iter()
    .filter(|(n, _)| *n > 0)
    .map(|(n, label)| format!("{n} {label}"))
    .collect();
    if rest.is_empty() {
        format!("Plan: {changes}")
    } else {
        format!("Plan: {changes} ({})", rest.join(", "))
    }
}

pub(crate) fn diff_json(d: &PropDiff) -> Value {
    json!({
        "property": d.property,
        "old": d.old.as_ref().map(props::json),
        "new": d.new.as_ref().map(props::json),
        "forcesReplacement": d.forces_replacement,
        "newName": d.new_name,
    })
}

fn step_json(step: &Step) -> Value {
    let inputs: serde_json::Map<String, Value> = step
        .inputs
        .iter()
        .map(|(k, p)| (k.clone(), props::json(p)))
        .collect();
    json!({
        "name": step.name,
        "type": step.ty,
        "provider": step.provider,
        "op": step.kind().as_str(),
        "renamedFrom": step.renamed_from,
        "deleteBeforeReplace": step.deletes_first(),
        "deleteBeforeReplaceReason": step.delete_first().as_ref().map(|w| w.to_string()),
        "readDuringUp": step.reads_during_apply(),
        "inputs": inputs,
        "diffs": step.diffs.iter().map(diff_json).collect::<Vec<_>>(),
    })
}

/// The plan as JSON (`preview --json`).
pub fn plan_json(plan: &Plan) -> Value {
    let counts = plan.counts();
    let summary: serde_json::Map<String, Value> = counts
        .iter()
        .map(|(k, v)| (k.as_str().to_string(), json!(v)))
        .collect();
    json!({
        "steps": plan.steps.iter().map(step_json).collect::<Vec<_>>(),
        "outputs": plan.outputs.iter().map(|o| (o.name.clone(), props::json(&o.value))).collect::<serde_json::Map<_, _>>(),
        "summary": summary,
    })
}

/// Drift found by `refresh`.
pub fn drift_text(drifts: &[Drift]) -> String {
    if drifts.is_empty() {
        return "No drift: every resource matches the state.\n".into();
    }
    let mut out = String::new();
    for d in drifts {
        match &d.changes {
            None => {
                let _ = writeln!(out, "  -  {} ({}) no longer exists", d.name, d.ty);
            }
            Some(changes) => {
                let _ = writeln!(out, "  ~  {} ({}) has drifted", d.name, d.ty);
                for c in changes {
                    push_lines(&mut out, &diff_lines(c, ""), colored());
                }
            }
        }
    }
    out
}

/// A stack output's value for display: masked where secret (whole, or inside), unless
/// `show_secrets`, and then plain.
pub fn output_value(value: &Value, secret: bool, show_secrets: bool) -> Value {
    match (secret, show_secrets) {
        (_, true) => props::plain(value),
        (true, false) => Value::String("[secret]".into()),
        (false, false) => props::masked(value),
    }
}
