//! Unit tests of the store against real SQLite files.

use super::*;
use serde_json::json;

fn record(name: &str) -> ResourceRecord {
    ResourceRecord {
        seq: 0,
        name: name.into(),
        ty: "test:Thing".into(),
        provider: "test".into(),
        id: format!("id-{name}"),
        inputs: json!({"size": 1}),
        outputs: json!({"id": format!("id-{name}")}),
        dependencies: vec![],
        protect: false,
        replaced: false,
    }
}

fn pending(name: &str, kind: OpKind) -> PendingOp {
    PendingOp {
        seq: 0,
        update_id: 1,
        name: name.into(),
        ty: "test:Thing".into(),
        provider: "test".into(),
        kind,
        resource_seq: None,
        inputs: json!({}),
        client_token: "tok".into(),
        started_at: String::new(),
        dependencies: vec!["vpc".into()],
        protect: true,
    }
}

#[test]
fn create_update_delete_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("s.db")).unwrap();
    let op = store
        .begin_operation("dev", &pending("a", OpKind::Create))
        .unwrap();
    assert_eq!(store.pending_operations("dev").unwrap().len(), 1);
    let rec = store
        .complete_create("dev", op, &record("a"), None)
        .unwrap();
    assert!(store.pending_operations("dev").unwrap().is_empty());

    let mut changed = rec.clone();
    changed.inputs = json!({"size": 2});
    store.complete_update(None, &changed).unwrap();
    let all = store.resources("dev").unwrap();
    assert_eq!(all, vec![changed]);

    store.complete_delete(None, rec.seq).unwrap();
    assert!(store.resources("dev").unwrap().is_empty());
}

#[test]
fn replacement_keeps_the_old_copy_until_deleted() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("s.db")).unwrap();
    let op = store
        .begin_operation("dev", &pending("a", OpKind::Create))
        .unwrap();
    let old = store
        .complete_create("dev", op, &record("a"), None)
        .unwrap();
    let op = store
        .begin_operation("dev", &pending("a", OpKind::Create))
        .unwrap();
    let new = store
        .complete_create("dev", op, &record("a"), Some(old.seq))
        .unwrap();
    let all = store.resources("dev").unwrap();
    assert_eq!(all.len(), 2);
    assert!(all.iter().any(|r| r.seq == old.seq && r.replaced));
    assert!(all.iter().any(|r| r.seq == new.seq && !r.replaced));
}

#[test]
fn a_second_lock_fails_naming_the_holder_and_drop_releases() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("s.db")).unwrap();
    let other = Store::open(dir.path().join("s.db")).unwrap();
    let guard = store.lock("dev", "up").unwrap();
    match other.lock("dev", "destroy") {
        Err(StateError::Locked { holder, .. }) => {
            assert_eq!(holder.command, "up");
            assert_eq!(holder.pid, std::process::id());
        }
        other => panic!("expected Locked, got {:?}", other.err()),
    }
    // Another stack is independent.
    drop(other.lock("prod", "up").unwrap());
    drop(guard);
    drop(other.lock("dev", "destroy").unwrap());
}

#[test]
fn a_live_lock_is_never_released_without_force() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("s.db")).unwrap();
    let _guard = store.lock("dev", "up").unwrap();
    assert!(matches!(
        store.unlock("dev", false),
        Err(StateError::LockAlive { .. })
    ));
    assert!(store.lock_holder("dev").unwrap().is_some());
}

/// Writes a lock row as another process would have left it.
fn leave_lock(path: &std::path::Path, host: &str, pid: u32, started: &str) {
    let conn = rusqlite::Connection::open(path).unwrap();
    conn.execute(
        "INSERT INTO locks(stack, host, pid, command, since, started) \
         VALUES ('dev', ?1, ?2, 'up', '2026-01-01T00:00:00Z', ?3)",
        rusqlite::params![host, pid, started],
    )
    .unwrap();
}

fn this_host() -> String {
    gethostname::gethostname().to_string_lossy().into_owned()
}

/// A pid no process has: above the kernel's limit.
const NO_SUCH_PID: u32 = 4_194_304 + 1;

