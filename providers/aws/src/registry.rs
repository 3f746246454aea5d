//! The one list of the AWS resource types the provider serves, and the one of its lookups.
//! Adding either is one line here (and its module): nothing else dispatches by token.

use crate::lookup::{Erased, LookupHandler};
use crate::resource::{Handler, Typed};
use crate::{account, acm, ec2, ecr, ecs, elb, iam, logs, rds, route53, s3, secretsmanager, ssm};

static TYPES: &[&dyn Handler] = &[
    &Typed::<ec2::Vpc>::new(),
    &Typed::<ec2::Subnet>::new(),
    &Typed::<ec2::InternetGateway>::new(),
    &Typed::<ec2::Eip>::new(),
    &Typed::<ec2::NatGateway>::new(),
    &Typed::<ec2::RouteTable>::new(),
    &Typed::<ec2::Route>::new(),
    &Typed::<ec2::RouteTableAssociation>::new(),
    &Typed::<ec2::SecurityGroup>::new(),
    &Typed::<ec2::SecurityGroupRule>::new(),
    &Typed::<ec2::VpcEndpoint>::new(),
    &Typed::<ec2::Instance>::new(),
    &Typed::<ecr::Repository>::new(),
    &Typed::<ecr::RepositoryPolicy>::new(),
    &Typed::<ecr::LifecyclePolicy>::new(),
    &Typed::<ecr::Image>::new(),
    &Typed::<ecs::Cluster>::new(),
    &Typed::<ecs::TaskDefinition>::new(),
    &Typed::<ecs::Service>::new(),
    &Typed::<elb::LoadBalancer>::new(),
    &Typed::<elb::TargetGroup>::new(),
    &Typed::<elb::Listener>::new(),
    &Typed::<elb::ListenerRule>::new(),
    &Typed::<iam::Role>::new(),
    &Typed::<iam::RolePolicy>::new(),
    &Typed::<iam::RolePolicyAttachment>::new(),
    &Typed::<iam::InstanceProfile>::new(),
    &Typed::<logs::LogGroup>::new(),
    &Typed::<rds::SubnetGroup>::new(),
    &Typed::<rds::Instance>::new(),
    &Typed::<route53::Zone>::new(),
    &Typed::<route53::Record>::new(),
    &Typed::<acm::Certificate>::new(),
    &Typed::<acm::CertificateValidation>::new(),
    &Typed::<s3::Bucket>::new(),
    &Typed::<secretsmanager::Secret>::new(),
    &Typed::<ssm::Parameter>::new(),
];

/// The lookups with arguments and outputs of their own (a type's lookup by id, `Vpc::get`, is
/// its `read`).
static LOOKUPS: &[&dyn LookupHandler] = &[
    &Erased::<account::IdentityLookup>::new(),
    &Erased::<ec2::zones::ZonesLookup>::new(),
    &Erased::<ec2::VpcLookup>::new(),
    &Erased::<ec2::SubnetsLookup>::new(),
    &Erased::<ssm::ValueLookup>::new(),
];

/// Every registered lookup.
#[cfg_attr(not(test), allow(dead_code))]
pub(crate) fn lookups() -> &'static [&'static dyn LookupHandler] {
    LOOKUPS
}

/// The lookup with token `token`.
pub(crate) fn lookup(token: &str) -> Option<&'static dyn LookupHandler> {
    LOOKUPS.iter().copied().find(|l| l.token() == token)
}

/// Every registered type.
#[cfg_attr(not(test), allow(dead_code))]
pub(crate) fn all() -> &'static [&'static dyn Handler] {
    TYPES
}

/// The type with token `ty`.
pub(crate) fn handler(ty: &str) -> Option<&'static dyn Handler> {
    TYPES.iter().copied().find(|h| h.token() == ty)
}

#[cfg(test)]
mod tests;
