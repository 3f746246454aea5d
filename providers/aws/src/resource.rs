//! The typed interface every AWS resource type implements, and its erasure to the engine's JSON.

use std::marker::PhantomData;

use async_trait::async_trait;
use cairn::{
    CheckFailure, ErrorKind, PropMap, ProviderError, Related, ResourceContext, ResourceType,
    TypeSchema,
};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::config::Clients;
use crate::error::bad_inputs;
use crate::tagging::Tagging;
use crate::tags;

/// One AWS resource type: its declaration (`#[cairn::resource]`, which gives the typed inputs,
/// outputs and schema) and its AWS calls.
#[async_trait]
pub(crate) trait AwsResource: ResourceType {
    /// Where the type keeps its tags: the erasure reads them back after every `read` and
    /// applies changes to them after every `update`, so neither does it itself.
    const TAGS: Tagging = Tagging::None;

    /// The create returns what exists when asked for a name that is taken (ECS clusters,
    /// ELBv2 load balancers and target groups with the same settings), instead of refusing:
    /// what it returns is checked to be this stack's.
    const CREATE_RETURNS_EXISTING: bool = false;

    /// Sending the create again can never make a second one (an image pushed by its digest):
    /// its calls get the SDK's full retries, not a create's throttling-only ones.
    const CREATE_IS_IDEMPOTENT: bool = false;

    /// Its id alone says where to read it, so a program can look one up (`Vpc::get`). A type
    /// read through what it belongs to (a rule through its group) sets it `false`, and its
    /// `read` takes the record with [`by_record`].
    const LOOKUP_BY_ID: bool = true;

    /// For a type read through what it belongs to: the form of the id `import` takes (the id
    /// Cairn records for it, naming the parent), which [`AwsResource::seed`] parses. `None`:
    /// such a type cannot be imported yet.
    const IMPORT_ID: Option<&'static str> = None;

    /// The inputs an `import` id names, enough for `read` to read the rest (see
    /// [`AwsResource::IMPORT_ID`]); `None` for an id not of that form.
    fn seed(_id: &str) -> Option<Self::Inputs> {
        None
    }

    /// Validation before planning; unknown values are absent from `inputs`.
    fn check(_inputs: &PropMap) -> Vec<CheckFailure> {
        Vec::new()
    }

    /// Validation that needs the resources the inputs come from (see [`Related`]).
    fn check_related(_inputs: &PropMap, _related: &Related<'_>) -> Vec<CheckFailure> {
        Vec::new()
    }

    /// Creates the resource, with its tags (and Cairn's); returns its id and outputs.
    async fn create(
        c: &Clients,
        ctx: &ResourceContext,
        token: &str,
        inputs: &Self::Inputs,
    ) -> Result<(String, Self::Outputs), ProviderError>;

    /// The id a resource with these inputs has, for types whose id follows from them (a unique
    /// name, a parent and a key): what the default [`AwsResource::find`] looks up.
    fn id_from_inputs(_inputs: &Self::Inputs) -> Option<String> {
        None
    }

    /// Ids of what an interrupted create of this resource may have made: looked up by client
    /// token, by the stack/name tags, or by the unique name or parent the inputs give. By
    /// default, the id [`AwsResource::id_from_inputs`] gives, if reading it finds something.
    async fn find(
        c: &Clients,
        _ctx: &ResourceContext,
        _token: &str,
        inputs: &Self::Inputs,
    ) -> Result<Vec<String>, ProviderError> {
        let Some(id) = Self::id_from_inputs(inputs) else {
            return Err(ProviderError::new(format!(
                "{} resources cannot be looked up",
                Self::TYPE
            )));
        };
        Ok(match Self::read(c, &id, Some(inputs)).await? {
            Some(_) => vec![id],
            None => Vec::new(),
        })
    }

    /// Reads it back: the inputs as the cloud has them now, and the outputs; `None` if it is
    /// gone. The engine compares only what the program declared; tags are filled in by the
    /// erasure (leave them `None`).
    ///
    /// `recorded` is `None` for a lookup (`Vpc::get`), which has no record: what only a
    /// record knows (a setting of Cairn's own, such as `force_destroy`) takes its default. A
    /// type whose id alone does not say where to read it refuses with [`ErrorKind::Invalid`].
    async fn read(
        c: &Clients,
        id: &str,
        recorded: Option<&Self::Inputs>,
    ) -> Result<Option<(Self::Inputs, Self::Outputs)>, ProviderError>;

