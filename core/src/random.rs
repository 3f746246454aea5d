//! `random:index/Password`: a generated password that lives in the state, sealed as a secret,
//! and the in-process provider that makes it. Nothing outside the state holds it, so it is
//! made once and kept: the same value on every run until a property changes (its `keepers`,
//! to rotate it), when a replacement makes a new one.

use std::collections::BTreeMap;

use async_trait::async_trait;
use serde_json::{Value, json};

use crate::ResourceType;
use crate::config::Config;
use crate::provider::{
    CheckFailure, CreateRequest, Created, DefaultProvider, DeleteRequest, PropMap, Provider,
    ProviderError, ReadRequest, ReadResult, Related, TypeSchema, UpdateRequest,
};

/// A password of `length` characters, drawn from lower and upper case letters, digits and
/// (unless `special` is false) punctuation, with at least one of each. Its `result` is secret
/// wherever it flows: masked in plans, progress and outputs, sealed in the state (which needs
/// `CAIRN_PASSPHRASE`).
///
/// ```
/// use cairn::random::{Password, PasswordArgs};
/// # let mut stack = cairn::Stack::new("dev", cairn::Config::default());
/// # let stack = &mut stack;
/// let db = Password::new(stack, "db-password", PasswordArgs::builder().length(24).build());
/// let _secret: cairn::Output<String> = db.result();
/// ```
#[crate::resource(token = "random:index/Password", provider = RandomProvider)]
pub struct Password {
    /// How many characters (8 to 1024).
    #[replace]
    pub length: u32,
    /// Whether punctuation is drawn too (yes unless set false).
    #[replace]
    pub special: Option<bool>,
    /// The punctuation to draw from, instead of [`SPECIAL`] (which leaves out what RDS refuses
    /// in a master password: `/`, `@`, `"` and space).
    #[replace]
    pub override_special: Option<String>,
    /// Any values: a new password is made whenever one changes (to rotate it).
    #[replace]
    pub keepers: Option<BTreeMap<String, String>>,
    /// The password.
    #[output]
    pub result: String,
}

/// The punctuation a [`Password`] draws from unless told otherwise.
pub const SPECIAL: &str = "!#$%&*()-_=+[]{}<>:?";

const LOWER: &str = "abcdefghijklmnopqrstuvwxyz";
const UPPER: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
const DIGITS: &str = "0123456789";

impl PasswordInputs {
    /// The character classes drawn from: one character of each at least.
    fn classes(&self) -> Vec<&str> {
        let mut classes = vec![LOWER, UPPER, DIGITS];
        if self.special != Some(false) {
            classes.push(self.override_special.as_deref().unwrap_or(SPECIAL));
        }
        classes
    }

    /// A new password, from the thread's generator (seeded by the operating system).
    fn generate(&self) -> String {
        let classes: Vec<Vec<char>> = self.classes().iter().map(|c| c.chars().collect()).collect();
        let all: Vec<char> = classes.iter().flatten().copied().collect();
        let pick = |from: &[char]| from[rand::random_range(0..from.len())];
        let length = self.length as usize;
        let mut chars: Vec<char> = classes.iter().map(|c| pick(c)).collect();
        chars.extend((chars.len()..length).map(|_| pick(&all)));
        // The first characters are one of each class: shuffle them in.
        for i in (1..chars.len()).rev() {
            chars.swap(i, rand::random_range(0..=i));
        }
        chars.into_iter().collect()
    }
}

fn check(inputs: &PropMap) -> Vec<CheckFailure> {
    let known = |p: &str| inputs.get(p).and_then(|p| p.value.clone());
    let mut failures = Vec::new();
    if let Some(length) = known("length").and_then(|v| v.as_u64())
        && !(8..=1024).contains(&length)
    {
        failures.push(CheckFailure {
            property: Some("length".into()),
            reason: format!("{length} is outside 8..1024"),
        });
    }
    if let Some(Value::String(special)) = known("override_special")
        && (special.is_empty() || !special.chars().all(|c| c.is_ascii_graphic()))
    {
        failures.push(CheckFailure {
            property: Some("override_special".into()),
            reason: "give at least one printable ASCII character, and nothing else (unset \
                     `special` for no punctuation)"
                .into(),
        });
    }
    failures
}

/// The provider of `random:` types. It calls no cloud: what it makes is kept in the state.
#[derive(Debug, Clone, Copy, Default)]
pub struct RandomProvider;

#[async_trait]
impl Provider for RandomProvider {
    fn package(&self) -> &'static str {
        "random"
    }

    fn schema(&self, ty: &str) -> Option<TypeSchema> {
        (ty == Password::TYPE).then_some(Password::SCHEMA)
    }

    fn check(&self, _ty: &str, inputs: &PropMap, _related: &Related<'_>) -> Vec<CheckFailure> {
        check(inputs)
    }

    async fn create(&self, req: CreateRequest) -> Result<Created, ProviderError> {
        let inputs: PasswordInputs = serde_json::from_value(req.inputs).map_err(|e| {
            ProviderError::new(format!("inputs do not match a password: {e}"))
                .kind(crate::provider::ErrorKind::Invalid)
        })?;
        let result = inputs.generate();
        crate::redact::remember_text(&result);
        Ok(Created {
            id: req.resource.name.clone(),
            // Wrapped as the state wraps a secret, so it is sealed there and secret wherever
            // it flows from.
            outputs: json!({ "result": crate::props::value_to_state(&json!(result), true) }),
        })
    }

    /// Nothing outside the state can hold what a lost create made: it made nothing to find.
    async fn find(&self, _req: CreateRequest) -> Result<Vec<String>, ProviderError> {
        Ok(Vec::new())
    }

    /// What the state holds is what exists: there is no drift.
    async fn read(&self, req: ReadRequest) -> Result<Option<ReadResult>, ProviderError> {
        Ok(Some(ReadResult {
            inputs: req.inputs,
            outputs: req.outputs,
        }))
    }

    /// Every property replaces: there is nothing to change in place.
    async fn update(&self, req: UpdateRequest) -> Result<Value, ProviderError> {
        Ok(req.old_outputs)
    }

    async fn delete(&self, _req: DeleteRequest) -> Result<(), ProviderError> {
        Ok(())
    }
}

impl DefaultProvider for RandomProvider {
    const PACKAGE: &'static str = "random";

    fn from_config(_config: &Config) -> Self {
        RandomProvider
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inputs(length: u32, special: Option<bool>, over: Option<&str>) -> PasswordInputs {
        PasswordInputs {
            length,
            special,
            override_special: over.map(str::to_string),
            keepers: None,
        }
    }

    #[test]
    fn a_password_has_its_length_and_a_character_of_every_class() {
        for _ in 0..200 {
            let pw = inputs(8, None, None).generate();
            assert_eq!(pw.chars().count(), 8);
            for class in [LOWER, UPPER, DIGITS, SPECIAL] {
                assert!(
                    pw.chars().any(|c| class.contains(c)),
                    "{pw}: none of {class}"
                );
            }
        }
    }

    #[test]
    fn without_special_or_with_its_own_set_no_other_punctuation_appears() {
        for _ in 0..200 {
            let plain = inputs(16, Some(false), None).generate();
            assert!(plain.chars().all(|c| c.is_ascii_alphanumeric()), "{plain}");
            let own = inputs(16, None, Some("-_")).generate();
            assert!(
                own.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_".contains(c)),
                "{own}"
            );
        }
    }
}
