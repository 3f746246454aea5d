//! Building one output from several without nesting `zip`s: text (`cairn::format!`), JSON
//! documents (`cairn::json!`), lists and tags, and the conversions a program reaches for
//! first.
//!
//! `cairn::json!` is `serde_json::json!` with outputs allowed anywhere in it: while the
//! document is built, each output serialises as a placeholder and is collected; the result is
//! an output that fills the placeholders in once every collected output is known (secret if
//! any of them is). Outside `cairn::json!` an output refuses to serialise, so it can never
//! slip into a document as something other than its value. `cairn::compose` does the same for
//! any serialisable value (a container definition), its outputs embedded as text.
//!
//! Both know where each output went, so a secret among them is secret where it sits: as a
//! resource's property, the value wraps that secret alone (`props.rs` says how it is masked
//! and sealed), and the plan shows the rest. Used as a typed value (`.map`), the whole value
//! is secret, since a closure's result cannot say where a secret went.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::fmt::Display;

use serde::de::DeserializeOwned;
use serde::{Serialize, Serializer};
use serde_json::Value;

use super::{Eval, Output, Resolve, Resolved};

/// A value `cairn::format!` can format: an output of something printable, or a printable
/// value.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be formatted by `cairn::format!`",
    label = "not an `Output` of something printable, nor a printable value",
    note = "give `cairn::format!` an `Output<T>` (or a value) whose `T` implements `Display`; \
            `.map(..)` an output of something else into one of text first"
)]
pub trait FormatArg {
    /// The value as text, once it is known.
    fn format_arg(&self) -> Output<String>;
}

impl<T: Display + 'static> FormatArg for Output<T> {
    fn format_arg(&self) -> Output<String> {
        self.map(|v| v.to_string())
    }
}

impl<T: Display + 'static> FormatArg for &Output<T> {
    fn format_arg(&self) -> Output<String> {
        self.map(|v| v.to_string())
    }
}

impl<T: Display + ?Sized> FormatArg for T {
    fn format_arg(&self) -> Output<String> {
        Output::new(self.to_string())
    }
}

/// Formats outputs (and values) into an output of text, as `format!` formats values:
/// `cairn::format!("{}:{}", repository.repository_url(), tag)`. Arguments are positional
/// (`{}`, `{:>8}`); the result is secret if any argument is.
#[macro_export]
macro_rules! __format {
    ($fmt:literal $(, $arg:expr)* $(,)?) => {{
        // Called as a function, not a method: a wrong argument is then the trait's error,
        // which says what to do.
        let parts: ::std::vec::Vec<$crate::Output<::std::string::String>> =
            ::std::vec![$($crate::FormatArg::format_arg(&$arg)),*];
        $crate::Output::all(parts).map(move |parts| {
            #[allow(unused_mut, unused_variables)]
            let mut parts = parts.into_iter();
            ::std::format!(
                $fmt,
                $({ let _ = ::std::stringify!($arg); parts.next().unwrap_or_default() }),*
            )
        })
    }};
}

/// A JSON document with outputs anywhere in it, as an output of the document (a policy that
/// names the ARNs it is about): `serde_json::json!`'s syntax, and any `Output<T>` of a
/// serialisable `T` where a value goes. Secret if any embedded output is.
///
/// ```
/// let arn: cairn::Output<String> = cairn::Output::new("arn:aws:s3:::assets".to_string());
/// let policy = cairn::json!({
///     "Version": "2012-10-17",
///     "Statement": [{ "Effect": "Allow", "Action": "s3:GetObject", "Resource": arn }],
/// });
/// # let _: cairn::Output<serde_json::Value> = policy;
/// ```
#[macro_export]
macro_rules! __json {
    ($($json:tt)+) => {
        $crate::__private::json_document(|| $crate::__private::serde_json::json!($($json)+))
    };
}

thread_local! {
    /// The outputs met while a `cairn::json!` document is built (`None` outside one).
    static EMBEDDED: RefCell<Option<Vec<Output<Value>>>> = const { RefCell::new(None) };
}

