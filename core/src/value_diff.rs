//! How one property is shown in a plan: short values inline (`old → new`), nested values
//! (policy documents, container definitions) pretty-printed and diffed by the paths that
//! changed (`container_definitions[0].image`), long text diffed by line. Secrets are never
//! looked into: a secret property is `[secret]`, whatever it holds, and so is a secret inside
//! a value (`props::masked`), the rest of the value shown.

use serde_json::Value;

use crate::plan::PropDiff;
use crate::props;
use crate::provider::Prop;

/// What a line says happened, which is also how it is marked and coloured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mark {
    Add,
    Remove,
    Change,
    /// Context: unchanged lines around a change, and every property with `--diff`.
    Same,
}

impl Mark {
    pub fn symbol(self) -> char {
        match self {
            Mark::Add => '+',
            Mark::Remove => '-',
            Mark::Change => '~',
            Mark::Same => ' ',
        }
    }
}

/// One line of a property's rendering, relative to the property's indentation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Line {
    pub mark: Mark,
    pub depth: usize,
    pub text: String,
}

impl Line {
    /// The line as shown, without colour: indented by depth, then its mark.
    pub fn text(&self) -> String {
        let line = format!(
            "{}{} {}",
            "  ".repeat(self.depth),
            self.mark.symbol(),
            self.text
        );
        line.trim_end().to_string()
    }

    fn new(mark: Mark, depth: usize, text: impl Into<String>) -> Line {
        Line {
            mark,
            depth,
            text: text.into(),
        }
    }
}

/// Nested values whose one-line form is longer than this are pretty-printed.
const LONG: usize = 60;

/// Whether `path: old → new` reads well on one line; otherwise old and new get lines of their
/// own, one under the other, so the difference lines up.
fn fits(path: &str, old: &str, new: &str) -> bool {
    path.len() + old.len() + new.len() <= 80
}

/// A property as declared (a create's input, an unchanged one with `--diff`).
pub(crate) fn value_lines(mark: Mark, name: &str, prop: &Prop) -> Vec<Line> {
    let Some(value) = shown(prop) else {
        return vec![Line::new(
            mark,
            0,
            format!("{name}: {}", props::display(prop)),
        )];
    };
    let value = &props::masked(value);
    match structured(value).filter(|t| t.to_string().len() > LONG) {
        Some(tree) => {
            let mut lines = vec![Line::new(mark, 0, format!("{name}:"))];
            lines.extend(pretty(&tree).map(|l| Line::new(mark, 1, l)));
            lines
        }
        None => match value.as_str().filter(|s| s.contains('\n')) {
            Some(text) => {
                let mut lines = vec![Line::new(mark, 0, format!("{name}: |"))];
                lines.extend(text.lines().map(|l| Line::new(mark, 1, l)));
                lines
            }
            None => vec![Line::new(mark, 0, format!("{name}: {value}"))],
        },
    }
}

/// A changed property. `note` (why it matters: it forces a replacement) goes on its first line.
pub(crate) fn diff_lines(d: &PropDiff, note: &str) -> Vec<Line> {
    let name = &d.property;
    let (old, new) = match (&d.old, &d.new) {
        (None, Some(n)) => return noted(value_lines(Mark::Add, name, n), note),
        (Some(o), None) => return noted(value_lines(Mark::Remove, name, o), note),
        (None, None) => return Vec::new(),
        (Some(o), Some(n)) => (o, n),
    };
    let inline = || {
        vec![Line::new(
            Mark::Change,
            0,
            format!(
                "{name}: {} → {}{note}",
                props::display(old),
                props::display(new)
            ),
        )]
    };
    let (Some(o), Some(n)) = (shown(old), shown(new)) else {
        return inline();
    };
    let (o, n) = &props::masked_pair(o, n);
    if let (Some(o), Some(n)) = (structured(o), structured(n)) {
        let mut changes = Vec::new();
        paths(name.clone(), &o, &n, &mut changes);
        if changes.len() == 1 {
            return noted(changes.remove(0), note);
        }
        let mut lines = vec![Line::new(Mark::Change, 0, format!("{name}:{note}"))];
        for change in changes {
            lines.extend(change.into_iter().map(|l| Line {
                depth: l.depth + 1,
                ..l
            }));
        }
        return lines;
    }
    match (o.as_str(), n.as_str()) {
        (Some(a), Some(b)) if a.contains('\n') || b.contains('\n') => {
            let mut lines = vec![Line::new(Mark::Change, 0, format!("{name}:{note}"))];
            lines.extend(text_diff(a, b).into_iter().map(|l| Line { depth: 1, ..l }));
            lines
        }
        (Some(_), Some(_)) if !fits(name, &o.to_string(), &n.to_string()) => vec![
            Line::new(Mark::Change, 0, format!("{name}:{note}")),
            Line::new(Mark::Remove, 1, o.to_string()),
            Line::new(Mark::Add, 1, n.to_string()),
        ],
        _ => inline(),
    }
}

