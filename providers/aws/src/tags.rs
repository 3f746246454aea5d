//! Tags: the user's, plus the two Cairn puts on every taggable resource so that an orphan can
//! be traced to its stack and name (and an interrupted create found again).

use crate::Tags;
use cairn::ResourceContext;

pub(crate) const STACK_TAG: &str = "cairn:stack";
pub(crate) const NAME_TAG: &str = "cairn:name";

/// The tags to apply: the user's and Cairn's.
pub(crate) fn with_cairn(ctx: &ResourceContext, user: Option<&Tags>) -> Tags {
    let mut t = user.cloned().unwrap_or_default();
    t.insert(STACK_TAG.into(), ctx.stack.clone());
    t.insert(NAME_TAG.into(), ctx.name.clone());
    t
}

/// Tags as an SDK lists them (a key and a value, each maybe absent), as `Tags`.
pub(crate) fn collect<'a>(
    pairs: impl IntoIterator<Item = (Option<&'a str>, Option<&'a str>)>,
) -> Tags {
    pairs
        .into_iter()
        .filter_map(|(k, v)| Some((k?.to_string(), v.unwrap_or_default().to_string())))
        .collect()
}

/// The user's part of tags read back, shaped like the recorded input (absent stays absent).
pub(crate) fn user_part(
    observed: impl IntoIterator<Item = (String, String)>,
    recorded: Option<&Tags>,
) -> Option<Tags> {
    let t: Tags = observed
        .into_iter()
        .filter(|(k, _)| !k.starts_with("cairn:"))
        .collect();
    if t.is_empty() && recorded.is_none() {
        None
    } else {
        Some(t)
    }
}

/// Tags to add or change, and keys to remove, going from `old` to `new` (user tags only).
pub(crate) fn changes(old: Option<&Tags>, new: Option<&Tags>) -> (Tags, Vec<String>) {
    let empty = Tags::new();
    let (old, new) = (old.unwrap_or(&empty), new.unwrap_or(&empty));
    let set = new
        .iter()
        .filter(|(k, v)| old.get(*k) != Some(*v))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let remove = old
        .keys()
        .filter(|k| !new.contains_key(*k))
        .cloned()
        .collect();
    (set, remove)
}

#[cfg(test)]
mod tests;
