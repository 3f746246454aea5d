//! SIGKILL of the default program in the middle of an operation, against moto. The fault
//! proxy holds one chosen request (`cairn_tests::faults::Hold`), before moto sees it or after
//! moto acted on it, and the program is killed while it waits for the answer: so each kill
//! cuts a create, update or delete between "recorded as pending" and "result committed". After
//! each kill the stale lock is released and the next command settles what was in flight, and
//! then what moto holds in both accounts must match the state one to one (the full inventory),
//! with no drift.
//!
//! The default run is a fixed schedule that cuts every kind of operation (create, update, the
//! two halves of a replacement, delete) and a recovery run itself, so that each way of settling
//! an interrupted operation happens: adopted, nothing made, read back as it is, gone and
//! dropped. `CAIRN_CRASH_KILLS=N` adds N kills at random mutating requests of `up` and
//! `destroy`, drawn from `CAIRN_CRASH_SEED` (default 1).

use std::io::{BufRead, BufReader, Read};
use std::process::Stdio;
use std::time::Duration;

use cairn_state::Store;
use cairn_tests::faults::{FaultPlan, FaultProxy, Hold};
use cairn_tests::{Cli, Moto};

use crate::inventory::{self, Defaults, ROLE_B};

const BIN: &str = env!("CARGO_BIN_EXE_cairn-program");

/// xorshift64: enough randomness to spread kill points, reproducible from the seed.
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Rng {
        Rng(seed.max(1).wrapping_mul(0x9E37_79B9_7F4A_7C15))
    }

    pub(crate) fn below(&mut self, n: u64) -> u64 {
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

/// Runs `command --yes` behind a proxy that holds `at`, and SIGKILLs it once that request is
/// held. Returns the operation cut (`None` if the command finished first) and what the
/// command printed (its recovery lines, if it recovered).
pub(crate) fn kill_at(cli: &Cli, moto: &Moto, command: &str, at: Hold) -> (Option<String>, String) {
    let proxy = FaultProxy::start(
        &moto.endpoint,
        FaultPlan {
            hold: Some(at),
            ..FaultPlan::default()
        },
    );
    let mut child = cli
        .command(&[command, "--yes", "--parallel", "8"])
        .env("AWS_ENDPOINT_URL", &proxy.endpoint)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the program");
    let mut stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut out = String::new();
        let _ = stdout.read_to_string(&mut out);
        out
    });
    // Until the request is held, or the program ends without making it.
    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    let held = loop {
        if let Some(op) = proxy.held(Duration::from_millis(200)) {
            break Some(op);
        }
        if child.try_wait().unwrap().is_some() || std::time::Instant::now() > deadline {
            break None;
        }
    };
    let _ = child.kill();
    // Reaped, so its pid is gone and its lock is stale (a zombie would still look alive).
    child.wait().unwrap();
    drop(proxy);
    (held, reader.join().unwrap())
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

/// After a kill, the next mutating command takes the dead process's lock over by itself and
/// says whose it was: no `state unlock` needed.
fn assert_took_over(run: &cairn_tests::Run) {
    assert!(
        run.stderr.contains("Took over the lock of `")
            && run.stderr.contains("its process is gone"),
        "{}",
        run.stderr
    );
}

/// How the recoveries of a run settled what kills left in flight.
#[derive(Default, Debug)]
struct Outcomes {
    adopted: usize,
    nothing_made: usize,
    read_back: usize,
    dropped: usize,
}

impl Outcomes {
    fn count(&mut self, out: &str) {
        assert!(!out.contains("need attention"), "recovery stopped:\n{out}");
        self.adopted += out.matches("adopted it").count();
        self.nothing_made += out.matches("nothing had been created").count();
        self.read_back += out.matches("recorded it as it is now").count();
        self.dropped += out.matches("dropped its record").count();
    }
}

/// One scheduled kill: `command` (after `config`) cut at `at`.
struct Cut {
    what: &'static str,
    config: &'static [(&'static str, &'static str)],
    command: &'static str,
    at: Hold,
    /// The recovering command is itself killed here, then recovered by a plain one.
    then_cut_recovery_at: Option<Hold>,
}

pub(crate) const fn hold(op: &'static str, from: u64, after_moto: bool) -> Hold {
    Hold {
        op: Some(op),
        from,
        after_moto,
    }
}

/// A kill mid-operation leaves the operation pending, for the next command to settle.
fn assert_left_pending(cli: &Cli, context: &str) {
    let store = Store::open(cli.state_path()).unwrap();
    let pending = store.pending_operations("dev").unwrap();
    assert!(
        !pending.is_empty(),
        "{context}: the kill left nothing pending"
    );
}

/// The command that recovers from a kill of `command`: the next one of the same kind, which
/// settles what was in flight and then carries on.
fn recovering(command: &str) -> &'static str {
    if command == "destroy" {
        "destroy"
    } else {
        "up"
    }
}

