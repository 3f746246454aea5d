//! Account A: the ECR repository, the image it publishes (pushed from the OCI layout on disk),
//! and the policy letting account B pull from it.

use cairn::{Output, ProviderRef, Stack};
use cairn::{Resource, ResourceRef};
use cairn_aws::ecr::{
    Image, ImageArgs, LocalImage, Repository, RepositoryArgs, RepositoryPolicy,
    RepositoryPolicyArgs,
};

use crate::{Settings, on};

/// The actions account B may perform on the repository (from the seed document).
pub const PULL_ACTIONS: [&str; 4] = [
    "ecr:GetDownloadUrlForLayer",
    "ecr:BatchGetImage",
    "ecr:BatchCheckLayerAvailability",
    "ecr:ListImages",
];

/// Account A's part, as account B's service needs it.
pub(crate) struct Registry {
    pub repo: Repository,
    /// What the task definition runs: `<repository URI>@<the image's digest>`, known at
    /// preview (the digest is read from disk), so a new image shows as the change it is.
    pub image_uri: Output<String>,
    /// The pushed image, which the task definition waits for.
    pub image: Option<ResourceRef>,
}

pub(crate) fn declare(stack: &mut Stack, s: &Settings, a: &ProviderRef) -> Registry {
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
    let (image_uri, image) = match LocalImage::open(&s.image_dir) {
        Ok(local) => {
            let image = Image::with(
                stack,
                "image",
                ImageArgs::builder()
                    .repository(repo.name())
                    .source(local.path())
                    .digest(local.digest())
                    .tag(s.image_tag.clone())
                    .build(),
                on(a),
            );
            (
                cairn::format!("{}@{}", repo.repository_uri(), local.digest()),
                Some(image.resource_ref().clone()),
            )
        }
        Err(e) => {
            stack.error(format!("imageDir: {e}"));
            (Output::new(String::new()), None)
        }
    };
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
            .policy(cairn::json!({
                "Version": "2012-10-17",
                "Statement": [{
                    "Sid": "AllowPullFromAccountB",
                    "Effect": "Allow",
                    "Principal": { "AWS": cairn::format!("arn:aws:iam::{}:root", principal) },
                    "Action": PULL_ACTIONS,
                }]
            }))
            .build(),
        on(a),
    );
    Registry {
        repo,
        image_uri,
        image,
    }
}
