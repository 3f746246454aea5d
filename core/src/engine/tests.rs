//! Engine tests against the in-process test provider: planning, ordering, failures, state.

use std::time::Duration;

use serde_json::json;

use super::*;
use crate::config::Config;
use crate::execute::Action;
use crate::plan::StepKind;
use crate::testing::{Call, TestProvider, Thing, ThingArgs, Unique, UniqueArgs};
use crate::{Output, ResourceOptions};

const PASSPHRASE: &str = "correct horse battery staple";

struct Harness {
    _dir: tempfile::TempDir,
    engine: Engine,
    cloud: TestProvider,
}

impl Harness {
    fn new() -> Harness {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path().join("state.db")).unwrap();
        store.use_passphrase(Some(PASSPHRASE.to_string())).unwrap();
        Harness {
            _dir: dir,
            engine: Engine::new(store, "dev"),
            cloud: TestProvider::new(),
        }
    }

    /// Without a passphrase (its key derivation is slow on purpose), for many-case tests.
    fn new_plain() -> Harness {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path().join("state.db")).unwrap();
        Harness {
            _dir: dir,
            engine: Engine::new(store, "dev"),
            cloud: TestProvider::new(),
        }
    }

    fn declare(&self, f: impl FnOnce(&mut Stack)) -> Result<Program, EngineError> {
        let cloud = self.cloud.clone();
        Program::declare(Stack::new("dev", Config::default()), move |s| {
            s.provider("test", cloud);
            f(s)
        })
    }

    async fn preview(&self, f: impl FnOnce(&mut Stack)) -> Plan {
        self.engine
            .preview(&self.declare(f).unwrap())
            .await
            .unwrap()
    }

    async fn up(&self, f: impl FnOnce(&mut Stack)) -> Execution {
        self.try_up(f).await.unwrap()
    }

    /// `up`, its refusal (before anything ran) returned rather than a panic.
    async fn try_up(&self, f: impl FnOnce(&mut Stack)) -> Result<Execution, EngineError> {
        let program = self.declare(f).unwrap();
        let session = self.engine.lock("up").unwrap();
        let plan = session.plan(&program).await.unwrap();
        session.apply(&program, &plan, 0, &|_| {}).await
    }

    async fn destroy(&self) -> Execution {
        let program = self.declare(|_| {}).unwrap();
        let session = self.engine.lock("destroy").unwrap();
        let plan = session.plan_destroy(&program).unwrap();
        session.destroy(&program, &plan, 0, &|_| {}).await.unwrap()
    }

    fn call(&self, op: &str, name: &str) -> Call {
        let calls: Vec<Call> = self
            .cloud
            .calls()
            .into_iter()
            .filter(|c| c.op == op && c.name == name)
            .collect();
        assert_eq!(calls.len(), 1, "expected one {op} of {name}: {calls:?}");
        calls.into_iter().next().unwrap()
    }

    /// Names of the recorded resources, sorted.
    fn recorded_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .engine
            .records()
            .unwrap()
            .into_iter()
            .map(|r| r.name)
            .collect();
        names.sort();
        names
    }

    /// Ids of the recorded resources, sorted.
    fn recorded_ids(&self) -> Vec<String> {
        let mut ids: Vec<String> = self
            .engine
            .records()
            .unwrap()
            .into_iter()
            .map(|r| r.id)
            .collect();
        ids.sort();
        ids
    }

    fn kinds(plan: &Plan) -> Vec<(String, StepKind)> {
        plan.steps
            .iter()
            .map(|s| (s.name.clone(), s.kind()))
            .collect()
    }
}

fn thing(value: &str) -> ThingArgs {
    ThingArgs {
        value: Some(value.into()),
        ..Default::default()
    }
}

fn unique(value: &str) -> UniqueArgs {
    UniqueArgs {
        value: Some(value.into()),
        ..Default::default()
    }
}

fn refs(ids: &[&Thing]) -> Option<Output<Vec<String>>> {
    Some(Output::all(ids.iter().map(|t| t.id())))
}

/// a <- b (b's refs hold a's id).
fn chain(s: &mut Stack) {
    let a = Thing::new(s, "a", thing("1"));
    Thing::new(
        s,
        "b",
        ThingArgs {
            refs: refs(&[&a]),
            ..thing("2")
        },
    );
}

#[tokio::test]
async fn an_output_passed_as_input_orders_the_operations() {
    let h = Harness::new();
    let exec = h.up(chain).await;
    assert!(exec.errors.is_empty(), "{:?}", exec.errors);
    assert!(h.call("create", "a").end < h.call("create", "b").start);
    let cloud = h.cloud.cloud();
    let b = cloud.values().find(|(n, _)| n == "b").unwrap();
    let a_id = cloud.iter().find(|(_, (n, _))| n == "a").unwrap().0;
    assert_eq!(b.1["refs"], json!([a_id]));
}

#[tokio::test]
async fn a_stopped_run_finishes_what_is_in_flight_starts_nothing_more_and_the_next_up_resumes() {
    let h = Harness::new();
    let three = |s: &mut Stack| {
        let a = Thing::new(s, "a", thing("1"));
        let b = Thing::new(
            s,
            "b",
            ThingArgs {
                refs: refs(&[&a]),
                ..thing("2")
            },
        );
        Thing::new(
            s,
            "c",
            ThingArgs {
                refs: refs(&[&b]),
                ..thing("3")
            },
        );
    };
    let program = h.declare(three).unwrap();
    let session = h.engine.lock("up").unwrap();
    let plan = session.plan(&program).await.unwrap();
    let stop = session.stop();
    // The interrupt arrives while `a` is being created.
    let exec = session
        .apply(&program, &plan, 0, &|e| {
            if e.name == "a" {
                stop.request();
            }
        })
        .await
        .unwrap();
    drop(session);
    assert!(exec.errors.is_empty(), "{:?}", exec.errors);
    assert_eq!(
        exec.not_started,
        Some(vec!["b".to_string(), "c".to_string()])
    );
    assert_eq!(h.recorded_ids().len(), 1);
    assert!(h.engine.store.pending_operations("dev").unwrap().is_empty());
    // The lock is free, and the next up does the rest.
    let exec = h.up(three).await;
    assert_eq!(exec.counts.get("created"), Some(&2));
    assert_eq!(exec.not_started, None);
}

