//! `aws:lb/TargetGroup`, with its health check.

use std::time::Duration;

use async_trait::async_trait;
use cairn::{ProviderError, ResourceContext};

use super::{Protocol, TargetType, elb_tags};
use crate::config::Clients;
use crate::error::{aws_on, found, gone};
use crate::names;
use crate::resource::AwsResource;
use crate::tagging::Tagging;
use crate::{AwsProvider, Tags, wait};

/// A target group: where a listener sends requests (instances, or the IP addresses of
/// Fargate tasks an ECS service registers), and how their health is checked.
///
/// ```no_run
/// # fn program(stack: &mut cairn::Stack, vpc: &cairn_aws::ec2::Vpc) {
/// use cairn_aws::elb::{Protocol, TargetGroup, TargetGroupArgs, TargetType};
/// let tasks = TargetGroup::new(stack, "tasks", TargetGroupArgs::builder()
///     .port(8080)
///     .protocol(Protocol::Http)
///     .vpc_id(vpc.id())
///     .target_type(TargetType::Ip)
///     .health_check_path("/healthz".to_string())
///     .build());
/// # }
/// ```
#[cairn::resource(token = "aws:lb/TargetGroup", provider = AwsProvider)]
#[api(calls(
    CreateTargetGroup,
    DescribeTargetGroups,
    ModifyTargetGroup,
    DeleteTargetGroup
))]
pub struct TargetGroup {
    /// The target group's name.
    #[replace]
    #[unique(name = names::TARGET_GROUP)]
    #[api(values = "up to 32 letters, digits and `-`, not starting or ending with `-`")]
    pub name: String,
    /// The port targets take traffic on.
    #[replace]
    #[api(values = "1 to 65535")]
    pub port: i32,
    /// The protocol spoken to targets.
    #[replace]
    pub protocol: Protocol,
    /// The VPC the targets are in.
    #[replace]
    pub vpc_id: String,
    /// What a target is (Fargate tasks need [`TargetType::Ip`]).
    #[replace]
    #[api(default = "[`TargetType::Instance`]")]
    pub target_type: Option<TargetType>,
    /// The path health checks request.
    #[api(default = "`/`")]
    pub health_check_path: Option<String>,
    /// The protocol of the health checks.
    #[api(default = "the target group's `protocol`")]
    pub health_check_protocol: Option<Protocol>,
    /// Seconds between checks.
    #[api(default = "30", values = "5 to 300")]
    pub health_check_interval_seconds: Option<i32>,
    /// Seconds without an answer that fail a check.
    #[api(default = "5 (HTTP), 6 (HTTPS), 10 (TCP)", values = "2 to 120")]
    pub health_check_timeout_seconds: Option<i32>,
    /// Checks passed in a row before a target is healthy.
    #[api(default = "5", values = "2 to 10")]
    pub healthy_threshold_count: Option<i32>,
    /// Checks failed in a row before a target is unhealthy.
    #[api(default = "2", values = "2 to 10")]
    pub unhealthy_threshold_count: Option<i32>,
    /// The HTTP codes of a healthy answer.
    #[api(
        name = "Matcher.HttpCode",
        default = "`200`",
        values = "codes and ranges, `200`, `200-299`, `200,302`"
    )]
    pub matcher: Option<String>,
    #[tags]
    pub tags: Option<Tags>,
    #[output]
    pub arn: String,
    #[output]
    pub name: String,
}

fn matcher(codes: &Option<String>) -> Option<aws_sdk_elasticloadbalancingv2::types::Matcher> {
    codes.as_ref().map(|c| {
        aws_sdk_elasticloadbalancingv2::types::Matcher::builder()
            .http_code(c)
            .build()
    })
}

#[async_trait]
impl AwsResource for TargetGroup {
    const TAGS: Tagging = Tagging::Elb;
    const CREATE_RETURNS_EXISTING: bool = true;

