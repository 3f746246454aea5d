//! The machine-readable story of `up`, `destroy` and `refresh` with `--json`: one JSON object
//! per line (NDJSON), each with an `event` field saying which kind it is. The README documents
//! the schema; secrets are masked as in every other display, and errors arrive redacted.

use serde_json::{Value, json};

use crate::display;
use crate::engine::Drift;
use crate::execute::{Event, Execution};
use crate::plan::Plan;

/// Writes one event as one line on stdout (whole, so lines never interleave).
pub(crate) fn emit(event: Value) {
    println!("{}", crate::redact::redact(&event.to_string()));
}

/// What the command will do: the plan's steps and counts, as `preview --json` shows them.
pub(crate) fn plan(command: &str, stack: &str, plan: &Plan) -> Value {
    let mut v = json!({"event": "plan", "command": command, "stack": stack});
    if let (Value::Object(head), Value::Object(body)) = (&mut v, display::plan_json(plan)) {
        head.extend(body);
    }
    v
}

/// An operation starting, finishing or failing.
pub(crate) fn operation(e: &Event) -> Value {
    let kind = if e.action.is_start() {
        "started"
    } else if e.error.is_some() {
        "failed"
    } else {
        "finished"
    };
    let mut v = json!({
        "event": kind,
        "resource": e.name,
        "type": e.ty,
        "action": e.action.as_str(),
    });
    if !e.action.is_start() {
        v["elapsed"] = json!((e.elapsed.as_secs_f64() * 1000.0).round() / 1000.0);
    }
    if let Some(error) = &e.error {
        v["error"] = json!(error);
    }
    v
}

/// Something the command says beside the operations: `level` is `info`, `warning` or `error`.
pub(crate) fn diagnostic(level: &str, message: &str) -> Value {
    json!({"event": "diagnostic", "level": level, "message": message})
}

/// One resource `refresh` found changed or gone.
pub(crate) fn drift(d: &Drift) -> Value {
    json!({
        "event": "drift",
        "resource": d.name,
        "type": d.ty,
        "gone": d.changes.is_none(),
        "changes": d.changes.iter().flatten().map(display::diff_json).collect::<Vec<_>>(),
    })
}

/// How a run ended: what it did, what failed, what it left, the outputs, the exit code.
pub(crate) fn summary(command: &str, exec: &Execution, exit_code: u8) -> Value {
    let outputs: serde_json::Map<String, Value> = exec
        .outputs
        .iter()
        .map(|(n, v, secret)| (n.clone(), display::output_value(v, *secret, false)))
        .collect();
    json!({
        "event": "summary",
        "command": command,
        "counts": exec.counts,
        "errors": exec.errors.iter().map(|e| e.to_string()).collect::<Vec<_>>(),
        "skipped": exec.skipped,
        "missing": exec.missing,
        "notStarted": exec.not_started.clone().unwrap_or_default(),
        "interrupted": exec.not_started.is_some(),
        "outputs": outputs,
        "exitCode": exit_code,
    })
}

/// How a `refresh` ended.
pub(crate) fn refresh_summary(
    drifted: usize,
    recorded: bool,
    errors: &[String],
    exit_code: u8,
) -> Value {
    json!({
        "event": "summary",
        "command": "refresh",
        "drifted": drifted,
        "recorded": recorded,
        "errors": errors,
        "exitCode": exit_code,
    })
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::execute::Action;

    fn event(action: Action, millis: u64, error: Option<&str>) -> Event {
        Event {
            name: "web".into(),
            ty: "aws:ecs/Service".into(),
            action,
            elapsed: Duration::from_millis(millis),
            error: error.map(str::to_string),
        }
    }

    #[test]
    fn operations_start_finish_and_fail_as_one_line_each() {
        let lines: Vec<String> = [
            event(Action::Creating, 0, None),
            event(Action::Created, 1234, None),
            event(
                Action::Failed,
                50,
                Some("creating 'web' (aws:ecs/Service): denied"),
            ),
        ]
        .iter()
        .map(|e| operation(e).to_string())
        .collect();
        insta::assert_snapshot!(lines.join("\n"), @r#"
        {"event":"started","resource":"web","type":"aws:ecs/Service","action":"creating"}
        {"event":"finished","resource":"web","type":"aws:ecs/Service","action":"created","elapsed":1.234}
        {"event":"failed","resource":"web","type":"aws:ecs/Service","action":"failed","elapsed":0.05,"error":"creating 'web' (aws:ecs/Service): denied"}
        "#);
    }

    #[test]
    fn a_summary_masks_secret_outputs() {
        let exec = Execution {
            outputs: vec![
                ("url".into(), json!("http://x"), false),
                ("token".into(), json!("hunter22"), true),
            ],
            ..Execution::default()
        };
        let line = summary("up", &exec, 0).to_string();
        assert!(line.contains(r#""token":"[secret]""#), "{line}");
        assert!(!line.contains("hunter22"));
    }
}
