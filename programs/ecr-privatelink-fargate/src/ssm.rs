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
        RoleArgs {
            assume_role_policy: json!({
                "Version": "2012-10-17",
                "Statement": [{
                    "Effect": "Allow",
                    "Principal": { "Service": "ec2.amazonaws.com" },
                    "Action": "sts:AssumeRole",
                }]
            })
            .into(),
            tags: s.tags(),
            ..Default::default()
        },
        on(b),
    );
    RolePolicyAttachment::with(
        stack,
        "ssm-instance-policy",
        RolePolicyAttachmentArgs {
            role: role.name(),
            policy_arn: "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore".into(),
        },
        on(b),
    );
    let profile = InstanceProfile::with(
        stack,
        "ssm-instance-profile",
        InstanceProfileArgs {
            role: role.name(),
            ..Default::default()
        },
        on(b),
    );
    Instance::with(
        stack,
        "ssm-host",
        InstanceArgs {
            ami: s.ssm_ami.as_str().into(),
            instance_type: "t3.micro".into(),
            subnet_id: net.private_subnets[0].id(),
            security_group_ids: Some(cairn::Output::all([sg.id()])),
            iam_instance_profile: Some(profile.name()),
            tags: s.tags(),
        },
        on(b),
    );
}