/// Kills `cut.command` where the cut says, checks it left operations pending, and recovers
/// (killing the recovery too, if asked), counting how each interrupted operation settled.
async fn cut_and_recover(
    cli: &Cli,
    moto: &Moto,
    defaults: &Defaults,
    cut: &Cut,
    outcomes: &mut Outcomes,
) {
    for (k, v) in cut.config {
        cli.ok(&["config", "set", k, v]);
    }
    let (held, _) = kill_at(cli, moto, cut.command, cut.at);
    let context = format!("{}: {} cut at {held:?}", cut.what, cut.command);
    assert!(held.is_some(), "{context}: the request to cut never came");
    assert_left_pending(cli, &context);
    let recovering = recovering(cut.command);
    if let Some(at) = cut.then_cut_recovery_at {
        let (held, out) = kill_at(cli, moto, recovering, at);
        assert!(
            held.is_some(),
            "{context}: the recovery's request to cut never came"
        );
        outcomes.count(&out);
        assert_left_pending(cli, &format!("{context}, then the recovery cut"));
    }
    let run = cli.ok(&[recovering, "--yes", "--parallel", "8"]);
    assert_took_over(&run);
    outcomes.count(&run.stdout);
    assert_state_matches_moto(cli, moto, defaults, &context).await;
}

/// Every kind of operation cut, before and after AWS acted.
const SCHEDULE: &[Cut] = &[
    Cut {
        what: "a create cut before AWS saw it, then the recovering up cut after a create took effect",
        config: &[],
        command: "up",
        at: hold("CreateSecurityGroup", 0, false),
        then_cut_recovery_at: Some(hold("CreateLoadBalancer", 0, true)),
    },
    Cut {
        what: "an in-place update cut after AWS acted",
        config: &[("desiredCount", "3")],
        command: "up",
        at: hold("UpdateService", 0, true),
        then_cut_recovery_at: None,
    },
    Cut {
        what: "a replacement cut after its new copy was made",
        config: &[("privateSubnetCidrs", "10.0.4.0/24,10.0.3.0/24")],
        command: "up",
        at: hold("CreateSubnet", 0, true),
        then_cut_recovery_at: None,
    },
    Cut {
        what: "a replacement cut as its old copy is deleted",
        config: &[("imageDir", cairn_tests::IMAGE_V2)],
        command: "up",
        at: hold("DeregisterTaskDefinition", 0, true),
        then_cut_recovery_at: None,
    },
    Cut {
        what: "a delete cut before AWS saw it",
        config: &[],
        command: "destroy",
        at: hold("DeleteRole", 0, false),
        then_cut_recovery_at: None,
    },
];

#[tokio::test(flavor = "multi_thread")]
async fn killed_mid_operation_nothing_is_lost_or_duplicated() {
    let moto = Moto::start();
    let defaults = Defaults::of(&moto.endpoint).await;
    let cli = Cli::new(BIN, &moto);
    cli.ok(&["config", "set", "accountB:roleArn", ROLE_B]);
    let mut outcomes = Outcomes::default();
    for cut in SCHEDULE {
        cut_and_recover(&cli, &moto, &defaults, cut, &mut outcomes).await;
    }
    // A delete cut after AWS acted: the next destroy finds it gone.
    cli.ok(&["up", "--yes"]);
    let last = Cut {
        what: "a delete cut after AWS acted",
        config: &[],
        command: "destroy",
        at: hold("DeleteLoadBalancer", 0, true),
        then_cut_recovery_at: None,
    };
    cut_and_recover(&cli, &moto, &defaults, &last, &mut outcomes).await;

    // Random kills on top, for the long run.
    let kills = env_u64("CAIRN_CRASH_KILLS", 0);
    let mut rng = Rng::new(env_u64("CAIRN_CRASH_SEED", 1));
    for k in 0..kills {
        let command = ["up", "destroy"][(k % 2) as usize];
        let at = Hold {
            op: None,
            from: rng.below(40),
            after_moto: rng.below(2) == 1,
        };
        let (held, _) = kill_at(&cli, &moto, command, at);
        let context = format!("random kill {k}: {command} cut at {held:?}");
        let run = cli.ok(&[recovering(command), "--yes", "--parallel", "8"]);
        if held.is_some() {
            assert_took_over(&run);
        }
        outcomes.count(&run.stdout);
        assert_state_matches_moto(&cli, &moto, &defaults, &context).await;
    }

    eprintln!("recovery outcomes: {outcomes:?}");
    assert!(outcomes.adopted > 0, "{outcomes:?}");
    assert!(outcomes.nothing_made > 0, "{outcomes:?}");
    assert!(outcomes.read_back > 0, "{outcomes:?}");
    assert!(outcomes.dropped > 0, "{outcomes:?}");
    // And it all goes away: nothing of the stack is left in either account.
    cli.ok(&["destroy", "--yes"]);
    let left = defaults.everything_else(&moto.endpoint).await;
    assert!(left.is_empty(), "left behind: {left:?}");
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
                op: None,
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
    let held = proxy.held(Duration::from_secs(120));
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
    // Only --force takes it from a live holder, naming whom it was taken from.
    let forced = cli.ok(&["state", "unlock", "--force"]);
    assert!(
        forced
            .stdout
            .contains(&format!("Released the lock held by `up` (pid {pid}")),
        "{}",
        forced.stdout
    );

    // The first run is unharmed and finishes.
    proxy.release();
    let stdout = BufReader::new(first.stdout.take().unwrap());
    let rest: Vec<String> = stdout.lines().map(Result::unwrap).collect();
    assert!(first.wait().unwrap().success(), "{rest:?}");
    assert!(
        rest.iter().any(|l| l.contains("Update: 36 created")),
        "{rest:?}"
    );
}
