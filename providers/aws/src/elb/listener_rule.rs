//! `aws:lb/ListenerRule`: requests a listener routes by path, host, method or source rather
//! than by its default action.

use async_trait::async_trait;
use aws_sdk_elasticloadbalancingv2::types::{
    HostHeaderConditionConfig, HttpRequestMethodConditionConfig, PathPatternConditionConfig,
    RuleCondition, RulePriorityPair, SourceIpConditionConfig,
};
use cairn::{CheckFailure, PropMap, ProviderError, ResourceContext};

use super::action::{self, Act};
use super::{FixedResponse, Redirect, elb_tags};
use crate::config::Clients;
use crate::error::{aws_on, found, gone};
use crate::resource::{AwsResource, by_record, declared, known};
use crate::tagging::Tagging;
use crate::{AwsProvider, Tags};

/// A rule of a listener: a request that meets every condition it declares gets its action
/// instead of the listener's default. A listener tries its rules by priority, lowest first.
/// Each condition's values are alternatives (`/api/*` or `/v2/*`).
///
/// ```no_run
/// # fn program(stack: &mut cairn::Stack, listener: &cairn_aws::elb::Listener, api: &cairn_aws::elb::TargetGroup) {
/// use cairn_aws::elb::{ListenerRule, ListenerRuleArgs};
/// ListenerRule::new(stack, "api", ListenerRuleArgs::builder()
///     .listener_arn(listener.arn())
///     .priority(10)
///     .path_patterns(vec!["/api/*".to_string()])
///     .target_group_arn(api.arn())
///     .build());
/// # }
/// ```
#[cairn::resource(token = "aws:lb/ListenerRule", provider = AwsProvider)]
#[api(calls(CreateRule, DescribeRules, ModifyRule, SetRulePriorities, DeleteRule))]
#[unique(key(priority), within(listener_arn))]
pub struct ListenerRule {
    /// The listener it is a rule of.
    #[replace]
    pub listener_arn: String,
    /// Its place in the listener's order, lowest first.
    #[api(values = "1 to 50,000")]
    pub priority: i32,
    /// Paths (`/api/*`: case-sensitive, `*` and `?` as wildcards).
    #[unordered]
    #[api(
        name = "Conditions[].PathPatternConfig.Values",
        default = "no condition on the path"
    )]
    pub path_patterns: Option<Vec<String>>,
    /// Host names (`api.example.com`, `*.example.com`).
    #[unordered]
    #[api(
        name = "Conditions[].HostHeaderConfig.Values",
        default = "no condition on the host"
    )]
    pub host_headers: Option<Vec<String>>,
    /// HTTP methods (`GET`, `POST`).
    #[unordered]
    #[api(
        name = "Conditions[].HttpRequestMethodConfig.Values",
        default = "no condition on the method"
    )]
    pub http_request_methods: Option<Vec<String>>,
    /// Client addresses, as CIDR blocks.
    #[unordered]
    #[api(
        name = "Conditions[].SourceIpConfig.Values",
        default = "no condition on the client's address"
    )]
    pub source_ips: Option<Vec<String>>,
    /// What the rule does with a request: forward it to this target group, or answer with
    /// `redirect` or `fixed_response` (exactly one of the three).
    #[api(
        name = "Actions[].TargetGroupArn",
        default = "none: the action is `redirect` or `fixed_response`"
    )]
    pub target_group_arn: Option<String>,
    /// Answer with a redirect.
    #[api(name = "Actions[].RedirectConfig", default = "none")]
    pub redirect: Option<Redirect>,
    /// Answer with a fixed response.
    #[api(name = "Actions[].FixedResponseConfig", default = "none")]
    pub fixed_response: Option<FixedResponse>,
    #[tags]
    pub tags: Option<Tags>,
    #[output]
    pub arn: String,
}

