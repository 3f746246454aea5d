//! `AwsProvider`: the engine's entry into AWS, dispatching each resource type to its module.

use async_trait::async_trait;
use cairn::{
    CheckFailure, Config, CreateRequest, Created, DefaultProvider, DeleteRequest, ErrorKind,
    ImportRequest, Imported, LookupRequest, PropMap, Provider, ProviderError, ReadRequest,
    ReadResult, Related, TypeSchema, UpdateRequest,
};
use serde_json::Value;
use tokio::sync::OnceCell;

use crate::config::{AwsConfig, ClientSet, Clients};
use crate::endpoint::IGNORED_CONFIG_KEY;
use crate::registry;
use crate::resource::Handler;

/// One configured AWS provider instance.
pub struct AwsProvider {
    config: AwsConfig,
    clients: OnceCell<Result<ClientSet, String>>,
}

impl AwsProvider {
    /// A provider instance for `config`: its clients are made (credentials loaded, a role
    /// assumed) on first use.
    pub fn new(config: AwsConfig) -> AwsProvider {
        AwsProvider {
            config,
            clients: OnceCell::new(),
        }
    }

    /// The configuration it was made with.
    pub fn config(&self) -> &AwsConfig {
        &self.config
    }

    /// The clients, built on first use (loading credentials and assuming the role once).
    async fn client_set(&self) -> Result<&ClientSet, ProviderError> {
        self.clients
            .get_or_init(|| self.config.clients())
            .await
            .as_ref()
            .map_err(|e| ProviderError::new(e.clone()))
    }

    async fn clients(&self) -> Result<&Clients, ProviderError> {
        Ok(&self.client_set().await?.any)
    }

    fn handler(ty: &str) -> Result<&'static dyn Handler, ProviderError> {
        registry::handler(ty).ok_or_else(|| {
            ProviderError::new(format!("the AWS provider has no resource type '{ty}'"))
                .kind(ErrorKind::Invalid)
        })
    }
}

