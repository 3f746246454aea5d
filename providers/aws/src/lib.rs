//! Cairn's AWS provider, on the official AWS SDK for Rust.
//!
//! [`AwsProvider`] is one configuration of AWS (region, profile, role to assume). Each resource
//! type lives in the module of its service (`ec2`, `ecr`, …) as three things: the arguments a
//! program writes (`VpcArgs`), the handle it gets back (`Vpc`), and the implementation the
//! provider dispatches to (`create`, `read`, `update`, `delete`).

mod config;
mod error;
mod provider;
mod resource;
mod tags;
mod wait;

pub mod ec2;
pub mod ecr;
pub mod ecs;
pub mod elb;
pub mod iam;
pub mod logs;

pub use config::AwsConfig;
pub use provider::AwsProvider;

/// Tags as the resources take them.
pub type Tags = std::collections::BTreeMap<String, String>;
