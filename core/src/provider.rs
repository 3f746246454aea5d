//! The provider interface: how the engine asks a cloud to create, read, update and delete.
//!
//! The engine speaks JSON to providers (inputs and outputs are serde values) so that one
//! engine drives any resource type; each provider deserialises into its own typed structs.

use std::sync::Arc;

use async_trait::async_trait;
use serde_json::Value;

/// What the engine must know about a resource type to plan changes to it.
#[derive(Debug, Clone, Default)]
pub struct TypeSchema {
    /// Properties whose change cannot be applied in place: the resource is replaced.
    pub replace_on_changes: &'static [&'static str],
    /// Lists whose order means nothing (subnets, security groups): compared as sets, in plans
    /// and in drift.
    pub unordered: &'static [&'static str],
    /// Properties that are secret whatever their value's origin (a password): masked wherever
    /// they are shown, sealed in the state.
    pub secret: &'static [&'static str],
    /// Values that two resources of this type cannot share at once (a security group's name in
    /// its VPC, a route's destination in its table). A replacement that keeps one cannot create
    /// the new copy beside the old, so it deletes first; one that changes it creates first.
    pub unique: &'static [UniqueKey],
    /// When its dependents may start: once it is ready (the default), or once it exists.
    pub readiness: Readiness,
}

/// When a resource's dependents may start.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Readiness {
    /// Its create returns when it is ready to use, and its dependents start then.
    #[default]
    AtCreate,
    /// Its create returns as soon as it exists (its id and ARN are known), while the cloud is
    /// still setting it up (a load balancer provisioning), and [`Provider::await_ready`] waits
    /// for the rest. Dependents that take its outputs start at once, since the cloud accepts
    /// them meanwhile; those that name it in `depends_on` wait until it is ready, and so does
    /// the end of the command, so that its outputs work when `up` returns.
    Awaited,
}

impl TypeSchema {
    /// The unique name Cairn fills in when the program sets none, if the type has one.
    pub fn auto_named(&self) -> impl Iterator<Item = (&'static str, &NameRule)> + '_ {
        self.unique
            .iter()
            .filter_map(|u| match (u.key, &u.auto_name) {
                ([property], Some(rule)) => Some((*property, rule)),
                _ => None,
            })
    }
}

/// Properties whose values, together, identify one resource of a type within a scope.
#[derive(Debug, Clone, Copy)]
pub struct UniqueKey {
    /// The properties that must not be shared (a name; a rule's protocol and ports). A list
    /// collides when it shares any element (a rule's CIDR blocks are each a rule to AWS).
    pub key: &'static [&'static str],
    /// The properties naming the scope it is unique in (a security group's `vpc_id`); empty for
    /// the provider's account and region. They hold other resources' ids, so one not known yet
    /// (its resource is being created) is taken as a new scope.
    pub within: &'static [&'static str],
    /// For a one-property key that is a name: how Cairn names the resource when the program
    /// leaves it unset, so that replacements can always create the new copy first.
    pub auto_name: Option<NameRule>,
}

/// What the cloud accepts as a name: Cairn's generated names (`<resource name>-<suffix>`) keep
/// to it.
#[derive(Debug, Clone, Copy)]
pub struct NameRule {
    /// The longest name accepted.
    pub max_len: usize,
    /// Characters allowed besides ASCII letters and digits; any other becomes `-` (or is
    /// dropped if `-` is not allowed either).
    pub punctuation: &'static str,
    /// Upper-case letters are refused (an ECR repository).
    pub lowercase: bool,
    /// Beginnings the cloud reserves (`sg-` for a security group): a name that would start
    /// with one starts with `cairn-` instead.
    pub refused_prefixes: &'static [&'static str],
}

/// A property value as the planner knows it: maybe not yet known, maybe secret. Its `Debug`
/// masks a secret value, so a stray `{:?}` cannot print one.
#[derive(Clone, PartialEq)]
pub struct Prop {
    /// `None` while unknown.
    pub value: Option<Value>,
    /// Whether it is secret.
    pub secret: bool,
}

impl std::fmt::Debug for Prop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let value: &dyn std::fmt::Debug = match (&self.value, self.secret) {
            (Some(_), true) => &"[secret]",
            (value, _) => value,
        };
        f.debug_struct("Prop")
            .field("value", value)
            .field("secret", &self.secret)
            .finish()
    }
}

impl Prop {
    /// A known, non-secret value.
    pub fn known(value: Value) -> Prop {
        Prop {
            value: Some(value),
            secret: false,
        }
    }
}

/// A resource's properties during planning, by name.
pub type PropMap = std::collections::BTreeMap<String, Prop>;

