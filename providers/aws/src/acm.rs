//! Certificate Manager: `aws:acm/Certificate` (a public certificate, validated through DNS)
//! and `aws:acm/CertificateValidation` (waiting until it is issued, once the program has made
//! the validation records).

use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_acm::types::{CertificateStatus, Tag, ValidationMethod};
use cairn::{ProviderError, ResourceContext};
use serde::{Deserialize, Serialize};

use crate::config::Clients;
use crate::error::{aws, aws_on, code, gone};
use crate::resource::{AwsResource, by_record};
use crate::tagging::Tagging;
use crate::{AwsProvider, Tags, tags, wait};

/// A public certificate for `domain_name` (and its alternative names), validated through
/// DNS: the program makes each of `domain_validation_options` as a record (a
/// `route53::Record` of type `CNAME`), and a [`CertificateValidation`] waits until AWS has
/// seen them and issued it.
///
/// ```no_run
/// # fn program(stack: &mut cairn::Stack, zone: &cairn_aws::route53::Zone) {
/// use cairn::Output;
/// use cairn_aws::acm::{Certificate, CertificateArgs, CertificateValidation, CertificateValidationArgs};
/// use cairn_aws::route53::{Record, RecordArgs, RecordType};
/// let cert = Certificate::new(stack, "cert", CertificateArgs::builder()
///     .domain_name("app.example.com")
///     .build());
/// let proof = cert.domain_validation_options().map(|o| o[0].clone());
/// let record = Record::new(stack, "cert-proof", RecordArgs::builder()
///     .zone_id(zone.zone_id())
///     .name(proof.clone().map(|p| p.record_name))
///     .record_type(RecordType::Cname)
///     .records(proof.map(|p| vec![p.record_value]))
///     .build());
/// let issued = CertificateValidation::new(stack, "cert-issued", CertificateValidationArgs::builder()
///     .certificate_arn(cert.arn())
///     .validation_record_fqdns(Output::all([record.fqdn()]))
///     .build());
/// # }
/// ```
#[cairn::resource(token = "aws:acm/Certificate", provider = AwsProvider)]
#[api(calls(
    RequestCertificate,
    DescribeCertificate,
    ListCertificates,
    DeleteCertificate
))]
pub struct Certificate {
    /// The name it certifies (`app.example.com`, `*.example.com`).
    #[replace]
    pub domain_name: String,
    /// More names it certifies.
    #[replace]
    #[unordered]
    #[api(default = "none")]
    pub subject_alternative_names: Option<Vec<String>>,
    #[tags]
    pub tags: Option<Tags>,
    #[output]
    pub arn: String,
    /// The records that prove the domains are the program's, one per domain.
    #[output]
    pub domain_validation_options: Vec<DomainValidation>,
}

/// A record that proves one domain of a [`Certificate`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DomainValidation {
    /// The domain this record proves (the certificate's domain or one of its alternative names).
    pub domain_name: String,
    /// The record's name (ACM's `ResourceRecord.Name`), under the domain's zone.
    pub record_name: String,
    /// The record's type (`CNAME`).
    pub record_type: String,
    /// What the record must answer (ACM's `ResourceRecord.Value`).
    pub record_value: String,
}

/// Waits until a certificate is issued (its validation records in place): what an HTTPS
/// listener should depend on. Making it changes nothing in AWS; deleting it neither.
/// See [`Certificate`] for an example.
#[cairn::resource(token = "aws:acm/CertificateValidation", provider = AwsProvider)]
#[api(calls(DescribeCertificate))]
pub struct CertificateValidation {
    /// The certificate to wait for.
    #[replace]
    pub certificate_arn: String,
    /// The validation records' names: only so that this waits for the records.
    #[replace]
    #[unordered]
    #[api(cairn, default = "none: waits for the certificate alone")]
    pub validation_record_fqdns: Option<Vec<String>>,
    #[output]
    pub certificate_arn: String,
}

impl Certificate {
    /// The record that proves the certificate's domain (the first, for one with alternative
    /// names: each has a record of its own in `domain_validation_options`), as a `CNAME`
    /// `route53::Record` takes it: its name, and its value.
    pub fn validation_record(&self) -> (cairn::Output<String>, cairn::Output<Vec<String>>) {
        let first = self
            .domain_validation_options()
            .map(|v| v.into_iter().next());
        (
            first.map(|v| v.map(|v| v.record_name).unwrap_or_default()),
            first.map(|v| v.map(|v| v.record_value).into_iter().collect()),
        )
    }
}

fn acm_tags(ctx: &ResourceContext, user: Option<&Tags>) -> Vec<Tag> {
    tags::with_cairn(ctx, user)
        .into_iter()
        .filter_map(|(k, v)| Tag::builder().key(k).value(v).build().ok())
        .collect()
}

async fn describe(
    c: &Clients,
    arn: &str,
) -> Result<Option<aws_sdk_acm::types::CertificateDetail>, ProviderError> {
    match c
        .acm
        .describe_certificate()
        .certificate_arn(arn)
        .send()
        .await
    {
        Ok(out) => Ok(out.certificate().cloned()),
        Err(e) if code(&e).as_deref() == Some("ResourceNotFoundException") => Ok(None),
        Err(e) => Err(aws("DescribeCertificate")(e)),
    }
}

/// The validation records, once AWS has made one for every domain (seconds after the request).
fn validations(d: &aws_sdk_acm::types::CertificateDetail) -> Option<Vec<DomainValidation>> {
    d.domain_validation_options()
        .iter()
        .map(|o| {
            let r = o.resource_record()?;
            Some(DomainValidation {
                domain_name: o.domain_name().to_string(),
                record_name: r.name().trim_end_matches('.').to_string(),
                record_type: r.r#type().as_str().to_string(),
                record_value: r.value().trim_end_matches('.').to_string(),
            })
        })
        .collect()
}

