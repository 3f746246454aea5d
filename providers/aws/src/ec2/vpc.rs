//! `aws:ec2/Vpc`: a VPC, with the DNS attributes that private-DNS endpoints need.

use async_trait::async_trait;
use aws_sdk_ec2::types::{AttributeBooleanValue, ResourceType, VpcAttributeName};
use cairn::{CheckFailure, PropMap, ProviderError, ResourceContext};

use super::tagging;
use crate::config::Clients;
use crate::error::{aws, aws_on, found, gone};
use crate::lookup::AwsLookup;
use crate::resource::{AwsResource, check_cidr};
use crate::tagging::Tagging;
use crate::{AwsProvider, Tags};

/// A VPC: an isolated network of the account and region, which subnets, route tables,
/// gateways, endpoints and security groups belong to.
///
/// ```no_run
/// # fn program(stack: &mut cairn::Stack) {
/// use cairn_aws::ec2::{Vpc, VpcArgs};
/// // Interface endpoints with private DNS need both DNS attributes on.
/// let vpc = Vpc::new(stack, "network", VpcArgs::builder()
///     .cidr_block("10.0.0.0/16")
///     .enable_dns_support(true)
///     .enable_dns_hostnames(true)
///     .build());
/// stack.export("vpcId", vpc.id());
/// # }
/// ```
#[cairn::resource(token = "aws:ec2/Vpc", provider = AwsProvider)]
#[api(calls(
    CreateVpc,
    DescribeVpcs,
    DescribeVpcAttribute,
    ModifyVpcAttribute,
    DeleteVpc
))]
pub struct Vpc {
    /// The IPv4 range, a CIDR block from `/16` to `/28`.
    #[replace]
    #[api(values = "a CIDR block, `/16` to `/28` (checked at preview)")]
    pub cidr_block: String,
    /// Whether the VPC's DNS server (at its base address plus two) answers.
    #[api(default = "`true`")]
    pub enable_dns_support: Option<bool>,
    /// Whether instances get public DNS names; private DNS for interface endpoints needs it.
    #[api(default = "`false`")]
    pub enable_dns_hostnames: Option<bool>,
    /// Whether instances run on shared or dedicated hardware.
    #[replace]
    #[api(default = "shared hardware (AWS's `default`)")]
    pub instance_tenancy: Option<InstanceTenancy>,
    /// Ask AWS for an IPv6 block (a /56 from Amazon's pool) beside the IPv4 one.
    #[replace]
    #[api(
        name = "AmazonProvidedIpv6CidrBlock",
        default = "`false`, no IPv6 block"
    )]
    pub assign_generated_ipv6_cidr_block: Option<bool>,
    #[tags]
    pub tags: Option<Tags>,
    #[output]
    pub id: String,
    #[output]
    pub arn: String,
    #[output]
    pub cidr_block: String,
    /// The IPv6 block AWS assigned, if one was asked for.
    #[output]
    pub ipv6_cidr_block: Option<String>,
}

cairn::string_enum! {
    /// Whether a [`Vpc`]'s instances share hardware with other accounts' (AWS calls that
    /// `default`; named for what it means here, and so as not to shadow `Default`).
    pub enum InstanceTenancy {
        Shared = "default",
        Dedicated = "dedicated",
    }
}