#[test]
fn the_lock_of_a_dead_process_on_this_host_is_taken_over_saying_whose() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    let store = Store::open(&path).unwrap();
    drop(store.lock("dev", "up").unwrap()); // the stack exists
    leave_lock(&path, &this_host(), NO_SUCH_PID, "");
    let guard = store.lock("dev", "destroy").unwrap();
    let old = guard.taken_over().unwrap();
    assert_eq!((old.pid(), old.command()), (NO_SUCH_PID, "up"));
    assert_eq!(
        store.lock_holder("dev").unwrap().unwrap().pid(),
        std::process::id()
    );
}

#[test]
fn a_reused_pid_is_not_mistaken_for_the_holder() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    let store = Store::open(&path).unwrap();
    drop(store.lock("dev", "up").unwrap());
    // This very process's pid, but a holder that started at another time: the holder is gone
    // and its pid was given to someone else (here, us).
    leave_lock(&path, &this_host(), std::process::id(), "some-boot:1");
    let guard = store.lock("dev", "up").unwrap();
    assert!(guard.taken_over().is_some());
}

#[test]
fn a_live_holder_or_one_on_another_host_is_never_taken_over() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    let store = Store::open(&path).unwrap();
    let live = store.lock("dev", "up").unwrap();
    assert!(live.taken_over().is_none());
    assert!(matches!(
        store.lock("dev", "up"),
        Err(StateError::Locked { .. })
    ));
    drop(live);
    leave_lock(&path, "another-host", NO_SUCH_PID, "");
    match store.lock("dev", "up") {
        Err(StateError::Locked { holder, .. }) => assert_eq!(holder.host, "another-host"),
        other => panic!("expected Locked, got {:?}", other.err()),
    }
}

#[test]
fn newer_schema_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    drop(Store::open(&path).unwrap());
    let conn = Connection::open(&path).unwrap();
    conn.pragma_update(None, "user_version", SCHEMA_VERSION_FOR_TEST + 1)
        .unwrap();
    drop(conn);
    assert!(matches!(
        Store::open(&path),
        Err(StateError::NewerSchema { .. })
    ));
}

const SCHEMA_VERSION_FOR_TEST: i64 = crate::schema::SCHEMA_VERSION;

#[test]
fn garbage_is_reported_as_corrupt() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    std::fs::write(&path, b"this is not a database, not even a little bit").unwrap();
    assert!(matches!(
        Store::open(&path),
        Err(StateError::Corrupt { .. })
    ));
}

#[test]
fn history_records_each_update() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("s.db")).unwrap();
    let id = store.begin_update("dev", "up").unwrap();
    store
        .finish_update(id, true, &json!({"create": 3}))
        .unwrap();
    let h = store.history("dev").unwrap();
    assert_eq!(h.len(), 1);
    assert_eq!(h[0].result.as_deref(), Some("succeeded"));
    assert_eq!(h[0].summary, json!({"create": 3}));
}

#[test]
fn the_log_is_checkpointed_aside_and_folded_in_on_close() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    let store = Store::open(&path).unwrap();
    // Enough commits to wake the checkpointer several times.
    for i in 0..(3 * CHECKPOINT_EVERY as usize) {
        let seq = store
            .begin_operation("dev", &pending("a", OpKind::Create))
            .unwrap();
        store
            .complete_create("dev", seq, &record(&format!("r{i}")), None)
            .unwrap();
    }
    drop(store);
    // Closed: everything is in the database file itself, and the log is empty.
    let wal = path.with_extension("db-wal");
    assert!(std::fs::metadata(&wal).map_or(true, |m| m.len() == 0));
    let copy = dir.path().join("copy.db");
    std::fs::copy(&path, &copy).unwrap();
    let reopened = Store::open(&copy).unwrap();
    assert_eq!(
        reopened.resources("dev").unwrap().len(),
        3 * CHECKPOINT_EVERY as usize
    );
}

