//! What a listener or a listener rule does with a request: forward it to a target group,
//! redirect it, or answer it. Both resources declare the three as properties of their own
//! (`target_group_arn`, `redirect`, `fixed_response`), exactly one of them set.

use aws_sdk_elasticloadbalancingv2::types::{
    Action, ActionTypeEnum, FixedResponseActionConfig, RedirectActionConfig,
    RedirectActionStatusCodeEnum,
};
use cairn::{CheckFailure, PropMap, ProviderError};
use serde::{Deserialize, Serialize};

use crate::resource::declared;

/// A redirect answer (`HTTP_301` or `HTTP_302`); what is unset keeps the request's own value
/// (`#{protocol}`, `#{host}`, `#{port}`, `#{path}`, `#{query}`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Redirect {
    /// `HTTP_301` (permanent) or `HTTP_302` (temporary).
    pub status_code: String,
    /// `HTTP`, `HTTPS` or `#{protocol}` (the default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol: Option<String>,
    /// A port, or `#{port}` (the default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<String>,
    /// A host name, or `#{host}` (the default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// A path starting with `/`, or `/#{path}` (the default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// A query without the `?`, or `#{query}` (the default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query: Option<String>,
}

/// A fixed answer: a status code (`2XX`, `4XX` or `5XX`), and a body.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct FixedResponse {
    /// The status code answered (`200`, `404`, `503`…).
    pub status_code: String,
    /// The body's type: `text/plain`, `text/css`, `text/html`, `application/javascript` or
    /// `application/json`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    /// The body (at most 1024 characters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_body: Option<String>,
}

/// The three ways to act, as a resource declares them (exactly one set).
pub(super) struct Act<'a> {
    pub target_group_arn: &'a Option<String>,
    pub redirect: &'a Option<Redirect>,
    pub fixed_response: &'a Option<FixedResponse>,
}

/// The three properties, one of which is the action.
const PROPERTIES: [&str; 3] = ["target_group_arn", "redirect", "fixed_response"];

/// That exactly one of the three is declared (`what`: "a listener has one default action").
pub(super) fn check(inputs: &PropMap, what: &str) -> Option<CheckFailure> {
    let set = PROPERTIES.iter().filter(|p| declared(inputs, p)).count();
    (set != 1).then(|| CheckFailure {
        property: Some("target_group_arn".into()),
        reason: format!(
            "{what}: set exactly one of target_group_arn, redirect and fixed_response ({set} set)"
        ),
    })
}

impl Act<'_> {
    /// The action, as ELBv2 takes it.
    pub(super) fn build(&self) -> Result<Action, ProviderError> {
        Ok(
            match (self.target_group_arn, self.redirect, self.fixed_response) {
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
                    return Err(ProviderError::on_property(
                        "target_group_arn",
                        "set exactly one of target_group_arn, redirect and fixed_response",
                    ));
                }
            },
        )
    }
}

/// The three properties read back from an action: (target_group_arn, redirect, fixed_response).
pub(super) fn read(
    a: Option<&Action>,
) -> (Option<String>, Option<Redirect>, Option<FixedResponse>) {
    let forward = a.and_then(|a| a.target_group_arn()).map(str::to_string);
    let redirect = a.and_then(|a| a.redirect_config()).map(|r| Redirect {
        status_code: r
            .status_code()
            .map(|c| c.as_str().to_string())
            .unwrap_or_default(),
        protocol: r.protocol().map(str::to_string),
        port: r.port().map(str::to_string),
        host: r.host().map(str::to_string),
        path: r.path().map(str::to_string),
        query: r.query().map(str::to_string),
    });
    let fixed = a
        .and_then(|a| a.fixed_response_config())
        .map(|f| FixedResponse {
            status_code: f.status_code().unwrap_or_default().to_string(),
            content_type: f.content_type().map(str::to_string),
            message_body: f.message_body().map(str::to_string),
        });
    (forward, redirect, fixed)
}

cairn::literal_via_serde!(Redirect, FixedResponse);