#[tokio::test]
async fn a_destroy_plan_lists_dependents_first_in_the_order_it_runs() {
    let h = Harness::new();
    h.up(|s| {
        let a = Thing::new(s, "a", thing("1"));
        let b = Thing::new(
            s,
            "b",
            ThingArgs {
                refs: refs(&[&a]),
                ..thing("2")
            },
        );
        Thing::new(s, "lone", thing("3"));
        Thing::new(
            s,
            "c",
            ThingArgs {
                refs: refs(&[&b]),
                ..thing("3")
            },
        );
    })
    .await;
    let program = h.declare(|_| {}).unwrap();
    let session = h.engine.lock("destroy").unwrap();
    let plan = session.plan_destroy(&program).unwrap();
    let names: Vec<&str> = plan.steps.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["lone", "c", "b", "a"]);
    assert!(plan.steps.iter().all(|s| s.reason().is_none()));
    let text = crate::display::plan_text(&plan);
    assert!(!text.contains("[destroy]"), "{text}");
    let program = h.declare(|_| {}).unwrap();
    session.destroy(&program, &plan, 0, &|_| {}).await.unwrap();
    // The order it ran in is the order listed.
    assert!(h.call("delete", "c").end < h.call("delete", "b").start);
    assert!(h.call("delete", "b").end < h.call("delete", "a").start);
}

#[tokio::test]
async fn a_plan_reads_the_same_in_colour_and_without() {
    let h = Harness::new();
    let version = |two: bool| {
        move |s: &mut Stack| {
            let v = |a: &str, b: &str| if two { b } else { a }.to_string();
            Thing::new(
                s,
                "replaced-first",
                ThingArgs {
                    key: Some(v("k1", "k2").into()),
                    ..thing("1")
                },
            );
            Thing::new(s, "updated", thing(&v("1", "2")));
            Unique::new(
                s,
                "replaced-after",
                UniqueArgs {
                    name: Some("fixed".to_string().into()),
                    key: Some(v("k1", "k2").into()),
                    ..unique("1")
                },
            );
            if two {
                Thing::new(s, "created", thing("new"));
            } else {
                Thing::new(s, "removed", thing("old"));
            }
        }
    };
    h.up(version(false)).await;
    let plan = h.preview(version(true)).await;
    let plain = crate::display::plan_text_styled(&plan, false);
    let colored = crate::display::plan_text_styled(&plan, true);
    insta::assert_snapshot!("plan_plain", plain);
    insta::assert_snapshot!("plan_colored", colored);
    assert_eq!(console::strip_ansi_codes(&colored), plain);
}

#[tokio::test]
async fn a_requested_replacement_replaces_what_did_not_change_and_a_typo_suggests_the_name() {
    let h = Harness::new();
    h.up(chain).await;
    let before = h.recorded_ids();
    let mut program = h.declare(chain).unwrap();
    program.replace(&["a".to_string()]).unwrap();
    let session = h.engine.lock("up").unwrap();
    let plan = session.plan(&program).await.unwrap();
    assert_eq!(
        Harness::kinds(&plan)[0],
        ("a".to_string(), StepKind::Replace)
    );
    // b refers to a's id, which the new copy changes: it is updated to the new one.
    assert_eq!(
        Harness::kinds(&plan)[1],
        ("b".to_string(), StepKind::Update)
    );
    assert!(crate::display::plan_text(&plan).contains("[replacement requested]"));
    let exec = session.apply(&program, &plan, 0, &|_| {}).await.unwrap();
    drop(session);
    assert!(exec.errors.is_empty(), "{:?}", exec.errors);
    assert_ne!(h.recorded_ids()[0], before[0]);
    assert!(is_noop(&h.preview(chain).await), "nothing is left to do");

    let mut program = h.declare(chain).unwrap();
    let err = program
        .replace(&["aa".to_string()])
        .unwrap_err()
        .to_string();
    assert!(err.contains("no resource 'aa'; did you mean 'a'?"), "{err}");
}

#[tokio::test]
async fn depends_on_orders_without_data() {
    let h = Harness::new();
    let exec = h
        .up(|s| {
            let a = Thing::new(s, "a", thing("1"));
            Thing::with(
                s,
                "b",
                thing("2"),
                ResourceOptions::default().depends_on(&a),
            );
            Thing::with(
                s,
                "c",
                thing("3"),
                ResourceOptions::default().depends_on("b"),
            );
        })
        .await;
    assert!(exec.errors.is_empty());
    assert!(h.call("create", "a").end < h.call("create", "b").start);
    assert!(h.call("create", "b").end < h.call("create", "c").start);
}

#[test]
fn a_cycle_is_an_error_naming_every_resource_in_it() {
    let h = Harness::new();
    let err = h
        .declare(|s| {
            Thing::with(
                s,
                "x",
                thing("1"),
                ResourceOptions::default().depends_on("z"),
            );
            let y = Thing::with(
                s,
                "y",
                thing("1"),
                ResourceOptions::default().depends_on("x"),
            );
            Thing::with(
                s,
                "z",
                thing("1"),
                ResourceOptions::default().depends_on(&y),
            );
            Thing::new(s, "outside", thing("1"));
        })
        .err()
        .expect("cycle");
    let text = err.to_string();
    assert!(
        text.contains("dependency cycle between resources: x, y, z"),
        "{text}"
    );
    assert!(!text.contains("outside"));
}

#[test]
fn a_duplicate_name_is_an_error_naming_both_declarations() {
    let h = Harness::new();
    let err = h
        .declare(|s| {
            Thing::new(s, "dup", thing("1"));
            Thing::new(s, "dup", thing("2"));
        })
        .err()
        .expect("duplicate");
    let text = err.to_string();
    assert!(text.contains("duplicate resource name 'dup'"), "{text}");
    // Both places in this file are named.
    assert_eq!(text.matches("engine/tests.rs").count(), 2, "{text}");
}

