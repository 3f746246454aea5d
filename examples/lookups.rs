//! Lookups: what exists already, read when the program is planned and never changed or
//! deleted. The region's default VPC and its subnets, the availability zones and the latest
//! Amazon Linux AMI feed an instance the program makes.

use cairn::Stack;
use cairn_aws::ec2::{
    AvailabilityZones, Instance, InstanceArgs, SubnetFilter, Subnets, Vpc, VpcFilter,
};
use cairn_aws::ssm::{AMAZON_LINUX_2023, ParameterValue};

fn program(stack: &mut Stack) {
    let vpc = Vpc::lookup(
        stack,
        "default-vpc",
        VpcFilter {
            default: Some(true),
            ..VpcFilter::default()
        },
    );
    let subnets = Subnets::get(
        stack,
        "default-subnets",
        SubnetFilter {
            vpc_id: Some(vpc.id()),
            ..SubnetFilter::default()
        },
    );
    let zones = AvailabilityZones::get(stack, "zones");
    let ami = ParameterValue::get(stack, "amazon-linux", AMAZON_LINUX_2023);
    let instance = Instance::new(
        stack,
        "worker",
        InstanceArgs::builder()
            .ami(ami.value())
            .instance_type("t3.micro")
            .subnet_id(
                subnets
                    .ids()
                    .map(|ids| ids.first().cloned().unwrap_or_default()),
            )
            .build(),
    );
    stack.export("zones", zones.names());
    stack.export("workerIp", instance.private_ip());
}

fn main() -> std::process::ExitCode {
    cairn::run(program)
}