    async fn create(
        c: &Clients,
        ctx: &ResourceContext,
        _token: &str,
        i: &TargetGroupInputs,
    ) -> Result<(String, TargetGroupOutputs), ProviderError> {
        let out = c
            .elb
            .create_target_group()
            .name(&i.name)
            .port(i.port)
            .protocol(i.protocol.as_str().into())
            .vpc_id(&i.vpc_id)
            .set_target_type(i.target_type.map(|t| t.as_str().into()))
            .set_health_check_path(i.health_check_path.clone())
            .set_health_check_protocol(i.health_check_protocol.map(|p| p.as_str().into()))
            .set_health_check_interval_seconds(i.health_check_interval_seconds)
            .set_health_check_timeout_seconds(i.health_check_timeout_seconds)
            .set_healthy_threshold_count(i.healthy_threshold_count)
            .set_unhealthy_threshold_count(i.unhealthy_threshold_count)
            .set_matcher(matcher(&i.matcher))
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
        let name = i.name.clone();
        Ok((arn.clone(), TargetGroupOutputs { arn, name }))
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
        _i: Option<&TargetGroupInputs>,
    ) -> Result<Option<(TargetGroupInputs, TargetGroupOutputs)>, ProviderError> {
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
        let protocol = tg.protocol().map(|p| p.as_str()).unwrap_or_default();
        let now = TargetGroupInputs {
            name: tg.target_group_name().unwrap_or_default().to_string(),
            port: tg.port().unwrap_or_default(),
            protocol: Protocol::parse(protocol).ok_or_else(|| {
                ProviderError::new(format!(
                    "target group {id} has an unknown protocol '{protocol}'"
                ))
            })?,
            vpc_id: tg.vpc_id().unwrap_or_default().to_string(),
            target_type: tg.target_type().and_then(|t| TargetType::parse(t.as_str())),
            health_check_path: tg.health_check_path().map(str::to_string),
            health_check_protocol: tg
                .health_check_protocol()
                .and_then(|p| Protocol::parse(p.as_str())),
            health_check_interval_seconds: tg.health_check_interval_seconds(),
            health_check_timeout_seconds: tg.health_check_timeout_seconds(),
            healthy_threshold_count: tg.healthy_threshold_count(),
            unhealthy_threshold_count: tg.unhealthy_threshold_count(),
            matcher: tg.matcher().and_then(|m| m.http_code()).map(str::to_string),
            tags: None,
        };
        let outputs = TargetGroupOutputs {
            arn: id.to_string(),
            name: now.name.clone(),
        };
        Ok(Some((now, outputs)))
    }

    async fn update(
        c: &Clients,
        _ctx: &ResourceContext,
        id: &str,
        old: &TargetGroupInputs,
        new: &TargetGroupInputs,
    ) -> Result<TargetGroupOutputs, ProviderError> {
        // What changed, in one call (what the program stopped declaring goes back to AWS's
        // default for the path; the others keep their value).
        let health = (
            &new.health_check_path,
            new.health_check_protocol,
            new.health_check_interval_seconds,
            new.health_check_timeout_seconds,
            new.healthy_threshold_count,
            new.unhealthy_threshold_count,
            &new.matcher,
        );
        let before = (
            &old.health_check_path,
            old.health_check_protocol,
            old.health_check_interval_seconds,
            old.health_check_timeout_seconds,
            old.healthy_threshold_count,
            old.unhealthy_threshold_count,
            &old.matcher,
        );
        if health != before {
            c.elb
                .modify_target_group()
                .target_group_arn(id)
                .health_check_path(new.health_check_path.clone().unwrap_or_else(|| "/".into()))
                .set_health_check_protocol(new.health_check_protocol.map(|p| p.as_str().into()))
                .set_health_check_interval_seconds(new.health_check_interval_seconds)
                .set_health_check_timeout_seconds(new.health_check_timeout_seconds)
                .set_healthy_threshold_count(new.healthy_threshold_count)
                .set_unhealthy_threshold_count(new.unhealthy_threshold_count)
                .set_matcher(matcher(&new.matcher))
                .send()
                .await
                .map_err(aws_on("ModifyTargetGroup", "health_check_path"))?;
        }
        let (arn, name) = (id.to_string(), new.name.clone());
        Ok(TargetGroupOutputs { arn, name })
    }

    async fn delete(
        c: &Clients,
        id: &str,
        _i: &TargetGroupInputs,
        _o: &TargetGroupOutputs,
    ) -> Result<(), ProviderError> {
        // A listener or service that just let go of it may still be releasing it.
        wait::retry_on(&["ResourceInUse"], Duration::from_secs(120), || async {
            gone(
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
