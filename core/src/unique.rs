//! Unique names and keys: the names Cairn picks for resources whose program leaves them unset,
//! and whether a replacement's new copy would collide with its old one.
//!
//! A cloud refuses a second resource with the same unique name (or key) in the same scope, so a
//! replacement that keeps one cannot create the new copy first. Cairn then deletes first, and
//! says so in the plan; where it picked the name itself, it picks a new one instead, and the
//! replacement creates first as usual.

use std::fmt;

use serde_json::Value;

use crate::provider::{NameRule, PropMap, TypeSchema, UniqueKey};

/// Length of the random suffix of a generated name (`web-7f3k2q9`).
const SUFFIX_LEN: usize = 7;

impl NameRule {
    /// What is wrong with `name` as a name under this rule, if anything: too long, a character
    /// the cloud refuses, upper case where it wants lower, or a beginning it reserves. Checked
    /// at preview, so that a name the program sets fails there, naming the property, and not
    /// halfway through an `up`.
    pub fn problem(&self, name: &str) -> Option<String> {
        if name.is_empty() {
            return Some("a name cannot be empty".into());
        }
        let len = name.chars().count();
        if len > self.max_len {
            return Some(format!(
                "'{name}' is {len} characters long; at most {} are allowed",
                self.max_len
            ));
        }
        if self.lowercase && name.chars().any(|c| c.is_ascii_uppercase()) {
            return Some(format!(
                "'{name}' has upper-case letters; only lower case is allowed"
            ));
        }
        if let Some(c) = name
            .chars()
            .find(|c| !c.is_ascii_alphanumeric() && !self.punctuation.contains(*c))
        {
            let allowed = if self.punctuation.is_empty() {
                "letters and digits".to_string()
            } else {
                format!("letters, digits and `{}`", self.punctuation)
            };
            return Some(format!("'{name}' has '{c}'; only {allowed} are allowed"));
        }
        if let Some(prefix) = self.refused_prefixes.iter().find(|p| {
            name.to_ascii_lowercase()
                .starts_with(&p.to_ascii_lowercase())
        }) {
            return Some(format!(
                "'{name}' begins with '{prefix}', which AWS reserves"
            ));
        }
        None
    }
}

/// A fresh name for resource `resource` under `rule`: the resource's name made to fit, a dash,
/// and a random suffix, so that every copy of the resource gets its own.
pub(crate) fn generate(rule: &NameRule, resource: &str) -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let dash = rule.punctuation.contains('-');
    let mut prefix = String::new();
    for c in resource.chars() {
        let c = if rule.lowercase {
            c.to_ascii_lowercase()
        } else {
            c
        };
        if c.is_ascii_alphanumeric() || (c != '-' && rule.punctuation.contains(c)) {
            prefix.push(c);
        } else if dash && !prefix.is_empty() && !prefix.ends_with('-') {
            prefix.push('-');
        }
    }
    let separator = if dash { "-" } else { "" };
    let reserved = |p: &str| {
        let p = format!("{p}{separator}").to_ascii_lowercase();
        rule.refused_prefixes
            .iter()
            .any(|r| p.starts_with(&r.to_ascii_lowercase()))
    };
    if reserved(&prefix) {
        prefix = format!("cairn{separator}{prefix}");
    }
    let room = rule
        .max_len
        .saturating_sub(SUFFIX_LEN + separator.len())
        .max(1);
    let mut prefix: String = prefix.chars().take(room).collect();
    while prefix.ends_with('-') {
        prefix.pop();
    }
    if prefix.is_empty() {
        prefix = "cairn".chars().take(room).collect();
    }
    let suffix: String = (0..SUFFIX_LEN)
        .map(|_| ALPHABET[rand::random_range(0..ALPHABET.len())] as char)
        .collect();
    format!("{prefix}{separator}{suffix}")
}

/// Whether a replacement's new copy collides with its old copy on one unique key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    /// Every property of the key collides (equal, or for lists sharing an element) and every
    /// property of its scope is equal.
    Kept,
    /// Nothing known differs, but some value is not known yet.
    Unknown,
    Differs,
}

fn verdict(key: &UniqueKey, old: &PropMap, new: &PropMap) -> Verdict {
    // Absent and null are the same absence, as in the planner's diff; `None` is unknown.
    fn value<'a>(m: &'a PropMap, p: &str) -> Option<Option<&'a Value>> {
        match m.get(p) {
            None => Some(None),
            Some(prop) => match &prop.value {
                None => None,
                Some(Value::Null) => Some(None),
                Some(v) => Some(Some(v)),
            },
        }
    }
    // A list in a key collides on any shared element: each CIDR block of a security group
    // rule is a rule of its own to AWS.
    fn collide(old: Option<&Value>, new: Option<&Value>) -> bool {
        match (old, new) {
            (Some(Value::Array(o)), Some(Value::Array(n))) => n.iter().any(|v| o.contains(v)),
            (o, n) => o == n,
        }
    }
    let mut unknown = false;
    let properties = key.key.iter().map(|p| (p, true));
    for (p, in_key) in properties.chain(key.within.iter().map(|p| (p, false))) {
        match (value(old, p), value(new, p)) {
            // A scope is another resource's id: not known yet, it is a new resource's.
            (_, None) if !in_key => return Verdict::Differs,
            (_, None) | (None, _) => unknown = true,
            (Some(o), Some(n)) if in_key && collide(o, n) => {}
            (Some(o), Some(n)) if !in_key && o == n => {}
            _ => return Verdict::Differs,
        }
    }
    if unknown {
        Verdict::Unknown
    } else {
        Verdict::Kept
    }
}

