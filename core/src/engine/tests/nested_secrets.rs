//! A secret inside a value that is not secret as a whole (made with `cairn::compose`): masked
//! and sealed where it sits, the rest of the value shown and diffed; sent plain to the
//! provider; read back as it was declared.

use std::collections::BTreeMap;

use super::*;

const PASSWORD: &str = "hunter2hunter2";

/// `t`, whose labels hold a user (plain) and a password (secret).
fn labelled(user: &'static str, password: &'static str) -> impl FnOnce(&mut Stack) + Clone {
    move |s: &mut Stack| {
        let password = Output::secret_value(password.to_string());
        let labels = crate::compose(|c| {
            BTreeMap::from([
                ("user".to_string(), user.to_string()),
                ("password".to_string(), c.text(&password)),
            ])
        });
        Thing::new(
            s,
            "t",
            ThingArgs {
                labels: Some(labels),
                ..thing("1")
            },
        );
    }
}

#[tokio::test]
async fn a_secret_inside_a_value_is_masked_alone_and_sealed_in_the_state() {
    let h = Harness::new();
    let plan = h.preview(labelled("web", PASSWORD)).await;
    let text = crate::display::plan_text_styled(&plan, false);
    assert!(
        text.contains(r#"+ labels: {"password":"[secret]","user":"web"}"#),
        "{text}"
    );
    assert!(!text.contains(PASSWORD), "{text}");
    let json = crate::display::plan_json(&plan).to_string();
    assert!(!json.contains(PASSWORD), "{json}");

    let exec = h.up(labelled("web", PASSWORD)).await;
    assert!(exec.errors.is_empty(), "{:?}", exec.errors);
    // The provider got the value plain.
    let (_, inputs) = h.cloud.cloud().into_values().next().unwrap();
    assert_eq!(
        inputs["labels"],
        json!({ "user": "web", "password": PASSWORD })
    );
    // The state holds it sealed, where it sits.
    for file in ["state.db", "state.db-wal"] {
        let bytes = std::fs::read(h._dir.path().join(file)).unwrap_or_default();
        let raw = String::from_utf8_lossy(&bytes);
        assert!(
            !raw.contains(PASSWORD),
            "{file} holds the password in the clear"
        );
    }
    let record = h.engine.records().unwrap().remove(0);
    assert_eq!(
        record.inputs["labels"]["password"],
        json!({ "@secret": PASSWORD })
    );
    assert_eq!(record.inputs["labels"]["user"], "web");

    // Read back, it is as declared: no drift, no change.
    let program = h.declare(labelled("web", PASSWORD)).unwrap();
    let session = h.engine.lock("refresh").unwrap();
    let (drifts, errors) = session.refresh(&program, 0, true).await.unwrap();
    drop(session);
    assert!(
        errors.is_empty() && drifts.is_empty(),
        "{errors:?} {drifts:?}"
    );
    assert!(!h.preview(labelled("web", PASSWORD)).await.has_changes());
}

#[tokio::test]
async fn a_change_beside_a_secret_is_shown_and_a_change_of_it_is_said_without_it() {
    let h = Harness::new();
    h.up(labelled("web", PASSWORD)).await;
    let text = crate::display::plan_text_styled(&h.preview(labelled("api", PASSWORD)).await, false);
    assert!(text.contains(r#"~ labels.user: "web" → "api""#), "{text}");
    assert!(!text.contains("labels.password"), "{text}");

    let text = crate::display::plan_text_styled(
        &h.preview(labelled("web", "another secret value")).await,
        false,
    );
    assert!(
        text.contains(r#"~ labels.password: "[secret]" → "[changed secret]""#),
        "{text}"
    );
    assert!(
        !text.contains(PASSWORD) && !text.contains("another secret value"),
        "{text}"
    );
}

#[tokio::test]
async fn a_run_that_would_record_a_secret_it_cannot_seal_changes_nothing() {
    use cairn_state::{CryptoError, StateError};
    let h = Harness::new_plain();
    let with_secret = |s: &mut Stack| {
        Thing::new(s, "plain", thing("1"));
        labelled("web", PASSWORD)(s);
    };
    // No passphrase at all.
    let err = h.try_up(with_secret).await.expect_err("refused");
    assert!(
        matches!(
            err,
            EngineError::State(StateError::Secrets(CryptoError::PassphraseRequired))
        ),
        "{err}"
    );
    // One too short to make the state's first key.
    h.engine.store.use_passphrase(Some("short".into())).unwrap();
    let err = h.try_up(with_secret).await.expect_err("refused");
    assert!(
        matches!(
            err,
            EngineError::State(StateError::Secrets(CryptoError::ShortPassphrase))
        ),
        "{err}"
    );
    assert!(h.cloud.calls().is_empty(), "{:?}", h.cloud.calls());
    assert!(h.engine.records().unwrap().is_empty());
    // Without secrets, no passphrase is needed.
    h.engine.store.use_passphrase(None).unwrap();
    let exec = h
        .try_up(|s| {
            Thing::new(s, "plain", thing("1"));
        })
        .await
        .unwrap();
    assert!(exec.errors.is_empty(), "{:?}", exec.errors);
}
