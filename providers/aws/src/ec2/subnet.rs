//! `aws:ec2/Subnet`.

use async_trait::async_trait;
use aws_sdk_ec2::types::{AttributeBooleanValue, ResourceType};
use cairn::{
    CheckFailure, Output, PropMap, ProviderError, Related, ResourceContext, TypeSchema, UniqueKey,
};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::tagging;
use crate::config::Clients;
use crate::error::{aws_on, code, found, gone_coded};
use crate::resource::{AwsResource, TagsAt, check_cidr, known};
use crate::{AwsProvider, Tags};

cairn::args! {
    /// Arguments of a [`Subnet`].
    pub struct SubnetArgs {
        pub vpc_id: Output<String>,
        pub cidr_block: Output<String>,
        pub availability_zone: Option<Output<String>>,
        pub map_public_ip_on_launch: Option<Output<bool>>,
        pub tags: Option<Output<Tags>>,
    }
}

cairn::resource!(
    /// A subnet of a VPC.
    Subnet, SubnetArgs, "aws:ec2/Subnet", AwsProvider, {
        id: String,
        arn: String,
        availability_zone: String,
        cidr_block: String,
    }
);

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Inputs {
    vpc_id: String,
    cidr_block: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    availability_zone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    map_public_ip_on_launch: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    tags: Option<Tags>,
}

pub(crate) struct Impl;

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
impl AwsResource for Impl {
    const TYPE: &'static str = "aws:ec2/Subnet";
    type Inputs = Inputs;
    const TAGS_AT: TagsAt = TagsAt::Ec2;

    fn schema() -> TypeSchema {
        TypeSchema {
            replace_on_changes: &["vpc_id", "cidr_block", "availability_zone"],
            unique: &[UniqueKey {
                key: &["cidr_block"],
                within: &["vpc_id"],
                auto_name: None,
            }],
        }
    }

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
            .filter(|(ty, _)| *ty == super::vpc::Impl::TYPE)
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
        i: &Inputs,
    ) -> Result<(String, Value), ProviderError> {
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
        i: &Inputs,
    ) -> Result<Option<(Inputs, Value)>, ProviderError> {
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
        let now = Inputs {
            vpc_id: s.vpc_id().unwrap_or_default().to_string(),
            cidr_block: cidr.clone(),
            availability_zone: i.availability_zone.as_ref().map(|_| az.clone()),
            map_public_ip_on_launch: i
                .map_public_ip_on_launch
                .map(|_| s.map_public_ip_on_launch().unwrap_or(false)),
            tags: tagging::user_tags(Some(s.tags()), i.tags.as_ref()),
        };
        let outputs = json!({
            "id": id,
            "arn": s.subnet_arn().map(str::to_string).unwrap_or_else(|| format!("arn:aws:ec2:{}:{}:subnet/{id}", c.region, s.owner_id().unwrap_or_default())),
            "availability_zone": az,
            "cidr_block": cidr,
        });
        Ok(Some((now, outputs)))
    }

    async fn update(
        c: &Clients,
        _ctx: &ResourceContext,
        id: &str,
        old: &Inputs,
        new: &Inputs,
    ) -> Result<Value, ProviderError> {
        if new.map_public_ip_on_launch != old.map_public_ip_on_launch {
            set_public_ip(c, id, new.map_public_ip_on_launch.unwrap_or(false)).await?;
        }
        tagging::sync(c, id, old.tags.as_ref(), new.tags.as_ref()).await?;
        let (_, o) = Self::read(c, id, new)
            .await?
            .ok_or_else(|| ProviderError::new(format!("subnet {id} disappeared")))?;
        Ok(o)
    }

    async fn delete(c: &Clients, id: &str, _i: &Inputs, _o: &Value) -> Result<(), ProviderError> {
        super::delete_retrying_dependencies(|| async {
            gone_coded(
                c.ec2.delete_subnet().subnet_id(id).send().await,
                "DeleteSubnet",
            )
        })
        .await
    }
}
