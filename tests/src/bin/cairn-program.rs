//! The default program's command line, built inside the test package so that the CLI tests can
//! run it as a user would (`CARGO_BIN_EXE_cairn-program`). `CAIRN_TEST_PROGRAM` runs one of
//! the tests' own programs instead (`cairn_tests::programs`), through the same binary, so that
//! the AWS SDK is linked into as few binaries as possible.

fn main() -> std::process::ExitCode {
    match std::env::var("CAIRN_TEST_PROGRAM") {
        Ok(name) => match cairn_tests::programs::by_name(&name) {
            Some(program) => cairn::run(program),
            None => {
                eprintln!("error: no test program '{name}'");
                std::process::ExitCode::from(2)
            }
        },
        Err(_) => cairn::run(ecr_privatelink_fargate::program),
    }
}