/// The condition properties, as ELBv2 names their fields.
const CONDITIONS: [(&str, &str); 4] = [
    ("path_patterns", "path-pattern"),
    ("host_headers", "host-header"),
    ("http_request_methods", "http-request-method"),
    ("source_ips", "source-ip"),
];

impl ListenerRuleInputs {
    fn act(&self) -> Act<'_> {
        Act {
            target_group_arn: &self.target_group_arn,
            redirect: &self.redirect,
            fixed_response: &self.fixed_response,
        }
    }

    fn conditions(&self) -> Vec<RuleCondition> {
        let field = |f: &str| RuleCondition::builder().field(f);
        let mut out = Vec::new();
        if let Some(v) = &self.path_patterns {
            let config = PathPatternConditionConfig::builder().set_values(Some(v.clone()));
            out.push(
                field("path-pattern")
                    .path_pattern_config(config.build())
                    .build(),
            );
        }
        if let Some(v) = &self.host_headers {
            let config = HostHeaderConditionConfig::builder().set_values(Some(v.clone()));
            out.push(
                field("host-header")
                    .host_header_config(config.build())
                    .build(),
            );
        }
        if let Some(v) = &self.http_request_methods {
            let config = HttpRequestMethodConditionConfig::builder().set_values(Some(v.clone()));
            out.push(
                field("http-request-method")
                    .http_request_method_config(config.build())
                    .build(),
            );
        }
        if let Some(v) = &self.source_ips {
            let config = SourceIpConditionConfig::builder().set_values(Some(v.clone()));
            out.push(field("source-ip").source_ip_config(config.build()).build());
        }
        out
    }
}

/// The values of the condition on `field`, from its config (or the older `Values`).
fn values(conditions: &[RuleCondition], field: &str) -> Option<Vec<String>> {
    let c = conditions.iter().find(|c| c.field() == Some(field))?;
    let config = match field {
        "path-pattern" => c.path_pattern_config().map(|c| c.values()),
        "host-header" => c.host_header_config().map(|c| c.values()),
        "http-request-method" => c.http_request_method_config().map(|c| c.values()),
        "source-ip" => c.source_ip_config().map(|c| c.values()),
        _ => None,
    };
    Some(config.unwrap_or(c.values()).to_vec())
}

async fn describe_rule(
    c: &Clients,
    arn: &str,
) -> Result<Option<aws_sdk_elasticloadbalancingv2::types::Rule>, ProviderError> {
    let r = c.elb.describe_rules().rule_arns(arn).send().await;
    Ok(found(r, "DescribeRules")?.and_then(|o| o.rules().first().cloned()))
}

#[async_trait]
impl AwsResource for ListenerRule {
    const LOOKUP_BY_ID: bool = false;
    const TAGS: Tagging = Tagging::Elb;

    /// One action, at least one condition, a priority ELBv2 accepts.
    fn check(inputs: &PropMap) -> Vec<CheckFailure> {
        let mut failures: Vec<CheckFailure> =
            action::check(inputs, "a listener rule has one action")
                .into_iter()
                .collect();
        if !CONDITIONS.iter().any(|(p, _)| declared(inputs, p)) {
            failures.push(CheckFailure {
                property: Some("path_patterns".into()),
                reason: "a listener rule needs a condition: set path_patterns, host_headers, \
                         http_request_methods or source_ips"
                    .into(),
            });
        }
        for (property, _) in CONDITIONS {
            if known::<Vec<String>>(inputs, property).is_some_and(|v| v.is_empty()) {
                failures.push(CheckFailure {
                    property: Some(property.into()),
                    reason: "an empty condition matches nothing: leave it unset instead".into(),
                });
            }
        }
        if let Some(p) = known::<i32>(inputs, "priority").filter(|p| !(1..=50_000).contains(p)) {
            failures.push(CheckFailure {
                property: Some("priority".into()),
                reason: format!("{p} is outside 1..50000"),
            });
        }
        failures
    }

