//! A small program with a secret, on the in-process test provider, for the secrets test: the
//! secret comes from `config set --secret`, flows into a resource's input and out as a stack
//! output.

use cairn::Output;
use cairn::testing::{Thing, ThingArgs};

fn main() -> std::process::ExitCode {
    cairn::run(|stack| {
        let password = stack
            .config()
            .get_secret("dbPassword")
            .unwrap_or_else(|| Output::secret_value(String::new()));
        let db = Thing::new(
            stack,
            "db",
            ThingArgs::builder()
                .value("v1")
                .secret(password.map(|p| format!("postgres://admin:{p}@db")))
                .build(),
        );
        stack.export("password", password);
        stack.export("dbId", db.id());
    })
}
