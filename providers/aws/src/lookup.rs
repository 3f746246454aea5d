//! Lookups: what a program reads from AWS without managing it (the account, the availability
//! zones, a VPC by its tags, a public SSM parameter), and their erasure to the engine's JSON.
//!
//! A resource type looked up by its id (`Vpc::get`) needs nothing here: its `read` serves it
//! (`resource.rs: Handler::get`). The lookups of this file have arguments and outputs of their
//! own, and are listed in `registry.rs` beside the types.

use std::marker::PhantomData;

use async_trait::async_trait;
use cairn::{Output, ProviderError, ResourceOptions, ResourceRef, Stack};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::AwsProvider;
use crate::config::Clients;
use crate::error::bad_inputs;

/// One lookup: its token, what it takes and what it returns.
#[async_trait]
pub(crate) trait AwsLookup: Send + Sync + 'static {
    const TOKEN: &'static str;
    /// How a program declares it (`ec2::AvailabilityZones::get`), for the coverage table.
    const DECLARED_BY: &'static str;
    type Args: DeserializeOwned + Send;
    type Outputs: Serialize;

    /// Reads what the arguments name; nothing (or, for a lookup of one, several) matching is
    /// an error of kind `NotFound` saying what was asked.
    async fn read(c: &Clients, args: Self::Args) -> Result<Self::Outputs, ProviderError>;
}

/// The engine-facing, JSON side of a lookup.
#[async_trait]
pub(crate) trait LookupHandler: Send + Sync {
    fn token(&self) -> &'static str;
    #[cfg_attr(not(test), allow(dead_code))]
    fn declared_by(&self) -> &'static str;
    async fn read(&self, c: &Clients, args: &Value) -> Result<Value, ProviderError>;
}

/// A lookup erased to JSON, as `Typed<R>` erases a resource type.
pub(crate) struct Erased<L>(PhantomData<L>);

impl<L> Erased<L> {
    pub(crate) const fn new() -> Self {
        Erased(PhantomData)
    }
}

#[async_trait]
impl<L: AwsLookup> LookupHandler for Erased<L> {
    fn token(&self) -> &'static str {
        L::TOKEN
    }

    fn declared_by(&self) -> &'static str {
        L::DECLARED_BY
    }

    async fn read(&self, c: &Clients, args: &Value) -> Result<Value, ProviderError> {
        let args = serde_json::from_value(args.clone()).map_err(|e| bad_inputs(L::TOKEN, e))?;
        let outputs = L::read(c, args).await?;
        serde_json::to_value(outputs).map_err(|e| bad_inputs(L::TOKEN, e))
    }
}

/// Declares the lookup `token` with `args` (each an optional output, by argument name).
#[track_caller]
pub(crate) fn declare(
    stack: &mut Stack,
    token: &'static str,
    name: &str,
    args: Vec<(&'static str, Option<Output<Value>>)>,
    opts: ResourceOptions,
) -> ResourceRef {
    stack.lookup::<AwsProvider>(token, name, args, opts)
}

/// The handle of a lookup with outputs of its own: a struct over the lookup's `ResourceRef`
/// with one accessor per output.
macro_rules! handle {
    ($(#[$doc:meta])* $name:ident { $($(#[$fdoc:meta])* $field:ident: $ty:ty),* $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone)]
        pub struct $name {
            lookup: cairn::ResourceRef,
        }

        impl $name {
            $(
                $(#[$fdoc])*
                pub fn $field(&self) -> cairn::Output<$ty> {
                    self.lookup.output(stringify!($field))
                }
            )*
        }

        impl cairn::Resource for $name {
            fn resource_ref(&self) -> &cairn::ResourceRef {
                &self.lookup
            }
        }
    };
}
pub(crate) use handle;

/// The `NotFound` error of a lookup whose arguments match nothing.
pub(crate) fn nothing_matches(what: impl std::fmt::Display) -> ProviderError {
    ProviderError::new(format!("nothing matches: {what}")).kind(cairn::ErrorKind::NotFound)
}
