//! Cairn's integration tests: one binary, so that the large AWS SDK is linked once.

mod aws_program;
mod cli;
mod public_api;
