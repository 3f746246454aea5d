//! Unit tests of `Output`: evaluation, unknowns and secret propagation.

use std::collections::HashMap;

use serde_json::{Value, json};

use super::*;

struct Map(HashMap<usize, Value>);

impl Resolve for Map {
    fn outputs(&self, r: ResourceIdx) -> Option<&Value> {
        self.0.get(&r.0)
    }
    fn name(&self, r: ResourceIdx) -> &str {
        if r.0 == 0 { "vpc" } else { "other" }
    }
}

fn known() -> Map {
    Map(HashMap::from([(0, json!({"id": "vpc-1", "n": 3}))]))
}

fn empty() -> Map {
    Map(HashMap::new())
}

#[test]
fn resource_outputs_are_unknown_until_the_resource_exists() {
    let id: Output<String> = Output::of_resource(ResourceIdx(0), "id");
    assert_eq!(id.evaluate(&empty()).value, Eval::Unknown);
    assert_eq!(
        id.evaluate(&known()).value,
        Eval::Known("vpc-1".to_string())
    );
    assert_eq!(id.dependencies().collect::<Vec<_>>(), vec![ResourceIdx(0)]);
}

#[test]
fn map_runs_only_on_known_values() {
    let id: Output<String> = Output::of_resource(ResourceIdx(0), "id");
    let upper = id.map(|s| s.to_uppercase());
    assert_eq!(upper.evaluate(&empty()).value, Eval::Unknown);
    assert_eq!(upper.evaluate(&known()).value, Eval::Known("VPC-1".into()));
}

#[test]
fn wrong_output_type_fails_with_the_resource_and_field() {
    let n: Output<String> = Output::of_resource(ResourceIdx(0), "n");
    match n.evaluate(&known()).value {
        Eval::Failed(e) => assert!(e.contains("'n'") && e.contains("'vpc'"), "{e}"),
        v => panic!("expected failure, got {v:?}"),
    }
}

#[test]
fn secrecy_propagates_through_map_zip_and_all() {
    let secret = Output::secret_value("hunter2".to_string());
    let plain = Output::new(1);
    assert!(secret.map(|s| s.len()).evaluate(&empty()).secret);
    assert!(plain.zip(&secret).evaluate(&empty()).secret);
    assert!(!plain.zip(&plain).evaluate(&empty()).secret);
    let all = Output::all([Output::new("a".to_string()), secret.clone()]);
    let r = all.evaluate(&empty());
    assert!(r.secret);
    assert_eq!(r.value, Eval::Known(vec!["a".into(), "hunter2".into()]));
    assert!(secret.erase().evaluate(&empty()).secret);
}

#[test]
fn zip_is_unknown_if_either_side_is_and_unions_dependencies() {
    let id: Output<String> = Output::of_resource(ResourceIdx(0), "id");
    let other: Output<String> = Output::of_resource(ResourceIdx(1), "id");
    let z = id.zip(&Output::new(2));
    assert_eq!(z.evaluate(&empty()).value, Eval::Unknown);
    assert_eq!(z.evaluate(&known()).value, Eval::Known(("vpc-1".into(), 2)));
    let deps: Vec<_> = id.zip(&other).dependencies().collect();
    assert_eq!(deps, vec![ResourceIdx(0), ResourceIdx(1)]);
}

#[test]
fn default_is_a_missing_required_property() {
    let o: Output<String> = Output::default();
    assert!(matches!(o.evaluate(&empty()).value, Eval::Failed(_)));
}
