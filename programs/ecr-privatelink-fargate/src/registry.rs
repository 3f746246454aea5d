//! Account A: the ECR repository, and the policy letting account B pull from it.

use cairn::{Output, ProviderRef, Stack};
use cairn_aws::ecr::{Repository, RepositoryArgs, RepositoryPolicy, RepositoryPolicyArgs};
use serde_json::json;

use crate::{Settings, on};

/// The actions account B may perform on the repository (from the seed document).
pub const PULL_ACTIONS: [&str; 4] = [
    "ecr:GetDownloadUrlForLayer",
    "ecr:BatchGetImage",
    "ecr:BatchCheckLayerAvailability",
    "ecr:ListImages",
];

pub(crate) fn declare(stack: &mut Stack, s: &Settings, a: &ProviderRef) -> Repository {
    let repo = Repository::with(
        stack,
        "repository",
        RepositoryArgs::builder()
            .name("ecrprivatelink")
            .force_delete(true)
            .maybe_tags(s.tags())
            .build(),
        on(a),
    );
    // Without account B's id (the single-account case) the principal is the registry's own.
    let principal = match &s.account_b {
        Some(id) => Output::new(id.clone()),
        None => repo.registry_id(),
    };
    RepositoryPolicy::with(
        stack,
        "repository-policy",
        RepositoryPolicyArgs::builder()
            .repository(repo.name())
            .policy(principal.map(|account| {
                json!({
                    "Version": "2012-10-17",
                    "Statement": [{
                        "Sid": "AllowPullFromAccountB",
                        "Effect": "Allow",
                        "Principal": { "AWS": format!("arn:aws:iam::{account}:root") },
                        "Action": PULL_ACTIONS,
                    }]
                })
            }))
            .build(),
        on(a),
    );
    repo
}
