//! `aws:ec2/Eip` and `aws:ec2/NatGateway`: a public address, and the gateway through which a
//! private subnet's instances and tasks reach the internet without being reachable from it.

use async_trait::async_trait;
use aws_sdk_ec2::types::{DomainType, Filter, ResourceType};
use cairn::{ProviderError, ResourceContext};

use super::tagging;
use crate::config::Clients;
use crate::error::{aws, aws_on, found, gone};
use crate::resource::AwsResource;
use crate::tagging::Tagging;
use crate::{AwsProvider, Tags, wait};

/// How long a NAT gateway may take to become available, or to be deleted (AWS: a minute or
/// two, sometimes more).
const NAT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(600);

/// An Elastic IP address in a VPC: a public IPv4 address the account holds until it is
/// released, given to a [`NatGateway`].
///
/// ```no_run
/// # fn program(stack: &mut cairn::Stack) {
/// use cairn_aws::ec2::{Eip, EipArgs};
/// let ip = Eip::new(stack, "nat-ip", EipArgs::default());
/// stack.export("natIp", ip.public_ip());
/// # }
/// ```
#[cairn::resource(token = "aws:ec2/Eip", provider = AwsProvider)]
#[api(calls(AllocateAddress, DescribeAddresses, ReleaseAddress))]
pub struct Eip {
    #[tags]
    pub tags: Option<Tags>,
    /// The allocation id (`eipalloc-…`), what a NAT gateway is given.
    #[output]
    pub id: String,
    #[output]
    pub public_ip: String,
}

/// A NAT gateway in a public subnet, through which private subnets reach the internet.
/// Public (with an Elastic IP) unless `connectivity_type` is `private`. Waited for until
/// available, and on delete until gone, so that its address can be released.
///
/// ```no_run
/// # fn program(stack: &mut cairn::Stack, public: &cairn_aws::ec2::Subnet, ip: &cairn_aws::ec2::Eip) {
/// use cairn_aws::ec2::{NatGateway, NatGatewayArgs};
/// let nat = NatGateway::new(stack, "nat", NatGatewayArgs::builder()
///     .subnet_id(public.id())
///     .allocation_id(ip.id())
///     .build());
/// # }
/// ```
#[cairn::resource(token = "aws:ec2/NatGateway", provider = AwsProvider)]
#[api(calls(CreateNatGateway, DescribeNatGateways, DeleteNatGateway))]
pub struct NatGateway {
    /// A public subnet (one with a route to an internet gateway).
    #[replace]
    pub subnet_id: String,
    /// The Elastic IP's allocation id ([`Eip::id`]); required for a public gateway.
    #[replace]
    #[api(default = "none, allowed only for a private gateway")]
    pub allocation_id: Option<String>,
    /// Whether it reaches the internet or only other networks.
    #[replace]
    #[api(default = "[`ConnectivityType::Public`]")]
    pub connectivity_type: Option<ConnectivityType>,
    #[tags]
    pub tags: Option<Tags>,
    #[output]
    pub id: String,
    #[output]
    pub public_ip: Option<String>,
    #[output]
    pub private_ip: Option<String>,
}

cairn::string_enum! {
    /// Whether a NAT gateway reaches the internet (`public`) or only other networks.
    pub enum ConnectivityType {
        Public = "public",
        Private = "private",
    }
}

async fn describe_address(
    c: &Clients,
    id: &str,
) -> Result<Option<aws_sdk_ec2::types::Address>, ProviderError> {
    let out = found(
        c.ec2.describe_addresses().allocation_ids(id).send().await,
        "DescribeAddresses",
    )?;
    Ok(out.and_then(|o| o.addresses().first().cloned()))
}

#[async_trait]
impl AwsResource for Eip {
    const TAGS: Tagging = Tagging::Ec2;

    async fn create(
        c: &Clients,
        ctx: &ResourceContext,
        _token: &str,
        i: &EipInputs,
    ) -> Result<(String, EipOutputs), ProviderError> {
        let out = c
            .ec2
            .allocate_address()
            .domain(DomainType::Vpc)
            .tag_specifications(tagging::spec(ctx, ResourceType::ElasticIp, i.tags.as_ref()))
            .send()
            .await
            .map_err(aws("AllocateAddress"))?;
        let id = out.allocation_id().unwrap_or_default().to_string();
        let public_ip = out.public_ip().unwrap_or_default().to_string();
        Ok((id.clone(), EipOutputs { id, public_ip }))
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
            describe_addresses,
            addresses,
            allocation_id,
            "DescribeAddresses"
        )
    }

    async fn read(
        c: &Clients,
        id: &str,
        _i: Option<&EipInputs>,
    ) -> Result<Option<(EipInputs, EipOutputs)>, ProviderError> {
        let Some(a) = describe_address(c, id).await? else {
            return Ok(None);
        };
        let outputs = EipOutputs {
            id: id.to_string(),
            public_ip: a.public_ip().unwrap_or_default().to_string(),
        };
        Ok(Some((EipInputs { tags: None }, outputs)))
    }

    async fn delete(
        c: &Clients,
        id: &str,
        _i: &EipInputs,
        _o: &EipOutputs,
    ) -> Result<(), ProviderError> {
        if describe_address(c, id).await?.is_none() {
            return Ok(());
        }
        // Still held by a NAT gateway being deleted (its delete returns before it lets go).
        wait::retry_on(
            &["InvalidIPAddress.InUse", "AuthFailure"],
            NAT_TIMEOUT,
            || async {
                gone(
                    c.ec2.release_address().allocation_id(id).send().await,
                    "ReleaseAddress",
                )
            },
        )
        .await
    }
}

