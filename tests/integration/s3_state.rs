//! The S3 state backend's parts against moto's S3 (conditional writes and all). The lock: one
//! holder at a time, named to whoever is refused; an expired lease taken over by exactly one
//! taker, and the old holder told it lost the lock; a missing bucket named before anything
//! happens. The snapshot and journal objects: each written only where its condition holds.

use std::time::Duration;

use cairn_state::StateError;
use cairn_state::s3::lease::Lease;
use cairn_state::s3::{Bucket, BucketProblem, Location};
use cairn_tests::Moto;

const LEASE: Duration = Duration::from_secs(60);

async fn bucket(moto: &Moto, name: &str, create: bool) -> Result<Bucket, StateError> {
    let sdk = crate::inventory::sdk(&moto.endpoint, None).await;
    if create {
        crate::inventory::create_bucket(&sdk, name).await;
    }
    let location = Location::parse(&format!("s3://{name}/team/cairn")).unwrap();
    Bucket::connect_with(location, &sdk).await
}

#[tokio::test(flavor = "multi_thread")]
async fn one_holder_at_a_time_and_an_expired_lease_goes_to_exactly_one_taker() {
    let moto = Moto::start();
    let err = bucket(&moto, "no-such-bucket", false).await.err().unwrap();
    assert!(
        matches!(&err, StateError::Bucket { bucket, problem: BucketProblem::Missing, .. }
            if bucket == "no-such-bucket"),
        "{err}"
    );
    assert!(err.to_string().contains("'no-such-bucket'"), "{err}");

    let b = bucket(&moto, "team-state", true).await.unwrap();
    let first = Lease::acquire(&b, "dev", "up", LEASE).await.unwrap();
    assert!(first.taken_over().is_none());
    let refused = Lease::acquire(&b, "dev", "destroy", LEASE)
        .await
        .err()
        .unwrap();
    match &refused {
        StateError::LeaseHeld { stack, holder } => {
            assert_eq!(stack, "dev");
            assert_eq!(holder.pid, std::process::id());
            assert_eq!(holder.command, "up");
        }
        other => panic!("{other}"),
    }
    assert!(refused.to_string().contains("`up`"), "{refused}");
    // Another stack is another lock.
    Lease::acquire(&b, "prod", "up", LEASE)
        .await
        .unwrap()
        .release()
        .await
        .unwrap();

    // Renewing moves the lease's end; releasing frees the lock.
    let mut first = first;
    let before = first.holder().expires;
    first.renew().await.unwrap();
    assert!(first.holder().expires >= before);
    first.release().await.unwrap();

    // A holder that stopped renewing (its lease already over): the next command takes over,
    // saying whose it was, and the old holder learns it lost the lock.
    let mut crashed = Lease::acquire(&b, "dev", "up", Duration::ZERO)
        .await
        .unwrap();
    let taker = Lease::acquire(&b, "dev", "up", LEASE).await.unwrap();
    assert_eq!(taker.taken_over().map(|h| h.command.as_str()), Some("up"));
    let lost = crashed.renew().await.err().unwrap();
    assert!(
        matches!(lost, StateError::LeaseLost { ref stack } if stack == "dev"),
        "{lost}"
    );
    // A second taker finds a live lease: only one wins.
    let second = Lease::acquire(&b, "dev", "up", LEASE).await.err().unwrap();
    assert!(matches!(second, StateError::LeaseHeld { .. }), "{second}");

    // Forcing removes any lock, naming its holder.
    let forced = Lease::force_release(&b, "dev").await.unwrap();
    assert_eq!(forced.map(|h| h.expires), Some(taker.holder().expires));
    assert!(Lease::force_release(&b, "dev").await.unwrap().is_none());
    let lost = taker.release().await.err().unwrap();
    assert!(matches!(lost, StateError::LeaseLost { .. }), "{lost}");
}

