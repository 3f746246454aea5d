//! A team's second deployment, the production web service of the issue "Beyond the seed":
//! a VPC with public, private and database subnets in two zones and a NAT gateway; an HTTPS
//! load balancer whose certificate is validated through the domain's Route 53 zone, with
//! HTTP redirected to HTTPS; a Fargate service in the private subnets whose database
//! password comes from Secrets Manager; an RDS PostgreSQL instance in the database subnets;
//! and an S3 bucket for assets. Each part is a component of its own (`network/vpc`,
//! `database/instance`, …).
//!
//! Configuration (`Cairn.<stack>.toml`): `aws:region` (us-east-2), `domain`
//! (`web.cairn-example.com`: the program makes its zone), `image`, `desiredCount` (2),
//! `dbInstanceClass` (`db.t4g.micro`). The state must be given `CAIRN_PASSPHRASE`: the
//! database password is generated and kept there, sealed.

mod assets;
mod database;
mod edge;
mod network;
mod service;
mod settings;

use cairn::Stack;
use cairn_aws::{AwsConfig, AwsProvider};

pub use settings::Settings;

/// The deployment.
pub fn program(stack: &mut Stack) {
    let s = Settings::read(stack);
    // The package's default provider, in the configured region or the program's default.
    let config = stack.config();
    cairn_aws::warn_if_endpoint_configured(config);
    let aws = AwsProvider::new(AwsConfig {
        region: Some(s.region.clone()),
        profile: config.get("aws:profile"),
        role_arn: config.get("aws:roleArn"),
        shared_credentials_file: config.get("aws:sharedCredentialsFile"),
        endpoint_url: None,
    });
    stack.provider("aws", aws);
    // One component per part: `network/vpc`, `database/instance`, … in the plan's tree.
    let net = stack.component("network", |c| network::declare(c, &s));
    let edge = stack.component("edge", |c| edge::declare(c, &s, &net));
    let db = stack.component("database", |c| database::declare(c, &s, &net));
    let assets = stack.component("assets", |c| assets::declare(c, &s));
    stack.component("service", |c| {
        service::declare(c, &s, &net, &edge, &db, &assets);
    });
    stack.export("url", cairn::format!("https://{}", s.domain));
    stack.export("loadBalancer", edge.load_balancer.dns_name());
    stack.export("nameServers", edge.zone.name_servers());
    stack.export("databaseAddress", db.instance.address());
    stack.export("assetsBucket", assets.bucket.name());
}
