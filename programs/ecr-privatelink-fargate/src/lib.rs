//! The cross-account ECR + PrivateLink deployment of `shared/seeds/` as a Cairn program.
//!
//! Account A holds the ECR repository, with a policy that lets account B pull. Account B holds
//! a VPC with two public and two private subnets, the interface endpoints `ecr.api`, `ecr.dkr`
//! and `logs` (private DNS, 443 from the private subnets only) and the S3 gateway endpoint on
//! the private route tables, so that tasks in the private subnets pull images without any route
//! to the internet.
//!
//! Not yet declared (they need the ECS, IAM, ELBv2 and Logs resource types, still to come):
//! the log group, task execution role, cluster, task definition, Fargate service, load balancer
//! and the `externalUrl` output.

use cairn::{Output, ResourceOptions, Stack};
use cairn_aws::ec2::{
    InternetGateway, InternetGatewayArgs, Route, RouteArgs, RouteTable, RouteTableArgs,
    RouteTableAssociation, RouteTableAssociationArgs, SecurityGroup, SecurityGroupArgs,
    SecurityGroupRule, SecurityGroupRuleArgs, Subnet, SubnetArgs, Vpc, VpcArgs, VpcEndpoint,
    VpcEndpointArgs,
};
use cairn_aws::ecr::{Repository, RepositoryArgs, RepositoryPolicy, RepositoryPolicyArgs};
use cairn_aws::{AwsConfig, AwsProvider};
use serde_json::json;

const VPC_CIDR: &str = "10.0.0.0/16";
const PUBLIC: [(&str, &str, &str); 2] = [
    ("public-a", "10.0.0.0/24", "a"),
    ("public-b", "10.0.1.0/24", "b"),
];
const PRIVATE: [(&str, &str, &str); 2] = [
    ("private-a", "10.0.2.0/24", "a"),
    ("private-b", "10.0.3.0/24", "b"),
];

/// The actions account B may perform on account A's repository (from the seed document).
pub const PULL_ACTIONS: [&str; 4] = [
    "ecr:GetDownloadUrlForLayer",
    "ecr:BatchGetImage",
    "ecr:BatchCheckLayerAvailability",
    "ecr:ListImages",
];

fn account(stack: &mut Stack, name: &str, region: &str) -> cairn::ProviderRef {
    let config = stack.config();
    let provider = AwsProvider::new(AwsConfig {
        region: Some(region.to_string()),
        profile: config.get(&format!("{name}:profile")),
        role_arn: config.get(&format!("{name}:roleArn")),
        endpoint_url: config.get("aws:endpointUrl"),
    });
    stack.provider(name, provider)
}

/// The account id in a role ARN (`arn:aws:iam::222222222222:role/x`).
fn account_of(role_arn: &str) -> Option<String> {
    role_arn
        .split(':')
        .nth(4)
        .filter(|a| !a.is_empty())
        .map(str::to_string)
}

