//! `aws:lb/LoadBalancer`.

use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_elasticloadbalancingv2::types::LoadBalancerStateEnum;
use cairn::{ProviderError, ResourceContext};

use super::{LoadBalancerType, Scheme, elb_tags};
use crate::config::Clients;
use crate::error::{aws_on, found, gone};
use crate::names;
use crate::resource::AwsResource;
use crate::tagging::Tagging;
use crate::{AwsProvider, Tags, wait};

/// An Elastic Load Balancing (v2) load balancer: an application load balancer by default,
/// spread over subnets in two zones or more, answering on its [`Listener`](super::Listener)s.
///
/// ```no_run
/// # fn program(stack: &mut cairn::Stack, public: &[cairn_aws::ec2::Subnet], sg: &cairn_aws::ec2::SecurityGroup) {
/// use cairn::Output;
/// use cairn_aws::elb::{LoadBalancer, LoadBalancerArgs};
/// let alb = LoadBalancer::new(stack, "web", LoadBalancerArgs::builder()
///     .subnets(Output::all(public.iter().map(|s| s.id())))
///     .security_groups(Output::all([sg.id()]))
///     .build());
/// stack.export("url", cairn::format!("http://{}", alb.dns_name()));
/// # }
/// ```
#[cairn::resource(
    token = "aws:lb/LoadBalancer",
    provider = AwsProvider,
    // AWS accepts a listener (and anything else that takes the ARN or DNS name) while the
    // load balancer is `provisioning`: the console's wizard creates the listener straight
    // after the load balancer, and Terraform's aws_alb returned while it was provisioning
    // until 0.8.5 (hashicorp/terraform#10386, #11333) with listeners made meanwhile.
    ready_later = "AWS accepts its listeners while it is `provisioning`, for a minute or \
                   more; it is ready when `active`"
)]
#[api(calls(
    CreateLoadBalancer,
    DescribeLoadBalancers,
    SetSubnets,
    SetSecurityGroups,
    DeleteLoadBalancer
))]
pub struct LoadBalancer {
    /// The load balancer's name.
    #[replace]
    #[unique(name = names::LOAD_BALANCER)]
    #[api(values = "up to 32 letters, digits and `-`, not starting or ending with `-`")]
    pub name: String,
    /// Its subnets, in two availability zones or more (public ones for internet-facing).
    #[unordered]
    pub subnets: Vec<String>,
    /// Its security groups (an application load balancer's).
    #[unordered]
    #[api(default = "the VPC's default group")]
    pub security_groups: Option<Vec<String>>,
    /// Whether it has public addresses.
    #[replace]
    #[api(default = "[`Scheme::InternetFacing`]")]
    pub scheme: Option<Scheme>,
    /// Application (HTTP), network (TCP/UDP) or gateway.
    #[replace]
    #[api(name = "Type", default = "[`LoadBalancerType::Application`]")]
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

pub(super) async fn describe_lb(
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

pub(super) fn lb_outputs(
    lb: &aws_sdk_elasticloadbalancingv2::types::LoadBalancer,
) -> LoadBalancerOutputs {
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
        // It exists now, `provisioning`: its ARN and DNS name are known, and `await_ready`
        // waits for the rest.
        let lb = out.load_balancers().first().ok_or_else(|| {
            ProviderError::new(format!(
                "CreateLoadBalancer returned no load balancer {}",
                i.name
            ))
        })?;
        let arn = lb.load_balancer_arn().unwrap_or_default().to_string();
        Ok((arn, lb_outputs(lb)))
    }

    /// A load balancer is `provisioning` for a minute or two on AWS.
    async fn await_ready(
        c: &Clients,
        id: &str,
        _outputs: LoadBalancerOutputs,
    ) -> Result<LoadBalancerOutputs, ProviderError> {
        let lb = wait::until(
            &format!("load balancer {id} to become active"),
            Duration::from_secs(600),
            || async {
                let lb = describe_lb(c, id)
                    .await?
                    .ok_or_else(|| ProviderError::new(format!("load balancer {id} disappeared")))?;
                let state = lb.state().and_then(|s| s.code()).cloned();
                match state {
                    Some(LoadBalancerStateEnum::Active) | None => Ok(Some(lb)),
                    Some(LoadBalancerStateEnum::Failed) => Err(ProviderError::new(format!(
                        "load balancer {id} failed to provision"
                    ))),
                    _ => Ok(None),
                }
            },
        )
        .await?;
        Ok(lb_outputs(&lb))
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
        _i: Option<&LoadBalancerInputs>,
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