/// Where the `n`th embedded output goes, while the document is built.
fn placeholder(n: usize) -> String {
    format!("\u{1}cairn-output-{n}\u{1}")
}

/// The document `build` makes, with every output serialised in it filled in once known.
pub fn json_document(build: impl FnOnce() -> Value) -> Output<Value> {
    // Saved and put back: a `cairn::json!` inside another is an output the outer one embeds.
    let outer = EMBEDDED.replace(Some(Vec::new()));
    let document = build();
    let parts = EMBEDDED.replace(outer).unwrap_or_default();
    if parts.is_empty() {
        return Output::new(document);
    }
    let slots: BTreeMap<String, usize> = (0..parts.len()).map(|n| (placeholder(n), n)).collect();
    filled(document, slots, parts)
}

/// What [`compose`] gives its closure: outputs embedded where the value is built.
pub struct Composer {
    parts: Vec<Output<Value>>,
}

impl Composer {
    /// `output` as text where it goes (a field of text, or part of one: `format!("{}:5432",
    /// c.text(&host))`); filled in once known.
    pub fn text(&mut self, output: impl FormatArg) -> String {
        self.parts.push(output.format_arg().erase());
        text_placeholder(self.parts.len() - 1)
    }
}

/// Where the `n`th text of a [`compose`] goes.
fn text_placeholder(n: usize) -> String {
    format!("\u{1}cairn-text-{n}\u{1}")
}

/// A value built from outputs without nesting `zip`s: `build` makes it with each output
/// embedded as text (`c.text(&output)`), and the result is filled in once they are known. A
/// secret embedded stays secret where it sits: a container's environment variable from a
/// generated password is masked in the plan, the rest of the container shown.
///
/// ```
/// use std::collections::BTreeMap;
/// let password = cairn::Output::secret_value("hunter2hunter2".to_string());
/// let env: cairn::Output<BTreeMap<String, String>> = cairn::compose(|c| {
///     BTreeMap::from([
///         ("DB_HOST".to_string(), "db.internal".to_string()),
///         ("DB_PASSWORD".to_string(), c.text(&password)),
///     ])
/// });
/// ```
pub fn compose<T>(build: impl FnOnce(&mut Composer) -> T) -> Output<T>
where
    T: Serialize + DeserializeOwned + Clone + Send + Sync + 'static,
{
    let mut c = Composer { parts: Vec::new() };
    let value = build(&mut c);
    if c.parts.is_empty() {
        return Output::new(value);
    }
    let document = match serde_json::to_value(&value) {
        Ok(v) => v,
        Err(e) => return Output::failed(format!("cannot serialise the composed value: {e}")),
    };
    let slots: BTreeMap<String, usize> = (0..c.parts.len())
        .map(|n| (text_placeholder(n), n))
        .collect();
    let document = filled(document, slots, c.parts);
    let as_property = document.erase();
    let deps = document.dependencies().collect();
    Output::from_fn(deps, move |r| {
        let res = document.evaluate(r);
        let value = match res.value {
            Eval::Known(v) => match T::deserialize(v) {
                Ok(v) => Eval::Known(v),
                Err(e) => Eval::Failed(format!("the composed value does not fit its type: {e}")),
            },
            Eval::Unknown => Eval::Unknown,
            Eval::Failed(e) => Eval::Failed(e),
        };
        Resolved {
            value,
            secret: res.secret,
        }
    })
    .erased_by(move |r| as_property.evaluate(r))
}

