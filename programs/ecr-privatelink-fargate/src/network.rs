//! Account B's network: the VPC, two public subnets routed to an internet gateway, and two
//! private subnets with route tables of their own and no route out.

use cairn::Stack;
use cairn_aws::ec2::{
    InternetGateway, InternetGatewayArgs, Route, RouteArgs, RouteTable, RouteTableArgs,
    RouteTableAssociation, RouteTableAssociationArgs, Subnet, SubnetArgs, Vpc, VpcArgs,
};

use crate::{ProviderRef, Settings, on};

const VPC_CIDR: &str = "10.0.0.0/16";
const PUBLIC: [(&str, &str, &str); 2] = [
    ("public-a", "10.0.0.0/24", "a"),
    ("public-b", "10.0.1.0/24", "b"),
];

pub(crate) struct Network {
    pub vpc: Vpc,
    pub public_subnets: Vec<Subnet>,
    pub private_subnets: Vec<Subnet>,
    pub private_route_tables: Vec<RouteTable>,
}

pub(crate) fn declare(stack: &mut Stack, s: &Settings, b: &ProviderRef) -> Network {
    let vpc = Vpc::with(
        stack,
        "vpc",
        VpcArgs::builder()
            .cidr_block(VPC_CIDR)
            .enable_dns_support(true)
            .enable_dns_hostnames(true)
            .maybe_tags(s.tags())
            .build(),
        on(b),
    );
    let igw = InternetGateway::with(
        stack,
        "internet-gateway",
        InternetGatewayArgs::builder()
            .vpc_id(vpc.id())
            .maybe_tags(s.tags())
            .build(),
        on(b),
    );
    let public_rt = RouteTable::with(
        stack,
        "public-routes",
        RouteTableArgs::builder()
            .vpc_id(vpc.id())
            .maybe_tags(s.tags())
            .build(),
        on(b),
    );
    Route::with(
        stack,
        "public-default-route",
        RouteArgs::builder()
            .route_table_id(public_rt.id())
            .destination_cidr_block("0.0.0.0/0")
            .gateway_id(igw.id())
            .build(),
        on(b),
    );
    let subnet = |stack: &mut Stack, name: &str, cidr: &str, az: &str, public: bool| {
        Subnet::with(
            stack,
            name,
            SubnetArgs::builder()
                .vpc_id(vpc.id())
                .cidr_block(cidr)
                .availability_zone(format!("{}{az}", s.region))
                .map_public_ip_on_launch(public)
                .maybe_tags(s.tags())
                .build(),
            on(b),
        )
    };
    let mut public_subnets = Vec::new();
    for (name, cidr, az) in PUBLIC {
        let sn = subnet(stack, name, cidr, az, true);
        RouteTableAssociation::with(
            stack,
            &format!("{name}-routes"),
            RouteTableAssociationArgs::builder()
                .route_table_id(public_rt.id())
                .subnet_id(sn.id())
                .build(),
            on(b),
        );
        public_subnets.push(sn);
    }
    let mut private_subnets = Vec::new();
    let mut private_route_tables = Vec::new();
    for (name, (cidr, az)) in ["private-a", "private-b"]
        .into_iter()
        .zip(s.private_cidrs.iter().zip(["a", "b"]))
    {
        let sn = subnet(stack, name, cidr, az, false);
        let rt = RouteTable::with(
            stack,
            &format!("{name}-routes"),
            RouteTableArgs::builder()
                .vpc_id(vpc.id())
                .maybe_tags(s.tags())
                .build(),
            on(b),
        );
        RouteTableAssociation::with(
            stack,
            &format!("{name}-routes-association"),
            RouteTableAssociationArgs::builder()
                .route_table_id(rt.id())
                .subnet_id(sn.id())
                .build(),
            on(b),
        );
        private_subnets.push(sn);
        private_route_tables.push(rt);
    }
    Network {
        vpc,
        public_subnets,
        private_subnets,
        private_route_tables,
    }
}
