//! Small programs for the integration tests, run through the same command line as the default
//! program (`cairn-program` with `CAIRN_TEST_PROGRAM=<name>`), so that one binary links the SDK.

use cairn::{Output, Stack};
use cairn_aws::Tags;
use cairn_aws::ec2::{
    Instance, InstanceArgs, InternetGateway, InternetGatewayArgs, RouteTable, RouteTableArgs,
    VpcEndpoint, VpcEndpointArgs,
};
use cairn_aws::ec2::{
    SecurityGroup, SecurityGroupArgs, SecurityGroupRule, SecurityGroupRuleArgs, Subnet, SubnetArgs,
    Vpc, VpcArgs,
};
use cairn_aws::ecr::{
    LifecyclePolicy, LifecyclePolicyArgs, Repository, RepositoryArgs, RepositoryPolicy,
    RepositoryPolicyArgs,
};
use cairn_aws::ecs::{
    Cluster, ClusterArgs, ContainerDefinition, Service, ServiceArgs, TaskDefinition,
    TaskDefinitionArgs,
};
use cairn_aws::elb::{
    Listener, ListenerArgs, LoadBalancer, LoadBalancerArgs, TargetGroup, TargetGroupArgs,
};
use cairn_aws::iam::{
    InstanceProfile, InstanceProfileArgs, Role, RoleArgs, RolePolicy, RolePolicyArgs,
};
use cairn_aws::logs::{LogGroup, LogGroupArgs};
use serde_json::json;

/// The program `CAIRN_TEST_PROGRAM` names, if any.
pub fn by_name(name: &str) -> Option<fn(&mut Stack)> {
    Some(match name {
        "replacements" => replacements,
        "updates" => updates,
        _ => return None,
    })
}

/// For the replacement tests: a security group (`webSgName` fixes its name; unset, Cairn names
/// it) with a port-80 rule, and with `loadBalancer=true` a load balancer, target group, listener
/// and role, each left for Cairn to name. Each has a setting that forces its replacement:
/// `webSgDescription`, `lbScheme`, `tgPort`, `rolePath`.
pub fn replacements(stack: &mut Stack) {
    let c = stack.config();
    let sg_name: Option<String> = c.get("webSgName");
    let description = c.get_or("webSgDescription", "web servers".to_string());
    let load_balancer = c.get_or("loadBalancer", false);
    let scheme = c.get_or("lbScheme", "internet-facing".to_string());
    let tg_port = c.get_or("tgPort", 80);
    let role_path = c.get_or("rolePath", "/".to_string());
    let region = c.get_or("aws:region", "us-east-2".to_string());

    let vpc = Vpc::new(
        stack,
        "vpc",
        VpcArgs {
            cidr_block: "10.0.0.0/16".into(),
            ..Default::default()
        },
    );
    let sg = SecurityGroup::new(
        stack,
        "web",
        SecurityGroupArgs {
            vpc_id: vpc.id(),
            name: sg_name.map(Into::into),
            description: description.into(),
            ..Default::default()
        },
    );
    SecurityGroupRule::new(
        stack,
        "http",
        SecurityGroupRuleArgs {
            security_group_id: sg.id(),
            direction: "ingress".into(),
            protocol: "tcp".into(),
            from_port: 80.into(),
            to_port: 80.into(),
            cidr_blocks: Some(vec!["0.0.0.0/0".to_string()].into()),
            ..Default::default()
        },
    );
    stack.export("webSgId", sg.id());
    if !load_balancer {
        return;
    }
    let subnets: Vec<Subnet> = [("a", "10.0.1.0/24"), ("b", "10.0.2.0/24")]
        .into_iter()
        .map(|(zone, cidr)| {
            Subnet::new(
                stack,
                &format!("public-{zone}"),
                SubnetArgs {
                    vpc_id: vpc.id(),
                    cidr_block: cidr.into(),
                    availability_zone: Some(format!("{region}{zone}").into()),
                    ..Default::default()
                },
            )
        })
        .collect();
    let lb = LoadBalancer::new(
        stack,
        "lb",
        LoadBalancerArgs {
            subnets: Output::all(subnets.iter().map(Subnet::id)),
            security_groups: Some(Output::all([sg.id()])),
            scheme: Some(scheme.into()),
            ..Default::default()
        },
    );
    let tg = TargetGroup::new(
        stack,
        "tg",
        TargetGroupArgs {
            port: tg_port.into(),
            protocol: "HTTP".into(),
            vpc_id: vpc.id(),
            target_type: Some("ip".into()),
            ..Default::default()
        },
    );
    Listener::new(
        stack,
        "listener",
        ListenerArgs {
            load_balancer_arn: lb.arn(),
            port: 80.into(),
            protocol: "HTTP".into(),
            target_group_arn: tg.arn(),
        },
    );
    let role = Role::new(
        stack,
        "role",
        RoleArgs {
            assume_role_policy: json!({
                "Version": "2012-10-17",
                "Statement": [{
                    "Effect": "Allow",
                    "Principal": { "Service": "ecs-tasks.amazonaws.com" },
                    "Action": "sts:AssumeRole",
                }]
            })
            .into(),
            path: Some(role_path.into()),
            ..Default::default()
        },
    );
    stack.export("lbArn", lb.arn());
    stack.export("tgArn", tg.arn());
    stack.export("roleName", role.name());
}

