//! Account B's PrivateLink: interface endpoints for ECR (API and Docker) and CloudWatch Logs
//! behind a security group open on 443 to the private subnets only, and the S3 gateway endpoint
//! (image layers live in S3) on the private route tables.

use cairn::{Output, Stack};
use cairn_aws::ec2::{Direction, IpProtocol, VpcEndpointType};
use cairn_aws::ec2::{
    SecurityGroup, SecurityGroupArgs, SecurityGroupRule, SecurityGroupRuleArgs, VpcEndpoint,
    VpcEndpointArgs,
};

use crate::network::Network;
use crate::{ProviderRef, Settings, on};

/// The endpoints' security group, shared with the optional SSM endpoints.
pub(crate) fn security_group(
    stack: &mut Stack,
    s: &Settings,
    b: &ProviderRef,
    net: &Network,
) -> SecurityGroup {
    let sg = SecurityGroup::with(
        stack,
        "endpoint-sg",
        SecurityGroupArgs::builder()
            .vpc_id(net.vpc.id())
            .description("HTTPS from the private subnets to the interface endpoints")
            .maybe_tags(s.tags())
            .build(),
        on(b),
    );
    SecurityGroupRule::with(
        stack,
        "endpoint-https-from-private",
        SecurityGroupRuleArgs::builder()
            .security_group_id(sg.id())
            .direction(Direction::Ingress)
            .protocol(IpProtocol::Tcp)
            .from_port(443)
            .to_port(443)
            .cidr_blocks(Output::all(
                net.private_subnets.iter().map(|s| s.cidr_block()),
            ))
            .build(),
        on(b),
    );
    sg
}

/// One interface endpoint per service, in the private subnets, with private DNS.
pub(crate) fn interface(
    stack: &mut Stack,
    s: &Settings,
    b: &ProviderRef,
    net: &Network,
    sg: &SecurityGroup,
    service: &str,
) -> VpcEndpoint {
    VpcEndpoint::with(
        stack,
        &format!("endpoint-{}", service.replace('.', "-")),
        VpcEndpointArgs::builder()
            .vpc_id(net.vpc.id())
            .service_name(format!("com.amazonaws.{}.{service}", s.region))
            .vpc_endpoint_type(VpcEndpointType::Interface)
            .subnet_ids(Output::all(net.private_subnets.iter().map(|s| s.id())))
            .security_group_ids(Output::all([sg.id()]))
            .private_dns_enabled(true)
            .maybe_tags(s.tags())
            .build(),
        on(b),
    )
}

pub(crate) fn declare(
    stack: &mut Stack,
    s: &Settings,
    b: &ProviderRef,
    net: &Network,
) -> SecurityGroup {
    let sg = security_group(stack, s, b, net);
    for service in ["ecr.api", "ecr.dkr", "logs"] {
        interface(stack, s, b, net, &sg, service);
    }
    VpcEndpoint::with(
        stack,
        "endpoint-s3",
        VpcEndpointArgs::builder()
            .vpc_id(net.vpc.id())
            .service_name(format!("com.amazonaws.{}.s3", s.region))
            .vpc_endpoint_type(VpcEndpointType::Gateway)
            .route_table_ids(Output::all(net.private_route_tables.iter().map(|t| t.id())))
            .maybe_tags(s.tags())
            .build(),
        on(b),
    );
    sg
}