/// `document` with its placeholders (`slots`) filled by `parts` once every one is known: as
/// a typed value, secret whole if any part is; erased to a property, each secret part wrapped
/// where it went.
fn filled(
    document: Value,
    slots: BTreeMap<String, usize>,
    parts: Vec<Output<Value>>,
) -> Output<Value> {
    let deps: std::collections::BTreeSet<_> = parts.iter().flat_map(|p| p.dependencies()).collect();
    let evaluate = move |r: &dyn Resolve, wrap: bool| -> Resolved<Value> {
        let mut values = Vec::with_capacity(parts.len());
        let mut secret = false;
        let mut unknown = false;
        for p in &parts {
            let res = p.evaluate(r);
            secret |= res.secret;
            match res.value {
                Eval::Known(v) => values.push((v, res.secret)),
                Eval::Unknown => unknown = true,
                Eval::Failed(e) => {
                    return Resolved {
                        value: Eval::Failed(e),
                        secret,
                    };
                }
            }
        }
        if unknown {
            return Resolved {
                value: Eval::Unknown,
                secret: secret && !wrap,
            };
        }
        Resolved {
            value: Eval::Known(fill(&document, &slots, &values, wrap)),
            secret: secret && !wrap,
        }
    };
    let evaluate = std::sync::Arc::new(evaluate);
    let erased = evaluate.clone();
    Output::from_fn(deps, move |r| evaluate(r, false)).erased_by(move |r| erased(r, true))
}

/// Fills the placeholders of `v`: a leaf that is one takes the value, text holding some takes
/// their text. With `wrap`, a leaf that took a secret is wrapped as one.
fn fill(v: &Value, slots: &BTreeMap<String, usize>, values: &[(Value, bool)], wrap: bool) -> Value {
    match v {
        Value::String(s) => {
            if let Some(&n) = slots.get(s) {
                let (value, secret) = &values[n];
                return crate::props::value_to_state(value, wrap && *secret);
            }
            let mut text = s.clone();
            let mut secret = false;
            for (slot, &n) in slots.iter().filter(|(slot, _)| s.contains(slot.as_str())) {
                let (value, is_secret) = &values[n];
                let value = match value {
                    Value::String(t) => t.clone(),
                    other => other.to_string(),
                };
                text = text.replace(slot.as_str(), &value);
                secret |= is_secret;
            }
            crate::props::value_to_state(&Value::String(text), wrap && secret)
        }
        Value::Array(a) => Value::Array(a.iter().map(|v| fill(v, slots, values, wrap)).collect()),
        Value::Object(o) => Value::Object(
            o.iter()
                .map(|(k, v)| (k.clone(), fill(v, slots, values, wrap)))
                .collect(),
        ),
        other => other.clone(),
    }
}

impl<T: Serialize + 'static> Serialize for Output<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let slot = EMBEDDED.with_borrow_mut(|parts| {
            parts.as_mut().map(|parts| {
                parts.push(self.erase());
                parts.len() - 1
            })
        });
        match slot {
            Some(n) => s.serialize_str(&placeholder(n)),
            None => Err(serde::ser::Error::custom(
                "an Output is not known yet: embed it in a document with cairn::json!",
            )),
        }
    }
}

impl From<&String> for Output<String> {
    fn from(value: &String) -> Self {
        Output::new(value.clone())
    }
}

/// A list of outputs is an output of the list (as [`Output::all`]).
impl<T: 'static> From<Vec<Output<T>>> for Output<Vec<T>> {
    fn from(outputs: Vec<Output<T>>) -> Self {
        Output::all(outputs)
    }
}

