//! `Output<T>`: a value that may not be known yet.
//!
//! An output is a recipe, not a value: it names the resources it depends on and knows how to
//! compute itself from their outputs once they exist. The engine evaluates it twice: in the
//! plan, against the recorded state (resources about to be created or replaced are unknown
//! there), and again when the resource that consumes it is about to be created or updated, by
//! which time everything it depends on has finished. Secrecy travels with the value through
//! `map`, `zip` and `all`.

use std::collections::BTreeSet;
use std::fmt;
use std::sync::Arc;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

/// Index of a declared resource within its stack.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ResourceIdx(pub(crate) usize);

/// What an output evaluates to.
#[derive(Debug, Clone, PartialEq)]
pub enum Eval<T> {
    /// Known: the value.
    Known(T),
    /// Depends on something that does not exist yet: `(known after apply)`.
    Unknown,
    /// Cannot be computed: a required property left unset, a value of the wrong type.
    Failed(String),
}

/// An evaluated output: the value and whether it is secret.
#[derive(Debug, Clone, PartialEq)]
pub struct Resolved<T> {
    /// The value, or why there is none.
    pub value: Eval<T>,
    /// Whether it is secret (masked and sealed wherever it goes).
    pub secret: bool,
}

impl<T> Resolved<T> {
    fn map<U>(self, f: impl FnOnce(T) -> U) -> Resolved<U> {
        Resolved {
            value: match self.value {
                Eval::Known(v) => Eval::Known(f(v)),
                Eval::Unknown => Eval::Unknown,
                Eval::Failed(e) => Eval::Failed(e),
            },
            secret: self.secret,
        }
    }
}

/// Where outputs of resources come from during an evaluation.
pub trait Resolve {
    /// The outputs of a resource, or `None` while it is unknown (not created yet, or about to
    /// be replaced).
    fn outputs(&self, resource: ResourceIdx) -> Option<&Value>;
    /// A resource's name, for error messages.
    fn name(&self, resource: ResourceIdx) -> &str;
}

type EvalFn<T> = dyn Fn(&dyn Resolve) -> Resolved<T> + Send + Sync;

/// A value of type `T` that a resource produces, or a literal, or something computed from them.
pub struct Output<T> {
    deps: Arc<BTreeSet<ResourceIdx>>,
    eval: Arc<EvalFn<T>>,
    /// How the value is erased to a property, when that is not `eval`'s value serialised: a
    /// value built from outputs (`cairn::compose`, `cairn::json!`) wraps each secret where it
    /// sits, rather than being secret whole as its typed value is.
    erased: Option<Arc<EvalFn<Value>>>,
}

impl<T> Clone for Output<T> {
    fn clone(&self) -> Self {
        Output {
            deps: self.deps.clone(),
            eval: self.eval.clone(),
            erased: self.erased.clone(),
        }
    }
}

impl<T> fmt::Debug for Output<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Output")
            .field("depends_on", &self.deps)
            .finish_non_exhaustive()
    }
}

/// An unset output: a required property that was left to `Default::default()`. Evaluating it
/// fails, and the engine reports the resource and property.
impl<T: 'static> Default for Output<T> {
    fn default() -> Self {
        Output::failed("required property is not set")
    }
}

impl<T: Clone + Send + Sync + 'static> From<T> for Output<T> {
    fn from(value: T) -> Self {
        Output::new(value)
    }
}

impl From<&str> for Output<String> {
    fn from(value: &str) -> Self {
        Output::new(value.to_string())
    }
}

