//! ECR resources: `aws:ecr/Repository`, `aws:ecr/RepositoryPolicy`, `aws:ecr/LifecyclePolicy`,
//! and `aws:ecr/Image` (`ecr/image.rs`).

use async_trait::async_trait;
use cairn::{CheckFailure, PropMap, ProviderError, ResourceContext};
use serde_json::Value;

use crate::config::Clients;
use crate::error::{aws_on, code, found, gone};
use crate::names;
use crate::resource::{AwsResource, by_record, check_policy};
use crate::tagging::Tagging;
use crate::{AwsProvider, Tags, tags};

mod image;

pub use image::{Image, ImageArgs, ImageInputs, ImageOutputs, LocalImage, LocalImageError};

cairn::string_enum! {
    /// Whether an image tag of a [`Repository`] can be pushed again.
    pub enum ImageTagMutability {
        Mutable = "MUTABLE",
        Immutable = "IMMUTABLE",
    }
}

/// An ECR repository: where container images are pushed, and pulled from by ECS (here, or
/// from another account the [`RepositoryPolicy`] allows).
///
/// ```no_run
/// # fn program(stack: &mut cairn::Stack) {
/// use cairn_aws::ecr::{ImageTagMutability, Repository, RepositoryArgs};
/// let repo = Repository::new(stack, "app", RepositoryArgs::builder()
///     .image_tag_mutability(ImageTagMutability::Immutable)
///     .scan_on_push(true)
///     .build());
/// stack.export("repositoryUri", repo.repository_uri());
/// # }
/// ```
#[cairn::resource(token = "aws:ecr/Repository", provider = AwsProvider)]
#[api(calls(
    CreateRepository,
    DescribeRepositories,
    PutImageTagMutability,
    PutImageScanningConfiguration,
    DeleteRepository
))]
pub struct Repository {
    /// The repository's name (`team/app`).
    #[replace]
    #[unique(name = names::REPOSITORY)]
    #[api(
        name = "RepositoryName",
        values = "2 to 256 lowercase letters, digits and `._-/`"
    )]
    pub name: String,
    /// Whether a tag, once pushed, may move to another image.
    #[api(default = "[`ImageTagMutability::Mutable`]")]
    pub image_tag_mutability: Option<ImageTagMutability>,
    /// Whether each pushed image is scanned for vulnerabilities.
    #[api(name = "ImageScanningConfiguration.ScanOnPush", default = "`false`")]
    pub scan_on_push: Option<bool>,
    /// Delete the repository even if it holds images (on `destroy` or a replacement).
    #[api(cairn, default = "`false`: a repository holding images is not deleted")]
    pub force_delete: Option<bool>,
    #[tags]
    pub tags: Option<Tags>,
    #[output]
    pub name: String,
    #[output]
    pub arn: String,
    #[output]
    pub registry_id: String,
    #[output]
    pub repository_uri: String,
}

/// The repository policy of an ECR repository: who else may pull and push (another
/// account, a role).
///
/// ```no_run
/// # fn program(stack: &mut cairn::Stack, repo: &cairn_aws::ecr::Repository) {
/// use cairn_aws::ecr::{RepositoryPolicy, RepositoryPolicyArgs};
/// RepositoryPolicy::new(stack, "pull-from-b", RepositoryPolicyArgs::builder()
///     .repository(repo.name())
///     .policy(serde_json::json!({
///         "Version": "2012-10-17",
///         "Statement": [{
///             "Effect": "Allow",
///             "Principal": { "AWS": "arn:aws:iam::222222222222:root" },
///             "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
///         }]
///     }))
///     .build());
/// # }
/// ```
#[cairn::resource(token = "aws:ecr/RepositoryPolicy", provider = AwsProvider)]
#[api(calls(SetRepositoryPolicy, GetRepositoryPolicy, DeleteRepositoryPolicy))]
pub struct RepositoryPolicy {
    /// The repository's name. A repository has one policy.
    #[replace]
    #[unique]
    #[api(name = "RepositoryName")]
    pub repository: String,
    /// The policy document (compared structurally).
    #[api(
        name = "PolicyText",
        values = "an IAM policy document (checked at preview)"
    )]
    pub policy: Value,
    #[output]
    pub id: String,
}

