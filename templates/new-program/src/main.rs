//! The infrastructure of one service, as a Cairn program: `cargo run -- preview` shows what
//! would change, `cargo run -- up` applies it, `cargo run -- destroy` removes it.

use cairn::Stack;
use cairn_aws::Tags;
use cairn_aws::ec2::{AvailabilityZones, Subnet, SubnetArgs, Vpc, VpcArgs, cidr_subnet};

const VPC_CIDR: &str = "10.0.0.0/16";

fn program(stack: &mut Stack) {
    let tags = Tags::from([("app".to_string(), stack.name().to_string())]);
    let vpc = Vpc::new(
        stack,
        "vpc",
        VpcArgs::builder()
            .cidr_block(VPC_CIDR)
            .enable_dns_hostnames(true)
            .tags(tags.clone())
            .build(),
    );
    // A subnet in each of the region's first two zones, asked of AWS.
    let zones = AvailabilityZones::get(stack, "zones");
    for n in 0..2u32 {
        Subnet::new(
            stack,
            &format!("subnet-{n}"),
            SubnetArgs::builder()
                .vpc_id(vpc.id())
                .cidr_block(cidr_subnet(VPC_CIDR, 8, n).unwrap_or_default())
                .availability_zone(zones.names().map(move |z| z[n as usize].clone()))
                .tags(tags.clone())
                .build(),
        );
    }
    stack.export("vpcId", vpc.id());
}

fn main() -> std::process::ExitCode {
    cairn::run(program)
}
