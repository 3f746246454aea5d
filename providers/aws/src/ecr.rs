//! ECR resources: `aws:ecr/Repository` and `aws:ecr/RepositoryPolicy`.

use std::marker::PhantomData;

use async_trait::async_trait;
use cairn::{Output, ProviderError, ResourceContext, TypeSchema, UniqueKey};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::config::Clients;
use crate::error::{aws, aws_on, code, found, gone};
use crate::names;
use crate::resource::{AwsResource, Handler, Typed};
use crate::{AwsProvider, Tags, tags};

pub(crate) fn handler(ty: &str) -> Option<&'static dyn Handler> {
    Some(match ty {
        RepositoryImpl::TYPE => &Typed::<RepositoryImpl>(PhantomData),
        PolicyImpl::TYPE => &Typed::<PolicyImpl>(PhantomData),
        LifecycleImpl::TYPE => &Typed::<LifecycleImpl>(PhantomData),
        _ => return None,
    })
}

cairn::args! {
    /// Arguments of a [`Repository`].
    pub struct RepositoryArgs {
        /// Unique in the account and region. Left unset, Cairn names it `<resource name>-<random suffix>` and
        /// picks a new name for each replacement, so the new copy is created first.
        pub name: Option<Output<String>>,
        /// `MUTABLE` or `IMMUTABLE`.
        pub image_tag_mutability: Option<Output<String>>,
        pub scan_on_push: Option<Output<bool>>,
        /// Delete even when it still holds images.
        pub force_delete: Option<Output<bool>>,
        pub tags: Option<Output<Tags>>,
    }
}

cairn::resource!(
    /// An ECR repository.
    Repository, RepositoryArgs, "aws:ecr/Repository", AwsProvider, {
        name: String,
        arn: String,
        registry_id: String,
        repository_uri: String,
    }
);

cairn::args! {
    /// Arguments of a [`RepositoryPolicy`].
    pub struct RepositoryPolicyArgs {
        pub repository: Output<String>,
        /// The policy document (compared structurally).
        pub policy: Output<Value>,
    }
}

cairn::resource!(
    /// The permissions policy of an ECR repository (e.g. letting another account pull).
    RepositoryPolicy, RepositoryPolicyArgs, "aws:ecr/RepositoryPolicy", AwsProvider, { id: String }
);

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct RepositoryInputs {
    name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    image_tag_mutability: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    scan_on_push: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    force_delete: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    tags: Option<Tags>,
}

pub(crate) struct RepositoryImpl;

