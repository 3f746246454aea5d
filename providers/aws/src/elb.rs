//! Elastic Load Balancing v2: `aws:lb/LoadBalancer`, `aws:lb/TargetGroup`, `aws:lb/Listener`.

use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_elasticloadbalancingv2::types::{Action, ActionTypeEnum, LoadBalancerStateEnum, Tag};
use cairn::{CheckFailure, PropMap, ProviderError, ResourceContext};
use serde::{Deserialize, Serialize};

use crate::config::Clients;
use crate::error::{aws, aws_on, found, gone};
use crate::names;
use crate::resource::{AwsResource, declared, known};
use crate::tagging::Tagging;
use crate::{AwsProvider, Tags, tags, wait};

cairn::string_enum! {
    /// Whether a [`LoadBalancer`] has public addresses.
    pub enum Scheme {
        InternetFacing = "internet-facing",
        Internal = "internal",
    }
}

cairn::string_enum! {
    /// The kind of a [`LoadBalancer`].
    pub enum LoadBalancerType {
        Application = "application",
        Network = "network",
        Gateway = "gateway",
    }
}

cairn::string_enum! {
    /// The protocol of a [`TargetGroup`] or [`Listener`].
    pub enum Protocol {
        Http = "HTTP",
        Https = "HTTPS",
        Tcp = "TCP",
        Tls = "TLS",
        Udp = "UDP",
        TcpUdp = "TCP_UDP",
        Geneve = "GENEVE",
    }
}

cairn::string_enum! {
    /// What a [`TargetGroup`]'s targets are.
    pub enum TargetType {
        /// EC2 instances by id.
        Instance = "instance",
        /// IP addresses: Fargate tasks.
        Ip = "ip",
        Lambda = "lambda",
        Alb = "alb",
    }
}

/// A load balancer.
#[cairn::resource(token = "aws:lb/LoadBalancer", provider = AwsProvider)]
pub struct LoadBalancer {
    /// Unique in the account and region. Left unset, Cairn names it `<resource name>-<random
    /// suffix>` and picks a new name for each replacement, so the new copy is created first.
    #[replace]
    #[unique(name = names::LOAD_BALANCER)]
    pub name: String,
    #[unordered]
    pub subnets: Vec<String>,
    #[unordered]
    pub security_groups: Option<Vec<String>>,
    /// Internet-facing unless set.
    #[replace]
    pub scheme: Option<Scheme>,
    /// An application load balancer unless set.
    #[replace]
    pub load_balancer_type: Option<LoadBalancerType>,
    #[tags]
    pub tags: Option<Tags>,
    #[output]
    pub arn: String,
    #[output]
    pub dns_name: String,
    #[output]
    pub zone_id: String,
}

/// A target group.
#[cairn::resource(token = "aws:lb/TargetGroup", provider = AwsProvider)]
pub struct TargetGroup {
    /// Unique in the account and region. Left unset, Cairn names it `<resource name>-<random
    /// suffix>` and picks a new name for each replacement, so the new copy is created first.
    #[replace]
    #[unique(name = names::TARGET_GROUP)]
    pub name: String,
    #[replace]
    pub port: i32,
    #[replace]
    pub protocol: Protocol,
    #[replace]
    pub vpc_id: String,
    #[replace]
    pub target_type: Option<TargetType>,
    pub health_check_path: Option<String>,
    /// The protocol of the health checks (the target group's, by default).
    pub health_check_protocol: Option<Protocol>,
    /// Seconds between checks (5 to 300).
    pub health_check_interval_seconds: Option<i32>,
    /// Seconds without an answer that fail a check (2 to 120).
    pub health_check_timeout_seconds: Option<i32>,
    /// Checks passed in a row before a target is healthy, and failed before it is not (2 to 10).
    pub healthy_threshold_count: Option<i32>,
    pub unhealthy_threshold_count: Option<i32>,
    /// The HTTP codes of a healthy answer (`200`, `200-299`, `200,302`).
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

/// A listener forwarding to a target group.
#[cairn::resource(token = "aws:lb/Listener", provider = AwsProvider)]
#[unique(key(port), within(load_balancer_arn))]
pub struct Listener {
    #[replace]
    pub load_balancer_arn: String,
    pub port: i32,
    pub protocol: Protocol,
    /// What the listener does with a request: forward it to this target group, or answer
    /// with `redirect` or `fixed_response` (exactly one of the three).
    pub target_group_arn: Option<String>,
    pub redirect: Option<Redirect>,
    pub fixed_response: Option<FixedResponse>,
    /// For `HTTPS`: the certificate (ACM or IAM ARN) and the security policy
    /// (`ELBSecurityPolicy-TLS13-1-2-2021-06`, AWS's default when unset).
    pub certificate_arn: Option<String>,
    pub ssl_policy: Option<String>,
    #[output]
    pub arn: String,
}

/// A redirect answer (`HTTP_301` or `HTTP_302`); what is unset keeps the request's own value
/// (`#{protocol}`, `#{host}`, `#{port}`, `#{path}`, `#{query}`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Redirect {
    pub status_code: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query: Option<String>,
}

