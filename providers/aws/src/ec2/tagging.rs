//! EC2's way of tagging: tag specifications at creation, CreateTags/DeleteTags after.

use aws_sdk_ec2::types::{Filter, ResourceType, Tag, TagSpecification};
use cairn::{ProviderError, ResourceContext};

use crate::config::Clients;
use crate::error::aws_on;
use crate::{Tags, tags};

pub(crate) fn spec(
    ctx: &ResourceContext,
    rt: ResourceType,
    user: Option<&Tags>,
) -> TagSpecification {
    let mut b = TagSpecification::builder().resource_type(rt);
    for (k, v) in tags::with_cairn(ctx, user) {
        b = b.tags(Tag::builder().key(k).value(v).build());
    }
    b.build()
}

pub(crate) fn user_tags(observed: Option<&[Tag]>, recorded: Option<&Tags>) -> Option<Tags> {
    tags::user_part(
        observed.unwrap_or_default().iter().filter_map(|t| {
            Some((
                t.key()?.to_string(),
                t.value().unwrap_or_default().to_string(),
            ))
        }),
        recorded,
    )
}

/// Brings the user's tags of `id` from `old` to `new`.
pub(crate) async fn sync(
    c: &Clients,
    id: &str,
    old: Option<&Tags>,
    new: Option<&Tags>,
) -> Result<(), ProviderError> {
    let (set, remove) = tags::changes(old, new);
    if !set.is_empty() {
        let mut req = c.ec2.create_tags().resources(id);
        for (k, v) in set {
            req = req.tags(Tag::builder().key(k).value(v).build());
        }
        req.send().await.map_err(aws_on("CreateTags", "tags"))?;
    }
    if !remove.is_empty() {
        let mut req = c.ec2.delete_tags().resources(id);
        for k in remove {
            req = req.tags(Tag::builder().key(k).build());
        }
        req.send().await.map_err(aws_on("DeleteTags", "tags"))?;
    }
    Ok(())
}

/// All tags of the EC2 resource `id` (any kind: EC2 keeps tags by resource id).
pub(crate) async fn of(c: &Clients, id: &str) -> Result<Option<Tags>, ProviderError> {
    let out = c
        .ec2
        .describe_tags()
        .filters(Filter::builder().name("resource-id").values(id).build())
        .send()
        .await
        .map_err(crate::error::aws("DescribeTags"))?;
    Ok(Some(tags::collect(
        out.tags().iter().map(|t| (t.key(), t.value())),
    )))
}

/// Filters matching what Cairn made for `ctx`: its stack and name tags.
pub(crate) fn ours(ctx: &ResourceContext) -> Vec<Filter> {
    vec![
        Filter::builder()
            .name(format!("tag:{}", tags::STACK_TAG))
            .values(&ctx.stack)
            .build(),
        Filter::builder()
            .name(format!("tag:{}", tags::NAME_TAG))
            .values(&ctx.name)
            .build(),
    ]
}

/// The body of `find` for an EC2 resource: the ids of what carries the resource's stack and
/// name tags (applied at creation, in the same call), optionally only those `keep` accepts.
macro_rules! find_tagged {
    ($c:expr, $ctx:expr, $describe:ident, $items:ident, $id:ident, $call:literal) => {
        $crate::ec2::tagging::find_tagged!($c, $ctx, $describe, $items, $id, $call, |_| true)
    };
    ($c:expr, $ctx:expr, $describe:ident, $items:ident, $id:ident, $call:literal, $keep:expr) => {{
        let out = $c
            .ec2
            .$describe()
            .set_filters(Some($crate::ec2::tagging::ours($ctx)))
            .send()
            .await
            .map_err($crate::error::aws($call))?;
        Ok(out
            .$items()
            .iter()
            .filter($keep)
            .filter_map(|x| x.$id().map(str::to_string))
            .collect())
    }};
}
pub(crate) use find_tagged;
