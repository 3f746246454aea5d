//! `aws:ec2/SecurityGroup` and `aws:ec2/SecurityGroupRule` (one rule per resource, so that
//! rules can reference groups without cycles and drift is visible rule by rule).

use async_trait::async_trait;
use aws_sdk_ec2::types::{IpPermission, IpRange, ResourceType, UserIdGroupPair};
use cairn::{Output, ProviderError, ResourceContext, TypeSchema, UniqueKey};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::tagging;
use crate::config::Clients;
use crate::error::{aws_on, code, found, gone, gone_coded};
use crate::names;
use crate::resource::{AwsResource, TagsAt};
use crate::wait;
use crate::{AwsProvider, Tags};

cairn::args! {
    /// Arguments of a [`SecurityGroup`].
    pub struct SecurityGroupArgs {
        pub vpc_id: Output<String>,
        /// Unique in its VPC. Left unset, Cairn names it `<resource name>-<random suffix>` and
        /// picks a new name for each replacement, so the new copy is created first.
        pub name: Option<Output<String>>,
        pub description: Output<String>,
        pub tags: Option<Output<Tags>>,
    }
}

cairn::resource!(
    /// A security group (rules are separate [`SecurityGroupRule`]s).
    SecurityGroup, SecurityGroupArgs, "aws:ec2/SecurityGroup", AwsProvider, { id: String, arn: String }
);

cairn::args! {
    /// Arguments of a [`SecurityGroupRule`].
    pub struct SecurityGroupRuleArgs {
        pub security_group_id: Output<String>,
        /// `ingress` or `egress`.
        pub direction: Output<String>,
        /// `tcp`, `udp`, `icmp` or `-1` (all).
        pub protocol: Output<String>,
        pub from_port: Output<i32>,
        pub to_port: Output<i32>,
        pub cidr_blocks: Option<Output<Vec<String>>>,
        pub source_security_group_id: Option<Output<String>>,
        pub description: Option<Output<String>>,
    }
}

cairn::resource!(
    /// One ingress or egress rule of a security group.
    SecurityGroupRule, SecurityGroupRuleArgs, "aws:ec2/SecurityGroupRule", AwsProvider, { id: String }
);

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct GroupInputs {
    vpc_id: String,
    name: String,
    description: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    tags: Option<Tags>,
}

pub(crate) struct GroupImpl;

#[async_trait]
impl AwsResource for GroupImpl {
    const TYPE: &'static str = "aws:ec2/SecurityGroup";
    type Inputs = GroupInputs;
    const TAGS_AT: TagsAt = TagsAt::Ec2;

    fn schema() -> TypeSchema {
        TypeSchema {
            replace_on_changes: &["vpc_id", "name", "description"],
            unique: &[UniqueKey {
                key: &["name"],
                within: &["vpc_id"],
                auto_name: Some(names::SECURITY_GROUP),
            }],
        }
    }

    async fn create(
        c: &Clients,
        ctx: &ResourceContext,
        _token: &str,
        i: &GroupInputs,
    ) -> Result<(String, Value), ProviderError> {
        let out = c
            .ec2
            .create_security_group()
            .vpc_id(&i.vpc_id)
            .group_name(&i.name)
            .description(&i.description)
            .tag_specifications(tagging::spec(
                ctx,
                ResourceType::SecurityGroup,
                i.tags.as_ref(),
            ))
            .send()
            .await
            .map_err(aws_on("CreateSecurityGroup", "name"))?;
        let id = out.group_id().unwrap_or_default().to_string();
        let arn = out
            .security_group_arn()
            .map(str::to_string)
            .unwrap_or_default();
        Ok((id.clone(), json!({ "id": id, "arn": arn })))
    }

    async fn find(
        c: &Clients,
        ctx: &ResourceContext,
        _token: &str,
        _i: &Self::Inputs,
    ) -> Result<Vec<String>, ProviderError> {
        tagging::find_tagged!(
            c,
            ctx,
            describe_security_groups,
            security_groups,
            group_id,
            "DescribeSecurityGroups"
        )
    }

