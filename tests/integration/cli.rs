//! The default program's command line end to end against moto: what a user types and sees.

use cairn_tests::{Cli, Moto};
use serde_json::Value;

use crate::inventory::ROLE_B;

const BIN: &str = env!("CARGO_BIN_EXE_cairn-program");

#[test]
fn preview_up_outputs_history_and_destroy_through_the_cli() {
    let moto = Moto::start();
    let cli = Cli::new(BIN, &moto);
    cli.ok(&[
        "config",
        "set",
        "accountB:roleArn",
        "arn:aws:iam::222222222222:role/deployer",
    ]);
    let listed = cli.ok(&["config", "list"]);
    assert!(
        listed
            .stdout
            .contains("accountB:roleArn = arn:aws:iam::222222222222:role/deployer")
    );

    let preview = cli.ok(&["preview"]);
    assert!(
        preview.stdout.contains("Plan: 36 to create"),
        "{}",
        preview.stdout
    );
    assert!(preview.stdout.contains("externalUrl: (known after apply)"));
    // Plain off a terminal; coloured when asked (create is green); plain when asked not to.
    assert!(!preview.stdout.contains('\x1b'), "{}", preview.stdout);
    let colored = cli.ok(&["preview", "--color", "always"]).stdout;
    assert!(colored.contains("\x1b[32m+  create"), "{colored}");
    let never = cli.run_with(&["preview", "--color", "never"], &[("CLICOLOR_FORCE", "1")]);
    assert!(!never.stdout.contains('\x1b'), "{}", never.stdout);
    let json: Value = serde_json::from_str(&cli.ok(&["preview", "--json"]).stdout).unwrap();
    assert_eq!(json["summary"]["create"], 36);

    // No terminal and no --yes: refused as a usage error, nothing created.
    let refused = cli.run(&["up"]);
    assert_eq!(refused.code, 2, "{}", refused.stderr);
    assert!(refused.stderr.contains("--yes"), "{}", refused.stderr);
    assert!(cli.ok(&["outputs"]).stdout.is_empty());

    let up = cli.ok(&["up", "--yes", "--parallel", "8"]);
    assert!(up.stdout.contains("Update: 36 created"), "{}", up.stdout);
    let outputs: Value = serde_json::from_str(&cli.ok(&["outputs", "--json"]).stdout).unwrap();
    assert!(
        outputs["externalUrl"]
            .as_str()
            .unwrap()
            .starts_with("http://")
    );
    assert!(
        outputs["repositoryUri"]
            .as_str()
            .unwrap()
            .ends_with("/ecrprivatelink")
    );

    let again = cli.ok(&["up", "--yes"]);
    assert!(
        again.stdout.contains("Plan: no changes (36 unchanged)"),
        "{}",
        again.stdout
    );
    assert!(again.stdout.contains("Update: no changes"));
    // The outputs once, after the run (not also with the plan before it).
    assert_eq!(
        again.stdout.matches("Outputs:").count(),
        1,
        "{}",
        again.stdout
    );
    assert!(
        again.stdout.contains("externalUrl: \"http://"),
        "{}",
        again.stdout
    );

    // -c sets, saves and applies a value for the run.
    let scaled = cli.ok(&["up", "--yes", "-c", "desiredCount=3"]);
    assert!(
        scaled.stdout.contains("~ desired_count: 2 → 3"),
        "{}",
        scaled.stdout
    );
    assert!(
        scaled.stdout.contains("Update: 1 updated"),
        "{}",
        scaled.stdout
    );
    assert_eq!(
        cli.ok(&["config", "get", "desiredCount"]).stdout.trim(),
        "3"
    );

    // The stacks of the state, with their resources and last change.
    let listed = cli.ok(&["stack", "ls"]).stdout;
    let dev = listed
        .lines()
        .find(|l| l.starts_with("dev "))
        .unwrap_or_default();
    assert!(
        dev.contains(" 36  up at ") && dev.ends_with("(current)"),
        "{listed}"
    );
    let listed: Value = serde_json::from_str(&cli.ok(&["stack", "ls", "--json"]).stdout).unwrap();
    assert_eq!(listed[0]["name"], "dev");
    assert_eq!(listed[0]["resources"], 36);

    // A new image changes one path inside the container definitions, shown as that path; with
    // --diff the properties that stay are listed too.
    let image_v2 = format!("imageDir={}", cairn_tests::IMAGE_V2);
    let retagged = cli.ok(&["preview", "-c", &image_v2]);
    assert!(
        retagged.stdout.contains(concat!(
            "      ~ containers[0].image:  (forces replacement)\n",
            "        - \"123456789012.dkr.ecr.us-east-2.amazonaws.com/ecrprivatelink@sha256:",
            "4b070fdff24336f31d429a6b6f6b1f010371287ba941cf4af7951bffb817243c\"\n",
            "        + \"123456789012.dkr.ecr.us-east-2.amazonaws.com/ecrprivatelink@sha256:",
            "aea885e7d668edc143699542f1d40ce3f28f71593b9eb8a61002d10afa04d260\"\n",
        )),
        "{}",
        retagged.stdout
    );
    assert!(
        retagged
            .stdout
            .contains("+- replace  image (aws:ecr/Image)  [forced by digest]"),
        "{}",
        retagged.stdout
    );
    assert!(!retagged.stdout.contains("      family: "));
    let full = cli.ok(&["preview", "--diff"]);
    assert!(
        full.stdout.contains("        family: \""),
        "{}",
        full.stdout
    );

    // --json: newline-delimited events, each line one object: the plan, each operation's start
    // and end, then the summary. It needs --yes: there is no one to ask.
    let unasked = cli.run(&["up", "--json"]);
    assert_eq!(unasked.code, 2, "{}", unasked.stderr);
    let events: Vec<serde_json::Value> = cli
        .ok(&["up", "--yes", "--json"])
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    let kinds: Vec<&str> = events
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .collect();
    assert_eq!(kinds.first(), Some(&"plan"));
    assert_eq!(kinds.last(), Some(&"summary"));
    assert_eq!(events[0]["summary"]["replace"], 2);
    let of = |resource: &str, event: &str| {
        events
            .iter()
            .filter(|e| e["resource"] == resource && e["event"] == event)
            .map(|e| e["action"].as_str().unwrap().to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(of("task-definition", "started"), ["replacing", "deleting"]);
    assert_eq!(
        of("task-definition", "finished"),
        ["replaced", "deleted original"]
    );
    assert_eq!(of("service", "finished"), ["updated"]);
    assert_eq!(of("image", "finished"), ["replaced", "deleted original"]);
    let summary = events.last().unwrap();
    assert_eq!(
        summary["counts"],
        serde_json::json!({"replaced": 2, "updated": 1})
    );
    assert_eq!(summary["exitCode"], 0);
    assert!(summary["outputs"]["externalUrl"].is_string());
    cli.ok(&["config", "rm", "imageDir"]);

    // The graph the readiness benchmark runs (`core/benches/seed-graph.dot`) is this one.
    let dot = cli.ok(&["graph"]).stdout;
    let fixture = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../core/benches/seed-graph.dot"
    );
    if std::env::var_os("CAIRN_UPDATE_FIXTURES").is_some() {
        std::fs::write(fixture, &dot).unwrap();
    }
    assert_eq!(
        dot,
        std::fs::read_to_string(fixture).unwrap(),
        "the program's graph changed: run with CAIRN_UPDATE_FIXTURES=1 to update {fixture}"
    );

    let destroyed = cli.ok(&["destroy", "--yes"]);
    assert!(
        destroyed.stdout.contains("Destroy: 36 deleted"),
        "{}",
        destroyed.stdout
    );
    let history = cli.ok(&["history"]).stdout;
    assert_eq!(history.lines().count(), 5, "{history}");
    assert!(
        history.lines().all(|l| l.contains("succeeded")),
        "{history}"
    );
    assert!(cli.ok(&["outputs"]).stdout.is_empty());
}

#[test]
fn program_mistakes_fail_naming_the_config_key() {
    let moto = Moto::start();
    let cli = Cli::new(BIN, &moto);
    cli.ok(&["config", "set", "enableSsm", "yes"]);
    let r = cli.run(&["preview"]);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr
            .contains("config key 'enableSsm': 'yes' is not a valid bool"),
        "{}",
        r.stderr
    );
    cli.ok(&["config", "set", "enableSsm", "true"]);
    let r = cli.run(&["preview"]);
    assert!(
        r.stderr.contains("config key 'ssmAmiId' is required"),
        "{}",
        r.stderr
    );
    let r = cli.run(&["frobnicate"]);
    assert_eq!(r.code, 2);
}