fn outputs(c: &Clients, vpc: &aws_sdk_ec2::types::Vpc, cidr: &str) -> VpcOutputs {
    let id = vpc.vpc_id().unwrap_or_default();
    let owner = vpc.owner_id();
    VpcOutputs {
        ipv6_cidr_block: vpc
            .ipv6_cidr_block_association_set()
            .iter()
            .find_map(|a| a.ipv6_cidr_block())
            .map(str::to_string),
        id: id.to_string(),
        arn: format!(
            "arn:aws:ec2:{}:{}:vpc/{id}",
            c.region,
            owner.unwrap_or_default()
        ),
        cidr_block: cidr.to_string(),
    }
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
impl AwsResource for Vpc {
    const TAGS: Tagging = Tagging::Ec2;

    fn check(inputs: &PropMap) -> Vec<CheckFailure> {
        check_cidr(inputs, "cidr_block").into_iter().collect()
    }

    async fn create(
        c: &Clients,
        ctx: &ResourceContext,
        _token: &str,
        i: &VpcInputs,
    ) -> Result<(String, VpcOutputs), ProviderError> {
        let out = c
            .ec2
            .create_vpc()
            .cidr_block(&i.cidr_block)
            .set_instance_tenancy(
                i.instance_tenancy
                    .map(|t| aws_sdk_ec2::types::Tenancy::from(t.as_str())),
            )
            .set_amazon_provided_ipv6_cidr_block(i.assign_generated_ipv6_cidr_block)
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
        Ok((id.clone(), outputs(c, vpc, &i.cidr_block)))
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
        _i: Option<&VpcInputs>,
    ) -> Result<Option<(VpcInputs, VpcOutputs)>, ProviderError> {
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
        let now = VpcInputs {
            cidr_block: cidr.clone(),
            enable_dns_support: Some(
                get_attribute(c, id, VpcAttributeName::EnableDnsSupport).await?,
            ),
            enable_dns_hostnames: Some(
                get_attribute(c, id, VpcAttributeName::EnableDnsHostnames).await?,
            ),
            instance_tenancy: vpc
                .instance_tenancy()
                .and_then(|t| InstanceTenancy::parse(t.as_str())),
            assign_generated_ipv6_cidr_block: Some(
                !vpc.ipv6_cidr_block_association_set().is_empty(),
            ),
            tags: None,
        };
        Ok(Some((now, outputs(c, vpc, &cidr))))
    }

    async fn update(
        c: &Clients,
        _ctx: &ResourceContext,
        id: &str,
        old: &VpcInputs,
        new: &VpcInputs,
    ) -> Result<VpcOutputs, ProviderError> {
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
        let (_, outputs) = Self::read(c, id, Some(new))
            .await?
            .ok_or_else(|| ProviderError::new(format!("VPC {id} disappeared")))?;
        Ok(outputs)
    }

    async fn delete(
        c: &Clients,
        id: &str,
        _i: &VpcInputs,
        _o: &VpcOutputs,
    ) -> Result<(), ProviderError> {
        super::delete_retrying_dependencies(|| async {
            gone(c.ec2.delete_vpc().vpc_id(id).send().await, "DeleteVpc")
        })
        .await
    }
}

/// Which VPC [`Vpc::lookup`] finds: every condition set must hold, and exactly one VPC may
/// match.
#[derive(Clone, Default)]
pub struct VpcFilter {
    /// The region's default VPC (or, `false`, any other).
    pub default: Option<bool>,
    /// Tags it carries (it may carry others too).
    pub tags: Option<cairn::Output<Tags>>,
}

impl Vpc {
    /// Looks up an existing VPC by what `filter` says of it (a lookup: read when the program
    /// is planned, never changed, deleted or recorded). By id, use [`Vpc::get`].
    #[track_caller]
    pub fn lookup(stack: &mut cairn::Stack, name: &str, filter: VpcFilter) -> Vpc {
        Vpc::lookup_with(stack, name, filter, cairn::ResourceOptions::default())
    }

    /// [`Vpc::lookup`] with options: of them, only `provider` and `depends_on` apply.
    #[track_caller]
    pub fn lookup_with(
        stack: &mut cairn::Stack,
        name: &str,
        filter: VpcFilter,
        opts: cairn::ResourceOptions,
    ) -> Vpc {
        let args = vec![
            (
                "default",
                filter.default.map(|d| cairn::Output::new(d).erase()),
            ),
            ("tags", filter.tags.map(|t| t.erase())),
        ];
        Vpc {
            resource: crate::lookup::declare(stack, VpcLookup::TOKEN, name, args, opts),
        }
    }
}

/// The lookup behind [`Vpc::lookup`]: its outputs are a [`Vpc`]'s.
pub(crate) struct VpcLookup;

#[derive(serde::Deserialize)]
pub(crate) struct VpcLookupArgs {
    default: Option<bool>,
    tags: Option<Tags>,
}

#[async_trait]
impl AwsLookup for VpcLookup {
    const TOKEN: &'static str = "aws:ec2/getVpc";
    const DECLARED_BY: &'static str = "ec2::Vpc::lookup";
    type Args = VpcLookupArgs;
    type Outputs = VpcOutputs;

    async fn read(c: &Clients, args: VpcLookupArgs) -> Result<VpcOutputs, ProviderError> {
        let filters = super::filters(
            args.default.map(|d| ("is-default", d.to_string())),
            &args.tags,
        );
        let out = c
            .ec2
            .describe_vpcs()
            .set_filters(Some(filters))
            .send()
            .await
            .map_err(aws("DescribeVpcs"))?;
        let asked = super::asked(args.default.map(|d| format!("default: {d}")), &args.tags);
        match out.vpcs() {
            [vpc] => Ok(outputs(c, vpc, vpc.cidr_block().unwrap_or_default())),
            [] => Err(crate::lookup::nothing_matches(format!(
                "no VPC with {asked}"
            ))),
            many => Err(crate::lookup::nothing_matches(format!(
                "{} VPCs have {asked} ({}), and a lookup reads one: narrow it",
                many.len(),
                many.iter()
                    .filter_map(|v| v.vpc_id())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))),
        }
    }
}
