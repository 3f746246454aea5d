//! Account B's application: a Fargate service of `desiredCount` tasks in the private subnets,
//! with no public IP, pulling `<repository URI>@<digest>` (the image account A pushed) from account A, behind an
//! internet-facing Application Load Balancer in the public subnets.

use std::collections::BTreeMap;

use cairn::{Output, ResourceOptions, Stack};
use cairn_aws::ec2::{Direction, IpProtocol};
use cairn_aws::ec2::{SecurityGroup, SecurityGroupArgs, SecurityGroupRule, SecurityGroupRuleArgs};
use cairn_aws::ecs::{
    Cluster, ClusterArgs, ContainerDefinition, PortMapping, Service, ServiceArgs,
    ServiceLoadBalancer, TaskDefinition, TaskDefinitionArgs,
};
use cairn_aws::ecs::{FargateCpu, LaunchType};
use cairn_aws::elb::{
    Listener, ListenerArgs, LoadBalancer, LoadBalancerArgs, TargetGroup, TargetGroupArgs,
};
use cairn_aws::elb::{LoadBalancerType, Protocol, Scheme, TargetType};
use cairn_aws::iam::{Role, RoleArgs, RolePolicyAttachment, RolePolicyAttachmentArgs};
use cairn_aws::logs::{LogGroup, LogGroupArgs};
use serde_json::json;

use crate::network::Network;
use crate::registry::Registry;
use crate::{ProviderRef, Settings, on};

const CONTAINER: &str = "web";
const PORT: i32 = 80;

fn http_from(
    stack: &mut Stack,
    name: &str,
    group: &SecurityGroup,
    cidr: Option<&str>,
    source: Option<&SecurityGroup>,
    b: &ProviderRef,
) {
    SecurityGroupRule::with(
        stack,
        name,
        SecurityGroupRuleArgs::builder()
            .security_group_id(group.id())
            .direction(Direction::Ingress)
            .protocol(IpProtocol::Tcp)
            .from_port(PORT)
            .to_port(PORT)
            .maybe_cidr_blocks(cidr.map(|c| Output::new(vec![c.to_string()])))
            .maybe_source_security_group_id(source.map(|s| s.id()))
            .build(),
        on(b),
    );
}

