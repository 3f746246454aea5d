//! With `enableSsm`: the endpoints Systems Manager needs (ssm, ssmmessages, ec2, ec2messages)
//! and an EC2 instance in a private subnet with an instance profile, to look at the endpoints'
//! private DNS from inside the VPC.

use cairn::Stack;
use cairn_aws::ec2::{Instance, InstanceArgs, SecurityGroup};
use cairn_aws::iam::{
    InstanceProfile, InstanceProfileArgs, Role, RoleArgs, RolePolicyAttachment,
    RolePolicyAttachmentArgs,
};
use serde_json::json;

use crate::endpoints;
use crate::network::Network;
use crate::{ProviderRef, Settings, on};

pub(crate) fn declare(
    stack: &mut Stack,
    s: &Settings,
    b: &ProviderRef,
    net: &Network,
    sg: &SecurityGroup,
) {
    for service in ["ssm", "ssmmessages", "ec2", "ec2messages"] {
        endpoints::interface(stack, s, b, net, sg, service);
    }
    let role = Role::with(
        stack,
        "ssm-instance-role",
        RoleArgs::builder()
            .assume_role_policy(json!({
                "Version": "2012-10-17",
                "Statement": [{
                    "Effect": "Allow",
                    "Principal": { "Service": "ec2.amazonaws.com" },
                    "Action": "sts:AssumeRole",
                }]
            }))
            .maybe_tags(s.tags())
            .build(),
        on(b),
    );
    RolePolicyAttachment::with(
        stack,
        "ssm-instance-policy",
        RolePolicyAttachmentArgs::builder()
            .role(role.name())
            .policy_arn("arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore")
            .build(),
        on(b),
    );
    let profile = InstanceProfile::with(
        stack,
        "ssm-instance-profile",
        InstanceProfileArgs::builder().role(role.name()).build(),
        on(b),
    );
    Instance::with(
        stack,
        "ssm-host",
        InstanceArgs::builder()
            .ami(s.ssm_ami.as_str())
            .instance_type("t3.micro")
            .subnet_id(net.private_subnets[0].id())
            .security_group_ids(cairn::Output::all([sg.id()]))
            .iam_instance_profile(profile.name())
            .maybe_tags(s.tags())
            .build(),
        on(b),
    );
}
