//! `aws:lb/Listener`: a port of a load balancer and its default action.

use async_trait::async_trait;
use cairn::{CheckFailure, PropMap, ProviderError, ResourceContext};

use super::action::{self, Act};
use super::{FixedResponse, Protocol, Redirect};
use crate::AwsProvider;
use crate::config::Clients;
use crate::error::{aws, aws_on, found, gone};
use crate::resource::{AwsResource, declared, known};

/// A listener of a load balancer: a port and protocol it answers on, and what it does with
/// a request by default (forward it, redirect it, or answer itself); its
/// [`ListenerRule`](super::ListenerRule)s route some requests elsewhere.
///
/// ```no_run
/// # fn program(stack: &mut cairn::Stack, alb: &cairn_aws::elb::LoadBalancer, tg: &cairn_aws::elb::TargetGroup) {
/// use cairn_aws::elb::{Listener, ListenerArgs, Protocol};
/// Listener::new(stack, "http", ListenerArgs::builder()
///     .load_balancer_arn(alb.arn())
///     .port(80)
///     .protocol(Protocol::Http)
///     .target_group_arn(tg.arn())
///     .build());
/// # }
/// ```
#[cairn::resource(token = "aws:lb/Listener", provider = AwsProvider)]
#[api(calls(CreateListener, DescribeListeners, ModifyListener, DeleteListener))]
#[unique(key(port), within(load_balancer_arn))]
pub struct Listener {
    /// The load balancer it listens for.
    #[replace]
    pub load_balancer_arn: String,
    /// The port it answers on.
    #[api(values = "1 to 65535")]
    pub port: i32,
    /// The protocol clients speak to it.
    pub protocol: Protocol,
    /// What the listener does with a request: forward it to this target group, or answer
    /// with `redirect` or `fixed_response` (exactly one of the three).
    #[api(
        name = "DefaultActions[].TargetGroupArn",
        default = "none: the action is `redirect` or `fixed_response`"
    )]
    pub target_group_arn: Option<String>,
    /// Answer with a redirect.
    #[api(name = "DefaultActions[].RedirectConfig", default = "none")]
    pub redirect: Option<Redirect>,
    /// Answer with a fixed response.
    #[api(name = "DefaultActions[].FixedResponseConfig", default = "none")]
    pub fixed_response: Option<FixedResponse>,
    /// For `HTTPS`: the certificate (ACM or IAM ARN).
    #[api(
        name = "Certificates[].CertificateArn",
        default = "none (`HTTPS` needs one)"
    )]
    pub certificate_arn: Option<String>,
    /// For `HTTPS`: the TLS security policy.
    #[api(
        name = "SslPolicy",
        default = "AWS's default, `ELBSecurityPolicy-TLS13-1-2-2021-06`"
    )]
    pub ssl_policy: Option<String>,
    #[output]
    pub arn: String,
}

impl ListenerInputs {
    fn act(&self) -> Act<'_> {
        Act {
            target_group_arn: &self.target_group_arn,
            redirect: &self.redirect,
            fixed_response: &self.fixed_response,
        }
    }
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
        let mut failures: Vec<CheckFailure> =
            action::check(inputs, "a listener has one default action")
                .into_iter()
                .collect();
        let set = |p: &str| declared(inputs, p);
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
            .default_actions(i.act().build()?)
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
        _i: Option<&ListenerInputs>,
    ) -> Result<Option<(ListenerInputs, ListenerOutputs)>, ProviderError> {
        let r = c.elb.describe_listeners().listener_arns(id).send().await;
        let Some(l) = found(r, "DescribeListeners")?.and_then(|o| o.listeners().first().cloned())
        else {
            return Ok(None);
        };
        let protocol = l.protocol().map(|p| p.as_str()).unwrap_or_default();
        let (target_group_arn, redirect, fixed_response) =
            action::read(l.default_actions().first());
        let now = ListenerInputs {
            load_balancer_arn: l.load_balancer_arn().unwrap_or_default().to_string(),
            port: l.port().unwrap_or_default(),
            protocol: Protocol::parse(protocol).ok_or_else(|| {
                ProviderError::new(format!(
                    "listener {id} has an unknown protocol '{protocol}'"
                ))
            })?,
            target_group_arn,
            redirect,
            fixed_response,
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
            .default_actions(new.act().build()?)
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