/// The image lifecycle policy of an ECR repository: which images ECR expires.
///
/// ```no_run
/// # fn program(stack: &mut cairn::Stack, repo: &cairn_aws::ecr::Repository) {
/// use cairn_aws::ecr::{LifecyclePolicy, LifecyclePolicyArgs};
/// LifecyclePolicy::new(stack, "keep-ten", LifecyclePolicyArgs::builder()
///     .repository(repo.name())
///     .policy(serde_json::json!({ "rules": [{
///         "rulePriority": 1,
///         "selection": { "tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": 10 },
///         "action": { "type": "expire" },
///     }]}))
///     .build());
/// # }
/// ```
#[cairn::resource(token = "aws:ecr/LifecyclePolicy", provider = AwsProvider)]
#[api(calls(PutLifecyclePolicy, GetLifecyclePolicy, DeleteLifecyclePolicy))]
pub struct LifecyclePolicy {
    /// The repository's name. A repository has one lifecycle policy.
    #[replace]
    #[unique]
    #[api(name = "RepositoryName")]
    pub repository: String,
    /// The lifecycle policy document (compared structurally).
    #[api(
        name = "LifecyclePolicyText",
        values = "an ECR lifecycle policy document"
    )]
    pub policy: Value,
    #[output]
    pub id: String,
}

fn repo_outputs(r: &aws_sdk_ecr::types::Repository) -> RepositoryOutputs {
    let text = |v: Option<&str>| v.unwrap_or_default().to_string();
    RepositoryOutputs {
        name: text(r.repository_name()),
        arn: text(r.repository_arn()),
        registry_id: text(r.registry_id()),
        repository_uri: text(r.repository_uri()),
    }
}

fn ecr_tags(t: &Tags) -> Vec<aws_sdk_ecr::types::Tag> {
    t.iter()
        .filter_map(|(k, v)| {
            aws_sdk_ecr::types::Tag::builder()
                .key(k)
                .value(v)
                .build()
                .ok()
        })
        .collect()
}

#[async_trait]
impl AwsResource for Repository {
    const TAGS: Tagging = Tagging::Ecr;

    async fn create(
        c: &Clients,
        ctx: &ResourceContext,
        _token: &str,
        i: &RepositoryInputs,
    ) -> Result<(String, RepositoryOutputs), ProviderError> {
        let mut req = c
            .ecr
            .create_repository()
            .repository_name(&i.name)
            .set_tags(Some(ecr_tags(&tags::with_cairn(ctx, i.tags.as_ref()))));
        if let Some(m) = &i.image_tag_mutability {
            req = req.image_tag_mutability(m.as_str().into());
        }
        if let Some(s) = i.scan_on_push {
            req = req.image_scanning_configuration(
                aws_sdk_ecr::types::ImageScanningConfiguration::builder()
                    .scan_on_push(s)
                    .build(),
            );
        }
        let out = req
            .send()
            .await
            .map_err(aws_on("CreateRepository", "name"))?;
        let r = out
            .repository()
            .ok_or_else(|| ProviderError::new("CreateRepository returned nothing"))?;
        Ok((i.name.clone(), repo_outputs(r)))
    }

    fn id_from_inputs(i: &Self::Inputs) -> Option<String> {
        Some(i.name.clone())
    }

    async fn read(
        c: &Clients,
        id: &str,
        i: Option<&RepositoryInputs>,
    ) -> Result<Option<(RepositoryInputs, RepositoryOutputs)>, ProviderError> {
        let Some(out) = found(
            c.ecr
                .describe_repositories()
                .repository_names(id)
                .send()
                .await,
            "DescribeRepositories",
        )?
        else {
            return Ok(None);
        };
        let Some(r) = out.repositories().first() else {
            return Ok(None);
        };
        let now = RepositoryInputs {
            name: r.repository_name().unwrap_or_default().to_string(),
            image_tag_mutability: r
                .image_tag_mutability()
                .and_then(|m| ImageTagMutability::parse(m.as_str())),
            scan_on_push: Some(
                r.image_scanning_configuration()
                    .map(|s| s.scan_on_push())
                    .unwrap_or(false),
            ),
            // Not AWS's: what the program asked for stands.
            force_delete: i.and_then(|i| i.force_delete),
            tags: None,
        };
        Ok(Some((now, repo_outputs(r))))
    }

