//! The network: a VPC with, in each of two zones, a public subnet (the load balancer, the NAT
//! gateway), a private one (the service, out through NAT) and a database one (no way out).

use cairn::Stack;
use cairn_aws::ec2::{
    AvailabilityZones, Eip, EipArgs, InternetGateway, InternetGatewayArgs, NatGateway,
    NatGatewayArgs, Route, RouteArgs, RouteTable, RouteTableArgs, RouteTableAssociation,
    RouteTableAssociationArgs, Subnet, SubnetArgs, Vpc, VpcArgs, cidr_subnet,
};

use crate::Settings;

const VPC_CIDR: &str = "10.40.0.0/16";

pub(crate) struct Network {
    pub vpc: Vpc,
    pub public: Vec<Subnet>,
    pub private: Vec<Subnet>,
    pub database: Vec<Subnet>,
}

/// A route table of the tier, associated with its subnets.
fn routes(
    stack: &mut Stack,
    s: &Settings,
    vpc: &Vpc,
    tier: &str,
    subnets: &[Subnet],
) -> RouteTable {
    let table = RouteTable::new(
        stack,
        &format!("{tier}-routes"),
        RouteTableArgs::builder()
            .vpc_id(vpc.id())
            .tags(s.tags())
            .build(),
    );
    for (n, subnet) in subnets.iter().enumerate() {
        RouteTableAssociation::new(
            stack,
            &format!("{tier}-routes-{n}"),
            RouteTableAssociationArgs::builder()
                .route_table_id(table.id())
                .subnet_id(subnet.id())
                .build(),
        );
    }
    table
}

pub(crate) fn declare(stack: &mut Stack, s: &Settings) -> Network {
    let vpc = Vpc::new(
        stack,
        "vpc",
        VpcArgs::builder()
            .cidr_block(VPC_CIDR)
            .enable_dns_support(true)
            .enable_dns_hostnames(true)
            .tags(s.tags())
            .build(),
    );
    // The first two of the region's zones (every region has at least three), asked of AWS
    // rather than spelled out.
    let zones = AvailabilityZones::get(stack, "zones");
    // Three tiers of two /24s: public 0-1, private 10-11, database 20-21.
    let tier = |stack: &mut Stack, name: &str, first: u32, public: bool| -> Vec<Subnet> {
        ["a", "b"]
            .iter()
            .enumerate()
            .map(|(n, letter)| {
                let cidr = cidr_subnet(VPC_CIDR, 8, first + n as u32).unwrap_or_default();
                Subnet::new(
                    stack,
                    &format!("{name}-{letter}"),
                    SubnetArgs::builder()
                        .vpc_id(vpc.id())
                        .cidr_block(cidr)
                        .availability_zone(
                            zones
                                .names()
                                .map(move |z| z.get(n).cloned().unwrap_or_default()),
                        )
                        .map_public_ip_on_launch(public)
                        .tags(s.tags())
                        .build(),
                )
            })
            .collect()
    };
    let public = tier(stack, "public", 0, true);
    let private = tier(stack, "private", 10, false);
    let database = tier(stack, "database", 20, false);

    let gateway = InternetGateway::new(
        stack,
        "internet-gateway",
        InternetGatewayArgs::builder()
            .vpc_id(vpc.id())
            .tags(s.tags())
            .build(),
    );
    let public_routes = routes(stack, s, &vpc, "public", &public);
    Route::new(
        stack,
        "public-default-route",
        RouteArgs::builder()
            .route_table_id(public_routes.id())
            .destination_cidr_block("0.0.0.0/0")
            .gateway_id(gateway.id())
            .build(),
    );
    // One NAT gateway (in the first public subnet) for the private tier's way out.
    let nat_ip = Eip::new(stack, "nat-ip", EipArgs::builder().tags(s.tags()).build());
    let nat = NatGateway::new(
        stack,
        "nat",
        NatGatewayArgs::builder()
            .subnet_id(public[0].id())
            .allocation_id(nat_ip.id())
            .tags(s.tags())
            .build(),
    );
    let private_routes = routes(stack, s, &vpc, "private", &private);
    Route::new(
        stack,
        "private-default-route",
        RouteArgs::builder()
            .route_table_id(private_routes.id())
            .destination_cidr_block("0.0.0.0/0")
            .nat_gateway_id(nat.id())
            .build(),
    );
    routes(stack, s, &vpc, "database", &database);
    Network {
        vpc,
        public,
        private,
        database,
    }
}
