//! `aws:ec2/RouteTable`, `aws:ec2/Route` and `aws:ec2/RouteTableAssociation`.

use async_trait::async_trait;
use aws_sdk_ec2::types::ResourceType;
use cairn::{CheckFailure, PropMap, ProviderError, ResourceContext};

use super::tagging;
use crate::config::Clients;
use crate::error::{aws, aws_on, found, gone};
use crate::resource::{AwsResource, by_record, check_cidr, declared};
use crate::tagging::Tagging;
use crate::{AwsProvider, Tags};

/// A route table of a VPC: where traffic from the subnets associated with it goes
/// ([`Route`]s, [`RouteTableAssociation`]s).
///
/// ```no_run
/// # fn program(stack: &mut cairn::Stack, vpc: &cairn_aws::ec2::Vpc, igw: &cairn_aws::ec2::InternetGateway, public: &cairn_aws::ec2::Subnet) {
/// use cairn_aws::ec2::*;
/// let table = RouteTable::new(stack, "public", RouteTableArgs::builder().vpc_id(vpc.id()).build());
/// Route::new(stack, "public-default", RouteArgs::builder()
///     .route_table_id(table.id())
///     .destination_cidr_block("0.0.0.0/0")
///     .gateway_id(igw.id())
///     .build());
/// RouteTableAssociation::new(stack, "public-a", RouteTableAssociationArgs::builder()
///     .route_table_id(table.id())
///     .subnet_id(public.id())
///     .build());
/// # }
/// ```
#[cairn::resource(token = "aws:ec2/RouteTable", provider = AwsProvider)]
#[api(calls(CreateRouteTable, DescribeRouteTables, DeleteRouteTable))]
pub struct RouteTable {
    /// The VPC it routes for.
    #[replace]
    pub vpc_id: String,
    #[tags]
    pub tags: Option<Tags>,
    #[output]
    pub id: String,
}

/// One route of a route table: traffic to a destination range goes to a gateway. See
/// [`RouteTable`] for an example.
#[cairn::resource(token = "aws:ec2/Route", provider = AwsProvider)]
#[api(calls(CreateRoute, DeleteRoute))]
#[unique(key(destination_cidr_block), within(route_table_id))]
pub struct Route {
    /// The table it is a route of.
    #[replace]
    pub route_table_id: String,
    /// Where the traffic is going (`0.0.0.0/0`: everywhere else).
    #[replace]
    #[api(values = "an IPv4 CIDR block (checked at preview)")]
    pub destination_cidr_block: String,
    /// An internet gateway (or virtual private gateway) id.
    #[replace]
    #[api(default = "none: the target is `nat_gateway_id`")]
    pub gateway_id: Option<String>,
    /// A NAT gateway id (the route of a private subnet to the internet). One target only:
    /// this or `gateway_id`.
    #[replace]
    #[api(default = "none: the target is `gateway_id`")]
    pub nat_gateway_id: Option<String>,
    #[output]
    pub id: String,
}

/// Associates a subnet with a route table (a subnet has one association at a time; without
/// one it uses the VPC's main table). See [`RouteTable`] for an example.
#[cairn::resource(token = "aws:ec2/RouteTableAssociation", provider = AwsProvider)]
#[api(calls(AssociateRouteTable, DisassociateRouteTable))]
pub struct RouteTableAssociation {
    /// The table.
    #[replace]
    pub route_table_id: String,
    /// The subnet whose traffic the table routes.
    #[replace]
    #[unique]
    pub subnet_id: String,
    #[output]
    pub id: String,
}

#[async_trait]
impl AwsResource for RouteTable {
    const TAGS: Tagging = Tagging::Ec2;

    async fn create(
        c: &Clients,
        ctx: &ResourceContext,
        _token: &str,
        i: &RouteTableInputs,
    ) -> Result<(String, RouteTableOutputs), ProviderError> {
        let out = c
            .ec2
            .create_route_table()
            .vpc_id(&i.vpc_id)
            .tag_specifications(tagging::spec(
                ctx,
                ResourceType::RouteTable,
                i.tags.as_ref(),
            ))
            .send()
            .await
            .map_err(aws_on("CreateRouteTable", "vpc_id"))?;
        let id = out
            .route_table()
            .and_then(|r| r.route_table_id())
            .unwrap_or_default()
            .to_string();
        Ok((id.clone(), RouteTableOutputs { id }))
    }

