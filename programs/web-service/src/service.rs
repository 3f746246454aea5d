//! The service: Fargate tasks in the private subnets behind the load balancer, their database
//! password read by ECS from Secrets Manager as the task starts (never in the task definition),
//! their logs in CloudWatch, the assets bucket theirs to read and write.

use std::collections::BTreeMap;

use cairn::{ResourceOptions, Stack};
use cairn_aws::ec2::{Rule, SecurityGroup, SecurityGroupArgs};
use cairn_aws::ecs::{
    Cluster, ClusterArgs, ContainerDefinition, FargateCpu, LaunchType, PortMapping, Service,
    ServiceArgs, ServiceLoadBalancer, TaskDefinition, TaskDefinitionArgs,
};
use cairn_aws::iam::{
    Role, RoleArgs, RolePolicy, RolePolicyArgs, RolePolicyAttachment, RolePolicyAttachmentArgs,
};
use cairn_aws::logs::{LogGroup, LogGroupArgs};

use crate::Settings;
use crate::assets::Assets;
use crate::database::Database;
use crate::edge::{Edge, PORT};
use crate::network::Network;

const CONTAINER: &str = "web";

/// A role ECS tasks assume.
fn task_role(stack: &mut Stack, s: &Settings, name: &str) -> Role {
    Role::new(
        stack,
        name,
        RoleArgs::builder()
            .assume_role_policy(cairn::json!({
                "Version": "2012-10-17",
                "Statement": [{
                    "Effect": "Allow",
                    "Principal": { "Service": "ecs-tasks.amazonaws.com" },
                    "Action": "sts:AssumeRole",
                }]
            }))
            .tags(s.tags())
            .build(),
    )
}

pub(crate) fn declare(
    stack: &mut Stack,
    s: &Settings,
    net: &Network,
    edge: &Edge,
    db: &Database,
    assets: &Assets,
) {
    let logs = LogGroup::new(
        stack,
        "logs",
        LogGroupArgs::builder()
            .retention_in_days(30)
            .tags(s.tags())
            .build(),
    );
    // What ECS does before a task runs: pull the image, write logs, read the password.
    let execution = task_role(stack, s, "execution-role");
    let managed = RolePolicyAttachment::new(
        stack,
        "execution-managed-policy",
        RolePolicyAttachmentArgs::builder()
            .role(execution.name())
            .policy_arn("arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy")
            .build(),
    );
    let read_password = RolePolicy::new(
        stack,
        "execution-reads-password",
        RolePolicyArgs::builder()
            .role(execution.name())
            .policy(cairn::json!({
                "Version": "2012-10-17",
                "Statement": [{
                    "Effect": "Allow",
                    "Action": "secretsmanager:GetSecretValue",
                    "Resource": db.password.arn(),
                }]
            }))
            .build(),
    );
    // What the application does: the assets, and nothing else.
    let task = task_role(stack, s, "task-role");
    RolePolicy::new(
        stack,
        "task-uses-assets",
        RolePolicyArgs::builder()
            .role(task.name())
            .policy(cairn::json!({
                "Version": "2012-10-17",
                "Statement": [{
                    "Effect": "Allow",
                    "Action": ["s3:GetObject", "s3:PutObject", "s3:ListBucket"],
                    "Resource": [
                        assets.bucket.arn(),
                        cairn::format!("{}/*", assets.bucket.arn()),
                    ],
                }]
            }))
            .build(),
    );

    let cluster = Cluster::new(
        stack,
        "cluster",
        ClusterArgs::builder().tags(s.tags()).build(),
    );
    let image = s.image.clone();
    let region = s.region.clone();
    let containers = db
        .instance
        .address()
        .zip(&db.password.arn())
        .zip(&assets.bucket.name().zip(&logs.name()))
        .map(move |((host, password), (bucket, logs))| {
            vec![ContainerDefinition {
                name: CONTAINER.into(),
                image: image.clone(),
                port_mappings: vec![PortMapping::tcp(PORT)],
                environment: BTreeMap::from([
                    ("DB_HOST".to_string(), host),
                    ("DB_NAME".to_string(), "web".to_string()),
                    ("DB_USER".to_string(), "web".to_string()),
                    ("ASSETS_BUCKET".to_string(), bucket),
                ]),
                secrets: BTreeMap::from([("DB_PASSWORD".to_string(), password)]),
                awslogs: Some(BTreeMap::from([
                    ("awslogs-group".to_string(), logs),
                    ("awslogs-region".to_string(), region.clone()),
                    ("awslogs-stream-prefix".to_string(), "web".to_string()),
                ])),
                ..ContainerDefinition::default()
            }]
        });
    let definition = TaskDefinition::with(
        stack,
        "task-definition",
        TaskDefinitionArgs::builder()
            .family(format!("web-{}", s.stack))
            .cpu(FargateCpu::Cpu512)
            .memory("1024")
            .execution_role_arn(execution.arn())
            .task_role_arn(task.arn())
            .containers(containers)
            .tags(s.tags())
            .build(),
        // ECS checks the role's permissions as a task starts, not as it is registered: the
        // policies must be there before any task.
        ResourceOptions::default()
            .depends_on(&managed)
            .depends_on(&read_password),
    );

    // In from the load balancer; out to the database, and to anywhere on 443 (through NAT:
    // the image registry, Secrets Manager, CloudWatch Logs).
    let firewall = SecurityGroup::new(
        stack,
        "firewall",
        SecurityGroupArgs::builder()
            .vpc_id(net.vpc.id())
            .description("the web service's tasks")
            .ingress(
                edge.security_group
                    .id()
                    .map(|lb| vec![Rule::tcp(PORT).group(lb).described("the load balancer")]),
            )
            .egress(db.security_group.id().map(|database| {
                vec![
                    Rule::tcp(443)
                        .cidr("0.0.0.0/0")
                        .described("AWS APIs, through NAT"),
                    Rule::tcp(5432).group(database).described("the database"),
                ]
            }))
            .tags(s.tags())
            .build(),
    );
    Service::with(
        stack,
        "service",
        ServiceArgs::builder()
            .cluster(cluster.arn())
            .task_definition(definition.arn())
            .desired_count(s.desired_count)
            .launch_type(LaunchType::Fargate)
            .subnets(net.private.iter().map(|s| s.id()).collect::<Vec<_>>())
            .security_groups(vec![firewall.id()])
            .assign_public_ip(false)
            .load_balancers(edge.target_group.arn().map(|arn| {
                vec![ServiceLoadBalancer {
                    target_group_arn: arn,
                    container_name: CONTAINER.into(),
                    container_port: PORT,
                }]
            }))
            .tags(s.tags())
            .build(),
        // AWS refuses a service whose target group no listener forwards to yet.
        ResourceOptions::default().depends_on(&edge.https),
    );
}
