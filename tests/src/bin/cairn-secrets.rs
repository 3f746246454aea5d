//! A small program with a secret, on the in-process test provider, for the secrets test: the
//! secret comes from `config set --secret`, flows into a resource's input and out as a stack
//! output. (`dbValue`, secret too, is a value the provider refuses, quoting it back.)

use cairn::Output;
use cairn::testing::{Thing, ThingArgs};

fn main() -> std::process::ExitCode {
    cairn::run(|stack| {
        let password = stack
            .config()
            .get_secret("dbPassword")
            .unwrap_or_else(|| Output::secret_value(String::new()));
        // A secret value the provider's check refuses, quoting it back, when `dbValue` is set.
        let value = stack
            .config()
            .get_secret("dbValue")
            .unwrap_or_else(|| Output::new("v1".to_string()));
        let db = Thing::new(
            stack,
            "db",
            ThingArgs::builder()
                .value(value)
                .secret(password.map(|p| format!("postgres://admin:{p}@db")))
                .build(),
        );
        stack.export("password", password);
        stack.export("dbId", db.id());
    })
}
