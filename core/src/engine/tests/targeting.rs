//! `--target` and `--exclude`: a command touches only what is in scope, brings along what that
//! needs, and refuses a plan that would leave something out of scope pointing at nothing.

use super::*;
use crate::display::plan_text;

/// a <- b (b refers to a), and c alone; each holds `value`.
fn program(value: &'static str) -> impl Fn(&mut Stack) {
    move |s: &mut Stack| {
        let a = Thing::new(s, "a", thing(value));
        Thing::new(
            s,
            "b",
            ThingArgs {
                refs: refs(&[&a]),
                ..thing(value)
            },
        );
        Thing::new(s, "c", thing(value));
    }
}

fn targeting(targets: &[&str], excludes: &[&str]) -> Targeting {
    Targeting {
        targets: targets.iter().map(|s| s.to_string()).collect(),
        excludes: excludes.iter().map(|s| s.to_string()).collect(),
    }
}

impl Harness {
    fn targeted(&self, f: impl Fn(&mut Stack), t: Targeting) -> Program {
        let mut program = self.declare(f).unwrap();
        program.target(t);
        program
    }

    async fn up_program(&self, program: &Program) -> Execution {
        let session = self.engine.lock("up").unwrap();
        let plan = session.plan(program).await.unwrap();
        let exec = session.apply(program, &plan, 0, &|_| {}).await.unwrap();
        assert!(exec.errors.is_empty(), "{:?}", exec.errors);
        exec
    }

    /// The names with a mutating call since `before` calls were made.
    fn mutated_since(&self, before: usize) -> Vec<String> {
        let mut names: Vec<String> = self.cloud.mutations()[before..]
            .iter()
            .map(|c| c.name.clone())
            .collect();
        names.sort();
        names
    }
}

#[tokio::test]
async fn a_target_applies_it_and_what_it_needs_and_leaves_the_rest_as_recorded() {
    let h = Harness::new();
    h.up(program("1")).await;
    let before = h.cloud.mutations().len();

    let targeted = h.targeted(program("2"), targeting(&["b"], &[]));
    let plan = h.engine.preview(&targeted).await.unwrap();
    assert_eq!(
        Harness::kinds(&plan),
        [
            ("a".to_string(), StepKind::Update),
            ("b".to_string(), StepKind::Update),
            ("c".to_string(), StepKind::Untargeted),
        ]
    );
    let text = plan_text(&plan);
    assert!(
        text.contains("Plan: 2 to update (1 not targeted)"),
        "{text}"
    );
    assert!(
        !text.contains(" c "),
        "what is left out is not listed: {text}"
    );
    h.up_program(&targeted).await;
    assert_eq!(h.mutated_since(before), ["a", "b"]);

    // c's record is as it was: the next plan still updates it, and only it.
    let kinds = Harness::kinds(&h.preview(program("2")).await);
    assert_eq!(kinds[2], ("c".to_string(), StepKind::Update));
    assert!(kinds[..2].iter().all(|(_, k)| *k == StepKind::Same));
}

#[tokio::test]
async fn an_exclusion_leaves_it_and_what_needs_it_alone() {
    let h = Harness::new();
    h.up(program("1")).await;
    let before = h.cloud.mutations().len();
    let excluded = h.targeted(program("2"), targeting(&[], &["a"]));
    h.up_program(&excluded).await;
    assert_eq!(
        h.mutated_since(before),
        ["c"],
        "b needs a: it is left out too"
    );
}

#[tokio::test]
async fn a_create_left_out_is_not_made_and_outputs_it_feeds_stay_unknown() {
    let h = Harness::new();
    let with_new = |s: &mut Stack| {
        program("1")(s);
        let d = Thing::new(s, "d", thing("1"));
        s.export("d_id", d.id());
    };
    h.up(program("1")).await;
    let exec = h
        .up_program(&h.targeted(with_new, targeting(&["c"], &[])))
        .await;
    assert_eq!(h.cloud.names(), ["a", "b", "c"]);
    assert!(exec.outputs.iter().all(|(name, ..)| name != "d_id"));
    let exec = h
        .up_program(&h.targeted(with_new, targeting(&["d"], &[])))
        .await;
    assert_eq!(h.cloud.names(), ["a", "b", "c", "d"]);
    assert!(exec.outputs.iter().any(|(name, ..)| name == "d_id"));
}