#[tokio::test]
async fn every_plan_kind() {
    let h = Harness::new();
    h.up(|s| {
        Thing::new(s, "same", thing("1"));
        Thing::new(s, "update", thing("1"));
        Thing::new(
            s,
            "replace",
            ThingArgs {
                key: Some("k1".into()),
                ..thing("1")
            },
        );
        Thing::new(s, "delete", thing("1"));
    })
    .await;
    let plan = h
        .preview(|s| {
            Thing::new(s, "same", thing("1"));
            Thing::new(s, "update", thing("2"));
            Thing::new(
                s,
                "replace",
                ThingArgs {
                    key: Some("k2".into()),
                    ..thing("1")
                },
            );
            Thing::new(s, "create", thing("1"));
        })
        .await;
    let kinds = Harness::kinds(&plan);
    assert_eq!(
        kinds,
        vec![
            ("same".into(), StepKind::Same),
            ("update".into(), StepKind::Update),
            ("replace".into(), StepKind::Replace),
            ("create".into(), StepKind::Create),
            ("delete".into(), StepKind::Delete),
        ]
    );
    let update = &plan.steps[1];
    assert_eq!(update.diffs.len(), 1);
    assert_eq!(update.diffs[0].property, "value");
    assert!(
        plan.steps[2]
            .diffs
            .iter()
            .any(|d| d.property == "key" && d.forces_replacement)
    );
    let text = crate::display::plan_text(&plan);
    assert!(text.contains("~ value: \"1\" → \"2\""), "{text}");
    assert!(text.contains("(forces replacement)"), "{text}");
    assert!(
        text.contains("Plan: 1 to create, 1 to update, 1 to replace, 1 to delete (1 unchanged)"),
        "{text}"
    );
}

#[tokio::test]
async fn replacement_creates_first_moves_dependents_then_deletes() {
    let h = Harness::new();
    let with_key = |key: &'static str| {
        move |s: &mut Stack| {
            let a = Thing::new(
                s,
                "a",
                ThingArgs {
                    key: Some(key.into()),
                    ..thing("1")
                },
            );
            Thing::new(
                s,
                "b",
                ThingArgs {
                    refs: refs(&[&a]),
                    ..thing("2")
                },
            );
        }
    };
    h.up(with_key("k1")).await;
    h.cloud.clear_calls();
    let plan = h.preview(with_key("k2")).await;
    assert_eq!(
        Harness::kinds(&plan),
        vec![
            ("a".into(), StepKind::Replace),
            ("b".into(), StepKind::Update)
        ]
    );
    // b's refs are unknown until the new a exists.
    let refs_diff = plan.steps[1]
        .diffs
        .iter()
        .find(|d| d.property == "refs")
        .unwrap();
    assert_eq!(refs_diff.new.as_ref().unwrap().value, None);
    let exec = h.up(with_key("k2")).await;
    assert!(exec.errors.is_empty(), "{:?}", exec.errors);
    let create_a = h.call("create", "a");
    let update_b = h.call("update", "b");
    let delete_a = h.call("delete", "a");
    assert!(create_a.end < update_b.start);
    assert!(update_b.end < delete_a.start);
    assert_eq!(h.cloud.names(), vec!["a", "b"]);
    let records = h.engine.records().unwrap();
    assert_eq!(records.len(), 2);
    assert!(records.iter().all(|r| !r.replaced));
}

#[tokio::test]
async fn a_replacement_that_keeps_a_fixed_name_deletes_first() {
    let h = Harness::new();
    let with_key = |key: &'static str| {
        move |s: &mut Stack| {
            Unique::new(
                s,
                "u",
                UniqueArgs {
                    key: Some(key.into()),
                    name: Some("web".into()),
                    ..unique("1")
                },
            );
        }
    };
    h.up(with_key("k1")).await;
    let plan = h.preview(with_key("k2")).await;
    assert_eq!(
        plan.steps[0].delete_first().as_ref().map(|w| w.to_string()),
        Some("the name 'web' is fixed".to_string())
    );
    assert!(
        crate::display::plan_text(&plan)
            .contains("[delete before replace: the name 'web' is fixed]"),
        "{}",
        crate::display::plan_text(&plan)
    );
    let exec = h.up(with_key("k2")).await;
    assert!(exec.errors.is_empty(), "{:?}", exec.errors);
    let creates: Vec<Call> = h
        .cloud
        .calls()
        .into_iter()
        .filter(|c| c.op == "create")
        .collect();
    assert!(h.call("delete", "u").end < creates[1].start);
    assert_eq!(h.cloud.names(), vec!["u"]);
}

#[tokio::test]
async fn removed_resources_are_deleted_dependents_first() {
    let h = Harness::new();
    h.up(|s| {
        let a = Thing::new(s, "a", thing("1"));
        let b = Thing::new(
            s,
            "b",
            ThingArgs {
                refs: refs(&[&a]),
                ..thing("2")
            },
        );
        Thing::new(
            s,
            "c",
            ThingArgs {
                refs: refs(&[&b]),
                ..thing("3")
            },
        );
    })
    .await;
    let exec = h.up(|_| {}).await;
    // The test cloud refuses to delete anything still referenced, so success proves the order.
    assert!(exec.errors.is_empty(), "{:?}", exec.errors);
    assert!(h.call("delete", "c").end < h.call("delete", "b").start);
    assert!(h.call("delete", "b").end < h.call("delete", "a").start);
    assert!(h.cloud.cloud().is_empty());
    assert!(h.engine.records().unwrap().is_empty());
}

#[tokio::test]
async fn destroy_deletes_in_reverse_dependency_order() {
    let h = Harness::new();
    h.up(chain).await;
    let exec = h.destroy().await;
    assert!(exec.errors.is_empty(), "{:?}", exec.errors);
    assert!(h.call("delete", "b").end < h.call("delete", "a").start);
    assert!(h.cloud.cloud().is_empty());
    assert!(h.engine.outputs().unwrap().is_empty());
}

fn diamond(s: &mut Stack) {
    // a <- b <- c, and d independent.
    let a = Thing::new(s, "a", thing("1"));
    let b = Thing::new(
        s,
        "b",
        ThingArgs {
            refs: refs(&[&a]),
            ..thing("2")
        },
    );
    Thing::new(
        s,
        "c",
        ThingArgs {
            refs: refs(&[&b]),
            ..thing("3")
        },
    );
    Thing::new(s, "d", thing("4"));
}

#[tokio::test]
async fn a_failure_skips_dependents_and_siblings_complete() {
    let h = Harness::new();
    h.cloud.fail("b", "create", "quota exceeded");
    let exec = h.up(diamond).await;
    assert_eq!(exec.errors.len(), 1);
    let e = exec.errors[0].to_string();
    assert!(
        e.contains("'b'") && e.contains("quota exceeded") && e.contains("property 'value'"),
        "{e}"
    );
    assert_eq!(exec.skipped, vec!["c".to_string()]);
    assert_eq!(h.cloud.names(), vec!["a", "d"]);
    // The state records exactly what exists, and nothing is left pending.
    let recorded = h.recorded_names();
    assert_eq!(recorded, vec!["a", "d"]);
    assert!(h.engine.store.pending_operations("dev").unwrap().is_empty());
    let history = h.engine.store.history("dev").unwrap();
    assert_eq!(history[0].result.as_deref(), Some("failed"));

    // The next run creates only what is missing.
    h.cloud.clear_failures();
    h.cloud.clear_calls();
    let exec = h.up(diamond).await;
    assert!(exec.errors.is_empty());
    let created: Vec<String> = h.cloud.mutations().into_iter().map(|c| c.name).collect();
    assert_eq!(created.len(), 2);
    assert!(created.contains(&"b".to_string()) && created.contains(&"c".to_string()));
}

