//! `aws:ec2/VpcEndpoint`: interface endpoints (subnets, security groups, private DNS) and
//! gateway endpoints (route tables), each with an optional policy.

use std::collections::BTreeSet;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_ec2::types::{ResourceType, VpcEndpointType as SdkEndpointType};
use cairn::{CheckFailure, PropMap, ProviderError, ResourceContext};
use serde_json::Value;

use super::tagging;
use crate::config::Clients;
use crate::error::{aws, aws_on, code, found};
use crate::resource::{AwsResource, check_policy};
use crate::tagging::Tagging;
use crate::{AwsProvider, Tags, wait};

cairn::string_enum! {
    /// The kind of a [`VpcEndpoint`].
    pub enum VpcEndpointType {
        /// AWS PrivateLink: network interfaces in subnets, behind security groups.
        Interface = "Interface",
        /// Routes in route tables (S3, DynamoDB).
        Gateway = "Gateway",
        GatewayLoadBalancer = "GatewayLoadBalancer",
    }
}

/// A VPC endpoint: an AWS service reached from inside the VPC without the internet, as an
/// interface endpoint (AWS PrivateLink: network interfaces in subnets) or a gateway endpoint
/// (S3, DynamoDB: routes in route tables).
///
/// ```no_run
/// # fn program(stack: &mut cairn::Stack, vpc: &cairn_aws::ec2::Vpc, a: &cairn_aws::ec2::Subnet, sg: &cairn_aws::ec2::SecurityGroup) {
/// use cairn_aws::ec2::{VpcEndpoint, VpcEndpointArgs, VpcEndpointType};
/// // Fargate tasks in private subnets pull images through this one.
/// VpcEndpoint::new(stack, "ecr-dkr", VpcEndpointArgs::builder()
///     .vpc_id(vpc.id())
///     .service_name("com.amazonaws.us-east-1.ecr.dkr")
///     .vpc_endpoint_type(VpcEndpointType::Interface)
///     .subnet_ids(cairn::Output::all([a.id()]))
///     .security_group_ids(cairn::Output::all([sg.id()]))
///     .private_dns_enabled(true)
///     .build());
/// # }
/// ```
#[cairn::resource(token = "aws:ec2/VpcEndpoint", provider = AwsProvider)]
#[api(calls(
    CreateVpcEndpoint,
    DescribeVpcEndpoints,
    ModifyVpcEndpoint,
    DeleteVpcEndpoints
))]
#[unique(key(service_name), within(vpc_id))]
pub struct VpcEndpoint {
    /// The VPC it serves.
    #[replace]
    pub vpc_id: String,
    /// The service, e.g. `com.amazonaws.us-east-2.ecr.dkr`.
    #[replace]
    #[api(values = "`com.amazonaws.<region>.<service>`, or an endpoint service's name")]
    pub service_name: String,
    /// Interface (subnets) or gateway (route tables).
    #[replace]
    pub vpc_endpoint_type: VpcEndpointType,
    /// An interface endpoint's subnets, one per zone.
    #[unordered]
    #[api(default = "none (a gateway endpoint has none)")]
    pub subnet_ids: Option<Vec<String>>,
    /// An interface endpoint's security groups.
    #[unordered]
    #[api(name = "SecurityGroupIds", default = "the VPC's default group")]
    pub security_group_ids: Option<Vec<String>>,
    /// Whether the service's own DNS name resolves to the endpoint inside the VPC (needs the
    /// VPC's two DNS attributes).
    #[api(
        default = "AWS's default when created (`true` for an interface endpoint); `false` \
                     when a set value is removed"
    )]
    pub private_dns_enabled: Option<bool>,
    /// A gateway endpoint's route tables.
    #[unordered]
    #[api(default = "none")]
    pub route_table_ids: Option<Vec<String>>,
    /// The endpoint policy, a JSON document (compared structurally).
    #[api(name = "PolicyDocument", default = "full access")]
    pub policy: Option<Value>,
    #[tags]
    pub tags: Option<Tags>,
    #[output]
    pub id: String,
    #[output]
    pub dns_names: Vec<String>,
    #[output]
    pub state: String,
}

/// The code of a delete of an endpoint that is already gone.
const ENDPOINT_NOT_FOUND: &str = "InvalidVpcEndpointId.NotFound";

const READY_TIMEOUT: Duration = Duration::from_secs(600);

fn set(v: &Option<Vec<String>>) -> BTreeSet<String> {
    v.iter().flatten().cloned().collect()
}

