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
pub use subnet::{Subnet, SubnetArgs, SubnetInputs, SubnetOutputs};
pub use vpc::{InstanceTenancy, Vpc, VpcArgs, VpcInputs, VpcOutputs};
pub use vpc_endpoint::{
    VpcEndpoint, VpcEndpointArgs, VpcEndpointInputs, VpcEndpointOutputs, VpcEndpointType,
};

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