    async fn read(
        c: &Clients,
        id: &str,
        i: &GroupInputs,
    ) -> Result<Option<(GroupInputs, Value)>, ProviderError> {
        let Some(out) = found(
            c.ec2.describe_security_groups().group_ids(id).send().await,
            "DescribeSecurityGroups",
        )?
        else {
            return Ok(None);
        };
        let Some(g) = out.security_groups().first() else {
            return Ok(None);
        };
        let now = GroupInputs {
            vpc_id: g.vpc_id().unwrap_or_default().to_string(),
            name: g.group_name().unwrap_or_default().to_string(),
            description: g.description().unwrap_or_default().to_string(),
            tags: tagging::user_tags(Some(g.tags()), i.tags.as_ref()),
        };
        let arn = g
            .security_group_arn()
            .map(str::to_string)
            .unwrap_or_default();
        Ok(Some((now, json!({ "id": id, "arn": arn }))))
    }

    async fn update(
        c: &Clients,
        _ctx: &ResourceContext,
        id: &str,
        old: &GroupInputs,
        new: &GroupInputs,
    ) -> Result<Value, ProviderError> {
        tagging::sync(c, id, old.tags.as_ref(), new.tags.as_ref()).await?;
        Ok(Self::read(c, id, new)
            .await?
            .map(|(_, o)| o)
            .unwrap_or_else(|| json!({ "id": id })))
    }