/// Ids in `new` but not `old`, and in `old` but not `new`.
fn delta(old: &Option<Vec<String>>, new: &Option<Vec<String>>) -> (Vec<String>, Vec<String>) {
    let (o, n) = (set(old), set(new));
    (
        n.difference(&o).cloned().collect(),
        o.difference(&n).cloned().collect(),
    )
}

/// Reads the endpoint; `None` when it is gone (or deleted, which EC2 keeps listing a while).
async fn describe(
    c: &Clients,
    id: &str,
) -> Result<Option<aws_sdk_ec2::types::VpcEndpoint>, ProviderError> {
    let Some(out) = found(
        c.ec2
            .describe_vpc_endpoints()
            .vpc_endpoint_ids(id)
            .send()
            .await,
        "DescribeVpcEndpoints",
    )?
    else {
        return Ok(None);
    };
    Ok(out
        .vpc_endpoints()
        .first()
        .filter(|e| !matches!(state(e).as_str(), "deleted" | "deleting"))
        .cloned())
}

/// The endpoint's state in lower case: EC2 documents `Available` but sends `available`, which
/// the SDK's enum does not recognise, so states are compared as text.
fn state(e: &aws_sdk_ec2::types::VpcEndpoint) -> String {
    e.state()
        .map(|s| s.as_str().to_ascii_lowercase())
        .unwrap_or_default()
}

fn outputs(e: &aws_sdk_ec2::types::VpcEndpoint) -> VpcEndpointOutputs {
    VpcEndpointOutputs {
        id: e.vpc_endpoint_id().unwrap_or_default().to_string(),
        dns_names: e
            .dns_entries()
            .iter()
            .filter_map(|d| d.dns_name().map(str::to_string))
            .collect(),
        state: state(e),
    }
}

/// Waits for `available` (an interface endpoint takes a minute or two on AWS).
async fn wait_available(
    c: &Clients,
    id: &str,
) -> Result<aws_sdk_ec2::types::VpcEndpoint, ProviderError> {
    wait::until(
        &format!("VPC endpoint {id} to become available"),
        READY_TIMEOUT,
        || async {
            let e = describe(c, id)
                .await?
                .ok_or_else(|| ProviderError::new(format!("VPC endpoint {id} disappeared")))?;
            match state(&e).as_str() {
                "available" | "" => Ok(Some(e)),
                s @ ("failed" | "rejected" | "expired") => {
                    Err(ProviderError::new(format!("VPC endpoint {id} is {s}")))
                }
                _ => Ok(None),
            }
        },
    )
    .await
}

#[async_trait]
impl AwsResource for VpcEndpoint {
    const TAGS: Tagging = Tagging::Ec2;

    fn check(inputs: &PropMap) -> Vec<CheckFailure> {
        check_policy(inputs, "policy")
    }