#[tokio::test]
async fn a_second_up_with_nothing_changed_makes_no_calls() {
    let h = Harness::new();
    h.up(diamond).await;
    h.cloud.clear_calls();
    let plan = h.preview(diamond).await;
    assert!(is_noop(&plan));
    let exec = h.up(diamond).await;
    assert!(exec.errors.is_empty() && exec.counts.is_empty());
    assert!(h.cloud.calls().is_empty());
}

#[tokio::test]
async fn a_second_mutating_command_fails_at_once_naming_the_holder() {
    let h = Harness::new();
    let _held = h.engine.lock("up").unwrap();
    let other = Engine::new(Store::open(h.engine.store.path()).unwrap(), "dev");
    let err = other.lock("destroy").err().expect("locked");
    let text = err.to_string();
    assert!(
        text.contains("`up`") && text.contains(&std::process::id().to_string()),
        "{text}"
    );
}

#[tokio::test]
async fn unknown_values_stay_unknown_in_preview_and_maps_run_when_known() {
    let h = Harness::new();
    let program = |s: &mut Stack| {
        let a = Thing::new(s, "a", thing("1"));
        Thing::new(
            s,
            "b",
            ThingArgs {
                value: Some(a.id().map(|id| format!("after-{id}"))),
                ..Default::default()
            },
        );
        s.export("aId", a.id());
    };
    let plan = h.preview(program).await;
    let b = &plan.steps[1];
    assert_eq!(b.inputs["value"].value, None);
    assert_eq!(plan.outputs[0].value.value, None);
    let text = crate::display::plan_text(&plan);
    assert!(text.contains("value: (known after apply)"), "{text}");

    h.up(program).await;
    // Now a exists and is unchanged: the map runs during preview and b is unchanged.
    let plan = h.preview(program).await;
    assert!(is_noop(&plan));
    let a_id = h.engine.records().unwrap()[0].id.clone();
    assert_eq!(
        plan.steps[1].inputs["value"].value,
        Some(json!(format!("after-{a_id}")))
    );
    assert_eq!(h.engine.outputs().unwrap()[0].1, json!(a_id));
}

#[tokio::test]
async fn secrets_are_masked_everywhere_and_marked_in_the_state() {
    let h = Harness::new();
    let program = |s: &mut Stack| {
        let pw = Output::secret_value("hunter2".to_string());
        let derived = pw.map(|p| format!("{p}-derived"));
        let t = Thing::new(
            s,
            "a",
            ThingArgs {
                secret: Some(derived),
                ..thing("1")
            },
        );
        s.export("secretValue", t.id().zip(&pw).map(|(_, p)| p));
        s.export("plain", t.id());
    };
    let plan = h.preview(program).await;
    assert!(plan.steps[0].inputs["secret"].secret);
    let text = crate::display::plan_text(&plan) + &crate::display::plan_json(&plan).to_string();
    assert!(!text.contains("hunter2"), "{text}");
    assert!(text.contains("[secret]"));
    h.up(program).await;
    let rec = &h.engine.records().unwrap()[0];
    assert_eq!(rec.inputs["secret"], json!({"@secret": "hunter2-derived"}));

    // At rest, only ciphertext: no byte of the database (or its write-ahead log) holds it.
    let path = h.engine.store.path().to_path_buf();
    for file in [path.clone(), path.with_extension("db-wal")] {
        if let Ok(bytes) = std::fs::read(&file) {
            assert!(
                !bytes.windows(7).any(|w| w == b"hunter2"),
                "plaintext secret in {}",
                file.display()
            );
        }
    }
    // Without the passphrase the records cannot be read; with a wrong one, opening says so.
    let bare = Store::open(&path).unwrap();
    let err = bare.resources("dev").unwrap_err().to_string();
    assert!(err.contains("CAIRN_PASSPHRASE"), "{err}");
    let wrong = Store::open(&path).unwrap();
    let err = wrong
        .use_passphrase(Some("wrong".into()))
        .unwrap_err()
        .to_string();
    assert!(err.contains("passphrase is wrong"), "{err}");
    let outputs = h.engine.outputs().unwrap();
    let secret = outputs.iter().find(|o| o.0 == "secretValue").unwrap();
    assert!(secret.2, "secret output is marked");
    assert_eq!(
        crate::display::output_value(&secret.1, secret.2, false),
        json!("[secret]")
    );
    let plain = outputs.iter().find(|o| o.0 == "plain").unwrap();
    assert!(!plain.2);
}

#[tokio::test]
async fn a_property_the_type_declares_secret_is_secret_even_when_written_as_a_literal() {
    let h = Harness::new();
    let program = |s: &mut Stack| {
        Thing::new(
            s,
            "a",
            ThingArgs {
                password: Some("swordfish".into()),
                ..thing("1")
            },
        );
    };
    let plan = h.preview(program).await;
    assert!(plan.steps[0].inputs["password"].secret);
    assert!(!plan.steps[0].inputs["value"].secret);
    let text = crate::display::plan_text(&plan) + &crate::display::plan_json(&plan).to_string();
    assert!(!text.contains("swordfish"), "{text}");
    h.up(program).await;
    let rec = &h.engine.records().unwrap()[0];
    assert_eq!(rec.inputs["password"], json!({"@secret": "swordfish"}));
}

#[tokio::test]
async fn reordering_an_unordered_list_changes_nothing_and_a_new_member_updates() {
    let h = Harness::new();
    let program = |order: [usize; 2], extra: bool| {
        move |s: &mut Stack| {
            let parents = [
                Thing::new(s, "p0", thing("0")),
                Thing::new(s, "p1", thing("1")),
                Thing::new(s, "p2", thing("2")),
            ];
            let mut listed: Vec<&Thing> = order.iter().map(|&i| &parents[i]).collect();
            if extra {
                listed.push(&parents[2]);
            }
            Thing::new(
                s,
                "child",
                ThingArgs {
                    refs: refs(&listed),
                    ..thing("c")
                },
            );
        }
    };
    h.up(program([0, 1], false)).await;
    assert!(is_noop(&h.preview(program([1, 0], false)).await));
    let plan = h.preview(program([1, 0], true)).await;
    let child = plan.steps.iter().find(|s| s.name == "child").unwrap();
    assert_eq!(child.kind(), StepKind::Update);
}