/// A problem with one property of one resource.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckFailure {
    /// The property, if the problem is with one.
    pub property: Option<String>,
    /// What is wrong, in words.
    pub reason: String,
}

/// For a check: the declared resources each property's value comes from, with their inputs as
/// far as they are known at plan time.
#[derive(Default)]
pub struct Related<'a> {
    pub(crate) sources: std::collections::BTreeMap<String, Vec<(&'a str, &'a PropMap)>>,
}

impl<'a> Related<'a> {
    /// (type, inputs) of each resource whose output flows into `property`.
    pub fn sources(&self, property: &str) -> impl Iterator<Item = (&'a str, &'a PropMap)> + '_ {
        self.sources
            .get(property)
            .into_iter()
            .flat_map(|v| v.iter().copied())
    }
}

/// Identifies a resource to its provider, for tags and idempotency.
#[derive(Debug, Clone)]
pub struct ResourceContext {
    /// The stack's name (Cairn's `cairn:stack` tag).
    pub stack: String,
    /// The resource's name in the program (the `cairn:name` tag).
    pub name: String,
    /// Its type token.
    pub ty: String,
}

/// What a create is given.
#[derive(Debug, Clone)]
pub struct CreateRequest {
    /// Which resource.
    pub resource: ResourceContext,
    /// Its inputs, plain.
    pub inputs: Value,
    /// A token unique to this operation: passed to APIs that take one (EC2's ClientToken) so a
    /// retried or interrupted create cannot make a second resource.
    pub client_token: String,
}

/// What a create made.
#[derive(Debug, Clone)]
pub struct Created {
    /// The cloud's id for it.
    pub id: String,
    /// Its outputs.
    pub outputs: Value,
}

/// What a read is given.
#[derive(Debug, Clone)]
pub struct ReadRequest {
    /// Which resource.
    pub resource: ResourceContext,
    /// The cloud's id for it.
    pub id: String,
    /// Its recorded inputs, plain.
    pub inputs: Value,
    /// Its recorded outputs.
    pub outputs: Value,
}

/// An existing resource to bring under management (`import NAME TYPE ID`).
#[derive(Debug, Clone)]
pub struct ImportRequest {
    /// The name it will have in the stack, and its type.
    pub resource: ResourceContext,
    /// The cloud's id for it.
    pub id: String,
    /// The variable the printed declaration binds (`legacy_vpc`).
    pub var: String,
}

/// A resource read for `import`.
#[derive(Debug, Clone)]
pub struct Imported {
    /// Its inputs as the cloud has them, plain.
    pub inputs: Value,
    /// Its outputs.
    pub outputs: Value,
    /// The Rust statement that declares it with those inputs.
    pub declaration: String,
}

/// A resource as read back from the cloud.
#[derive(Debug, Clone)]
pub struct ReadResult {
    /// The inputs as the cloud has them now: differences from the recorded inputs are drift.
    pub inputs: Value,
    /// The outputs as the cloud has them now.
    pub outputs: Value,
}

/// A lookup: what the program reads from the cloud and never manages (the account's id, the
/// availability zones, an existing VPC by id or tags). `ty` is a resource type (look one up by
/// its `id` argument, as Pulumi's `get`) or a lookup of the provider's own (`aws:getCallerIdentity`).
#[derive(Debug, Clone)]
pub struct LookupRequest {
    /// Which lookup (its name in the program and its token).
    pub resource: ResourceContext,
    /// The lookup's arguments, every one known.
    pub args: Value,
}

/// What an update is given.
#[derive(Debug, Clone)]
pub struct UpdateRequest {
    /// Which resource.
    pub resource: ResourceContext,
    /// The cloud's id for it.
    pub id: String,
    /// Its recorded inputs.
    pub old_inputs: Value,
    /// Its inputs now.
    pub new_inputs: Value,
    /// Its recorded outputs.
    pub old_outputs: Value,
    /// The properties that differ.
    pub changed: Vec<String>,
}

/// What a delete is given.
#[derive(Debug, Clone)]
pub struct DeleteRequest {
    /// Which resource.
    pub resource: ResourceContext,
    /// The cloud's id for it.
    pub id: String,
    /// Its recorded inputs.
    pub inputs: Value,
    /// Its recorded outputs.
    pub outputs: Value,
}

/// What kind of failure a provider call met: the engine (and tests) decide on this, never on
/// the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// What the call addresses does not exist.
    NotFound,
    /// What the call would make already exists (a name taken). It may be this very resource,
    /// made by an attempt whose response was lost, which `Provider::find` recognises as this
    /// stack's; otherwise it is someone else's, and the error says so.
    Conflict,
    /// The failure may be temporary (throttled, a server error, no response) and the call may
    /// still have taken effect: the engine looks for what a create made and, finding nothing,
    /// tries again.
    Retryable,
    /// The cloud refused the request as invalid: a bad value (see `ProviderError::property`).
    Invalid,
    /// Anything else: permissions, limits, a state the resource cannot leave.
    Other,
}