    async fn update(
        c: &Clients,
        _ctx: &ResourceContext,
        id: &str,
        old: &RepositoryInputs,
        new: &RepositoryInputs,
    ) -> Result<RepositoryOutputs, ProviderError> {
        if old.image_tag_mutability != new.image_tag_mutability {
            let m = new
                .image_tag_mutability
                .unwrap_or(ImageTagMutability::Mutable);
            c.ecr
                .put_image_tag_mutability()
                .repository_name(id)
                .image_tag_mutability(m.as_str().into())
                .send()
                .await
                .map_err(aws_on("PutImageTagMutability", "image_tag_mutability"))?;
        }
        if old.scan_on_push != new.scan_on_push {
            c.ecr
                .put_image_scanning_configuration()
                .repository_name(id)
                .image_scanning_configuration(
                    aws_sdk_ecr::types::ImageScanningConfiguration::builder()
                        .scan_on_push(new.scan_on_push.unwrap_or(false))
                        .build(),
                )
                .send()
                .await
                .map_err(aws_on("PutImageScanningConfiguration", "scan_on_push"))?;
        }
        let (_, outputs) = Self::read(c, id, Some(new))
            .await?
            .ok_or_else(|| ProviderError::new(format!("repository {id} disappeared")))?;
        Ok(outputs)
    }

    async fn delete(
        c: &Clients,
        id: &str,
        i: &RepositoryInputs,
        _o: &RepositoryOutputs,
    ) -> Result<(), ProviderError> {
        gone(
            c.ecr
                .delete_repository()
                .repository_name(id)
                .force(i.force_delete.unwrap_or(false))
                .send()
                .await,
            "DeleteRepository",
        )
    }
}

async fn put_policy(c: &Clients, i: &RepositoryPolicyInputs) -> Result<(), ProviderError> {
    c.ecr
        .set_repository_policy()
        .repository_name(&i.repository)
        .policy_text(i.policy.to_string())
        .send()
        .await
        .map_err(|e| {
            let prop = if code(&e).as_deref() == Some("RepositoryNotFoundException") {
                "repository"
            } else {
                "policy"
            };
            aws_on("SetRepositoryPolicy", prop)(e)
        })?;
    Ok(())
}

#[async_trait]
impl AwsResource for RepositoryPolicy {
    const LOOKUP_BY_ID: bool = false;
    const IMPORT_ID: Option<&'static str> = Some("the repository's name");

    fn seed(id: &str) -> Option<RepositoryPolicyInputs> {
        Some(RepositoryPolicyInputs {
            repository: id.to_string(),
            policy: Value::Null,
        })
    }

    fn check(inputs: &PropMap) -> Vec<CheckFailure> {
        check_policy(inputs, "policy")
    }

    async fn create(
        c: &Clients,
        _ctx: &ResourceContext,
        _token: &str,
        i: &RepositoryPolicyInputs,
    ) -> Result<(String, RepositoryPolicyOutputs), ProviderError> {
        put_policy(c, i).await?;
        let id = i.repository.clone();
        Ok((id.clone(), RepositoryPolicyOutputs { id }))
    }

    fn id_from_inputs(i: &Self::Inputs) -> Option<String> {
        Some(i.repository.clone())
    }

    async fn read(
        c: &Clients,
        id: &str,
        i: Option<&RepositoryPolicyInputs>,
    ) -> Result<Option<(RepositoryPolicyInputs, RepositoryPolicyOutputs)>, ProviderError> {
        let i = by_record(i, Self::TYPE)?;
        let Some(out) = found(
            c.ecr
                .get_repository_policy()
                .repository_name(id)
                .send()
                .await,
            "GetRepositoryPolicy",
        )?
        else {
            return Ok(None);
        };
        let policy = out
            .policy_text()
            .and_then(|t| serde_json::from_str(t).ok())
            .unwrap_or(Value::Null);
        let now = RepositoryPolicyInputs {
            repository: i.repository.clone(),
            policy,
        };
        Ok(Some((now, RepositoryPolicyOutputs { id: id.to_string() })))
    }

