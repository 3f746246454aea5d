//! The default program's command line, built inside the test package so that the CLI tests can
//! run it as a user would (`CARGO_BIN_EXE_cairn-program`).

fn main() -> std::process::ExitCode {
    cairn::run(ecr_privatelink_fargate::program)
}
