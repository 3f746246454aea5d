//! One stack in S3 (moto's), shared by two machines: each machine is the program run from a
//! working directory of its own, with `CAIRN_STATE=s3://…`. A second `up` while the first
//! runs fails at once naming it; a first killed with SIGKILL leaves its lease, which the other
//! machine takes over once it expires (`--lock-timeout` waits for that) and settles what the
//! kill left in flight; kills at random instants on one machine, each finished on the other,
//! leave moto holding exactly what the state records. A rename on one machine is the other's
//! too. And a stack moves from a file to S3 and back with its history and secrets, no secret's
//! plaintext in any object.

use std::process::Stdio;
use std::time::Duration;

use cairn_state::Store;
use cairn_state::s3::Location;
use cairn_tests::faults::{FaultPlan, FaultProxy, Hold};
use cairn_tests::{Cli, Moto};

use crate::inventory::{self, Defaults, ROLE_B};

const BIN: &str = env!("CARGO_BIN_EXE_cairn-program");
const SECRETS_BIN: &str = env!("CARGO_BIN_EXE_cairn-secrets");
const BUCKET: &str = "team-state";
const STATE: &str = "s3://team-state/cairn";
/// Short, so that a killed holder's lock frees itself within the test.
const LEASE: &str = "3s";

async fn make_bucket(moto: &Moto) -> aws_config::SdkConfig {
    let sdk = inventory::sdk(&moto.endpoint, None).await;
    inventory::create_bucket(&sdk, BUCKET).await;
    sdk
}

/// A machine: its own directory and configuration, the shared state in S3, reached directly
/// (`AWS_ENDPOINT_URL_S3`) whatever the provider's calls go through.
fn machine(bin: &str, moto: &Moto) -> Cli {
    Cli::new(bin, moto)
        .env("CAIRN_STATE", STATE)
        .env("AWS_ENDPOINT_URL_S3", &moto.endpoint)
        .env("AWS_REGION", "us-east-2")
        .env("CAIRN_LOCK_LEASE", LEASE)
}

fn state(sdk: &aws_config::SdkConfig) -> Store {
    Store::open_s3_with(Location::parse(STATE).unwrap(), "dev", sdk).unwrap()
}