pub fn program(stack: &mut Stack) {
    let region: String = stack.config().get_or("aws:region", "us-east-2".to_string());
    let account_b_id: Option<String> = stack
        .config()
        .get::<String>("accountB:roleArn")
        .and_then(|arn| account_of(&arn))
        .or_else(|| stack.config().get("accountB:accountId"));
    let a = account(stack, "accountA", &region);
    let b = account(stack, "accountB", &region);
    let in_a = || ResourceOptions::default().provider(&a);
    let in_b = || ResourceOptions::default().provider(&b);

    // ---- Account A: the registry --------------------------------------------------------
    let repo = Repository::with(
        stack,
        "repository",
        RepositoryArgs {
            name: "ecrprivatelink".into(),
            force_delete: Some(true.into()),
            ..Default::default()
        },
        in_a(),
    );
    // Without a role for B (the single-account case) the principal is the registry's own account.
    let principal = match account_b_id {
        Some(id) => Output::new(id),
        None => repo.registry_id(),
    };
    RepositoryPolicy::with(
        stack,
        "repository-policy",
        RepositoryPolicyArgs {
            repository: repo.name(),
            policy: principal.map(|account| {
                json!({
                    "Version": "2012-10-17",
                    "Statement": [{
                        "Sid": "AllowPullFromAccountB",
                        "Effect": "Allow",
                        "Principal": { "AWS": format!("arn:aws:iam::{account}:root") },
                        "Action": PULL_ACTIONS,
                    }]
                })
            }),
        },
        in_a(),
    );

    // ---- Account B: the network ---------------------------------------------------------
    let vpc = Vpc::with(
        stack,
        "vpc",
        VpcArgs {
            cidr_block: VPC_CIDR.into(),
            enable_dns_support: Some(true.into()),
            enable_dns_hostnames: Some(true.into()),
            ..Default::default()
        },
        in_b(),
    );
    let igw = InternetGateway::with(
        stack,
        "internet-gateway",
        InternetGatewayArgs {
            vpc_id: Some(vpc.id()),
            ..Default::default()
        },
        in_b(),
    );
    let public_rt = RouteTable::with(
        stack,
        "public-routes",
        RouteTableArgs {
            vpc_id: vpc.id(),
            ..Default::default()
        },
        in_b(),
    );
    Route::with(
        stack,
        "public-default-route",
        RouteArgs {
            route_table_id: public_rt.id(),
            destination_cidr_block: "0.0.0.0/0".into(),
            gateway_id: Some(igw.id()),
        },
        in_b(),
    );
    let subnet = |stack: &mut Stack, (name, cidr, az): (&str, &str, &str), public: bool| {
        Subnet::with(
            stack,
            name,
            SubnetArgs {
                vpc_id: vpc.id(),
                cidr_block: cidr.into(),
                availability_zone: Some(format!("{region}{az}").into()),
                map_public_ip_on_launch: Some(public.into()),
                vpc_cidr_block: Some(VPC_CIDR.into()),
                ..Default::default()
            },
            in_b(),
        )
    };
    for spec in PUBLIC {
        let s = subnet(stack, spec, true);
        RouteTableAssociation::with(
            stack,
            &format!("{}-routes", spec.0),
            RouteTableAssociationArgs {
                route_table_id: public_rt.id(),
                subnet_id: s.id(),
            },
            in_b(),
        );
    }
    let mut private_subnets = Vec::new();
    let mut private_tables = Vec::new();
    for spec in PRIVATE {
        let s = subnet(stack, spec, false);
        let rt = RouteTable::with(
            stack,
            &format!("{}-routes", spec.0),
            RouteTableArgs {
                vpc_id: vpc.id(),
                ..Default::default()
            },
            in_b(),
        );
        RouteTableAssociation::with(
            stack,
            &format!("{}-routes-association", spec.0),
            RouteTableAssociationArgs {
                route_table_id: rt.id(),
                subnet_id: s.id(),
            },
            in_b(),
        );
        private_subnets.push(s);
        private_tables.push(rt);
    }

    // ---- Account B: PrivateLink ---------------------------------------------------------
    let endpoint_sg = SecurityGroup::with(
        stack,
        "endpoint-sg",
        SecurityGroupArgs {
            vpc_id: vpc.id(),
            name: "cairn-endpoints".into(),
            description: "HTTPS from the private subnets to the interface endpoints".into(),
            ..Default::default()
        },
        in_b(),
    );
    SecurityGroupRule::with(
        stack,
        "endpoint-https-from-private",
        SecurityGroupRuleArgs {
            security_group_id: endpoint_sg.id(),
            direction: "ingress".into(),
            protocol: "tcp".into(),
            from_port: 443.into(),
            to_port: 443.into(),
            cidr_blocks: Some(Output::all(private_subnets.iter().map(|s| s.cidr_block()))),
            ..Default::default()
        },
        in_b(),
    );
    let subnet_ids = Output::all(private_subnets.iter().map(|s| s.id()));
    for service in ["ecr.api", "ecr.dkr", "logs"] {
        VpcEndpoint::with(
            stack,
            &format!("endpoint-{}", service.replace('.', "-")),
            cairn_aws::ec2::VpcEndpointArgs {
                vpc_id: vpc.id(),
                service_name: format!("com.amazonaws.{region}.{service}").into(),
                vpc_endpoint_type: "Interface".into(),
                subnet_ids: Some(subnet_ids.clone()),
                security_group_ids: Some(Output::all([endpoint_sg.id()])),
                private_dns_enabled: Some(true.into()),
                ..Default::default()
            },
            in_b(),
        );
    }
    VpcEndpoint::with(
        stack,
        "endpoint-s3",
        VpcEndpointArgs {
            vpc_id: vpc.id(),
            service_name: format!("com.amazonaws.{region}.s3").into(),
            vpc_endpoint_type: "Gateway".into(),
            route_table_ids: Some(Output::all(private_tables.iter().map(|t| t.id()))),
            ..Default::default()
        },
        in_b(),
    );

    stack.export("repositoryUri", repo.repository_uri());
    stack.export("vpcId", vpc.id());
}
