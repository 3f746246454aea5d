//! Replacements that must not hurt the cloud: a delete-first replacement deletes only once its
//! new copy can be made, unique names decide which replacements delete first, Cairn names what
//! the program leaves unnamed, and a failed run counts everything it did. Ends with a property
//! test over random programs, changes and failures.

use std::collections::BTreeSet;

use proptest::prelude::*;

use super::*;
use crate::display::plan_text;

/// `net` <- `sg` <- `rule`, as in a VPC, a security group and one of its rules: the rule's key
/// holds the group's id (so a new group forces a new rule) and it refers to the group (so the
/// group cannot be deleted under it).
fn group_and_rule(
    sg_name: Option<&'static str>,
    sg_key: &'static str,
    net: &'static str,
) -> impl FnOnce(&mut Stack) {
    move |s: &mut Stack| {
        let net = Thing::new(s, "net", thing(net));
        let sg = Unique::new(
            s,
            "sg",
            UniqueArgs {
                key: Some(sg_key.into()),
                name: sg_name.map(Into::into),
                refs: Some(Output::all([net.id()])),
                ..unique("group")
            },
        );
        Thing::new(
            s,
            "rule",
            ThingArgs {
                key: Some(sg.id().map(|id| format!("port-80-on-{id}"))),
                refs: Some(Output::all([sg.id()])),
                ..thing("port 80")
            },
        );
    }
}

fn count(exec: &Execution, what: &str) -> usize {
    exec.counts.get(what).copied().unwrap_or(0)
}

#[tokio::test]
async fn a_failed_create_first_replacement_leaves_the_old_copy_and_its_dependents_alone() {
    let h = Harness::new();
    h.up(group_and_rule(None, "k1", "10")).await;
    let before = h.cloud.cloud();
    let plan = h.preview(group_and_rule(None, "k2", "10")).await;
    assert!(
        plan.steps.iter().all(|s| !s.deletes_first()),
        "{}",
        plan_text(&plan)
    );

    h.cloud.fail("sg", "create", "InvalidGroup.Duplicate");
    let exec = h.up(group_and_rule(None, "k2", "10")).await;
    assert_eq!(exec.errors.len(), 1);
    assert_eq!(h.cloud.cloud(), before, "nothing was deleted");
    assert_eq!(count(&exec, "failed"), 1);
    assert_eq!(count(&exec, "deleted"), 0);
    assert!(exec.missing.is_empty());
}

#[tokio::test]
async fn a_delete_first_replacement_waits_for_everything_its_new_copy_needs() {
    let h = Harness::new();
    h.up(group_and_rule(Some("web"), "k1", "10")).await;
    let before = h.cloud.cloud();
    let plan = h.preview(group_and_rule(Some("web"), "k2", "11")).await;
    let why = |name: &str| {
        plan.steps
            .iter()
            .find(|s| s.name == name)
            .and_then(|s| s.delete_first().cloned())
            .map(|w| w.to_string())
    };
    assert_eq!(why("sg").as_deref(), Some("the name 'web' is fixed"));
    assert_eq!(
        why("rule").as_deref(),
        Some("it refers to 'sg', which is deleted first")
    );

    // The update the new group needs fails: neither the rule nor the group is touched.
    h.cloud.fail("net", "update", "throttled for good");
    let exec = h.up(group_and_rule(Some("web"), "k2", "11")).await;
    assert_eq!(exec.errors.len(), 1, "{:?}", exec.errors);
    assert_eq!(h.cloud.cloud(), before);
    assert!(h.cloud.mutations().iter().all(|c| c.op != "delete"));
    assert_eq!(count(&exec, "deleted"), 0);

    // Without the failure, the deletes run after the update, right before the creates.
    h.cloud.clear_failures();
    h.cloud.clear_calls();
    let exec = h.up(group_and_rule(Some("web"), "k2", "11")).await;
    assert!(exec.errors.is_empty(), "{:?}", exec.errors);
    let update_net = h.call("update", "net");
    let (delete_rule, delete_sg) = (h.call("delete", "rule"), h.call("delete", "sg"));
    let (create_sg, create_rule) = (h.call("create", "sg"), h.call("create", "rule"));
    assert!(update_net.end < delete_rule.start);
    assert!(delete_rule.end < delete_sg.start);
    assert!(delete_sg.end < create_sg.start);
    assert!(create_sg.end < create_rule.start);
    assert_eq!(count(&exec, "replaced"), 2);
    assert_eq!(count(&exec, "deleted"), 0);
}

