//! Cairn's AWS provider, on the official AWS SDK for Rust.
//!
//! [`AwsProvider`] is one configuration of AWS (region, profile, role to assume). Each resource
//! type lives in the module of its service (`ec2`, `ecr`, …) as one declaration
//! (`#[cairn::resource]`, which gives the handle `Vpc`, the arguments `VpcArgs` with their
//! builder, and the typed `VpcInputs` and `VpcOutputs`) and its AWS calls (`create`, `read`,
//! `update`, `delete`); `registry.rs` lists them. Lookups (`Vpc::get`, [`CallerIdentity`],
//! `ec2::AvailabilityZones`) read what exists without managing it (`lookup.rs`).

#![warn(missing_docs)]

mod account;
mod config;
mod endpoint;
mod error;
mod lookup;
mod names;
mod pacing;
mod provider;
mod registry;
mod resource;
mod retry;
mod tagging;
mod tags;
mod wait;

pub mod acm;
pub mod ec2;
pub mod ecr;
pub mod ecs;
pub mod elb;
pub mod iam;
pub mod logs;
pub mod rds;
pub mod route53;
pub mod s3;
pub mod secretsmanager;
pub mod ssm;

pub use account::CallerIdentity;
pub use config::AwsConfig;
pub use provider::{AwsProvider, warn_if_endpoint_configured};

/// A policy document from JSON text (a file, a config value), for any `policy` input. Text that
/// is not a JSON object fails the resource that uses it at preview, naming the resource, the
/// property, and where the JSON went wrong; nothing is sent to AWS.
pub fn policy_document(text: &str) -> cairn::Output<serde_json::Value> {
    match serde_json::from_str::<serde_json::Value>(text) {
        Ok(v) if v.is_object() => cairn::Output::new(v),
        Ok(_) => cairn::Output::failed("the policy document must be a JSON object"),
        Err(e) => cairn::Output::failed(format!("the policy document is not valid JSON: {e}")),
    }
}

/// Tags as the resources take them.
pub use cairn::Tags;
