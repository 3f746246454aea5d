//! Property maps and their three encodings: as the planner sees them (maybe unknown, maybe
//! secret), as providers see them (plain JSON), and as the state stores them (secret values
//! wrapped so they can be told apart and kept out of every display).
//!
//! A secret can also sit inside a value that is not secret as a whole (one environment
//! variable of a container, made with `cairn::compose` or `cairn::json!`): it is wrapped where
//! it is, `{"@secret": …}`, in the planner's value as in the state's, so that only it is
//! masked and sealed. Providers never see the wrapping (`to_plain`), and what they read back
//! is wrapped again where the declared value was (`from_plain`).

use serde_json::{Map, Value};

use crate::provider::{Prop, PropMap};

/// The key that marks a secret value in the state's JSON.
pub(crate) const SECRET_KEY: &str = cairn_state::SECRET_MARKER;

/// Plain JSON for a provider call. `None` if any property is still unknown.
pub(crate) fn to_plain(props: &PropMap) -> Option<Value> {
    let mut out = Map::new();
    for (k, p) in props {
        out.insert(k.clone(), plain(p.value.as_ref()?));
    }
    Some(Value::Object(out))
}

/// The secret a value holds whole, if it is one wrapped (`{"@secret": v}`).
pub(crate) fn wrapped(v: &Value) -> Option<&Value> {
    match v.as_object() {
        Some(o) if o.len() == 1 => o.get(SECRET_KEY),
        _ => None,
    }
}

/// Whether `v` is, or holds somewhere inside it, a wrapped secret.
pub(crate) fn holds_secret(v: &Value) -> bool {
    wrapped(v).is_some()
        || match v {
            Value::Object(o) => o.values().any(holds_secret),
            Value::Array(a) => a.iter().any(holds_secret),
            _ => false,
        }
}

/// `v` without the wrapping of the secrets inside it, as a provider takes it.
pub(crate) fn plain(v: &Value) -> Value {
    if let Some(inner) = wrapped(v) {
        return plain(inner);
    }
    match v {
        Value::Object(o) => Value::Object(o.iter().map(|(k, v)| (k.clone(), plain(v))).collect()),
        Value::Array(a) => Value::Array(a.iter().map(plain).collect()),
        other => other.clone(),
    }
}

/// `read` (plain, from the cloud) wrapped where `like` (what was declared or recorded) wraps
/// a secret: the same places, whatever they now hold.
pub(crate) fn wrapped_like(read: &Value, like: &Value) -> Value {
    if wrapped(like).is_some() {
        return value_to_state(&plain(read), true);
    }
    match (read, like) {
        (Value::Object(r), Value::Object(l)) => Value::Object(
            r.iter()
                .map(|(k, v)| {
                    let v = match l.get(k) {
                        Some(l) => wrapped_like(v, l),
                        None => v.clone(),
                    };
                    (k.clone(), v)
                })
                .collect(),
        ),
        (Value::Array(r), Value::Array(l)) => Value::Array(
            r.iter()
                .enumerate()
                .map(|(i, v)| match l.get(i) {
                    Some(l) => wrapped_like(v, l),
                    None => v.clone(),
                })
                .collect(),
        ),
        _ => read.clone(),
    }
}

/// What a person may see of `v`: each secret inside it as `[secret]`.
pub(crate) fn masked(v: &Value) -> Value {
    masked_pair(v, v).0
}

