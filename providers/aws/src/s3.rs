//! `aws:s3/Bucket`: a bucket, with its versioning, default encryption, public access block and
//! policy, each changed in place.

use async_trait::async_trait;
use aws_sdk_s3::types::{
    BucketLocationConstraint, BucketVersioningStatus, CreateBucketConfiguration,
    PublicAccessBlockConfiguration, ServerSideEncryptionByDefault,
    ServerSideEncryptionConfiguration, ServerSideEncryptionRule, VersioningConfiguration,
};
use cairn::{CheckFailure, PropMap, ProviderError, ResourceContext};
use serde_json::Value;

use crate::config::Clients;
use crate::error::{aws, aws_on, code};
use crate::resource::{AwsResource, check_policy};
use crate::tagging::Tagging;
use crate::{AwsProvider, Tags, names, tags};

cairn::string_enum! {
    /// A bucket's default encryption: S3's keys, or KMS's.
    pub enum ServerSideEncryption {
        Aes256 = "AES256",
        Kms = "aws:kms",
    }
}

/// An S3 bucket, in the provider's region.
///
/// ```no_run
/// # fn program(stack: &mut cairn::Stack) {
/// use cairn_aws::s3::{Bucket, BucketArgs, ServerSideEncryption};
/// let uploads = Bucket::new(stack, "uploads", BucketArgs::builder()
///     .versioning(true)
///     .encryption(ServerSideEncryption::Aes256)
///     .block_public_access(true)
///     .build());
/// stack.export("bucket", uploads.name());
/// # }
/// ```
#[cairn::resource(token = "aws:s3/Bucket", provider = AwsProvider)]
#[api(calls(
    CreateBucket,
    HeadBucket,
    GetBucketVersioning,
    PutBucketVersioning,
    GetBucketEncryption,
    PutBucketEncryption,
    DeleteBucketEncryption,
    GetPublicAccessBlock,
    PutPublicAccessBlock,
    DeletePublicAccessBlock,
    GetBucketPolicy,
    PutBucketPolicy,
    DeleteBucketPolicy,
    ListObjectVersions,
    DeleteObjects,
    DeleteBucket
))]
pub struct Bucket {
    /// The bucket's name, unique across AWS (so a replacement always gets a new one).
    #[replace]
    #[unique(name = names::BUCKET)]
    #[api(
        name = "Bucket",
        values = "3 to 63 lowercase letters, digits, `.` and `-`"
    )]
    pub name: String,
    /// Keep every version of every object (once on, it can only be suspended).
    #[api(name = "VersioningConfiguration.Status", default = "off")]
    pub versioning: Option<bool>,
    /// The default encryption of new objects.
    #[api(
        name = "ServerSideEncryptionConfiguration",
        default = "S3's default, [`ServerSideEncryption::Aes256`]"
    )]
    pub encryption: Option<ServerSideEncryption>,
    /// Block every kind of public access (all four settings of the public access block).
    #[api(
        name = "PublicAccessBlockConfiguration",
        default = "S3's default for a new bucket: all four on"
    )]
    pub block_public_access: Option<bool>,
    /// The bucket policy (compared structurally).
    #[api(
        values = "an IAM policy document (checked at preview)",
        default = "none"
    )]
    pub policy: Option<Value>,
    /// Delete every object (every version) with the bucket.
    #[api(cairn, default = "`false`: a bucket holding objects is not deleted")]
    pub force_destroy: Option<bool>,
    #[tags]
    pub tags: Option<Tags>,
    #[output]
    pub name: String,
    #[output]
    pub arn: String,
    /// `<bucket>.s3.<region>.amazonaws.com`.
    #[output]
    pub domain_name: String,
}

fn outputs(c: &Clients, name: &str) -> BucketOutputs {
    BucketOutputs {
        name: name.to_string(),
        arn: format!("arn:aws:s3:::{name}"),
        domain_name: format!("{name}.s3.{}.amazonaws.com", c.region),
    }
}

async fn put_versioning(c: &Clients, name: &str, on: bool) -> Result<(), ProviderError> {
    let status = if on {
        BucketVersioningStatus::Enabled
    } else {
        BucketVersioningStatus::Suspended
    };
    c.s3.put_bucket_versioning()
        .bucket(name)
        .versioning_configuration(VersioningConfiguration::builder().status(status).build())
        .send()
        .await
        .map_err(aws_on("PutBucketVersioning", "versioning"))?;
    Ok(())
}

async fn put_encryption(
    c: &Clients,
    name: &str,
    sse: Option<ServerSideEncryption>,
) -> Result<(), ProviderError> {
    let Some(sse) = sse else {
        c.s3.delete_bucket_encryption()
            .bucket(name)
            .send()
            .await
            .map_err(aws_on("DeleteBucketEncryption", "encryption"))?;
        return Ok(());
    };
    let invalid =
        |e: aws_sdk_s3::error::BuildError| ProviderError::on_property("encryption", e.to_string());
    let rule = ServerSideEncryptionRule::builder()
        .apply_server_side_encryption_by_default(
            ServerSideEncryptionByDefault::builder()
                .sse_algorithm(sse.as_str().into())
                .build()
                .map_err(invalid)?,
        )
        .build();
    c.s3.put_bucket_encryption()
        .bucket(name)
        .server_side_encryption_configuration(
            ServerSideEncryptionConfiguration::builder()
                .rules(rule)
                .build()
                .map_err(invalid)?,
        )
        .send()
        .await
        .map_err(aws_on("PutBucketEncryption", "encryption"))?;
    Ok(())
}