    /// Applies the changes that the schema does not mark as forcing replacement (tags
    /// excepted: the erasure applies those). By default there are none to apply (every
    /// property but the tags replaces): the outputs are read back.
    async fn update(
        c: &Clients,
        _ctx: &ResourceContext,
        id: &str,
        _old: &Self::Inputs,
        new: &Self::Inputs,
    ) -> Result<Self::Outputs, ProviderError> {
        match Self::read(c, id, Some(new)).await? {
            Some((_, outputs)) => Ok(outputs),
            None => {
                Err(ProviderError::new(format!("{id} no longer exists")).kind(ErrorKind::NotFound))
            }
        }
    }

    /// Deletes; something already gone is success.
    async fn delete(
        c: &Clients,
        id: &str,
        inputs: &Self::Inputs,
        outputs: &Self::Outputs,
    ) -> Result<(), ProviderError>;

    /// For a type declared `ready_later`: waits until the resource is ready, and returns its
    /// outputs then. The others are ready when their create returns.
    async fn await_ready(
        _c: &Clients,
        _id: &str,
        outputs: Self::Outputs,
    ) -> Result<Self::Outputs, ProviderError> {
        Ok(outputs)
    }
}

/// Whether `id`, one of [`AwsResource::find`]'s candidates, is what this stack's resource `ctx`
/// made (and not something of the same name that is someone else's): it carries the stack's
/// and the resource's tags or, for a type without tags, it reads back exactly as the create
/// sent it.
async fn owned<R: AwsResource>(
    c: &Clients,
    ctx: &ResourceContext,
    id: &str,
    inputs: &R::Inputs,
) -> Result<bool, ProviderError> {
    if let Some(t) = R::TAGS.all(c, id).await? {
        return Ok(
            t.get(tags::STACK_TAG) == Some(&ctx.stack) && t.get(tags::NAME_TAG) == Some(&ctx.name)
        );
    }
    // What the program left unset was not sent: the cloud's default there proves nothing.
    Ok(match R::read(c, id, Some(inputs)).await? {
        Some((now, _)) => match (serde_json::to_value(&now), serde_json::to_value(inputs)) {
            (Ok(Value::Object(now)), Ok(Value::Object(sent))) => sent
                .iter()
                .all(|(k, v)| v.is_null() || now.get(k) == Some(v)),
            _ => now == *inputs,
        },
        None => false,
    })
}

/// The engine-facing, JSON side of a resource type.
#[async_trait]
pub(crate) trait Handler: Send + Sync {
    fn token(&self) -> &'static str;
    fn schema(&self) -> TypeSchema;
    // The registry's walk (its tests) looks at these; the engine needs only the schema.
    #[cfg_attr(not(test), allow(dead_code))]
    fn inputs(&self) -> &'static [&'static str];
    #[cfg_attr(not(test), allow(dead_code))]
    fn outputs(&self) -> &'static [&'static str];
    #[cfg_attr(not(test), allow(dead_code))]
    fn taggable(&self) -> bool;
    fn create_is_idempotent(&self) -> bool;
    #[cfg_attr(not(test), allow(dead_code))]
    fn lookup_by_id(&self) -> bool;
    #[cfg_attr(not(test), allow(dead_code))]
    fn import_id(&self) -> Option<&'static str>;
    #[cfg_attr(not(test), allow(dead_code))]
    fn api_calls(&self) -> &'static [&'static str];
    #[cfg_attr(not(test), allow(dead_code))]
    fn source_file(&self) -> &'static str;
    /// Parses inputs and writes them back, as the engine would store them.
    #[cfg_attr(not(test), allow(dead_code))]
    fn round_trip(&self, inputs: &Value) -> Result<Value, ProviderError>;
    fn check(&self, inputs: &PropMap, related: &Related<'_>) -> Vec<CheckFailure>;
    async fn create(
        &self,
        c: &Clients,
        ctx: &ResourceContext,
        token: &str,
        inputs: &Value,
    ) -> Result<(String, Value), ProviderError>;
    async fn find(
        &self,
        c: &Clients,
        ctx: &ResourceContext,
        token: &str,
        inputs: &Value,
    ) -> Result<Vec<String>, ProviderError>;
    async fn read(
        &self,
        c: &Clients,
        id: &str,
        inputs: &Value,
    ) -> Result<Option<(Value, Value)>, ProviderError>;
    /// The outputs of the resource `id`, which the stack does not manage (a lookup).
    async fn get(&self, c: &Clients, id: &str) -> Result<Value, ProviderError>;
    /// The inputs and outputs of the resource `id`, and its declaration as `var` named
    /// `name`, to take it under management.
    async fn import(
        &self,
        c: &Clients,
        id: &str,
        var: &str,
        name: &str,
    ) -> Result<(Value, Value, String), ProviderError>;
    async fn update(
        &self,
        c: &Clients,
        ctx: &ResourceContext,
        id: &str,
        old: &Value,
        new: &Value,
    ) -> Result<Value, ProviderError>;
    async fn delete(
        &self,
        c: &Clients,
        id: &str,
        inputs: &Value,
        outputs: &Value,
    ) -> Result<(), ProviderError>;
    async fn await_ready(
        &self,
        c: &Clients,
        id: &str,
        outputs: &Value,
    ) -> Result<Value, ProviderError>;
}

