//! Provider configuration and the SDK clients built from it.

use aws_config::{BehaviorVersion, Region, SdkConfig};

/// One AWS configuration: which account (through a profile or a role to assume) and region.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AwsConfig {
    /// Region; without it, the SDK's usual chain (`AWS_REGION`, the profile).
    pub region: Option<String>,
    /// A named profile from the shared config files.
    pub profile: Option<String>,
    /// A role to assume (cross-account), on top of the profile's or ambient credentials.
    pub role_arn: Option<String>,
    /// An endpoint for every service (a local emulator); the SDK's standard
    /// `AWS_ENDPOINT_URL` does the same from the environment.
    pub endpoint_url: Option<String>,
}

/// The SDK clients of one configuration, built once on first use.
pub(crate) struct Clients {
    pub ec2: aws_sdk_ec2::Client,
    pub ecr: aws_sdk_ecr::Client,
    pub ecs: aws_sdk_ecs::Client,
    pub elb: aws_sdk_elasticloadbalancingv2::Client,
    pub iam: aws_sdk_iam::Client,
    pub logs: aws_sdk_cloudwatchlogs::Client,
    pub region: String,
}

impl AwsConfig {
    /// Loads the SDK configuration: the standard chain (environment, profiles, and the
    /// `AWS_ENDPOINT_URL` override that points everything at a local emulator), then the role.
    pub(crate) async fn load(&self) -> Result<SdkConfig, String> {
        let mut loader = aws_config::defaults(BehaviorVersion::latest());
        if let Some(region) = &self.region {
            loader = loader.region(Region::new(region.clone()));
        }
        if let Some(profile) = &self.profile {
            loader = loader.profile_name(profile);
        }
        if let Some(url) = &self.endpoint_url {
            loader = loader.endpoint_url(url);
        }
        let base = loader.load().await;
        if base.region().is_none() {
            return Err(
                "no AWS region configured: set `aws:region` (or AWS_REGION, or a profile's region)"
                    .into(),
            );
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

    pub(crate) async fn clients(&self) -> Result<Clients, String> {
        let sdk = self.load().await?;
        Ok(Clients {
            region: sdk.region().map(|r| r.to_string()).unwrap_or_default(),
            ec2: aws_sdk_ec2::Client::new(&sdk),
            ecr: aws_sdk_ecr::Client::new(&sdk),
            ecs: aws_sdk_ecs::Client::new(&sdk),
            elb: aws_sdk_elasticloadbalancingv2::Client::new(&sdk),
            iam: aws_sdk_iam::Client::new(&sdk),
            logs: aws_sdk_cloudwatchlogs::Client::new(&sdk),
        })
    }
}
