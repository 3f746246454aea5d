//! Components: a named group of resources, its resources named `<component>/<name>` and shown
//! under it in the plan and while `up` runs. The subnet was declared at the top level before
//! it moved into `network`; its alias keeps it rather than replacing it.

use cairn::{ResourceOptions, Stack};
use cairn_aws::ec2::{Subnet, SubnetArgs, Vpc, VpcArgs};
use cairn_aws::logs::{LogGroup, LogGroupArgs};

/// What the network component gives the rest of the program.
struct Network {
    subnet: Subnet,
}

fn network(stack: &mut Stack) -> Network {
    stack.component("network", |c| {
        let vpc = Vpc::new(
            c,
            "vpc",
            VpcArgs::builder().cidr_block("10.0.0.0/16").build(),
        );
        let subnet = Subnet::with(
            c,
            "subnet",
            SubnetArgs::builder()
                .vpc_id(vpc.id())
                .cidr_block("10.0.1.0/24")
                .build(),
            // Its name before it moved here.
            ResourceOptions::default().alias("subnet"),
        );
        Network { subnet }
    })
}

fn program(stack: &mut Stack) {
    let net = network(stack);
    stack.component("observability", |c| {
        LogGroup::new(
            c,
            "logs",
            LogGroupArgs::builder().retention_in_days(14).build(),
        );
    });
    stack.export("subnetId", net.subnet.id());
}

fn main() -> std::process::ExitCode {
    cairn::run(program)
}
