//! Tag diffs and the user's part of tags read back.

use super::*;

fn tags(pairs: &[(&str, &str)]) -> Tags {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn changes_set_what_is_new_or_different_and_remove_what_is_gone() {
    let old = tags(&[("a", "1"), ("b", "2"), ("c", "3")]);
    let new = tags(&[("a", "1"), ("b", "20"), ("d", "4")]);
    let (set, remove) = changes(Some(&old), Some(&new));
    assert_eq!(set, tags(&[("b", "20"), ("d", "4")]));
    assert_eq!(remove, vec!["c".to_string()]);
    assert_eq!(changes(None, None), (Tags::new(), vec![]));
    assert_eq!(changes(Some(&old), None).1.len(), 3);
}

#[test]
fn the_user_part_leaves_cairns_tags_out_and_absent_stays_absent() {
    let read = tags(&[
        ("cairn:stack", "dev"),
        ("cairn:name", "vpc"),
        ("env", "dev"),
    ]);
    assert_eq!(user_part(read.clone(), None), Some(tags(&[("env", "dev")])));
    let only_cairns = tags(&[("cairn:stack", "dev")]);
    assert_eq!(user_part(only_cairns.clone(), None), None);
    assert_eq!(
        user_part(only_cairns, Some(&Tags::new())),
        Some(Tags::new())
    );
}

#[test]
fn cairns_tags_are_added_to_the_users() {
    let ctx = cairn::ResourceContext {
        stack: "dev".into(),
        name: "vpc".into(),
        ty: "aws:ec2/Vpc".into(),
    };
    let all = with_cairn(&ctx, Some(&tags(&[("env", "dev")])));
    assert_eq!(
        all,
        tags(&[
            ("cairn:name", "vpc"),
            ("cairn:stack", "dev"),
            ("env", "dev")
        ])
    );
}