#[tokio::test]
async fn invalid_input_names_resource_and_property_and_leaves_state_alone() {
    let h = Harness::new();
    h.up(chain).await;
    let before = h.engine.records().unwrap();
    let program = h
        .declare(|s| {
            Thing::new(s, "a", thing("bad!"));
        })
        .unwrap();
    let err = h.engine.preview(&program).await.expect_err("invalid");
    let text = err.to_string();
    assert!(
        text.contains("resource 'a' (test:Thing), property 'value'"),
        "{text}"
    );
    assert_eq!(h.engine.records().unwrap(), before);
}

#[tokio::test]
async fn a_missing_required_property_names_resource_and_property() {
    let h = Harness::new();
    let program = h
        .declare(|s| {
            Thing::new(
                s,
                "a",
                ThingArgs {
                    value: Some(Output::default()),
                    ..Default::default()
                },
            );
        })
        .unwrap();
    let text = h.engine.preview(&program).await.err().unwrap().to_string();
    assert!(
        text.contains("resource 'a' (test:Thing), property 'value': required property is not set"),
        "{text}"
    );
}

#[tokio::test]
async fn protect_refuses_destroy_and_removal_until_lifted() {
    let h = Harness::new();
    let protected = |p: bool| {
        move |s: &mut Stack| {
            Thing::with(s, "keep", thing("1"), ResourceOptions::default().protect(p));
        }
    };
    h.up(protected(true)).await;
    let err = h
        .engine
        .lock("destroy")
        .unwrap()
        .plan_destroy(&h.declare(|_| {}).unwrap())
        .err()
        .unwrap();
    assert!(err.to_string().contains("'keep' is protected"));
    let program = h.declare(|_| {}).unwrap();
    let err = h.engine.preview(&program).await.err().unwrap();
    assert!(err.to_string().contains("'keep' is protected"), "{err}");
    // Lift it, then removal works.
    h.up(protected(false)).await;
    let exec = h.up(|_| {}).await;
    assert!(exec.errors.is_empty());
    assert!(h.cloud.cloud().is_empty());
}

#[tokio::test]
async fn ignore_changes_keeps_the_recorded_value() {
    let h = Harness::new();
    h.up(|s| {
        Thing::with(
            s,
            "a",
            thing("1"),
            ResourceOptions::default().ignore_changes(["value"]),
        );
    })
    .await;
    let program = |s: &mut Stack| {
        Thing::with(
            s,
            "a",
            thing("2"),
            ResourceOptions::default().ignore_changes(["value"]),
        );
    };
    assert!(is_noop(&h.preview(program).await));
}

#[tokio::test]
async fn refresh_reports_drift_and_the_next_up_repairs_it() {
    let h = Harness::new();
    h.up(diamond).await;
    let recs = h.engine.records().unwrap();
    let a = recs.iter().find(|r| r.name == "a").unwrap();
    let d = recs.iter().find(|r| r.name == "d").unwrap();
    h.cloud.tamper(&a.id, Some(json!({"value": "changed"})));
    h.cloud.tamper(&d.id, None);
    let program = h.declare(diamond).unwrap();
    let session = h.engine.lock("refresh").unwrap();
    let (drifts, errors) = session.refresh(&program, 0, true).await.unwrap();
    drop(session);
    assert!(errors.is_empty());
    assert_eq!(drifts.len(), 2);
    let text = crate::display::drift_text(&drifts);
    assert!(text.contains("d (test:Thing) no longer exists"), "{text}");
    assert!(text.contains("~ value: \"1\" → \"changed\""), "{text}");
    let plan = h.preview(diamond).await;
    let kinds = Harness::kinds(&plan);
    assert!(kinds.contains(&("a".into(), StepKind::Update)));
    assert!(kinds.contains(&("d".into(), StepKind::Create)));
    let exec = h.up(diamond).await;
    assert!(exec.errors.is_empty());
    assert_eq!(h.cloud.names(), vec!["a", "b", "c", "d"]);
    assert!(is_noop(&h.preview(diamond).await));
}

#[test]
fn a_provider_declared_twice_is_an_error() {
    let h = Harness::new();
    let err = h.declare(|s| {
        s.provider("test", TestProvider::new());
    });
    let text = err.err().unwrap().to_string();
    assert!(
        text.contains("provider 'test' is declared more than once"),
        "{text}"
    );
}

#[tokio::test]
async fn operations_run_concurrently_up_to_the_limit() {
    let h = Harness::new();
    // Clones share one cloud: the latency applies to the harness's provider. Each call sleeps,
    // so the first four are all in flight before any finishes.
    let _ = h
        .cloud
        .clone()
        .with_latency(|_, _| Duration::from_millis(5));
    let program = h
        .declare(|s| {
            for i in 0..20 {
                Thing::new(s, &format!("t{i}"), thing("1"));
            }
        })
        .unwrap();
    let session = h.engine.lock("up").unwrap();
    let plan = session.plan(&program).await.unwrap();
    let exec = session.apply(&program, &plan, 4, &|_| {}).await.unwrap();
    assert!(exec.errors.is_empty());
    assert_eq!(h.cloud.max_concurrency(), 4);
    assert_eq!(exec.counts.get(Action::Created.as_str()), Some(&20));
}

/// Runs `up` until the provider reports a call that took effect and never returned, then drops
/// the run mid-flight: what SIGKILL does to a process, minus the lock (released on drop here).
async fn up_killed_mid_call(h: &Harness, f: impl FnOnce(&mut Stack)) {
    let program = h.declare(f).unwrap();
    let session = h.engine.lock("up").unwrap();
    let plan = session.plan(&program).await.unwrap();
    tokio::select! {
        _ = session.apply(&program, &plan, 0, &|_| {}) => panic!("the run was meant to hang"),
        _ = h.cloud.hung() => {}
    }
}

async fn recover(h: &Harness, f: impl FnOnce(&mut Stack)) -> Result<Vec<Recovered>, EngineError> {
    let program = h.declare(f).unwrap();
    let session = h.engine.lock("up").unwrap();
    session.recover(&program).await
}