#[test]
fn a_schema_1_database_is_migrated_keeping_every_row() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    let fixture = include_str!("../../tests/fixtures/schema-1.sql");
    Connection::open(&path)
        .unwrap()
        .execute_batch(fixture)
        .unwrap();

    let store = Store::open(&path).unwrap();
    let version: i64 = Connection::open(&path)
        .unwrap()
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(version, SCHEMA_VERSION_FOR_TEST);

    let resources = store.resources("dev").unwrap();
    let names: Vec<(&str, &str, bool)> = resources
        .iter()
        .map(|r| (r.name.as_str(), r.id.as_str(), r.protect))
        .collect();
    assert_eq!(
        names,
        [
            ("vpc", "vpc-0a1b2c3d", true),
            ("private-a", "subnet-0e0f", false)
        ]
    );
    assert_eq!(resources[1].dependencies, ["vpc"]);
    assert_eq!(resources[0].inputs["cidr_block"], "10.0.0.0/16");
    assert_eq!(resources[1].outputs["id"], "subnet-0e0f");

    // The interrupted create is still there to settle; what version 1 did not record is empty.
    let pending = store.pending_operations("dev").unwrap();
    assert_eq!(pending.len(), 1);
    assert_eq!(
        (
            pending[0].name.as_str(),
            pending[0].kind,
            pending[0].client_token.as_str()
        ),
        ("private-b", OpKind::Create, "cairn-1f2e-3d4c-0")
    );
    assert!(pending[0].dependencies.is_empty() && !pending[0].protect);

    let history = store.history("dev").unwrap();
    assert_eq!(history.len(), 2);
    assert_eq!(history[1].result.as_deref(), Some("succeeded"));
    assert_eq!(history[1].summary["counts"]["created"], 2);
    assert_eq!(
        store.outputs("dev").unwrap(),
        [("vpcId".to_string(), serde_json::json!("vpc-0a1b2c3d"))]
    );
    let holder = store.lock_holder("dev").unwrap().unwrap();
    assert_eq!((holder.host(), holder.pid()), ("build-7", 4242));
    // And it is writable: the stale lock is released with --force (another host's).
    store.unlock("dev", true).unwrap();
    assert!(store.lock_holder("dev").unwrap().is_none());
}

#[test]
fn a_rekey_reseals_every_secret_under_the_new_passphrase_and_current_costs() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    let store = Store::open(&path).unwrap();
    store
        .use_passphrase(Some("the first passphrase".into()))
        .unwrap();
    let mut secret = record("db");
    secret.inputs = json!({"password": {"@secret": "hunter2-hunter2"}, "size": 1});
    let op = store
        .begin_operation("dev", &pending("db", OpKind::Create))
        .unwrap();
    store.complete_create("dev", op, &secret, None).unwrap();
    store
        .set_outputs(
            "dev",
            &[("pw".into(), json!({"@secret": "hunter2-hunter2"}))],
        )
        .unwrap();

    let rewritten = store.rekey(Some("a second passphrase".into())).unwrap();
    assert_eq!(rewritten, 2, "the record's inputs and the output");
    assert_eq!(store.kdf().unwrap(), Some(crate::Kdf::CURRENT));
    drop(store);

    let old = Store::open(&path).unwrap();
    let err = old
        .use_passphrase(Some("the first passphrase".into()))
        .unwrap_err();
    assert!(
        matches!(
            err,
            StateError::Secrets(crate::CryptoError::WrongPassphrase)
        ),
        "{err}"
    );
    drop(old);
    let new = Store::open(&path).unwrap();
    new.use_passphrase(Some("a second passphrase".into()))
        .unwrap();
    assert_eq!(new.resources("dev").unwrap()[0].inputs, secret.inputs);
    assert_eq!(
        new.outputs("dev").unwrap()[0].1,
        json!({"@secret": "hunter2-hunter2"})
    );
}

#[test]
fn a_short_passphrase_cannot_seal_a_first_secret() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("s.db")).unwrap();
    store.use_passphrase(Some("short".into())).unwrap();
    let err = store
        .set_outputs("dev", &[("pw".into(), json!({"@secret": "x"}))])
        .unwrap_err();
    assert!(
        matches!(
            err,
            StateError::Secrets(crate::CryptoError::ShortPassphrase)
        ),
        "{err}"
    );
}

