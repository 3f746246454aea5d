//! The typed interface every AWS resource type implements, and its erasure to the engine's JSON.

use std::marker::PhantomData;

use async_trait::async_trait;
use cairn::{CheckFailure, PropMap, ProviderError, Related, ResourceContext, TypeSchema};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::config::Clients;
use crate::error::bad_inputs;
use crate::{Tags, tags};

/// Where a resource type keeps its tags, by the kind of its id.
pub(crate) enum TagsAt {
    /// The type has no tags.
    Nowhere,
    /// An EC2 resource id (EC2 keeps tags by id, whatever the kind).
    Ec2,
    /// An ECS ARN (`ListTagsForResource`).
    EcsArn,
    /// An ELBv2 ARN (`DescribeTags`).
    ElbArn,
}

/// One AWS resource type, with typed inputs.
#[async_trait]
pub(crate) trait AwsResource: Send + Sync + 'static {
    const TYPE: &'static str;
    type Inputs: Serialize + DeserializeOwned + Send + Sync;

    fn schema() -> TypeSchema;

    /// Validation before planning; unknown values are absent from `inputs`.
    fn check(_inputs: &PropMap) -> Vec<CheckFailure> {
        Vec::new()
    }

    /// Validation that needs the resources the inputs come from (see [`Related`]).
    fn check_related(_inputs: &PropMap, _related: &Related<'_>) -> Vec<CheckFailure> {
        Vec::new()
    }

    /// Creates the resource; returns its id and outputs.
    async fn create(
        c: &Clients,
        ctx: &ResourceContext,
        token: &str,
        inputs: &Self::Inputs,
    ) -> Result<(String, Value), ProviderError>;

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
        Ok(match Self::read(c, &id, inputs).await? {
            Some(_) => vec![id],
            None => Vec::new(),
        })
    }

    /// Where the type keeps its tags, for [`AwsResource::cairn_tags`].
    const TAGS_AT: TagsAt = TagsAt::Nowhere;

    /// The create returns what exists when asked for a name that is taken (ECS clusters,
    /// ELBv2 load balancers and target groups with the same settings), instead of refusing:
    /// what it returns is checked to be this stack's.
    const CREATE_RETURNS_EXISTING: bool = false;

    /// The tags on `id` (Cairn's `cairn:stack` and `cairn:name` among them), for types that
    /// carry tags; `None` for types that carry none, whose inputs identify them (see
    /// [`AwsResource::owned`]).
    async fn cairn_tags(c: &Clients, id: &str) -> Result<Option<Tags>, ProviderError> {
        match Self::TAGS_AT {
            TagsAt::Nowhere => Ok(None),
            TagsAt::Ec2 => crate::ec2::tagging::of(c, id).await,
            TagsAt::EcsArn => crate::ecs::tags_of(c, id).await,
            TagsAt::ElbArn => crate::elb::tags_of(c, id).await,
        }
    }

    /// Whether `id`, one of [`AwsResource::find`]'s candidates, is what this stack's resource
    /// `ctx` made (and not something of the same name that is someone else's): it carries the
    /// stack's and the resource's tags or, for a type without tags, it reads back exactly as
    /// the create sent it.
    async fn owned(
        c: &Clients,
        ctx: &ResourceContext,
        id: &str,
        inputs: &Self::Inputs,
    ) -> Result<bool, ProviderError> {
        if let Some(t) = Self::cairn_tags(c, id).await? {
            return Ok(t.get(tags::STACK_TAG) == Some(&ctx.stack)
                && t.get(tags::NAME_TAG) == Some(&ctx.name));
        }
        let sent = serde_json::to_value(inputs).map_err(|e| bad_inputs(Self::TYPE, e))?;
        Ok(match Self::read(c, id, inputs).await? {
            Some((now, _)) => serde_json::to_value(now).ok() == Some(sent),
            None => false,
        })
    }

    /// Reads it back: the inputs as they are now (shaped like `inputs`, so that only real
    /// differences are drift) and the outputs; `None` if it is gone.
    async fn read(
        c: &Clients,
        id: &str,
        inputs: &Self::Inputs,
    ) -> Result<Option<(Self::Inputs, Value)>, ProviderError>;

    /// Applies the changes that the schema does not mark as forcing replacement.
    async fn update(
        c: &Clients,
        ctx: &ResourceContext,
        id: &str,
        old: &Self::Inputs,
        new: &Self::Inputs,
    ) -> Result<Value, ProviderError>;

    /// Deletes; something already gone is success.
    async fn delete(
        c: &Clients,
        id: &str,
        inputs: &Self::Inputs,
        outputs: &Value,
    ) -> Result<(), ProviderError>;
}

