//! Provider configuration and the SDK clients built from it.

use aws_config::{BehaviorVersion, Region, SdkConfig};

use aws_smithy_runtime_api::client::http::SharedHttpClient;

use crate::endpoint;
use crate::pacing::{self, NameTheApi, ReportThrottling};
use crate::retry::{OnlyThrottling, retry_config};

/// One AWS configuration: which account (through a profile or a role to assume) and region.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AwsConfig {
    /// Region; without it, the SDK's usual chain (`AWS_REGION`, the profile).
    pub region: Option<String>,
    /// A named profile from the shared config files.
    pub profile: Option<String>,
    /// A role to assume (cross-account), on top of the profile's or ambient credentials.
    pub role_arn: Option<String>,
    /// An endpoint for every service (a local emulator), set by code only: the stack's
    /// configuration never sets one (`endpoint.rs` says why). The SDK's standard
    /// `AWS_ENDPOINT_URL` does the same from the environment.
    pub endpoint_url: Option<String>,
    /// A credentials file to read profiles from, besides the default `~/.aws/credentials`
    /// (Terraform's `shared_credentials_files`).
    pub shared_credentials_file: Option<std::path::PathBuf>,
}

/// The clients of one provider instance: for every call, and for the calls a create makes,
/// which are re-sent only when throttled (`retry.rs`).
pub(crate) struct ClientSet {
    pub any: Clients,
    pub create: Clients,
    /// Where the calls go instead of AWS, as a person should be told: `URL (origin)`.
    pub overrides: Vec<String>,
}

/// The SDK clients of one configuration, built once on first use.
pub(crate) struct Clients {
    pub ec2: aws_sdk_ec2::Client,
    pub ecr: aws_sdk_ecr::Client,
    pub ecs: aws_sdk_ecs::Client,
    pub elb: aws_sdk_elasticloadbalancingv2::Client,
    pub iam: aws_sdk_iam::Client,
    pub logs: aws_sdk_cloudwatchlogs::Client,
    pub sts: aws_sdk_sts::Client,
    pub s3: aws_sdk_s3::Client,
    pub acm: aws_sdk_acm::Client,
    pub rds: aws_sdk_rds::Client,
    pub route53: aws_sdk_route53::Client,
    pub secrets: aws_sdk_secretsmanager::Client,
    pub ssm: aws_sdk_ssm::Client,
    pub credentials: Option<aws_credential_types::provider::SharedCredentialsProvider>,
    pub region: String,
}

/// The regions AWS has (commercial, China and GovCloud partitions). A name outside it is far
/// more likely a typo than a region newer than this list, and a typo would otherwise surface
/// as a connection error per resource.
const REGIONS: &[&str] = &[
    "af-south-1",
    "ap-east-1",
    "ap-east-2",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "ap-south-1",
    "ap-south-2",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-southeast-3",
    "ap-southeast-4",
    "ap-southeast-5",
    "ap-southeast-6",
    "ap-southeast-7",
    "ca-central-1",
    "ca-west-1",
    "cn-north-1",
    "cn-northwest-1",
    "eu-central-1",
    "eu-central-2",
    "eu-north-1",
    "eu-south-1",
    "eu-south-2",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "il-central-1",
    "me-central-1",
    "me-south-1",
    "mx-central-1",
    "sa-east-1",
    "us-east-1",
    "us-east-2",
    "us-gov-east-1",
    "us-gov-west-1",
    "us-west-1",
    "us-west-2",
];

impl AwsConfig {
    /// Loads the SDK configuration: the standard chain (environment, profiles, and the
    /// `AWS_ENDPOINT_URL` override that points everything at a local emulator), then the role.
    pub(crate) async fn load(&self) -> Result<SdkConfig, String> {
        for (var, url) in endpoint::from_environment() {
            endpoint::check(&var, &url)?;
        }
        if let Some(url) = &self.endpoint_url {
            endpoint::check("the program's endpoint_url", url)?;
        }
        let mut loader =
            aws_config::defaults(BehaviorVersion::latest()).retry_config(retry_config());
        if let Some(region) = &self.region {
            loader = loader.region(Region::new(region.clone()));
        }
        if let Some(profile) = &self.profile {
            loader = loader.profile_name(profile);
        }
        if let Some(url) = &self.endpoint_url {
            loader = loader.endpoint_url(url);
        }
        if let Some(file) = &self.shared_credentials_file {
            use aws_runtime::env_config::file::{EnvConfigFileKind, EnvConfigFiles};
            loader = loader.profile_files(
                EnvConfigFiles::builder()
                    .include_default_config_file(true)
                    .include_default_credentials_file(true)
                    .with_file(EnvConfigFileKind::Credentials, file)
                    .build(),
            );
        }
        let base = loader.load().await;
        // A profile's `endpoint_url` arrives through the SDK's own chain.
        if let Some(url) = base.endpoint_url() {
            endpoint::check("endpoint_url", url)?;
        }
        match base.region().map(|r| r.as_ref()) {
            None => {
                return Err(
                    "no AWS region configured: set `aws:region` (or AWS_REGION, or a \
                            profile's region)"
                        .into(),
                );
            }
            Some(r) if !REGIONS.contains(&r) => {
                return Err(format!(
                    "'{r}' is not an AWS region (set `aws:region` to one of {})",
                    REGIONS.join(", ")
                ));
            }
            Some(_) => {}
        }
        let Some(role) = &self.role_arn else {
            return Ok(base);
        };
        let provider = aws_config::sts::AssumeRoleProvider::builder(role)
            .session_name("cairn")
            .configure(&base)
            .build()
            .await;
        Ok(base
            .into_builder()
            .credentials_provider(
                aws_credential_types::provider::SharedCredentialsProvider::new(provider),
            )
            .build())
    }