#[tokio::test]
async fn an_interrupted_create_is_found_by_its_token_and_adopted_not_repeated() {
    let h = Harness::new();
    h.cloud.hang_after_effect("b", "create");
    up_killed_mid_call(&h, chain).await;
    h.cloud.clear_hangs();
    let pending = h.engine.store.pending_operations("dev").unwrap();
    assert_eq!(pending.len(), 1, "{pending:?}");
    assert_eq!(pending[0].name, "b");
    assert_eq!(pending[0].dependencies, vec!["a".to_string()]);

    let recovered = recover(&h, chain).await.unwrap();
    assert_eq!(recovered.len(), 1);
    assert!(recovered[0].outcome.contains("adopted"), "{recovered:?}");
    assert!(h.engine.store.pending_operations("dev").unwrap().is_empty());

    h.up(chain).await;
    assert_eq!(h.cloud.names(), vec!["a", "b"], "one of each, no duplicate");
    let cloud: Vec<String> = h.cloud.cloud().into_keys().collect();
    assert_eq!(h.recorded_ids(), cloud, "state and cloud match one to one");
    // The adopted record kept its dependency, so destroy still deletes b before a.
    h.destroy().await;
    assert!(h.cloud.cloud().is_empty());
}

#[tokio::test]
async fn an_interrupted_create_that_made_nothing_is_cleared_and_retried() {
    let h = Harness::new();
    // The create fails inside the provider without effect, but the process "dies" before the
    // pending row is cleared: simulated by a pending row whose token the cloud never saw.
    h.up(chain).await;
    let program = h.declare(chain).unwrap();
    let store = &h.engine.store;
    let op = cairn_state::PendingOp {
        seq: 0,
        update_id: 0,
        name: "d".into(),
        ty: "test:Thing".into(),
        provider: "test".into(),
        kind: cairn_state::OpKind::Create,
        resource_seq: None,
        inputs: json!({"value": "4"}),
        client_token: "never-sent".into(),
        started_at: String::new(),
        dependencies: vec![],
        protect: false,
    };
    store.begin_operation("dev", &op).unwrap();
    let session = h.engine.lock("up").unwrap();
    let recovered = session.recover(&program).await.unwrap();
    assert_eq!(recovered[0].outcome, "nothing had been created");
    assert!(store.pending_operations("dev").unwrap().is_empty());
}

#[tokio::test]
async fn an_interrupted_delete_is_settled_by_reading_the_resource() {
    let h = Harness::new();
    h.up(chain).await;
    h.cloud.hang_after_effect("b", "delete");
    {
        let program = h.declare(|_| {}).unwrap();
        let session = h.engine.lock("destroy").unwrap();
        let plan = session.plan_destroy(&program).unwrap();
        tokio::select! {
            _ = session.destroy(&program, &plan, 0, &|_| {}) => panic!("meant to hang"),
            _ = h.cloud.hung() => {}
        }
    }
    h.cloud.clear_hangs();
    assert_eq!(
        h.engine.records().unwrap().len(),
        2,
        "b's delete never finished"
    );
    let recovered = recover(&h, |_| {}).await.unwrap();
    assert!(recovered[0].outcome.contains("is gone"), "{recovered:?}");
    let names = h.recorded_names();
    assert_eq!(names, vec!["a"]);
    h.destroy().await;
    assert!(h.cloud.cloud().is_empty());
}

#[tokio::test]
async fn an_unsettleable_operation_stops_with_the_command_that_settles_it() {
    let h = Harness::new();
    h.cloud.hang_after_effect("b", "create");
    up_killed_mid_call(&h, chain).await;
    h.cloud.clear_hangs();
    h.cloud.fail("b", "find", "the API is unreachable");
    let err = recover(&h, chain).await.unwrap_err().to_string();
    assert!(err.contains("create 'b'"), "{err}");
    assert!(err.contains("the API is unreachable"), "{err}");
    assert!(err.contains("state resolve"), "{err}");
    let before = h.engine.records().unwrap();

    // The user looks, finds it, and says so.
    let made = h
        .cloud
        .cloud()
        .into_iter()
        .find(|(_, (n, _))| n == "b")
        .map(|(id, _)| id)
        .unwrap();
    let seq = h.engine.store.pending_operations("dev").unwrap()[0].seq;
    let program = h.declare(chain).unwrap();
    let session = h.engine.lock("state resolve").unwrap();
    let said = session
        .resolve(&program, seq, Resolution::Id(made.clone()))
        .await
        .unwrap();
    assert!(said.contains(&made));
    drop(session);
    assert_eq!(h.engine.records().unwrap().len(), before.len() + 1);
    h.cloud.clear_failures();
    h.up(chain).await;
    assert_eq!(h.cloud.names(), vec!["a", "b"]);
}

#[tokio::test]
async fn a_provider_error_that_echoes_a_secret_is_redacted() {
    let h = Harness::new();
    h.cloud.fail(
        "a",
        "create",
        "invalid value 'hunter2-derived' for parameter secret",
    );
    let exec = h
        .up(|s| {
            let pw = Output::secret_value("hunter2".to_string());
            Thing::new(
                s,
                "a",
                ThingArgs {
                    secret: Some(pw.map(|p| format!("{p}-derived"))),
                    ..thing("1")
                },
            );
        })
        .await;
    let message = exec.errors[0].to_string();
    assert!(!message.contains("hunter2"), "{message}");
    assert!(message.contains("invalid value '[secret]'"), "{message}");
}

#[tokio::test]
async fn a_create_whose_response_is_lost_is_found_and_adopted_not_repeated() {
    let h = Harness::new();
    h.cloud.lose_response("b", "create");
    let exec = h.up(chain).await;
    assert!(exec.errors.is_empty(), "{:?}", exec.errors);
    assert_eq!(h.cloud.names(), vec!["a", "b"], "made once, recorded once");
    let recorded = h.recorded_ids();
    assert_eq!(recorded.len(), 2);
    assert!(recorded.iter().all(|id| h.cloud.cloud().contains_key(id)));
}

#[tokio::test(start_paused = true)]
async fn a_create_that_fails_transiently_is_looked_for_then_tried_again_in_the_same_run() {
    let h = Harness::new();
    h.cloud.fail_transiently("b", "create", 2);
    let exec = h.up(chain).await;
    assert!(exec.errors.is_empty(), "{:?}", exec.errors);
    assert_eq!(h.cloud.names(), vec!["a", "b"]);
    let b_calls: Vec<&'static str> = h
        .cloud
        .calls()
        .into_iter()
        .filter(|c| c.name == "b")
        .map(|c| c.op)
        .collect();
    // Each failure is followed by a look for what it made, before the next try.
    assert_eq!(b_calls, ["create", "find", "create", "find", "create"]);
}

