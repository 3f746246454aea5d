//! Lookups: read at plan time (or during `up` when their arguments come from resources the run
//! makes), their outputs used like a resource's, and never created, changed, deleted or
//! recorded.

use std::sync::Mutex;

use super::*;
use crate::testing::thing_named;

/// `user` refers to what `found` is (by its id).
fn user_of(s: &mut Stack, found_id: Output<String>) {
    Thing::new(
        s,
        "user",
        ThingArgs {
            refs: Some(Output::all([found_id])),
            ..thing("1")
        },
    );
}

#[tokio::test]
async fn a_lookup_is_read_at_plan_time_and_its_outputs_are_known_to_the_plan() {
    let h = Harness::new();
    let shared = h.cloud.make_unmanaged("shared", "v1");
    let id = shared.clone();
    let plan = h
        .preview(move |s| {
            let found = Thing::get(s, "shared", id.as_str());
            user_of(s, found.id());
        })
        .await;
    let read = &plan.steps[0];
    assert_eq!(read.kind(), StepKind::Read);
    assert!(!read.reads_during_apply());
    let user = &plan.steps[1];
    assert_eq!(user.kind(), StepKind::Create);
    assert_eq!(user.inputs["refs"].value, Some(json!([shared])));
    let text = crate::display::plan_text_styled(&plan, false);
    assert!(text.contains(">  read     shared (test:Thing)"), "{text}");
    assert!(text.contains("Plan: 1 to create (1 read)"), "{text}");
}

#[tokio::test]
async fn up_reads_a_lookup_and_records_only_what_it_manages() {
    let h = Harness::new();
    let shared = h.cloud.make_unmanaged("shared", "v1");
    let id = shared.clone();
    let exec = h
        .up(move |s| {
            let found = Thing::get(s, "shared", id.as_str());
            user_of(s, found.id());
        })
        .await;
    assert!(exec.errors.is_empty(), "{:?}", exec.errors);
    let names = h.recorded_names();
    assert_eq!(names, ["user"]);
    let mutations: Vec<(&str, String)> = h
        .cloud
        .mutations()
        .into_iter()
        .map(|c| (c.op, c.name))
        .collect();
    assert_eq!(mutations, [("create", "user".to_string())]);
    let user = h
        .cloud
        .cloud()
        .into_values()
        .find(|(n, _)| n == "user")
        .unwrap();
    assert_eq!(user.1["refs"], json!([shared]));
}

#[tokio::test]
async fn a_lookup_dropped_from_the_program_deletes_nothing() {
    let h = Harness::new();
    let shared = h.cloud.make_unmanaged("shared", "v1");
    let id = shared.clone();
    h.up(move |s| {
        let found = Thing::get(s, "shared", id.as_str());
        user_of(s, found.id());
    })
    .await;
    let id = shared.clone();
    let exec = h.up(move |s| user_of(s, Output::new(id))).await;
    assert!(exec.errors.is_empty(), "{:?}", exec.errors);
    assert!(h.cloud.cloud().contains_key(&shared));
    assert!(h.cloud.calls().iter().all(|c| c.op != "delete"));
}

#[tokio::test]
async fn a_lookup_whose_arguments_come_from_a_resource_to_be_made_is_read_during_up() {
    let h = Harness::new();
    let program = |s: &mut Stack| {
        let a = Thing::new(s, "a", thing("1"));
        let again = Thing::get(s, "a-again", a.id());
        Thing::new(
            s,
            "b",
            ThingArgs {
                refs: Some(Output::all([again.id()])),
                ..thing("2")
            },
        );
    };
    let plan = h.preview(program).await;
    assert!(plan.steps[1].reads_during_apply());
    let text = crate::display::plan_text_styled(&plan, false);
    assert!(
        text.contains("a-again (test:Thing)  [read during up: its arguments are not known yet]"),
        "{text}"
    );
    let events = Mutex::new(Vec::new());
    let program = h.declare(program).unwrap();
    let session = h.engine.lock("up").unwrap();
    let plan = session.plan(&program).await.unwrap();
    let exec = session
        .apply(&program, &plan, 0, &|e| {
            events.lock().unwrap().push((e.name.clone(), e.action))
        })
        .await
        .unwrap();
    assert!(exec.errors.is_empty(), "{:?}", exec.errors);
    assert!(
        events
            .lock()
            .unwrap()
            .contains(&("a-again".to_string(), Action::Read))
    );
    // Read once `a` exists, and `b` made once it was read.
    let (create_a, lookup, create_b) = (
        h.call("create", "a"),
        h.call("lookup", "a-again"),
        h.call("create", "b"),
    );
    assert!(create_a.end < lookup.start && lookup.end < create_b.start);
    let a_id = h
        .engine
        .records()
        .unwrap()
        .into_iter()
        .find(|r| r.name == "a")
        .unwrap()
        .id;
    let b = h
        .cloud
        .cloud()
        .into_values()
        .find(|(n, _)| n == "b")
        .unwrap();
    assert_eq!(b.1["refs"], json!([a_id]));
}