/// Whether a replacement's new copy (`new`) keeps a unique key of its old copy (`old`), so that
/// the two cannot exist at once.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Keeps<'s> {
    Yes(&'s UniqueKey),
    /// Unless a value not known yet turns out to differ (checked again once it is known).
    Maybe(&'s UniqueKey),
    No,
}

pub(crate) fn keeps<'s>(schema: &'s TypeSchema, old: &PropMap, new: &PropMap) -> Keeps<'s> {
    let mut maybe = None;
    for key in schema.unique {
        match verdict(key, old, new) {
            Verdict::Kept => return Keeps::Yes(key),
            Verdict::Unknown => maybe = maybe.or(Some(key)),
            Verdict::Differs => {}
        }
    }
    maybe.map_or(Keeps::No, Keeps::Maybe)
}

/// Why a replacement deletes its old copy before creating the new one.
#[derive(Debug, Clone, PartialEq)]
pub enum DeleteFirst {
    /// The program asked for it (`ResourceOptions::delete_before_replace`).
    Requested,
    /// The new copy keeps a value that must be unique.
    Kept(KeptKey),
    /// Its old copy refers to this resource, which is itself deleted before it is replaced.
    Dependency(String),
}

/// A unique key with the values one resource gives it.
#[derive(Debug, Clone, PartialEq)]
pub struct KeptKey {
    /// The key's properties.
    pub properties: Vec<String>,
    /// The values, as text.
    pub value: String,
    /// A name: the program fixes it, since Cairn would otherwise have picked a new one.
    pub named: bool,
}

impl KeptKey {
    pub(crate) fn of(key: &UniqueKey, inputs: &PropMap) -> KeptKey {
        let value = key
            .key
            .iter()
            .map(|p| match inputs.get(*p).and_then(|v| v.value.as_ref()) {
                Some(Value::String(s)) => s.clone(),
                Some(v) => v.to_string(),
                None => "(unset)".to_string(),
            })
            .collect::<Vec<_>>()
            .join(", ");
        KeptKey {
            properties: key.key.iter().map(|p| p.to_string()).collect(),
            value,
            named: key.auto_name.is_some(),
        }
    }

    /// As a noun: "the name 'web'", "cidr_block (10.0.2.0/24)".
    pub(crate) fn what(&self) -> String {
        if self.named {
            format!("the name '{}'", self.value)
        } else {
            format!("{} ({})", self.properties.join(", "), self.value)
        }
    }
}

impl DeleteFirst {
    /// What a user can do to let the replacement create first instead.
    pub(crate) fn remedy(&self) -> String {
        match self {
            DeleteFirst::Requested => "remove the `delete_before_replace` option".to_string(),
            DeleteFirst::Kept(k) if k.named => format!(
                "leave `{}` unset so that Cairn names it and creates the new copy first, or \
                 give it a new name",
                k.properties[0]
            ),
            DeleteFirst::Kept(k) => format!("change {} as well", k.properties.join(", ")),
            DeleteFirst::Dependency(d) => format!("let '{d}' be replaced by creating first"),
        }
    }
}

impl fmt::Display for DeleteFirst {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DeleteFirst::Requested => write!(f, "requested by the program"),
            DeleteFirst::Kept(k) if k.named => write!(f, "{} is fixed", k.what()),
            DeleteFirst::Kept(k) => write!(
                f,
                "its {} stay{} the same and must be unique",
                k.what(),
                if k.properties.len() == 1 { "s" } else { "" }
            ),
            DeleteFirst::Dependency(d) => write!(f, "it refers to '{d}', which is deleted first"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LB: NameRule = NameRule {
        max_len: 32,
        punctuation: "-",
        lowercase: false,
        refused_prefixes: &["internal-"],
    };

    #[test]
    fn a_name_that_breaks_its_rule_says_how() {
        assert_eq!(LB.problem("web-1"), None);
        let long = "a".repeat(33);
        assert!(LB.problem(&long).unwrap().contains("at most 32"));
        assert!(LB.problem("web_1").unwrap().contains("has '_'"));
        assert!(LB.problem("").is_some());
        let repo = NameRule {
            lowercase: true,
            refused_prefixes: &["sg-"],
            ..LB
        };
        assert!(repo.problem("Web").unwrap().contains("upper-case"));
        assert!(repo.problem("sg-web").unwrap().contains("reserves"));
        // Whatever `generate` makes passes.
        for _ in 0..20 {
            assert_eq!(repo.problem(&generate(&repo, "My_Web.Service")), None);
        }
    }

    #[test]
    fn generated_names_fit_the_rule_and_differ() {
        let a = generate(&LB, "public_load-balancer.for-the-web-service");
        let b = generate(&LB, "public_load-balancer.for-the-web-service");
        assert_ne!(a, b);
        for n in [&a, &b] {
            assert!(n.len() <= 32, "{n}");
            assert!(n.starts_with("public-load-balancer-for-"), "{n}");
            assert!(
                n.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'),
                "{n}"
            );
            assert!(!n.contains("--"), "{n}");
        }
        let ecr = NameRule {
            max_len: 256,
            punctuation: "-_./",
            lowercase: true,
            refused_prefixes: &[],
        };
        assert!(generate(&ecr, "My.Repo").starts_with("my.repo-"));
        assert!(generate(&LB, "internal").starts_with("cairn-internal-"));
        let none = NameRule {
            max_len: 10,
            punctuation: "",
            lowercase: false,
            refused_prefixes: &[],
        };
        let n = generate(&none, "-- --");
        assert!(
            n.starts_with("cai") && n.len() == 10 && !n.contains('-'),
            "{n}"
        );
    }
}