/// The snapshot and journal objects: a snapshot is written only over the one it was read as, a
/// journal entry only once, and opening reads the entries after the snapshot's, in order.
#[tokio::test(flavor = "multi_thread")]
async fn a_snapshot_goes_only_over_the_one_read_and_a_journal_entry_only_once() {
    use cairn_state::s3::remote::{RemoteSnapshot, RemoteStack};
    use serde_json::json;

    let moto = Moto::start();
    let b = bucket(&moto, "team-state", true).await.unwrap();
    let remote = RemoteStack::new(&b, "dev");
    assert!(remote.snapshot().await.unwrap().is_none());

    // A stack to snapshot, from a local state.
    let dir = tempfile::tempdir().unwrap();
    let store = cairn_state::Store::open(dir.path().join("s.db")).unwrap();
    let update = store.begin_update("dev", "up").unwrap();
    store.finish_update(update, true, &json!({})).unwrap();
    let stack = store.export_stack("dev").unwrap().unwrap();

    let first = RemoteSnapshot {
        through: 0,
        stack: stack.clone(),
        sequences: Default::default(),
    };
    let etag = remote.write_snapshot(&first, None).await.unwrap();
    // A second writer that read no snapshot, or an older one, is refused.
    let again = remote.write_snapshot(&first, None).await.unwrap_err();
    assert!(
        matches!(again, StateError::RemoteConflict { .. }),
        "{again}"
    );
    for n in 1..=3 {
        remote.append(n, &json!({"n": n})).await.unwrap();
    }
    let twice = remote.append(2, &json!({"n": "again"})).await.unwrap_err();
    assert!(
        twice.to_string().contains("journal entry 2 exists already"),
        "{twice}"
    );

    let (read, read_etag) = remote.snapshot().await.unwrap().unwrap();
    assert_eq!(read_etag, etag);
    let after: Vec<u64> = remote
        .entries_after(read.through)
        .await
        .unwrap()
        .into_iter()
        .map(|(n, entry)| {
            assert_eq!(entry["n"], n);
            n
        })
        .collect();
    assert_eq!(after, [1, 2, 3]);

    // Compacting: a snapshot through 2 over the one read, then its entries go.
    let compacted = RemoteSnapshot {
        through: 2,
        stack,
        sequences: Default::default(),
    };
    let newer = remote
        .write_snapshot(&compacted, Some(&read_etag))
        .await
        .unwrap();
    let stale = remote
        .write_snapshot(&compacted, Some(&read_etag))
        .await
        .unwrap_err();
    assert!(
        matches!(stale, StateError::RemoteConflict { .. }),
        "{stale}"
    );
    remote.drop_through(2).await.unwrap();
    let (read, etag) = remote.snapshot().await.unwrap().unwrap();
    assert_eq!((read.through, etag), (2, newer));
    let left: Vec<u64> = remote
        .entries_after(0)
        .await
        .unwrap()
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    assert_eq!(left, [3]);
}

/// Every object in the bucket: key → body.
pub(crate) async fn objects(
    sdk: &aws_config::SdkConfig,
    bucket: &str,
) -> std::collections::BTreeMap<String, Vec<u8>> {
    let s3 = crate::inventory::s3(sdk);
    let mut out = std::collections::BTreeMap::new();
    let listed = s3.list_objects_v2().bucket(bucket).send().await.unwrap();
    for o in listed.contents() {
        let key = o.key().unwrap().to_string();
        let body = s3
            .get_object()
            .bucket(bucket)
            .key(&key)
            .send()
            .await
            .unwrap()
            .body
            .collect()
            .await
            .unwrap()
            .into_bytes()
            .to_vec();
        out.insert(key, body);
    }
    out
}

fn record(name: &str) -> cairn_state::ResourceRecord {
    cairn_state::ResourceRecord {
        seq: 0,
        name: name.into(),
        ty: "test:Thing".into(),
        provider: "test".into(),
        id: format!("id-{name}"),
        inputs: serde_json::json!({"size": 1}),
        outputs: serde_json::json!({"id": format!("id-{name}")}),
        dependencies: vec![],
        protect: false,
        replaced: false,
    }
}

fn pending(update_id: i64, name: &str) -> cairn_state::PendingOp {
    cairn_state::PendingOp {
        seq: 0,
        update_id,
        name: name.into(),
        ty: "test:Thing".into(),
        provider: "test".into(),
        kind: cairn_state::OpKind::Create,
        resource_seq: None,
        inputs: serde_json::json!({"size": 1}),
        client_token: format!("tok-{name}"),
        started_at: String::new(),
        dependencies: vec![],
        protect: false,
    }
}