async fn describe_nat(
    c: &Clients,
    id: &str,
) -> Result<Option<aws_sdk_ec2::types::NatGateway>, ProviderError> {
    let out = found(
        c.ec2
            .describe_nat_gateways()
            .nat_gateway_ids(id)
            .send()
            .await,
        "DescribeNatGateways",
    )?;
    Ok(out.and_then(|o| o.nat_gateways().first().cloned()))
}

fn state(g: &aws_sdk_ec2::types::NatGateway) -> &str {
    g.state().map(|s| s.as_str()).unwrap_or_default()
}

fn outputs_of(g: &aws_sdk_ec2::types::NatGateway) -> NatGatewayOutputs {
    let address = g.nat_gateway_addresses().first();
    NatGatewayOutputs {
        id: g.nat_gateway_id().unwrap_or_default().to_string(),
        public_ip: address.and_then(|a| a.public_ip()).map(str::to_string),
        private_ip: address.and_then(|a| a.private_ip()).map(str::to_string),
    }
}

#[async_trait]
impl AwsResource for NatGateway {
    const TAGS: Tagging = Tagging::Ec2;

    async fn create(
        c: &Clients,
        ctx: &ResourceContext,
        token: &str,
        i: &NatGatewayInputs,
    ) -> Result<(String, NatGatewayOutputs), ProviderError> {
        let out = c
            .ec2
            .create_nat_gateway()
            .subnet_id(&i.subnet_id)
            .set_allocation_id(i.allocation_id.clone())
            .set_connectivity_type(
                i.connectivity_type
                    .map(|t| aws_sdk_ec2::types::ConnectivityType::from(t.as_str())),
            )
            .client_token(token)
            .tag_specifications(tagging::spec(
                ctx,
                ResourceType::Natgateway,
                i.tags.as_ref(),
            ))
            .send()
            .await
            .map_err(aws_on("CreateNatGateway", "subnet_id"))?;
        let id = out
            .nat_gateway()
            .and_then(|g| g.nat_gateway_id())
            .unwrap_or_default()
            .to_string();
        let ready = wait::until(
            &format!("NAT gateway {id} to become available"),
            NAT_TIMEOUT,
            || async {
                let g = describe_nat(c, &id)
                    .await?
                    .ok_or_else(|| ProviderError::new(format!("NAT gateway {id} disappeared")))?;
                match state(&g) {
                    "available" => Ok(Some(g)),
                    "failed" | "deleting" | "deleted" => Err(ProviderError::new(format!(
                        "NAT gateway {id} is {}: {}",
                        state(&g),
                        g.failure_message().unwrap_or("no reason given")
                    ))),
                    _ => Ok(None),
                }
            },
        )
        .await?;
        Ok((id, outputs_of(&ready)))
    }

    /// The gateways of its subnet that are not on their way out (the erasure keeps those
    /// that carry the resource's tags; moto ignores tag filters on this call).
    async fn find(
        c: &Clients,
        _ctx: &ResourceContext,
        _token: &str,
        i: &Self::Inputs,
    ) -> Result<Vec<String>, ProviderError> {
        let out = c
            .ec2
            .describe_nat_gateways()
            .filter(
                Filter::builder()
                    .name("subnet-id")
                    .values(&i.subnet_id)
                    .build(),
            )
            .send()
            .await
            .map_err(aws("DescribeNatGateways"))?;
        Ok(out
            .nat_gateways()
            .iter()
            .filter(|g| !matches!(state(g), "deleting" | "deleted" | "failed"))
            .filter_map(|g| g.nat_gateway_id().map(str::to_string))
            .collect())
    }

    async fn read(
        c: &Clients,
        id: &str,
        _i: Option<&NatGatewayInputs>,
    ) -> Result<Option<(NatGatewayInputs, NatGatewayOutputs)>, ProviderError> {
        let Some(g) = describe_nat(c, id).await? else {
            return Ok(None);
        };
        // A deleted gateway stays listed for a while, as deleted.
        if matches!(state(&g), "deleting" | "deleted") {
            return Ok(None);
        }
        let now = NatGatewayInputs {
            subnet_id: g.subnet_id().unwrap_or_default().to_string(),
            allocation_id: g
                .nat_gateway_addresses()
                .first()
                .and_then(|a| a.allocation_id())
                .map(str::to_string),
            connectivity_type: g
                .connectivity_type()
                .and_then(|t| ConnectivityType::parse(t.as_str())),
            tags: None,
        };
        Ok(Some((now, outputs_of(&g))))
    }

    async fn delete(
        c: &Clients,
        id: &str,
        _i: &NatGatewayInputs,
        _o: &NatGatewayOutputs,
    ) -> Result<(), ProviderError> {
        gone(
            c.ec2.delete_nat_gateway().nat_gateway_id(id).send().await,
            "DeleteNatGateway",
        )?;
        // Its Elastic IP and its subnet are held until it is gone.
        wait::until(
            &format!("NAT gateway {id} to be deleted"),
            NAT_TIMEOUT,
            || async {
                Ok(describe_nat(c, id)
                    .await?
                    .is_none_or(|g| state(&g) == "deleted")
                    .then_some(()))
            },
        )
        .await
    }
}