#[tokio::test]
async fn a_delete_first_replacement_whose_create_fails_counts_the_deletes_and_converges() {
    let h = Harness::new();
    h.up(group_and_rule(Some("web"), "k1", "10")).await;
    h.cloud.fail("sg", "create", "quota exceeded");
    let exec = h.up(group_and_rule(Some("web"), "k2", "10")).await;
    assert_eq!(exec.errors.len(), 1);
    assert_eq!(count(&exec, "deleted"), 2, "{:?}", exec.counts);
    assert_eq!(count(&exec, "failed"), 1);
    assert_eq!(exec.missing, vec!["sg".to_string(), "rule".to_string()]);
    assert_eq!(h.cloud.names(), vec!["net"]);
    let history = h.engine.store.history("dev").unwrap();
    let last = history.first().unwrap();
    assert_eq!(last.result.as_deref(), Some("failed"));
    assert_eq!(last.summary["counts"]["deleted"], 2);
    assert_eq!(last.summary["counts"]["failed"], 1);
    assert_eq!(last.summary["missing"], json!(["sg", "rule"]));

    // The next up creates what is missing, and nothing else.
    h.cloud.clear_failures();
    h.cloud.clear_calls();
    let exec = h.up(group_and_rule(Some("web"), "k2", "10")).await;
    assert!(exec.errors.is_empty(), "{:?}", exec.errors);
    assert_eq!(count(&exec, "created"), 2);
    assert_eq!(h.cloud.names(), vec!["net", "rule", "sg"]);
    assert!(h.cloud.mutations().iter().all(|c| c.op == "create"));
}

#[tokio::test]
async fn cairn_names_what_the_program_leaves_unnamed_and_renames_on_replacement() {
    let h = Harness::new();
    h.up(group_and_rule(None, "k1", "10")).await;
    let name_of = |h: &Harness| {
        let rec = h.engine.records().unwrap();
        let sg = rec.iter().find(|r| r.name == "sg").unwrap();
        sg.inputs["name"].as_str().unwrap().to_string()
    };
    let first = name_of(&h);
    assert!(first.starts_with("sg-") && first.len() == 10, "{first}");

    // Kept while nothing forces a replacement.
    assert!(
        !h.preview(group_and_rule(None, "k1", "10"))
            .await
            .has_changes()
    );
    let plan = h.preview(group_and_rule(None, "k2", "10")).await;
    let sg = plan.steps.iter().find(|s| s.name == "sg").unwrap();
    assert_eq!(sg.kind(), StepKind::Replace);
    assert!(!sg.deletes_first());
    assert!(
        sg.diffs
            .iter()
            .any(|d| d.property == "name" && d.new_name && !d.forces_replacement)
    );

    h.cloud.clear_calls();
    let exec = h.up(group_and_rule(None, "k2", "10")).await;
    assert!(exec.errors.is_empty(), "{:?}", exec.errors);
    assert!(h.call("create", "sg").end < h.call("delete", "sg").start);
    let second = name_of(&h);
    assert_ne!(first, second);
    assert_eq!(h.cloud.names(), vec!["net", "rule", "sg"]);
}

/// `p`, and `u` named from `p`'s output (so its name is unknown while `p` is replaced), with
/// `user` referring to `u` when `used`.
fn name_known_at_apply(key: &'static str, used: bool) -> impl FnOnce(&mut Stack) {
    move |s: &mut Stack| {
        let p = Thing::new(
            s,
            "p",
            ThingArgs {
                key: Some(key.into()),
                ..thing("1")
            },
        );
        let u = Unique::new(
            s,
            "u",
            UniqueArgs {
                key: Some(key.into()),
                name: Some(p.id().map(|_| "web".to_string())),
                ..unique("1")
            },
        );
        if used {
            Thing::new(
                s,
                "user",
                ThingArgs {
                    refs: Some(Output::all([u.id()])),
                    ..thing("1")
                },
            );
        }
    }
}

