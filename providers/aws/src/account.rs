//! `aws:getCallerIdentity`: the account, identity and region a provider instance works in.

use async_trait::async_trait;
use cairn::{ProviderError, ResourceOptions, Stack};
use serde::{Deserialize, Serialize};

use crate::config::Clients;
use crate::error::aws;
use crate::lookup::{self, AwsLookup, handle};

handle! {
    /// Who a provider instance is and where (a lookup, read when the program is planned, as
    /// Terraform's `aws_caller_identity` and `aws_region`): for a policy naming another
    /// account, an ARN built by hand, a tag.
    ///
    /// ```no_run
    /// # fn program(stack: &mut cairn::Stack, account_b: &cairn::ProviderRef) {
    /// use cairn::ResourceOptions;
    /// use cairn_aws::CallerIdentity;
    /// let b = CallerIdentity::get_with(stack, "account-b", ResourceOptions::default().provider(account_b));
    /// let principal = cairn::format!("arn:aws:iam::{}:root", b.account_id());
    /// # }
    /// ```
    CallerIdentity {
        /// The 12-digit account id.
        account_id: String,
        /// The ARN of the identity the calls are made as (an assumed role's session, a user).
        arn: String,
        /// The identity's unique id.
        user_id: String,
        /// The region the provider instance works in.
        region: String,
    }
}

impl CallerIdentity {
    /// The default provider's identity.
    #[track_caller]
    pub fn get(stack: &mut Stack, name: &str) -> Self {
        Self::get_with(stack, name, ResourceOptions::default())
    }

    /// The identity of `opts.provider`.
    #[track_caller]
    pub fn get_with(stack: &mut Stack, name: &str, opts: ResourceOptions) -> Self {
        CallerIdentity {
            lookup: lookup::declare(stack, IdentityLookup::TOKEN, name, Vec::new(), opts),
        }
    }
}

/// The lookup behind [`CallerIdentity`].
pub(crate) struct IdentityLookup;

#[derive(Deserialize)]
pub(crate) struct IdentityArgs {}

#[derive(Serialize)]
pub(crate) struct IdentityOutputs {
    account_id: String,
    arn: String,
    user_id: String,
    region: String,
}

#[async_trait]
impl AwsLookup for IdentityLookup {
    const TOKEN: &'static str = "aws:getCallerIdentity";
    const DECLARED_BY: &'static str = "CallerIdentity::get";
    type Args = IdentityArgs;
    type Outputs = IdentityOutputs;

    async fn read(c: &Clients, _args: IdentityArgs) -> Result<IdentityOutputs, ProviderError> {
        let me = c
            .sts
            .get_caller_identity()
            .send()
            .await
            .map_err(aws("GetCallerIdentity"))?;
        Ok(IdentityOutputs {
            account_id: me.account().unwrap_or_default().to_string(),
            arn: me.arn().unwrap_or_default().to_string(),
            user_id: me.user_id().unwrap_or_default().to_string(),
            region: c.region.clone(),
        })
    }
}