    async fn find(
        c: &Clients,
        ctx: &ResourceContext,
        _token: &str,
        _i: &Self::Inputs,
    ) -> Result<Vec<String>, ProviderError> {
        tagging::find_tagged!(
            c,
            ctx,
            describe_route_tables,
            route_tables,
            route_table_id,
            "DescribeRouteTables"
        )
    }

    async fn read(
        c: &Clients,
        id: &str,
        _i: Option<&RouteTableInputs>,
    ) -> Result<Option<(RouteTableInputs, RouteTableOutputs)>, ProviderError> {
        let Some(out) = found(
            c.ec2
                .describe_route_tables()
                .route_table_ids(id)
                .send()
                .await,
            "DescribeRouteTables",
        )?
        else {
            return Ok(None);
        };
        let Some(t) = out.route_tables().first() else {
            return Ok(None);
        };
        let now = RouteTableInputs {
            vpc_id: t.vpc_id().unwrap_or_default().to_string(),
            tags: None,
        };
        Ok(Some((now, RouteTableOutputs { id: id.to_string() })))
    }

    async fn delete(
        c: &Clients,
        id: &str,
        _i: &RouteTableInputs,
        _o: &RouteTableOutputs,
    ) -> Result<(), ProviderError> {
        super::delete_retrying_dependencies(|| async {
            gone(
                c.ec2.delete_route_table().route_table_id(id).send().await,
                "DeleteRouteTable",
            )
        })
        .await
    }
}

#[async_trait]
impl AwsResource for Route {
    const LOOKUP_BY_ID: bool = false;
    const IMPORT_ID: Option<&'static str> = Some("`<route table id>_<destination CIDR>`");

    fn seed(id: &str) -> Option<RouteInputs> {
        let (table, destination) = id.split_once('_')?;
        Some(RouteInputs {
            route_table_id: table.to_string(),
            destination_cidr_block: destination.to_string(),
            gateway_id: None,
            nat_gateway_id: None,
        })
    }

    fn check(inputs: &PropMap) -> Vec<CheckFailure> {
        let mut failures: Vec<CheckFailure> = check_cidr(inputs, "destination_cidr_block")
            .into_iter()
            .collect();
        let set = |p: &str| declared(inputs, p);
        match (set("gateway_id"), set("nat_gateway_id")) {
            (true, true) => failures.push(CheckFailure {
                property: Some("nat_gateway_id".into()),
                reason: "a route has one target: set gateway_id or nat_gateway_id, not both".into(),
            }),
            (false, false) => failures.push(CheckFailure {
                property: Some("gateway_id".into()),
                reason: "a route needs a target: gateway_id or nat_gateway_id".into(),
            }),
            _ => {}
        }
        failures
    }

    async fn create(
        c: &Clients,
        _ctx: &ResourceContext,
        _token: &str,
        i: &RouteInputs,
    ) -> Result<(String, RouteOutputs), ProviderError> {
        c.ec2
            .create_route()
            .route_table_id(&i.route_table_id)
            .destination_cidr_block(&i.destination_cidr_block)
            .set_gateway_id(i.gateway_id.clone())
            .set_nat_gateway_id(i.nat_gateway_id.clone())
            .send()
            .await
            .map_err(aws_on("CreateRoute", "destination_cidr_block"))?;
        let id = format!("{}_{}", i.route_table_id, i.destination_cidr_block);
        Ok((id.clone(), RouteOutputs { id }))
    }

    fn id_from_inputs(i: &Self::Inputs) -> Option<String> {
        Some(format!("{}_{}", i.route_table_id, i.destination_cidr_block))
    }

