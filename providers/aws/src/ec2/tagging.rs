//! EC2's tag specifications at creation, and finding what carries a resource's tags (reading
//! and changing tags after creation is `crate::tagging`).

use aws_sdk_ec2::types::{Filter, ResourceType, Tag, TagSpecification};
use cairn::ResourceContext;

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
