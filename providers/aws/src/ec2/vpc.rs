//! `aws:ec2/Vpc`: a VPC, with the DNS attributes that private-DNS endpoints need.

use async_trait::async_trait;
use aws_sdk_ec2::types::{AttributeBooleanValue, ResourceType, VpcAttributeName};
use cairn::{CheckFailure, Output, PropMap, ProviderError, ResourceContext, TypeSchema};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::tagging;
use crate::config::Clients;
use crate::error::{aws, aws_on, found, gone_coded};
use crate::resource::{AwsResource, TagsAt, check_cidr};
use crate::{AwsProvider, Tags};

cairn::args! {
    /// Arguments of a [`Vpc`].
    pub struct VpcArgs {
        /// The IPv4 CIDR block (replacing it replaces the VPC).
        pub cidr_block: Output<String>,
        pub enable_dns_support: Option<Output<bool>>,
        pub enable_dns_hostnames: Option<Output<bool>>,
        pub tags: Option<Output<Tags>>,
    }
}

cairn::resource!(
    /// A VPC.
    Vpc, VpcArgs, "aws:ec2/Vpc", AwsProvider, {
        id: String,
        arn: String,
        cidr_block: String,
    }
);

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Inputs {
    cidr_block: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    enable_dns_support: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    enable_dns_hostnames: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    tags: Option<Tags>,
}

pub(crate) struct Impl;

fn outputs(c: &Clients, id: &str, owner: Option<&str>, cidr: &str) -> Value {
    json!({
        "id": id,
        "arn": format!("arn:aws:ec2:{}:{}:vpc/{id}", c.region, owner.unwrap_or_default()),
        "cidr_block": cidr,
    })
}

async fn set_attribute(
    c: &Clients,
    id: &str,
    name: VpcAttributeName,
    value: bool,
) -> Result<(), ProviderError> {
    let v = AttributeBooleanValue::builder().value(value).build();
    let req = c.ec2.modify_vpc_attribute().vpc_id(id);
    let (req, prop) = match name {
        VpcAttributeName::EnableDnsSupport => (req.enable_dns_support(v), "enable_dns_support"),
        _ => (req.enable_dns_hostnames(v), "enable_dns_hostnames"),
    };
    req.send()
        .await
        .map_err(aws_on("ModifyVpcAttribute", prop))?;
    Ok(())
}

async fn get_attribute(
    c: &Clients,
    id: &str,
    name: VpcAttributeName,
) -> Result<bool, ProviderError> {
    let out = c
        .ec2
        .describe_vpc_attribute()
        .vpc_id(id)
        .attribute(name.clone())
        .send()
        .await
        .map_err(aws("DescribeVpcAttribute"))?;
    let v = match name {
        VpcAttributeName::EnableDnsSupport => out.enable_dns_support(),
        _ => out.enable_dns_hostnames(),
    };
    Ok(v.and_then(|v| v.value()).unwrap_or(false))
}

#[async_trait]
impl AwsResource for Impl {
    const TYPE: &'static str = "aws:ec2/Vpc";
    type Inputs = Inputs;
    const TAGS_AT: TagsAt = TagsAt::Ec2;

    fn schema() -> TypeSchema {
        TypeSchema {
            replace_on_changes: &["cidr_block"],
            unique: &[],
        }
    }

    fn check(inputs: &PropMap) -> Vec<CheckFailure> {
        check_cidr(inputs, "cidr_block").into_iter().collect()
    }

    async fn create(
        c: &Clients,
        ctx: &ResourceContext,
        _token: &str,
        i: &Inputs,
    ) -> Result<(String, Value), ProviderError> {
        let out = c
            .ec2
            .create_vpc()
            .cidr_block(&i.cidr_block)
            .tag_specifications(tagging::spec(ctx, ResourceType::Vpc, i.tags.as_ref()))
            .send()
            .await
            .map_err(aws_on("CreateVpc", "cidr_block"))?;
        let vpc = out
            .vpc()
            .ok_or_else(|| ProviderError::new("CreateVpc returned no VPC"))?;
        let id = vpc.vpc_id().unwrap_or_default().to_string();
        // DNS support must be on before hostnames can be.
        if let Some(v) = i.enable_dns_support {
            set_attribute(c, &id, VpcAttributeName::EnableDnsSupport, v).await?;
        }
        if let Some(v) = i.enable_dns_hostnames {
            set_attribute(c, &id, VpcAttributeName::EnableDnsHostnames, v).await?;
        }
        Ok((id.clone(), outputs(c, &id, vpc.owner_id(), &i.cidr_block)))
    }

    async fn find(
        c: &Clients,
        ctx: &ResourceContext,
        _token: &str,
        _i: &Self::Inputs,
    ) -> Result<Vec<String>, ProviderError> {
        tagging::find_tagged!(c, ctx, describe_vpcs, vpcs, vpc_id, "DescribeVpcs")
    }

    async fn read(
        c: &Clients,
        id: &str,
        i: &Inputs,
    ) -> Result<Option<(Inputs, Value)>, ProviderError> {
        let Some(out) = found(
            c.ec2.describe_vpcs().vpc_ids(id).send().await,
            "DescribeVpcs",
        )?
        else {
            return Ok(None);
        };
        let Some(vpc) = out.vpcs().first() else {
            return Ok(None);
        };
        let cidr = vpc.cidr_block().unwrap_or_default().to_string();
        let mut now = Inputs {
            cidr_block: cidr.clone(),
            enable_dns_support: None,
            enable_dns_hostnames: None,
            tags: tagging::user_tags(Some(vpc.tags()), i.tags.as_ref()),
        };
        if i.enable_dns_support.is_some() {
            now.enable_dns_support =
                Some(get_attribute(c, id, VpcAttributeName::EnableDnsSupport).await?);
        }
        if i.enable_dns_hostnames.is_some() {
            now.enable_dns_hostnames =
                Some(get_attribute(c, id, VpcAttributeName::EnableDnsHostnames).await?);
        }
        Ok(Some((now, outputs(c, id, vpc.owner_id(), &cidr))))
    }

    async fn update(
        c: &Clients,
        _ctx: &ResourceContext,
        id: &str,
        old: &Inputs,
        new: &Inputs,
    ) -> Result<Value, ProviderError> {
        if new.enable_dns_support != old.enable_dns_support {
            set_attribute(
                c,
                id,
                VpcAttributeName::EnableDnsSupport,
                new.enable_dns_support.unwrap_or(true),
            )
            .await?;
        }
        if new.enable_dns_hostnames != old.enable_dns_hostnames {
            set_attribute(
                c,
                id,
                VpcAttributeName::EnableDnsHostnames,
                new.enable_dns_hostnames.unwrap_or(false),
            )
            .await?;
        }
        tagging::sync(c, id, old.tags.as_ref(), new.tags.as_ref()).await?;
        let (_, outputs) = Self::read(c, id, new)
            .await?
            .ok_or_else(|| ProviderError::new(format!("VPC {id} disappeared")))?;
        Ok(outputs)
    }

    async fn delete(c: &Clients, id: &str, _i: &Inputs, _o: &Value) -> Result<(), ProviderError> {
        super::delete_retrying_dependencies(|| async {
            gone_coded(c.ec2.delete_vpc().vpc_id(id).send().await, "DeleteVpc")
        })
        .await
    }
}
