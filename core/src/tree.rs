//! Components as a tree, for what a person reads (the plan, the live frame of a run): rows
//! grouped under the components their resources' names carry (`network/private/subnet`), in
//! the order the components first appear, each component's name once above its rows.

use std::fmt::Write as _;

/// The component path of a resource name (`network/private` of `network/private/subnet`).
pub(crate) fn component(name: &str) -> &str {
    name.rsplit_once('/').map_or("", |(c, _)| c)
}

/// The name without its components.
pub(crate) fn short(name: &str) -> &str {
    name.rsplit_once('/').map_or(name, |(_, n)| n)
}

/// The component paths of a name, outermost first (`network`, `network/private`).
fn prefixes(name: &str) -> impl Iterator<Item = &str> {
    let component = component(name);
    component
        .match_indices('/')
        .map(|(i, _)| &component[..i])
        .chain((!component.is_empty()).then_some(component))
}

/// Orders `rows` (already in their own order) so that each component's come together, and
/// a component inside another comes inside it; resources outside any component first.
pub(crate) fn group<T>(rows: &mut [T], name: impl Fn(&T) -> &str) {
    let mut order: Vec<String> = Vec::new();
    for r in rows.iter() {
        for p in prefixes(name(r)) {
            if !order.iter().any(|o| o == p) {
                order.push(p.to_string());
            }
        }
    }
    let position = |p: &str| order.iter().position(|o| o == p).unwrap_or(0);
    rows.sort_by_cached_key(|r| prefixes(name(r)).map(position).collect::<Vec<_>>());
}

/// Writes the headers of the components of `name` not open yet, and returns the indent of
/// its row.
pub(crate) fn enter(out: &mut String, open: &mut Vec<String>, name: &str) -> String {
    let path: Vec<String> = component(name)
        .split('/')
        .filter(|p| !p.is_empty())
        .map(str::to_string)
        .collect();
    let common = open.iter().zip(&path).take_while(|(a, b)| a == b).count();
    for (depth, part) in path.iter().enumerate().skip(common) {
        let _ = writeln!(out, "  {}{part}/", "  ".repeat(depth));
    }
    *open = path;
    "  ".repeat(open.len())
}