fn repo_outputs(r: &aws_sdk_ecr::types::Repository) -> Value {
    json!({
        "name": r.repository_name(),
        "arn": r.repository_arn(),
        "registry_id": r.registry_id(),
        "repository_uri": r.repository_uri(),
    })
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
impl AwsResource for RepositoryImpl {
    const TYPE: &'static str = "aws:ecr/Repository";
    type Inputs = RepositoryInputs;

    fn schema() -> TypeSchema {
        // Repository names are unique in a registry.
        TypeSchema {
            replace_on_changes: &["name"],
            unique: &[UniqueKey {
                key: &["name"],
                within: &[],
                auto_name: Some(names::REPOSITORY),
            }],
        }
    }

    async fn create(
        c: &Clients,
        ctx: &ResourceContext,
        _token: &str,
        i: &RepositoryInputs,
    ) -> Result<(String, Value), ProviderError> {
        let mut req = c
            .ecr
            .create_repository()
            .repository_name(&i.name)
            .set_tags(Some(ecr_tags(&tags::with_cairn(ctx, i.tags.as_ref()))));
        if let Some(m) = &i.image_tag_mutability {
            req =
                req.image_tag_mutability(aws_sdk_ecr::types::ImageTagMutability::from(m.as_str()));
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

    async fn cairn_tags(c: &Clients, id: &str) -> Result<Option<Tags>, ProviderError> {
        let repos = c
            .ecr
            .describe_repositories()
            .repository_names(id)
            .send()
            .await
            .map_err(aws("DescribeRepositories"))?;
        let Some(arn) = repos
            .repositories()
            .first()
            .and_then(|r| r.repository_arn())
        else {
            return Ok(Some(Tags::new()));
        };
        let out = c
            .ecr
            .list_tags_for_resource()
            .resource_arn(arn)
            .send()
            .await
            .map_err(aws("ListTagsForResource"))?;
        Ok(Some(
            out.tags()
                .iter()
                .map(|t| (t.key().to_string(), t.value().to_string()))
                .collect(),
        ))
    }

    fn id_from_inputs(i: &Self::Inputs) -> Option<String> {
        Some(i.name.clone())
    }

    async fn read(
        c: &Clients,
        id: &str,
        i: &RepositoryInputs,
    ) -> Result<Option<(RepositoryInputs, Value)>, ProviderError> {
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
        let observed = match (&i.tags, r.repository_arn()) {
            (Some(_), Some(arn)) => c
                .ecr
                .list_tags_for_resource()
                .resource_arn(arn)
                .send()
                .await
                .map_err(aws("ListTagsForResource"))?
                .tags()
                .iter()
                .map(|t| (t.key().to_string(), t.value().to_string()))
                .collect(),
            _ => Vec::new(),
        };
        let now = RepositoryInputs {
            name: r.repository_name().unwrap_or_default().to_string(),
            image_tag_mutability: i
                .image_tag_mutability
                .as_ref()
                .and_then(|_| r.image_tag_mutability().map(|m| m.as_str().to_string())),
            scan_on_push: i.scan_on_push.map(|_| {
                r.image_scanning_configuration()
                    .map(|s| s.scan_on_push())
                    .unwrap_or(false)
            }),
            force_delete: i.force_delete,
            tags: if i.tags.is_some() {
                tags::user_part(observed, i.tags.as_ref())
            } else {
                None
            },
        };
        Ok(Some((now, repo_outputs(r))))
    }

    async fn update(
        c: &Clients,
        _ctx: &ResourceContext,
        id: &str,
        old: &RepositoryInputs,
        new: &RepositoryInputs,
    ) -> Result<Value, ProviderError> {
        if old.image_tag_mutability != new.image_tag_mutability {
            let m = new
                .image_tag_mutability
                .clone()
                .unwrap_or_else(|| "MUTABLE".into());
            c.ecr
                .put_image_tag_mutability()
                .repository_name(id)
                .image_tag_mutability(aws_sdk_ecr::types::ImageTagMutability::from(m.as_str()))
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
        let (_, outputs) = Self::read(c, id, new)
            .await?
            .ok_or_else(|| ProviderError::new(format!("repository {id} disappeared")))?;
        if old.tags != new.tags {
            let arn = outputs["arn"].as_str().unwrap_or_default().to_string();
            let (set, remove) = tags::changes(old.tags.as_ref(), new.tags.as_ref());
            if !set.is_empty() {
                c.ecr
                    .tag_resource()
                    .resource_arn(&arn)
                    .set_tags(Some(ecr_tags(&set)))
                    .send()
                    .await
                    .map_err(aws_on("TagResource", "tags"))?;
            }
            if !remove.is_empty() {
                c.ecr
                    .untag_resource()
                    .resource_arn(&arn)
                    .set_tag_keys(Some(remove))
                    .send()
                    .await
                    .map_err(aws_on("UntagResource", "tags"))?;
            }
        }
        Ok(outputs)
    }

    async fn delete(
        c: &Clients,
        id: &str,
        i: &RepositoryInputs,
        _o: &Value,
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

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct PolicyInputs {
    repository: String,
    policy: Value,
}

pub(crate) struct PolicyImpl;

async fn put_policy(c: &Clients, i: &PolicyInputs) -> Result<(), ProviderError> {
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
impl AwsResource for PolicyImpl {
    const TYPE: &'static str = "aws:ecr/RepositoryPolicy";
    type Inputs = PolicyInputs;

    fn schema() -> TypeSchema {
        TypeSchema {
            replace_on_changes: &["repository"],
            unique: &[UniqueKey {
                key: &["repository"],
                within: &[],
                auto_name: None,
            }],
        }
    }

    fn check(inputs: &cairn::PropMap) -> Vec<cairn::CheckFailure> {
        crate::resource::check_policy(inputs, "policy")
    }

    async fn create(
        c: &Clients,
        _ctx: &ResourceContext,
        _token: &str,
        i: &PolicyInputs,
    ) -> Result<(String, Value), ProviderError> {
        put_policy(c, i).await?;
        Ok((i.repository.clone(), json!({ "id": i.repository })))
    }

    fn id_from_inputs(i: &Self::Inputs) -> Option<String> {
        Some(i.repository.clone())
    }

    async fn read(
        c: &Clients,
        id: &str,
        i: &PolicyInputs,
    ) -> Result<Option<(PolicyInputs, Value)>, ProviderError> {
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
        Ok(Some((
            PolicyInputs {
                repository: i.repository.clone(),
                policy,
            },
            json!({ "id": id }),
        )))
    }

    async fn update(
        c: &Clients,
        _ctx: &ResourceContext,
        id: &str,
        _o: &PolicyInputs,
        n: &PolicyInputs,
    ) -> Result<Value, ProviderError> {
        put_policy(c, n).await?;
        Ok(json!({ "id": id }))
    }

    async fn delete(
        c: &Clients,
        id: &str,
        _i: &PolicyInputs,
        _o: &Value,
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

cairn::args! {
    /// Arguments of a [`LifecyclePolicy`].
    pub struct LifecyclePolicyArgs {
        pub repository: Output<String>,
        /// The lifecycle policy document (compared structurally).
        pub policy: Output<Value>,
    }
}

cairn::resource!(
    /// The image lifecycle policy of an ECR repository.
    LifecyclePolicy, LifecyclePolicyArgs, "aws:ecr/LifecyclePolicy", AwsProvider, { id: String }
);

pub(crate) struct LifecycleImpl;

async fn put_lifecycle(c: &Clients, i: &PolicyInputs) -> Result<(), ProviderError> {
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
impl AwsResource for LifecycleImpl {
    const TYPE: &'static str = "aws:ecr/LifecyclePolicy";
    type Inputs = PolicyInputs;

    fn schema() -> TypeSchema {
        PolicyImpl::schema()
    }

    fn check(inputs: &cairn::PropMap) -> Vec<cairn::CheckFailure> {
        PolicyImpl::check(inputs)
    }

    async fn create(
        c: &Clients,
        _ctx: &ResourceContext,
        _token: &str,
        i: &PolicyInputs,
    ) -> Result<(String, Value), ProviderError> {
        put_lifecycle(c, i).await?;
        Ok((i.repository.clone(), json!({ "id": i.repository })))
    }

    fn id_from_inputs(i: &Self::Inputs) -> Option<String> {
        Some(i.repository.clone())
    }

    async fn read(
        c: &Clients,
        id: &str,
        i: &PolicyInputs,
    ) -> Result<Option<(PolicyInputs, Value)>, ProviderError> {
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
        Ok(Some((
            PolicyInputs {
                repository: i.repository.clone(),
                policy,
            },
            json!({ "id": id }),
        )))
    }

    async fn update(
        c: &Clients,
        _ctx: &ResourceContext,
        id: &str,
        _o: &PolicyInputs,
        n: &PolicyInputs,
    ) -> Result<Value, ProviderError> {
        put_lifecycle(c, n).await?;
        Ok(json!({ "id": id }))
    }

    async fn delete(
        c: &Clients,
        id: &str,
        _i: &PolicyInputs,
        _o: &Value,
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
