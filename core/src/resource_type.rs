//! `ResourceType`: what one declaration (`#[cairn::resource]`) says about a resource type.
//!
//! Providers implement their cloud calls against it: the typed inputs they receive, the typed
//! outputs they return, and the schema the engine plans with, all generated from one struct.

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::provider::TypeSchema;
use crate::stack::{Args, Resource};

/// Tags as resources take them: key to value.
pub type Tags = std::collections::BTreeMap<String, String>;

/// A resource type, as `#[cairn::resource]` declares it.
pub trait ResourceType: Resource + Send + Sync + 'static {
    /// The type token (`aws:ec2/Vpc`).
    const TYPE: &'static str;
    /// What the program writes: every property an `Output`.
    type Args: Args;
    /// What the provider receives: every property known.
    type Inputs: Serialize + DeserializeOwned + Clone + PartialEq + std::fmt::Debug + Send + Sync;
    /// What the provider returns, and the program reads through the handle's accessors.
    type Outputs: Serialize + DeserializeOwned + Clone + PartialEq + std::fmt::Debug + Send + Sync;
    /// The input properties, in declaration order.
    const INPUTS: &'static [&'static str];
    /// The outputs, in declaration order.
    const OUTPUTS: &'static [&'static str];
    /// What the engine plans with (replacement, unique keys, unordered lists, secrets).
    const SCHEMA: TypeSchema;
    /// The cloud API operations the type's provider code makes (`#[api(calls(..))]`), as its
    /// documentation lists them.
    const API_CALLS: &'static [&'static str] = &[];
    /// The source file declaring the type, so that a test can hold `API_CALLS` to the code.
    #[doc(hidden)]
    const SOURCE_FILE: &'static str = "";

    /// The Rust statement that declares a resource of this type with `inputs`, as `import`
    /// prints it for the program (`let var = Vpc::new(stack, "name", VpcArgs::builder()…)`).
    fn declaration(var: &str, name: &str, inputs: &Self::Inputs) -> String;

    /// The property holding the resource's tags (`#[tags]`), if it has one.
    fn tags(_inputs: &Self::Inputs) -> Option<&Option<Tags>> {
        None
    }

    /// The same, to write what the cloud has into inputs read back.
    fn tags_mut(_inputs: &mut Self::Inputs) -> Option<&mut Option<Tags>> {
        None
    }
}

/// Declares an enum-like property: a Rust enum serialised the way the cloud spells each
/// value, so that a misspelt value is a compile error rather than something the cloud
/// interprets.
///
/// ```
/// cairn::string_enum! {
///     /// The direction of a rule.
///     pub enum Direction { Ingress = "ingress", Egress = "egress" }
/// }
/// assert_eq!(Direction::Egress.as_str(), "egress");
/// ```
#[macro_export]
macro_rules! string_enum {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident { $( $(#[$vmeta:meta])* $variant:ident = $text:literal ),+ $(,)? }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[derive($crate::__private::serde::Serialize, $crate::__private::serde::Deserialize)]
        #[serde(crate = "::cairn::__private::serde")]
        $vis enum $name {
            $(
                $(#[$vmeta])*
                #[doc = ""]
                #[doc = concat!("The cloud spells it `", $text, "`.")]
                #[serde(rename = $text)]
                $variant
            ),+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The value the cloud spells `text`, if there is one.
            pub fn parse(text: &str) -> ::std::option::Option<$name> {
                match text {
                    $($text => ::std::option::Option::Some($name::$variant),)+
                    _ => ::std::option::Option::None,
                }
            }

            /// The value as the cloud spells it.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }
        }

        /// For configuration values: the error lists the values there are.
        impl ::std::str::FromStr for $name {
            type Err = ::std::string::String;

            fn from_str(text: &str) -> ::std::result::Result<$name, Self::Err> {
                $name::parse(text).ok_or_else(|| {
                    let all: ::std::vec::Vec<&str> = $name::ALL.iter().map(|v| v.as_str()).collect();
                    ::std::format!("'{text}' is not one of {}", all.join(", "))
                })
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl $crate::Literal for $name {
            fn literal(&self) -> ::std::string::String {
                let variant = match self {
                    $($name::$variant => ::std::stringify!($variant)),+
                };
                ::std::format!("{}::{variant}", ::std::stringify!($name))
            }
        }
    };
}

/// Whether two lists hold the same members, in any order (and as often): how lists whose
/// order means nothing (`#[unordered]`) are compared, by the engine and by providers alike.
pub fn same_set<T: Ord>(a: &[T], b: &[T]) -> bool {
    let mut a: Vec<&T> = a.iter().collect();
    let mut b: Vec<&T> = b.iter().collect();
    a.sort();
    b.sort();
    a == b
}