    async fn read(
        c: &Clients,
        id: &str,
        i: Option<&RouteInputs>,
    ) -> Result<Option<(RouteInputs, RouteOutputs)>, ProviderError> {
        let i = by_record(i, Self::TYPE)?;
        let Some(out) = found(
            c.ec2
                .describe_route_tables()
                .route_table_ids(&i.route_table_id)
                .send()
                .await,
            "DescribeRouteTables",
        )?
        else {
            return Ok(None);
        };
        let route = out.route_tables().first().and_then(|t| {
            t.routes()
                .iter()
                .find(|r| r.destination_cidr_block() == Some(i.destination_cidr_block.as_str()))
        });
        Ok(route.map(|r| {
            let now = RouteInputs {
                route_table_id: i.route_table_id.clone(),
                destination_cidr_block: i.destination_cidr_block.clone(),
                // AWS lists the local route's target as a gateway id of `local`.
                gateway_id: r.gateway_id().map(str::to_string),
                nat_gateway_id: r.nat_gateway_id().map(str::to_string),
            };
            (now, RouteOutputs { id: id.to_string() })
        }))
    }

    async fn delete(
        c: &Clients,
        _id: &str,
        i: &RouteInputs,
        _o: &RouteOutputs,
    ) -> Result<(), ProviderError> {
        gone(
            c.ec2
                .delete_route()
                .route_table_id(&i.route_table_id)
                .destination_cidr_block(&i.destination_cidr_block)
                .send()
                .await,
            "DeleteRoute",
        )
    }
}

#[async_trait]
impl AwsResource for RouteTableAssociation {
    async fn create(
        c: &Clients,
        _ctx: &ResourceContext,
        _token: &str,
        i: &RouteTableAssociationInputs,
    ) -> Result<(String, RouteTableAssociationOutputs), ProviderError> {
        let out = c
            .ec2
            .associate_route_table()
            .route_table_id(&i.route_table_id)
            .subnet_id(&i.subnet_id)
            .send()
            .await
            .map_err(aws_on("AssociateRouteTable", "subnet_id"))?;
        let id = out.association_id().unwrap_or_default().to_string();
        Ok((id.clone(), RouteTableAssociationOutputs { id }))
    }

    async fn find(
        c: &Clients,
        _ctx: &ResourceContext,
        _token: &str,
        i: &Self::Inputs,
    ) -> Result<Vec<String>, ProviderError> {
        let out = c
            .ec2
            .describe_route_tables()
            .route_table_ids(&i.route_table_id)
            .send()
            .await;
        let Some(out) = found(out, "DescribeRouteTables")? else {
            return Ok(Vec::new());
        };
        Ok(out
            .route_tables()
            .iter()
            .flat_map(|t| t.associations())
            .filter(|a| a.subnet_id() == Some(i.subnet_id.as_str()))
            .filter_map(|a| a.route_table_association_id().map(str::to_string))
            .collect())
    }

    async fn read(
        c: &Clients,
        id: &str,
        _i: Option<&RouteTableAssociationInputs>,
    ) -> Result<Option<(RouteTableAssociationInputs, RouteTableAssociationOutputs)>, ProviderError>
    {
        let out = c
            .ec2
            .describe_route_tables()
            .filters(
                aws_sdk_ec2::types::Filter::builder()
                    .name("association.route-table-association-id")
                    .values(id)
                    .build(),
            )
            .send()
            .await
            .map_err(aws("DescribeRouteTables"))?;
        let found = out.route_tables().iter().find_map(|t| {
            t.associations()
                .iter()
                .find(|a| a.route_table_association_id() == Some(id))
                .map(|a| {
                    (
                        t.route_table_id().unwrap_or_default().to_string(),
                        a.subnet_id().unwrap_or_default().to_string(),
                    )
                })
        });
        Ok(found.map(|(route_table_id, subnet_id)| {
            (
                RouteTableAssociationInputs {
                    route_table_id,
                    subnet_id,
                },
                RouteTableAssociationOutputs { id: id.to_string() },
            )
        }))
    }

    async fn delete(
        c: &Clients,
        id: &str,
        _i: &RouteTableAssociationInputs,
        _o: &RouteTableAssociationOutputs,
    ) -> Result<(), ProviderError> {
        gone(
            c.ec2
                .disassociate_route_table()
                .association_id(id)
                .send()
                .await,
            "DisassociateRouteTable",
        )
    }
}
