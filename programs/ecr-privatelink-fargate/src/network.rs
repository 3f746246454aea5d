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
        VpcArgs {
            cidr_block: VPC_CIDR.into(),
            // Private DNS on interface endpoints needs both.
            enable_dns_support: Some(true.into()),
            enable_dns_hostnames: Some(true.into()),
            tags: s.tags(),
        },
        on(b),
    );
    let igw = InternetGateway::with(
        stack,
        "internet-gateway",
        InternetGatewayArgs {
            vpc_id: Some(vpc.id()),
            tags: s.tags(),
        },
        on(b),
    );
    let public_rt = RouteTable::with(
        stack,
        "public-routes",
        RouteTableArgs {
            vpc_id: vpc.id(),
            tags: s.tags(),
        },
        on(b),
    );
    Route::with(
        stack,
        "public-default-route",
        RouteArgs {
            route_table_id: public_rt.id(),
            destination_cidr_block: "0.0.0.0/0".into(),
            gateway_id: Some(igw.id()),
        },
        on(b),
    );
    let subnet = |stack: &mut Stack, name: &str, cidr: &str, az: &str, public: bool| {
        Subnet::with(
            stack,
            name,
            SubnetArgs {
                vpc_id: vpc.id(),
                cidr_block: cidr.into(),
                availability_zone: Some(format!("{}{az}", s.region).into()),
                map_public_ip_on_launch: Some(public.into()),
                tags: s.tags(),
            },
            on(b),
        )
    };
    let mut public_subnets = Vec::new();
    for (name, cidr, az) in PUBLIC {
        let sn = subnet(stack, name, cidr, az, true);
        RouteTableAssociation::with(
            stack,
            &format!("{name}-routes"),
            RouteTableAssociationArgs {
                route_table_id: public_rt.id(),
                subnet_id: sn.id(),
            },
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
            RouteTableArgs {
                vpc_id: vpc.id(),
                tags: s.tags(),
            },
            on(b),
        );
        RouteTableAssociation::with(
            stack,
            &format!("{name}-routes-association"),
            RouteTableAssociationArgs {
                route_table_id: rt.id(),
                subnet_id: sn.id(),
            },
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
