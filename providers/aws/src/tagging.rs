//! Tags, family by family: how each AWS service reads and changes a resource's tags, written
//! once per family. Every taggable type names its family (`AwsResource::TAGS`); the erasure
//! (`resource.rs`) then reads the tags back and applies changes to them for every type alike.

use cairn::ProviderError;
use serde_json::Value;

use crate::config::Clients;
use crate::error::{aws, aws_on, code};
use crate::{Tags, tags};

/// Where and how a resource type keeps its tags.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tagging {
    /// The type has no tags: its inputs identify it (see `AwsResource::owned`).
    None,
    /// EC2 keeps tags by resource id, whatever the kind (`DescribeTags`, `CreateTags`).
    Ec2,
    /// ECS, by ARN, which is the id (`ListTagsForResource`, `TagResource`).
    Ecs,
    /// ELBv2, by ARN, which is the id (`DescribeTags`, `AddTags`).
    Elb,
    /// An IAM role, by name, which is the id (`ListRoleTags`, `TagRole`).
    IamRole,
    /// CloudWatch Logs: read by group name (the id), changed by ARN (the `arn` output).
    Logs,
    /// ECR, by the repository's ARN (the `arn` output; looked up when only the name is known).
    Ecr,
    /// An S3 bucket, by name (the id), its tags set whole (`GetBucketTagging`,
    /// `PutBucketTagging`).
    S3,
    /// A Secrets Manager secret, by ARN, which is the id (`DescribeSecret`, `TagResource`).
    SecretsManager,
    /// An SSM parameter, by name, which is the id (`ListTagsForResource`,
    /// `AddTagsToResource`).
    Ssm,
    /// RDS, read and changed by ARN (the `arn` output); an instance and a subnet group are
    /// looked up by their name (the id) to read it.
    RdsInstance,
    RdsSubnetGroup,
    /// An ACM certificate, by ARN, which is the id (`ListTagsForCertificate`).
    Acm,
    /// A Route 53 hosted zone, by zone id, which is the id (`ChangeTagsForResource`).
    Route53,
}

/// The tags on an RDS resource, by ARN.
async fn rds_tags(c: &Clients, arn: Option<&str>) -> Result<Tags, ProviderError> {
    let Some(arn) = arn else {
        return Ok(Tags::new());
    };
    let out = c
        .rds
        .list_tags_for_resource()
        .resource_name(arn)
        .send()
        .await
        .map_err(aws("ListTagsForResource"))?;
    Ok(tags::collect(
        out.tag_list().iter().map(|t| (t.key(), t.value())),
    ))
}

