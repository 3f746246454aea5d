//! Walks the registry: every type is reachable by its token, names only real properties in
//! its schema, and reads back the inputs a real run recorded (`inputs.json`, from the state of
//! the test programs against moto) exactly as they were written.

use std::collections::BTreeSet;

use serde_json::Value;

use super::*;

fn recorded() -> serde_json::Map<String, Value> {
    match serde_json::from_str(include_str!("inputs.json")).unwrap() {
        Value::Object(m) => m,
        _ => panic!("inputs.json is an object of type token to inputs"),
    }
}

#[test]
fn tokens_are_unique_and_each_finds_its_type() {
    let mut seen = BTreeSet::new();
    for h in all() {
        assert!(seen.insert(h.token()), "{} is registered twice", h.token());
        let (package, rest) = h.token().split_once(':').unwrap();
        assert_eq!(package, "aws", "{}", h.token());
        assert!(rest.contains('/'), "{}: not `aws:module/Type`", h.token());
        assert_eq!(handler(h.token()).unwrap().token(), h.token());
    }
    assert!(handler("aws:ec2/Vpcs").is_none());
}

#[test]
fn every_schema_entry_names_an_input_property() {
    for h in all() {
        let inputs = h.inputs();
        let schema = h.schema();
        let named = schema
            .replace_on_changes
            .iter()
            .chain(schema.unordered)
            .chain(schema.secret)
            .chain(
                schema
                    .unique
                    .iter()
                    .flat_map(|u| u.key.iter().chain(u.within)),
            );
        for p in named {
            assert!(inputs.contains(p), "{}: '{p}' is not an input", h.token());
        }
        for (name, _) in schema.auto_named() {
            assert!(
                inputs.contains(&name),
                "{}: '{name}' is not an input",
                h.token()
            );
        }
        assert_eq!(
            h.taggable(),
            inputs.contains(&"tags"),
            "{}: a `tags` input and a tag family go together",
            h.token()
        );
        assert!(!h.outputs().is_empty(), "{}: no outputs", h.token());
    }
}

#[test]
fn recorded_inputs_round_trip_through_every_type() {
    let recorded = recorded();
    for h in all() {
        let inputs = recorded
            .get(h.token())
            .unwrap_or_else(|| panic!("{}: no recorded inputs in inputs.json", h.token()));
        assert_eq!(&h.round_trip(inputs).unwrap(), inputs, "{}", h.token());
        for key in inputs.as_object().unwrap().keys() {
            assert!(h.inputs().contains(&key.as_str()), "{}: {key}", h.token());
        }
    }
    assert_eq!(
        recorded.len(),
        all().len(),
        "inputs.json has types not registered"
    );
}

#[test]
fn inputs_that_do_not_fit_the_type_are_invalid_and_say_where() {
    let vpc = handler("aws:ec2/Vpc").unwrap();
    let e = vpc
        .round_trip(&serde_json::json!({ "cidr_block": 10 }))
        .unwrap_err();
    assert_eq!(e.kind, cairn::ErrorKind::Invalid);
    assert!(e.message.contains("aws:ec2/Vpc"), "{}", e.message);
    let rule = handler("aws:ec2/SecurityGroupRule").unwrap();
    let mut inputs = recorded()["aws:ec2/SecurityGroupRule"].clone();
    inputs["direction"] = "egres".into();
    let e = rule.round_trip(&inputs).unwrap_err();
    assert!(e.message.contains("egres"), "{}", e.message);
}