/// What a person may see of a change from `old` to `new`: each secret inside them as
/// `[secret]`, and one that changed, on the new side, as `[changed secret]`, so that the diff
/// still says where it changed.
pub(crate) fn masked_pair(old: &Value, new: &Value) -> (Value, Value) {
    const SECRET: &str = "[secret]";
    match (wrapped(old), wrapped(new)) {
        (Some(a), Some(b)) => {
            let b = if a == b { SECRET } else { "[changed secret]" };
            return (Value::String(SECRET.into()), Value::String(b.into()));
        }
        (Some(_), None) => return (Value::String(SECRET.into()), masked_pair(new, new).0),
        (None, Some(_)) => return (masked_pair(old, old).0, Value::String(SECRET.into())),
        (None, None) => {}
    }
    match (old, new) {
        (Value::Object(a), Value::Object(b)) => {
            let mut ma = Map::new();
            let mut mb = Map::new();
            for (k, v) in a {
                let (x, y) = match b.get(k) {
                    Some(w) => masked_pair(v, w),
                    None => (masked(v), Value::Null),
                };
                ma.insert(k.clone(), x);
                if b.contains_key(k) {
                    mb.insert(k.clone(), y);
                }
            }
            for (k, w) in b.iter().filter(|(k, _)| !a.contains_key(*k)) {
                mb.insert(k.clone(), masked(w));
            }
            (Value::Object(ma), Value::Object(mb))
        }
        (Value::Array(a), Value::Array(b)) => {
            let n = a.len().max(b.len());
            let mut ma = Vec::new();
            let mut mb = Vec::new();
            for i in 0..n {
                match (a.get(i), b.get(i)) {
                    (Some(v), Some(w)) => {
                        let (x, y) = masked_pair(v, w);
                        ma.push(x);
                        mb.push(y);
                    }
                    (Some(v), None) => ma.push(masked(v)),
                    (None, Some(w)) => mb.push(masked(w)),
                    (None, None) => {}
                }
            }
            (Value::Array(ma), Value::Array(mb))
        }
        (a, b) => (a.clone(), b.clone()),
    }
}

/// One value in the state's encoding: a secret wrapped as `{"@secret": value}`.
pub(crate) fn value_to_state(v: &Value, secret: bool) -> Value {
    if secret {
        Value::Object(Map::from_iter([(SECRET_KEY.to_string(), v.clone())]))
    } else {
        v.clone()
    }
}

/// One value read back from the state's encoding, and whether it is secret.
/// A secret read back is remembered for redaction (`redact.rs`).
pub(crate) fn value_from_state(v: &Value) -> (Value, bool) {
    match wrapped(v) {
        Some(secret) => {
            crate::redact::remember(secret);
            (secret.clone(), true)
        }
        None => {
            // The secrets inside a value that is not secret as a whole.
            crate::redact::remember_outputs(v);
            (v.clone(), false)
        }
    }
}

/// The state's encoding of a property map.
pub(crate) fn to_state(props: &PropMap) -> Value {
    let out: Map<String, Value> = props
        .iter()
        .map(|(k, p)| {
            let v = p.value.clone().unwrap_or(Value::Null);
            (k.clone(), value_to_state(&v, p.secret))
        })
        .collect();
    Value::Object(out)
}

/// Reads the state's encoding of a property map back.
pub(crate) fn from_state(value: &Value) -> PropMap {
    let Value::Object(map) = value else {
        return PropMap::new();
    };
    map.iter()
        .map(|(k, v)| {
            let (value, secret) = value_from_state(v);
            let prop = Prop {
                value: Some(value),
                secret,
            };
            (k.clone(), prop)
        })
        .collect()
}

/// Plain properties (from a provider's read) carrying over secrecy from `like`.
pub(crate) fn from_plain(value: &Value, like: &PropMap) -> PropMap {
    let Value::Object(map) = value else {
        return PropMap::new();
    };
    map.iter()
        .map(|(k, v)| {
            let like = like.get(k);
            let secret = like.is_some_and(|p| p.secret);
            let value = match like.and_then(|p| p.value.as_ref()) {
                Some(declared) if !secret => wrapped_like(v, declared),
                _ => v.clone(),
            };
            (
                k.clone(),
                Prop {
                    value: Some(value),
                    secret,
                },
            )
        })
        .collect()
}

/// How a value is shown to a person: secrets masked, unknowns spelled out.
pub(crate) fn display(prop: &Prop) -> String {
    if prop.secret {
        return "[secret]".to_string();
    }
    match &prop.value {
        None => "(known after apply)".to_string(),
        Some(v) => masked(v).to_string(),
    }
}

/// How a value appears in `--json` output: secrets masked, unknowns as a marker.
pub(crate) fn json(prop: &Prop) -> Value {
    if prop.secret {
        return Value::String("[secret]".into());
    }
    match &prop.value {
        None => Value::String("(known after apply)".into()),
        Some(v) => masked(v),
    }
}
