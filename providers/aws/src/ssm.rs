//! Systems Manager Parameter Store: `aws:ssm/Parameter`.

use async_trait::async_trait;
use aws_sdk_ssm::types::{ParameterStringFilter, ParameterType as SdkType};
use cairn::{ProviderError, ResourceContext};

use crate::config::Clients;
use crate::error::{aws, aws_on, code, gone};
use crate::lookup::AwsLookup;
use crate::names;
use crate::resource::AwsResource;
use crate::tagging::Tagging;
use crate::{AwsProvider, Tags, tags};

cairn::string_enum! {
    /// How Parameter Store keeps a [`Parameter`]'s value.
    pub enum ParameterType {
        /// Text (AWS's `String`).
        Plain = "String",
        /// Comma-separated text (`StringList`).
        List = "StringList",
        /// Text encrypted with a KMS key (`SecureString`).
        Secure = "SecureString",
    }
}

/// A parameter: a value that tasks and programs read by name (an ECS container's `secrets`
/// take its ARN). Its value is secret to Cairn whatever its type: masked wherever it is shown,
/// sealed in the state.
///
/// ```no_run
/// # fn program(stack: &mut cairn::Stack, db: &cairn_aws::rds::Instance) {
/// use cairn_aws::ssm::{Parameter, ParameterArgs};
/// let host = Parameter::new(stack, "db-host", ParameterArgs::builder()
///     .name("/web/db/host")
///     .value(db.address())
///     .build());
/// # }
/// ```
#[cairn::resource(token = "aws:ssm/Parameter", provider = AwsProvider)]
#[api(calls(PutParameter, GetParameter, DescribeParameters, DeleteParameter))]
pub struct Parameter {
    /// The parameter's name; a path (`/web/db/host`) groups parameters.
    #[replace]
    #[unique(name = names::SSM_PARAMETER)]
    #[api(values = "up to 1,011 letters, digits and `_.-/`")]
    pub name: String,
    /// The value; a change stores a new version.
    #[secret]
    #[api(values = "up to 4 KB (standard tier)")]
    pub value: String,
    /// Plain text, a list, or encrypted.
    #[api(name = "Type", default = "[`ParameterType::Plain`]")]
    pub parameter_type: Option<ParameterType>,
    /// What the parameter is for.
    #[api(default = "none")]
    pub description: Option<String>,
    /// For a `Secure` parameter: the KMS key.
    #[api(name = "KeyId", default = "AWS's `aws/ssm` key")]
    pub key_id: Option<String>,
    #[tags]
    pub tags: Option<Tags>,
    #[output]
    pub arn: String,
    #[output]
    pub name: String,
    /// The version of the value (1 at first, one more for each change).
    #[output]
    pub version: i64,
}

impl ParameterInputs {
    fn sdk_type(&self) -> SdkType {
        SdkType::from(self.parameter_type.unwrap_or(ParameterType::Plain).as_str())
    }
}

/// The parameter's value, type, version and ARN, and its description and key.
async fn describe(
    c: &Clients,
    name: &str,
) -> Result<Option<(ParameterInputs, ParameterOutputs)>, ProviderError> {
    let got = match c
        .ssm
        .get_parameter()
        .name(name)
        .with_decryption(true)
        .send()
        .await
    {
        Ok(out) => out,
        Err(e) if code(&e).as_deref() == Some("ParameterNotFound") => return Ok(None),
        Err(e) => return Err(aws("GetParameter")(e)),
    };
    let Some(p) = got.parameter() else {
        return Ok(None);
    };
    let filter = ParameterStringFilter::builder()
        .key("Name")
        .option("Equals")
        .values(name)
        .build()
        .map_err(|e| ProviderError::new(e.to_string()))?;
    let meta = c
        .ssm
        .describe_parameters()
        .parameter_filters(filter)
        .send()
        .await
        .map_err(aws("DescribeParameters"))?;
    let meta = meta.parameters().iter().find(|m| m.name() == Some(name));
    let kind = p.r#type().map(|t| t.as_str()).unwrap_or("String");
    let now = ParameterInputs {
        name: name.to_string(),
        value: p.value().unwrap_or_default().to_string(),
        parameter_type: Some(ParameterType::parse(kind).ok_or_else(|| {
            ProviderError::new(format!("parameter {name} has the unknown type '{kind}'"))
        })?),
        description: meta.and_then(|m| m.description()).map(str::to_string),
        key_id: meta.and_then(|m| m.key_id()).map(str::to_string),
        tags: None,
    };
    let outputs = ParameterOutputs {
        arn: p.arn().unwrap_or_default().to_string(),
        name: name.to_string(),
        version: p.version(),
    };
    Ok(Some((now, outputs)))
}

#[async_trait]
impl AwsResource for Parameter {
    const TAGS: Tagging = Tagging::Ssm;

    async fn create(
        c: &Clients,
        ctx: &ResourceContext,
        _token: &str,
        i: &ParameterInputs,
    ) -> Result<(String, ParameterOutputs), ProviderError> {
        let tags = tags::with_cairn(ctx, i.tags.as_ref())
            .into_iter()
            .filter_map(|(k, v)| {
                aws_sdk_ssm::types::Tag::builder()
                    .key(k)
                    .value(v)
                    .build()
                    .ok()
            });
        c.ssm
            .put_parameter()
            .name(&i.name)
            .value(&i.value)
            .r#type(i.sdk_type())
            .set_description(i.description.clone())
            .set_key_id(i.key_id.clone())
            .set_tags(Some(tags.collect()))
            .send()
            .await
            .map_err(aws_on("PutParameter", "name"))?;
        let (_, outputs) = describe(c, &i.name)
            .await?
            .ok_or_else(|| ProviderError::new(format!("parameter {} disappeared", i.name)))?;
        Ok((i.name.clone(), outputs))
    }