#[test]
fn a_ciphertext_moved_to_another_record_does_not_open_and_an_old_one_is_resealed_when_written() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("s.db")).unwrap();
    store
        .use_passphrase(Some("the first passphrase".into()))
        .unwrap();
    for name in ["a", "b"] {
        let mut r = record(name);
        r.inputs = json!({"password": {"@secret": format!("{name}-secret-value")}});
        let op = store
            .begin_operation("dev", &pending(name, OpKind::Create))
            .unwrap();
        store.complete_create("dev", op, &r, None).unwrap();
    }
    let conn = store.conn();
    let a: String = conn
        .query_row("SELECT inputs FROM resources WHERE name = 'a'", [], |r| {
            r.get(0)
        })
        .unwrap();
    let b: String = conn
        .query_row("SELECT inputs FROM resources WHERE name = 'b'", [], |r| {
            r.get(0)
        })
        .unwrap();
    conn.execute("UPDATE resources SET inputs = ?1 WHERE name = 'b'", [&a])
        .unwrap();
    drop(conn);
    let err = store.resources("dev").unwrap_err();
    assert!(
        matches!(err, StateError::Secrets(crate::CryptoError::Damaged)),
        "{err}"
    );

    // A value sealed in the old form (no associated data) opens, and is sealed in the new
    // form the next time its record is written.
    let key = store.inner.sealer.key(&store.conn(), false).unwrap();
    let old = json!({"password": {"@encrypted": key.seal_legacy(br#""b-secret-value""#)}});
    store
        .conn()
        .execute(
            "UPDATE resources SET inputs = ?1 WHERE name = 'b'",
            [old.to_string()],
        )
        .unwrap();
    let b_rec = store.resources("dev").unwrap().remove(1);
    assert_eq!(
        b_rec.inputs["password"],
        json!({"@secret": "b-secret-value"})
    );
    store.complete_update(None, &b_rec).unwrap();
    let stored: String = store
        .conn()
        .query_row("SELECT inputs FROM resources WHERE name = 'b'", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert!(stored.contains("\"v2:") && stored != b, "{stored}");
}

/// A stack with a secret, an interrupted operation, history and outputs, in a new state file.
fn stack_to_move(path: &std::path::Path) -> Store {
    let store = Store::open(path).unwrap();
    store
        .use_passphrase(Some("the first passphrase".into()))
        .unwrap();
    let update = store.begin_update("dev", "up").unwrap();
    let mut db = record("db");
    db.inputs = json!({"password": {"@secret": "hunter2-moved"}, "size": 1});
    let op = store
        .begin_operation("dev", &pending("db", OpKind::Create))
        .unwrap();
    let db = store.complete_create("dev", op, &db, None).unwrap();
    let web = store
        .begin_operation("dev", &pending("web", OpKind::Create))
        .unwrap();
    store
        .complete_create("dev", web, &record("web"), None)
        .unwrap();
    // Interrupted: an update of db, in flight when the process died.
    store
        .begin_operation(
            "dev",
            &PendingOp {
                resource_seq: Some(db.seq),
                update_id: update,
                ..pending("db", OpKind::Update)
            },
        )
        .unwrap();
    store
        .set_outputs("dev", &[("pw".into(), json!({"@secret": "hunter2-moved"}))])
        .unwrap();
    store
        .finish_update(update, true, &json!({"created": 2}))
        .unwrap();
    store
}

fn without_seq(records: Vec<ResourceRecord>) -> Vec<ResourceRecord> {
    records
        .into_iter()
        .map(|r| ResourceRecord { seq: 0, ..r })
        .collect()
}

#[test]
fn an_exported_stack_imports_whole_into_another_state_and_never_over_one() {
    let dir = tempfile::tempdir().unwrap();
    let from = stack_to_move(&dir.path().join("from.db"));
    let snapshot = from.export_stack("dev").unwrap().unwrap();
    assert!(
        !serde_json::to_string(&snapshot)
            .unwrap()
            .contains("hunter2")
    );
    assert!(from.export_stack("prod").unwrap().is_none());

    // Into a state with a stack of its own and its own key (same passphrase): the secrets
    // are sealed again with that key.
    let to = Store::open(dir.path().join("to.db")).unwrap();
    to.use_passphrase(Some("the first passphrase".into()))
        .unwrap();
    to.set_outputs("other", &[("k".into(), json!({"@secret": "other-secret"}))])
        .unwrap();
    let rows = to.import_stack(&snapshot).unwrap();
    assert_eq!(
        rows, 5,
        "1 update, 2 resources, 1 pending operation, 1 output"
    );
    assert_eq!(
        without_seq(to.resources("dev").unwrap()),
        without_seq(from.resources("dev").unwrap())
    );
    assert_eq!(to.outputs("dev").unwrap(), from.outputs("dev").unwrap());
    assert_eq!(
        to.outputs("other").unwrap()[0].1,
        json!({"@secret": "other-secret"})
    );
    let pending = to.pending_operations("dev").unwrap();
    let db_seq = to.resources("dev").unwrap()[0].seq;
    assert_eq!(pending.len(), 1);
    assert_eq!(
        pending[0].resource_seq,
        Some(db_seq),
        "renumbered with its record"
    );
    assert_eq!(pending[0].update_id, to.history("dev").unwrap()[0].id);
    assert_eq!(to.history("dev").unwrap().len(), 1);

    let err = to.import_stack(&snapshot).unwrap_err();
    assert!(
        matches!(err, StateError::StackExists(ref s) if s == "dev"),
        "{err}"
    );
    assert_eq!(to.resources("dev").unwrap().len(), 2, "nothing was added");
}

#[test]
fn every_change_to_what_a_stack_records_moves_its_serial_and_nothing_else_does() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("s.db")).unwrap();
    assert_eq!(store.version("dev").unwrap(), None);
    let serial = || store.version("dev").unwrap().unwrap().serial;

    let op = store
        .begin_operation("dev", &pending("a", OpKind::Create))
        .unwrap();
    let lineage = store.version("dev").unwrap().unwrap().lineage;
    assert_eq!(serial(), 0, "an operation begun records nothing yet");
    let rec = store
        .complete_create("dev", op, &record("a"), None)
        .unwrap();
    assert_eq!(serial(), 1);
    let mut changed = rec.clone();
    changed.inputs = json!({"size": 2});
    store.complete_update(None, &changed).unwrap();
    assert_eq!(serial(), 2);
    store.rename_resource("dev", rec.seq, "b").unwrap();
    assert_eq!(serial(), 3);
    store
        .set_outputs("dev", &[("url".into(), json!("x"))])
        .unwrap();
    assert_eq!(serial(), 4);
    store
        .set_outputs("dev", &[("url".into(), json!("x"))])
        .unwrap();
    assert_eq!(serial(), 4, "the same outputs again change nothing");
    let id = store.begin_update("dev", "up").unwrap();
    store.finish_update(id, true, &json!({})).unwrap();
    assert_eq!(serial(), 4, "history is not what the stack records");
    store.complete_delete(None, rec.seq).unwrap();
    assert_eq!(serial(), 5);

    // Another stack's writes are its own.
    let other = store
        .begin_operation("prod", &pending("a", OpKind::Create))
        .unwrap();
    store
        .complete_create("prod", other, &record("a"), None)
        .unwrap();
    assert_eq!(serial(), 5);
    let prod = store.version("prod").unwrap().unwrap();
    assert_ne!(prod.lineage, lineage);

    // Moved to another state, the stack is the same one, at the same serial.
    let snapshot = store.export_stack("dev").unwrap().unwrap();
    let elsewhere = Store::open(dir.path().join("t.db")).unwrap();
    elsewhere.import_stack(&snapshot).unwrap();
    assert_eq!(
        elsewhere.version("dev").unwrap().unwrap(),
        store.version("dev").unwrap().unwrap()
    );
}
