//! Importing: a VPC and a subnet another team made by hand, taken under this program's
//! management. The steps, against the stack's state:
//!
//! ```text
//! cargo run -p cairn-examples --example import -- config set legacyVpcId vpc-0abc…
//! cargo run -p cairn-examples --example import -- import legacy-vpc aws:ec2/Vpc vpc-0abc…
//! cargo run -p cairn-examples --example import -- import legacy-subnet aws:ec2/Subnet subnet-0def…
//! ```
//!
//! Each `import` records the resource and prints its declaration, as below (the subnet's VPC,
//! imported first, written as a reference to it). Pasted in, `preview` shows no change,
//! and from then on `up` manages them like anything else the program declares: the subnet
//! here gains a route table of its own. Many at once: `import --file resources.toml`, a list
//! of `[[resource]]` tables with `name`, `type`, `id` (and `provider`).

use cairn::Stack;
use cairn_aws::ec2::{
    InstanceTenancy, RouteTable, RouteTableArgs, RouteTableAssociation, RouteTableAssociationArgs,
    Subnet, SubnetArgs, Vpc, VpcArgs,
};

fn program(stack: &mut Stack) {
    // As `import` printed it.
    let legacy_vpc = Vpc::new(
        stack,
        "legacy-vpc",
        VpcArgs::builder()
            .cidr_block("10.61.0.0/16")
            .enable_dns_support(true)
            .enable_dns_hostnames(false)
            .instance_tenancy(InstanceTenancy::Shared)
            .assign_generated_ipv6_cidr_block(false)
            .tags(::std::collections::BTreeMap::from([(
                "Name".to_string(),
                "legacy".to_string(),
            )]))
            .build(),
    );
    let legacy_subnet = Subnet::new(
        stack,
        "legacy-subnet",
        SubnetArgs::builder()
            .vpc_id(legacy_vpc.id())
            .cidr_block("10.61.1.0/24")
            .availability_zone("us-east-2a")
            .map_public_ip_on_launch(false)
            .assign_ipv6_address_on_creation(false)
            .build(),
    );
    // New, beside what was imported.
    let table = RouteTable::new(
        stack,
        "legacy-routes",
        RouteTableArgs::builder().vpc_id(legacy_vpc.id()).build(),
    );
    RouteTableAssociation::new(
        stack,
        "legacy-subnet-routes",
        RouteTableAssociationArgs::builder()
            .route_table_id(table.id())
            .subnet_id(legacy_subnet.id())
            .build(),
    );
}

fn main() -> std::process::ExitCode {
    cairn::run(program)
}
