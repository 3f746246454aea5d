//! Cairn: infrastructure as code in plain Rust.
//!
//! A program declares resources into a [`Stack`]; outputs of one resource ([`Output`]) feed
//! inputs of another, and that is how the dependency graph arises. [`run`] gives the program
//! its command line (`preview`, `up`, `destroy`, `refresh`, `outputs`, …). See ARCHITECTURE.md
//! for how a command flows from the program through the graph, plan and executor to the state.

mod cli;
mod config;
mod display;
mod engine;
mod events;
mod execute;
mod graph;
mod interrupt;
mod output;
mod plan;
mod progress;
mod props;
mod provider;
pub mod random;
mod redact;
mod resource_type;
mod schedule;
mod stack;
mod target;
mod tree;
mod unique;
mod value_diff;

#[cfg(feature = "testing")]
pub mod testing;

/// An output of text formatted from outputs and values: see `output/compose.rs`.
#[doc(inline)]
pub use crate::__format as format;
/// An output of a JSON document with outputs anywhere in it: see `output/compose.rs`.
#[doc(inline)]
pub use crate::__json as json;
pub use cli::DEFAULT_PARALLEL;
pub use config::{Config, ConfigError, ConfigValue};
pub use display::{PlanView, drift_text, plan_json, plan_text, plan_text_styled, plan_text_with};
pub use engine::{Drift, Engine, EngineError, Program, Recovered, Resolution, Session, is_noop};
pub use execute::{Action, Event, Execution, OpError};
pub use graph::ResourceGraph;
pub use output::{Composer, Eval, FormatArg, Output, Resolve, Resolved, ResourceIdx, compose};
pub use plan::{Plan, PlannedOutput, PropDiff, Step, StepKind};
pub use provider::{
    CheckFailure, CreateRequest, Created, DefaultProvider, DeleteRequest, ErrorKind, LookupRequest,
    NameRule, Prop, PropMap, Provider, ProviderError, ProviderRef, ReadRequest, ReadResult,
    Related, ResourceContext, TypeSchema, UniqueKey, UpdateRequest, secret_output,
};
pub use resource_type::{ResourceType, Tags, same_set};
pub use schedule::{Outcome, Stop, run_dag, run_dag_until};
pub use stack::{Args, DependsOn, IntoProperty, Resource, ResourceOptions, ResourceRef, Stack};
pub use target::{Scope, Targeting};
pub use unique::{DeleteFirst, KeptKey};

pub use async_trait::async_trait;
/// Declares a resource type: see [`ResourceType`] and the `cairn-macros` crate.
pub use cairn_macros::resource;

// So that `#[cairn::resource]`'s `::cairn::` paths resolve inside this crate too (the test
// provider).
extern crate self as cairn;

/// Runs a Cairn program: parses the command line, declares the program's resources and
/// carries out the command. Use it as the whole of `main`:
///
/// ```no_run
/// fn main() -> std::process::ExitCode {
///     cairn::run(|stack| {
///         let _ = stack;
///     })
/// }
/// ```
pub fn run(program: impl Fn(&mut Stack)) -> std::process::ExitCode {
    cli::main(&program)
}

#[doc(hidden)]
pub mod __private {
    pub use bon;
    pub use serde;
    pub use serde_json;
    pub use serde_json::Value;

    pub use crate::output::json_document;
}
