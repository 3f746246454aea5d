//! The cross-account ECR + PrivateLink + Fargate deployment of `shared/seeds/` as a Cairn
//! program.
//!
//! Account A holds the ECR repository, with a policy that lets account B pull. Account B holds
//! a VPC with two public and two private subnets, the interface endpoints `ecr.api`, `ecr.dkr`
//! and `logs` (private DNS, 443 from the private subnets only) and the S3 gateway endpoint on
//! the private route tables, so that Fargate tasks in the private subnets pull their image with
//! no route to the internet; the tasks sit behind a public Application Load Balancer.

mod endpoints;
mod network;
mod registry;
mod service;
mod settings;
mod ssm;

use cairn::{ProviderRef, ResourceOptions, Stack};
use cairn_aws::{AwsConfig, AwsProvider};

pub use registry::PULL_ACTIONS;
pub use settings::Settings;

/// An explicit provider for one account, from `<name>:roleArn` / `<name>:profile`.
fn account(stack: &mut Stack, name: &str, s: &Settings, endpoint: Option<&str>) -> ProviderRef {
    let config = stack.config();
    cairn_aws::warn_if_endpoint_configured(config);
    let provider = AwsProvider::new(AwsConfig {
        region: Some(s.region.clone()),
        profile: config.get(&format!("{name}:profile")),
        role_arn: config.get(&format!("{name}:roleArn")),
        endpoint_url: endpoint.map(str::to_string),
        shared_credentials_file: config.get("aws:sharedCredentialsFile"),
    });
    stack.provider(name, provider)
}

/// Options placing a resource in one account.
pub(crate) fn on(provider: &ProviderRef) -> ResourceOptions {
    ResourceOptions::default().provider(provider)
}

/// The deployment, against AWS (or wherever `AWS_ENDPOINT_URL` points).
pub fn program(stack: &mut Stack) {
    program_at(stack, None);
}

/// The deployment with every call sent to `endpoint` (an emulator), for a process that runs
/// several at once: tests. The stack's configuration never sets an endpoint.
pub fn program_at(stack: &mut Stack, endpoint: Option<&str>) {
    let s = Settings::read(stack);
    let a = account(stack, "accountA", &s, endpoint);
    let b = account(stack, "accountB", &s, endpoint);

    let registry = registry::declare(stack, &s, &a);
    let net = network::declare(stack, &s, &b);
    let endpoint_sg = endpoints::declare(stack, &s, &b, &net);
    let url = service::declare(stack, &s, &b, &net, &registry);
    if s.enable_ssm {
        ssm::declare(stack, &s, &b, &net, &endpoint_sg);
    }

    stack.export("repositoryUri", registry.repo.repository_uri());
    stack.export("imageUri", registry.image_uri);
    stack.export("externalUrl", url);
    stack.export("vpcId", net.vpc.id());
}