impl<T: 'static> Output<T> {
    fn from_fn(
        deps: BTreeSet<ResourceIdx>,
        eval: impl Fn(&dyn Resolve) -> Resolved<T> + Send + Sync + 'static,
    ) -> Self {
        Output {
            deps: Arc::new(deps),
            eval: Arc::new(eval),
            erased: None,
        }
    }

    /// This output, erased to a property by `erased` instead of by serialising its value.
    pub(crate) fn erased_by(
        mut self,
        erased: impl Fn(&dyn Resolve) -> Resolved<Value> + Send + Sync + 'static,
    ) -> Self {
        self.erased = Some(Arc::new(erased));
        self
    }

    /// A known literal.
    pub fn new(value: T) -> Self
    where
        T: Clone + Send + Sync,
    {
        Output::from_fn(BTreeSet::new(), move |_| Resolved {
            value: Eval::Known(value.clone()),
            secret: false,
        })
    }

    /// A known literal that must never be shown: secret everywhere it flows.
    pub fn secret_value(value: T) -> Self
    where
        T: Clone + Send + Sync,
    {
        Output::new(value).secret()
    }

    /// An output that can never be computed, with the reason.
    pub fn failed(reason: impl Into<String>) -> Self {
        let reason = reason.into();
        Output::from_fn(BTreeSet::new(), move |_| Resolved {
            value: Eval::Failed(reason.clone()),
            secret: false,
        })
    }

    /// The field `field` of a resource's outputs.
    pub(crate) fn of_resource(resource: ResourceIdx, field: &'static str) -> Self
    where
        T: DeserializeOwned,
    {
        Output::from_fn(BTreeSet::from([resource]), move |r| {
            // An output the provider made secret (a generated password) stays secret in
            // everything made from it.
            let mut secret = false;
            let value = match r.outputs(resource) {
                None => Eval::Unknown,
                Some(outputs) => match outputs.get(field) {
                    None | Some(Value::Null) if !accepts_null::<T>() => Eval::Failed(format!(
                        "resource '{}' has no output '{field}'",
                        r.name(resource)
                    )),
                    v => {
                        let (v, is_secret) =
                            crate::props::value_from_state(v.unwrap_or(&Value::Null));
                        secret = is_secret;
                        match T::deserialize(&v) {
                            Ok(v) => Eval::Known(v),
                            Err(e) => Eval::Failed(format!(
                                "output '{field}' of resource '{}' has an unexpected type: {e}",
                                r.name(resource)
                            )),
                        }
                    }
                },
            };
            Resolved { value, secret }
        })
    }

    /// Marks this output secret: it is encrypted in the state and masked in every display.
    pub fn secret(self) -> Self {
        let inner = self.eval;
        Output::from_fn((*self.deps).clone(), move |r| Resolved {
            secret: true,
            ..inner(r)
        })
    }

    /// Transforms the value once it is known. The closure runs during preview when its inputs
    /// are already known, and again during `up`; it must not have side effects.
    pub fn map<U: 'static>(&self, f: impl Fn(T) -> U + Send + Sync + 'static) -> Output<U> {
        let inner = self.eval.clone();
        Output::from_fn((*self.deps).clone(), move |r| inner(r).map(&f))
    }

    /// Combines two outputs; known only when both are, secret when either is.
    pub fn zip<U: 'static>(&self, other: &Output<U>) -> Output<(T, U)> {
        let (a, b) = (self.eval.clone(), other.eval.clone());
        let deps = self.deps.union(&other.deps).copied().collect();
        Output::from_fn(deps, move |r| {
            let (x, y) = (a(r), b(r));
            let secret = x.secret || y.secret;
            let value = match (x.value, y.value) {
                (Eval::Failed(e), _) | (_, Eval::Failed(e)) => Eval::Failed(e),
                (Eval::Known(x), Eval::Known(y)) => Eval::Known((x, y)),
                _ => Eval::Unknown,
            };
            Resolved { value, secret }
        })
    }

    /// Combines many outputs of one type into one output of a vector.
    pub fn all(outputs: impl IntoIterator<Item = Output<T>>) -> Output<Vec<T>> {
        let outputs: Vec<Output<T>> = outputs.into_iter().collect();
        let deps = outputs
            .iter()
            .flat_map(|o| o.deps.iter().copied())
            .collect();
        Output::from_fn(deps, move |r| {
            let mut values = Vec::with_capacity(outputs.len());
            let mut secret = false;
            let mut unknown = false;
            for o in &outputs {
                let res = (o.eval)(r);
                secret |= res.secret;
                match res.value {
                    Eval::Known(v) => values.push(v),
                    Eval::Unknown => unknown = true,
                    Eval::Failed(e) => {
                        return Resolved {
                            value: Eval::Failed(e),
                            secret,
                        };
                    }
                }
            }
            let value = if unknown {
                Eval::Unknown
            } else {
                Eval::Known(values)
            };
            Resolved { value, secret }
        })
    }

    /// The resources this output depends on.
    pub fn dependencies(&self) -> impl Iterator<Item = ResourceIdx> + '_ {
        self.deps.iter().copied()
    }

    /// Evaluates against `resolver`.
    pub fn evaluate(&self, resolver: &dyn Resolve) -> Resolved<T> {
        (self.eval)(resolver)
    }
}

impl<T: Serialize + 'static> Output<T> {
    /// The same output as a JSON value, as the engine and providers see properties.
    pub fn erase(&self) -> Output<Value> {
        if let Some(erased) = &self.erased {
            let erased = erased.clone();
            return Output::from_fn((*self.deps).clone(), move |r| erased(r));
        }
        let inner = self.eval.clone();
        Output::from_fn((*self.deps).clone(), move |r| {
            let res = inner(r);
            let secret = res.secret;
            match res.value {
                Eval::Known(v) => match serde_json::to_value(v) {
                    Ok(v) => Resolved {
                        value: Eval::Known(v),
                        secret,
                    },
                    Err(e) => Resolved {
                        value: Eval::Failed(format!("cannot serialise value: {e}")),
                        secret,
                    },
                },
                Eval::Unknown => Resolved {
                    value: Eval::Unknown,
                    secret,
                },
                Eval::Failed(e) => Resolved {
                    value: Eval::Failed(e),
                    secret,
                },
            }
        })
    }
}

/// True when `T` deserialises from JSON null (an `Option`), so a missing output field is `None`
/// rather than an error.
fn accepts_null<T: DeserializeOwned>() -> bool {
    T::deserialize(&Value::Null).is_ok()
}

mod compose;

pub use compose::{Composer, FormatArg, compose, json_document};

#[cfg(test)]
mod tests;
