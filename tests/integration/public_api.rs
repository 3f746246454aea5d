//! The engine driven through its public API only, as a user's crate sees it: the
//! `#[cairn::resource]` declaration must work from outside the engine crate.

use cairn::testing::TestProvider;
use cairn::{Config, Engine, Output, Program, ResourceOptions, Stack, StepKind};
use cairn_state::Store;

/// A user-defined handle over the test provider's type.
#[cairn::resource(token = "test:Thing", provider = TestProvider)]
pub struct Widget {
    pub key: Option<String>,
    pub value: String,
    pub refs: Option<Vec<String>>,
    #[output]
    pub id: String,
    #[output]
    pub value: Option<String>,
}

fn program(s: &mut Stack) {
    let base = Widget::new(s, "base", WidgetArgs::builder().value("b").build());
    let top = Widget::with(
        s,
        "top",
        WidgetArgs::builder()
            .value(
                base.value()
                    .map(|v| format!("{}-top", v.unwrap_or_default())),
            )
            .refs(Output::all([base.id()]))
            .build(),
        ResourceOptions::default().depends_on(&base),
    );
    s.export("topId", top.id());
}

#[tokio::test]
async fn a_user_crate_declares_plans_and_applies() {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::new(Store::open(dir.path().join("s.db")).unwrap(), "dev");
    let cloud = TestProvider::new();
    let declare = || {
        let cloud = cloud.clone();
        Program::declare(Stack::new("dev", Config::default()), move |s| {
            s.provider("test", cloud);
            program(s)
        })
        .unwrap()
    };
    let p = declare();
    let plan = engine.preview(&p).await.unwrap();
    assert!(plan.steps.iter().all(|s| s.kind() == StepKind::Create));
    let session = engine.lock("up").unwrap();
    let exec = session.apply(&p, &plan, 0, &|_| {}).await.unwrap();
    drop(session);
    assert!(exec.errors.is_empty());
    let top = cloud
        .cloud()
        .into_values()
        .find(|(n, _)| n == "top")
        .unwrap();
    assert_eq!(top.1["value"], "b-top");
    assert_eq!(engine.outputs().unwrap().len(), 1);
    assert!(cairn::is_noop(&engine.preview(&declare()).await.unwrap()));
}