    async fn update(
        c: &Clients,
        _ctx: &ResourceContext,
        id: &str,
        _o: &RepositoryPolicyInputs,
        n: &RepositoryPolicyInputs,
    ) -> Result<RepositoryPolicyOutputs, ProviderError> {
        put_policy(c, n).await?;
        Ok(RepositoryPolicyOutputs { id: id.to_string() })
    }

    async fn delete(
        c: &Clients,
        id: &str,
        _i: &RepositoryPolicyInputs,
        _o: &RepositoryPolicyOutputs,
    ) -> Result<(), ProviderError> {
        gone(
            c.ecr
                .delete_repository_policy()
                .repository_name(id)
                .send()
                .await,
            "DeleteRepositoryPolicy",
        )
    }
}

async fn put_lifecycle(c: &Clients, i: &LifecyclePolicyInputs) -> Result<(), ProviderError> {
    c.ecr
        .put_lifecycle_policy()
        .repository_name(&i.repository)
        .lifecycle_policy_text(i.policy.to_string())
        .send()
        .await
        .map_err(aws_on("PutLifecyclePolicy", "policy"))?;
    Ok(())
}

#[async_trait]
impl AwsResource for LifecyclePolicy {
    const LOOKUP_BY_ID: bool = false;
    const IMPORT_ID: Option<&'static str> = Some("the repository's name");

    fn seed(id: &str) -> Option<LifecyclePolicyInputs> {
        Some(LifecyclePolicyInputs {
            repository: id.to_string(),
            policy: Value::Null,
        })
    }

    fn check(inputs: &PropMap) -> Vec<CheckFailure> {
        check_policy(inputs, "policy")
    }

    async fn create(
        c: &Clients,
        _ctx: &ResourceContext,
        _token: &str,
        i: &LifecyclePolicyInputs,
    ) -> Result<(String, LifecyclePolicyOutputs), ProviderError> {
        put_lifecycle(c, i).await?;
        let id = i.repository.clone();
        Ok((id.clone(), LifecyclePolicyOutputs { id }))
    }

    fn id_from_inputs(i: &Self::Inputs) -> Option<String> {
        Some(i.repository.clone())
    }

    async fn read(
        c: &Clients,
        id: &str,
        i: Option<&LifecyclePolicyInputs>,
    ) -> Result<Option<(LifecyclePolicyInputs, LifecyclePolicyOutputs)>, ProviderError> {
        let i = by_record(i, Self::TYPE)?;
        let r = c
            .ecr
            .get_lifecycle_policy()
            .repository_name(id)
            .send()
            .await;
        let Some(out) = found(r, "GetLifecyclePolicy")? else {
            return Ok(None);
        };
        let policy = out
            .lifecycle_policy_text()
            .and_then(|t| serde_json::from_str(t).ok())
            .unwrap_or(Value::Null);
        let now = LifecyclePolicyInputs {
            repository: i.repository.clone(),
            policy,
        };
        Ok(Some((now, LifecyclePolicyOutputs { id: id.to_string() })))
    }

    async fn update(
        c: &Clients,
        _ctx: &ResourceContext,
        id: &str,
        _o: &LifecyclePolicyInputs,
        n: &LifecyclePolicyInputs,
    ) -> Result<LifecyclePolicyOutputs, ProviderError> {
        put_lifecycle(c, n).await?;
        Ok(LifecyclePolicyOutputs { id: id.to_string() })
    }

    async fn delete(
        c: &Clients,
        id: &str,
        _i: &LifecyclePolicyInputs,
        _o: &LifecyclePolicyOutputs,
    ) -> Result<(), ProviderError> {
        gone(
            c.ecr
                .delete_lifecycle_policy()
                .repository_name(id)
                .send()
                .await,
            "DeleteLifecyclePolicy",
        )
    }
}