#[tokio::test]
async fn a_name_that_turns_out_kept_at_apply_is_deleted_just_before_its_create() {
    let h = Harness::new();
    h.up(name_known_at_apply("k1", false)).await;
    let plan = h.preview(name_known_at_apply("k2", false)).await;
    let u = plan.steps.iter().find(|s| s.name == "u").unwrap();
    assert!(!u.deletes_first());
    assert_eq!(u.may_delete_first(), Some(&["name".to_string()][..]));
    assert!(
        plan_text(&plan).contains("[delete before replace if name still collides once known]"),
        "{}",
        plan_text(&plan)
    );
    h.cloud.clear_calls();
    let exec = h.up(name_known_at_apply("k2", false)).await;
    assert!(exec.errors.is_empty(), "{:?}", exec.errors);
    assert!(h.call("create", "p").end < h.call("delete", "u").start);
    assert!(h.call("delete", "u").end < h.call("create", "u").start);
    assert_eq!(count(&exec, "replaced"), 2);
    assert_eq!(h.cloud.names(), vec!["p", "u"]);
}

#[tokio::test]
async fn a_name_that_turns_out_kept_while_in_use_changes_nothing_of_it() {
    let h = Harness::new();
    h.up(name_known_at_apply("k1", true)).await;
    let ids_of_u = |h: &Harness| -> Vec<String> {
        let cloud = h.cloud.cloud().into_iter();
        cloud
            .filter(|(_, (n, _))| n == "u")
            .map(|(id, _)| id)
            .collect()
    };
    let u_before = ids_of_u(&h);
    h.cloud.clear_calls();
    let exec = h.up(name_known_at_apply("k2", true)).await;
    assert_eq!(exec.errors.len(), 1, "{:?}", exec.errors);
    let e = exec.errors[0].to_string();
    assert!(
        e.contains("'user' still refers to the old copy; nothing was changed"),
        "{e}"
    );
    assert_eq!(ids_of_u(&h), u_before);
    assert!(h.cloud.mutations().iter().all(|c| c.name != "u"));
}

#[tokio::test]
async fn a_fixed_name_in_a_new_scope_creates_first() {
    let h = Harness::new();
    let named = |zone: &'static str| {
        move |s: &mut Stack| {
            Unique::new(
                s,
                "u",
                UniqueArgs {
                    name: Some("web".into()),
                    zone: Some(zone.into()),
                    ..unique("1")
                },
            );
        }
    };
    h.up(named("a")).await;
    let plan = h.preview(named("b")).await;
    assert_eq!(plan.steps[0].kind(), StepKind::Replace);
    assert!(!plan.steps[0].deletes_first());
    h.cloud.clear_calls();
    assert!(h.up(named("b")).await.errors.is_empty());
    assert!(h.call("create", "u").end < h.call("delete", "u").start);
}

#[tokio::test]
async fn a_delete_first_replacement_still_in_use_is_refused_at_plan() {
    let h = Harness::new();
    let program = |key: &'static str| {
        move |s: &mut Stack| {
            let u = Unique::new(
                s,
                "tg",
                UniqueArgs {
                    key: Some(key.into()),
                    name: Some("web".into()),
                    ..unique("1")
                },
            );
            // Refers to it through a property updated in place.
            Thing::new(
                s,
                "listener",
                ThingArgs {
                    refs: Some(Output::all([u.id()])),
                    ..thing("2")
                },
            );
        }
    };
    h.up(program("k1")).await;
    h.cloud.clear_calls();
    let err = h
        .engine
        .preview(&h.declare(program("k2")).unwrap())
        .await
        .err()
        .unwrap()
        .to_string();
    assert!(
        err.contains(
            "resource 'tg' (test:Unique) would be replaced by deleting it first (the name 'web' \
             is fixed), but 'listener' still refers to it"
        ) && err.contains("leave `name` unset"),
        "{err}"
    );
    assert!(h.cloud.calls().is_empty());
}

#[tokio::test]
async fn two_resources_asking_for_one_unique_name_is_a_plan_error() {
    let h = Harness::new();
    let err = h
        .engine
        .preview(
            &h.declare(|s| {
                for n in ["a", "b"] {
                    Unique::new(
                        s,
                        n,
                        UniqueArgs {
                            name: Some("web".into()),
                            ..unique("1")
                        },
                    );
                }
            })
            .unwrap(),
        )
        .await
        .err()
        .unwrap()
        .to_string();
    assert!(
        err.contains("resources 'a' and 'b' (test:Unique) both ask for the name 'web'"),
        "{err}"
    );
}

