//! Resources that exist before they are ready (`Readiness::Awaited`): what may start early,
//! what waits, and that `up` ends only when everything is ready.

use std::sync::Mutex;

use super::*;
use crate::testing::{Warming, WarmingArgs};

/// A load balancer and its listener (taking its id), and a service that names the load
/// balancer in `depends_on` because it needs it serving.
fn balanced(s: &mut Stack) {
    let lb = Warming::new(s, "lb", WarmingArgs::default());
    Thing::new(
        s,
        "listener",
        ThingArgs {
            refs: Some(Output::all([lb.id()])),
            ..thing("l")
        },
    );
    Thing::with(
        s,
        "service",
        thing("s"),
        ResourceOptions::default().depends_on(&lb),
    );
}

fn lb_id(h: &Harness) -> String {
    h.engine
        .records()
        .unwrap()
        .into_iter()
        .find(|r| r.name == "lb")
        .map(|r| r.id)
        .expect("lb is recorded")
}

#[tokio::test]
async fn a_dependent_taking_outputs_starts_before_ready_and_one_naming_it_in_depends_on_waits() {
    let h = Harness::new_plain();
    h.cloud.hold_ready("lb");
    let events = Mutex::new(Vec::new());
    let program = h.declare(balanced).unwrap();
    let session = h.engine.lock("up").unwrap();
    let plan = session.plan(&program).await.unwrap();
    let record = |e: &Event| events.lock().unwrap().push((e.name.clone(), e.action));
    let (exec, ()) = tokio::join!(session.apply(&program, &plan, 0, &record), async {
        h.cloud.finished("listener", "create").await;
        // The listener was made while the load balancer was still warming up, and the service
        // has not started.
        assert!(!h.cloud.is_ready(&lb_id(&h)));
        assert!(h.cloud.calls().iter().all(|c| c.name != "service"));
        h.cloud.release_ready("lb");
    });
    let exec = exec.unwrap();
    assert!(exec.errors.is_empty(), "{:?}", exec.errors);
    assert!(h.call("ready", "lb").end < h.call("create", "service").start);
    assert!(h.call("create", "lb").end < h.call("create", "listener").start);
    // `up` returned with it ready, its outputs say so, and it was reported made once: when ready.
    let id = lb_id(&h);
    assert!(h.cloud.is_ready(&id));
    let rec = h
        .engine
        .records()
        .unwrap()
        .into_iter()
        .find(|r| r.name == "lb")
        .unwrap();
    assert_eq!(rec.outputs["ready"], json!(true));
    let events = events.into_inner().unwrap();
    let lb: Vec<Action> = events
        .iter()
        .filter(|(n, _)| n == "lb")
        .map(|(_, a)| *a)
        .collect();
    assert_eq!(lb, [Action::Creating, Action::Created]);
    let made_at = |name: &str| {
        events
            .iter()
            .position(|(n, a)| n == name && *a == Action::Created)
            .unwrap()
    };
    assert!(made_at("listener") < made_at("lb"));
    assert_eq!(exec.counts["created"], 3);
}

#[tokio::test]
async fn a_type_ready_at_create_holds_back_every_dependent() {
    let h = Harness::new_plain();
    let exec = h.up(chain).await;
    assert!(exec.errors.is_empty());
    assert!(h.call("create", "a").end < h.call("create", "b").start);
    assert!(h.cloud.calls().iter().all(|c| c.op != "ready"));
}

#[tokio::test]
async fn a_resource_that_never_becomes_ready_fails_the_run_stays_recorded_and_holds_back_what_waits()
 {
    let h = Harness::new_plain();
    h.cloud.fail("lb", "ready", "stuck provisioning");
    let exec = h.up(balanced).await;
    assert_eq!(exec.errors.len(), 1, "{:?}", exec.errors);
    let e = &exec.errors[0];
    assert_eq!((e.name.as_str(), e.verb), ("lb", "creating"));
    assert!(e.message.contains("stuck provisioning"), "{}", e.message);
    assert!(e.message.contains("up --replace lb"), "{}", e.message);
    assert_eq!(exec.skipped, ["service"]);
    assert_eq!(h.recorded_names(), ["lb", "listener"]);
    // The next up waits for it again, and goes on once it is ready.
    h.cloud.clear_failures();
    let exec = h.up(balanced).await;
    assert!(exec.errors.is_empty(), "{:?}", exec.errors);
    assert_eq!(h.recorded_names(), ["lb", "listener", "service"]);
    assert!(h.cloud.is_ready(&lb_id(&h)));
}

#[tokio::test]
async fn an_up_that_keeps_it_confirms_it_is_ready_and_says_nothing() {
    let h = Harness::new_plain();
    h.up(balanced).await;
    h.cloud.clear_calls();
    let events = Mutex::new(Vec::new());
    let program = h.declare(balanced).unwrap();
    let session = h.engine.lock("up").unwrap();
    let plan = session.plan(&program).await.unwrap();
    let exec = session
        .apply(&program, &plan, 0, &|e: &Event| {
            events.lock().unwrap().push(e.name.clone())
        })
        .await
        .unwrap();
    assert!(exec.errors.is_empty());
    let ops: Vec<(&str, String)> = h
        .cloud
        .calls()
        .into_iter()
        .map(|c| (c.op, c.name))
        .collect();
    assert_eq!(ops, [("ready", "lb".to_string())]);
    assert!(events.into_inner().unwrap().is_empty());
}

#[tokio::test]
async fn a_replaced_copy_is_deleted_only_once_the_new_one_is_ready() {
    let h = Harness::new_plain();
    let declare = |key: &'static str| {
        move |s: &mut Stack| {
            Warming::new(
                s,
                "lb",
                WarmingArgs {
                    key: Some(key.into()),
                    ..Default::default()
                },
            );
        }
    };
    h.up(declare("1")).await;
    let old = lb_id(&h);
    h.cloud.clear_calls();
    let exec = h.up(declare("2")).await;
    assert!(exec.errors.is_empty(), "{:?}", exec.errors);
    assert_eq!(exec.counts["replaced"], 1);
    assert!(h.call("ready", "lb").end < h.call("delete", "lb").start);
    assert!(!h.cloud.cloud().contains_key(&old));
}

#[tokio::test]
async fn an_interrupt_ends_a_wait_for_readiness_at_once_and_the_next_up_waits_again() {
    let h = Harness::new_plain();
    h.cloud.hold_ready("lb");
    let program = h.declare(balanced).unwrap();
    let session = h.engine.lock("up").unwrap();
    let plan = session.plan(&program).await.unwrap();
    let stop = session.stop();
    let (exec, ()) = tokio::join!(session.apply(&program, &plan, 0, &|_| {}), async {
        h.cloud.finished("listener", "create").await;
        stop.request();
    });
    let exec = exec.unwrap();
    assert_eq!(exec.errors.len(), 1, "{:?}", exec.errors);
    assert!(
        exec.errors[0]
            .message
            .contains("interrupted before it was ready")
    );
    assert!(
        h.cloud
            .calls()
            .iter()
            .all(|c| c.op != "ready" && c.name != "service")
    );
    drop(session);
    assert_eq!(h.recorded_names(), ["lb", "listener"]);
    h.cloud.release_ready("lb");
    let exec = h.up(balanced).await;
    assert!(exec.errors.is_empty(), "{:?}", exec.errors);
    assert!(h.cloud.is_ready(&lb_id(&h)));
    assert_eq!(h.recorded_names(), ["lb", "listener", "service"]);
}