const SECRET: &str = "hunter2-Correct-Horse";
const PASSPHRASE: &str = "a passphrase for tests";

/// The store over S3, as the engine uses it: each write is in S3 (a journal entry) when it
/// returns, so a store opened elsewhere sees it; the end of a locked command folds the journal
/// into a snapshot and removes it; a copy opened earlier catches up when it takes the lock, and
/// goes on with keys no one used.
#[tokio::test(flavor = "multi_thread")]
async fn every_write_is_in_s3_when_it_returns_and_another_machine_sees_it() {
    use cairn_state::Store;
    let moto = Moto::start();
    bucket(&moto, "team-state", true).await.unwrap();
    let sdk = crate::inventory::sdk(&moto.endpoint, None).await;
    let location = || Location::parse("s3://team-state/team/cairn").unwrap();
    let open = || Store::open_s3_with(location(), "dev", &sdk).unwrap();

    let open = || {
        let store = open();
        store.use_passphrase(Some(PASSPHRASE.into())).unwrap();
        store
    };
    let one = open();
    assert!(one.stacks().unwrap().is_empty());
    let lock = one.lock("dev", "up").unwrap();
    let update = one.begin_update("dev", "up").unwrap();
    let mut with_secret = pending(update, "vpc");
    with_secret.inputs = serde_json::json!({"password": {"@secret": SECRET}});
    let op = one.begin_operation("dev", &with_secret).unwrap();
    // Machine two, before the create has finished: the pending record is there.
    let two = open();
    let seen = two.pending_operations("dev").unwrap();
    assert_eq!(
        seen.iter()
            .map(|p| (p.seq, p.client_token.as_str()))
            .collect::<Vec<_>>(),
        [(op, "tok-vpc")]
    );
    let vpc = one
        .complete_create("dev", op, &record("vpc"), None)
        .unwrap();
    one.set_outputs("dev", &[("vpcId".into(), serde_json::json!("id-vpc"))])
        .unwrap();
    one.finish_update(update, true, &serde_json::json!({"counts": {"create": 1}}))
        .unwrap();
    let before_end = objects(&sdk, "team-state").await;
    assert!(
        before_end
            .keys()
            .any(|k| k.starts_with("team/cairn/dev/journal/")),
        "{:?}",
        before_end.keys()
    );
    assert!(before_end.contains_key("team/cairn/dev/lock.json"));
    // Secrets stay sealed in every object: journal entries, the lock, and the snapshot below.
    let sealed = |objects: &std::collections::BTreeMap<String, Vec<u8>>| {
        for (key, body) in objects {
            assert!(
                !body.windows(SECRET.len()).any(|w| w == SECRET.as_bytes()),
                "the plaintext of a secret is in {key}"
            );
        }
    };
    sealed(&before_end);
    // Read from the journal, the stack is at the same version (what a saved plan is held to).
    let serial = |s: &Store| s.version("dev").unwrap().unwrap();
    assert_eq!(serial(&one).serial, 2, "a create and new outputs");
    assert_eq!(serial(&open()), serial(&one));
    drop(lock);
    // The end of the command: one snapshot, no journal, no lock.
    let after_end = objects(&sdk, "team-state").await;
    assert_eq!(
        after_end.keys().collect::<Vec<_>>(),
        ["team/cairn/dev/snapshot.json"]
    );
    sealed(&after_end);

    let three = open();
    assert_eq!(serial(&three), serial(&one), "read from the snapshot");
    assert_eq!(three.resources("dev").unwrap(), vec![vpc.clone()]);
    assert!(three.pending_operations("dev").unwrap().is_empty());
    assert_eq!(three.history("dev").unwrap(), one.history("dev").unwrap());
    assert_eq!(three.outputs("dev").unwrap(), one.outputs("dev").unwrap());
    let listed = three.stacks().unwrap();
    assert_eq!(
        listed
            .iter()
            .map(|s| (s.name.as_str(), s.resources))
            .collect::<Vec<_>>(),
        [("dev", 1)]
    );

    // Machine two still shows what it read, until it takes the lock.
    assert!(two.resources("dev").unwrap().is_empty());
    let lock = two.lock("dev", "destroy").unwrap();
    assert_eq!(two.resources("dev").unwrap(), vec![vpc.clone()]);
    assert!(two.pending_operations("dev").unwrap().is_empty());
    let update = two.begin_update("dev", "destroy").unwrap();
    assert!(update > 1, "a history number reused: {update}");
    let next = two
        .begin_operation("dev", &pending(update, "subnet"))
        .unwrap();
    assert!(next > op, "an operation number reused: {next} after {op}");
    two.abandon_operation(next).unwrap();
    two.complete_delete(None, vpc.seq).unwrap();
    two.finish_update(update, true, &serde_json::json!({}))
        .unwrap();
    // One writer at a time: machine one cannot take the lock meanwhile.
    let held = one.lock("dev", "up").err().unwrap();
    assert!(matches!(held, StateError::LeaseHeld { .. }), "{held}");
    drop(lock);

    let four = open();
    assert_eq!(serial(&four).serial, 3);
    assert_eq!(serial(&four), serial(&two));
    assert!(four.resources("dev").unwrap().is_empty());
    assert_eq!(four.history("dev").unwrap().len(), 2);
}

