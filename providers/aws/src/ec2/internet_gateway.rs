//! `aws:ec2/InternetGateway`, with its attachment to a VPC.

use async_trait::async_trait;
use aws_sdk_ec2::types::ResourceType;
use cairn::{Output, ProviderError, ResourceContext, TypeSchema};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::tagging;
use crate::config::Clients;
use crate::error::{aws, aws_on, code, found, gone_coded, is_not_found};
use crate::resource::{AwsResource, TagsAt};
use crate::{AwsProvider, Tags};

cairn::args! {
    /// Arguments of an [`InternetGateway`].
    pub struct InternetGatewayArgs {
        /// The VPC to attach to (changing it detaches and re-attaches in place).
        pub vpc_id: Option<Output<String>>,
        pub tags: Option<Output<Tags>>,
    }
}

cairn::resource!(
    /// An internet gateway, attached to a VPC.
    InternetGateway, InternetGatewayArgs, "aws:ec2/InternetGateway", AwsProvider, { id: String }
);

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Inputs {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    vpc_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    tags: Option<Tags>,
}

pub(crate) struct Impl;

async fn attach(c: &Clients, id: &str, vpc: &str) -> Result<(), ProviderError> {
    c.ec2
        .attach_internet_gateway()
        .internet_gateway_id(id)
        .vpc_id(vpc)
        .send()
        .await
        .map_err(aws_on("AttachInternetGateway", "vpc_id"))?;
    Ok(())
}

async fn detach(c: &Clients, id: &str, vpc: &str) -> Result<(), ProviderError> {
    match c
        .ec2
        .detach_internet_gateway()
        .internet_gateway_id(id)
        .vpc_id(vpc)
        .send()
        .await
    {
        Err(e) if is_not_found(&e) || code(&e).as_deref() == Some("Gateway.NotAttached") => Ok(()),
        r => r.map(|_| ()).map_err(aws("DetachInternetGateway")),
    }
}

#[async_trait]
impl AwsResource for Impl {
    const TYPE: &'static str = "aws:ec2/InternetGateway";
    type Inputs = Inputs;
    const TAGS_AT: TagsAt = TagsAt::Ec2;

    fn schema() -> TypeSchema {
        TypeSchema::default()
    }

    async fn create(
        c: &Clients,
        ctx: &ResourceContext,
        _token: &str,
        i: &Inputs,
    ) -> Result<(String, Value), ProviderError> {
        let out = c
            .ec2
            .create_internet_gateway()
            .tag_specifications(tagging::spec(
                ctx,
                ResourceType::InternetGateway,
                i.tags.as_ref(),
            ))
            .send()
            .await
            .map_err(aws("CreateInternetGateway"))?;
        let id = out
            .internet_gateway()
            .and_then(|g| g.internet_gateway_id())
            .unwrap_or_default()
            .to_string();
        if let Some(vpc) = &i.vpc_id {
            attach(c, &id, vpc).await?;
        }
        Ok((id.clone(), json!({ "id": id })))
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
            describe_internet_gateways,
            internet_gateways,
            internet_gateway_id,
            "DescribeInternetGateways"
        )
    }

    async fn read(
        c: &Clients,
        id: &str,
        i: &Inputs,
    ) -> Result<Option<(Inputs, Value)>, ProviderError> {
        let Some(out) = found(
            c.ec2
                .describe_internet_gateways()
                .internet_gateway_ids(id)
                .send()
                .await,
            "DescribeInternetGateways",
        )?
        else {
            return Ok(None);
        };
        let Some(g) = out.internet_gateways().first() else {
            return Ok(None);
        };
        let now = Inputs {
            vpc_id: g
                .attachments()
                .first()
                .and_then(|a| a.vpc_id())
                .map(str::to_string),
            tags: tagging::user_tags(Some(g.tags()), i.tags.as_ref()),
        };
        Ok(Some((now, json!({ "id": id }))))
    }

    async fn update(
        c: &Clients,
        _ctx: &ResourceContext,
        id: &str,
        old: &Inputs,
        new: &Inputs,
    ) -> Result<Value, ProviderError> {
        if old.vpc_id != new.vpc_id {
            if let Some(vpc) = &old.vpc_id {
                detach(c, id, vpc).await?;
            }
            if let Some(vpc) = &new.vpc_id {
                attach(c, id, vpc).await?;
            }
        }
        tagging::sync(c, id, old.tags.as_ref(), new.tags.as_ref()).await?;
        Ok(json!({ "id": id }))
    }

    async fn delete(c: &Clients, id: &str, i: &Inputs, _o: &Value) -> Result<(), ProviderError> {
        if let Some(vpc) = &i.vpc_id {
            detach(c, id, vpc).await?;
        }
        super::delete_retrying_dependencies(|| async {
            gone_coded(
                c.ec2
                    .delete_internet_gateway()
                    .internet_gateway_id(id)
                    .send()
                    .await,
                "DeleteInternetGateway",
            )
        })
        .await
    }
}