/// A resource type erased to the engine's JSON: the one place inputs and outputs are parsed
/// and written, and where tags are read and changed for every taggable type.
pub(crate) struct Typed<R>(PhantomData<R>);

impl<R> Typed<R> {
    pub(crate) const fn new() -> Self {
        Typed(PhantomData)
    }
}

fn parse<T: DeserializeOwned>(ty: &str, v: &Value) -> Result<T, ProviderError> {
    serde_json::from_value(v.clone()).map_err(|e| bad_inputs(ty, e))
}

fn write<T: Serialize>(ty: &str, v: &T) -> Result<Value, ProviderError> {
    serde_json::to_value(v).map_err(|e| bad_inputs(ty, e))
}

#[async_trait]
impl<R: AwsResource> Handler for Typed<R> {
    fn token(&self) -> &'static str {
        R::TYPE
    }

    fn schema(&self) -> TypeSchema {
        R::SCHEMA
    }

    fn inputs(&self) -> &'static [&'static str] {
        R::INPUTS
    }

    fn outputs(&self) -> &'static [&'static str] {
        R::OUTPUTS
    }

    fn taggable(&self) -> bool {
        R::TAGS != Tagging::None
    }

    fn create_is_idempotent(&self) -> bool {
        R::CREATE_IS_IDEMPOTENT
    }

    fn lookup_by_id(&self) -> bool {
        R::LOOKUP_BY_ID
    }

    fn api_calls(&self) -> &'static [&'static str] {
        R::API_CALLS
    }

    fn import_id(&self) -> Option<&'static str> {
        R::IMPORT_ID
    }

    fn source_file(&self) -> &'static str {
        R::SOURCE_FILE
    }

    fn round_trip(&self, inputs: &Value) -> Result<Value, ProviderError> {
        write(R::TYPE, &parse::<R::Inputs>(R::TYPE, inputs)?)
    }

    fn check(&self, inputs: &PropMap, related: &Related<'_>) -> Vec<CheckFailure> {
        let mut failures = R::check(inputs);
        failures.extend(R::check_related(inputs, related));
        // A name the program sets, against what the service accepts (names.rs).
        for (property, rule) in R::SCHEMA.auto_named() {
            if let Some(name) = known::<String>(inputs, property)
                && let Some(reason) = rule.problem(&name)
            {
                failures.push(CheckFailure {
                    property: Some(property.to_string()),
                    reason,
                });
            }
        }
        failures
    }

    async fn create(
        &self,
        c: &Clients,
        ctx: &ResourceContext,
        token: &str,
        inputs: &Value,
    ) -> Result<(String, Value), ProviderError> {
        let inputs = parse::<R::Inputs>(R::TYPE, inputs)?;
        let taken = |id: &str| ProviderError::new(format!("{id} already exists")).conflict();
        // Such a create would hand back (or, in some emulators, overwrite) what exists: look
        // first, and once more at what it returned, in case it appeared in between.
        if R::CREATE_RETURNS_EXISTING {
            for id in R::find(c, ctx, token, &inputs).await? {
                if !owned::<R>(c, ctx, &id, &inputs).await? {
                    return Err(taken(&id));
                }
            }
        }
        let (id, outputs) = R::create(c, ctx, token, &inputs).await?;
        if R::CREATE_RETURNS_EXISTING && !owned::<R>(c, ctx, &id, &inputs).await? {
            return Err(taken(&id));
        }
        Ok((id, write(R::TYPE, &outputs)?))
    }

    async fn find(
        &self,
        c: &Clients,
        ctx: &ResourceContext,
        token: &str,
        inputs: &Value,
    ) -> Result<Vec<String>, ProviderError> {
        let inputs = parse::<R::Inputs>(R::TYPE, inputs)?;
        let mut ours = Vec::new();
        for id in R::find(c, ctx, token, &inputs).await? {
            if owned::<R>(c, ctx, &id, &inputs).await? {
                ours.push(id);
            }
        }
        Ok(ours)
    }

    async fn read(
        &self,
        c: &Clients,
        id: &str,
        inputs: &Value,
    ) -> Result<Option<(Value, Value)>, ProviderError> {
        let recorded = parse::<R::Inputs>(R::TYPE, inputs)?;
        let Some((mut now, outputs)) = R::read(c, id, Some(&recorded)).await? else {
            return Ok(None);
        };
        if let (Some(t), Some(all)) = (R::tags_mut(&mut now), R::TAGS.all(c, id).await?) {
            let declared = R::tags(&recorded).and_then(Option::as_ref);
            *t = tags::user_part(all, declared);
        }
        Ok(Some((write(R::TYPE, &now)?, write(R::TYPE, &outputs)?)))
    }

    async fn get(&self, c: &Clients, id: &str) -> Result<Value, ProviderError> {
        if !R::LOOKUP_BY_ID {
            return Err(not_by_id(R::TYPE));
        }
        match R::read(c, id, None).await? {
            Some((_, outputs)) => write(R::TYPE, &outputs),
            None => Err(no_such(R::TYPE, id)),
        }
    }

    async fn import(
        &self,
        c: &Clients,
        id: &str,
        var: &str,
        name: &str,
    ) -> Result<(Value, Value, String), ProviderError> {
        let seed = match (R::LOOKUP_BY_ID, R::IMPORT_ID) {
            (true, _) => None,
            (false, None) => return Err(not_importable(R::TYPE)),
            (false, Some(form)) => Some(R::seed(id).ok_or_else(|| {
                ProviderError::new(format!(
                    "'{id}' is not an id of {}: it takes {form}",
                    R::TYPE
                ))
                .property("id")
                .kind(ErrorKind::Invalid)
            })?),
        };
        let Some((mut inputs, outputs)) = R::read(c, id, seed.as_ref()).await? else {
            return Err(no_such(R::TYPE, id));
        };
        if let (Some(t), Some(all)) = (R::tags_mut(&mut inputs), R::TAGS.all(c, id).await?) {
            *t = tags::user_part(all, None);
        }
        let declaration = R::declaration(var, name, &inputs);
        Ok((
            write(R::TYPE, &inputs)?,
            write(R::TYPE, &outputs)?,
            declaration,
        ))
    }

    async fn update(
        &self,
        c: &Clients,
        ctx: &ResourceContext,
        id: &str,
        old: &Value,
        new: &Value,
    ) -> Result<Value, ProviderError> {
        let old = parse::<R::Inputs>(R::TYPE, old)?;
        let new = parse::<R::Inputs>(R::TYPE, new)?;
        let outputs = write(R::TYPE, &R::update(c, ctx, id, &old, &new).await?)?;
        if let (Some(from), Some(to)) = (R::tags(&old), R::tags(&new)) {
            R::TAGS
                .sync(c, id, &outputs, from.as_ref(), to.as_ref())
                .await?;
        }
        Ok(outputs)
    }

    async fn delete(
        &self,
        c: &Clients,
        id: &str,
        inputs: &Value,
        outputs: &Value,
    ) -> Result<(), ProviderError> {
        let inputs = parse::<R::Inputs>(R::TYPE, inputs)?;
        R::delete(c, id, &inputs, &parse::<R::Outputs>(R::TYPE, outputs)?).await
    }

    async fn await_ready(
        &self,
        c: &Clients,
        id: &str,
        outputs: &Value,
    ) -> Result<Value, ProviderError> {
        let outputs = parse::<R::Outputs>(R::TYPE, outputs)?;
        write(R::TYPE, &R::await_ready(c, id, outputs).await?)
    }
}

