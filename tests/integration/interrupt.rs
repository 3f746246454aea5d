//! Interrupting a run, as a person at a terminal and a CI runner do: Ctrl-C in a real
//! terminal (tmux) and SIGTERM, each while an operation is in flight (held at the proxy). The
//! operations in flight finish and are recorded, nothing new starts, the lock is released, the
//! exit code says which signal, and the next command simply carries on. (And `--replace`,
//! `--target` and `--exclude`, steering a run, once against moto.)

use std::process::Stdio;
use std::time::Duration;

use cairn_state::Store;
use cairn_tests::faults::{FaultPlan, FaultProxy, Hold};
use cairn_tests::terminal::Terminal;
use cairn_tests::{Cli, Moto};

use crate::inventory::{self, Defaults, ROLE_B};

const BIN: &str = env!("CARGO_BIN_EXE_cairn-program");
const LONG: Duration = Duration::from_secs(120);

/// A proxy holding the mutating requests from the `from`-th on, so the run is mid-operation.
fn holding(moto: &Moto, from: u64) -> FaultProxy {
    let hold = Hold {
        op: None,
        from,
        after_moto: false,
    };
    FaultProxy::start(
        &moto.endpoint,
        FaultPlan {
            hold: Some(hold),
            ..FaultPlan::default()
        },
    )
}

fn assert_unlocked_and_settled(cli: &Cli) {
    let store = Store::open(cli.state_path()).unwrap();
    assert_eq!(store.lock_holder("dev").unwrap(), None, "the lock was left");
    assert!(
        store.pending_operations("dev").unwrap().is_empty(),
        "operations were left in flight"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn ctrl_c_in_a_terminal_and_sigterm_stop_safely_and_the_next_command_carries_on() {
    let moto = Moto::start();
    let defaults = Defaults::of(&moto.endpoint).await;
    let cli = Cli::new(BIN, &moto);
    cli.ok(&["config", "set", "accountB:roleArn", ROLE_B]);

    // Ctrl-C at the question: nothing is done, and the lock is released.
    let term = Terminal::start(&cli, &["up"], &[]);
    term.wait_for("Perform this update? [y/N]", LONG);
    term.send_keys("C-c");
    assert_eq!(term.exit_code(LONG), 130, "{}", term.screen());
    assert!(term.screen().contains("Cancelled: nothing was changed."));
    assert_unlocked_and_settled(&cli);
    let store = Store::open(cli.state_path()).unwrap();
    assert!(store.resources("dev").unwrap().is_empty());
    drop(term);

    // Ctrl-C during `up`, with its fifth change in flight.
    let proxy = holding(&moto, 4);
    let term = Terminal::start(
        &cli,
        &["up", "--yes"],
        &[("AWS_ENDPOINT_URL", &proxy.endpoint)],
    );
    assert!(proxy.held(LONG).is_some(), "{}", term.screen());
    // The live view: what is in flight, each with its elapsed time, and the counts.
    let live = term.wait_for(" in flight · ", LONG);
    assert!(live.contains("/36 done · "), "{live}");
    assert!(
        live.lines()
            .any(|l| l.trim_start().starts_with("creating ") && l.trim_end().ends_with("s)")),
        "{live}"
    );
    term.send_keys("C-c");
    term.wait_for("Interrupted: the operations in flight finish", LONG);
    proxy.release();
    assert_eq!(term.exit_code(LONG), 130, "{}", term.screen());
    let screen = term.screen();
    assert!(screen.contains("Interrupted: not done: "), "{screen}");
    assert!(screen.contains("(the next `up` does them)"), "{screen}");
    assert_unlocked_and_settled(&cli);
    let done = Store::open(cli.state_path())
        .unwrap()
        .resources("dev")
        .unwrap()
        .len();
    assert!(
        (4..36).contains(&done),
        "{done} resources recorded:\n{screen}"
    );
    drop(term);
    drop(proxy);
    let next = cli.ok(&["up", "--yes"]);
    assert!(!next.stderr.contains("Took over"), "{}", next.stderr);
    assert!(
        next.stdout.contains(&format!("{} created", 36 - done)),
        "{}",
        next.stdout
    );
    assert!(
        cli.ok(&["preview"])
            .stdout
            .contains("Plan: no changes (36 unchanged)")
    );

    // --replace: a rule nothing changed is replaced (its key kept, so deleted first); a name
    // the program does not declare is an error suggesting the closest.
    let typo = cli.run(&["up", "--yes", "--replace", "endpoint-https-from-privat"]);
    assert_eq!(typo.code, 1);
    assert!(
        typo.stderr
            .contains("did you mean 'endpoint-https-from-private'?"),
        "{}",
        typo.stderr
    );
    let replaced = cli.ok(&["up", "--yes", "--replace", "endpoint-https-from-private"]);
    assert!(
        replaced.stdout.contains("[replacement requested]")
            && replaced.stdout.contains("Update: 1 replaced"),
        "{}",
        replaced.stdout
    );
    assert!(
        cli.ok(&["preview"])
            .stdout
            .contains("Plan: no changes (36 unchanged)")
    );

    // --target and --exclude: a targeted destroy takes what depends on the target along (the
    // listener forwards to the target group, the service sits behind the listener), and state
    // and moto agree after it; an excluding up leaves the service out, a targeting one brings
    // it back.
    let destroyed = cli.ok(&["destroy", "--yes", "--target", "target-group"]);
    assert!(
        destroyed.stdout.contains("Plan: 3 to delete") && destroyed.stdout.contains("3 deleted"),
        "{}",
        destroyed.stdout
    );
    let records = Store::open(cli.state_path())
        .unwrap()
        .resources("dev")
        .unwrap();
    assert_eq!(records.len(), 33);
    assert_eq!(
        defaults.everything_else(&moto.endpoint).await,
        inventory::of_state(&records)
    );
    let partial = cli.ok(&["up", "--yes", "--exclude", "service"]);
    assert!(
        partial
            .stdout
            .contains("Plan: 2 to create (33 unchanged, 1 not targeted)"),
        "{}",
        partial.stdout
    );
    assert!(partial.stderr.contains("targeting is in effect"));
    let rest = cli.ok(&["up", "--yes", "--target", "service"]);
    assert!(rest.stdout.contains("Update: 1 created"), "{}", rest.stdout);
    assert!(
        cli.ok(&["preview"])
            .stdout
            .contains("Plan: no changes (36 unchanged)")
    );

    // SIGTERM (a cancelled CI job) during `destroy`, with its third delete in flight.
    let proxy = holding(&moto, 2);
    let mut destroy = cli
        .command(&["destroy", "--yes"])
        .env("AWS_ENDPOINT_URL", &proxy.endpoint)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    assert!(proxy.held(LONG).is_some());
    let sent = std::process::Command::new("kill")
        .args(["-TERM", &destroy.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    // The handler has the signal once it says so; then the held deletes may finish.
    let mut stderr = destroy.stderr.take().unwrap();
    let said = std::thread::spawn(move || {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut stderr, &mut text).unwrap();
        text
    });
    proxy.release();
    let status = destroy.wait().unwrap();
    let said = said.join().unwrap();
    assert_eq!(status.code(), Some(143), "{said}");
    assert!(said.contains("(the next `destroy` does them)"), "{said}");
    assert_unlocked_and_settled(&cli);
    drop(proxy);
    let next = cli.ok(&["destroy", "--yes"]);
    assert!(!next.stderr.contains("Took over"), "{}", next.stderr);
    assert!(
        Store::open(cli.state_path())
            .unwrap()
            .resources("dev")
            .unwrap()
            .is_empty()
    );
}