fn noted(mut lines: Vec<Line>, note: &str) -> Vec<Line> {
    if let Some(first) = lines.first_mut() {
        first.text.push_str(note);
    }
    lines
}

/// The value to look into: none for a secret or one not known yet.
fn shown(prop: &Prop) -> Option<&Value> {
    prop.value.as_ref().filter(|_| !prop.secret)
}

/// An object or array, or a string holding one (a policy document is JSON text).
fn structured(v: &Value) -> Option<Value> {
    match v {
        Value::Object(_) | Value::Array(_) => Some(v.clone()),
        Value::String(s) if s.trim_start().starts_with(['{', '[']) => {
            serde_json::from_str::<Value>(s)
                .ok()
                .filter(|v| v.is_object() || v.is_array())
        }
        _ => None,
    }
}

fn pretty(v: &Value) -> impl Iterator<Item = String> {
    serde_json::to_string_pretty(v)
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect::<Vec<_>>()
        .into_iter()
}

/// The lines of each changed leaf, named by its path from the property
/// (`policy.Statement[0].Sid`): one line, or for long values the old and the new under it.
fn paths(path: String, old: &Value, new: &Value, out: &mut Vec<Vec<Line>>) {
    let one = |mark, text: String| vec![Line::new(mark, 0, text)];
    match (old, new) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, v) in a {
                let p = format!("{path}{}", key(k));
                match b.get(k) {
                    Some(w) => paths(p, v, w, out),
                    None => out.push(one(Mark::Remove, format!("{p}: {v}"))),
                }
            }
            for (k, w) in b.iter().filter(|(k, _)| !a.contains_key(*k)) {
                out.push(one(Mark::Add, format!("{path}{}: {w}", key(k))));
            }
        }
        (Value::Array(a), Value::Array(b)) => {
            for (i, (v, w)) in a.iter().zip(b).enumerate() {
                paths(format!("{path}[{i}]"), v, w, out);
            }
            for (i, v) in a.iter().enumerate().skip(b.len()) {
                out.push(one(Mark::Remove, format!("{path}[{i}]: {v}")));
            }
            for (i, w) in b.iter().enumerate().skip(a.len()) {
                out.push(one(Mark::Add, format!("{path}[{i}]: {w}")));
            }
        }
        (a, b) if a != b => {
            let (a, b) = (a.to_string(), b.to_string());
            out.push(if !fits(&path, &a, &b) {
                vec![
                    Line::new(Mark::Change, 0, format!("{path}:")),
                    Line::new(Mark::Remove, 1, a),
                    Line::new(Mark::Add, 1, b),
                ]
            } else {
                one(Mark::Change, format!("{path}: {a} → {b}"))
            });
        }
        _ => {}
    }
}

/// A path step for an object key: `.Sid`, or `["a key"]` for one that is not a plain word.
fn key(k: &str) -> String {
    let plain = !k.is_empty()
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if plain {
        format!(".{k}")
    } else {
        format!("[{}]", Value::String(k.to_string()))
    }
}