impl Tagging {
    /// Every tag on `id`, Cairn's among them; `None` for a type without tags.
    pub(crate) async fn all(self, c: &Clients, id: &str) -> Result<Option<Tags>, ProviderError> {
        let pairs = match self {
            Tagging::None => return Ok(None),
            Tagging::Ec2 => {
                let filter = aws_sdk_ec2::types::Filter::builder()
                    .name("resource-id")
                    .values(id)
                    .build();
                let out = c
                    .ec2
                    .describe_tags()
                    .filters(filter)
                    .send()
                    .await
                    .map_err(aws("DescribeTags"))?;
                tags::collect(out.tags().iter().map(|t| (t.key(), t.value())))
            }
            Tagging::Ecs => {
                let out = c
                    .ecs
                    .list_tags_for_resource()
                    .resource_arn(id)
                    .send()
                    .await
                    .map_err(aws("ListTagsForResource"))?;
                tags::collect(out.tags().iter().map(|t| (t.key(), t.value())))
            }
            Tagging::Elb => {
                let out = c
                    .elb
                    .describe_tags()
                    .resource_arns(id)
                    .send()
                    .await
                    .map_err(aws("DescribeTags"))?;
                let all = out.tag_descriptions().iter().flat_map(|d| d.tags());
                tags::collect(all.map(|t| (t.key(), t.value())))
            }
            Tagging::IamRole => {
                let out = c
                    .iam
                    .list_role_tags()
                    .role_name(id)
                    .send()
                    .await
                    .map_err(aws("ListRoleTags"))?;
                tags::collect(out.tags().iter().map(|t| (Some(t.key()), Some(t.value()))))
            }
            Tagging::Logs => {
                // The one call that takes the group's name rather than its ARN, and the one
                // moto and AWS agree on.
                #[allow(deprecated)]
                let out = c
                    .logs
                    .list_tags_log_group()
                    .log_group_name(id)
                    .send()
                    .await
                    .map_err(aws("ListTagsLogGroup"))?;
                out.tags()
                    .cloned()
                    .unwrap_or_default()
                    .into_iter()
                    .collect()
            }
            Tagging::Ecr => {
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
                tags::collect(out.tags().iter().map(|t| (Some(t.key()), Some(t.value()))))
            }
            Tagging::S3 => match c.s3.get_bucket_tagging().bucket(id).send().await {
                Ok(out) => tags::collect(
                    out.tag_set()
                        .iter()
                        .map(|t| (Some(t.key()), Some(t.value()))),
                ),
                // A bucket without tags answers with an error, not an empty set.
                Err(e) if code(&e).as_deref() == Some("NoSuchTagSet") => Tags::new(),
                Err(e) => return Err(aws("GetBucketTagging")(e)),
            },
            Tagging::SecretsManager => {
                let out = c
                    .secrets
                    .describe_secret()
                    .secret_id(id)
                    .send()
                    .await
                    .map_err(aws("DescribeSecret"))?;
                tags::collect(out.tags().iter().map(|t| (t.key(), t.value())))
            }
            Tagging::RdsInstance => {
                let out = c
                    .rds
                    .describe_db_instances()
                    .db_instance_identifier(id)
                    .send()
                    .await
                    .map_err(aws("DescribeDBInstances"))?;
                let arn = out.db_instances().first().and_then(|d| d.db_instance_arn());
                rds_tags(c, arn).await?
            }
            Tagging::RdsSubnetGroup => {
                let out = c
                    .rds
                    .describe_db_subnet_groups()
                    .db_subnet_group_name(id)
                    .send()
                    .await
                    .map_err(aws("DescribeDBSubnetGroups"))?;
                let arn = out
                    .db_subnet_groups()
                    .first()
                    .and_then(|g| g.db_subnet_group_arn());
                rds_tags(c, arn).await?
            }
            Tagging::Acm => {
                let out = c
                    .acm
                    .list_tags_for_certificate()
                    .certificate_arn(id)
                    .send()
                    .await
                    .map_err(aws("ListTagsForCertificate"))?;
                tags::collect(out.tags().iter().map(|t| (Some(t.key()), t.value())))
            }
            Tagging::Route53 => {
                let out = c
                    .route53
                    .list_tags_for_resource()
                    .resource_type(aws_sdk_route53::types::TagResourceType::Hostedzone)
                    .resource_id(id)
                    .send()
                    .await
                    .map_err(aws("ListTagsForResource"))?;
                let set = out.resource_tag_set().map(|s| s.tags()).unwrap_or_default();
                tags::collect(set.iter().map(|t| (t.key(), t.value())))
            }
            Tagging::Ssm => {
                let out = c
                    .ssm
                    .list_tags_for_resource()
                    .resource_type(aws_sdk_ssm::types::ResourceTypeForTagging::Parameter)
                    .resource_id(id)
                    .send()
                    .await
                    .map_err(aws("ListTagsForResource"))?;
                tags::collect(
                    out.tag_list()
                        .iter()
                        .map(|t| (Some(t.key()), Some(t.value()))),
                )
            }
        };
        Ok(Some(pairs))
    }

