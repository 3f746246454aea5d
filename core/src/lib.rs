//! Cairn: infrastructure as code in plain Rust.
//!
//! A program declares resources into a [`Stack`]; outputs of one resource ([`Output`]) feed
//! inputs of another, and that is how the dependency graph arises. [`run`] gives the program
//! its command line (`preview`, `up`, `destroy`, `refresh`, `outputs`, …). See ARCHITECTURE.md
//! for how a command flows from the program through the graph, plan and executor to the state.
//!
//! # A program
//!
//! ```no_run
//! use cairn::random::{Password, PasswordArgs};
//!
//! fn main() -> std::process::ExitCode {
//!     cairn::run(|stack| {
//!         // Made once, kept sealed in the state, the same on every run.
//!         let password = Password::new(stack, "db-password", PasswordArgs::builder().length(24).build());
//!         // Outputs compose without `zip`s; the secret stays secret where it sits.
//!         let url = cairn::format!("postgres://app:{}@db.internal:5432/app", password.result());
//!         stack.export("databaseUrl", url);
//!     })
//! }
//! ```
//!
//! Resources of a cloud come from a provider crate (`cairn-aws`: `Vpc::new(stack, "vpc",
//! VpcArgs::builder().cidr_block("10.0.0.0/16").build())`); each type's page lists its
//! properties, which are required, and which a change replaces.
//!
//! # The model
//!
//! - **Outputs** ([`Output`]): a value a resource produces, unknown until it exists, and the
//!   resources it came from. [`Output::map`], [`Output::zip`], [`Output::all`],
//!   [`format!`](crate::format!), [`json!`](crate::json!) and [`compose`] build one from others;
//!   secrecy ([`Output::secret`]) travels with the value.
//! - **Declaring is not creating**: the program runs once per command and records what it
//!   wants ([`Stack::declare`], [`Stack::lookup`] for what exists already, [`Stack::component`]
//!   to group); options are [`ResourceOptions`].
//! - **Graph** ([`ResourceGraph`]): one node per declaration, edges from the outputs each input
//!   uses; a cycle or a duplicate name is an error naming them.
//! - **Plan** ([`Plan`], [`Step`], [`StepKind`]): each declaration against its record, property
//!   by property ([`PropDiff`]); lookups are read while planning. `preview` shows it
//!   ([`plan_text`], [`plan_json`]).
//! - **Apply**: every operation starts the moment what it depends on is done
//!   ([`run_dag`]), at most `--parallel` at once; each is written to the state
//!   (`cairn-state`) as it completes, so a killed run loses nothing.
//! - **Saved plans** ([`SavedPlan`]): `preview --save-plan FILE` writes a plan with the state
//!   it was made against (the stack's lineage and serial, [`cairn_state::StackVersion`]) and
//!   its steps; `up --plan FILE` applies it only if planning again under the lock gives the
//!   same steps against the same state, and refuses ([`EngineError::StalePlan`]) otherwise.
//! - **Import** ([`Session::import`], [`Provider::import`]): an existing resource read by id,
//!   recorded, and printed as its declaration ([`ResourceType::declaration`], [`Literal`]).
//! - **Recovery**: an operation in flight when a run died is settled by the next one
//!   ([`Recovered`]), or left to `state resolve` when it cannot be told.
//! - **Secrets**: sealed in the state and in `Cairn.<stack>.toml` under `CAIRN_PASSPHRASE`,
//!   masked wherever a value is shown, redacted from every error and log.
//!
//! The commands, their flags and what each does are in the README's command table and in
//! `--help`; RELIABILITY.md says what every failure leaves behind.

#![warn(missing_docs)]

mod cli;
mod config;
mod display;
mod engine;
mod events;
mod execute;
mod graph;
mod interrupt;
mod literal;
mod output;
pub mod pace;
mod plan;
mod progress;
mod props;
mod provider;
pub mod random;
mod redact;
mod resource_type;
mod saved_plan;
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
pub use engine::{
    Drift, Engine, EngineError, ImportSpec, ImportedResource, Program, Recovered, Resolution,
    Session, is_noop,
};
pub use execute::{Action, Event, Execution, OpError};
pub use graph::ResourceGraph;
pub use literal::Literal;
pub use output::{Composer, Eval, FormatArg, Output, Resolve, Resolved, ResourceIdx, compose};
pub use plan::{Change, Plan, PlannedOutput, PropDiff, Step, StepKind};
pub use provider::{
    CheckFailure, CreateRequest, Created, DefaultProvider, DeleteRequest, ErrorKind, ImportRequest,
    Imported, LookupRequest, NameRule, Prop, PropMap, Provider, ProviderError, ProviderRef,
    ReadRequest, ReadResult, Readiness, Related, ResourceContext, TypeSchema, UniqueKey,
    UpdateRequest, secret_output,
};
pub use resource_type::{ResourceType, Tags, same_set};
pub use saved_plan::{Digests, SavedPlan, SavedStep, Steering, config_digest};
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
