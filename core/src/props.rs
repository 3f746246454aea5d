//! Property maps and their three encodings: as the planner sees them (maybe unknown, maybe
//! secret), as providers see them (plain JSON), and as the state stores them (secret values
//! wrapped so they can be told apart and kept out of every display).

use serde_json::{Map, Value};

use crate::provider::{Prop, PropMap};

/// The key that marks a secret value in the state's JSON.
pub(crate) const SECRET_KEY: &str = cairn_state::SECRET_MARKER;

/// Plain JSON for a provider call. `None` if any property is still unknown.
pub(crate) fn to_plain(props: &PropMap) -> Option<Value> {
    let mut out = Map::new();
    for (k, p) in props {
        out.insert(k.clone(), p.value.clone()?);
    }
    Some(Value::Object(out))
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
    match v.as_object() {
        Some(o) if o.len() == 1 && o.contains_key(SECRET_KEY) => {
            crate::redact::remember(&o[SECRET_KEY]);
            (o[SECRET_KEY].clone(), true)
        }
        _ => (v.clone(), false),
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
            let secret = like.get(k).is_some_and(|p| p.secret);
            (
                k.clone(),
                Prop {
                    value: Some(v.clone()),
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
        Some(v) => v.to_string(),
    }
}

/// How a value appears in `--json` output: secrets masked, unknowns as a marker.
pub(crate) fn json(prop: &Prop) -> Value {
    if prop.secret {
        return Value::String("[secret]".into());
    }
    match &prop.value {
        None => Value::String("(known after apply)".into()),
        Some(v) => v.clone(),
    }
}