/// One resource of a random program.
#[derive(Debug, Clone)]
struct Spec {
    /// `None`: a `Thing`; `Some(fixed)`: a `Unique`, named by the program when `fixed`.
    unique: Option<bool>,
    key: u8,
    value: u8,
    zone: u8,
    /// An earlier resource it refers to, and whether its key follows the parent's id (so a
    /// new parent forces a new copy of it, as a security group rule's group does).
    parent: Option<(usize, bool)>,
}

fn declare_specs(specs: Vec<Spec>) -> impl FnOnce(&mut Stack) {
    move |s: &mut Stack| {
        let mut ids: Vec<Output<String>> = Vec::new();
        for (i, spec) in specs.iter().enumerate() {
            let name = format!("r{i}");
            let key = match spec.parent {
                Some((p, true)) => {
                    let k = spec.key;
                    Some(ids[p].clone().map(move |id| format!("{k}-{id}")))
                }
                _ => Some(spec.key.to_string().into()),
            };
            let value = Some(spec.value.to_string().into());
            let refs = spec.parent.map(|(p, _)| Output::all([ids[p].clone()]));
            let id = match spec.unique {
                None => Thing::new(
                    s,
                    &name,
                    ThingArgs {
                        key,
                        value,
                        refs,
                        ..Default::default()
                    },
                )
                .id(),
                Some(fixed) => Unique::new(
                    s,
                    &name,
                    UniqueArgs {
                        name: fixed.then(|| format!("n{i}").into()),
                        zone: Some(spec.zone.to_string().into()),
                        key,
                        value,
                        refs,
                    },
                )
                .id(),
            };
            ids.push(id);
        }
    }
}

fn specs() -> impl Strategy<Value = Vec<Spec>> {
    (2usize..7).prop_flat_map(|n| {
        (0..n)
            .map(|i| {
                let parent = if i == 0 {
                    Just(None).boxed()
                } else {
                    proptest::option::of((0..i, any::<bool>())).boxed()
                };
                (
                    prop_oneof![Just(None), Just(Some(true)), Just(Some(false))],
                    0u8..2,
                    0u8..2,
                    0u8..2,
                    parent,
                )
                    .prop_map(|(unique, key, value, zone, parent)| Spec {
                        unique,
                        key,
                        value,
                        zone,
                        parent,
                    })
            })
            .collect::<Vec<_>>()
    })
}