    async fn create(
        c: &Clients,
        ctx: &ResourceContext,
        token: &str,
        i: &VpcEndpointInputs,
    ) -> Result<(String, VpcEndpointOutputs), ProviderError> {
        let out = c
            .ec2
            .create_vpc_endpoint()
            .client_token(token)
            .vpc_id(&i.vpc_id)
            .service_name(&i.service_name)
            .vpc_endpoint_type(SdkEndpointType::from(i.vpc_endpoint_type.as_str()))
            .set_subnet_ids(i.subnet_ids.clone())
            .set_security_group_ids(i.security_group_ids.clone())
            .set_private_dns_enabled(i.private_dns_enabled)
            .set_route_table_ids(i.route_table_ids.clone())
            .set_policy_document(i.policy.as_ref().map(Value::to_string))
            .tag_specifications(tagging::spec(
                ctx,
                ResourceType::VpcEndpoint,
                i.tags.as_ref(),
            ))
            .send()
            .await
            .map_err(aws_on("CreateVpcEndpoint", "service_name"))?;
        let id = out
            .vpc_endpoint()
            .and_then(|e| e.vpc_endpoint_id())
            .unwrap_or_default()
            .to_string();
        let e = wait_available(c, &id).await?;
        Ok((id, outputs(&e)))
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
            describe_vpc_endpoints,
            vpc_endpoints,
            vpc_endpoint_id,
            "DescribeVpcEndpoints",
            |x| !matches!(state(x).as_str(), "deleted" | "deleting" | "failed")
        )
    }

    async fn read(
        c: &Clients,
        id: &str,
        _i: Option<&VpcEndpointInputs>,
    ) -> Result<Option<(VpcEndpointInputs, VpcEndpointOutputs)>, ProviderError> {
        let Some(e) = describe(c, id).await? else {
            return Ok(None);
        };
        let list = |v: &[String]| Some(v.to_vec());
        let groups: Vec<String> = e
            .groups()
            .iter()
            .filter_map(|g| g.group_id().map(str::to_string))
            .collect();
        let policy = e
            .policy_document()
            .and_then(|doc| serde_json::from_str(doc).ok());
        let kind = e
            .vpc_endpoint_type()
            .map(|t| t.as_str())
            .unwrap_or_default();
        let now = VpcEndpointInputs {
            vpc_id: e.vpc_id().unwrap_or_default().to_string(),
            service_name: e.service_name().unwrap_or_default().to_string(),
            vpc_endpoint_type: VpcEndpointType::parse(kind).ok_or_else(|| {
                ProviderError::new(format!("VPC endpoint {id} is of an unknown type '{kind}'"))
            })?,
            subnet_ids: list(e.subnet_ids()),
            security_group_ids: list(&groups),
            private_dns_enabled: Some(e.private_dns_enabled().unwrap_or(false)),
            route_table_ids: list(e.route_table_ids()),
            policy,
            tags: None,
        };
        Ok(Some((now, outputs(&e))))
    }

    async fn update(
        c: &Clients,
        _ctx: &ResourceContext,
        id: &str,
        old: &VpcEndpointInputs,
        new: &VpcEndpointInputs,
    ) -> Result<VpcEndpointOutputs, ProviderError> {
        let (add_subnets, remove_subnets) = delta(&old.subnet_ids, &new.subnet_ids);
        let (add_groups, remove_groups) = delta(&old.security_group_ids, &new.security_group_ids);
        let (add_tables, remove_tables) = delta(&old.route_table_ids, &new.route_table_ids);
        let mut req = c.ec2.modify_vpc_endpoint().vpc_endpoint_id(id);
        let mut any = false;
        for (v, f) in [
            (&add_subnets, 0),
            (&remove_subnets, 1),
            (&add_groups, 2),
            (&remove_groups, 3),
            (&add_tables, 4),
            (&remove_tables, 5),
        ] {
            for x in v {
                any = true;
                req = match f {
                    0 => req.add_subnet_ids(x),
                    1 => req.remove_subnet_ids(x),
                    2 => req.add_security_group_ids(x),
                    3 => req.remove_security_group_ids(x),
                    4 => req.add_route_table_ids(x),
                    _ => req.remove_route_table_ids(x),
                };
            }
        }
        if old.private_dns_enabled != new.private_dns_enabled {
            any = true;
            req = req.private_dns_enabled(new.private_dns_enabled.unwrap_or(false));
        }
        if old.policy != new.policy {
            any = true;
            req = match &new.policy {
                Some(p) => req.policy_document(p.to_string()),
                None => req.reset_policy(true),
            };
        }
        if any {
            req.send().await.map_err(aws("ModifyVpcEndpoint"))?;
        }
        let e = wait_available(c, id).await?;
        Ok(outputs(&e))
    }

    async fn delete(
        c: &Clients,
        id: &str,
        _i: &VpcEndpointInputs,
        _o: &VpcEndpointOutputs,
    ) -> Result<(), ProviderError> {
        // Gone only if the endpoint is: another thing not found (moto: a route of the endpoint
        // missing from a table) means it was not deleted, and waiting would never end.
        let out = match c
            .ec2
            .delete_vpc_endpoints()
            .vpc_endpoint_ids(id)
            .send()
            .await
        {
            Err(e) if code(&e).as_deref() == Some(ENDPOINT_NOT_FOUND) => return Ok(()),
            r => r.map_err(aws("DeleteVpcEndpoints"))?,
        };
        if let Some(item) = out.unsuccessful().first() {
            let error = item.error();
            let code = error.and_then(|e| e.code()).unwrap_or_default();
            if code == ENDPOINT_NOT_FOUND {
                return Ok(());
            }
            return Err(ProviderError::new(format!(
                "DeleteVpcEndpoints: {code}: {}",
                error.and_then(|e| e.message()).unwrap_or_default()
            )));
        }
        // Its network interfaces hold the subnets and security groups until it is gone.
        wait::until(
            &format!("VPC endpoint {id} to be deleted"),
            READY_TIMEOUT,
            || async { Ok(describe(c, id).await?.is_none().then_some(())) },
        )
        .await
    }
}
