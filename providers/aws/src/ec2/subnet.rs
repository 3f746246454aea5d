//! `aws:ec2/Subnet`.

use async_trait::async_trait;
use aws_sdk_ec2::types::{AttributeBooleanValue, ResourceType};
use cairn::{CheckFailure, PropMap, ProviderError, Related, ResourceContext};

use super::tagging;
use crate::config::Clients;
use crate::error::{aws, aws_on, code, found, gone};
use crate::lookup::AwsLookup;
use crate::resource::{AwsResource, check_cidr, known};
use crate::tagging::Tagging;
use crate::{AwsProvider, Tags};

/// A subnet of a VPC: a range of its addresses in one availability zone, where instances,
/// tasks, load balancers and interface endpoints get their addresses.
///
/// ```no_run
/// # fn program(stack: &mut cairn::Stack, vpc: &cairn_aws::ec2::Vpc) {
/// use cairn_aws::ec2::{Subnet, SubnetArgs};
/// let private = Subnet::new(stack, "private-a", SubnetArgs::builder()
///     .vpc_id(vpc.id())
///     .cidr_block("10.0.1.0/24")
///     .availability_zone("us-east-1a")
///     .build());
/// # }
/// ```
#[cairn::resource(token = "aws:ec2/Subnet", provider = AwsProvider)]
#[api(calls(
    CreateSubnet,
    DescribeSubnets,
    ModifySubnetAttribute,
    AssociateSubnetCidrBlock,
    DisassociateSubnetCidrBlock,
    DeleteSubnet
))]
#[unique(key(cidr_block), within(vpc_id))]
pub struct Subnet {
    /// The VPC it is part of.
    #[replace]
    pub vpc_id: String,
    /// Its IPv4 range, inside the VPC's and overlapping no other subnet's.
    #[replace]
    #[api(values = "a CIDR block, `/16` to `/28` (checked at preview)")]
    pub cidr_block: String,
    /// The zone (`us-east-1a`); see [`AvailabilityZones`](super::AvailabilityZones).
    #[replace]
    #[api(default = "a zone AWS picks")]
    pub availability_zone: Option<String>,
    /// Whether instances launched in it get a public IPv4 address (a public subnet's).
    #[api(default = "`false`")]
    pub map_public_ip_on_launch: Option<bool>,
    /// An IPv6 block of the VPC's, a `/64` (see [`cidr_subnet`](super::cidr_subnet)).
    #[api(default = "no IPv6 block", values = "a `/64` of the VPC's IPv6 block")]
    pub ipv6_cidr_block: Option<String>,
    /// Whether network interfaces made in the subnet get an IPv6 address.
    #[api(default = "`false`")]
    pub assign_ipv6_address_on_creation: Option<bool>,
    #[tags]
    pub tags: Option<Tags>,
    #[output]
    pub id: String,
    #[output]
    pub arn: String,
    #[output]
    pub availability_zone: String,
    #[output]
    pub cidr_block: String,
}

async fn set_public_ip(c: &Clients, id: &str, v: bool) -> Result<(), ProviderError> {
    c.ec2
        .modify_subnet_attribute()
        .subnet_id(id)
        .map_public_ip_on_launch(AttributeBooleanValue::builder().value(v).build())
        .send()
        .await
        .map_err(aws_on("ModifySubnetAttribute", "map_public_ip_on_launch"))?;
    Ok(())
}

async fn set_assign_ipv6(c: &Clients, id: &str, v: bool) -> Result<(), ProviderError> {
    c.ec2
        .modify_subnet_attribute()
        .subnet_id(id)
        .assign_ipv6_address_on_creation(AttributeBooleanValue::builder().value(v).build())
        .send()
        .await
        .map_err(aws_on(
            "ModifySubnetAttribute",
            "assign_ipv6_address_on_creation",
        ))?;
    Ok(())
}