async fn put_public_access(c: &Clients, name: &str, block: bool) -> Result<(), ProviderError> {
    if !block {
        c.s3.delete_public_access_block()
            .bucket(name)
            .send()
            .await
            .map_err(aws_on("DeletePublicAccessBlock", "block_public_access"))?;
        return Ok(());
    }
    c.s3.put_public_access_block()
        .bucket(name)
        .public_access_block_configuration(
            PublicAccessBlockConfiguration::builder()
                .block_public_acls(true)
                .ignore_public_acls(true)
                .block_public_policy(true)
                .restrict_public_buckets(true)
                .build(),
        )
        .send()
        .await
        .map_err(aws_on("PutPublicAccessBlock", "block_public_access"))?;
    Ok(())
}

async fn put_policy(c: &Clients, name: &str, policy: Option<&Value>) -> Result<(), ProviderError> {
    match policy {
        Some(p) => {
            c.s3.put_bucket_policy()
                .bucket(name)
                .policy(p.to_string())
                .send()
                .await
                .map(|_| ())
                .map_err(aws_on("PutBucketPolicy", "policy"))
        }
        None => {
            c.s3.delete_bucket_policy()
                .bucket(name)
                .send()
                .await
                .map(|_| ())
                .map_err(aws_on("DeleteBucketPolicy", "policy"))
        }
    }
}

/// Sets what `new` declares and differs from `old` (everything, for a new bucket).
async fn apply(
    c: &Clients,
    name: &str,
    old: Option<&BucketInputs>,
    new: &BucketInputs,
) -> Result<(), ProviderError> {
    let changed = |f: fn(&BucketInputs) -> bool| old.is_none_or(|o| f(o) != f(new));
    if let Some(on) = new.versioning
        && old.is_none_or(|o| o.versioning != new.versioning)
        && (on || old.is_some())
    {
        put_versioning(c, name, on).await?;
    }
    if old.is_none_or(|o| o.encryption != new.encryption)
        && (new.encryption.is_some() || old.is_some())
    {
        put_encryption(c, name, new.encryption).await?;
    }
    if changed(|i| i.block_public_access.unwrap_or(false))
        && (new.block_public_access == Some(true) || old.is_some())
    {
        put_public_access(c, name, new.block_public_access == Some(true)).await?;
    }
    if old.is_none_or(|o| o.policy != new.policy) && (new.policy.is_some() || old.is_some()) {
        put_policy(c, name, new.policy.as_ref()).await?;
    }
    Ok(())
}

/// The bucket's versioning status (`Enabled`, `Suspended`, or none yet). moto 5.2.5 names the
/// answer's root element `GetBucketVersioningResponse` rather than `VersioningConfiguration`,
/// which the SDK refuses to decode; the status is then read from the body it refused (AWS
/// itself never takes this path).
async fn versioning_of(c: &Clients, name: &str) -> Result<Option<String>, ProviderError> {
    match c.s3.get_bucket_versioning().bucket(name).send().await {
        Ok(out) => Ok(out.status().map(|s| s.as_str().to_string())),
        Err(e) => {
            let body = e
                .raw_response()
                .filter(|r| r.status().is_success())
                .and_then(|r| r.body().bytes())
                .map(|b| String::from_utf8_lossy(b).into_owned());
            match body {
                Some(body) => Ok(["Enabled", "Suspended"]
                    .into_iter()
                    .find(|s| body.contains(&format!("<Status>{s}</Status>")))
                    .map(str::to_string)),
                None => Err(aws("GetBucketVersioning")(e)),
            }
        }
    }
}

/// Deletes every object version and delete marker, a thousand a request.
async fn empty(c: &Clients, name: &str) -> Result<(), ProviderError> {
    use aws_sdk_s3::types::{Delete, ObjectIdentifier};
    loop {
        let listed =
            c.s3.list_object_versions()
                .bucket(name)
                .max_keys(1000)
                .send()
                .await
                .map_err(aws("ListObjectVersions"))?;
        let ids: Vec<ObjectIdentifier> = listed
            .versions()
            .iter()
            .map(|v| (v.key(), v.version_id()))
            .chain(
                listed
                    .delete_markers()
                    .iter()
                    .map(|m| (m.key(), m.version_id())),
            )
            .filter_map(|(key, version)| {
                ObjectIdentifier::builder()
                    .set_key(key.map(str::to_string))
                    .set_version_id(version.map(str::to_string))
                    .build()
                    .ok()
            })
            .collect();
        if ids.is_empty() {
            return Ok(());
        }
        let delete = Delete::builder()
            .set_objects(Some(ids))
            .quiet(true)
            .build()
            .map_err(|e| ProviderError::new(e.to_string()))?;
        c.s3.delete_objects()
            .bucket(name)
            .delete(delete)
            .send()
            .await
            .map_err(aws("DeleteObjects"))?;
    }
}

