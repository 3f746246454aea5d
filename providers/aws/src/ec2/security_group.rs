//! `aws:ec2/SecurityGroup` and `aws:ec2/SecurityGroupRule`. A group's rules are declared
//! either inline (its `ingress` and `egress`, see [`inline`]) or as one rule resource each (so
//! that rules can reference groups without cycles and drift is visible rule by rule).

mod inline;

pub use inline::Rule;

use async_trait::async_trait;
use aws_sdk_ec2::types::{IpPermission, IpRange, ResourceType, UserIdGroupPair};
use cairn::{CheckFailure, PropMap, ProviderError, ResourceContext};

use super::tagging;
use crate::config::Clients;
use crate::error::{aws, aws_on, found, gone};
use crate::names;
use crate::resource::{AwsResource, by_record, known};
use crate::tagging::Tagging;
use crate::wait;
use crate::{AwsProvider, Tags};

/// A security group: a stateful firewall on the network interfaces it is given to. Its rules
/// are declared inline (`ingress`, `egress`) or as separate [`SecurityGroupRule`]s, not both
/// for one direction.
///
/// ```no_run
/// # fn program(stack: &mut cairn::Stack, vpc: &cairn_aws::ec2::Vpc) {
/// use cairn_aws::ec2::{Rule, SecurityGroup, SecurityGroupArgs};
/// let web = SecurityGroup::new(stack, "web", SecurityGroupArgs::builder()
///     .vpc_id(vpc.id())
///     .description("HTTPS in, anything out")
///     .ingress(vec![Rule::tcp(443).cidr("0.0.0.0/0")])
///     .egress(vec![Rule::all().cidr("0.0.0.0/0")])
///     .build());
/// # }
/// ```
#[cairn::resource(token = "aws:ec2/SecurityGroup", provider = AwsProvider)]
#[api(calls(
    CreateSecurityGroup,
    DescribeSecurityGroups,
    AuthorizeSecurityGroupIngress,
    AuthorizeSecurityGroupEgress,
    RevokeSecurityGroupIngress,
    RevokeSecurityGroupEgress,
    UpdateSecurityGroupRuleDescriptionsIngress,
    UpdateSecurityGroupRuleDescriptionsEgress,
    DeleteSecurityGroup
))]
pub struct SecurityGroup {
    /// The VPC it belongs to.
    #[replace]
    pub vpc_id: String,
    /// Unique in its VPC. Left unset, Cairn names it `<resource name>-<random suffix>` and
    /// picks a new name for each replacement, so the new copy is created first.
    #[replace]
    #[unique(within(vpc_id), name = names::SECURITY_GROUP)]
    #[api(
        name = "GroupName",
        values = "up to 255 characters; not starting with `sg-`"
    )]
    pub name: String,
    /// What the group is for (AWS requires one and cannot change it).
    #[replace]
    #[api(values = "up to 255 characters")]
    pub description: String,
    /// The group's inbound rules, exactly: set, Cairn adds what is missing and revokes what
    /// is not declared (in place); unset, it leaves them to [`SecurityGroupRule`]s.
    #[unordered]
    #[api(
        name = "IpPermissions",
        default = "not managed here: none, or what rules add"
    )]
    pub ingress: Option<Vec<Rule>>,
    /// The group's outbound rules, exactly, as `ingress`. Set, AWS's default allow-all egress
    /// rule goes unless it is declared (as Terraform does); unset, the default stays.
    #[unordered]
    #[api(
        name = "IpPermissionsEgress",
        default = "not managed here: AWS's allow-all rule, or what rules add"
    )]
    pub egress: Option<Vec<Rule>>,
    #[tags]
    pub tags: Option<Tags>,
    #[output]
    pub id: String,
    #[output]
    pub arn: String,
}

cairn::string_enum! {
    /// Which traffic a [`SecurityGroupRule`] lets through.
    pub enum Direction {
        Ingress = "ingress",
        Egress = "egress",
    }
}

cairn::string_enum! {
    /// The IP protocol of a [`SecurityGroupRule`].
    pub enum IpProtocol {
        Tcp = "tcp",
        Udp = "udp",
        Icmp = "icmp",
        /// Every protocol (and every port).
        All = "-1",
    }
}