#[async_trait]
impl AwsResource for Certificate {
    const TAGS: Tagging = Tagging::Acm;

    async fn create(
        c: &Clients,
        ctx: &ResourceContext,
        token: &str,
        i: &CertificateInputs,
    ) -> Result<(String, CertificateOutputs), ProviderError> {
        // ACM's idempotency token is at most 32 word characters.
        let idempotency: String = token
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .rev()
            .take(32)
            .collect();
        let out = c
            .acm
            .request_certificate()
            .domain_name(&i.domain_name)
            .set_subject_alternative_names(i.subject_alternative_names.clone())
            .validation_method(ValidationMethod::Dns)
            .idempotency_token(idempotency)
            .set_tags(Some(acm_tags(ctx, i.tags.as_ref())))
            .send()
            .await
            .map_err(aws_on("RequestCertificate", "domain_name"))?;
        let arn = out.certificate_arn().unwrap_or_default().to_string();
        let domain_validation_options = wait::until(
            &format!("the validation records of {}", i.domain_name),
            Duration::from_secs(300),
            || async {
                let d = describe(c, &arn)
                    .await?
                    .ok_or_else(|| ProviderError::new(format!("certificate {arn} disappeared")))?;
                Ok(validations(&d))
            },
        )
        .await?;
        Ok((
            arn.clone(),
            CertificateOutputs {
                arn,
                domain_validation_options,
            },
        ))
    }

    async fn find(
        c: &Clients,
        _ctx: &ResourceContext,
        _token: &str,
        i: &Self::Inputs,
    ) -> Result<Vec<String>, ProviderError> {
        let out = c
            .acm
            .list_certificates()
            .send()
            .await
            .map_err(aws("ListCertificates"))?;
        Ok(out
            .certificate_summary_list()
            .iter()
            .filter(|s| s.domain_name() == Some(i.domain_name.as_str()))
            .filter_map(|s| s.certificate_arn().map(str::to_string))
            .collect())
    }

    async fn read(
        c: &Clients,
        id: &str,
        i: Option<&CertificateInputs>,
    ) -> Result<Option<(CertificateInputs, CertificateOutputs)>, ProviderError> {
        let Some(d) = describe(c, id).await? else {
            return Ok(None);
        };
        let names: Vec<String> = d
            .subject_alternative_names()
            .iter()
            .filter(|n| Some(n.as_str()) != d.domain_name())
            .cloned()
            .collect();
        let now = CertificateInputs {
            domain_name: d.domain_name().unwrap_or_default().to_string(),
            // AWS lists the domain among its own alternative names.
            subject_alternative_names: match i.and_then(|i| i.subject_alternative_names.as_ref()) {
                None if names.is_empty() => None,
                _ => Some(names),
            },
            tags: None,
        };
        let outputs = CertificateOutputs {
            arn: id.to_string(),
            domain_validation_options: validations(&d).unwrap_or_default(),
        };
        Ok(Some((now, outputs)))
    }

    async fn delete(
        c: &Clients,
        id: &str,
        _i: &CertificateInputs,
        _o: &CertificateOutputs,
    ) -> Result<(), ProviderError> {
        // In use until the listener that held it lets go, shortly after its own delete.
        wait::retry_on(
            &["ResourceInUseException"],
            Duration::from_secs(300),
            || async {
                gone(
                    c.acm.delete_certificate().certificate_arn(id).send().await,
                    "DeleteCertificate",
                )
            },
        )
        .await
    }
}

#[async_trait]
impl AwsResource for CertificateValidation {
    const LOOKUP_BY_ID: bool = false;
    async fn create(
        c: &Clients,
        _ctx: &ResourceContext,
        _token: &str,
        i: &CertificateValidationInputs,
    ) -> Result<(String, CertificateValidationOutputs), ProviderError> {
        let arn = i.certificate_arn.clone();
        // Minutes on AWS once the records resolve; ACM gives up after 72 hours, Cairn sooner.
        wait::until(
            &format!("certificate {arn} to be issued"),
            Duration::from_secs(2 * 3600),
            || async {
                let d = describe(c, &arn)
                    .await?
                    .ok_or_else(|| ProviderError::new(format!("certificate {arn} disappeared")))?;
                match d.status() {
                    Some(CertificateStatus::Issued) => Ok(Some(())),
                    Some(CertificateStatus::PendingValidation) | None => Ok(None),
                    Some(other) => Err(ProviderError::on_property(
                        "certificate_arn",
                        format!("certificate {arn} is {} rather than issued", other.as_str()),
                    )),
                }
            },
        )
        .await?;
        Ok((
            arn.clone(),
            CertificateValidationOutputs {
                certificate_arn: arn,
            },
        ))
    }

    fn id_from_inputs(i: &Self::Inputs) -> Option<String> {
        Some(i.certificate_arn.clone())
    }

    async fn read(
        c: &Clients,
        id: &str,
        i: Option<&CertificateValidationInputs>,
    ) -> Result<Option<(CertificateValidationInputs, CertificateValidationOutputs)>, ProviderError>
    {
        let i = by_record(i, Self::TYPE)?;
        let issued = describe(c, id)
            .await?
            .is_some_and(|d| d.status() == Some(&CertificateStatus::Issued));
        Ok(issued.then(|| {
            (
                i.clone(),
                CertificateValidationOutputs {
                    certificate_arn: id.to_string(),
                },
            )
        }))
    }

    async fn delete(
        _c: &Clients,
        _id: &str,
        _i: &CertificateValidationInputs,
        _o: &CertificateValidationOutputs,
    ) -> Result<(), ProviderError> {
        Ok(())
    }
}
