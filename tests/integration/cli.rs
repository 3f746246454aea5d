//! The default program's command line end to end against moto: what a user types and sees.

use cairn_tests::{Cli, Moto};
use serde_json::Value;

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
        preview.stdout.contains("Resources: 35 to create"),
        "{}",
        preview.stdout
    );
    assert!(preview.stdout.contains("externalUrl: (known after apply)"));
    let json: Value = serde_json::from_str(&cli.ok(&["preview", "--json"]).stdout).unwrap();
    assert_eq!(json["summary"]["create"], 35);

    // No terminal and no --yes: refused as a usage error, nothing created.
    let refused = cli.run(&["up"]);
    assert_eq!(refused.code, 2, "{}", refused.stderr);
    assert!(refused.stderr.contains("--yes"), "{}", refused.stderr);
    assert!(cli.ok(&["outputs"]).stdout.is_empty());

    let up = cli.ok(&["up", "--yes", "--parallel", "8"]);
    assert!(up.stdout.contains("Update: 35 created"), "{}", up.stdout);
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
        again.stdout.contains("Resources: 35 unchanged"),
        "{}",
        again.stdout
    );
    assert!(again.stdout.contains("Update: no changes"));

    // -c sets, saves and applies a value for the run.
    let scaled = cli.ok(&["up", "--yes", "-c", "desiredCount=3"]);
    assert!(
        scaled.stdout.contains("~ desired_count: 2 => 3"),
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

    let dot = cli.ok(&["graph"]).stdout;
    assert!(dot.starts_with("digraph") && dot.contains("->"));

    let destroyed = cli.ok(&["destroy", "--yes"]);
    assert!(
        destroyed.stdout.contains("Destroy: 35 deleted"),
        "{}",
        destroyed.stdout
    );
    let history = cli.ok(&["history"]).stdout;
    assert_eq!(history.lines().count(), 4, "{history}");
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