/// One ingress or egress rule of a security group. Every property replaces it: AWS rules
/// cannot change.
///
/// ```no_run
/// # fn program(stack: &mut cairn::Stack, tasks: &cairn_aws::ec2::SecurityGroup, lb: &cairn_aws::ec2::SecurityGroup) {
/// use cairn_aws::ec2::{Direction, IpProtocol, SecurityGroupRule, SecurityGroupRuleArgs};
/// // The tasks take traffic from the load balancer only.
/// SecurityGroupRule::new(stack, "tasks-from-lb", SecurityGroupRuleArgs::builder()
///     .security_group_id(tasks.id())
///     .direction(Direction::Ingress)
///     .protocol(IpProtocol::Tcp)
///     .from_port(8080)
///     .to_port(8080)
///     .source_security_group_id(lb.id())
///     .build());
/// # }
/// ```
#[cairn::resource(token = "aws:ec2/SecurityGroupRule", provider = AwsProvider)]
#[api(calls(
    AuthorizeSecurityGroupIngress,
    AuthorizeSecurityGroupEgress,
    DescribeSecurityGroups,
    RevokeSecurityGroupIngress,
    RevokeSecurityGroupEgress
))]
#[unique(
    key(
        direction,
        protocol,
        from_port,
        to_port,
        cidr_blocks,
        source_security_group_id
    ),
    within(security_group_id)
)]
pub struct SecurityGroupRule {
    /// The group the rule belongs to.
    #[replace]
    #[api(name = "GroupId")]
    pub security_group_id: String,
    /// Inbound or outbound: which call adds it.
    #[replace]
    #[api(cairn)]
    pub direction: Direction,
    /// The IP protocol.
    #[replace]
    #[api(name = "IpProtocol")]
    pub protocol: IpProtocol,
    /// The first port (for ICMP, the type; -1: any).
    #[replace]
    #[api(values = "0 to 65535, or -1 with `IpProtocol::All` or ICMP")]
    pub from_port: i32,
    /// The last port (for ICMP, the code; -1: any).
    #[replace]
    #[api(values = "0 to 65535, or -1 with `IpProtocol::All` or ICMP")]
    pub to_port: i32,
    /// The IPv4 ranges it opens to. One peer only: these or `source_security_group_id`.
    #[replace]
    #[unordered]
    #[api(
        name = "IpRanges",
        default = "none: the peer is `source_security_group_id`"
    )]
    pub cidr_blocks: Option<Vec<String>>,
    /// Another security group whose members it opens to.
    #[replace]
    #[api(name = "UserIdGroupPairs", default = "none: the peer is `cidr_blocks`")]
    pub source_security_group_id: Option<String>,
    /// What the rule is for.
    #[replace]
    #[api(default = "none")]
    pub description: Option<String>,
    #[output]
    pub id: String,
}

impl SecurityGroupInputs {
    /// Brings the group's rules to the declared ones, in each direction the program manages.
    async fn converge(&self, c: &Clients, id: &str) -> Result<(), ProviderError> {
        if self.ingress.is_none() && self.egress.is_none() {
            return Ok(());
        }
        let group = describe_group(c, id)
            .await?
            .ok_or_else(|| ProviderError::new(format!("security group {id} disappeared")))?;
        if let Some(rules) = &self.ingress {
            inline::converge(c, id, Direction::Ingress, rules, group.ip_permissions()).await?;
        }
        if let Some(rules) = &self.egress {
            let held = group.ip_permissions_egress();
            inline::converge(c, id, Direction::Egress, rules, held).await?;
        }
        Ok(())
    }
}

/// The group, retrying while a group created a moment ago is not visible yet.
async fn describe_group(
    c: &Clients,
    id: &str,
) -> Result<Option<aws_sdk_ec2::types::SecurityGroup>, ProviderError> {
    let out = wait::retry_on(
        &["InvalidGroup.NotFound"],
        std::time::Duration::from_secs(60),
        || async {
            c.ec2
                .describe_security_groups()
                .group_ids(id)
                .send()
                .await
                .map_err(aws("DescribeSecurityGroups"))
        },
    )
    .await;
    match out {
        Ok(out) => Ok(out.security_groups().first().cloned()),
        Err(e) if e.code.as_deref() == Some("InvalidGroup.NotFound") => Ok(None),
        Err(e) => Err(e),
    }
}

#[async_trait]
impl AwsResource for SecurityGroup {
    const TAGS: Tagging = Tagging::Ec2;

    fn check(inputs: &PropMap) -> Vec<CheckFailure> {
        let mut failures = inline::check(known(inputs, "ingress"), "ingress");
        failures.extend(inline::check(known(inputs, "egress"), "egress"));
        failures
    }

    async fn create(
        c: &Clients,
        ctx: &ResourceContext,
        _token: &str,
        i: &SecurityGroupInputs,
    ) -> Result<(String, SecurityGroupOutputs), ProviderError> {
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
        i.converge(c, &id).await?;
        Ok((id.clone(), SecurityGroupOutputs { id, arn }))
    }

