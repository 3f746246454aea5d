//! `cargo run -p web-service -- <command>` runs this program.

fn main() -> std::process::ExitCode {
    cairn::run(web_service::program)
}