#[async_trait]
impl Provider for AwsProvider {
    fn package(&self) -> &'static str {
        "aws"
    }

    fn schema(&self, ty: &str) -> Option<TypeSchema> {
        Self::handler(ty).ok().map(|h| h.schema())
    }

    fn check(&self, ty: &str, inputs: &PropMap, related: &Related<'_>) -> Vec<CheckFailure> {
        Self::handler(ty)
            .map(|h| h.check(inputs, related))
            .unwrap_or_default()
    }

    /// The region is known, credentials are found (and the role assumed), and AWS accepts
    /// them: `sts:GetCallerIdentity` needs no permission, so only bad credentials fail it.
    fn notices(&self) -> Vec<String> {
        match self.clients.get() {
            Some(Ok(set)) => set
                .overrides
                .iter()
                .map(|o| format!("every AWS call goes to {o}, not to AWS"))
                .collect(),
            _ => Vec::new(),
        }
    }

    async fn preflight(&self) -> Result<(), ProviderError> {
        use aws_credential_types::provider::ProvideCredentials;
        let c = self.clients().await?;
        let Some(credentials) = &c.credentials else {
            return Err(ProviderError::new("no AWS credentials are configured"));
        };
        credentials.provide_credentials().await.map_err(|e| {
            ProviderError::new(format!(
                "no usable AWS credentials: {}",
                aws_smithy_types::error::display::DisplayErrorContext(&e)
            ))
        })?;
        c.sts.get_caller_identity().send().await.map_err(|e| {
            ProviderError::new(format!(
                "AWS refused the credentials: {}",
                crate::error::describe(&e).1
            ))
        })?;
        Ok(())
    }

    async fn create(&self, req: CreateRequest) -> Result<Created, ProviderError> {
        let handler = Self::handler(&req.resource.ty)?;
        let set = self.client_set().await?;
        let c = if handler.create_is_idempotent() {
            &set.any
        } else {
            &set.create
        };
        let (id, outputs) = handler
            .create(c, &req.resource, &req.client_token, &req.inputs)
            .await?;
        Ok(Created { id, outputs })
    }

    async fn find(&self, req: CreateRequest) -> Result<Vec<String>, ProviderError> {
        let c = self.clients().await?;
        Self::handler(&req.resource.ty)?
            .find(c, &req.resource, &req.client_token, &req.inputs)
            .await
    }

    async fn read(&self, req: ReadRequest) -> Result<Option<ReadResult>, ProviderError> {
        let c = self.clients().await?;
        let read = Self::handler(&req.resource.ty)?
            .read(c, &req.id, &req.inputs)
            .await?;
        Ok(read.map(|(inputs, outputs)| ReadResult { inputs, outputs }))
    }

    async fn import(&self, req: ImportRequest) -> Result<Imported, ProviderError> {
        let c = self.clients().await?;
        let (inputs, outputs, declaration) = Self::handler(&req.resource.ty)?
            .import(c, &req.id, &req.var, &req.resource.name)
            .await?;
        Ok(Imported {
            inputs,
            outputs,
            declaration,
        })
    }

    /// A resource type by its `id` argument, or one of the lookups `registry.rs` lists.
    async fn lookup(&self, req: LookupRequest) -> Result<Value, ProviderError> {
        let c = self.clients().await?;
        let ty = req.resource.ty.as_str();
        if let Some(handler) = registry::handler(ty) {
            // An empty id is a setting left blank, not one AWS could answer for.
            let id = req.args.get("id").and_then(Value::as_str);
            let Some(id) = id.filter(|id| !id.is_empty()) else {
                return Err(ProviderError::on_property(
                    "id",
                    "a lookup by id needs an id, and it is empty",
                )
                .kind(ErrorKind::Invalid));
            };
            return handler.get(c, id).await;
        }
        match registry::lookup(ty) {
            Some(lookup) => lookup.read(c, &req.args).await,
            None => Err(
                ProviderError::new(format!("the AWS provider has no lookup '{ty}'"))
                    .kind(ErrorKind::Invalid),
            ),
        }
    }

    async fn update(&self, req: UpdateRequest) -> Result<Value, ProviderError> {
        let c = self.clients().await?;
        Self::handler(&req.resource.ty)?
            .update(c, &req.resource, &req.id, &req.old_inputs, &req.new_inputs)
            .await
    }

    async fn delete(&self, req: DeleteRequest) -> Result<(), ProviderError> {
        let c = self.clients().await?;
        Self::handler(&req.resource.ty)?
            .delete(c, &req.id, &req.inputs, &req.outputs)
            .await
    }

    async fn await_ready(&self, req: ReadRequest) -> Result<Value, ProviderError> {
        let c = self.clients().await?;
        Self::handler(&req.resource.ty)?
            .await_ready(c, &req.id, &req.outputs)
            .await
    }
}

/// An endpoint in the stack's configuration (as older versions read it) changes nothing now;
/// says so once, so its author is not surprised.
pub fn warn_if_endpoint_configured(config: &Config) {
    static SAID: std::sync::Once = std::sync::Once::new();
    if config.get::<String>(IGNORED_CONFIG_KEY).is_some() {
        SAID.call_once(|| {
            tracing::warn!(
                "`{IGNORED_CONFIG_KEY}` in the stack's configuration is ignored: an endpoint \
                 override comes only from AWS_ENDPOINT_URL, so a committed file cannot send the \
                 calls elsewhere"
            )
        });
    }
}

impl DefaultProvider for AwsProvider {
    const PACKAGE: &'static str = "aws";

    /// The default instance reads `aws:region`, `aws:profile`, `aws:roleArn` and
    /// `aws:sharedCredentialsFile`; never an endpoint (`endpoint.rs` says why).
    fn from_config(config: &Config) -> Self {
        warn_if_endpoint_configured(config);
        AwsProvider::new(AwsConfig {
            region: config.get("aws:region"),
            profile: config.get("aws:profile"),
            role_arn: config.get("aws:roleArn"),
            endpoint_url: None,
            shared_credentials_file: config.get("aws:sharedCredentialsFile"),
        })
    }
}