/// The engine-facing, JSON side of a resource type.
#[async_trait]
pub(crate) trait Handler: Send + Sync {
    fn schema(&self) -> TypeSchema;
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
}

pub(crate) struct Typed<R>(pub PhantomData<R>);

fn parse<R: AwsResource>(v: &Value) -> Result<R::Inputs, ProviderError> {
    serde_json::from_value(v.clone()).map_err(|e| bad_inputs(R::TYPE, e))
}

#[async_trait]
impl<R: AwsResource> Handler for Typed<R> {
    fn schema(&self) -> TypeSchema {
        R::schema()
    }

    fn check(&self, inputs: &PropMap, related: &Related<'_>) -> Vec<CheckFailure> {
        let mut failures = R::check(inputs);
        failures.extend(R::check_related(inputs, related));
        failures
    }

    async fn create(
        &self,
        c: &Clients,
        ctx: &ResourceContext,
        token: &str,
        inputs: &Value,
    ) -> Result<(String, Value), ProviderError> {
        let inputs = parse::<R>(inputs)?;
        let taken = |id: &str| ProviderError::new(format!("{id} already exists")).conflict();
        // Such a create would hand back (or, in some emulators, overwrite) what exists: look
        // first, and once more at what it returned, in case it appeared in between.
        if R::CREATE_RETURNS_EXISTING {
            for id in R::find(c, ctx, token, &inputs).await? {
                if !R::owned(c, ctx, &id, &inputs).await? {
                    return Err(taken(&id));
                }
            }
        }
        let (id, outputs) = R::create(c, ctx, token, &inputs).await?;
        if R::CREATE_RETURNS_EXISTING && !R::owned(c, ctx, &id, &inputs).await? {
            return Err(taken(&id));
        }
        Ok((id, outputs))
    }

    async fn find(
        &self,
        c: &Clients,
        ctx: &ResourceContext,
        token: &str,
        inputs: &Value,
    ) -> Result<Vec<String>, ProviderError> {
        let inputs = parse::<R>(inputs)?;
        let mut ours = Vec::new();
        for id in R::find(c, ctx, token, &inputs).await? {
            if R::owned(c, ctx, &id, &inputs).await? {
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
        let read = R::read(c, id, &parse::<R>(inputs)?).await?;
        Ok(read.map(|(i, o)| (serde_json::to_value(i).expect("inputs serialise"), o)))
    }

    async fn update(
        &self,
        c: &Clients,
        ctx: &ResourceContext,
        id: &str,
        old: &Value,
        new: &Value,
    ) -> Result<Value, ProviderError> {
        R::update(c, ctx, id, &parse::<R>(old)?, &parse::<R>(new)?).await
    }

    async fn delete(
        &self,
        c: &Clients,
        id: &str,
        inputs: &Value,
        outputs: &Value,
    ) -> Result<(), ProviderError> {
        R::delete(c, id, &parse::<R>(inputs)?, outputs).await
    }
}

/// The value of a known property during `check`, if it is known and of type `T`.
pub(crate) fn known<T: DeserializeOwned>(inputs: &PropMap, property: &str) -> Option<T> {
    inputs
        .get(property)
        .and_then(|p| p.value.clone())
        .and_then(|v| serde_json::from_value(v).ok())
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
