//! Secrets Manager: `aws:secretsmanager/Secret`, a secret and its current value.

use async_trait::async_trait;
use cairn::{CheckFailure, PropMap, ProviderError, ResourceContext};

use crate::config::Clients;
use crate::error::{aws, aws_on, code, gone};
use crate::names;
use crate::resource::{AwsResource, known};
use crate::tagging::Tagging;
use crate::{AwsProvider, Tags, tags};

/// A secret. Its value (`secret_string`) is secret to Cairn as well: masked wherever it is
/// shown, sealed in the state. What reads it (an ECS container's `secrets`, by the `arn`)
/// needs `secretsmanager:GetSecretValue` on it.
///
/// Deleting schedules the deletion after a recovery window (`recovery_window_in_days`, AWS's
/// 30 days unless set), during which the name stays taken: a secret replaced under the same
/// name needs `recovery_window_in_days(0)`, deleting at once.
///
/// ```no_run
/// # fn program(stack: &mut cairn::Stack) {
/// use cairn::random::{Password, PasswordArgs};
/// use cairn_aws::secretsmanager::{Secret, SecretArgs};
/// let password = Password::new(stack, "api-key", PasswordArgs::builder().length(32).build());
/// let secret = Secret::new(stack, "api-key-secret", SecretArgs::builder()
///     .secret_string(password.result())
///     .recovery_window_in_days(0)
///     .build());
/// # }
/// ```
#[cairn::resource(token = "aws:secretsmanager/Secret", provider = AwsProvider)]
#[api(calls(
    CreateSecret,
    DescribeSecret,
    GetSecretValue,
    UpdateSecret,
    PutSecretValue,
    DeleteSecret
))]
pub struct Secret {
    /// The secret's name.
    #[replace]
    #[unique(name = names::SECRET)]
    #[api(values = "up to 512 letters, digits and `/_+=.@-`")]
    pub name: String,
    /// What the secret is for.
    #[api(default = "none")]
    pub description: Option<String>,
    /// The KMS key that encrypts it.
    #[api(name = "KmsKeyId", default = "AWS's `aws/secretsmanager` key")]
    pub kms_key_id: Option<String>,
    /// The current value; a change stores a new version.
    #[secret]
    #[api(
        default = "no value from Cairn: left to whatever else writes it (a rotation)",
        values = "up to 65,536 bytes"
    )]
    pub secret_string: Option<String>,
    /// Days a deleted secret can still be restored, or 0 to delete it at once.
    #[api(
        name = "RecoveryWindowInDays (ForceDeleteWithoutRecovery for 0)",
        default = "30",
        values = "0, or 7 to 30"
    )]
    pub recovery_window_in_days: Option<i64>,
    #[tags]
    pub tags: Option<Tags>,
    #[output]
    pub arn: String,
    #[output]
    pub name: String,
}

fn sm_tags(ctx: &ResourceContext, user: Option<&Tags>) -> Vec<aws_sdk_secretsmanager::types::Tag> {
    tags::with_cairn(ctx, user)
        .into_iter()
        .map(|(k, v)| {
            aws_sdk_secretsmanager::types::Tag::builder()
                .key(k)
                .value(v)
                .build()
        })
        .collect()
}

/// The secret, unless it is gone or scheduled for deletion (which is gone, to a program).
async fn describe(
    c: &Clients,
    id: &str,
) -> Result<
    Option<aws_sdk_secretsmanager::operation::describe_secret::DescribeSecretOutput>,
    ProviderError,
> {
    match c.secrets.describe_secret().secret_id(id).send().await {
        Ok(out) if out.deleted_date().is_some() => Ok(None),
        Ok(out) => Ok(Some(out)),
        Err(e) if code(&e).as_deref() == Some("ResourceNotFoundException") => Ok(None),
        Err(e) => Err(aws("DescribeSecret")(e)),
    }
}

async fn put_value(c: &Clients, id: &str, value: &str) -> Result<(), ProviderError> {
    c.secrets
        .put_secret_value()
        .secret_id(id)
        .secret_string(value)
        .send()
        .await
        .map_err(aws_on("PutSecretValue", "secret_string"))?;
    Ok(())
}

