//! Secrets: a password Cairn generates and keeps sealed in the state, an API key from the
//! stack's configuration (`config set --secret apiKey`), and a container whose environment
//! holds them among plain values. Only the secrets are masked in the plan; everything secret
//! is sealed under `CAIRN_PASSPHRASE`.

use std::collections::BTreeMap;

use cairn::Stack;
use cairn::random::{Password, PasswordArgs};
use cairn_aws::ecs::{ContainerDefinition, FargateCpu, TaskDefinition, TaskDefinitionArgs};
use cairn_aws::ssm::{Parameter, ParameterArgs, ParameterType};

fn program(stack: &mut Stack) {
    let password = Password::new(
        stack,
        "db-password",
        PasswordArgs::builder().length(32).build(),
    );
    // Kept in Parameter Store too, encrypted there, for other programs to read.
    Parameter::new(
        stack,
        "db-password-parameter",
        ParameterArgs::builder()
            .name("/app/db/password")
            .value(password.result())
            .parameter_type(ParameterType::Secure)
            .build(),
    );
    let api_key = stack
        .config()
        .get_secret("apiKey")
        .unwrap_or_else(|| cairn::Output::failed("set it: `config set --secret apiKey`"));
    // `cairn::compose` knows where each output went: the plan shows DB_HOST and masks the two
    // secrets alone.
    let containers = cairn::compose(|c| {
        vec![ContainerDefinition {
            name: "app".into(),
            image: "public.ecr.aws/nginx/nginx:1".into(),
            essential: true,
            environment: BTreeMap::from([
                ("DB_HOST".to_string(), "db.internal".to_string()),
                ("DB_PASSWORD".to_string(), c.text(password.result())),
                ("API_KEY".to_string(), c.text(&api_key)),
            ]),
            ..ContainerDefinition::default()
        }]
    });
    TaskDefinition::new(
        stack,
        "app",
        TaskDefinitionArgs::builder()
            .family("app")
            .cpu(FargateCpu::Cpu256)
            .memory("512")
            .containers(containers)
            .build(),
    );
}

fn main() -> std::process::ExitCode {
    cairn::run(program)
}
