//! Every AWS call paced (`cairn::pace`): one pacer per account and region, shared by every
//! provider instance and client that reaches it, with a lane per API seeded from what AWS
//! documents, under the SDK's retries (each attempt waits for its slot).
//!
//! Three parts, because the SDK's hooks split what is needed: an interceptor names the API on
//! the request (only the interceptors see the operation), the HTTP connector waits for the
//! API's slot before sending (only the connector can wait), and a retry classifier tells the
//! lane whether the call was throttled (only the classifiers see the SDK's verdict).

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient,
    SharedHttpConnector,
};
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::{
    BeforeTransmitInterceptorContextMut, InterceptorContext,
};
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, Metadata};
use aws_smithy_runtime_api::client::retries::classifiers::{
    ClassifyRetry, RetryAction, RetryClassifierPriority,
};
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_runtime_api::client::stalled_stream_protection::StalledStreamProtectionConfig;
use aws_smithy_types::config_bag::ConfigBag;
use cairn::pace::{Bucket, Pacer, Slowed, Ticket};

use crate::retry::is_throttling;

/// EC2's buckets (the EC2 developer guide, "Request throttling for the Amazon EC2 API"): each
/// API has its own bucket, sized by its category. Non-mutating actions (`Describe*`): 100 at
/// once, 20 a second. Mutating actions: 200 at once, 5 a second.
const EC2_NON_MUTATING: Bucket = Bucket::new(100, 20.0);
const EC2_MUTATING: Bucket = Bucket::new(200, 5.0);

/// For the services that publish no bucket per API (IAM, ELBv2, CloudWatch Logs, …): a
/// generous seed, so that a throttle has a rate to cut and pacing takes over from there.
const UNPUBLISHED: Bucket = Bucket::new(50, 20.0);

/// The bucket of one API, named `service:Operation` (`ec2:DescribeVpcs`).
pub(crate) fn seed(api: &str) -> Option<Bucket> {
    let (service, operation) = api.split_once(':')?;
    let reads = ["Describe", "Get", "List", "Search"]
        .iter()
        .any(|p| operation.starts_with(p));
    Some(match service {
        "ec2" if reads => EC2_NON_MUTATING,
        "ec2" => EC2_MUTATING,
        _ => UNPUBLISHED,
    })
}

/// The pacer of an account and region: one for the process, whichever provider instances (two
/// stacks' worth of providers, a role and a profile into the same account) reach it.
pub(crate) fn shared(account: &str, region: &str) -> Arc<Pacer> {
    type ByAccountAndRegion = HashMap<(String, String), Arc<Pacer>>;
    static PACERS: LazyLock<Mutex<ByAccountAndRegion>> = LazyLock::new(Mutex::default);
    PACERS
        .lock()
        .unwrap()
        .entry((account.to_string(), region.to_string()))
        .or_insert_with(|| Arc::new(Pacer::new(seed)))
        .clone()
}

/// The SDK's stalled-stream protection for a paced client. Its upload check runs from the
/// moment the connector is called, so a call waiting there for its slot (seconds, or minutes
/// for thousands of calls in one lane) would fail as a stalled upload after its 5 s grace:
/// it is off, except for ECR, whose layer uploads are the one large request body Cairn sends
/// (a wait longer than the grace there fails that attempt as a timeout, which the SDK
/// retries). Responses keep it everywhere: it starts only once the response does.
pub(crate) fn stall_protection(service: &str) -> StalledStreamProtectionConfig {
    StalledStreamProtectionConfig::enabled()
        .upload_enabled(service == "ecr")
        .build()
}

/// The API a request is for, as its pacing lane names it.
#[derive(Debug, Clone)]
struct Api(String);

/// The SDK's own HTTPS client (hyper 1, rustls with aws-lc, proxies from the environment, as
/// `aws-smithy-runtime`'s default builds it), each of its connectors paced by `pacer`.
pub(crate) fn http_client(pacer: Arc<Pacer>) -> SharedHttpClient {
    use aws_smithy_http_client::proxy::ProxyConfig;
    use aws_smithy_http_client::{Builder, ConnectorBuilder, tls};
    let inner = Builder::new().build_with_connector_fn(|settings, components| {
        let mut conn = ConnectorBuilder::default().tls_provider(tls::Provider::Rustls(
            tls::rustls_provider::CryptoMode::AwsLc,
        ));
        conn.set_connector_settings(settings.cloned());
        if let Some(components) = components {
            conn.set_sleep_impl(components.sleep_impl());
        }
        conn.set_proxy_config(Some(ProxyConfig::from_env()));
        conn.build()
    });
    SharedHttpClient::new(PacedClient { inner, pacer })
}

