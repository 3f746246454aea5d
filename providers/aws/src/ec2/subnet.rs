//! `aws:ec2/Subnet`.

use async_trait::async_trait;
use aws_sdk_ec2::types::{AttributeBooleanValue, ResourceType};
use cairn::{CheckFailure, PropMap, ProviderError, Related, ResourceContext};

use super::tagging;
use crate::config::Clients;
use crate::error::{aws_on, code, found, gone};
use crate::resource::{AwsResource, check_cidr, known};
use crate::tagging::Tagging;
use crate::{AwsProvider, Tags};

/// A subnet of a VPC.
#[cairn::resource(token = "aws:ec2/Subnet", provider = AwsProvider)]
#[unique(key(cidr_block), within(vpc_id))]
pub struct Subnet {
    #[replace]
    pub vpc_id: String,
    #[replace]
    pub cidr_block: String,
    #[replace]
    pub availability_zone: Option<String>,
    pub map_public_ip_on_launch: Option<bool>,
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

#[async_trait]
impl AwsResource for Subnet {
    const TAGS: Tagging = Tagging::Ec2;

    fn check(inputs: &PropMap) -> Vec<CheckFailure> {
        check_cidr(inputs, "cidr_block").into_iter().collect()
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
            .tag_specifications(tagging::spec(ctx, ResourceType::Subnet, i.tags.as_ref()))
            .send()
            .await
            .map_err(|e| {
                let prop = match code(&e).as_deref() {
                    Some("InvalidVpcID.NotFound") => "vpc_id",
                    Some(c) if c.contains("Zone") => "availability_zone",
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
        let (_, outputs) = Self::read(c, &id, i)
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
        _i: &SubnetInputs,
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
        let (_, o) = Self::read(c, id, new)
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