    async fn delete(
        c: &Clients,
        id: &str,
        _i: &GroupInputs,
        _o: &Value,
    ) -> Result<(), ProviderError> {
        super::delete_retrying_dependencies(|| async {
            gone_coded(
                c.ec2.delete_security_group().group_id(id).send().await,
                "DeleteSecurityGroup",
            )
        })
        .await
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct RuleInputs {
    security_group_id: String,
    direction: String,
    protocol: String,
    from_port: i32,
    to_port: i32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    cidr_blocks: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    source_security_group_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    description: Option<String>,
}

impl RuleInputs {
    fn permission(&self) -> IpPermission {
        let mut p = IpPermission::builder()
            .ip_protocol(&self.protocol)
            .from_port(self.from_port)
            .to_port(self.to_port);
        for cidr in self.cidr_blocks.iter().flatten() {
            p = p.ip_ranges(
                IpRange::builder()
                    .cidr_ip(cidr)
                    .set_description(self.description.clone())
                    .build(),
            );
        }
        if let Some(g) = &self.source_security_group_id {
            p = p.user_id_group_pairs(
                UserIdGroupPair::builder()
                    .group_id(g)
                    .set_description(self.description.clone())
                    .build(),
            );
        }
        p.build()
    }

    fn id(&self) -> String {
        let mut sources: Vec<String> = self.cidr_blocks.clone().unwrap_or_default();
        sources.extend(self.source_security_group_id.clone());
        format!(
            "{}_{}_{}_{}_{}_{}",
            self.security_group_id,
            self.direction,
            self.protocol,
            self.from_port,
            self.to_port,
            sources.join("+")
        )
    }

    fn matches(&self, p: &IpPermission) -> bool {
        let proto = p.ip_protocol().unwrap_or_default();
        if proto != self.protocol {
            return false;
        }
        if proto != "-1"
            && (p.from_port() != Some(self.from_port) || p.to_port() != Some(self.to_port))
        {
            return false;
        }
        let cidrs_ok = self.cidr_blocks.iter().flatten().all(|c| {
            p.ip_ranges()
                .iter()
                .any(|r| r.cidr_ip() == Some(c.as_str()))
        });
        let group_ok = self.source_security_group_id.as_ref().is_none_or(|g| {
            p.user_id_group_pairs()
                .iter()
                .any(|u| u.group_id() == Some(g.as_str()))
        });
        cidrs_ok && group_ok
    }
}

pub(crate) struct RuleImpl;

#[async_trait]
impl AwsResource for RuleImpl {
    const TYPE: &'static str = "aws:ec2/SecurityGroupRule";
    type Inputs = RuleInputs;

    fn schema() -> TypeSchema {
        TypeSchema {
            replace_on_changes: &[
                "security_group_id",
                "direction",
                "protocol",
                "from_port",
                "to_port",
                "cidr_blocks",
                "source_security_group_id",
                "description",
            ],
            unique: &[UniqueKey {
                key: &[
                    "direction",
                    "protocol",
                    "from_port",
                    "to_port",
                    "cidr_blocks",
                    "source_security_group_id",
                ],
                within: &["security_group_id"],
                auto_name: None,
            }],
        }
    }

    async fn create(
        c: &Clients,
        _ctx: &ResourceContext,
        _token: &str,
        i: &RuleInputs,
    ) -> Result<(String, Value), ProviderError> {
        // A group created a moment ago may not be visible to this call yet.
        let perm = i.permission();
        wait::retry_on(
            &["InvalidGroup.NotFound"],
            std::time::Duration::from_secs(60),
            || async {
                if i.direction == "egress" {
                    c.ec2
                        .authorize_security_group_egress()
                        .group_id(&i.security_group_id)
                        .ip_permissions(perm.clone())
                        .send()
                        .await
                        .map(|_| ())
                        .map_err(|e| {
                            (
                                code(&e),
                                aws_on("AuthorizeSecurityGroupEgress", "security_group_id")(e),
                            )
                        })
                } else {
                    c.ec2
                        .authorize_security_group_ingress()
                        .group_id(&i.security_group_id)
                        .ip_permissions(perm.clone())
                        .send()
                        .await
                        .map(|_| ())
                        .map_err(|e| {
                            (
                                code(&e),
                                aws_on("AuthorizeSecurityGroupIngress", "security_group_id")(e),
                            )
                        })
                }
            },
        )
        .await?;
        let id = i.id();
        Ok((id.clone(), json!({ "id": id })))
    }

    fn id_from_inputs(i: &Self::Inputs) -> Option<String> {
        Some(i.id())
    }

    async fn read(
        c: &Clients,
        id: &str,
        i: &RuleInputs,
    ) -> Result<Option<(RuleInputs, Value)>, ProviderError> {
        let Some(out) = found(
            c.ec2
                .describe_security_groups()
                .group_ids(&i.security_group_id)
                .send()
                .await,
            "DescribeSecurityGroups",
        )?
        else {
            return Ok(None);
        };
        let Some(g) = out.security_groups().first() else {
            return Ok(None);
        };
        let perms = if i.direction == "egress" {
            g.ip_permissions_egress()
        } else {
            g.ip_permissions()
        };
        Ok(perms
            .iter()
            .any(|p| i.matches(p))
            .then(|| (i.clone(), json!({ "id": id }))))
    }

    async fn update(
        _c: &Clients,
        _ctx: &ResourceContext,
        id: &str,
        _o: &RuleInputs,
        _n: &RuleInputs,
    ) -> Result<Value, ProviderError> {
        Ok(json!({ "id": id }))
    }

    async fn delete(
        c: &Clients,
        _id: &str,
        i: &RuleInputs,
        _o: &Value,
    ) -> Result<(), ProviderError> {
        let perm = i.permission();
        if i.direction == "egress" {
            gone(
                c.ec2
                    .revoke_security_group_egress()
                    .group_id(&i.security_group_id)
                    .ip_permissions(perm)
                    .send()
                    .await,
                "RevokeSecurityGroupEgress",
            )
        } else {
            gone(
                c.ec2
                    .revoke_security_group_ingress()
                    .group_id(&i.security_group_id)
                    .ip_permissions(perm)
                    .send()
                    .await,
                "RevokeSecurityGroupIngress",
            )
        }
    }
}