/// Declares the service and its load balancer; returns the external URL.
pub(crate) fn declare(
    stack: &mut Stack,
    s: &Settings,
    b: &ProviderRef,
    net: &Network,
    registry: &Registry,
) -> Output<String> {
    let log_group = LogGroup::with(
        stack,
        "log-group",
        LogGroupArgs::builder()
            .name("/ecs/ecrprivatelink")
            .retention_in_days(14)
            .maybe_tags(s.tags())
            .build(),
        on(b),
    );
    let execution_role = Role::with(
        stack,
        "task-execution-role",
        RoleArgs::builder()
            .assume_role_policy(json!({
                "Version": "2012-10-17",
                "Statement": [{
                    "Effect": "Allow",
                    "Principal": { "Service": "ecs-tasks.amazonaws.com" },
                    "Action": "sts:AssumeRole",
                }]
            }))
            .maybe_tags(s.tags())
            .build(),
        on(b),
    );
    let execution_policy = RolePolicyAttachment::with(
        stack,
        "task-execution-policy",
        RolePolicyAttachmentArgs::builder()
            .role(execution_role.name())
            .policy_arn("arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy")
            .build(),
        on(b),
    );
    let cluster = Cluster::with(
        stack,
        "cluster",
        ClusterArgs::builder()
            .name("ecrprivatelink")
            .maybe_tags(s.tags())
            .build(),
        on(b),
    );
    let region = s.region.clone();
    let task = TaskDefinition::with(
        stack,
        "task-definition",
        TaskDefinitionArgs::builder()
            .family("ecrprivatelink")
            .cpu(FargateCpu::Cpu256)
            .memory("512")
            .execution_role_arn(execution_role.arn())
            .containers(
                registry
                    .image_uri
                    .zip(&log_group.name())
                    .map(move |(image, group)| {
                        vec![ContainerDefinition {
                            name: CONTAINER.into(),
                            image,
                            essential: true,
                            port_mappings: vec![PortMapping::tcp(PORT)],
                            environment: BTreeMap::new(),
                            awslogs: Some(BTreeMap::from([
                                ("awslogs-group".to_string(), group),
                                ("awslogs-region".to_string(), region.clone()),
                                ("awslogs-stream-prefix".to_string(), "ecs".to_string()),
                            ])),
                            ..Default::default()
                        }]
                    }),
            )
            .maybe_tags(s.tags())
            .build(),
        // The role must be able to pull before a task starts, and the image be there.
        match &registry.image {
            Some(image) => on(b).depends_on(&execution_policy).depends_on(image),
            None => on(b).depends_on(&execution_policy),
        },
    );

    let alb_sg = SecurityGroup::with(
        stack,
        "alb-sg",
        SecurityGroupArgs::builder()
            .vpc_id(net.vpc.id())
            .description("HTTP from anywhere to the load balancer")
            .maybe_tags(s.tags())
            .build(),
        on(b),
    );
    http_from(
        stack,
        "alb-http-from-anywhere",
        &alb_sg,
        Some("0.0.0.0/0"),
        None,
        b,
    );
    let service_sg = SecurityGroup::with(
        stack,
        "service-sg",
        SecurityGroupArgs::builder()
            .vpc_id(net.vpc.id())
            .description("HTTP from the load balancer to the tasks")
            .maybe_tags(s.tags())
            .build(),
        on(b),
    );
    http_from(
        stack,
        "service-http-from-alb",
        &service_sg,
        None,
        Some(&alb_sg),
        b,
    );

    let alb = LoadBalancer::with(
        stack,
        "load-balancer",
        LoadBalancerArgs::builder()
            .subnets(Output::all(net.public_subnets.iter().map(|s| s.id())))
            .security_groups(Output::all([alb_sg.id()]))
            .scheme(Scheme::InternetFacing)
            .load_balancer_type(LoadBalancerType::Application)
            .maybe_tags(s.tags())
            .build(),
        on(b),
    );
    let target_group = TargetGroup::with(
        stack,
        "target-group",
        TargetGroupArgs::builder()
            .port(PORT)
            .protocol(Protocol::Http)
            .vpc_id(net.vpc.id())
            .target_type(TargetType::Ip)
            .health_check_path("/")
            .maybe_tags(s.tags())
            .build(),
        on(b),
    );
    let listener = Listener::with(
        stack,
        "listener",
        ListenerArgs::builder()
            .load_balancer_arn(alb.arn())
            .port(PORT)
            .protocol(Protocol::Http)
            .target_group_arn(target_group.arn())
            .build(),
        on(b),
    );
    Service::with(
        stack,
        "service",
        ServiceArgs::builder()
            .name("ecrprivatelink")
            .cluster(cluster.arn())
            .task_definition(task.arn())
            .desired_count(s.desired_count)
            .launch_type(LaunchType::Fargate)
            .subnets(Output::all(net.private_subnets.iter().map(|s| s.id())))
            .security_groups(Output::all([service_sg.id()]))
            .assign_public_ip(false)
            .load_balancers(target_group.arn().map(|arn| {
                vec![ServiceLoadBalancer {
                    target_group_arn: arn,
                    container_name: CONTAINER.into(),
                    container_port: PORT,
                }]
            }))
            .maybe_tags(s.tags())
            .build(),
        // AWS rejects a service whose target group is not yet behind a listener: no input
        // says so, so the edge is explicit.
        ResourceOptions::default().provider(b).depends_on(&listener),
    );
    cairn::format!("http://{}", alb.dns_name())
}