/// A failed provider call.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct ProviderError {
    /// What kind of failure it is: what the engine decides on.
    pub kind: ErrorKind,
    /// What went wrong, in words.
    pub message: String,
    /// The input property the failure is about, when the provider can tell.
    pub property: Option<String>,
    /// The cloud's own error code (`InvalidVpcID.NotFound`, `Throttling`), when it sent one.
    pub code: Option<String>,
}

impl ProviderError {
    /// An error of kind [`ErrorKind::Other`].
    pub fn new(message: impl Into<String>) -> Self {
        ProviderError {
            kind: ErrorKind::Other,
            message: message.into(),
            property: None,
            code: None,
        }
    }

    /// An error about one input property.
    pub fn on_property(property: impl Into<String>, message: impl Into<String>) -> Self {
        ProviderError::new(message).property(property)
    }

    /// The same error, of kind `kind`.
    pub fn kind(mut self, kind: ErrorKind) -> Self {
        self.kind = kind;
        self
    }

    /// The same error, about `property`.
    pub fn property(mut self, property: impl Into<String>) -> Self {
        self.property = Some(property.into());
        self
    }

    /// The same error, with the cloud's code.
    pub fn code(mut self, code: Option<String>) -> Self {
        self.code = code;
        self
    }

    /// Marks the error as a conflict with something that already exists.
    pub fn conflict(self) -> Self {
        self.kind(ErrorKind::Conflict)
    }

    /// Marks the error as temporary, the call perhaps done.
    pub fn retryable(self) -> Self {
        self.kind(ErrorKind::Retryable)
    }

    /// Whether it is of kind `kind`.
    pub fn is(&self, kind: ErrorKind) -> bool {
        self.kind == kind
    }
}

/// A provider instance: one configuration (account, region, credentials) of one cloud.
#[async_trait]
pub trait Provider: Send + Sync + 'static {
    /// The package this provider serves, e.g. `aws`: resource type tokens start with it.
    fn package(&self) -> &'static str;

    /// The planning facts of a resource type, or `None` if this provider does not know it.
    fn schema(&self, ty: &str) -> Option<TypeSchema>;

    /// Validates inputs before anything is planned. Unknown values are `None`; check what
    /// can be checked and let the rest wait for the create.
    ///
    /// `related` gives the inputs of the resources a property's value comes from (a subnet's
    /// `vpc_id` leads to its VPC), so a check can catch, at preview, a mistake that spans two
    /// resources.
    fn check(&self, _ty: &str, _inputs: &PropMap, _related: &Related<'_>) -> Vec<CheckFailure> {
        Vec::new()
    }

    /// Checks, before anything is planned, that the provider can reach its cloud as configured
    /// (credentials found and accepted, region known), so that a bad configuration is one clear
    /// error rather than a failure of every resource.
    async fn preflight(&self) -> Result<(), ProviderError> {
        Ok(())
    }

    /// What a person must know before a plan of this provider's (its calls going somewhere
    /// other than its cloud), once [`Provider::preflight`] has run.
    fn notices(&self) -> Vec<String> {
        Vec::new()
    }

    /// Creates the resource: its id and outputs. It must not make a second one when sent
    /// again with the same client token, where the cloud takes one.
    async fn create(&self, req: CreateRequest) -> Result<Created, ProviderError>;

    /// Looks for what a create may have made before its outcome was lost (the process was
    /// killed, or the connection dropped after the request was sent): by the request's client
    /// token where the API takes one, otherwise by the stack and name tags every resource
    /// carries or by its unique name. Returns the ids of every candidate that is provably this
    /// stack's resource (its tags, or for a type without tags exactly the inputs sent); the
    /// engine leaves out those it already records, such as the old copy of a replacement. An
    /// empty list means nothing was made. An error means the provider cannot tell, and the
    /// user decides.
    async fn find(&self, req: CreateRequest) -> Result<Vec<String>, ProviderError> {
        Err(ProviderError::new(format!(
            "resources of type {} cannot be looked up",
            req.resource.ty
        )))
    }

    /// Reads an existing resource the stack does not manage yet, for `import`: its inputs as
    /// the cloud has them (what a declaration sets to match it, tags but Cairn's own), its
    /// outputs, and the Rust statement declaring it as `req.var`. A type that cannot be read
    /// by id alone refuses, saying why; by default every type does.
    async fn import(&self, req: ImportRequest) -> Result<Imported, ProviderError> {
        Err(ProviderError::new(format!(
            "the {} provider cannot import {}",
            self.package(),
            req.resource.ty
        ))
        .kind(ErrorKind::Invalid))
    }

    /// Reads what a lookup asks for and returns it as outputs, as a resource's would be. What
    /// it asks for not existing (or, for a lookup of one, matching several) is an error of kind
    /// [`ErrorKind::NotFound`] saying what was asked.
    async fn lookup(&self, req: LookupRequest) -> Result<Value, ProviderError> {
        Err(ProviderError::new(format!(
            "the {} provider has no lookup '{}'",
            self.package(),
            req.resource.ty
        ))
        .kind(ErrorKind::Invalid))
    }

    /// Reads a resource back; `Ok(None)` when it no longer exists.
    async fn read(&self, req: ReadRequest) -> Result<Option<ReadResult>, ProviderError>;

    /// Applies an in-place update and returns the new outputs.
    async fn update(&self, req: UpdateRequest) -> Result<Value, ProviderError>;

    /// Deletes; deleting something already gone succeeds.
    async fn delete(&self, req: DeleteRequest) -> Result<(), ProviderError>;

    /// Waits until a resource of a type whose readiness is [`Readiness::Awaited`] is ready to
    /// use, and returns its outputs then. Called after its create, and on every later `up`
    /// that keeps it (a run killed during the wait left it unconfirmed); never for other types.
    async fn await_ready(&self, req: ReadRequest) -> Result<Value, ProviderError> {
        Ok(req.outputs)
    }
}