    /// Brings the user's tags of `id` from `old` to `new` (Cairn's own are left alone).
    pub(crate) async fn sync(
        self,
        c: &Clients,
        id: &str,
        outputs: &Value,
        old: Option<&Tags>,
        new: Option<&Tags>,
    ) -> Result<(), ProviderError> {
        let (set, remove) = tags::changes(old, new);
        if set.is_empty() && remove.is_empty() {
            return Ok(());
        }
        let arn = || {
            outputs["arn"]
                .as_str()
                .map(str::to_string)
                .ok_or_else(|| ProviderError::new(format!("{id} has no ARN to tag")))
        };
        match self {
            Tagging::None => {}
            Tagging::Ec2 => {
                use aws_sdk_ec2::types::Tag;
                if !set.is_empty() {
                    let t = set
                        .into_iter()
                        .map(|(k, v)| Tag::builder().key(k).value(v).build());
                    let req = c
                        .ec2
                        .create_tags()
                        .resources(id)
                        .set_tags(Some(t.collect()));
                    req.send().await.map_err(aws_on("CreateTags", "tags"))?;
                }
                if !remove.is_empty() {
                    let t = remove.into_iter().map(|k| Tag::builder().key(k).build());
                    let req = c
                        .ec2
                        .delete_tags()
                        .resources(id)
                        .set_tags(Some(t.collect()));
                    req.send().await.map_err(aws_on("DeleteTags", "tags"))?;
                }
            }
            Tagging::Ecs => {
                use aws_sdk_ecs::types::Tag;
                if !set.is_empty() {
                    let t = set
                        .into_iter()
                        .map(|(k, v)| Tag::builder().key(k).value(v).build());
                    let req = c
                        .ecs
                        .tag_resource()
                        .resource_arn(id)
                        .set_tags(Some(t.collect()));
                    req.send().await.map_err(aws_on("TagResource", "tags"))?;
                }
                if !remove.is_empty() {
                    let req = c.ecs.untag_resource().resource_arn(id);
                    let req = req.set_tag_keys(Some(remove));
                    req.send().await.map_err(aws_on("UntagResource", "tags"))?;
                }
            }
            Tagging::Elb => {
                use aws_sdk_elasticloadbalancingv2::types::Tag;
                if !set.is_empty() {
                    let t = set
                        .into_iter()
                        .map(|(k, v)| Tag::builder().key(k).value(v).build());
                    let req = c
                        .elb
                        .add_tags()
                        .resource_arns(id)
                        .set_tags(Some(t.collect()));
                    req.send().await.map_err(aws_on("AddTags", "tags"))?;
                }
                if !remove.is_empty() {
                    let req = c.elb.remove_tags().resource_arns(id);
                    let req = req.set_tag_keys(Some(remove));
                    req.send().await.map_err(aws_on("RemoveTags", "tags"))?;
                }
            }
            Tagging::IamRole => {
                use aws_sdk_iam::types::Tag;
                if !set.is_empty() {
                    let t = set
                        .into_iter()
                        .filter_map(|(k, v)| Tag::builder().key(k).value(v).build().ok());
                    let req = c.iam.tag_role().role_name(id).set_tags(Some(t.collect()));
                    req.send().await.map_err(aws_on("TagRole", "tags"))?;
                }
                if !remove.is_empty() {
                    let req = c.iam.untag_role().role_name(id).set_tag_keys(Some(remove));
                    req.send().await.map_err(aws_on("UntagRole", "tags"))?;
                }
            }
            Tagging::Logs => {
                let arn = arn()?;
                if !set.is_empty() {
                    let req = c.logs.tag_resource().resource_arn(&arn);
                    let req = req.set_tags(Some(set.into_iter().collect()));
                    req.send().await.map_err(aws_on("TagResource", "tags"))?;
                }
                if !remove.is_empty() {
                    let req = c.logs.untag_resource().resource_arn(&arn);
                    let req = req.set_tag_keys(Some(remove));
                    req.send().await.map_err(aws_on("UntagResource", "tags"))?;
                }
            }
            Tagging::Ecr => {
                use aws_sdk_ecr::types::Tag;
                let arn = arn()?;
                if !set.is_empty() {
                    let t = set
                        .into_iter()
                        .filter_map(|(k, v)| Tag::builder().key(k).value(v).build().ok());
                    let req = c
                        .ecr
                        .tag_resource()
                        .resource_arn(&arn)
                        .set_tags(Some(t.collect()));
                    req.send().await.map_err(aws_on("TagResource", "tags"))?;
                }
                if !remove.is_empty() {
                    let req = c.ecr.untag_resource().resource_arn(&arn);
                    let req = req.set_tag_keys(Some(remove));
                    req.send().await.map_err(aws_on("UntagResource", "tags"))?;
                }
            }
            Tagging::S3 => {
                use aws_sdk_s3::types::{Tag, Tagging as TagSet};
                let mut all = Tagging::S3.all(c, id).await?.unwrap_or_default();
                for k in &remove {
                    all.remove(k);
                }
                all.extend(set);
                let tags = all
                    .into_iter()
                    .filter_map(|(k, v)| Tag::builder().key(k).value(v).build().ok())
                    .collect();
                let tagging = TagSet::builder()
                    .set_tag_set(Some(tags))
                    .build()
                    .map_err(|e| ProviderError::new(e.to_string()))?;
                c.s3.put_bucket_tagging()
                    .bucket(id)
                    .tagging(tagging)
                    .send()
                    .await
                    .map_err(aws_on("PutBucketTagging", "tags"))?;
            }
            Tagging::SecretsManager => {
                use aws_sdk_secretsmanager::types::Tag;
                if !set.is_empty() {
                    let t = set
                        .into_iter()
                        .map(|(k, v)| Tag::builder().key(k).value(v).build());
                    let req = c.secrets.tag_resource().secret_id(id);
                    let req = req.set_tags(Some(t.collect()));
                    req.send().await.map_err(aws_on("TagResource", "tags"))?;
                }
                if !remove.is_empty() {
                    let req = c.secrets.untag_resource().secret_id(id);
                    let req = req.set_tag_keys(Some(remove));
                    req.send().await.map_err(aws_on("UntagResource", "tags"))?;
                }
            }
            Tagging::RdsInstance | Tagging::RdsSubnetGroup => {
                use aws_sdk_rds::types::Tag;
                let arn = arn()?;
                if !set.is_empty() {
                    let t = set
                        .into_iter()
                        .map(|(k, v)| Tag::builder().key(k).value(v).build());
                    let req = c.rds.add_tags_to_resource().resource_name(&arn);
                    let req = req.set_tags(Some(t.collect()));
                    req.send()
                        .await
                        .map_err(aws_on("AddTagsToResource", "tags"))?;
                }
                if !remove.is_empty() {
                    let req = c.rds.remove_tags_from_resource().resource_name(&arn);
                    let req = req.set_tag_keys(Some(remove));
                    req.send()
                        .await
                        .map_err(aws_on("RemoveTagsFromResource", "tags"))?;
                }
            }
            Tagging::Acm => {
                use aws_sdk_acm::types::Tag;
                if !set.is_empty() {
                    let t = set
                        .into_iter()
                        .filter_map(|(k, v)| Tag::builder().key(k).value(v).build().ok());
                    let req = c.acm.add_tags_to_certificate().certificate_arn(id);
                    let req = req.set_tags(Some(t.collect()));
                    req.send()
                        .await
                        .map_err(aws_on("AddTagsToCertificate", "tags"))?;
                }
                if !remove.is_empty() {
                    let t = remove
                        .into_iter()
                        .filter_map(|k| Tag::builder().key(k).build().ok());
                    let req = c.acm.remove_tags_from_certificate().certificate_arn(id);
                    let req = req.set_tags(Some(t.collect()));
                    req.send()
                        .await
                        .map_err(aws_on("RemoveTagsFromCertificate", "tags"))?;
                }
            }
            Tagging::Route53 => {
                use aws_sdk_route53::types::{Tag, TagResourceType};
                let t: Vec<Tag> = set
                    .into_iter()
                    .map(|(k, v)| Tag::builder().key(k).value(v).build())
                    .collect();
                let req = c
                    .route53
                    .change_tags_for_resource()
                    .resource_type(TagResourceType::Hostedzone)
                    .resource_id(id)
                    .set_add_tags((!t.is_empty()).then_some(t))
                    .set_remove_tag_keys((!remove.is_empty()).then_some(remove));
                req.send()
                    .await
                    .map_err(aws_on("ChangeTagsForResource", "tags"))?;
            }
            Tagging::Ssm => {
                use aws_sdk_ssm::types::{ResourceTypeForTagging, Tag};
                if !set.is_empty() {
                    let t = set
                        .into_iter()
                        .filter_map(|(k, v)| Tag::builder().key(k).value(v).build().ok());
                    let req = c
                        .ssm
                        .add_tags_to_resource()
                        .resource_type(ResourceTypeForTagging::Parameter)
                        .resource_id(id)
                        .set_tags(Some(t.collect()));
                    req.send()
                        .await
                        .map_err(aws_on("AddTagsToResource", "tags"))?;
                }
                if !remove.is_empty() {
                    let req = c
                        .ssm
                        .remove_tags_from_resource()
                        .resource_type(ResourceTypeForTagging::Parameter)
                        .resource_id(id)
                        .set_tag_keys(Some(remove));
                    req.send()
                        .await
                        .map_err(aws_on("RemoveTagsFromResource", "tags"))?;
                }
            }
        }
        Ok(())
    }
}