    fn id_from_inputs(i: &Self::Inputs) -> Option<String> {
        Some(i.name.clone())
    }

    async fn read(
        c: &Clients,
        id: &str,
        _i: Option<&ParameterInputs>,
    ) -> Result<Option<(ParameterInputs, ParameterOutputs)>, ProviderError> {
        describe(c, id).await
    }

    /// Value, type, description and key in one overwrite: a new version of the value.
    async fn update(
        c: &Clients,
        _ctx: &ResourceContext,
        id: &str,
        old: &ParameterInputs,
        new: &ParameterInputs,
    ) -> Result<ParameterOutputs, ProviderError> {
        let held = |i: &ParameterInputs| {
            (
                i.value.clone(),
                i.sdk_type(),
                i.description.clone(),
                i.key_id.clone(),
            )
        };
        // Tags alone change no version.
        if held(old) != held(new) {
            c.ssm
                .put_parameter()
                .name(id)
                .value(&new.value)
                .r#type(new.sdk_type())
                .set_description(new.description.clone())
                .set_key_id(new.key_id.clone())
                .overwrite(true)
                .send()
                .await
                .map_err(aws_on("PutParameter", "value"))?;
        }
        let (_, outputs) = describe(c, id)
            .await?
            .ok_or_else(|| ProviderError::new(format!("parameter {id} disappeared")))?;
        Ok(outputs)
    }

    async fn delete(
        c: &Clients,
        id: &str,
        _i: &ParameterInputs,
        _o: &ParameterOutputs,
    ) -> Result<(), ProviderError> {
        gone(
            c.ssm.delete_parameter().name(id).send().await,
            "DeleteParameter",
        )
    }
}

/// The public parameter naming the latest Amazon Linux 2023 AMI for x86-64 in each region:
/// `ParameterValue::get(stack, "ami", ssm::AMAZON_LINUX_2023).value()` is its AMI id.
pub const AMAZON_LINUX_2023: &str =
    "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64";

/// [`AMAZON_LINUX_2023`] for ARM (Graviton) instances.
pub const AMAZON_LINUX_2023_ARM64: &str =
    "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64";

crate::lookup::handle! {
    /// The value of a parameter the stack does not manage (a lookup: read when the program is
    /// planned): AWS's public ones (the latest AMI, [`AMAZON_LINUX_2023`]) or another team's.
    /// A `SecureString`'s value is read decrypted and is secret to Cairn.
    ParameterValue {
        /// The value (decrypted, and secret, for a `SecureString`).
        value: String,
        /// Its version, one more with each change.
        version: i64,
        /// Its full ARN.
        arn: String,
    }
}

impl ParameterValue {
    /// The value of `parameter`, with the default provider.
    #[track_caller]
    pub fn get(
        stack: &mut cairn::Stack,
        name: &str,
        parameter: impl Into<cairn::Output<String>>,
    ) -> ParameterValue {
        ParameterValue::get_with(stack, name, parameter, cairn::ResourceOptions::default())
    }

    /// [`ParameterValue::get`] with options: of them, only `provider` and `depends_on` apply.
    #[track_caller]
    pub fn get_with(
        stack: &mut cairn::Stack,
        name: &str,
        parameter: impl Into<cairn::Output<String>>,
        opts: cairn::ResourceOptions,
    ) -> ParameterValue {
        let parameter: cairn::Output<String> = parameter.into();
        let args = vec![("name", Some(parameter.erase()))];
        ParameterValue {
            lookup: crate::lookup::declare(stack, ValueLookup::TOKEN, name, args, opts),
        }
    }
}

/// The lookup behind [`ParameterValue`].
pub(crate) struct ValueLookup;

#[derive(serde::Deserialize)]
pub(crate) struct ValueArgs {
    name: String,
}

#[async_trait]
impl AwsLookup for ValueLookup {
    const TOKEN: &'static str = "aws:ssm/getParameter";
    const DECLARED_BY: &'static str = "ssm::ParameterValue::get";
    type Args = ValueArgs;
    type Outputs = serde_json::Value;

    async fn read(c: &Clients, args: ValueArgs) -> Result<serde_json::Value, ProviderError> {
        let out = c
            .ssm
            .get_parameter()
            .name(&args.name)
            .with_decryption(true)
            .send()
            .await;
        let out = match out {
            Err(e) if code(&e).as_deref() == Some("ParameterNotFound") => {
                return Err(crate::lookup::nothing_matches(format!(
                    "no parameter '{}'",
                    args.name
                )));
            }
            r => r.map_err(aws("GetParameter"))?,
        };
        let Some(p) = out.parameter() else {
            return Err(crate::lookup::nothing_matches(format!(
                "no parameter '{}'",
                args.name
            )));
        };
        let value = serde_json::Value::String(p.value().unwrap_or_default().to_string());
        let value = match p.r#type() {
            Some(SdkType::SecureString) => cairn::secret_output(value),
            _ => value,
        };
        Ok(serde_json::json!({
            "value": value,
            "version": p.version(),
            "arn": p.arn().unwrap_or_default(),
        }))
    }
}