    async fn update(
        c: &Clients,
        _ctx: &ResourceContext,
        id: &str,
        _old: &SecurityGroupInputs,
        new: &SecurityGroupInputs,
    ) -> Result<SecurityGroupOutputs, ProviderError> {
        // Against what the group holds now, not what the state last saw: drift is undone too.
        new.converge(c, id).await?;
        let arn = describe_group(c, id)
            .await?
            .and_then(|g| g.security_group_arn().map(str::to_string))
            .unwrap_or_default();
        Ok(SecurityGroupOutputs {
            id: id.to_string(),
            arn,
        })
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
        i: Option<&SecurityGroupInputs>,
    ) -> Result<Option<(SecurityGroupInputs, SecurityGroupOutputs)>, ProviderError> {
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
        // Only the directions the program manages inline: the others belong to rule resources.
        // Read for no record (a lookup, an import), both, so that an import declares them.
        let rules = |declared: Option<&Option<Vec<Rule>>>, held| match declared {
            None => Some(inline::read_back(&[], held, id)),
            Some(d) => d.as_ref().map(|d| inline::read_back(d, held, id)),
        };
        let now = SecurityGroupInputs {
            vpc_id: g.vpc_id().unwrap_or_default().to_string(),
            name: g.group_name().unwrap_or_default().to_string(),
            description: g.description().unwrap_or_default().to_string(),
            ingress: rules(i.map(|i| &i.ingress), g.ip_permissions()),
            egress: rules(i.map(|i| &i.egress), g.ip_permissions_egress()),
            tags: None,
        };
        let arn = g
            .security_group_arn()
            .map(str::to_string)
            .unwrap_or_default();
        let id = id.to_string();
        Ok(Some((now, SecurityGroupOutputs { id, arn })))
    }

    async fn delete(
        c: &Clients,
        id: &str,
        _i: &SecurityGroupInputs,
        _o: &SecurityGroupOutputs,
    ) -> Result<(), ProviderError> {
        super::delete_retrying_dependencies(|| async {
            gone(
                c.ec2.delete_security_group().group_id(id).send().await,
                "DeleteSecurityGroup",
            )
        })
        .await
    }
}

impl SecurityGroupRuleInputs {
    fn permission(&self) -> IpPermission {
        let mut p = IpPermission::builder()
            .ip_protocol(self.protocol.as_str())
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

    /// Whether this is the allow-all egress rule AWS gives every new group in a VPC.
    fn is_aws_default_egress(&self) -> bool {
        self.direction == Direction::Egress
            && self.protocol == IpProtocol::All
            && self.source_security_group_id.is_none()
            && self.cidr_blocks.as_deref() == Some(&["0.0.0.0/0".to_string()][..])
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
        if proto != self.protocol.as_str() {
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

#[async_trait]
impl AwsResource for SecurityGroupRule {
    const LOOKUP_BY_ID: bool = false;
    async fn create(
        c: &Clients,
        _ctx: &ResourceContext,
        _token: &str,
        i: &SecurityGroupRuleInputs,
    ) -> Result<(String, SecurityGroupRuleOutputs), ProviderError> {
        // A group created a moment ago may not be visible to this call yet.
        let perm = i.permission();
        let made = wait::retry_on(
            &["InvalidGroup.NotFound"],
            std::time::Duration::from_secs(60),
            || async {
                match i.direction {
                    Direction::Egress => c
                        .ec2
                        .authorize_security_group_egress()
                        .group_id(&i.security_group_id)
                        .ip_permissions(perm.clone())
                        .send()
                        .await
                        .map(|_| ())
                        .map_err(aws_on("AuthorizeSecurityGroupEgress", "security_group_id")),
                    Direction::Ingress => c
                        .ec2
                        .authorize_security_group_ingress()
                        .group_id(&i.security_group_id)
                        .ip_permissions(perm.clone())
                        .send()
                        .await
                        .map(|_| ())
                        .map_err(aws_on("AuthorizeSecurityGroupIngress", "security_group_id")),
                }
            },
        )
        .await;
        match made {
            // AWS gave every new group this rule: declaring it takes it over (as Terraform
            // does), rather than failing on a rule that is already what the program wants.
            Err(e)
                if e.code.as_deref() == Some("InvalidPermission.Duplicate")
                    && i.is_aws_default_egress() =>
            {
                tracing::debug!(group = %i.security_group_id, "adopting the default egress rule");
            }
            made => made?,
        }
        let id = i.id();
        Ok((id.clone(), SecurityGroupRuleOutputs { id }))
    }

    fn id_from_inputs(i: &Self::Inputs) -> Option<String> {
        Some(i.id())
    }

    async fn read(
        c: &Clients,
        id: &str,
        i: Option<&SecurityGroupRuleInputs>,
    ) -> Result<Option<(SecurityGroupRuleInputs, SecurityGroupRuleOutputs)>, ProviderError> {
        let i = by_record(i, Self::TYPE)?;
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
        let perms = match i.direction {
            Direction::Egress => g.ip_permissions_egress(),
            Direction::Ingress => g.ip_permissions(),
        };
        let id = id.to_string();
        Ok(perms
            .iter()
            .any(|p| i.matches(p))
            .then(|| (i.clone(), SecurityGroupRuleOutputs { id })))
    }

    async fn delete(
        c: &Clients,
        _id: &str,
        i: &SecurityGroupRuleInputs,
        _o: &SecurityGroupRuleOutputs,
    ) -> Result<(), ProviderError> {
        let perm = i.permission();
        if i.direction == Direction::Egress {
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
