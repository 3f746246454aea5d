//! SIGKILL at random instants of `up` and `destroy` of the default program against moto; after
//! each kill, the stale lock is released, `up` runs again, and what moto holds in both accounts
//! must match the state one to one: no duplicate, no orphan, no record of nothing.
//!
//! The kill points are drawn from a seeded generator (`CAIRN_CRASH_SEED`, default 1). The test
//! command runs 10 of them (`CAIRN_CRASH_KILLS`); `CAIRN_CRASH_KILLS=20` runs the full set.

use std::io::{BufRead, BufReader};
use std::process::Stdio;

use cairn_state::Store;
use cairn_tests::faults::{FaultPlan, FaultProxy, Hold};
use cairn_tests::{Cli, Moto};

use crate::inventory::{self, Defaults, ROLE_B};

const BIN: &str = env!("CARGO_BIN_EXE_cairn-program");
/// Operations in a full `up` or `destroy` of the default program.
const OPERATIONS: u64 = 35;

/// xorshift64: enough randomness to spread kill points, reproducible from the seed.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Runs `command --yes` and SIGKILLs it once it has reported `after` finished operations (0:
/// as soon as it starts applying), so that the operations in flight at that instant are
/// interrupted mid-call. Returns how many operations it had reported.
fn kill_after(cli: &Cli, command: &str, after: u64) -> u64 {
    let mut child = cli
        .command(&[command, "--yes", "--parallel", "8"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the program");
    let stdout = BufReader::new(child.stdout.take().unwrap());
    let mut done = 0;
    let mut applying = false;
    for line in stdout.lines() {
        let line = line.unwrap();
        let op = ["created", "deleted", "updated", "replaced"]
            .iter()
            .any(|v| line.trim_start().starts_with(v));
        applying |= line.starts_with("Updating") || line.starts_with("Destroying") || op;
        applying |= line.starts_with("Refreshing");
        done += u64::from(op);
        if applying && done >= after {
            break;
        }
    }
    child.kill().expect("SIGKILL");
    // Reaped, so its pid is gone and its lock is stale (a zombie would still look alive).
    child.wait().unwrap();
    done
}

async fn assert_state_matches_moto(cli: &Cli, moto: &Moto, defaults: &Defaults, context: &str) {
    let store = Store::open(cli.state_path()).unwrap();
    assert!(
        store.pending_operations("dev").unwrap().is_empty(),
        "{context}: operations left pending"
    );
    let records = store.resources("dev").unwrap();
    let in_moto = defaults.everything_else(&moto.endpoint).await;
    let in_state = inventory::of_state(&records);
    assert_eq!(in_moto, in_state, "{context}: moto and the state differ");
    // Every record (sub-resources too) still exists: a refresh finds nothing gone or changed.
    let refresh = cli.ok(&["refresh", "--yes"]);
    assert!(
        refresh.stdout.contains("No drift"),
        "{context}: {}",
        refresh.stdout
    );
}

/// After a kill, the next command finds the stack locked by a dead process, says so, and
/// `state unlock` releases it.
fn release_stale_lock(cli: &Cli) {
    let blocked = cli.run(&["up", "--yes"]);
    assert_eq!(blocked.code, 1, "{}", blocked.stdout);
    assert!(
        blocked.stderr.contains("is locked by") && blocked.stderr.contains("no longer exists"),
        "{}",
        blocked.stderr
    );
    let unlocked = cli.ok(&["state", "unlock"]);
    assert!(unlocked.stdout.contains("Released the lock"));
}

/// Runs `up` to completion after a kill: it settles what was in flight, then converges.
fn recover(cli: &Cli) -> String {
    release_stale_lock(cli);
    let up = cli.ok(&["up", "--yes", "--parallel", "8"]);
    up.stdout
}

#[tokio::test(flavor = "multi_thread")]
async fn killed_at_random_instants_of_up_and_destroy_nothing_is_lost_or_duplicated() {
    let kills = env_u64("CAIRN_CRASH_KILLS", 10);
    let mut rng = Rng(env_u64("CAIRN_CRASH_SEED", 1)
        .max(1)
        .wrapping_mul(0x9E37_79B9_7F4A_7C15));
    let moto = Moto::start();
    let defaults = Defaults::of(&moto.endpoint).await;
    let cli = Cli::new(BIN, &moto);
    cli.ok(&["config", "set", "accountB:roleArn", ROLE_B]);
    let mut adopted = 0;
    for k in 0..kills {
        // up from nothing, destroy of everything, and refresh, in turn.
        let command = ["up", "destroy", "refresh"][(k % 3) as usize];
        if command == "up" && k > 0 {
            cli.ok(&["destroy", "--yes"]);
        }
        // refresh reports only at its end: it is killed while it reads.
        let after = if command == "refresh" {
            0
        } else {
            rng.below(OPERATIONS)
        };
        let done = kill_after(&cli, command, after);
        let context = format!("kill {k}: {command} killed after {done} operations");
        let out = recover(&cli);
        adopted += out.matches("adopted it").count();
        assert!(
            !out.contains("need attention"),
            "{context}: recovery stopped:\n{out}"
        );
        assert_state_matches_moto(&cli, &moto, &defaults, &context).await;
    }
    // And it all goes away: nothing of the stack is left in either account.
    cli.ok(&["destroy", "--yes"]);
    let left = defaults.everything_else(&moto.endpoint).await;
    assert!(left.is_empty(), "left behind: {left:?}");
    eprintln!("{kills} kills, {adopted} interrupted creates adopted");
}

#[test]
fn a_second_up_fails_at_once_naming_the_holder_and_a_live_lock_is_never_stolen() {
    let moto = Moto::start();
    // The first up's first change waits at the proxy: it is mid-operation, holding the lock,
    // for as long as the test needs.
    let proxy = FaultProxy::start(
        &moto.endpoint,
        FaultPlan {
            hold: Some(Hold {
                from: 0,
                after_moto: false,
            }),
            ..FaultPlan::default()
        },
    );
    let cli = Cli::with_endpoint(BIN, &proxy.endpoint);
    cli.ok(&["config", "set", "accountB:roleArn", ROLE_B]);
    let mut first = cli
        .command(&["up", "--yes"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the program");
    let pid = first.id();
    let held = proxy.held(std::time::Duration::from_secs(120));
    assert!(held.is_some(), "the first up made no change");

    let second = cli.run(&["up", "--yes"]);
    assert_eq!(second.code, 1);
    for needle in [
        "stack 'dev' is locked by `up`".to_string(),
        format!("pid {pid}"),
        "since 20".to_string(),
    ] {
        assert!(
            second.stderr.contains(&needle),
            "missing {needle:?}: {}",
            second.stderr
        );
    }
    assert!(
        !second.stderr.contains("no longer exists"),
        "{}",
        second.stderr
    );
    let unlock = cli.run(&["state", "unlock"]);
    assert_eq!(unlock.code, 1);
    assert!(unlock.stderr.contains("live process"), "{}", unlock.stderr);

    // The first run is unharmed and finishes.
    proxy.release();
    let stdout = BufReader::new(first.stdout.take().unwrap());
    let rest: Vec<String> = stdout.lines().map(Result::unwrap).collect();
    assert!(first.wait().unwrap().success(), "{rest:?}");
    assert!(
        rest.iter().any(|l| l.contains("Update: 35 created")),
        "{rest:?}"
    );
}