/// An output value a provider marks secret (a SecureString parameter's value, a generated
/// password): wrapped as the state wraps a secret, so that it is sealed there, masked wherever
/// it is shown, and secret in every output made from it.
pub fn secret_output(value: Value) -> Value {
    crate::props::value_to_state(&value, true)
}

/// A named provider instance in a stack. Resources record the name, so the same program can
/// hold two instances of one provider (two accounts, two regions) and deletes find theirs.
#[derive(Clone)]
pub struct ProviderRef {
    pub(crate) name: String,
    pub(crate) provider: Arc<dyn Provider>,
}

impl ProviderRef {
    /// The instance's name (`aws`, `accountB`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The provider.
    pub fn provider(&self) -> &Arc<dyn Provider> {
        &self.provider
    }
}

impl std::fmt::Debug for ProviderRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ProviderRef({})", self.name)
    }
}

/// A provider that can make its default instance from the stack's configuration, so that
/// resources declared without an explicit `provider` option get one.
pub trait DefaultProvider: Provider + Sized {
    /// The package name, which is also the name of the default instance.
    const PACKAGE: &'static str;

    /// The default instance, from the stack's configuration.
    fn from_config(config: &crate::Config) -> Self;
}

/// Reads a resource back and keeps, of what the cloud has, only the properties the request's
/// inputs declare: the one masking step between providers (which return everything they can
/// read) and the engine (which compares what the program declared). Lists whose order means
/// nothing (`TypeSchema::unordered`) keep the declared order when their members are the same,
/// so that a reordering by the cloud is neither drift nor a change to record.
pub(crate) async fn read_declared(
    provider: &dyn Provider,
    req: ReadRequest,
) -> Result<Option<ReadResult>, ProviderError> {
    let schema = provider.schema(&req.resource.ty).unwrap_or_default();
    let declared = req.inputs.clone();
    let Some(mut read) = provider.read(req).await? else {
        return Ok(None);
    };
    read.inputs = mask(read.inputs, &declared, &schema);
    Ok(Some(read))
}

/// `read` less what `declared` leaves out (absent or null), unordered lists in declared order
/// when they hold the same members.
pub(crate) fn mask(read: Value, declared: &Value, schema: &TypeSchema) -> Value {
    let (Value::Object(read), Value::Object(declared)) = (read, declared) else {
        return Value::Null;
    };
    let kept = read.into_iter().filter_map(|(k, v)| {
        let d = declared.get(&k).filter(|d| !d.is_null())?;
        let v = if schema.unordered.contains(&k.as_str()) && same_members(&v, d) {
            d.clone()
        } else {
            v
        };
        Some((k, v))
    });
    Value::Object(kept.collect())
}

/// Two JSON lists with the same members in any order (anything else: equal).
pub(crate) fn same_members(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Array(a), Value::Array(b)) => {
            let key = |v: &Value| v.to_string();
            let a: Vec<String> = a.iter().map(key).collect();
            let b: Vec<String> = b.iter().map(key).collect();
            crate::resource_type::same_set(&a, &b)
        }
        _ => a == b,
    }
}

#[cfg(test)]
mod tests;