/// A program, the same program changed (keys, values, zones: replacements and updates), and
/// the operations that fail while the change is applied.
fn scenario() -> impl Strategy<Value = (Vec<Spec>, Vec<Spec>, Vec<(usize, &'static str)>)> {
    specs().prop_flat_map(|before| {
        let n = before.len();
        let changes = proptest::collection::vec((0u8..2, 0u8..2, 0u8..4), n);
        // About half the resources get one failing operation.
        let fails = proptest::collection::vec(
            prop_oneof![
                3 => Just(None),
                1 => Just(Some("create")),
                1 => Just(Some("update")),
                1 => Just(Some("delete")),
            ],
            n,
        )
        .prop_map(|ops| {
            ops.into_iter()
                .enumerate()
                .filter_map(|(i, op)| op.map(|op| (i, op)))
                .collect::<Vec<_>>()
        });
        (Just(before), changes, fails).prop_map(|(before, changes, fails)| {
            let after = before
                .iter()
                .zip(changes)
                .map(|(s, (key, value, zone))| Spec {
                    key: s.key ^ key,
                    value: s.value ^ value,
                    zone: if zone == 0 { s.zone ^ 1 } else { s.zone },
                    ..s.clone()
                })
                .collect();
            (before, after, fails)
        })
    })
}

/// The cloud's resources as (name, key, value, zone, fixed name), sorted.
fn cloud_view(h: &Harness) -> Vec<(String, Value)> {
    let mut v: Vec<(String, Value)> = h.cloud.cloud().into_values().collect();
    v.sort_by(|a, b| a.0.cmp(&b.0));
    v
}

fn check_replacements(before: Vec<Spec>, after: Vec<Spec>, fails: Vec<(usize, &'static str)>) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let h = Harness::new_plain();
        let exec = h.up(declare_specs(before.clone())).await;
        assert!(exec.errors.is_empty(), "{:?}", exec.errors);
        let existed: BTreeSet<String> = h.cloud.names().into_iter().collect();

        // A change the plan refuses touches nothing.
        let program = h.declare(declare_specs(after.clone())).unwrap();
        let plan = match h.engine.preview(&program).await {
            Ok(plan) => plan,
            Err(e) => {
                assert!(e.to_string().contains("still refer"), "{e}");
                return;
            }
        };
        let deletes_first: BTreeSet<String> = plan
            .steps
            .iter()
            .filter(|s| s.deletes_first())
            .map(|s| s.name.clone())
            .collect();

        for (i, op) in &fails {
            h.cloud.fail(&format!("r{i}"), op, "injected failure");
        }
        let exec = h.up(declare_specs(after.clone())).await;
        let present: BTreeSet<String> = h.cloud.names().into_iter().collect();
        for name in &existed {
            assert!(
                present.contains(name) || deletes_first.contains(name),
                "'{name}' is gone although the plan did not delete it first: {:?}\n{}",
                exec.errors,
                plan_text(&plan)
            );
        }
        // And it was deleted only once everything its new copy needs was done: a failure above
        // it is in something that itself had to wait for a delete (a delete-first ancestor, or
        // what depends on one).
        // What makes a new copy: creates and updates (an old copy's delete is not needed by
        // anything that depends on the resource).
        let failed: BTreeSet<String> = exec
            .errors
            .iter()
            .filter(|e| e.verb != "deleting")
            .map(|e| e.name.clone())
            .collect();
        let parent = |i: usize| after[i].parent.map(|(p, _)| p);
        let ancestors = |mut i: usize| {
            let mut v = Vec::new();
            while let Some(p) = parent(i) {
                v.push(p);
                i = p;
            }
            v
        };
        let name = |i: usize| format!("r{i}");
        for i in (0..after.len()).filter(|&i| !present.contains(&name(i))) {
            for j in ancestors(i) {
                let waited = std::iter::once(j)
                    .chain(ancestors(j))
                    .any(|k| deletes_first.contains(&name(k)));
                assert!(
                    !failed.contains(&name(j)) || waited,
                    "'r{i}' was deleted although 'r{j}', which its new copy needs, failed: {:?}\n{}",
                    exec.errors,
                    plan_text(&plan)
                );
            }
        }
        // The state records exactly what exists.
        let cloud_ids: Vec<String> = h.cloud.cloud().into_keys().collect();
        assert_eq!(h.recorded_ids(), cloud_ids);
        // Everything done is counted, and what is gone is named.
        let gone: Vec<String> = existed.difference(&present).cloned().collect();
        assert!(count(&exec, "deleted") >= gone.len(), "{:?} {gone:?}", exec.counts);
        assert_eq!(count(&exec, "failed"), exec.errors.len());
        let mut missing = exec.missing.clone();
        missing.sort();
        assert_eq!(missing, gone);

        // Without failures, the next up converges to the program.
        h.cloud.clear_failures();
        let exec = h.up(declare_specs(after.clone())).await;
        assert!(exec.errors.is_empty(), "{:?}", exec.errors);
        let view = cloud_view(&h);
        let names: Vec<&str> = view.iter().map(|(n, _)| n.as_str()).collect();
        let expected: Vec<String> = (0..after.len()).map(|i| format!("r{i}")).collect();
        assert_eq!(names, expected, "one copy of each declared resource");
        for (i, (_, inputs)) in view.iter().enumerate() {
            let spec = &after[i];
            assert_eq!(inputs["value"], json!(spec.value.to_string()));
            if let Some(fixed) = spec.unique {
                assert_eq!(inputs["zone"], json!(spec.zone.to_string()));
                if fixed {
                    assert_eq!(inputs["name"], json!(format!("n{i}")));
                }
            }
        }
        let again = h.preview(declare_specs(after)).await;
        assert!(!again.has_changes(), "{}", plan_text(&again));
    });
}

/// 256 by default; `CAIRN_PROPTEST_CASES` for a longer search.
fn cases() -> u32 {
    std::env::var("CAIRN_PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(256)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases()))]

    #[test]
    fn failed_replacements_never_remove_what_the_plan_did_not_delete_first_and_then_converge(
        (before, after, fails) in scenario()
    ) {
        check_replacements(before, after, fails);
    }
}