/// The record a read needs, for a type whose id alone does not say where to read it (a rule
/// is read through its group, an image through its repository): a lookup of one is refused.
pub(crate) fn by_record<'a, T>(recorded: Option<&'a T>, ty: &str) -> Result<&'a T, ProviderError> {
    recorded.ok_or_else(|| not_by_id(ty))
}

/// What a lookup by id of a type read through what it belongs to gets.
fn not_by_id(ty: &str) -> ProviderError {
    ProviderError::new(format!(
        "{ty} cannot be looked up by its id alone: look up what it belongs to instead"
    ))
    .kind(ErrorKind::Invalid)
}

/// What a lookup or an import of an id that names nothing gets.
fn no_such(ty: &str, id: &str) -> ProviderError {
    ProviderError::new(format!("there is no {ty} with id '{id}'"))
        .property("id")
        .kind(ErrorKind::NotFound)
}

/// Why a type read through what it belongs to cannot be imported by an id (a route, a
/// listener rule, an image): its read needs the parent its record names.
fn not_importable(ty: &str) -> ProviderError {
    ProviderError::new(format!(
        "{ty} cannot be imported yet: it is read through what it belongs to, which an id \
         alone does not name; declare it and let `up` make it, or take it over by hand"
    ))
    .kind(ErrorKind::Invalid)
}

