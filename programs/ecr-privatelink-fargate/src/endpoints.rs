//! Account B's PrivateLink: interface endpoints for ECR (API and Docker) and CloudWatch Logs
//! behind a security group open on 443 to the private subnets only, and the S3 gateway endpoint
//! (image layers live in S3) on the private route tables.

use cairn::{Output, Stack};
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
        SecurityGroupArgs {
            vpc_id: net.vpc.id(),
            description: "HTTPS from the private subnets to the interface endpoints".into(),
            tags: s.tags(),
            ..Default::default()
        },
        on(b),
    );
    SecurityGroupRule::with(
        stack,
        "endpoint-https-from-private",
        SecurityGroupRuleArgs {
            security_group_id: sg.id(),
            direction: "ingress".into(),
            protocol: "tcp".into(),
            from_port: 443.into(),
            to_port: 443.into(),
            cidr_blocks: Some(Output::all(
                net.private_subnets.iter().map(|s| s.cidr_block()),
            )),
            ..Default::default()
        },
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
        VpcEndpointArgs {
            vpc_id: net.vpc.id(),
            service_name: format!("com.amazonaws.{}.{service}", s.region).into(),
            vpc_endpoint_type: "Interface".into(),
            subnet_ids: Some(Output::all(net.private_subnets.iter().map(|s| s.id()))),
            security_group_ids: Some(Output::all([sg.id()])),
            private_dns_enabled: Some(true.into()),
            tags: s.tags(),
            ..Default::default()
        },
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
        VpcEndpointArgs {
            vpc_id: net.vpc.id(),
            service_name: format!("com.amazonaws.{}.s3", s.region).into(),
            vpc_endpoint_type: "Gateway".into(),
            route_table_ids: Some(Output::all(net.private_route_tables.iter().map(|t| t.id()))),
            tags: s.tags(),
            ..Default::default()
        },
        on(b),
    );
    sg
}
