//! `cargo run -- <command>` at the repository root runs this program.

fn main() -> std::process::ExitCode {
    cairn::run(ecr_privatelink_fargate::program)
}