#[derive(Debug)]
struct PacedClient {
    inner: SharedHttpClient,
    pacer: Arc<Pacer>,
}

impl HttpClient for PacedClient {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        SharedHttpConnector::new(PacedConnector {
            inner: self.inner.http_connector(settings, components),
            pacer: self.pacer.clone(),
        })
    }
}

#[derive(Debug)]
struct PacedConnector {
    inner: SharedHttpConnector,
    pacer: Arc<Pacer>,
}

impl HttpConnector for PacedConnector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let api = request.extension::<Api>().cloned();
        let (inner, pacer) = (self.inner.clone(), self.pacer.clone());
        HttpConnectorFuture::new(async move {
            let ticket = match &api {
                Some(Api(api)) => Some(pacer.acquire(api).await),
                None => None,
            };
            let mut response = inner.call(request).await?;
            if let Some(ticket) = ticket {
                response.add_extension(ticket);
            }
            Ok(response)
        })
    }
}

/// Names the API on each request, for the connector.
#[derive(Debug)]
pub(crate) struct NameTheApi;

impl Intercept for NameTheApi {
    fn name(&self) -> &'static str {
        "cairn: name the API a request is paced as"
    }

    fn modify_before_transmit(
        &self,
        context: &mut BeforeTransmitInterceptorContextMut<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if let Some(m) = cfg.load::<Metadata>() {
            // `EC2`, `Elastic Load Balancing v2`: `ec2`, `elasticloadbalancingv2`.
            let service = m.service().to_ascii_lowercase().replace(' ', "");
            let api = format!("{service}:{}", m.name());
            context.request_mut().add_extension(Api(api));
        }
        Ok(())
    }
}

/// Tells the lane how each attempt went, from the SDK's verdict, and changes nothing of it.
#[derive(Debug)]
pub(crate) struct ReportThrottling;

impl ClassifyRetry for ReportThrottling {
    fn classify_retry(&self, _ctx: &InterceptorContext) -> RetryAction {
        RetryAction::NoActionIndicated
    }

    fn classify_retry_v2(&self, ctx: &InterceptorContext, previous: &RetryAction) -> RetryAction {
        if let Some(ticket) = ctx.response().and_then(|r| r.extension::<Ticket>()) {
            if !is_throttling(previous) {
                ticket.succeeded();
            } else {
                let api = ticket.api().unwrap_or_default();
                match ticket.throttled() {
                    Some(Slowed::To(rate)) => {
                        tracing::info!("AWS throttled {api}; pacing it at {rate:.2} calls a second")
                    }
                    Some(Slowed::Already) => {
                        tracing::info!("AWS throttled {api}; already paced slower")
                    }
                    None => {}
                }
            }
        }
        previous.clone()
    }

    fn name(&self) -> &'static str {
        "cairn: tell the pacer how a call went"
    }

    fn priority(&self) -> RetryClassifierPriority {
        // Last of all, after `OnlyThrottling` too, whose throttling verdicts it keeps.
        RetryClassifierPriority::run_after(RetryClassifierPriority::run_after(
            RetryClassifierPriority::run_after(
                RetryClassifierPriority::transient_error_classifier(),
            ),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ec2_apis_are_seeded_by_category_and_other_services_generously() {
        assert_eq!(seed("ec2:DescribeVpcs"), Some(EC2_NON_MUTATING));
        assert_eq!(seed("ec2:CreateVpc"), Some(EC2_MUTATING));
        assert_eq!(
            seed("ec2:AuthorizeSecurityGroupIngress"),
            Some(EC2_MUTATING)
        );
        assert_eq!(
            seed("elasticloadbalancingv2:CreateListener"),
            Some(UNPUBLISHED)
        );
        assert_eq!(seed("no service"), None);
    }

    #[test]
    fn one_account_and_region_share_one_pacer() {
        let a = shared("111111111111", "us-east-2");
        assert!(Arc::ptr_eq(&a, &shared("111111111111", "us-east-2")));
        assert!(!Arc::ptr_eq(&a, &shared("111111111111", "eu-west-1")));
        assert!(!Arc::ptr_eq(&a, &shared("222222222222", "us-east-2")));
    }
}