/// For the update test: one resource of every type that has properties AWS changes in place,
/// each of them set from `v` (`1` or `2`), so that `config set v 2` updates every one of them
/// and nothing is replaced. The resources the changes point at (a second VPC, group, route
/// table, role, target group) exist in both versions.
pub fn updates(stack: &mut Stack) {
    let two = stack.config().get_or("v", 1) == 2;
    let pick = |a: &str, b: &str| -> String { if two { b } else { a }.to_string() };
    let tags = || Some(Output::new(Tags::from([("v".to_string(), pick("1", "2"))])));
    let vpc = Vpc::new(
        stack,
        "vpc",
        VpcArgs {
            cidr_block: "10.0.0.0/16".into(),
            enable_dns_support: Some(two.into()),
            enable_dns_hostnames: Some(two.into()),
            tags: tags(),
        },
    );
    let other_vpc = Vpc::new(
        stack,
        "other-vpc",
        VpcArgs {
            cidr_block: "10.1.0.0/16".into(),
            ..Default::default()
        },
    );
    let subnet = |stack: &mut Stack, name: &str, cidr: &str, zone: &str, changes: bool| {
        Subnet::new(
            stack,
            name,
            SubnetArgs {
                vpc_id: vpc.id(),
                cidr_block: cidr.into(),
                availability_zone: Some(format!("us-east-2{zone}").into()),
                map_public_ip_on_launch: Some((changes && two).into()),
                tags: changes.then(tags).flatten(),
            },
        )
    };
    let a = subnet(stack, "subnet-a", "10.0.1.0/24", "a", true);
    let b = subnet(stack, "subnet-b", "10.0.2.0/24", "b", false);
    InternetGateway::new(
        stack,
        "gateway",
        InternetGatewayArgs {
            vpc_id: Some(if two { other_vpc.id() } else { vpc.id() }),
            tags: tags(),
        },
    );
    let table = |stack: &mut Stack, name: &str, tagged: bool| {
        RouteTable::new(
            stack,
            name,
            RouteTableArgs {
                vpc_id: vpc.id(),
                tags: if tagged { tags() } else { None },
            },
        )
    };
    let rt = table(stack, "routes", true);
    let rt2 = table(stack, "other-routes", false);
    let group = |stack: &mut Stack, name: &str, tagged: bool| {
        SecurityGroup::new(
            stack,
            name,
            SecurityGroupArgs {
                vpc_id: vpc.id(),
                description: "updates".into(),
                tags: if tagged { tags() } else { None },
                ..Default::default()
            },
        )
    };
    let sg = group(stack, "group", true);
    let sg2 = group(stack, "other-group", false);
    let groups = || Output::all(if two { vec![sg2.id()] } else { vec![sg.id()] });
    let policy = |sid: &str| {
        json!({"Version": "2012-10-17", "Statement": [{
            "Sid": sid, "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "*"
        }]})
    };
    VpcEndpoint::new(
        stack,
        "s3",
        VpcEndpointArgs {
            vpc_id: vpc.id(),
            service_name: "com.amazonaws.us-east-2.s3".into(),
            vpc_endpoint_type: "Gateway".into(),
            route_table_ids: Some(Output::all(if two {
                vec![rt.id(), rt2.id()]
            } else {
                vec![rt.id()]
            })),
            policy: Some(policy(&pick("One", "Two")).into()),
            tags: tags(),
            ..Default::default()
        },
    );
    VpcEndpoint::new(
        stack,
        "ecr-api",
        VpcEndpointArgs {
            vpc_id: vpc.id(),
            service_name: "com.amazonaws.us-east-2.ecr.api".into(),
            vpc_endpoint_type: "Interface".into(),
            subnet_ids: Some(Output::all(if two {
                vec![a.id(), b.id()]
            } else {
                vec![a.id()]
            })),
            security_group_ids: Some(groups()),
            // Not changed: moto's ModifyVpcEndpoint ignores PrivateDnsEnabled.
            private_dns_enabled: Some(false.into()),
            ..Default::default()
        },
    );
    Instance::new(
        stack,
        "host",
        InstanceArgs {
            ami: "ami-03cf127a".into(),
            instance_type: "t3.micro".into(),
            subnet_id: a.id(),
            security_group_ids: Some(groups()),
            tags: tags(),
            ..Default::default()
        },
    );

    let repo = Repository::new(
        stack,
        "repository",
        RepositoryArgs {
            image_tag_mutability: Some(pick("MUTABLE", "IMMUTABLE").into()),
            scan_on_push: Some(two.into()),
            force_delete: Some(true.into()),
            tags: tags(),
            ..Default::default()
        },
    );
    RepositoryPolicy::new(
        stack,
        "repository-policy",
        RepositoryPolicyArgs {
            repository: repo.name(),
            policy: json!({"Version": "2012-10-17", "Statement": [{
                "Sid": pick("One", "Two"), "Effect": "Allow",
                "Principal": {"AWS": "arn:aws:iam::222222222222:root"},
                "Action": ["ecr:BatchGetImage"]
            }]})
            .into(),
        },
    );
    LifecyclePolicy::new(
        stack,
        "lifecycle",
        LifecyclePolicyArgs {
            repository: repo.name(),
            policy: json!({"rules": [{
                "rulePriority": 1, "description": "keep a few",
                "selection": {"tagStatus": "any", "countType": "imageCountMoreThan",
                              "countNumber": if two { 20 } else { 10 }},
                "action": {"type": "expire"}
            }]})
            .into(),
        },
    );

    let trust = |services: &[&str]| {
        json!({"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"Service": services}, "Action": "sts:AssumeRole"
        }]})
    };
    let role = Role::new(
        stack,
        "role",
        RoleArgs {
            assume_role_policy: trust(if two {
                &["ecs-tasks.amazonaws.com", "ec2.amazonaws.com"]
            } else {
                &["ecs-tasks.amazonaws.com"]
            })
            .into(),
            description: Some(pick("first", "second").into()),
            tags: tags(),
            ..Default::default()
        },
    );
    let other_role = Role::new(
        stack,
        "other-role",
        RoleArgs {
            assume_role_policy: trust(&["ec2.amazonaws.com"]).into(),
            ..Default::default()
        },
    );
    RolePolicy::new(
        stack,
        "inline",
        RolePolicyArgs {
            role: role.name(),
            name: Some("inline".into()),
            policy: json!({"Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Action": pick("logs:PutLogEvents", "logs:CreateLogStream"),
                "Resource": "*"
            }]})
            .into(),
        },
    );
    InstanceProfile::new(
        stack,
        "profile",
        InstanceProfileArgs {
            role: if two { other_role.name() } else { role.name() },
            ..Default::default()
        },
    );
    LogGroup::new(
        stack,
        "logs",
        LogGroupArgs {
            retention_in_days: Some(if two { 14 } else { 7 }.into()),
            tags: tags(),
            ..Default::default()
        },
    );

    let lb = LoadBalancer::new(
        stack,
        "lb",
        LoadBalancerArgs {
            subnets: Output::all([a.id(), b.id()]),
            security_groups: Some(groups()),
            tags: tags(),
            ..Default::default()
        },
    );
    let target_group = |stack: &mut Stack, name: &str, main: bool| {
        TargetGroup::new(
            stack,
            name,
            TargetGroupArgs {
                port: 80.into(),
                protocol: "HTTP".into(),
                vpc_id: vpc.id(),
                target_type: Some("ip".into()),
                health_check_path: Some(
                    if main {
                        pick("/", "/healthz")
                    } else {
                        "/".into()
                    }
                    .into(),
                ),
                tags: if main { tags() } else { None },
                ..Default::default()
            },
        )
    };
    let tg = target_group(stack, "tg", true);
    let tg2 = target_group(stack, "other-tg", false);
    Listener::new(
        stack,
        "listener",
        ListenerArgs {
            load_balancer_arn: lb.arn(),
            port: if two { 8080 } else { 80 }.into(),
            protocol: "HTTP".into(),
            target_group_arn: if two { tg2.arn() } else { tg.arn() },
        },
    );

    let cluster = Cluster::new(
        stack,
        "cluster",
        ClusterArgs {
            tags: tags(),
            ..Default::default()
        },
    );
    let task = TaskDefinition::new(
        stack,
        "task",
        TaskDefinitionArgs {
            family: "updates".into(),
            cpu: "256".into(),
            memory: "512".into(),
            containers: vec![ContainerDefinition {
                name: "web".into(),
                // A new image is a new task definition: the service moves to it in place.
                image: pick("nginx:1", "nginx:2"),
                essential: true,
                port_mappings: vec![80],
                ..Default::default()
            }]
            .into(),
            ..Default::default()
        },
    );
    Service::new(
        stack,
        "service",
        ServiceArgs {
            cluster: cluster.arn(),
            task_definition: task.arn(),
            desired_count: if two { 2 } else { 1 }.into(),
            launch_type: Some("FARGATE".into()),
            subnets: Output::all(if two {
                vec![a.id(), b.id()]
            } else {
                vec![a.id()]
            }),
            security_groups: Some(groups()),
            tags: tags(),
            ..Default::default()
        },
    );
}