#[tokio::test]
async fn a_lookup_of_what_another_lookup_found_is_read_at_plan_time_too() {
    let h = Harness::new();
    let shared = h.cloud.make_unmanaged("shared", "v1");
    let plan = h
        .preview(|s| {
            let by_name = thing_named(s, "by-name", "shared");
            let by_id = Thing::get(s, "by-id", by_name.output::<String>("id"));
            user_of(s, by_id.id());
        })
        .await;
    assert!(plan.steps[..2].iter().all(|s| s.kind() == StepKind::Read));
    assert!(!plan.steps[1].reads_during_apply());
    assert_eq!(plan.steps[2].inputs["refs"].value, Some(json!([shared])));
}

#[tokio::test]
async fn a_lookup_that_finds_nothing_stops_the_plan_naming_it() {
    let h = Harness::new();
    let program = h
        .declare(|s| {
            let found = Thing::get(s, "missing", "thing-404");
            user_of(s, found.id());
        })
        .unwrap();
    let err = h.engine.preview(&program).await.unwrap_err();
    let EngineError::Plan(errors) = err else {
        panic!("not a plan error: {err}");
    };
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        errors[0].starts_with("lookup 'missing' (test:Thing): nothing matches"),
        "{errors:?}"
    );
    assert!(h.cloud.mutations().is_empty());
}

#[tokio::test]
async fn a_lookup_may_not_take_the_name_of_a_resource_the_stack_manages() {
    let h = Harness::new();
    h.up(|s| {
        Thing::new(s, "x", thing("1"));
    })
    .await;
    let id = h.recorded_ids().remove(0);
    let program = h
        .declare(move |s| {
            Thing::get(s, "x", id.as_str());
        })
        .unwrap();
    let err = h.engine.preview(&program).await.unwrap_err().to_string();
    assert!(
        err.contains("lookup 'x' (test:Thing) has the name of a resource the stack manages"),
        "{err}"
    );
    assert_eq!(h.recorded_ids().len(), 1);
}

#[test]
fn options_that_only_make_sense_for_managed_resources_are_refused_on_a_lookup() {
    let h = Harness::new_plain();
    let err = h
        .declare(|s| {
            Thing::get_with(s, "x", "id-1", ResourceOptions::default().protect(true));
        })
        .err()
        .expect("a protected lookup is refused");
    let EngineError::Program(errors) = err else {
        panic!("not a program error: {err}");
    };
    assert!(errors[0].contains("lookup 'x' (test:Thing)"), "{errors:?}");
    assert!(
        errors[0].contains("`protect` applies to resources the stack manages"),
        "{errors:?}"
    );
}

#[tokio::test]
async fn what_a_lookup_reads_is_compared_as_read_not_as_unknown() {
    let h = Harness::new();
    let shared = h.cloud.make_unmanaged("shared", "v1");
    // `u`'s key (which forces a replacement) comes from the lookup, and `t` refers to `u`:
    // planned with the key unknown, `u` would be replaced deleting first (its name is kept)
    // while `t` still uses it, which the plan refuses.
    let program = move |s: &mut Stack| {
        let found = Thing::get(s, "shared", shared.as_str());
        let u = Unique::new(
            s,
            "u",
            UniqueArgs {
                name: Some("fixed".into()),
                key: Some(found.id()),
                ..unique("1")
            },
        );
        Thing::new(
            s,
            "t",
            ThingArgs {
                refs: Some(Output::all([u.id()])),
                ..thing("1")
            },
        );
    };
    let exec = h.up(program.clone()).await;
    assert!(exec.errors.is_empty(), "{:?}", exec.errors);
    let plan = h.preview(program).await;
    assert_eq!(
        Harness::kinds(&plan),
        [
            ("shared".to_string(), StepKind::Read),
            ("u".to_string(), StepKind::Same),
            ("t".to_string(), StepKind::Same)
        ]
    );
}
