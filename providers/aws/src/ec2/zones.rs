//! `aws:ec2/getAvailabilityZones`: the zones of the provider's region that are available now.

use async_trait::async_trait;
use aws_sdk_ec2::types::Filter;
use cairn::{ProviderError, ResourceOptions, Stack};
use serde::{Deserialize, Serialize};

use crate::config::Clients;
use crate::error::aws;
use crate::lookup::{self, AwsLookup, handle};

handle! {
    /// The availability zones of a provider's region that are available (a lookup, read when the
    /// program is planned): spread subnets over them rather than naming zones a region may not
    /// have.
    ///
    /// ```no_run
    /// # fn program(stack: &mut cairn::Stack) {
    /// use cairn_aws::ec2;
    /// let zones = ec2::AvailabilityZones::get(stack, "zones");
    /// let first = zones.names().map(|z| z[0].clone());
    /// # }
    /// ```
    AvailabilityZones {
        /// Their names (`us-east-1a`), sorted.
        names: Vec<String>,
        /// Their ids (`use1-az1`), which name the same zone in every account, in the order of
        /// `names`.
        zone_ids: Vec<String>,
    }
}

impl AvailabilityZones {
    /// The zones of the default provider's region.
    #[track_caller]
    pub fn get(stack: &mut Stack, name: &str) -> Self {
        Self::get_with(stack, name, ResourceOptions::default())
    }

    /// The zones of the region of `opts.provider`.
    #[track_caller]
    pub fn get_with(stack: &mut Stack, name: &str, opts: ResourceOptions) -> Self {
        AvailabilityZones {
            lookup: lookup::declare(stack, ZonesLookup::TOKEN, name, Vec::new(), opts),
        }
    }
}

/// The lookup behind [`AvailabilityZones`].
pub(crate) struct ZonesLookup;

#[derive(Deserialize)]
pub(crate) struct ZonesArgs {}

#[derive(Serialize)]
pub(crate) struct ZonesOutputs {
    names: Vec<String>,
    zone_ids: Vec<String>,
}

#[async_trait]
impl AwsLookup for ZonesLookup {
    const TOKEN: &'static str = "aws:ec2/getAvailabilityZones";
    const DECLARED_BY: &'static str = "ec2::AvailabilityZones::get";
    type Args = ZonesArgs;
    type Outputs = ZonesOutputs;

    async fn read(c: &Clients, _args: ZonesArgs) -> Result<ZonesOutputs, ProviderError> {
        let out = c
            .ec2
            .describe_availability_zones()
            .filters(Filter::builder().name("state").values("available").build())
            .send()
            .await
            .map_err(aws("DescribeAvailabilityZones"))?;
        let mut zones: Vec<(String, String)> = out
            .availability_zones()
            .iter()
            .filter_map(|z| Some((z.zone_name()?.to_string(), z.zone_id()?.to_string())))
            .collect();
        zones.sort();
        if zones.is_empty() {
            return Err(lookup::nothing_matches(format!(
                "no availability zone of {} is available",
                c.region
            )));
        }
        let (names, zone_ids) = zones.into_iter().unzip();
        Ok(ZonesOutputs { names, zone_ids })
    }
}