/// The value of a known property during `check`, if it is known and of type `T`.
pub(crate) fn known<T: DeserializeOwned>(inputs: &PropMap, property: &str) -> Option<T> {
    inputs
        .get(property)
        .and_then(|p| p.value.clone())
        .and_then(|v| serde_json::from_value(v).ok())
}

/// Whether the program sets `property`: to a value, or to one not known until apply (what
/// another resource of the run makes).
pub(crate) fn declared(inputs: &PropMap, property: &str) -> bool {
    inputs
        .get(property)
        .is_some_and(|v| v.value.as_ref().is_none_or(|v| !v.is_null()))
}

/// Checks that a known property is a valid IPv4 CIDR block.
pub(crate) fn check_cidr(inputs: &PropMap, property: &str) -> Option<CheckFailure> {
    let cidr: String = known(inputs, property)?;
    match cidr.parse::<ipnet::Ipv4Net>() {
        Ok(net) if net.network() == net.addr() => None,
        Ok(net) => Some(CheckFailure {
            property: Some(property.into()),
            reason: format!(
                "'{cidr}' has host bits set: did you mean '{}'?",
                net.trunc()
            ),
        }),
        Err(e) => Some(CheckFailure {
            property: Some(property.into()),
            reason: format!("'{cidr}' is not a valid IPv4 CIDR block: {e}"),
        }),
    }
}

/// Checks that a known policy property is a JSON object (documents are compared structurally,
/// so a string holding JSON would never compare equal to what AWS returns).
pub(crate) fn check_policy(inputs: &PropMap, property: &str) -> Vec<CheckFailure> {
    match known::<Value>(inputs, property) {
        Some(Value::String(_)) => vec![CheckFailure {
            property: Some(property.into()),
            reason: "a policy document must be a JSON object, not text: use \
                     `cairn_aws::policy_document(text)` to parse it"
                .into(),
        }],
        Some(v) if !v.is_object() && !v.is_null() => vec![CheckFailure {
            property: Some(property.into()),
            reason: "a policy document must be a JSON object".into(),
        }],
        _ => Vec::new(),
    }
}
