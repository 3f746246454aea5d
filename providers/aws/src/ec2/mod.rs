//! EC2 resources: the network (VPC, subnets, gateways, routes, security groups, endpoints).

mod instance;
mod internet_gateway;
mod route_table;
mod security_group;
mod subnet;
pub(crate) mod tagging;
mod vpc;
mod vpc_endpoint;

use std::marker::PhantomData;

pub use instance::{Instance, InstanceArgs};
pub use internet_gateway::{InternetGateway, InternetGatewayArgs};
pub use route_table::{
    Route, RouteArgs, RouteTable, RouteTableArgs, RouteTableAssociation, RouteTableAssociationArgs,
};
pub use security_group::{
    SecurityGroup, SecurityGroupArgs, SecurityGroupRule, SecurityGroupRuleArgs,
};
pub use subnet::{Subnet, SubnetArgs};
pub use vpc::{Vpc, VpcArgs};
pub use vpc_endpoint::{VpcEndpoint, VpcEndpointArgs};

use crate::resource::{AwsResource, Handler, Typed};

pub(crate) fn handler(ty: &str) -> Option<&'static dyn Handler> {
    Some(match ty {
        instance::Impl::TYPE => &Typed::<instance::Impl>(PhantomData),
        vpc::Impl::TYPE => &Typed::<vpc::Impl>(PhantomData),
        subnet::Impl::TYPE => &Typed::<subnet::Impl>(PhantomData),
        internet_gateway::Impl::TYPE => &Typed::<internet_gateway::Impl>(PhantomData),
        route_table::TableImpl::TYPE => &Typed::<route_table::TableImpl>(PhantomData),
        route_table::RouteImpl::TYPE => &Typed::<route_table::RouteImpl>(PhantomData),
        route_table::AssociationImpl::TYPE => &Typed::<route_table::AssociationImpl>(PhantomData),
        security_group::GroupImpl::TYPE => &Typed::<security_group::GroupImpl>(PhantomData),
        security_group::RuleImpl::TYPE => &Typed::<security_group::RuleImpl>(PhantomData),
        vpc_endpoint::Impl::TYPE => &Typed::<vpc_endpoint::Impl>(PhantomData),
        _ => return None,
    })
}

/// Deletes retrying `DependencyViolation` for a bounded time: what blocks a delete (an
/// endpoint's network interfaces, a detaching gateway) goes away by itself shortly after its
/// own delete returned.
pub(crate) async fn delete_retrying_dependencies<F, Fut>(f: F) -> Result<(), cairn::ProviderError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<(), (Option<String>, cairn::ProviderError)>>,
{
    crate::wait::retry_on(
        &["DependencyViolation"],
        std::time::Duration::from_secs(300),
        f,
    )
    .await
}
