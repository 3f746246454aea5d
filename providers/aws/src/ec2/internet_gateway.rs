//! `aws:ec2/InternetGateway`, with its attachment to a VPC.

use async_trait::async_trait;
use aws_sdk_ec2::types::ResourceType;
use cairn::{ProviderError, ResourceContext};

use super::tagging;
use crate::config::Clients;
use crate::error::{aws, aws_on, code, found, gone, is_not_found};
use crate::resource::AwsResource;
use crate::tagging::Tagging;
use crate::{AwsProvider, Tags};

/// An internet gateway, attached to a VPC.
///
/// ```no_run
/// # fn program(stack: &mut cairn::Stack, vpc: &cairn_aws::ec2::Vpc) {
/// use cairn_aws::ec2::{InternetGateway, InternetGatewayArgs};
/// let igw = InternetGateway::new(stack, "igw", InternetGatewayArgs::builder()
///     .vpc_id(vpc.id())
///     .build());
/// # }
/// ```
#[cairn::resource(token = "aws:ec2/InternetGateway", provider = AwsProvider)]
#[api(calls(
    CreateInternetGateway,
    DescribeInternetGateways,
    AttachInternetGateway,
    DetachInternetGateway,
    DeleteInternetGateway
))]
pub struct InternetGateway {
    /// The VPC to attach to (a change detaches and re-attaches it).
    #[api(default = "detached")]
    pub vpc_id: Option<String>,
    #[tags]
    pub tags: Option<Tags>,
    #[output]
    pub id: String,
}

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
impl AwsResource for InternetGateway {
    const TAGS: Tagging = Tagging::Ec2;

    async fn create(
        c: &Clients,
        ctx: &ResourceContext,
        _token: &str,
        i: &InternetGatewayInputs,
    ) -> Result<(String, InternetGatewayOutputs), ProviderError> {
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
        Ok((id.clone(), InternetGatewayOutputs { id }))
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
        _i: Option<&InternetGatewayInputs>,
    ) -> Result<Option<(InternetGatewayInputs, InternetGatewayOutputs)>, ProviderError> {
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
        let now = InternetGatewayInputs {
            vpc_id: g
                .attachments()
                .first()
                .and_then(|a| a.vpc_id())
                .map(str::to_string),
            tags: None,
        };
        let outputs = InternetGatewayOutputs { id: id.to_string() };
        Ok(Some((now, outputs)))
    }

    async fn update(
        c: &Clients,
        _ctx: &ResourceContext,
        id: &str,
        old: &InternetGatewayInputs,
        new: &InternetGatewayInputs,
    ) -> Result<InternetGatewayOutputs, ProviderError> {
        if old.vpc_id != new.vpc_id {
            if let Some(vpc) = &old.vpc_id {
                detach(c, id, vpc).await?;
            }
            if let Some(vpc) = &new.vpc_id {
                attach(c, id, vpc).await?;
            }
        }
        Ok(InternetGatewayOutputs { id: id.to_string() })
    }

    async fn delete(
        c: &Clients,
        id: &str,
        i: &InternetGatewayInputs,
        _o: &InternetGatewayOutputs,
    ) -> Result<(), ProviderError> {
        if let Some(vpc) = &i.vpc_id {
            detach(c, id, vpc).await?;
        }
        super::delete_retrying_dependencies(|| async {
            gone(
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
