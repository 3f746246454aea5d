//! Small programs for the integration tests, run through the same command line as the default
//! program (`cairn-program` with `CAIRN_TEST_PROGRAM=<name>`), so that one binary links the SDK.

use cairn::{Output, Stack};
use cairn_aws::ec2::{
    SecurityGroup, SecurityGroupArgs, SecurityGroupRule, SecurityGroupRuleArgs, Subnet, SubnetArgs,
    Vpc, VpcArgs,
};
use cairn_aws::elb::{
    Listener, ListenerArgs, LoadBalancer, LoadBalancerArgs, TargetGroup, TargetGroupArgs,
};
use cairn_aws::iam::{Role, RoleArgs};
use serde_json::json;

/// The program `CAIRN_TEST_PROGRAM` names, if any.
pub fn by_name(name: &str) -> Option<fn(&mut Stack)> {
    Some(match name {
        "replacements" => replacements,
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