#[tokio::test(start_paused = true)]
async fn a_create_that_keeps_failing_transiently_gives_up_and_the_next_up_retries() {
    let h = Harness::new();
    h.cloud.fail_transiently("b", "create", 100);
    let exec = h.up(chain).await;
    assert_eq!(exec.errors.len(), 1);
    assert!(exec.errors[0].to_string().contains("service unavailable"));
    assert_eq!(h.cloud.names(), vec!["a"]);
    assert!(h.engine.store.pending_operations("dev").unwrap().is_empty());
    h.cloud.clear_failures();
    assert!(h.up(chain).await.errors.is_empty());
    assert_eq!(h.cloud.names(), vec!["a", "b"]);
}

#[tokio::test]
async fn a_conflict_is_reported_and_nothing_is_adopted() {
    let h = Harness::new();
    let unique = |s: &mut Stack| {
        Unique::new(
            s,
            "u",
            UniqueArgs {
                name: Some("taken".into()),
                ..unique("1")
            },
        );
    };
    h.up(unique).await;
    // Another stack asking for the same name: refused, and what exists is not adopted.
    let cloud = h.cloud.clone();
    let program = Program::declare(Stack::new("prod", Config::default()), move |s| {
        s.provider("test", cloud);
        unique(s)
    })
    .unwrap();
    let other = Engine::new(h.engine.store.clone(), "prod");
    let session = other.lock("up").unwrap();
    let plan = session.plan(&program).await.unwrap();
    let exec = session.apply(&program, &plan, 0, &|_| {}).await.unwrap();
    assert_eq!(exec.errors.len(), 1);
    let e = exec.errors[0].to_string();
    assert!(
        e.contains("name already in use") && e.contains("what exists is not this stack's 'u'"),
        "{e}"
    );
    assert!(other.records().unwrap().is_empty());
    assert_eq!(h.cloud.names(), vec!["u"]);
}

#[tokio::test]
async fn a_conflict_with_what_this_resource_made_is_adopted() {
    let h = Harness::new();
    let unique = |s: &mut Stack| {
        Unique::new(
            s,
            "u",
            UniqueArgs {
                name: Some("web".into()),
                ..unique("1")
            },
        );
    };
    h.up(unique).await;
    // The state forgets it, as when a create's response was lost and its record never written.
    let rec = h.engine.records().unwrap().remove(0);
    h.engine.store.complete_delete(None, rec.seq).unwrap();
    let exec = h.up(unique).await;
    assert!(exec.errors.is_empty(), "{:?}", exec.errors);
    assert_eq!(h.cloud.names(), vec!["u"], "adopted, not made twice");
    assert_eq!(h.recorded_ids(), vec![rec.id]);
}

mod lookups;
mod nested_secrets;
mod pacing;
mod readiness;
mod replacement;
mod targeting;

/// Errors outside the executor (a refresh's read, a recovery's lookup) that quote a secret
/// back: what the CLI shows of them (through `redact`) holds none.
#[tokio::test]
async fn errors_of_refresh_and_recovery_that_quote_a_secret_are_redacted_where_shown() {
    let h = Harness::new();
    let program = |s: &mut Stack| {
        let pw = Output::secret_value("swordfish-refresh".to_string());
        Thing::new(
            s,
            "a",
            ThingArgs {
                secret: Some(pw),
                ..thing("1")
            },
        );
    };
    h.up(program).await;
    h.cloud.fail(
        "a",
        "read",
        "cannot read: secret 'swordfish-refresh' rejected",
    );
    let declared = h.declare(program).unwrap();
    let session = h.engine.lock("refresh").unwrap();
    let (_, errors) = session.refresh(&declared, 0, false).await.unwrap();
    drop(session);
    let shown = crate::redact::redact(&errors.join("\n"));
    assert!(
        errors.join("\n").contains("swordfish-refresh"),
        "the raw error quotes it"
    );
    assert!(
        shown.contains("secret '[secret]' rejected") && !shown.contains("swordfish"),
        "{shown}"
    );

    // A create killed mid-call, whose lookup then fails quoting the secret.
    h.cloud.clear_failures();
    h.cloud.hang_after_effect("b", "create");
    let with_b = |s: &mut Stack| {
        program(s);
        let pw = Output::secret_value("marlin-recovery".to_string());
        Thing::new(
            s,
            "b",
            ThingArgs {
                secret: Some(pw),
                ..thing("1")
            },
        );
    };
    up_killed_mid_call(&h, with_b).await;
    h.cloud.clear_hangs();
    h.cloud
        .fail("b", "find", "lookup refused for secret 'marlin-recovery'");
    let err = recover(&h, with_b).await.unwrap_err().to_string();
    let shown = crate::redact::redact(&err);
    assert!(
        shown.contains("secret '[secret]'") && !shown.contains("marlin"),
        "{shown}"
    );
}

#[tokio::test]
async fn a_generated_password_is_sealed_secret_kept_and_remade_only_when_its_keepers_change() {
    use crate::random::{Password, PasswordArgs};
    let h = Harness::new();
    let program = |rotation: &'static str| {
        move |s: &mut Stack| {
            let pw = Password::new(
                s,
                "pw",
                PasswordArgs::builder()
                    .length(24)
                    .keepers(std::collections::BTreeMap::from([(
                        "rotation".to_string(),
                        rotation.to_string(),
                    )]))
                    .build(),
            );
            Thing::new(
                s,
                "db",
                ThingArgs {
                    secret: Some(pw.result()),
                    ..thing("1")
                },
            );
            s.export("password", pw.result());
        }
    };
    let password = |h: &Harness| -> String {
        let records = h.engine.records().unwrap();
        let pw = records.iter().find(|r| r.name == "pw").unwrap();
        let db = records.iter().find(|r| r.name == "db").unwrap();
        // The same value, secret in both: where it was made and where it went.
        assert_eq!(
            pw.outputs["result"]["@secret"],
            db.inputs["secret"]["@secret"]
        );
        pw.outputs["result"]["@secret"]
            .as_str()
            .unwrap()
            .to_string()
    };

    let up = h.up(program("1")).await;
    let first = password(&h);
    assert_eq!(first.chars().count(), 24);
    let (_, value, secret) = up.outputs.iter().find(|o| o.0 == "password").unwrap();
    assert!(*secret, "the exported password is marked secret");
    assert_eq!(
        crate::display::output_value(value, *secret, false),
        json!("[secret]")
    );
    let path = h.engine.store.path().to_path_buf();
    for file in [path.clone(), path.with_extension("db-wal")] {
        if let Ok(bytes) = std::fs::read(&file) {
            assert!(
                !bytes.windows(first.len()).any(|w| w == first.as_bytes()),
                "plaintext password in {}",
                file.display()
            );
        }
    }

    // Kept: planned again, nothing changes, and applying again makes no new one.
    let plan = h.preview(program("1")).await;
    assert!(is_noop(&plan), "{:?}", Harness::kinds(&plan));
    h.up(program("1")).await;
    assert_eq!(password(&h), first);

    // A keeper changed: a new password, and what uses it updated, the value never shown.
    let plan = h.preview(program("2")).await;
    assert_eq!(
        Harness::kinds(&plan),
        [
            ("pw".to_string(), StepKind::Replace),
            ("db".to_string(), StepKind::Update)
        ]
    );
    let text = crate::display::plan_text(&plan) + &crate::display::plan_json(&plan).to_string();
    assert!(!text.contains(&first), "{text}");
    h.up(program("2")).await;
    assert_ne!(password(&h), first);

    // No longer declared (nor anything of its provider's): it goes all the same.
    let exec = h
        .up(|s| {
            Thing::new(s, "db", thing("1"));
        })
        .await;
    assert!(exec.errors.is_empty(), "{:?}", exec.errors);
    let names = h.recorded_names();
    assert_eq!(names, ["db"]);
}

