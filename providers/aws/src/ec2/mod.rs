//! EC2 resources: the network (VPC, subnets, gateways, routes, security groups, endpoints).

mod cidr;
mod instance;
mod internet_gateway;
mod nat_gateway;
mod route_table;
mod security_group;
mod subnet;
pub(crate) mod tagging;
mod vpc;
mod vpc_endpoint;
pub(crate) mod zones;

pub use cidr::cidr_subnet;
pub use instance::{Instance, InstanceArgs, InstanceInputs, InstanceOutputs};
pub use internet_gateway::{
    InternetGateway, InternetGatewayArgs, InternetGatewayInputs, InternetGatewayOutputs,
};
pub use nat_gateway::{
    ConnectivityType, Eip, EipArgs, EipInputs, EipOutputs, NatGateway, NatGatewayArgs,
    NatGatewayInputs, NatGatewayOutputs,
};
pub use route_table::{
    Route, RouteArgs, RouteInputs, RouteOutputs, RouteTable, RouteTableArgs, RouteTableAssociation,
    RouteTableAssociationArgs, RouteTableAssociationInputs, RouteTableAssociationOutputs,
    RouteTableInputs, RouteTableOutputs,
};
pub use security_group::{
    Direction, IpProtocol, Rule, SecurityGroup, SecurityGroupArgs, SecurityGroupInputs,
    SecurityGroupOutputs, SecurityGroupRule, SecurityGroupRuleArgs, SecurityGroupRuleInputs,
    SecurityGroupRuleOutputs,
};
pub(crate) use subnet::SubnetsLookup;
pub use subnet::{Subnet, SubnetArgs, SubnetFilter, SubnetInputs, SubnetOutputs, Subnets};
pub(crate) use vpc::VpcLookup;
pub use vpc::{InstanceTenancy, Vpc, VpcArgs, VpcFilter, VpcInputs, VpcOutputs};
pub use vpc_endpoint::{
    VpcEndpoint, VpcEndpointArgs, VpcEndpointInputs, VpcEndpointOutputs, VpcEndpointType,
};
pub use zones::AvailabilityZones;

/// Deletes retrying `DependencyViolation` for a bounded time: what blocks a delete (an
/// endpoint's network interfaces, a detaching gateway) goes away by itself shortly after its
/// own delete returned.
pub(crate) async fn delete_retrying_dependencies<F, Fut>(f: F) -> Result<(), cairn::ProviderError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<(), cairn::ProviderError>>,
{
    crate::wait::retry_on(
        &["DependencyViolation"],
        std::time::Duration::from_secs(300),
        f,
    )
    .await
}

/// EC2 filters for a lookup: one condition (`is-default`), and one per tag.
fn filters(
    condition: Option<(&str, String)>,
    tags: &Option<crate::Tags>,
) -> Vec<aws_sdk_ec2::types::Filter> {
    use aws_sdk_ec2::types::Filter;
    let tags = tags.iter().flatten();
    condition
        .map(|(name, value)| Filter::builder().name(name).values(value).build())
        .into_iter()
        .chain(tags.map(|(k, v)| Filter::builder().name(format!("tag:{k}")).values(v).build()))
        .collect()
}

/// What a lookup asked for, for its error: `default: true, tags Name=main`.
fn asked(condition: Option<String>, tags: &Option<crate::Tags>) -> String {
    let tags = tags.iter().flatten().map(|(k, v)| format!("tag {k}={v}"));
    let all: Vec<String> = condition.into_iter().chain(tags).collect();
    if all.is_empty() {
        "no condition".into()
    } else {
        all.join(", ")
    }
}