/// Writers at once each return only once their rows are in S3 (several writers' rows may share
/// an entry, never be lost); a write another command got to first (its journal entry number
/// taken) fails, and so does every write after it, while S3 keeps what had arrived.
#[tokio::test(flavor = "multi_thread")]
async fn concurrent_writes_all_arrive_and_a_write_that_cannot_stops_every_later_one() {
    use cairn_state::Store;
    use cairn_state::s3::remote::RemoteStack;
    let moto = Moto::start();
    let b = bucket(&moto, "team-state", true).await.unwrap();
    let sdk = crate::inventory::sdk(&moto.endpoint, None).await;
    let open = || {
        Store::open_s3_with(
            Location::parse("s3://team-state/team/cairn").unwrap(),
            "dev",
            &sdk,
        )
        .unwrap()
    };
    let store = open();
    let lock = store.lock("dev", "up").unwrap();
    let update = store.begin_update("dev", "up").unwrap();
    let seqs = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for t in 0..16 {
            let (store, seqs) = (&store, &seqs);
            s.spawn(move || {
                for i in 0..10 {
                    let seq = store
                        .begin_operation("dev", &pending(update, &format!("r{t}-{i}")))
                        .unwrap();
                    seqs.lock().unwrap().push(seq);
                }
            });
        }
    });
    let mut seqs = seqs.into_inner().unwrap();
    seqs.sort();
    let elsewhere = open();
    let seen: Vec<i64> = elsewhere
        .pending_operations("dev")
        .unwrap()
        .iter()
        .map(|p| p.seq)
        .collect();
    assert_eq!(seen, seqs);
    assert_eq!(seen.len(), 160);

    // Another writer takes the next entry's number (a command that lost its lock and does not
    // know it yet, say).
    let remote = RemoteStack::new(&b, "dev");
    let last = remote.entries_after(0).await.unwrap().last().unwrap().0;
    remote
        .append(last + 1, &serde_json::json!({"changes": []}))
        .await
        .unwrap();
    let conflict = store
        .begin_operation("dev", &pending(update, "late"))
        .unwrap_err();
    assert!(
        matches!(conflict, StateError::RemoteConflict { .. }),
        "{conflict}"
    );
    let after = store.abandon_operation(seqs[0]).unwrap_err();
    assert!(matches!(after, StateError::RemoteBroken { .. }), "{after}");
    drop(lock);
    // What S3 holds: the 160 pending records, not the write that failed nor the one after.
    let reopened = open();
    assert_eq!(reopened.pending_operations("dev").unwrap().len(), 160);

    // A lease that has run out by this machine's clock (a process paused longer than its
    // lease, say): another may hold the lock now, so nothing more is written.
    reopened.set_lock_options(cairn_state::LockOptions {
        lease: Duration::ZERO,
        ..Default::default()
    });
    let lock = reopened.lock("dev", "up").unwrap();
    let lapsed = reopened.begin_update("dev", "up").unwrap_err();
    assert!(matches!(lapsed, StateError::LeaseLost { .. }), "{lapsed}");
    drop(lock);
}
