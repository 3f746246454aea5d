//! Cairn's integration tests: one binary, so that the large AWS SDK is linked once.

mod aws_program;
mod bad_input;
mod cli;
mod compile_fail;
mod crash;
mod database;
mod ecr_image;
mod faults;
mod https;
mod import;
mod interrupt;
mod inventory;
mod lookups;
mod public_api;
mod replacement;
mod s3_state;
mod saved_plans;
mod secret_stores;
mod secrets;
mod team_state;
mod updates;
mod web_service;