#[async_trait]
impl AwsResource for Bucket {
    const TAGS: Tagging = Tagging::S3;

    fn check(inputs: &PropMap) -> Vec<CheckFailure> {
        check_policy(inputs, "policy")
    }

    async fn create(
        c: &Clients,
        ctx: &ResourceContext,
        _token: &str,
        i: &BucketInputs,
    ) -> Result<(String, BucketOutputs), ProviderError> {
        let mut req = c.s3.create_bucket().bucket(&i.name);
        // us-east-1 is the one region named by leaving the constraint out.
        if c.region != "us-east-1" {
            req = req.create_bucket_configuration(
                CreateBucketConfiguration::builder()
                    .location_constraint(BucketLocationConstraint::from(c.region.as_str()))
                    .build(),
            );
        }
        req.send().await.map_err(aws_on("CreateBucket", "name"))?;
        let all = tags::with_cairn(ctx, i.tags.as_ref());
        Tagging::S3
            .sync(c, &i.name, &Value::Null, None, Some(&all))
            .await?;
        apply(c, &i.name, None, i).await?;
        Ok((i.name.clone(), outputs(c, &i.name)))
    }

    fn id_from_inputs(i: &Self::Inputs) -> Option<String> {
        Some(i.name.clone())
    }

    async fn read(
        c: &Clients,
        id: &str,
        i: Option<&BucketInputs>,
    ) -> Result<Option<(BucketInputs, BucketOutputs)>, ProviderError> {
        match c.s3.head_bucket().bucket(id).send().await {
            Ok(_) => {}
            Err(e) if e.raw_response().is_some_and(|r| r.status().as_u16() == 404) => {
                return Ok(None);
            }
            Err(e) => return Err(aws("HeadBucket")(e)),
        }
        let versioning = versioning_of(c, id).await?;
        let encryption = match c.s3.get_bucket_encryption().bucket(id).send().await {
            Ok(out) => out
                .server_side_encryption_configuration()
                .and_then(|conf| conf.rules().first())
                .and_then(|r| r.apply_server_side_encryption_by_default())
                .and_then(|d| ServerSideEncryption::parse(d.sse_algorithm().as_str())),
            Err(e)
                if code(&e).as_deref()
                    == Some("ServerSideEncryptionConfigurationNotFoundError") =>
            {
                None
            }
            Err(e) => return Err(aws("GetBucketEncryption")(e)),
        };
        let block = match c.s3.get_public_access_block().bucket(id).send().await {
            Ok(out) => out.public_access_block_configuration().is_some_and(|b| {
                b.block_public_acls() == Some(true)
                    && b.ignore_public_acls() == Some(true)
                    && b.block_public_policy() == Some(true)
                    && b.restrict_public_buckets() == Some(true)
            }),
            Err(e) if code(&e).as_deref() == Some("NoSuchPublicAccessBlockConfiguration") => false,
            Err(e) => return Err(aws("GetPublicAccessBlock")(e)),
        };
        let policy = match c.s3.get_bucket_policy().bucket(id).send().await {
            Ok(out) => out.policy().and_then(|p| serde_json::from_str(p).ok()),
            Err(e) if code(&e).as_deref() == Some("NoSuchBucketPolicy") => None,
            Err(e) => return Err(aws("GetBucketPolicy")(e)),
        };
        let now = BucketInputs {
            name: id.to_string(),
            versioning: Some(versioning.as_deref() == Some("Enabled")),
            encryption,
            block_public_access: Some(block),
            policy,
            force_destroy: i.and_then(|i| i.force_destroy),
            tags: None,
        };
        Ok(Some((now, outputs(c, id))))
    }

    async fn update(
        c: &Clients,
        _ctx: &ResourceContext,
        id: &str,
        old: &BucketInputs,
        new: &BucketInputs,
    ) -> Result<BucketOutputs, ProviderError> {
        apply(c, id, Some(old), new).await?;
        Ok(outputs(c, id))
    }

    async fn delete(
        c: &Clients,
        id: &str,
        i: &BucketInputs,
        _o: &BucketOutputs,
    ) -> Result<(), ProviderError> {
        if i.force_destroy == Some(true) {
            match empty(c, id).await {
                Err(e) if e.code.as_deref() == Some("NoSuchBucket") => return Ok(()),
                r => r?,
            }
        }
        match c.s3.delete_bucket().bucket(id).send().await {
            Err(e) if code(&e).as_deref() == Some("NoSuchBucket") => Ok(()),
            Err(e) if code(&e).as_deref() == Some("BucketNotEmpty") => {
                Err(ProviderError::on_property(
                    "force_destroy",
                    format!(
                        "bucket {id} holds objects: empty it, or set force_destroy to delete them with it"
                    ),
                ))
            }
            r => r.map(|_| ()).map_err(aws("DeleteBucket")),
        }
    }
}