/// The number of a pending operation `state pending` lists as `kind` of a resource of type
/// `ty`: one the proxy held, so that what the test tells `state resolve` is true of it.
fn pending_seq(cli: &Cli, kind: &str, ty: &str) -> String {
    let listed = cli.ok(&["state", "pending"]).stdout;
    let line = listed
        .lines()
        .find(|l| l.contains(&format!(" {kind} ")) && l.contains(&format!("({ty})")))
        .unwrap_or_else(|| panic!("no pending {kind} of a {ty}: {listed}"));
    line.trim_start_matches('#')
        .split_whitespace()
        .next()
        .unwrap()
        .to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn state_pending_resolve_unlock_and_the_exit_codes() {
    use crate::crash::{hold, kill_at};
    let moto = Moto::start();
    let defaults = crate::inventory::Defaults::of(&moto.endpoint).await;
    let cli = Cli::new(BIN, &moto);

    // 0 for success, 2 for what the user typed wrong, 1 for what went wrong.
    assert_eq!(cli.run(&["--version"]).code, 0);
    assert_eq!(cli.run(&["frobnicate"]).code, 2);
    assert_eq!(
        cli.run(&["state", "resolve", "7"]).code,
        2,
        "an answer is required"
    );
    cli.ok(&["config", "set", "accountB:roleArn", ROLE_B]);
    let none = cli.run(&["state", "resolve", "7", "--absent"]);
    assert_eq!(none.code, 1);
    assert!(
        none.stderr
            .contains("no pending operation 7 in stack 'dev'"),
        "{}",
        none.stderr
    );

    // A create cut before AWS saw it: the user says it made nothing.
    let (held, _) = kill_at(&cli, &moto, "up", hold("CreateSecurityGroup", 0, false));
    assert!(held.is_some());
    // The dead run's lock can still be released by hand (the next mutating command would take
    // it over by itself).
    let unlocked = cli.ok(&["state", "unlock"]).stdout;
    assert!(unlocked.contains("Released the lock"), "{unlocked}");
    // Every CreateSecurityGroup was held before moto saw it: those made nothing. (Other creates
    // in flight may have made something; telling Cairn otherwise would orphan it.)
    let seq = pending_seq(&cli, "create", "aws:ec2/SecurityGroup");
    let said = cli.ok(&["state", "resolve", &seq, "--absent"]).stdout;
    assert!(said.contains("cleared the interrupted create of"), "{said}");
    let listed = cli.ok(&["state", "pending"]).stdout;
    assert!(!listed.contains(&format!("#{seq} ")), "{listed}");
    // What else was in flight, up settles by itself.
    cli.ok(&["up", "--yes"]);
    assert!(
        cli.ok(&["preview"])
            .stdout
            .contains("Plan: no changes (36 unchanged)")
    );

    // A delete cut before AWS saw it: the user says it still exists; destroy then finishes.
    let (held, _) = kill_at(&cli, &moto, "destroy", hold("DeleteRole", 0, false));
    assert!(held.is_some());
    cli.ok(&["state", "unlock"]);
    let seq = pending_seq(&cli, "delete", "aws:iam/Role");
    let said = cli.ok(&["state", "resolve", &seq, "--exists"]).stdout;
    assert!(
        said.contains("cleared the interrupted delete of 'task-execution-role'"),
        "{said}"
    );
    cli.ok(&["destroy", "--yes"]);
    let left = defaults.everything_else(&moto.endpoint).await;
    assert!(left.is_empty(), "left behind: {left:?}");
}

/// An endpoint override sends every call, credentials included, elsewhere: it comes only from
/// the environment, never from the committed configuration, plain HTTP only to this machine,
/// and it is shown before the plan.
#[test]
fn an_endpoint_comes_only_from_the_environment_and_plain_http_only_to_this_machine() {
    let moto = Moto::start();
    let cli = Cli::new(BIN, &moto);
    cli.ok(&["config", "set", "accountB:roleArn", ROLE_B]);
    // Nothing listens there: were it used, every call would fail.
    cli.ok(&["config", "set", "aws:endpointUrl", "http://127.0.0.1:9"]);
    let preview = cli.ok(&["preview"]);
    assert!(
        preview.stdout.contains("Plan: 36 to create"),
        "{}",
        preview.stdout
    );
    assert!(
        preview
            .stderr
            .contains("`aws:endpointUrl` in the stack's configuration is ignored"),
        "{}",
        preview.stderr
    );
    for account in ["accountA", "accountB"] {
        let note = format!(
            "note: provider '{account}': every AWS call goes to {} (AWS_ENDPOINT_URL), not to AWS",
            moto.endpoint
        );
        assert!(preview.stderr.contains(&note), "{}", preview.stderr);
    }

    let elsewhere = cli.run_with(
        &["up", "--yes"],
        &[("AWS_ENDPOINT_URL", "http://example.com:4566")],
    );
    assert_eq!(elsewhere.code, 1, "{}", elsewhere.stderr);
    assert!(
        elsewhere
            .stderr
            .contains("AWS_ENDPOINT_URL=http://example.com:4566 would send every AWS call")
            && elsewhere
                .stderr
                .contains("plain HTTP is allowed only to this machine"),
        "{}",
        elsewhere.stderr
    );
    let store = cairn_state::Store::open(cli.state_path()).unwrap();
    assert!(store.resources("dev").unwrap().is_empty());
    assert!(
        store.history("dev").unwrap().is_empty(),
        "nothing was begun"
    );
}
