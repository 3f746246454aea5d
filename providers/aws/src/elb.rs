//! Elastic Load Balancing v2: `aws:lb/LoadBalancer`, `aws:lb/TargetGroup`, `aws:lb/Listener`.

use std::marker::PhantomData;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_elasticloadbalancingv2::types::{
    Action, ActionTypeEnum, LoadBalancerSchemeEnum, LoadBalancerStateEnum, LoadBalancerTypeEnum,
    ProtocolEnum, Tag, TargetTypeEnum,
};
use cairn::{Output, ProviderError, ResourceContext, TypeSchema, UniqueKey};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::config::Clients;
use crate::error::{aws, aws_on, found, gone};
use crate::names;
use crate::resource::{AwsResource, Handler, TagsAt, Typed};
use crate::{AwsProvider, Tags, tags, wait};

pub(crate) fn handler(ty: &str) -> Option<&'static dyn Handler> {
    Some(match ty {
        LoadBalancerImpl::TYPE => &Typed::<LoadBalancerImpl>(PhantomData),
        TargetGroupImpl::TYPE => &Typed::<TargetGroupImpl>(PhantomData),
        ListenerImpl::TYPE => &Typed::<ListenerImpl>(PhantomData),
        _ => return None,
    })
}

cairn::args! {
    /// Arguments of a [`LoadBalancer`].
    pub struct LoadBalancerArgs {
        /// Unique in the account and region. Left unset, Cairn names it `<resource name>-<random suffix>` and
        /// picks a new name for each replacement, so the new copy is created first.
        pub name: Option<Output<String>>,
        pub subnets: Output<Vec<String>>,
        pub security_groups: Option<Output<Vec<String>>>,
        /// `internet-facing` (the default) or `internal`.
        pub scheme: Option<Output<String>>,
        /// `application` (the default) or `network`.
        pub load_balancer_type: Option<Output<String>>,
        pub tags: Option<Output<Tags>>,
    }
}

cairn::resource!(
    /// A load balancer.
    LoadBalancer, LoadBalancerArgs, "aws:lb/LoadBalancer", AwsProvider, {
        arn: String,
        dns_name: String,
        zone_id: String,
    }
);

cairn::args! {
    /// Arguments of a [`TargetGroup`].
    pub struct TargetGroupArgs {
        /// Unique in the account and region. Left unset, Cairn names it `<resource name>-<random suffix>` and
        /// picks a new name for each replacement, so the new copy is created first.
        pub name: Option<Output<String>>,
        pub port: Output<i32>,
        /// `HTTP`, `HTTPS`, `TCP`, …
        pub protocol: Output<String>,
        pub vpc_id: Output<String>,
        /// `ip` for Fargate tasks, `instance` for EC2 instances.
        pub target_type: Option<Output<String>>,
        pub health_check_path: Option<Output<String>>,
        pub tags: Option<Output<Tags>>,
    }
}

cairn::resource!(
    /// A target group.
    TargetGroup, TargetGroupArgs, "aws:lb/TargetGroup", AwsProvider, { arn: String, name: String }
);

cairn::args! {
    /// Arguments of a [`Listener`].
    pub struct ListenerArgs {
        pub load_balancer_arn: Output<String>,
        pub port: Output<i32>,
        pub protocol: Output<String>,
        /// Requests are forwarded to this target group.
        pub target_group_arn: Output<String>,
    }
}

cairn::resource!(
    /// A listener forwarding to a target group.
    Listener, ListenerArgs, "aws:lb/Listener", AwsProvider, { arn: String }
);

/// The tags of the ELBv2 resource `arn`.
pub(crate) async fn tags_of(c: &Clients, arn: &str) -> Result<Option<Tags>, ProviderError> {
    let out = c
        .elb
        .describe_tags()
        .resource_arns(arn)
        .send()
        .await
        .map_err(aws("DescribeTags"))?;
    let all = out.tag_descriptions().iter().flat_map(|d| d.tags());
    Ok(Some(tags::collect(all.map(|t| (t.key(), t.value())))))
}

