//! `aws:ec2/VpcEndpoint`: interface endpoints (subnets, security groups, private DNS) and
//! gateway endpoints (route tables), each with an optional policy.

use std::collections::BTreeSet;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_ec2::types::{ResourceType, VpcEndpointType};
use cairn::{CheckFailure, Output, PropMap, ProviderError, ResourceContext, TypeSchema, UniqueKey};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::tagging;
use crate::config::Clients;
use crate::error::{aws, aws_on, found, gone};
use crate::resource::{AwsResource, TagsAt, check_policy, known};
use crate::{AwsProvider, Tags, wait};

cairn::args! {
    /// Arguments of a [`VpcEndpoint`].
    pub struct VpcEndpointArgs {
        pub vpc_id: Output<String>,
        /// e.g. `com.amazonaws.us-east-2.ecr.dkr`.
        pub service_name: Output<String>,
        /// `Interface` or `Gateway`.
        pub vpc_endpoint_type: Output<String>,
        pub subnet_ids: Option<Output<Vec<String>>>,
        pub security_group_ids: Option<Output<Vec<String>>>,
        pub private_dns_enabled: Option<Output<bool>>,
        pub route_table_ids: Option<Output<Vec<String>>>,
        /// The endpoint policy, a JSON document (compared structurally).
        pub policy: Option<Output<Value>>,
        pub tags: Option<Output<Tags>>,
    }
}

cairn::resource!(
    /// A VPC endpoint (AWS PrivateLink interface endpoint, or gateway endpoint).
    VpcEndpoint, VpcEndpointArgs, "aws:ec2/VpcEndpoint", AwsProvider, {
        id: String,
        dns_names: Vec<String>,
        state: String,
    }
);

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Inputs {
    vpc_id: String,
    service_name: String,
    vpc_endpoint_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    subnet_ids: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    security_group_ids: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    private_dns_enabled: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    route_table_ids: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    policy: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    tags: Option<Tags>,
}

pub(crate) struct Impl;

const READY_TIMEOUT: Duration = Duration::from_secs(600);

fn set(v: &Option<Vec<String>>) -> BTreeSet<String> {
    v.iter().flatten().cloned().collect()
}

/// Ids in `new` but not `old`, and in `old` but not `new`.
fn delta(old: &Option<Vec<String>>, new: &Option<Vec<String>>) -> (Vec<String>, Vec<String>) {
    let (o, n) = (set(old), set(new));
    (
        n.difference(&o).cloned().collect(),
        o.difference(&n).cloned().collect(),
    )
}

/// Reads the endpoint; `None` when it is gone (or deleted, which EC2 keeps listing a while).
async fn describe(
    c: &Clients,
    id: &str,
) -> Result<Option<aws_sdk_ec2::types::VpcEndpoint>, ProviderError> {
    let Some(out) = found(
        c.ec2
            .describe_vpc_endpoints()
            .vpc_endpoint_ids(id)
            .send()
            .await,
        "DescribeVpcEndpoints",
    )?
    else {
        return Ok(None);
    };
    Ok(out
        .vpc_endpoints()
        .first()
        .filter(|e| !matches!(state(e).as_str(), "deleted" | "deleting"))
        .cloned())
}

/// The endpoint's state in lower case: EC2 documents `Available` but sends `available`, which
/// the SDK's enum does not recognise, so states are compared as text.
fn state(e: &aws_sdk_ec2::types::VpcEndpoint) -> String {
    e.state()
        .map(|s| s.as_str().to_ascii_lowercase())
        .unwrap_or_default()
}

fn outputs(e: &aws_sdk_ec2::types::VpcEndpoint) -> Value {
    json!({
        "id": e.vpc_endpoint_id(),
        "dns_names": e.dns_entries().iter().filter_map(|d| d.dns_name()).collect::<Vec<_>>(),
        "state": state(e),
    })
}

/// Waits for `available` (an interface endpoint takes a minute or two on AWS).
async fn wait_available(
    c: &Clients,
    id: &str,
) -> Result<aws_sdk_ec2::types::VpcEndpoint, ProviderError> {
    wait::until(
        &format!("VPC endpoint {id} to become available"),
        READY_TIMEOUT,
        || async {
            let e = describe(c, id)
                .await?
                .ok_or_else(|| ProviderError::new(format!("VPC endpoint {id} disappeared")))?;
            match state(&e).as_str() {
                "available" | "" => Ok(Some(e)),
                s @ ("failed" | "rejected" | "expired") => {
                    Err(ProviderError::new(format!("VPC endpoint {id} is {s}")))
                }
                _ => Ok(None),
            }
        },
    )
    .await
}

#[async_trait]
impl AwsResource for Impl {
    const TYPE: &'static str = "aws:ec2/VpcEndpoint";
    type Inputs = Inputs;
    const TAGS_AT: TagsAt = TagsAt::Ec2;

    fn schema() -> TypeSchema {
        TypeSchema {
            replace_on_changes: &["vpc_id", "service_name", "vpc_endpoint_type"],
            unique: &[UniqueKey {
                key: &["service_name"],
                within: &["vpc_id"],
                auto_name: None,
            }],
        }
    }

    fn check(inputs: &PropMap) -> Vec<CheckFailure> {
        let mut failures = check_policy(inputs, "policy");
        match known::<String>(inputs, "vpc_endpoint_type").as_deref() {
            None | Some("Interface") | Some("Gateway") | Some("GatewayLoadBalancer") => {}
            Some(other) => failures.push(CheckFailure {
                property: Some("vpc_endpoint_type".into()),
                reason: format!("'{other}' is not an endpoint type: expected Interface or Gateway"),
            }),
        }
        failures
    }