    /// The clients, from one loaded configuration (credentials found and the role assumed
    /// once).
    pub(crate) async fn clients(&self) -> Result<ClientSet, String> {
        let sdk = self.load().await?;
        let mut overrides: Vec<String> = endpoint::from_environment()
            .into_iter()
            .map(|(var, url)| format!("{url} ({var})"))
            .collect();
        if let Some(url) = &self.endpoint_url {
            overrides.push(format!("{url} (set by the program)"));
        } else if let Some(url) = sdk.endpoint_url()
            && !overrides.iter().any(|o| o.starts_with(&format!("{url} ")))
        {
            overrides.push(format!("{url} (the profile's endpoint_url)"));
        }
        // AWS throttles each account and region: the pacer is theirs. Finding the account is
        // the one call not paced (the credentials' own calls aside); a failure here is left
        // to the preflight check, which says what is wrong with the credentials.
        let region = sdk.region().map(|r| r.to_string()).unwrap_or_default();
        let account = match aws_sdk_sts::Client::new(&sdk)
            .get_caller_identity()
            .send()
            .await
        {
            Ok(identity) => identity.account().unwrap_or_default().to_string(),
            Err(_) => String::new(),
        };
        let http = pacing::http_client(pacing::shared(&account, &region));
        Ok(ClientSet {
            any: Self::clients_of(&sdk, &http, false),
            create: Self::clients_of(&sdk, &http, true),
            overrides,
        })
    }

    fn clients_of(sdk: &SdkConfig, http: &SharedHttpClient, creating: bool) -> Clients {
        // Each service's config builder takes the same retry settings, and the paced client.
        macro_rules! client {
            ($sdk:ident, $name:literal) => {{
                use $sdk::config::retry::{RetryPartition, TokenBucket};
                let mut conf = $sdk::config::Builder::from(sdk)
                    .http_client(http.clone())
                    .interceptor(NameTheApi)
                    .retry_classifier(ReportThrottling)
                    .stalled_stream_protection(pacing::stall_protection($name))
                    .retry_config(retry_config())
                    .retry_partition(
                        RetryPartition::custom(concat!("cairn-", $name))
                            .token_bucket(TokenBucket::unlimited())
                            .build(),
                    );
                if creating {
                    conf = conf.retry_classifier(OnlyThrottling);
                }
                $sdk::Client::from_conf(conf.build())
            }};
        }
        Clients {
            region: sdk.region().map(|r| r.to_string()).unwrap_or_default(),
            ec2: client!(aws_sdk_ec2, "ec2"),
            ecr: client!(aws_sdk_ecr, "ecr"),
            ecs: client!(aws_sdk_ecs, "ecs"),
            elb: client!(aws_sdk_elasticloadbalancingv2, "elb"),
            iam: client!(aws_sdk_iam, "iam"),
            logs: client!(aws_sdk_cloudwatchlogs, "logs"),
            sts: client!(aws_sdk_sts, "sts"),
            acm: client!(aws_sdk_acm, "acm"),
            rds: client!(aws_sdk_rds, "rds"),
            route53: client!(aws_sdk_route53, "route53"),
            secrets: client!(aws_sdk_secretsmanager, "secretsmanager"),
            ssm: client!(aws_sdk_ssm, "ssm"),
            s3: {
                // An endpoint of one's own has no per-bucket host names: address by path.
                let custom = sdk.endpoint_url().is_some()
                    || std::env::var_os("AWS_ENDPOINT_URL_S3").is_some();
                let conf = aws_sdk_s3::config::Builder::from(sdk)
                    .http_client(http.clone())
                    .interceptor(NameTheApi)
                    .retry_classifier(ReportThrottling)
                    .stalled_stream_protection(pacing::stall_protection("s3"))
                    .retry_config(retry_config())
                    .force_path_style(custom);
                let conf = if creating {
                    conf.retry_classifier(OnlyThrottling)
                } else {
                    conf
                };
                aws_sdk_s3::Client::from_conf(conf.build())
            },
            credentials: sdk.credentials_provider(),
        }
    }
}