/// A fixed answer: a status code (`2XX`, `4XX` or `5XX`), and a body.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct FixedResponse {
    pub status_code: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_body: Option<String>,
}

fn elb_tags(ctx: &ResourceContext, user: Option<&Tags>) -> Vec<Tag> {
    tags::with_cairn(ctx, user)
        .into_iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect()
}

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

fn lb_outputs(lb: &aws_sdk_elasticloadbalancingv2::types::LoadBalancer) -> LoadBalancerOutputs {
    let text = |v: Option<&str>| v.unwrap_or_default().to_string();
    LoadBalancerOutputs {
        arn: text(lb.load_balancer_arn()),
        dns_name: text(lb.dns_name()),
        zone_id: text(lb.canonical_hosted_zone_id()),
    }
}

#[async_trait]
impl AwsResource for LoadBalancer {
    const TAGS: Tagging = Tagging::Elb;
    const CREATE_RETURNS_EXISTING: bool = true;

    async fn create(
        c: &Clients,
        ctx: &ResourceContext,
        _token: &str,
        i: &LoadBalancerInputs,
    ) -> Result<(String, LoadBalancerOutputs), ProviderError> {
        let out = c
            .elb
            .create_load_balancer()
            .name(&i.name)
            .set_subnets(Some(i.subnets.clone()))
            .set_security_groups(i.security_groups.clone())
            .scheme(i.scheme.unwrap_or(Scheme::InternetFacing).as_str().into())
            .r#type(
                i.load_balancer_type
                    .unwrap_or(LoadBalancerType::Application)
                    .as_str()
                    .into(),
            )
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
        _i: &LoadBalancerInputs,
    ) -> Result<Option<(LoadBalancerInputs, LoadBalancerOutputs)>, ProviderError> {
        let Some(lb) = describe_lb(c, id).await? else {
            return Ok(None);
        };
        let subnets: Vec<String> = lb
            .availability_zones()
            .iter()
            .filter_map(|z| z.subnet_id().map(str::to_string))
            .collect();
        let now = LoadBalancerInputs {
            name: lb.load_balancer_name().unwrap_or_default().to_string(),
            subnets,
            security_groups: Some(lb.security_groups().to_vec()),
            scheme: lb.scheme().and_then(|s| Scheme::parse(s.as_str())),
            load_balancer_type: lb
                .r#type()
                .and_then(|t| LoadBalancerType::parse(t.as_str())),
            tags: None,
        };
        Ok(Some((now, lb_outputs(&lb))))
    }

    async fn update(
        c: &Clients,
        _ctx: &ResourceContext,
        id: &str,
        old: &LoadBalancerInputs,
        new: &LoadBalancerInputs,
    ) -> Result<LoadBalancerOutputs, ProviderError> {
        if !cairn::same_set(&old.subnets, &new.subnets) {
            c.elb
                .set_subnets()
                .load_balancer_arn(id)
                .set_subnets(Some(new.subnets.clone()))
                .send()
                .await
                .map_err(aws_on("SetSubnets", "subnets"))?;
        }
        let groups = |i: &LoadBalancerInputs| i.security_groups.clone().unwrap_or_default();
        if !cairn::same_set(&groups(old), &groups(new)) {
            c.elb
                .set_security_groups()
                .load_balancer_arn(id)
                .set_security_groups(Some(new.security_groups.clone().unwrap_or_default()))
                .send()
                .await
                .map_err(aws_on("SetSecurityGroups", "security_groups"))?;
        }
        let lb = describe_lb(c, id)
            .await?
            .ok_or_else(|| ProviderError::new(format!("load balancer {id} disappeared")))?;
        Ok(lb_outputs(&lb))
    }

    async fn delete(
        c: &Clients,
        id: &str,
        _i: &LoadBalancerInputs,
        _o: &LoadBalancerOutputs,
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
        _i: &TargetGroupInputs,
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

/// The listener's default action, from whichever of its three it declares.
fn action(i: &ListenerInputs) -> Result<Action, ProviderError> {
    use aws_sdk_elasticloadbalancingv2::types::{
        FixedResponseActionConfig, RedirectActionConfig, RedirectActionStatusCodeEnum,
    };
    let bad = |property: &str, e: String| ProviderError::on_property(property, e);
    Ok(
        match (&i.target_group_arn, &i.redirect, &i.fixed_response) {
            (Some(tg), None, None) => Action::builder()
                .r#type(ActionTypeEnum::Forward)
                .target_group_arn(tg)
                .build(),
            (None, Some(r), None) => Action::builder()
                .r#type(ActionTypeEnum::Redirect)
                .redirect_config(
                    RedirectActionConfig::builder()
                        .status_code(RedirectActionStatusCodeEnum::from(r.status_code.as_str()))
                        .set_protocol(r.protocol.clone())
                        .set_port(r.port.clone())
                        .set_host(r.host.clone())
                        .set_path(r.path.clone())
                        .set_query(r.query.clone())
                        .build(),
                )
                .build(),
            (None, None, Some(f)) => Action::builder()
                .r#type(ActionTypeEnum::FixedResponse)
                .fixed_response_config(
                    FixedResponseActionConfig::builder()
                        .status_code(&f.status_code)
                        .set_content_type(f.content_type.clone())
                        .set_message_body(f.message_body.clone())
                        .build(),
                )
                .build(),
            _ => {
                return Err(bad(
                    "target_group_arn",
                    "set exactly one of target_group_arn, redirect and fixed_response".into(),
                ));
            }
        },
    )
}

fn certificates(
    i: &ListenerInputs,
) -> Option<Vec<aws_sdk_elasticloadbalancingv2::types::Certificate>> {
    i.certificate_arn.as_ref().map(|arn| {
        vec![
            aws_sdk_elasticloadbalancingv2::types::Certificate::builder()
                .certificate_arn(arn)
                .build(),
        ]
    })
}

#[async_trait]
impl AwsResource for Listener {
    /// One action; HTTPS needs a certificate.
    fn check(inputs: &PropMap) -> Vec<CheckFailure> {
        let mut failures = Vec::new();
        let set = |p: &str| declared(inputs, p);
        let actions = ["target_group_arn", "redirect", "fixed_response"]
            .iter()
            .filter(|p| set(p))
            .count();
        if actions != 1 {
            failures.push(CheckFailure {
                property: Some("target_group_arn".into()),
                reason: format!(
                    "a listener has one default action: set exactly one of target_group_arn, \
                     redirect and fixed_response ({actions} set)"
                ),
            });
        }
        if known::<Protocol>(inputs, "protocol") == Some(Protocol::Https) && !set("certificate_arn")
        {
            failures.push(CheckFailure {
                property: Some("certificate_arn".into()),
                reason: "an HTTPS listener needs a certificate".into(),
            });
        }
        failures
    }

    async fn create(
        c: &Clients,
        _ctx: &ResourceContext,
        _token: &str,
        i: &ListenerInputs,
    ) -> Result<(String, ListenerOutputs), ProviderError> {
        let out = c
            .elb
            .create_listener()
            .load_balancer_arn(&i.load_balancer_arn)
            .port(i.port)
            .protocol(i.protocol.as_str().into())
            .default_actions(action(i)?)
            .set_certificates(certificates(i))
            .set_ssl_policy(i.ssl_policy.clone())
            .send()
            .await
            .map_err(aws_on("CreateListener", "port"))?;
        let arn = out
            .listeners()
            .first()
            .and_then(|l| l.listener_arn())
            .unwrap_or_default()
            .to_string();
        Ok((arn.clone(), ListenerOutputs { arn }))
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
        _i: &ListenerInputs,
    ) -> Result<Option<(ListenerInputs, ListenerOutputs)>, ProviderError> {
        let r = c.elb.describe_listeners().listener_arns(id).send().await;
        let Some(l) = found(r, "DescribeListeners")?.and_then(|o| o.listeners().first().cloned())
        else {
            return Ok(None);
        };
        let protocol = l.protocol().map(|p| p.as_str()).unwrap_or_default();
        let first = l.default_actions().first();
        let now = ListenerInputs {
            load_balancer_arn: l.load_balancer_arn().unwrap_or_default().to_string(),
            port: l.port().unwrap_or_default(),
            protocol: Protocol::parse(protocol).ok_or_else(|| {
                ProviderError::new(format!(
                    "listener {id} has an unknown protocol '{protocol}'"
                ))
            })?,
            target_group_arn: first.and_then(|a| a.target_group_arn()).map(str::to_string),
            redirect: first.and_then(|a| a.redirect_config()).map(|r| Redirect {
                status_code: r
                    .status_code()
                    .map(|c| c.as_str().to_string())
                    .unwrap_or_default(),
                protocol: r.protocol().map(str::to_string),
                port: r.port().map(str::to_string),
                host: r.host().map(str::to_string),
                path: r.path().map(str::to_string),
                query: r.query().map(str::to_string),
            }),
            fixed_response: first
                .and_then(|a| a.fixed_response_config())
                .map(|f| FixedResponse {
                    status_code: f.status_code().unwrap_or_default().to_string(),
                    content_type: f.content_type().map(str::to_string),
                    message_body: f.message_body().map(str::to_string),
                }),
            certificate_arn: l
                .certificates()
                .first()
                .and_then(|c| c.certificate_arn())
                .map(str::to_string),
            ssl_policy: l.ssl_policy().map(str::to_string),
        };
        Ok(Some((
            now,
            ListenerOutputs {
                arn: id.to_string(),
            },
        )))
    }

    async fn update(
        c: &Clients,
        _ctx: &ResourceContext,
        id: &str,
        _old: &ListenerInputs,
        new: &ListenerInputs,
    ) -> Result<ListenerOutputs, ProviderError> {
        c.elb
            .modify_listener()
            .listener_arn(id)
            .port(new.port)
            .protocol(new.protocol.as_str().into())
            .default_actions(action(new)?)
            .set_certificates(certificates(new))
            .set_ssl_policy(new.ssl_policy.clone())
            .send()
            .await
            .map_err(aws("ModifyListener"))?;
        Ok(ListenerOutputs {
            arn: id.to_string(),
        })
    }

    async fn delete(
        c: &Clients,
        id: &str,
        _i: &ListenerInputs,
        _o: &ListenerOutputs,
    ) -> Result<(), ProviderError> {
        gone(
            c.elb.delete_listener().listener_arn(id).send().await,
            "DeleteListener",
        )
    }
}