/// The subnet's IPv6 blocks that are not going or gone: (association id, block).
fn ipv6_blocks(s: &aws_sdk_ec2::types::Subnet) -> Vec<(String, String)> {
    use aws_sdk_ec2::types::SubnetCidrBlockStateCode as State;
    s.ipv6_cidr_block_association_set()
        .iter()
        .filter(|a| {
            let state = a.ipv6_cidr_block_state().and_then(|s| s.state());
            // Not "no longer": moto spells the state in a shape the SDK reads as unknown.
            !state.is_some_and(|s| {
                matches!(
                    s,
                    State::Disassociated | State::Disassociating | State::Failed | State::Failing
                )
            })
        })
        .map(|a| {
            let id = a.association_id().unwrap_or_default().to_string();
            (id, a.ipv6_cidr_block().unwrap_or_default().to_string())
        })
        .collect()
}

/// Moves the subnet's IPv6 block to `block`: the old one goes first, as a subnet holds one.
async fn set_ipv6_block(
    c: &Clients,
    id: &str,
    block: Option<&String>,
) -> Result<(), ProviderError> {
    let subnets = c
        .ec2
        .describe_subnets()
        .subnet_ids(id)
        .send()
        .await
        .map_err(aws_on("DescribeSubnets", "ipv6_cidr_block"))?;
    let held = subnets
        .subnets()
        .first()
        .map(ipv6_blocks)
        .unwrap_or_default();
    for (association, cidr) in &held {
        if Some(cidr) != block {
            c.ec2
                .disassociate_subnet_cidr_block()
                .association_id(association)
                .send()
                .await
                .map_err(aws_on("DisassociateSubnetCidrBlock", "ipv6_cidr_block"))?;
        }
    }
    if let Some(block) = block.filter(|b| !held.iter().any(|(_, c)| c == *b)) {
        c.ec2
            .associate_subnet_cidr_block()
            .subnet_id(id)
            .ipv6_cidr_block(block)
            .send()
            .await
            .map_err(aws_on("AssociateSubnetCidrBlock", "ipv6_cidr_block"))?;
    }
    Ok(())
}

/// Checks that a known `ipv6_cidr_block` is an IPv6 `/64`, as AWS requires of a subnet's.
fn check_ipv6(inputs: &PropMap) -> Option<CheckFailure> {
    let block: String = known(inputs, "ipv6_cidr_block")?;
    let reason = match block.parse::<ipnet::Ipv6Net>() {
        Ok(net) if net.prefix_len() == 64 && net.trunc() == net => return None,
        Ok(net) if net.prefix_len() == 64 => {
            format!(
                "'{block}' has host bits set: did you mean '{}'?",
                net.trunc()
            )
        }
        Ok(net) => format!(
            "'{block}' is a /{}: a subnet's IPv6 block is a /64",
            net.prefix_len()
        ),
        Err(_) => format!("'{block}' is not an IPv6 CIDR block"),
    };
    Some(CheckFailure {
        property: Some("ipv6_cidr_block".into()),
        reason,
    })
}

#[async_trait]
impl AwsResource for Subnet {
    const TAGS: Tagging = Tagging::Ec2;

    fn check(inputs: &PropMap) -> Vec<CheckFailure> {
        check_cidr(inputs, "cidr_block")
            .into_iter()
            .chain(check_ipv6(inputs))
            .collect()
    }

    /// A subnet must lie inside its VPC: the VPC its `vpc_id` comes from says where that is,
    /// even at preview, before either exists.
    fn check_related(inputs: &PropMap, related: &Related<'_>) -> Vec<CheckFailure> {
        let parse = |p: &PropMap| {
            known::<String>(p, "cidr_block").and_then(|c| c.parse::<ipnet::Ipv4Net>().ok())
        };
        let Some(cidr) = parse(inputs) else {
            return Vec::new();
        };
        related
            .sources("vpc_id")
            .filter(|(ty, _)| *ty == super::Vpc::TYPE)
            .filter_map(|(_, vpc)| parse(vpc))
            .filter(|vpc| !vpc.contains(&cidr))
            .map(|vpc| CheckFailure {
                property: Some("cidr_block".into()),
                reason: format!("'{cidr}' is outside the VPC's CIDR block '{vpc}'"),
            })
            .collect()
    }

