//! `aws:ec2/RouteTable`, `aws:ec2/Route` and `aws:ec2/RouteTableAssociation`.

use async_trait::async_trait;
use aws_sdk_ec2::types::ResourceType;
use cairn::{CheckFailure, Output, PropMap, ProviderError, ResourceContext, TypeSchema, UniqueKey};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::tagging;
use crate::config::Clients;
use crate::error::{aws, aws_on, found, gone, gone_coded};
use crate::resource::{AwsResource, TagsAt, check_cidr};
use crate::{AwsProvider, Tags};

cairn::args! {
    /// Arguments of a [`RouteTable`].
    pub struct RouteTableArgs {
        pub vpc_id: Output<String>,
        pub tags: Option<Output<Tags>>,
    }
}

cairn::resource!(
    /// A route table of a VPC.
    RouteTable, RouteTableArgs, "aws:ec2/RouteTable", AwsProvider, { id: String }
);

cairn::args! {
    /// Arguments of a [`Route`].
    pub struct RouteArgs {
        pub route_table_id: Output<String>,
        pub destination_cidr_block: Output<String>,
        /// An internet gateway (or virtual private gateway) id.
        pub gateway_id: Option<Output<String>>,
    }
}

cairn::resource!(
    /// One route of a route table.
    Route, RouteArgs, "aws:ec2/Route", AwsProvider, { id: String }
);

cairn::args! {
    /// Arguments of a [`RouteTableAssociation`].
    pub struct RouteTableAssociationArgs {
        pub route_table_id: Output<String>,
        pub subnet_id: Output<String>,
    }
}

cairn::resource!(
    /// Associates a subnet with a route table.
    RouteTableAssociation, RouteTableAssociationArgs, "aws:ec2/RouteTableAssociation", AwsProvider, { id: String }
);

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct TableInputs {
    vpc_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    tags: Option<Tags>,
}

pub(crate) struct TableImpl;

#[async_trait]
impl AwsResource for TableImpl {
    const TYPE: &'static str = "aws:ec2/RouteTable";
    type Inputs = TableInputs;
    const TAGS_AT: TagsAt = TagsAt::Ec2;

    fn schema() -> TypeSchema {
        TypeSchema {
            replace_on_changes: &["vpc_id"],
            unique: &[],
        }
    }

    async fn create(
        c: &Clients,
        ctx: &ResourceContext,
        _token: &str,
        i: &TableInputs,
    ) -> Result<(String, Value), ProviderError> {
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
        Ok((id.clone(), json!({ "id": id })))
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
        i: &TableInputs,
    ) -> Result<Option<(TableInputs, Value)>, ProviderError> {
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
        let now = TableInputs {
            vpc_id: t.vpc_id().unwrap_or_default().to_string(),
            tags: tagging::user_tags(Some(t.tags()), i.tags.as_ref()),
        };
        Ok(Some((now, json!({ "id": id }))))
    }

    async fn update(
        c: &Clients,
        _ctx: &ResourceContext,
        id: &str,
        old: &TableInputs,
        new: &TableInputs,
    ) -> Result<Value, ProviderError> {
        tagging::sync(c, id, old.tags.as_ref(), new.tags.as_ref()).await?;
        Ok(json!({ "id": id }))
    }

    async fn delete(
        c: &Clients,
        id: &str,
        _i: &TableInputs,
        _o: &Value,
    ) -> Result<(), ProviderError> {
        super::delete_retrying_dependencies(|| async {
            gone_coded(
                c.ec2.delete_route_table().route_table_id(id).send().await,
                "DeleteRouteTable",
            )
        })
        .await
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct RouteInputs {
    route_table_id: String,
    destination_cidr_block: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    gateway_id: Option<String>,
}

pub(crate) struct RouteImpl;

#[async_trait]
impl AwsResource for RouteImpl {
    const TYPE: &'static str = "aws:ec2/Route";
    type Inputs = RouteInputs;

    fn schema() -> TypeSchema {
        TypeSchema {
            replace_on_changes: &["route_table_id", "destination_cidr_block", "gateway_id"],
            unique: &[UniqueKey {
                key: &["destination_cidr_block"],
                within: &["route_table_id"],
                auto_name: None,
            }],
        }
    }

    fn check(inputs: &PropMap) -> Vec<CheckFailure> {
        check_cidr(inputs, "destination_cidr_block")
            .into_iter()
            .collect()
    }

    async fn create(
        c: &Clients,
        _ctx: &ResourceContext,
        _token: &str,
        i: &RouteInputs,
    ) -> Result<(String, Value), ProviderError> {
        c.ec2
            .create_route()
            .route_table_id(&i.route_table_id)
            .destination_cidr_block(&i.destination_cidr_block)
            .set_gateway_id(i.gateway_id.clone())
            .send()
            .await
            .map_err(aws_on("CreateRoute", "destination_cidr_block"))?;
        let id = format!("{}_{}", i.route_table_id, i.destination_cidr_block);
        Ok((id.clone(), json!({ "id": id })))
    }

    fn id_from_inputs(i: &Self::Inputs) -> Option<String> {
        Some(format!("{}_{}", i.route_table_id, i.destination_cidr_block))
    }

    async fn read(
        c: &Clients,
        id: &str,
        i: &RouteInputs,
    ) -> Result<Option<(RouteInputs, Value)>, ProviderError> {
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
                gateway_id: r.gateway_id().map(str::to_string),
            };
            (now, json!({ "id": id }))
        }))
    }

    async fn update(
        _c: &Clients,
        _ctx: &ResourceContext,
        id: &str,
        _o: &RouteInputs,
        _n: &RouteInputs,
    ) -> Result<Value, ProviderError> {
        Ok(json!({ "id": id }))
    }

    async fn delete(
        c: &Clients,
        _id: &str,
        i: &RouteInputs,
        _o: &Value,
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

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct AssociationInputs {
    route_table_id: String,
    subnet_id: String,
}

pub(crate) struct AssociationImpl;

#[async_trait]
impl AwsResource for AssociationImpl {
    const TYPE: &'static str = "aws:ec2/RouteTableAssociation";
    type Inputs = AssociationInputs;

    fn schema() -> TypeSchema {
        // A subnet has one association at a time.
        TypeSchema {
            replace_on_changes: &["subnet_id", "route_table_id"],
            unique: &[UniqueKey {
                key: &["subnet_id"],
                within: &[],
                auto_name: None,
            }],
        }
    }

    async fn create(
        c: &Clients,
        _ctx: &ResourceContext,
        _token: &str,
        i: &AssociationInputs,
    ) -> Result<(String, Value), ProviderError> {
        let out = c
            .ec2
            .associate_route_table()
            .route_table_id(&i.route_table_id)
            .subnet_id(&i.subnet_id)
            .send()
            .await
            .map_err(aws_on("AssociateRouteTable", "subnet_id"))?;
        let id = out.association_id().unwrap_or_default().to_string();
        Ok((id.clone(), json!({ "id": id })))
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
        _i: &AssociationInputs,
    ) -> Result<Option<(AssociationInputs, Value)>, ProviderError> {
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
                AssociationInputs {
                    route_table_id,
                    subnet_id,
                },
                json!({ "id": id }),
            )
        }))
    }

    async fn update(
        _c: &Clients,
        _ctx: &ResourceContext,
        id: &str,
        _o: &AssociationInputs,
        _n: &AssociationInputs,
    ) -> Result<Value, ProviderError> {
        Ok(json!({ "id": id }))
    }

    async fn delete(
        c: &Clients,
        id: &str,
        _i: &AssociationInputs,
        _o: &Value,
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