/// The changed lines of two texts, with two lines of context around each change.
fn text_diff(old: &str, new: &str) -> Vec<Line> {
    let diff = similar::TextDiff::from_lines(old, new);
    let mut lines = Vec::new();
    for (i, group) in diff.grouped_ops(2).iter().enumerate() {
        if i > 0 {
            lines.push(Line::new(Mark::Same, 0, "…"));
        }
        for op in group {
            for change in diff.iter_changes(op) {
                let mark = match change.tag() {
                    similar::ChangeTag::Delete => Mark::Remove,
                    similar::ChangeTag::Insert => Mark::Add,
                    similar::ChangeTag::Equal => Mark::Same,
                };
                let text = change.value().trim_end_matches(['\n', '\r']).to_string();
                lines.push(Line::new(mark, 0, text));
            }
        }
    }
    lines
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn known(v: Value) -> Prop {
        Prop::known(v)
    }

    fn change(property: &str, old: Value, new: Value) -> PropDiff {
        PropDiff {
            property: property.into(),
            old: Some(known(old)),
            new: Some(known(new)),
            forces_replacement: false,
            new_name: false,
        }
    }

    fn text(lines: &[Line]) -> String {
        lines.iter().map(|l| format!("{}\n", l.text())).collect()
    }

    #[test]
    fn a_nested_change_names_the_path_that_changed() {
        let old =
            json!([{"name": "web", "image": "repo:v1", "portMappings": [{"containerPort": 80}]}]);
        let new =
            json!([{"name": "web", "image": "repo:v2", "portMappings": [{"containerPort": 80}]}]);
        let lines = diff_lines(
            &change("container_definitions", old, new),
            "  (forces replacement)",
        );
        assert_eq!(
            text(&lines),
            "~ container_definitions[0].image: \"repo:v1\" → \"repo:v2\"  (forces replacement)\n"
        );
    }

    #[test]
    fn a_long_nested_value_shows_old_and_new_on_lines_of_their_own() {
        let image = |tag: &str| json!([{"image": format!("123456789012.dkr.ecr.us-east-2.amazonaws.com/web:{tag}")}]);
        let lines = diff_lines(
            &change("containers", image("v1"), image("v2")),
            "  (forces replacement)",
        );
        insta::assert_snapshot!(text(&lines), @r#"
        ~ containers[0].image:  (forces replacement)
          - "123456789012.dkr.ecr.us-east-2.amazonaws.com/web:v1"
          + "123456789012.dkr.ecr.us-east-2.amazonaws.com/web:v2"
        "#);
    }

    #[test]
    fn a_policy_document_held_as_text_is_diffed_as_the_document() {
        let doc = |action: &str, sid: Option<&str>| {
            let mut statement = json!({"Effect": "Allow", "Action": [action]});
            if let Some(sid) = sid {
                statement["Sid"] = json!(sid);
            }
            Value::String(json!({"Version": "2012-10-17", "Statement": [statement]}).to_string())
        };
        let lines = diff_lines(
            &change(
                "policy",
                doc("ecr:BatchGetImage", Some("Pull")),
                doc("ecr:ListImages", None),
            ),
            "",
        );
        insta::assert_snapshot!(text(&lines), @r#"
        ~ policy:
          ~ policy.Statement[0].Action[0]: "ecr:BatchGetImage" → "ecr:ListImages"
          - policy.Statement[0].Sid: "Pull"
        "#);
    }

    #[test]
    fn a_created_document_is_pretty_printed() {
        let lines = value_lines(
            Mark::Add,
            "policy",
            &known(
                json!({"Version": "2012-10-17", "Statement": [{"Sid": "Pull", "Effect": "Allow"}]}),
            ),
        );
        insta::assert_snapshot!(text(&lines), @r#"
        + policy:
          + {
          +   "Version": "2012-10-17",
          +   "Statement": [
          +     {
          +       "Sid": "Pull",
          +       "Effect": "Allow"
          +     }
          +   ]
          + }
        "#);
    }

    #[test]
    fn long_text_is_diffed_by_line_with_context() {
        let old = "#!/bin/sh\nset -e\napt-get update\napt-get install -y nginx\nsystemctl start nginx\necho done\n";
        let new = "#!/bin/sh\nset -e\napt-get update\napt-get install -y caddy\nsystemctl start caddy\necho done\n";
        let lines = diff_lines(&change("user_data", json!(old), json!(new)), "");
        insta::assert_snapshot!(text(&lines), @r"
        ~ user_data:
            set -e
            apt-get update
          - apt-get install -y nginx
          - systemctl start nginx
          + apt-get install -y caddy
          + systemctl start caddy
            echo done
        ");
    }

    #[test]
    fn a_secret_is_never_looked_into() {
        let mut d = change(
            "password",
            json!({"a": "hunter22"}),
            json!({"a": "hunter33"}),
        );
        d.old.as_mut().unwrap().secret = true;
        d.new.as_mut().unwrap().secret = true;
        assert_eq!(
            text(&diff_lines(&d, "")),
            "~ password: [secret] → [secret]\n"
        );
    }

    #[test]
    fn a_short_value_changes_inline_and_an_unknown_one_says_so() {
        let d = change("desired_count", json!(2), json!(3));
        assert_eq!(text(&diff_lines(&d, "")), "~ desired_count: 2 → 3\n");
        let d = PropDiff {
            new: Some(Prop {
                value: None,
                secret: false,
            }),
            ..change("vpc_id", json!("vpc-1"), json!(null))
        };
        assert_eq!(
            text(&diff_lines(&d, "")),
            "~ vpc_id: \"vpc-1\" → (known after apply)\n"
        );
    }
}