    async fn create(
        c: &Clients,
        ctx: &ResourceContext,
        _token: &str,
        i: &SubnetInputs,
    ) -> Result<(String, SubnetOutputs), ProviderError> {
        let out = c
            .ec2
            .create_subnet()
            .vpc_id(&i.vpc_id)
            .cidr_block(&i.cidr_block)
            .set_availability_zone(i.availability_zone.clone())
            .set_ipv6_cidr_block(i.ipv6_cidr_block.clone())
            .tag_specifications(tagging::spec(ctx, ResourceType::Subnet, i.tags.as_ref()))
            .send()
            .await
            .map_err(|e| {
                let prop = match code(&e).as_deref() {
                    Some("InvalidVpcID.NotFound") => "vpc_id",
                    Some(c) if c.contains("Zone") => "availability_zone",
                    Some(c) if c.contains("Ipv6") => "ipv6_cidr_block",
                    _ => "cidr_block",
                };
                aws_on("CreateSubnet", prop)(e)
            })?;
        let id = out
            .subnet()
            .and_then(|s| s.subnet_id())
            .unwrap_or_default()
            .to_string();
        if let Some(v) = i.map_public_ip_on_launch {
            set_public_ip(c, &id, v).await?;
        }
        if let Some(v) = i.assign_ipv6_address_on_creation {
            set_assign_ipv6(c, &id, v).await?;
        }
        let (_, outputs) = Self::read(c, &id, Some(i))
            .await?
            .ok_or_else(|| ProviderError::new(format!("subnet {id} disappeared")))?;
        Ok((id, outputs))
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
            describe_subnets,
            subnets,
            subnet_id,
            "DescribeSubnets"
        )
    }

    async fn read(
        c: &Clients,
        id: &str,
        _i: Option<&SubnetInputs>,
    ) -> Result<Option<(SubnetInputs, SubnetOutputs)>, ProviderError> {
        let Some(out) = found(
            c.ec2.describe_subnets().subnet_ids(id).send().await,
            "DescribeSubnets",
        )?
        else {
            return Ok(None);
        };
        let Some(s) = out.subnets().first() else {
            return Ok(None);
        };
        let az = s.availability_zone().unwrap_or_default().to_string();
        let cidr = s.cidr_block().unwrap_or_default().to_string();
        let now = SubnetInputs {
            vpc_id: s.vpc_id().unwrap_or_default().to_string(),
            cidr_block: cidr.clone(),
            availability_zone: Some(az.clone()),
            map_public_ip_on_launch: Some(s.map_public_ip_on_launch().unwrap_or(false)),
            ipv6_cidr_block: ipv6_blocks(s).into_iter().map(|(_, b)| b).next(),
            assign_ipv6_address_on_creation: Some(
                s.assign_ipv6_address_on_creation().unwrap_or(false),
            ),
            tags: None,
        };
        let arn = s.subnet_arn().map(str::to_string).unwrap_or_else(|| {
            let owner = s.owner_id().unwrap_or_default();
            format!("arn:aws:ec2:{}:{owner}:subnet/{id}", c.region)
        });
        let outputs = SubnetOutputs {
            id: id.to_string(),
            arn,
            availability_zone: az,
            cidr_block: cidr,
        };
        Ok(Some((now, outputs)))
    }

    async fn update(
        c: &Clients,
        _ctx: &ResourceContext,
        id: &str,
        old: &SubnetInputs,
        new: &SubnetInputs,
    ) -> Result<SubnetOutputs, ProviderError> {
        if new.map_public_ip_on_launch != old.map_public_ip_on_launch {
            set_public_ip(c, id, new.map_public_ip_on_launch.unwrap_or(false)).await?;
        }
        if new.ipv6_cidr_block != old.ipv6_cidr_block {
            set_ipv6_block(c, id, new.ipv6_cidr_block.as_ref()).await?;
        }
        if new.assign_ipv6_address_on_creation != old.assign_ipv6_address_on_creation {
            let v = new.assign_ipv6_address_on_creation.unwrap_or(false);
            set_assign_ipv6(c, id, v).await?;
        }
        let (_, o) = Self::read(c, id, Some(new))
            .await?
            .ok_or_else(|| ProviderError::new(format!("subnet {id} disappeared")))?;
        Ok(o)
    }

    async fn delete(
        c: &Clients,
        id: &str,
        _i: &SubnetInputs,
        _o: &SubnetOutputs,
    ) -> Result<(), ProviderError> {
        super::delete_retrying_dependencies(|| async {
            gone(
                c.ec2.delete_subnet().subnet_id(id).send().await,
                "DeleteSubnet",
            )
        })
        .await
    }
}