#[async_trait]
impl AwsResource for Secret {
    const TAGS: Tagging = Tagging::SecretsManager;

    fn check(inputs: &PropMap) -> Vec<CheckFailure> {
        match known::<i64>(inputs, "recovery_window_in_days") {
            Some(d) if d != 0 && !(7..=30).contains(&d) => vec![CheckFailure {
                property: Some("recovery_window_in_days".into()),
                reason: format!("{d} is neither 0 (delete at once) nor within 7..30"),
            }],
            _ => Vec::new(),
        }
    }

    async fn create(
        c: &Clients,
        ctx: &ResourceContext,
        _token: &str,
        i: &SecretInputs,
    ) -> Result<(String, SecretOutputs), ProviderError> {
        let out = c
            .secrets
            .create_secret()
            .name(&i.name)
            .set_description(i.description.clone())
            .set_kms_key_id(i.kms_key_id.clone())
            .set_secret_string(i.secret_string.clone())
            .set_tags(Some(sm_tags(ctx, i.tags.as_ref())))
            .send()
            .await
            .map_err(aws_on("CreateSecret", "name"))?;
        let arn = out.arn().unwrap_or_default().to_string();
        let name = i.name.clone();
        Ok((arn.clone(), SecretOutputs { arn, name }))
    }

    /// The secret of the declared name, if there is one (the erasure checks it is this
    /// stack's by its tags).
    async fn find(
        c: &Clients,
        _ctx: &ResourceContext,
        _token: &str,
        i: &Self::Inputs,
    ) -> Result<Vec<String>, ProviderError> {
        Ok(describe(c, &i.name)
            .await?
            .and_then(|s| s.arn().map(str::to_string))
            .into_iter()
            .collect())
    }

    async fn read(
        c: &Clients,
        id: &str,
        i: Option<&SecretInputs>,
    ) -> Result<Option<(SecretInputs, SecretOutputs)>, ProviderError> {
        let Some(s) = describe(c, id).await? else {
            return Ok(None);
        };
        // The value only when the program manages it: otherwise it is someone else's to read.
        let secret_string = match i.and_then(|i| i.secret_string.as_ref()) {
            None => None,
            Some(_) => c
                .secrets
                .get_secret_value()
                .secret_id(id)
                .send()
                .await
                .map_err(aws("GetSecretValue"))?
                .secret_string()
                .map(str::to_string),
        };
        let name = s.name().unwrap_or_default().to_string();
        let now = SecretInputs {
            name: name.clone(),
            description: s.description().map(str::to_string),
            kms_key_id: s.kms_key_id().map(str::to_string),
            secret_string,
            // How a delete goes: nothing AWS holds until then.
            recovery_window_in_days: i.and_then(|i| i.recovery_window_in_days),
            tags: None,
        };
        let arn = s.arn().unwrap_or(id).to_string();
        Ok(Some((now, SecretOutputs { arn, name })))
    }

    async fn update(
        c: &Clients,
        _ctx: &ResourceContext,
        id: &str,
        old: &SecretInputs,
        new: &SecretInputs,
    ) -> Result<SecretOutputs, ProviderError> {
        if (&old.description, &old.kms_key_id) != (&new.description, &new.kms_key_id) {
            c.secrets
                .update_secret()
                .secret_id(id)
                .set_description(new.description.clone())
                .set_kms_key_id(new.kms_key_id.clone())
                .send()
                .await
                .map_err(aws_on("UpdateSecret", "description"))?;
        }
        if let Some(value) = new
            .secret_string
            .as_ref()
            .filter(|_| old.secret_string != new.secret_string)
        {
            put_value(c, id, value).await?;
        }
        Ok(SecretOutputs {
            arn: id.to_string(),
            name: new.name.clone(),
        })
    }

    async fn delete(
        c: &Clients,
        id: &str,
        i: &SecretInputs,
        _o: &SecretOutputs,
    ) -> Result<(), ProviderError> {
        let req = c.secrets.delete_secret().secret_id(id);
        let req = match i.recovery_window_in_days {
            Some(0) => req.force_delete_without_recovery(true),
            days => req.set_recovery_window_in_days(days),
        };
        gone(req.send().await, "DeleteSecret")
    }
}
