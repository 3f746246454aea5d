//! Values as Rust source: what `import` prints for the program to declare a resource it read.
//!
//! Each input type says how it is written in a program (`Literal`): a string as `"text"`, a
//! list as `vec![…]`, an enum-like property as its variant (`string_enum!`), a JSON document as
//! `serde_json::json!(…)`. Structs with fields of their own are written through serde
//! ([`literal_via_serde!`](crate::literal_via_serde)), which compiles but reads less well.

use std::collections::BTreeMap;

use serde_json::Value;

/// How a value of an input property is written in a Rust program.
pub trait Literal {
    /// The value as an expression of its own type (`"a".to_string()`).
    fn literal(&self) -> String;

    /// The value as an argument of a builder, which converts (`"a"`).
    fn argument(&self) -> String {
        self.literal()
    }
}

impl Literal for String {
    fn literal(&self) -> String {
        format!("{self:?}.to_string()")
    }

    fn argument(&self) -> String {
        format!("{self:?}")
    }
}

macro_rules! displayed {
    ($($t:ty),*) => {
        $(impl Literal for $t {
            fn literal(&self) -> String {
                self.to_string()
            }
        })*
    };
}
displayed!(bool, i32, i64, u32, u64);

impl<T: Literal> Literal for Vec<T> {
    fn literal(&self) -> String {
        let items: Vec<String> = self.iter().map(Literal::literal).collect();
        format!("vec![{}]", items.join(", "))
    }
}

impl<T: Literal> Literal for Option<T> {
    fn literal(&self) -> String {
        match self {
            Some(v) => format!("Some({})", v.literal()),
            None => "None".to_string(),
        }
    }
}

impl<V: Literal> Literal for BTreeMap<String, V> {
    fn literal(&self) -> String {
        let pairs: Vec<String> = self
            .iter()
            .map(|(k, v)| format!("({}, {})", k.literal(), v.literal()))
            .collect();
        format!("::std::collections::BTreeMap::from([{}])", pairs.join(", "))
    }
}

impl Literal for Value {
    fn literal(&self) -> String {
        format!(
            "serde_json::json!({})",
            serde_json::to_string(self).unwrap_or_default()
        )
    }
}

/// Implements [`Literal`] for a struct through its serde form: `serde_json::from_value(…)`.
#[macro_export]
macro_rules! literal_via_serde {
    ($($t:ty),+ $(,)?) => {
        $(impl $crate::Literal for $t {
            fn literal(&self) -> ::std::string::String {
                let json = $crate::__private::serde_json::to_string(self).unwrap_or_default();
                ::std::format!(
                    "serde_json::from_value::<{}>(serde_json::json!({json})).unwrap()",
                    ::std::stringify!($t)
                )
            }
        })+
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_written_as_a_program_would_write_them() {
        assert_eq!("a \"b\"".to_string().argument(), r#""a \"b\"""#);
        assert_eq!(vec!["x".to_string()].literal(), r#"vec!["x".to_string()]"#);
        assert_eq!(Some(3i32).literal(), "Some(3)");
        assert_eq!(
            BTreeMap::from([("Name".to_string(), "web".to_string())]).literal(),
            r#"::std::collections::BTreeMap::from([("Name".to_string(), "web".to_string())])"#
        );
        assert_eq!(
            serde_json::json!({"a": [1]}).literal(),
            r#"serde_json::json!({"a":[1]})"#
        );
    }
}