crate::lookup::handle! {
    /// Existing subnets, found by their VPC and tags (a lookup: read when the program is planned,
    /// never changed, deleted or recorded). At least one must match.
    Subnets {
        /// Their ids, ordered by availability zone, then id.
        ids: Vec<String>,
        /// Each one's availability zone, in the order of `ids`.
        availability_zones: Vec<String>,
    }
}

/// Which subnets [`Subnets::get`] finds: every condition set must hold.
#[derive(Clone, Default)]
pub struct SubnetFilter {
    /// The VPC they are in.
    pub vpc_id: Option<cairn::Output<String>>,
    /// Tags they carry (they may carry others too).
    pub tags: Option<cairn::Output<Tags>>,
}

impl Subnets {
    /// The subnets `filter` finds, with the default provider.
    #[track_caller]
    pub fn get(stack: &mut cairn::Stack, name: &str, filter: SubnetFilter) -> Subnets {
        Subnets::get_with(stack, name, filter, cairn::ResourceOptions::default())
    }

    /// [`Subnets::get`] with options: of them, only `provider` and `depends_on` apply.
    #[track_caller]
    pub fn get_with(
        stack: &mut cairn::Stack,
        name: &str,
        filter: SubnetFilter,
        opts: cairn::ResourceOptions,
    ) -> Subnets {
        let args = vec![
            ("vpc_id", filter.vpc_id.map(|v| v.erase())),
            ("tags", filter.tags.map(|t| t.erase())),
        ];
        Subnets {
            lookup: crate::lookup::declare(stack, SubnetsLookup::TOKEN, name, args, opts),
        }
    }
}

/// The lookup behind [`Subnets`].
pub(crate) struct SubnetsLookup;

#[derive(serde::Deserialize)]
pub(crate) struct SubnetsArgs {
    vpc_id: Option<String>,
    tags: Option<Tags>,
}

#[derive(serde::Serialize)]
pub(crate) struct SubnetsOutputs {
    ids: Vec<String>,
    availability_zones: Vec<String>,
}

#[async_trait]
impl AwsLookup for SubnetsLookup {
    const TOKEN: &'static str = "aws:ec2/getSubnets";
    const DECLARED_BY: &'static str = "ec2::Subnets::get";
    type Args = SubnetsArgs;
    type Outputs = SubnetsOutputs;

    async fn read(c: &Clients, args: SubnetsArgs) -> Result<SubnetsOutputs, ProviderError> {
        let vpc = args.vpc_id.clone().map(|v| ("vpc-id", v));
        let filters = super::filters(vpc, &args.tags);
        let mut found: Vec<(String, String)> = Vec::new();
        let mut pages = c
            .ec2
            .describe_subnets()
            .set_filters(Some(filters))
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(aws("DescribeSubnets"))?;
            found.extend(page.subnets().iter().filter_map(|s| {
                Some((
                    s.availability_zone()?.to_string(),
                    s.subnet_id()?.to_string(),
                ))
            }));
        }
        found.sort();
        if found.is_empty() {
            let vpc = args.vpc_id.map(|v| format!("VPC {v}"));
            return Err(crate::lookup::nothing_matches(format!(
                "no subnet with {}",
                super::asked(vpc, &args.tags)
            )));
        }
        let (availability_zones, ids) = found.into_iter().unzip();
        Ok(SubnetsOutputs {
            ids,
            availability_zones,
        })
    }
}