#[tokio::test]
async fn a_removed_resource_is_deleted_only_when_targeted() {
    let h = Harness::new();
    h.up(program("1")).await;
    let without_c = |s: &mut Stack| {
        let a = Thing::new(s, "a", thing("1"));
        Thing::new(
            s,
            "b",
            ThingArgs {
                refs: refs(&[&a]),
                ..thing("1")
            },
        );
    };
    let plan = h
        .engine
        .preview(&h.targeted(without_c, targeting(&["a"], &[])))
        .await
        .unwrap();
    assert!(!plan.has_changes(), "c is not targeted: it stays");
    h.up_program(&h.targeted(without_c, targeting(&["c"], &[])))
        .await;
    assert_eq!(h.cloud.names(), ["a", "b"]);
}

#[tokio::test]
async fn replacing_a_target_that_something_left_out_refers_to_is_refused() {
    let h = Harness::new();
    h.up(program("1")).await;
    let mut targeted = h.targeted(program("1"), targeting(&["a"], &[]));
    targeted.replace(&["a".to_string()]).unwrap();
    let err = h.engine.preview(&targeted).await.unwrap_err().to_string();
    assert!(
        err.contains("'a' (test:Thing) would be replaced, but 'b' refers to it")
            && err.contains("target it too"),
        "{err}"
    );
    // With b targeted too, b moves to the new copy before the old one goes.
    let mut targeted = h.targeted(program("1"), targeting(&["a", "b"], &[]));
    targeted.replace(&["a".to_string()]).unwrap();
    h.up_program(&targeted).await;
    assert_eq!(h.cloud.names(), ["a", "b", "c"]);
    assert!(is_noop(&h.preview(program("1")).await));
}

#[tokio::test]
async fn a_targeted_destroy_takes_what_depends_on_the_target_and_an_excluded_one_keeps_what_it_needs()
 {
    let h = Harness::new();
    h.up(program("1")).await;
    let session = h.engine.lock("destroy").unwrap();
    let excluded = h.targeted(|_| {}, targeting(&[], &["b"]));
    let plan = session.plan_destroy(&excluded).unwrap();
    let names: Vec<&str> = plan.steps.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["c"], "b stays, and a with it");

    let targeted = h.targeted(|_| {}, targeting(&["a"], &[]));
    let plan = session.plan_destroy(&targeted).unwrap();
    let names: Vec<&str> = plan.steps.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["b", "a"]);
    let exec = session.destroy(&targeted, &plan, 0, &|_| {}).await.unwrap();
    assert!(exec.errors.is_empty(), "{:?}", exec.errors);
    drop(session);
    assert_eq!(h.cloud.names(), ["c"]);
    let recorded = h.recorded_names();
    assert_eq!(recorded, ["c"]);
}

#[tokio::test]
async fn a_targeted_refresh_reads_only_what_is_in_scope() {
    let h = Harness::new();
    h.up(program("1")).await;
    for r in h.engine.records().unwrap() {
        h.cloud.tamper(&r.id, Some(json!({"value": "changed"})));
    }
    let session = h.engine.lock("refresh").unwrap();
    let (drifts, errors) = session
        .refresh(&h.targeted(program("1"), targeting(&["b"], &[])), 0, false)
        .await
        .unwrap();
    assert!(errors.is_empty(), "{errors:?}");
    let mut names: Vec<String> = drifts.into_iter().map(|d| d.name).collect();
    names.sort();
    assert_eq!(names, ["a", "b"], "b and what it refers to, not c");
}

#[tokio::test]
async fn a_name_neither_declared_nor_recorded_suggests_the_closest() {
    let h = Harness::new();
    h.up(program("1")).await;
    let err = h
        .engine
        .preview(&h.targeted(program("1"), targeting(&["bb"], &["x"])))
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("--target bb") && err.contains("did you mean 'b'?"),
        "{err}"
    );
    assert!(err.contains("--exclude x"), "{err}");
}
