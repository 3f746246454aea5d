//! Two accounts in one program: a repository in account A that account B may pull from.
//!
//! Configuration (`Cairn.<stack>.toml`): `aws:region`, and for each account `<name>:roleArn`
//! (a role to assume) or `<name>:profile`. Run: `cargo run -p cairn-examples --example
//! two-accounts -- preview`.

use cairn::{ResourceOptions, Stack};
use cairn_aws::ecr::{Repository, RepositoryArgs, RepositoryPolicy, RepositoryPolicyArgs};
use cairn_aws::{AwsConfig, AwsProvider, CallerIdentity};

/// A provider instance for the account `name` of the configuration.
fn account(stack: &mut Stack, name: &str) -> cairn::ProviderRef {
    let config = stack.config();
    let provider = AwsProvider::new(AwsConfig {
        region: config.get("aws:region"),
        profile: config.get(&format!("{name}:profile")),
        role_arn: config.get(&format!("{name}:roleArn")),
        endpoint_url: None,
        shared_credentials_file: None,
    });
    stack.provider(name, provider)
}

fn program(stack: &mut Stack) {
    let a = account(stack, "accountA");
    let b = account(stack, "accountB");
    let in_a = ResourceOptions::default().provider(&a);
    // Asked of AWS, not configured: the account B's credentials are in.
    let puller =
        CallerIdentity::get_with(stack, "account-b", ResourceOptions::default().provider(&b));

    let repository = Repository::with(stack, "images", RepositoryArgs::default(), in_a.clone());
    let policy = cairn::json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "PullFromAccountB",
            "Effect": "Allow",
            "Principal": { "AWS": cairn::format!("arn:aws:iam::{}:root", puller.account_id()) },
            "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
        }],
    });
    RepositoryPolicy::with(
        stack,
        "images-shared-with-b",
        RepositoryPolicyArgs::builder()
            .repository(repository.name())
            .policy(policy)
            .build(),
        in_a,
    );
    stack.export("repositoryUri", repository.repository_uri());
}

fn main() -> std::process::ExitCode {
    cairn::run(program)
}
