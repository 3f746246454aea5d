//! Redaction where text reaches a person or a log: every secret value this process has seen
//! (the program's secret configuration and inputs, the state's secret records) is replaced by
//! `[secret]` in errors, logs and JSON events, whichever part of Cairn produced the text (a
//! provider error quoting an input back, a serde error naming a value, a check message).
//!
//! Short secrets are replaced only where they stand as a word of their own: replacing every
//! `ab` inside other words would make messages unreadable and reveal the secret by the gaps.

use std::collections::BTreeSet;
use std::sync::{Mutex, MutexGuard};

use serde_json::Value;

use crate::provider::PropMap;

/// Below this length a secret is replaced only as a whole word.
const SHORT: usize = 4;

static KNOWN: Mutex<BTreeSet<String>> = Mutex::new(BTreeSet::new());

fn known() -> MutexGuard<'static, BTreeSet<String>> {
    KNOWN.lock().unwrap_or_else(|e| e.into_inner())
}

/// Remembers every text inside a secret value (each string and number in it).
pub(crate) fn remember(value: &Value) {
    fn leaves(v: &Value, out: &mut BTreeSet<String>) {
        match v {
            Value::String(s) if !s.is_empty() => {
                out.insert(s.clone());
                // As JSON shows it too, escapes and all.
                let quoted = Value::String(s.clone()).to_string();
                out.insert(quoted[1..quoted.len() - 1].to_string());
            }
            Value::Number(n) => {
                out.insert(n.to_string());
            }
            Value::Array(a) => a.iter().for_each(|v| leaves(v, out)),
            Value::Object(o) => o.values().for_each(|v| leaves(v, out)),
            _ => {}
        }
    }
    leaves(value, &mut known());
}

/// Remembers the secret properties of `props`.
pub(crate) fn remember_props(props: &PropMap) {
    for p in props.values() {
        match &p.value {
            Some(v) if p.secret => remember(v),
            // The secrets inside a value that is not secret as a whole.
            Some(v) => remember_outputs(v),
            None => {}
        }
    }
}

/// Remembers the values marked secret inside `outputs` (`{"@secret": …}`, at any depth): a
/// provider's outputs, or a property that holds secrets without being one.
pub(crate) fn remember_outputs(outputs: &Value) {
    if let Some(secret) = crate::props::wrapped(outputs) {
        return remember(secret);
    }
    match outputs {
        Value::Object(o) => o.values().for_each(remember_outputs),
        Value::Array(a) => a.iter().for_each(remember_outputs),
        _ => {}
    }
}

/// Remembers a secret given as text (a configuration value).
pub(crate) fn remember_text(text: &str) {
    remember(&Value::String(text.to_string()));
}

/// `text` with every secret seen so far replaced by `[secret]`, longest first (so a secret
/// containing another goes whole).
pub fn redact(text: &str) -> String {
    let known = known();
    if known.is_empty() {
        return text.to_string();
    }
    let mut secrets: Vec<&String> = known.iter().collect();
    secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
    let mut out = text.to_string();
    for s in secrets {
        out = if s.chars().count() < SHORT {
            replace_words(&out, s)
        } else {
            out.replace(s.as_str(), "[secret]")
        };
    }
    out
}

/// Replaces `word` where neither neighbour is a letter or digit.
fn replace_words(text: &str, word: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(word) {
        let before = rest[..at].chars().next_back();
        let after = rest[at + word.len()..].chars().next();
        let alone =
            !before.is_some_and(char::is_alphanumeric) && !after.is_some_and(char::is_alphanumeric);
        out.push_str(&rest[..at]);
        out.push_str(if alone { "[secret]" } else { word });
        rest = &rest[at + word.len()..];
    }
    out.push_str(rest);
    out
}

/// A writer for logs that redacts each record as a whole before it reaches stderr (the fmt
/// layer writes one record per writer it makes).
pub(crate) struct RedactingStderr;

pub(crate) struct RecordBuffer(Vec<u8>);

impl std::io::Write for RecordBuffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for RecordBuffer {
    fn drop(&mut self) {
        let text = String::from_utf8_lossy(&self.0);
        let _ = std::io::Write::write_all(&mut std::io::stderr(), redact(&text).as_bytes());
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for RedactingStderr {
    type Writer = RecordBuffer;
    fn make_writer(&'a self) -> RecordBuffer {
        RecordBuffer(Vec::new())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn every_secret_seen_is_redacted_and_a_short_one_only_as_a_word() {
        remember(&json!({"password": "hunter2-redact-test", "pin": "7h3", "port": 5432}));
        let text = redact(
            "invalid value 'hunter2-redact-test' for port 5432 (pin 7h3; 7h3x and x7h3 stay)",
        );
        assert_eq!(
            text,
            "invalid value '[secret]' for port [secret] (pin [secret]; 7h3x and x7h3 stay)"
        );
    }

    #[test]
    fn a_secret_is_redacted_as_json_quotes_it_too() {
        remember_text("quote\"and\\slash-redact-test");
        let json = json!({"error": "quote\"and\\slash-redact-test"}).to_string();
        assert!(
            !redact(&json).contains("slash-redact-test"),
            "{}",
            redact(&json)
        );
    }
}
