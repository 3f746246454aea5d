//! Small Cairn programs, one per feature a newcomer looks for. Each is a whole program
//! (`cargo run -p cairn-examples --example lookups -- preview`), compiled by the test command so
//! that it stays true:
//!
//! - `two-accounts.rs`: two provider instances (two accounts), a repository in one shared with
//!   the other, whose account id is looked up rather than configured;
//! - `secrets.rs`: a generated password, a secret from the stack's configuration, and a
//!   container whose environment holds one secret among plain values;
//! - `components.rs`: resources grouped into components, and a resource moved into one kept by
//!   its alias;
//! - `lookups.rs`: the default VPC, its subnets, the zones and the latest Amazon Linux AMI, read
//!   rather than managed, feeding an instance;
//! - `import.rs`: a VPC and a subnet made by hand, imported (`import NAME TYPE ID`) and declared
//!   as the command printed them, then managed with what the program adds.