/// Moto and the state in S3 hold the same resources, one to one, and nothing is pending.
async fn assert_s3_state_matches_moto(
    sdk: &aws_config::SdkConfig,
    moto: &Moto,
    defaults: &Defaults,
    context: &str,
) {
    let store = state(sdk);
    assert!(
        store.pending_operations("dev").unwrap().is_empty(),
        "{context}: operations left pending"
    );
    let in_moto = defaults.everything_else(&moto.endpoint).await;
    let in_state = inventory::of_state(&store.resources("dev").unwrap());
    assert_eq!(in_moto, in_state, "{context}: moto and the state differ");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_second_machine_is_refused_while_the_first_runs_and_takes_over_once_it_is_killed() {
    let moto = Moto::start();
    let sdk = make_bucket(&moto).await;
    let defaults = Defaults::of(&moto.endpoint).await;
    let one = machine(BIN, &moto);
    let two = machine(BIN, &moto);
    for m in [&one, &two] {
        m.ok(&["config", "set", "accountB:roleArn", ROLE_B]);
    }
    // Machine one's first change waits at the proxy: mid-operation, holding the lock.
    let proxy = FaultProxy::start(
        &moto.endpoint,
        FaultPlan {
            hold: Some(Hold {
                op: None,
                from: 3,
                after_moto: true,
            }),
            ..FaultPlan::default()
        },
    );
    let mut first = one
        .command(&["up", "--yes"])
        .env("AWS_ENDPOINT_URL", &proxy.endpoint)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start machine one");
    let pid = first.id();
    assert!(
        proxy.held(Duration::from_secs(120)).is_some(),
        "machine one made no change"
    );

    let refused = two.run(&["up", "--yes"]);
    assert_eq!(refused.code, 1, "{}", refused.stdout);
    for needle in [
        "stack 'dev' is locked by".to_string(),
        format!("pid {pid}"),
        "`up`".to_string(),
        "its lease is live".to_string(),
    ] {
        assert!(
            refused.stderr.contains(&needle),
            "missing {needle:?}: {}",
            refused.stderr
        );
    }
    // Refused before touching anything: the proxy's hold is the only change in flight.
    let unlock = two.run(&["state", "unlock"]);
    assert_eq!(unlock.code, 1);
    assert!(unlock.stderr.contains("lease is live"), "{}", unlock.stderr);

    // SIGKILL: no release, no snapshot; its lease and its journal stay in S3.
    first.kill().unwrap();
    first.wait().unwrap();
    drop(proxy);
    let taken = two.ok(&["up", "--yes", "--lock-timeout", "60s"]);
    assert!(
        taken.stderr.contains("Took over the lock of")
            && taken.stderr.contains(&format!("pid {pid}"))
            && taken.stderr.contains("its lease expired"),
        "{}",
        taken.stderr
    );
    assert!(
        taken
            .stdout
            .contains("operation(s) interrupted by an earlier run"),
        "{}",
        taken.stdout
    );
    assert_s3_state_matches_moto(&sdk, &moto, &defaults, "after the takeover").await;

    // Both machines now see one stack, with the same history.
    let history = one.ok(&["history"]).stdout;
    assert_eq!(history, two.ok(&["history"]).stdout);
    assert_eq!(history.lines().count(), 2, "{history}");
    let listed = one.ok(&["stack", "ls"]).stdout;
    assert!(listed.contains("dev") && listed.contains("36"), "{listed}");
}

#[tokio::test(flavor = "multi_thread")]
async fn kills_at_random_instants_on_one_machine_are_finished_on_the_other() {
    let moto = Moto::start();
    let sdk = make_bucket(&moto).await;
    let defaults = Defaults::of(&moto.endpoint).await;
    let one = machine(BIN, &moto);
    let two = machine(BIN, &moto);
    for m in [&one, &two] {
        m.ok(&["config", "set", "accountB:roleArn", ROLE_B]);
    }
    let rounds = std::env::var("CAIRN_S3_KILLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3u64);
    let mut rng = crate::crash::Rng::new(
        std::env::var("CAIRN_CRASH_SEED")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(7),
    );
    let mut cut = 0;
    for k in 0..rounds {
        // up, then destroy, then up…: creates and deletes both get cut.
        let command = ["up", "destroy"][(k % 2) as usize];
        let at = Hold {
            op: None,
            from: rng.below(30),
            after_moto: rng.below(2) == 1,
        };
        let (held, _) = crate::crash::kill_at(&one, &moto, command, at);
        cut += usize::from(held.is_some());
        let context = format!("kill {k}: {command} on machine one cut at {held:?}");
        let run = two.run(&[command, "--yes", "--lock-timeout", "60s"]);
        assert_eq!(run.code, 0, "{context}:\n{}\n{}", run.stdout, run.stderr);
        assert_s3_state_matches_moto(&sdk, &moto, &defaults, &context).await;
    }
    assert!(cut > 0, "no kill cut an operation");
    two.ok(&["destroy", "--yes"]);
    let left = defaults.everything_else(&moto.endpoint).await;
    assert!(left.is_empty(), "left behind: {left:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_stack_moves_from_a_file_to_s3_and_back_with_its_history_and_no_secret_in_s3() {
    const SECRET: &str = "hunter2-Correct-Horse";
    let moto = Moto::start();
    let sdk = make_bucket(&moto).await;
    let local = Cli::with_endpoint(SECRETS_BIN, &moto.endpoint)
        .env("AWS_REGION", "us-east-2")
        .env("CAIRN_PASSPHRASE", "a passphrase for tests");
    local.ok(&["config", "set", "--secret", "dbPassword", SECRET]);
    // (The test provider's resources live in its process: a second run has nothing to do.)
    local.ok(&["up", "--yes"]);
    local.ok(&["up", "--yes"]);
    let history = local.ok(&["history"]).stdout;
    assert_eq!(history.lines().count(), 2, "{history}");

    let moved = local.ok(&["state", "migrate", "--to", STATE]);
    assert!(
        moved.stdout.contains("Copied stack 'dev'"),
        "{}",
        moved.stdout
    );
    let in_s3 = [("CAIRN_STATE", STATE)];
    let s3_history = local.run_with(&["history"], &in_s3);
    assert_eq!(s3_history.stdout, history, "{}", s3_history.stderr);
    let shown = local
        .run_with(&["outputs", "--show-secrets"], &in_s3)
        .stdout;
    assert!(shown.contains(SECRET), "{shown}");
    let up = local.run_with(&["up", "--yes"], &in_s3);
    assert_eq!(up.code, 0, "{}", up.stderr);
    let objects = crate::s3_state::objects(&sdk, BUCKET).await;
    assert!(
        objects.contains_key("cairn/dev/snapshot.json"),
        "{:?}",
        objects.keys()
    );
    for (key, body) in objects {
        assert!(
            !body.windows(SECRET.len()).any(|w| w == SECRET.as_bytes()),
            "the plaintext of a secret is in {key}"
        );
    }
    // Never over a stack that exists.
    let again = local.run(&["state", "migrate", "--to", STATE]);
    assert_eq!(again.code, 1);
    assert!(
        again.stderr.contains("stack 'dev' already exists"),
        "{}",
        again.stderr
    );

    // Exported from S3 and imported elsewhere: the same stack again.
    let export = local.dir.path().join("dev.stack.json");
    let export = export.to_str().unwrap();
    let r = local.run_with(&["state", "export", export], &in_s3);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let imported = local.dir.path().join("imported/state.db");
    let imported = [("CAIRN_STATE", imported.to_str().unwrap())];
    let r = local.run_with(&["state", "import", export], &imported);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        local.run_with(&["history"], &imported).stdout,
        local.run_with(&["history"], &in_s3).stdout
    );

    // And back to a file: the three runs, in order.
    let back = local.dir.path().join("back/state.db");
    let back = back.to_str().unwrap();
    let r = local.run_with(&["state", "migrate", "--to", back], &in_s3);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let s3_history = local.run_with(&["history"], &in_s3).stdout;
    assert_eq!(s3_history.lines().count(), 3, "{s3_history}");
    let back_history = local
        .run_with(&["history"], &[("CAIRN_STATE", back)])
        .stdout;
    assert_eq!(back_history, s3_history);
    let shown = local
        .run_with(&["outputs", "--show-secrets"], &[("CAIRN_STATE", back)])
        .stdout;
    assert!(shown.contains(SECRET), "{shown}");
}

/// A rename (an alias) on one machine is what the other machine finds: the record under its
/// new name in S3, its secrets sealed anew and readable there, nothing left to do.
#[tokio::test(flavor = "multi_thread")]
async fn a_resource_renamed_on_one_machine_is_renamed_for_the_other() {
    const PASSPHRASE: &str = "a passphrase for tests";
    let moto = Moto::start();
    let sdk = make_bucket(&moto).await;
    let on = |cli: Cli| {
        cli.program("secret_stores")
            .env("CAIRN_PASSPHRASE", PASSPHRASE)
    };
    let (first, second) = (on(machine(BIN, &moto)), on(machine(BIN, &moto)));
    for m in [&first, &second] {
        m.ok(&["config", "set", "aws:region", "us-east-2"]);
    }
    first.ok(&["up", "--yes"]);
    first.ok(&["config", "set", "v", "2"]);
    let up = first.ok(&["up", "--yes"]).stdout;
    // The task definition's container changed too: a new revision.
    assert!(up.contains("Update: 1 replaced, 2 updated"), "{up}");

    second.ok(&["config", "set", "v", "2"]);
    let preview = second.ok(&["preview"]).stdout;
    assert!(preview.contains("Plan: no changes"), "{preview}");
    let store = state(&sdk);
    store.use_passphrase(Some(PASSPHRASE.into())).unwrap();
    let names: Vec<String> = store
        .resources("dev")
        .unwrap()
        .into_iter()
        .map(|r| r.name)
        .collect();
    assert!(
        names.contains(&"database-host".to_string()) && !names.contains(&"db-host".to_string()),
        "{names:?}"
    );
    second.ok(&["destroy", "--yes"]);
}