    async fn create(
        c: &Clients,
        ctx: &ResourceContext,
        token: &str,
        i: &Inputs,
    ) -> Result<(String, Value), ProviderError> {
        let out = c
            .ec2
            .create_vpc_endpoint()
            .client_token(token)
            .vpc_id(&i.vpc_id)
            .service_name(&i.service_name)
            .vpc_endpoint_type(VpcEndpointType::from(i.vpc_endpoint_type.as_str()))
            .set_subnet_ids(i.subnet_ids.clone())
            .set_security_group_ids(i.security_group_ids.clone())
            .set_private_dns_enabled(i.private_dns_enabled)
            .set_route_table_ids(i.route_table_ids.clone())
            .set_policy_document(i.policy.as_ref().map(Value::to_string))
            .tag_specifications(tagging::spec(
                ctx,
                ResourceType::VpcEndpoint,
                i.tags.as_ref(),
            ))
            .send()
            .await
            .map_err(aws_on("CreateVpcEndpoint", "service_name"))?;
        let id = out
            .vpc_endpoint()
            .and_then(|e| e.vpc_endpoint_id())
            .unwrap_or_default()
            .to_string();
        let e = wait_available(c, &id).await?;
        Ok((id, outputs(&e)))
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
            describe_vpc_endpoints,
            vpc_endpoints,
            vpc_endpoint_id,
            "DescribeVpcEndpoints",
            |x| !matches!(state(x).as_str(), "deleted" | "deleting" | "failed")
        )
    }

    async fn read(
        c: &Clients,
        id: &str,
        i: &Inputs,
    ) -> Result<Option<(Inputs, Value)>, ProviderError> {
        let Some(e) = describe(c, id).await? else {
            return Ok(None);
        };
        let list = |v: &[String], recorded: &Option<Vec<String>>| -> Option<Vec<String>> {
            if v.is_empty() && recorded.is_none() {
                return None;
            }
            // Keep the recorded order when the members are the same: order is not drift.
            let mut got: Vec<String> = v.to_vec();
            if set(recorded) == got.iter().cloned().collect() {
                got = recorded.clone().unwrap_or_default();
            }
            Some(got)
        };
        let groups: Vec<String> = e
            .groups()
            .iter()
            .filter_map(|g| g.group_id().map(str::to_string))
            .collect();
        let policy = match (&i.policy, e.policy_document()) {
            (None, _) | (_, None) => None,
            (Some(_), Some(doc)) => serde_json::from_str(doc).ok(),
        };
        let now = Inputs {
            vpc_id: e.vpc_id().unwrap_or_default().to_string(),
            service_name: e.service_name().unwrap_or_default().to_string(),
            vpc_endpoint_type: e
                .vpc_endpoint_type()
                .map(|t| t.as_str().to_string())
                .unwrap_or_default(),
            subnet_ids: list(e.subnet_ids(), &i.subnet_ids),
            security_group_ids: list(&groups, &i.security_group_ids),
            private_dns_enabled: i
                .private_dns_enabled
                .map(|_| e.private_dns_enabled().unwrap_or(false)),
            route_table_ids: list(e.route_table_ids(), &i.route_table_ids),
            policy,
            tags: tagging::user_tags(Some(e.tags()), i.tags.as_ref()),
        };
        Ok(Some((now, outputs(&e))))
    }

    async fn update(
        c: &Clients,
        _ctx: &ResourceContext,
        id: &str,
        old: &Inputs,
        new: &Inputs,
    ) -> Result<Value, ProviderError> {
        let (add_subnets, remove_subnets) = delta(&old.subnet_ids, &new.subnet_ids);
        let (add_groups, remove_groups) = delta(&old.security_group_ids, &new.security_group_ids);
        let (add_tables, remove_tables) = delta(&old.route_table_ids, &new.route_table_ids);
        let mut req = c.ec2.modify_vpc_endpoint().vpc_endpoint_id(id);
        let mut any = false;
        for (v, f) in [
            (&add_subnets, 0),
            (&remove_subnets, 1),
            (&add_groups, 2),
            (&remove_groups, 3),
            (&add_tables, 4),
            (&remove_tables, 5),
        ] {
            for x in v {
                any = true;
                req = match f {
                    0 => req.add_subnet_ids(x),
                    1 => req.remove_subnet_ids(x),
                    2 => req.add_security_group_ids(x),
                    3 => req.remove_security_group_ids(x),
                    4 => req.add_route_table_ids(x),
                    _ => req.remove_route_table_ids(x),
                };
            }
        }
        if old.private_dns_enabled != new.private_dns_enabled {
            any = true;
            req = req.private_dns_enabled(new.private_dns_enabled.unwrap_or(false));
        }
        if old.policy != new.policy {
            any = true;
            req = match &new.policy {
                Some(p) => req.policy_document(p.to_string()),
                None => req.reset_policy(true),
            };
        }
        if any {
            req.send().await.map_err(aws("ModifyVpcEndpoint"))?;
        }
        tagging::sync(c, id, old.tags.as_ref(), new.tags.as_ref()).await?;
        let e = wait_available(c, id).await?;
        Ok(outputs(&e))
    }

    async fn delete(c: &Clients, id: &str, _i: &Inputs, _o: &Value) -> Result<(), ProviderError> {
        gone(
            c.ec2
                .delete_vpc_endpoints()
                .vpc_endpoint_ids(id)
                .send()
                .await,
            "DeleteVpcEndpoints",
        )?;
        // Its network interfaces hold the subnets and security groups until it is gone.
        wait::until(
            &format!("VPC endpoint {id} to be deleted"),
            READY_TIMEOUT,
            || async { Ok(describe(c, id).await?.is_none().then_some(())) },
        )
        .await
    }
}