/// Tags (or any map of text) written as pairs: `[("team", "web"), ("env", "prod")]`.
impl<const N: usize> From<[(&str, &str); N]> for Output<BTreeMap<String, String>> {
    fn from(pairs: [(&str, &str); N]) -> Self {
        Output::new(
            pairs
                .into_iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::output::{Eval, Resolve};

    /// Nothing to resolve: every output here is a literal.
    struct Nothing;
    impl Resolve for Nothing {
        fn outputs(&self, _: crate::ResourceIdx) -> Option<&Value> {
            None
        }
        fn name(&self, _: crate::ResourceIdx) -> &str {
            ""
        }
    }

    fn known<T: std::fmt::Debug + 'static>(o: &Output<T>) -> (T, bool) {
        let r = o.evaluate(&Nothing);
        match r.value {
            Eval::Known(v) => (v, r.secret),
            other => panic!("not known: {other:?}"),
        }
    }

    #[test]
    fn format_mixes_outputs_and_values_and_keeps_secrecy() {
        let host = Output::new("db.internal".to_string());
        let port = Output::new(5432);
        let url = crate::format!("postgres://{}:{}/{}", host, port, "app");
        assert_eq!(
            known(&url),
            ("postgres://db.internal:5432/app".into(), false)
        );
        let password = Output::secret_value("hunter2".to_string());
        let dsn = crate::format!("{}@{:>6}", password, &host);
        assert_eq!(known(&dsn), ("hunter2@db.internal".into(), true));
        assert_eq!(known(&crate::format!("plain")), ("plain".into(), false));
    }

    #[test]
    fn json_fills_in_outputs_anywhere_even_nested_documents() {
        let arn = Output::new("arn:aws:s3:::assets".to_string());
        let ids = Output::new(vec![1, 2]);
        let inner = crate::json!({ "ids": ids });
        let doc = crate::json!({
            "Resource": [arn.map(|a| format!("{a}/*")), "literal"],
            "Nested": inner,
            "Plain": 3,
        });
        assert_eq!(
            known(&doc),
            (
                json!({
                    "Resource": ["arn:aws:s3:::assets/*", "literal"],
                    "Nested": { "ids": [1, 2] },
                    "Plain": 3,
                }),
                false
            )
        );
        let secret = crate::json!({ "password": Output::secret_value("x".to_string()) });
        assert!(known(&secret).1, "a document with a secret in it is secret");
    }

    #[test]
    fn a_secret_in_a_document_is_wrapped_where_it_sits_as_a_property_and_secret_whole_as_a_value() {
        let password = Output::secret_value("hunter2hunter2".to_string());
        let doc = crate::json!({ "user": "web", "password": password.clone() });
        assert!(known(&doc).1);
        assert_eq!(
            known(&doc.erase()),
            (
                json!({ "user": "web", "password": { "@secret": "hunter2hunter2" } }),
                false
            )
        );
        // Composed into a typed value: a whole field, and inside text.
        let env: Output<BTreeMap<String, String>> = crate::compose(|c| {
            BTreeMap::from([
                ("DB_USER".to_string(), "web".to_string()),
                ("DB_PASSWORD".to_string(), c.text(&password)),
                (
                    "DB_URL".to_string(),
                    format!("postgres://web:{}@db:5432", c.text(&password)),
                ),
                ("DB_PORT".to_string(), c.text(Output::new(5432))),
            ])
        });
        let (typed, secret) = known(&env);
        assert!(secret, "a typed value made with a secret is secret whole");
        assert_eq!(typed["DB_URL"], "postgres://web:hunter2hunter2@db:5432");
        assert_eq!(
            known(&env.erase()),
            (
                json!({
                    "DB_USER": "web",
                    "DB_PASSWORD": { "@secret": "hunter2hunter2" },
                    "DB_URL": { "@secret": "postgres://web:hunter2hunter2@db:5432" },
                    "DB_PORT": "5432",
                }),
                false
            )
        );
        // Mapped, it cannot say where the secret went.
        assert!(known(&env.map(|e| e.len()).erase()).1);
    }

    #[test]
    fn an_output_outside_a_document_refuses_to_serialise() {
        let err = serde_json::to_value(Output::new(1))
            .unwrap_err()
            .to_string();
        assert!(err.contains("cairn::json!"), "{err}");
    }

    #[test]
    fn the_conversions_a_newcomer_tries_first() {
        let name = String::from("web");
        let from_ref: Output<String> = (&name).into();
        assert_eq!(known(&from_ref).0, "web");
        let list: Output<Vec<i32>> = vec![Output::new(1), Output::new(2)].into();
        assert_eq!(known(&list).0, [1, 2]);
        let tags: Output<BTreeMap<String, String>> = [("team", "web"), ("env", "prod")].into();
        assert_eq!(known(&tags).0["team"], "web");
    }
}