fn elb_tags(ctx: &ResourceContext, user: Option<&Tags>) -> Vec<Tag> {
    tags::with_cairn(ctx, user)
        .into_iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect()
}

/// Brings the user's tags of `arn` from `old` to `new`.
async fn sync_tags(
    c: &Clients,
    arn: &str,
    old: Option<&Tags>,
    new: Option<&Tags>,
) -> Result<(), ProviderError> {
    let (set, remove) = tags::changes(old, new);
    if !set.is_empty() {
        let t = set
            .into_iter()
            .map(|(k, v)| Tag::builder().key(k).value(v).build());
        c.elb
            .add_tags()
            .resource_arns(arn)
            .set_tags(Some(t.collect()))
            .send()
            .await
            .map_err(aws_on("AddTags", "tags"))?;
    }
    if !remove.is_empty() {
        c.elb
            .remove_tags()
            .resource_arns(arn)
            .set_tag_keys(Some(remove))
            .send()
            .await
            .map_err(aws_on("RemoveTags", "tags"))?;
    }
    Ok(())
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct LoadBalancerInputs {
    name: String,
    subnets: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    security_groups: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    scheme: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    load_balancer_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    tags: Option<Tags>,
}

pub(crate) struct LoadBalancerImpl;

async fn describe_lb(
    c: &Clients,
    arn: &str,
) -> Result<Option<aws_sdk_elasticloadbalancingv2::types::LoadBalancer>, ProviderError> {
    let r = c
        .elb
        .describe_load_balancers()
        .load_balancer_arns(arn)
        .send()
        .await;
    Ok(found(r, "DescribeLoadBalancers")?.and_then(|o| o.load_balancers().first().cloned()))
}

fn lb_outputs(lb: &aws_sdk_elasticloadbalancingv2::types::LoadBalancer) -> Value {
    json!({
        "arn": lb.load_balancer_arn(),
        "dns_name": lb.dns_name(),
        "zone_id": lb.canonical_hosted_zone_id(),
    })
}

#[async_trait]
impl AwsResource for LoadBalancerImpl {
    const TYPE: &'static str = "aws:lb/LoadBalancer";
    type Inputs = LoadBalancerInputs;
    const TAGS_AT: TagsAt = TagsAt::ElbArn;
    const CREATE_RETURNS_EXISTING: bool = true;

    fn schema() -> TypeSchema {
        TypeSchema {
            replace_on_changes: &["name", "scheme", "load_balancer_type"],
            unique: &[UniqueKey {
                key: &["name"],
                within: &[],
                auto_name: Some(names::LOAD_BALANCER),
            }],
        }
    }

    async fn create(
        c: &Clients,
        ctx: &ResourceContext,
        _token: &str,
        i: &LoadBalancerInputs,
    ) -> Result<(String, Value), ProviderError> {
        let out = c
            .elb
            .create_load_balancer()
            .name(&i.name)
            .set_subnets(Some(i.subnets.clone()))
            .set_security_groups(i.security_groups.clone())
            .scheme(LoadBalancerSchemeEnum::from(
                i.scheme.as_deref().unwrap_or("internet-facing"),
            ))
            .r#type(LoadBalancerTypeEnum::from(
                i.load_balancer_type.as_deref().unwrap_or("application"),
            ))
            .set_tags(Some(elb_tags(ctx, i.tags.as_ref())))
            .send()
            .await
            .map_err(aws_on("CreateLoadBalancer", "subnets"))?;
        let arn = out
            .load_balancers()
            .first()
            .and_then(|l| l.load_balancer_arn())
            .unwrap_or_default()
            .to_string();
        // A load balancer is `provisioning` for a minute or two on AWS.
        let lb = wait::until(
            &format!("load balancer {} to become active", i.name),
            Duration::from_secs(600),
            || async {
                let lb = describe_lb(c, &arn).await?.ok_or_else(|| {
                    ProviderError::new(format!("load balancer {} disappeared", i.name))
                })?;
                let state = lb.state().and_then(|s| s.code()).cloned();
                match state {
                    Some(LoadBalancerStateEnum::Active) | None => Ok(Some(lb)),
                    Some(LoadBalancerStateEnum::Failed) => Err(ProviderError::new(format!(
                        "load balancer {} failed to provision",
                        i.name
                    ))),
                    _ => Ok(None),
                }
            },
        )
        .await?;
        Ok((arn, lb_outputs(&lb)))
    }

    async fn find(
        c: &Clients,
        _ctx: &ResourceContext,
        _token: &str,
        i: &Self::Inputs,
    ) -> Result<Vec<String>, ProviderError> {
        let r = c.elb.describe_load_balancers().names(&i.name).send().await;
        Ok(found(r, "DescribeLoadBalancers")?
            .map(|o| {
                o.load_balancers()
                    .iter()
                    .filter_map(|lb| lb.load_balancer_arn().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default())
    }

    async fn read(
        c: &Clients,
        id: &str,
        i: &LoadBalancerInputs,
    ) -> Result<Option<(LoadBalancerInputs, Value)>, ProviderError> {
        let Some(lb) = describe_lb(c, id).await? else {
            return Ok(None);
        };
        let subnets: Vec<String> = lb
            .availability_zones()
            .iter()
            .filter_map(|z| z.subnet_id().map(str::to_string))
            .collect();
        let keep_order = |got: Vec<String>, recorded: &[String]| {
            if sorted(got.clone()) == sorted(recorded.to_vec()) {
                recorded.to_vec()
            } else {
                got
            }
        };
        let now = LoadBalancerInputs {
            name: lb.load_balancer_name().unwrap_or_default().to_string(),
            subnets: keep_order(subnets, &i.subnets),
            security_groups: i
                .security_groups
                .as_ref()
                .map(|r| keep_order(lb.security_groups().to_vec(), r)),
            scheme: i
                .scheme
                .as_ref()
                .and(lb.scheme().map(|s| s.as_str().to_string())),
            load_balancer_type: i
                .load_balancer_type
                .as_ref()
                .and(lb.r#type().map(|t| t.as_str().to_string())),
            tags: i.tags.clone(),
        };
        Ok(Some((now, lb_outputs(&lb))))
    }

    async fn update(
        c: &Clients,
        _ctx: &ResourceContext,
        id: &str,
        old: &LoadBalancerInputs,
        new: &LoadBalancerInputs,
    ) -> Result<Value, ProviderError> {
        if sorted(old.subnets.clone()) != sorted(new.subnets.clone()) {
            c.elb
                .set_subnets()
                .load_balancer_arn(id)
                .set_subnets(Some(new.subnets.clone()))
                .send()
                .await
                .map_err(aws_on("SetSubnets", "subnets"))?;
        }
        if old.security_groups != new.security_groups {
            c.elb
                .set_security_groups()
                .load_balancer_arn(id)
                .set_security_groups(Some(new.security_groups.clone().unwrap_or_default()))
                .send()
                .await
                .map_err(aws_on("SetSecurityGroups", "security_groups"))?;
        }
        sync_tags(c, id, old.tags.as_ref(), new.tags.as_ref()).await?;
        let lb = describe_lb(c, id)
            .await?
            .ok_or_else(|| ProviderError::new(format!("load balancer {id} disappeared")))?;
        Ok(lb_outputs(&lb))
    }

    async fn delete(
        c: &Clients,
        id: &str,
        _i: &LoadBalancerInputs,
        _o: &Value,
    ) -> Result<(), ProviderError> {
        gone(
            c.elb
                .delete_load_balancer()
                .load_balancer_arn(id)
                .send()
                .await,
            "DeleteLoadBalancer",
        )?;
        // Its network interfaces hold the subnets and security groups until it is gone.
        wait::until(
            &format!("load balancer {id} to be deleted"),
            Duration::from_secs(600),
            || async { Ok(describe_lb(c, id).await?.is_none().then_some(())) },
        )
        .await
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct TargetGroupInputs {
    name: String,
    port: i32,
    protocol: String,
    vpc_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    target_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    health_check_path: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    tags: Option<Tags>,
}

pub(crate) struct TargetGroupImpl;

#[async_trait]
impl AwsResource for TargetGroupImpl {
    const TYPE: &'static str = "aws:lb/TargetGroup";
    type Inputs = TargetGroupInputs;
    const TAGS_AT: TagsAt = TagsAt::ElbArn;
    const CREATE_RETURNS_EXISTING: bool = true;

    fn schema() -> TypeSchema {
        TypeSchema {
            replace_on_changes: &["name", "port", "protocol", "vpc_id", "target_type"],
            unique: &[UniqueKey {
                key: &["name"],
                within: &[],
                auto_name: Some(names::TARGET_GROUP),
            }],
        }
    }

    async fn create(
        c: &Clients,
        ctx: &ResourceContext,
        _token: &str,
        i: &TargetGroupInputs,
    ) -> Result<(String, Value), ProviderError> {
        let out = c
            .elb
            .create_target_group()
            .name(&i.name)
            .port(i.port)
            .protocol(ProtocolEnum::from(i.protocol.as_str()))
            .vpc_id(&i.vpc_id)
            .set_target_type(i.target_type.as_deref().map(TargetTypeEnum::from))
            .set_health_check_path(i.health_check_path.clone())
            .set_tags(Some(elb_tags(ctx, i.tags.as_ref())))
            .send()
            .await
            .map_err(aws_on("CreateTargetGroup", "name"))?;
        let arn = out
            .target_groups()
            .first()
            .and_then(|t| t.target_group_arn())
            .unwrap_or_default()
            .to_string();
        Ok((arn.clone(), json!({ "arn": arn, "name": i.name })))
    }

    async fn find(
        c: &Clients,
        _ctx: &ResourceContext,
        _token: &str,
        i: &Self::Inputs,
    ) -> Result<Vec<String>, ProviderError> {
        let r = c.elb.describe_target_groups().names(&i.name).send().await;
        Ok(found(r, "DescribeTargetGroups")?
            .map(|o| {
                o.target_groups()
                    .iter()
                    .filter_map(|g| g.target_group_arn().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default())
    }

    async fn read(
        c: &Clients,
        id: &str,
        i: &TargetGroupInputs,
    ) -> Result<Option<(TargetGroupInputs, Value)>, ProviderError> {
        let r = c
            .elb
            .describe_target_groups()
            .target_group_arns(id)
            .send()
            .await;
        let Some(tg) =
            found(r, "DescribeTargetGroups")?.and_then(|o| o.target_groups().first().cloned())
        else {
            return Ok(None);
        };
        let now = TargetGroupInputs {
            name: tg.target_group_name().unwrap_or_default().to_string(),
            port: tg.port().unwrap_or_default(),
            protocol: tg
                .protocol()
                .map(|p| p.as_str().to_string())
                .unwrap_or_default(),
            vpc_id: tg.vpc_id().unwrap_or_default().to_string(),
            target_type: i
                .target_type
                .as_ref()
                .and(tg.target_type().map(|t| t.as_str().to_string())),
            health_check_path: i
                .health_check_path
                .as_ref()
                .and(tg.health_check_path().map(str::to_string)),
            tags: i.tags.clone(),
        };
        Ok(Some((now, json!({ "arn": id, "name": i.name }))))
    }

    async fn update(
        c: &Clients,
        _ctx: &ResourceContext,
        id: &str,
        old: &TargetGroupInputs,
        new: &TargetGroupInputs,
    ) -> Result<Value, ProviderError> {
        if old.health_check_path != new.health_check_path {
            c.elb
                .modify_target_group()
                .target_group_arn(id)
                .health_check_path(new.health_check_path.clone().unwrap_or_else(|| "/".into()))
                .send()
                .await
                .map_err(aws_on("ModifyTargetGroup", "health_check_path"))?;
        }
        sync_tags(c, id, old.tags.as_ref(), new.tags.as_ref()).await?;
        Ok(json!({ "arn": id, "name": new.name }))
    }

    async fn delete(
        c: &Clients,
        id: &str,
        _i: &TargetGroupInputs,
        _o: &Value,
    ) -> Result<(), ProviderError> {
        // A listener or service that just let go of it may still be releasing it.
        wait::retry_on(&["ResourceInUse"], Duration::from_secs(120), || async {
            crate::error::gone_coded(
                c.elb
                    .delete_target_group()
                    .target_group_arn(id)
                    .send()
                    .await,
                "DeleteTargetGroup",
            )
        })
        .await
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct ListenerInputs {
    load_balancer_arn: String,
    port: i32,
    protocol: String,
    target_group_arn: String,
}

pub(crate) struct ListenerImpl;

fn forward(target_group: &str) -> Action {
    Action::builder()
        .r#type(ActionTypeEnum::Forward)
        .target_group_arn(target_group)
        .build()
}

#[async_trait]
impl AwsResource for ListenerImpl {
    const TYPE: &'static str = "aws:lb/Listener";
    type Inputs = ListenerInputs;

    fn schema() -> TypeSchema {
        TypeSchema {
            replace_on_changes: &["load_balancer_arn"],
            unique: &[UniqueKey {
                key: &["port"],
                within: &["load_balancer_arn"],
                auto_name: None,
            }],
        }
    }

    async fn create(
        c: &Clients,
        _ctx: &ResourceContext,
        _token: &str,
        i: &ListenerInputs,
    ) -> Result<(String, Value), ProviderError> {
        let out = c
            .elb
            .create_listener()
            .load_balancer_arn(&i.load_balancer_arn)
            .port(i.port)
            .protocol(ProtocolEnum::from(i.protocol.as_str()))
            .default_actions(forward(&i.target_group_arn))
            .send()
            .await
            .map_err(aws_on("CreateListener", "port"))?;
        let arn = out
            .listeners()
            .first()
            .and_then(|l| l.listener_arn())
            .unwrap_or_default()
            .to_string();
        Ok((arn.clone(), json!({ "arn": arn })))
    }

    async fn find(
        c: &Clients,
        _ctx: &ResourceContext,
        _token: &str,
        i: &Self::Inputs,
    ) -> Result<Vec<String>, ProviderError> {
        let r = c
            .elb
            .describe_listeners()
            .load_balancer_arn(&i.load_balancer_arn)
            .send()
            .await;
        Ok(found(r, "DescribeListeners")?
            .map(|o| {
                o.listeners()
                    .iter()
                    .filter(|l| l.port() == Some(i.port))
                    .filter_map(|l| l.listener_arn().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default())
    }

    async fn read(
        c: &Clients,
        id: &str,
        i: &ListenerInputs,
    ) -> Result<Option<(ListenerInputs, Value)>, ProviderError> {
        let r = c.elb.describe_listeners().listener_arns(id).send().await;
        let Some(l) = found(r, "DescribeListeners")?.and_then(|o| o.listeners().first().cloned())
        else {
            return Ok(None);
        };
        let now = ListenerInputs {
            load_balancer_arn: l.load_balancer_arn().unwrap_or_default().to_string(),
            port: l.port().unwrap_or_default(),
            protocol: l
                .protocol()
                .map(|p| p.as_str().to_string())
                .unwrap_or_default(),
            target_group_arn: l
                .default_actions()
                .first()
                .and_then(|a| a.target_group_arn())
                .unwrap_or(&i.target_group_arn)
                .to_string(),
        };
        Ok(Some((now, json!({ "arn": id }))))
    }

    async fn update(
        c: &Clients,
        _ctx: &ResourceContext,
        id: &str,
        _old: &ListenerInputs,
        new: &ListenerInputs,
    ) -> Result<Value, ProviderError> {
        c.elb
            .modify_listener()
            .listener_arn(id)
            .port(new.port)
            .protocol(ProtocolEnum::from(new.protocol.as_str()))
            .default_actions(forward(&new.target_group_arn))
            .send()
            .await
            .map_err(aws("ModifyListener"))?;
        Ok(json!({ "arn": id }))
    }

    async fn delete(
        c: &Clients,
        id: &str,
        _i: &ListenerInputs,
        _o: &Value,
    ) -> Result<(), ProviderError> {
        gone(
            c.elb.delete_listener().listener_arn(id).send().await,
            "DeleteListener",
        )
    }
}