    async fn create(
        c: &Clients,
        ctx: &ResourceContext,
        _token: &str,
        i: &ListenerRuleInputs,
    ) -> Result<(String, ListenerRuleOutputs), ProviderError> {
        let out = c
            .elb
            .create_rule()
            .listener_arn(&i.listener_arn)
            .priority(i.priority)
            .set_conditions(Some(i.conditions()))
            .actions(i.act().build()?)
            .set_tags(Some(elb_tags(ctx, i.tags.as_ref())))
            .send()
            .await
            .map_err(aws_on("CreateRule", "priority"))?;
        let arn = out
            .rules()
            .first()
            .and_then(|r| r.rule_arn())
            .unwrap_or_default()
            .to_string();
        Ok((arn.clone(), ListenerRuleOutputs { arn }))
    }

    /// The rule at the declared priority (a listener holds one per priority).
    async fn find(
        c: &Clients,
        _ctx: &ResourceContext,
        _token: &str,
        i: &Self::Inputs,
    ) -> Result<Vec<String>, ProviderError> {
        let r = c
            .elb
            .describe_rules()
            .listener_arn(&i.listener_arn)
            .send()
            .await;
        let priority = i.priority.to_string();
        Ok(found(r, "DescribeRules")?
            .map(|o| {
                o.rules()
                    .iter()
                    .filter(|r| r.priority() == Some(priority.as_str()))
                    .filter_map(|r| r.rule_arn().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default())
    }

    async fn read(
        c: &Clients,
        id: &str,
        i: Option<&ListenerRuleInputs>,
    ) -> Result<Option<(ListenerRuleInputs, ListenerRuleOutputs)>, ProviderError> {
        let i = by_record(i, Self::TYPE)?;
        let Some(rule) = describe_rule(c, id).await? else {
            return Ok(None);
        };
        let (target_group_arn, redirect, fixed_response) = action::read(rule.actions().first());
        let conditions = rule.conditions();
        let priority = rule.priority().unwrap_or_default();
        let now = ListenerRuleInputs {
            // A rule's ARN is its listener's, extended; DescribeRules does not repeat it.
            listener_arn: i.listener_arn.clone(),
            priority: priority.parse().map_err(|_| {
                ProviderError::new(format!("rule {id} has the priority '{priority}'"))
            })?,
            path_patterns: values(conditions, "path-pattern"),
            host_headers: values(conditions, "host-header"),
            http_request_methods: values(conditions, "http-request-method"),
            source_ips: values(conditions, "source-ip"),
            target_group_arn,
            redirect,
            fixed_response,
            tags: None,
        };
        Ok(Some((
            now,
            ListenerRuleOutputs {
                arn: id.to_string(),
            },
        )))
    }

    async fn update(
        c: &Clients,
        _ctx: &ResourceContext,
        id: &str,
        old: &ListenerRuleInputs,
        new: &ListenerRuleInputs,
    ) -> Result<ListenerRuleOutputs, ProviderError> {
        if old.priority != new.priority {
            c.elb
                .set_rule_priorities()
                .rule_priorities(
                    RulePriorityPair::builder()
                        .rule_arn(id)
                        .priority(new.priority)
                        .build(),
                )
                .send()
                .await
                .map_err(aws_on("SetRulePriorities", "priority"))?;
        }
        // Conditions and action in one call: ModifyRule replaces the conditions it is given
        // whole (a condition no longer declared goes with them).
        c.elb
            .modify_rule()
            .rule_arn(id)
            .set_conditions(Some(new.conditions()))
            .actions(new.act().build()?)
            .send()
            .await
            .map_err(aws_on("ModifyRule", "path_patterns"))?;
        Ok(ListenerRuleOutputs {
            arn: id.to_string(),
        })
    }

    async fn delete(
        c: &Clients,
        id: &str,
        _i: &ListenerRuleInputs,
        _o: &ListenerRuleOutputs,
    ) -> Result<(), ProviderError> {
        gone(c.elb.delete_rule().rule_arn(id).send().await, "DeleteRule")
    }
}