#[tokio::test]
async fn a_resource_renamed_with_its_old_name_as_an_alias_is_neither_deleted_nor_made_again() {
    let h = Harness::new();
    let declare = |name: &'static str, alias: Option<&'static str>| {
        move |s: &mut Stack| {
            let opts = alias.map_or_else(ResourceOptions::default, |a| {
                ResourceOptions::default().alias(a)
            });
            let a = Thing::with(
                s,
                name,
                ThingArgs {
                    password: Some("hunter2".to_string().into()),
                    ..thing("1")
                },
                opts,
            );
            Thing::new(
                s,
                "b",
                ThingArgs {
                    refs: refs(&[&a]),
                    ..thing("1")
                },
            );
        }
    };
    h.up(declare("a", None)).await;
    let id = |h: &Harness, name: &str| {
        let records = h.engine.records().unwrap();
        records.into_iter().find(|r| r.name == name).map(|r| r.id)
    };
    let a_id = id(&h, "a").unwrap();
    let made = h.cloud.calls().len();

    // Renamed in the program, the old name kept as an alias: a rename, and nothing else.
    let renamed = declare("database", Some("a"));
    let plan = h.preview(renamed).await;
    assert_eq!(
        Harness::kinds(&plan),
        [
            ("database".to_string(), StepKind::Same),
            ("b".to_string(), StepKind::Same)
        ]
    );
    assert_eq!(plan.steps[0].renamed_from.as_deref(), Some("a"));
    let text = crate::display::plan_text_styled(&plan, false);
    assert!(
        text.contains("~  rename   database (test:Thing)  [renamed from 'a']"),
        "{text}"
    );
    assert!(text.contains("Plan: 1 to rename (1 unchanged)"), "{text}");
    let exec = h.up(renamed).await;
    assert!(exec.errors.is_empty(), "{:?}", exec.errors);
    assert_eq!(exec.counts.get("renamed"), Some(&1));
    assert_eq!(h.cloud.calls().len(), made, "no call reached the cloud");

    // The record, under its new name: the same id, its secret sealed anew and readable, and
    // what depends on it names it anew.
    assert_eq!(id(&h, "database"), Some(a_id));
    assert_eq!(id(&h, "a"), None);
    let records = h.engine.records().unwrap();
    let database = records.iter().find(|r| r.name == "database").unwrap();
    assert_eq!(database.inputs["password"], json!({"@secret": "hunter2"}));
    let b = records.iter().find(|r| r.name == "b").unwrap();
    assert_eq!(b.dependencies, ["database"]);
    assert!(is_noop(&h.preview(renamed).await));

    // An alias the program also declares is two claims on one record: refused.
    let err = h
        .engine
        .preview(
            &h.declare(|s| {
                Thing::new(s, "a", thing("1"));
                Thing::with(
                    s,
                    "database",
                    thing("1"),
                    ResourceOptions::default().alias("a"),
                );
            })
            .unwrap(),
        )
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("resource 'database' has the alias 'a', which the program declares too"),
        "{err}"
    );
}

#[tokio::test]
async fn components_scope_names_show_as_a_tree_and_an_alias_moves_a_resource_into_one() {
    let h = Harness::new_plain();
    h.up(|s| {
        Thing::new(s, "vpc", thing("1"));
    })
    .await;
    let vpc_id = h.engine.records().unwrap()[0].id.clone();
    let program = |s: &mut Stack| {
        let vpc = s.component("network", |c| {
            // Moved into the component: its old name is its alias.
            let vpc = Thing::with(
                c,
                "vpc",
                thing("1"),
                ResourceOptions::default().alias("vpc"),
            );
            c.component("private", |c| {
                Thing::new(
                    c,
                    "subnet",
                    ThingArgs {
                        refs: refs(&[&vpc]),
                        ..thing("1")
                    },
                );
            });
            vpc
        });
        // The same name in another component is another resource.
        s.component("app", |c| {
            Thing::new(
                c,
                "vpc",
                ThingArgs {
                    refs: refs(&[&vpc]),
                    ..thing("2")
                },
            );
        });
        Thing::new(s, "dns", thing("1"));
    };
    let plan = h.preview(program).await;
    assert_eq!(
        Harness::kinds(&plan),
        [
            ("network/vpc".to_string(), StepKind::Same),
            ("network/private/subnet".to_string(), StepKind::Create),
            ("app/vpc".to_string(), StepKind::Create),
            ("dns".to_string(), StepKind::Create),
        ]
    );
    insta::assert_snapshot!(
        "plan_components",
        crate::display::plan_text_styled(&plan, false)
    );
    let exec = h.up(program).await;
    assert!(exec.errors.is_empty(), "{:?}", exec.errors);
    let mut names: Vec<(String, String)> = h
        .engine
        .records()
        .unwrap()
        .into_iter()
        .map(|r| (r.name, r.id))
        .collect();
    names.sort();
    assert_eq!(names[3], ("network/vpc".to_string(), vpc_id));
    let names: Vec<&str> = names.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        ["app/vpc", "dns", "network/private/subnet", "network/vpc"]
    );
    assert!(is_noop(&h.preview(program).await));
}
