//! The one masking step between what a provider reads and what the engine compares.

use serde_json::json;

use super::*;

const SCHEMA: TypeSchema = TypeSchema {
    replace_on_changes: &[],
    unique: &[],
    unordered: &["subnets"],
    secret: &[],
    readiness: Readiness::AtCreate,
};

#[test]
fn only_declared_properties_are_kept() {
    let read = json!({ "cidr": "10.0.0.0/16", "dns": true, "tags": { "a": "1", "b": "2" } });
    let declared = json!({ "cidr": "10.0.0.0/16", "tags": { "a": "1" }, "dns": null });
    // `dns` was left unset (null) and is AWS's default: not compared. Tags were declared, so
    // the extra one the cloud has is kept, to be seen as drift.
    assert_eq!(
        mask(read, &declared, &SCHEMA),
        json!({ "cidr": "10.0.0.0/16", "tags": { "a": "1", "b": "2" } })
    );
}

#[test]
fn unordered_lists_keep_the_declared_order_when_their_members_match() {
    let declared = json!({ "subnets": ["a", "b", "c"], "order": ["a", "b"] });
    let read = json!({ "subnets": ["c", "a", "b"], "order": ["b", "a"] });
    assert_eq!(
        mask(read, &declared, &SCHEMA),
        json!({ "subnets": ["a", "b", "c"], "order": ["b", "a"] })
    );
    let changed = json!({ "subnets": ["c", "a", "d"] });
    assert_eq!(mask(changed.clone(), &declared, &SCHEMA), changed);
}

#[test]
fn same_members_counts_repeats_and_compares_anything_else_as_is() {
    assert!(same_members(&json!([1, 2, 2]), &json!([2, 1, 2])));
    assert!(!same_members(&json!([1, 2, 2]), &json!([1, 1, 2])));
    assert!(same_members(&json!("x"), &json!("x")));
    assert!(!same_members(&json!(["x"]), &json!("x")));
}
