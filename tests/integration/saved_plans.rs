//! Saved plans against moto (`cairn_tests::programs::saved_plans`): `preview --save-plan`
//! writes what `up --plan` applies exactly, step for step, with the names it picked; a plan
//! whose state, program or configuration moved since is refused and changes nothing; and
//! `preview --expect-no-changes` says, by its exit code, whether anything would change.

use std::path::Path;

use cairn_state::Store;
use cairn_tests::{Cli, Moto, Run};
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_cairn-program");
const PASSPHRASE: &str = "a passphrase for saved plans";
const TOKEN: &str = "token-Plain-Text-42";

fn read(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// What the state records, as (name, type, inputs), and the stack's serial.
fn recorded(cli: &Cli) -> (Vec<(String, String, Value)>, i64) {
    let store = Store::open(cli.state_path()).unwrap();
    store.use_passphrase(Some(PASSPHRASE.into())).unwrap();
    let records = store
        .resources("dev")
        .unwrap()
        .into_iter()
        .map(|r| (r.name, r.ty, r.inputs))
        .collect();
    let serial = store.version("dev").unwrap().map_or(0, |v| v.serial);
    (records, serial)
}

fn refused(r: &Run, because: &str) {
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stderr
            .contains("the saved plan cannot be applied: nothing was changed"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains(because),
        "wanted {because:?}:\n{}",
        r.stderr
    );
}

#[test]
fn a_saved_plan_applies_exactly_and_a_stale_one_is_refused_changing_nothing() {
    let moto = Moto::start();
    let cli = Cli::new(BIN, &moto)
        .program("saved_plans")
        .env("CAIRN_PASSPHRASE", PASSPHRASE);
    let dir = cli.dir.path().to_path_buf();
    cli.ok(&["config", "set", "aws:region", "us-east-2"]);
    cli.ok(&["config", "set", "--secret", "token", TOKEN]);

    // Saved: a readable document, its secret sealed, its unknowns named.
    let first = dir.join("first.json");
    let preview = cli.ok(&["preview", "--save-plan", first.to_str().unwrap()]);
    assert!(
        preview.stdout.contains("Plan saved to"),
        "{}",
        preview.stdout
    );
    let text = std::fs::read_to_string(&first).unwrap();
    assert!(
        !text.contains(TOKEN),
        "plaintext secret in the plan:\n{text}"
    );
    let saved = read(&first);
    assert_eq!(saved["format"], "cairn-plan");
    assert_eq!(saved["version"], 1);
    assert_eq!(saved["state"], Value::Null, "a new stack has no state yet");
    assert_eq!(saved["summary"]["create"], 5);
    assert_eq!(saved["summary"]["read"], 1);
    let step = |name: &str| -> Value {
        saved["steps"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["name"] == name)
            .cloned()
            .unwrap_or_else(|| panic!("no step {name}"))
    };
    assert_eq!(step("subnet")["unknown"], serde_json::json!(["vpc_id"]));
    assert_eq!(step("subnet")["action"], "create");
    let group_name = step("group")["inputs"]["name"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(group_name.starts_with("group-"), "{group_name}");

    // Applied: the state afterwards is the plan, step for step, with the names it picked.
    let up = cli.ok(&["up", "--plan", first.to_str().unwrap(), "--yes"]);
    assert!(up.stdout.contains("Update: 5 created"), "{}", up.stdout);
    let (records, serial) = recorded(&cli);
    let mut planned: Vec<(String, String)> = saved["steps"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["action"] == "create")
        .map(|s| {
            (
                s["name"].as_str().unwrap().into(),
                s["type"].as_str().unwrap().into(),
            )
        })
        .collect();
    planned.sort();
    let mut made: Vec<(String, String)> = records
        .iter()
        .map(|(n, t, _)| (n.clone(), t.clone()))
        .collect();
    made.sort();
    assert_eq!(made, planned);
    for (name, _, inputs) in &records {
        let planned = step(name);
        for (k, v) in planned["inputs"].as_object().unwrap() {
            let unknown = planned["unknown"]
                .as_array()
                .is_some_and(|u| u.iter().any(|u| u == k));
            if !unknown && name != "token" {
                assert_eq!(&inputs[k], v, "{name}.{k} is not as planned");
            }
        }
    }
    assert_eq!(
        records.iter().find(|r| r.0 == "group").unwrap().2["name"],
        group_name
    );

    // Applied once, it is stale: the state moved.
    let again = cli.run(&["up", "--plan", first.to_str().unwrap(), "--yes"]);
    refused(&again, "someone applied in between");

    // Nothing to change, then something.
    assert_eq!(cli.run(&["preview", "--expect-no-changes"]).code, 0);
    cli.ok(&["config", "set", "days", "14"]);
    let pending = cli.run(&["preview", "--expect-no-changes"]);
    assert_eq!(pending.code, 1, "{}\n{}", pending.stdout, pending.stderr);
    assert!(
        pending.stdout.contains("retention_in_days: 7 → 14"),
        "{}",
        pending.stdout
    );
    assert!(
        pending.stderr.contains("changes are pending"),
        "{}",
        pending.stderr
    );

    // Saved, then another `up` changes the stack: refused, and nothing changes.
    let second = dir.join("second.json");
    cli.ok(&["preview", "--save-plan", second.to_str().unwrap()]);
    assert_eq!(read(&second)["state"]["serial"], serial);
    cli.ok(&["up", "--yes"]);
    let before = recorded(&cli);
    let r = cli.run(&["up", "--plan", second.to_str().unwrap(), "--yes"]);
    refused(&r, "someone applied in between");
    assert_eq!(recorded(&cli), before);

    // Saved, then the program declares something else: refused, naming it.
    let third = dir.join("third.json");
    cli.ok(&["preview", "--save-plan", third.to_str().unwrap()]);
    let r = cli.run_with(
        &["up", "--plan", third.to_str().unwrap(), "--yes"],
        &[("SAVED_PLANS_EXTRA", "1")],
    );
    refused(
        &r,
        "'extra-logs': the program would now create it; the plan does not hold it",
    );
    assert_eq!(recorded(&cli), before);

    // Saved, then the configuration changes: refused.
    cli.ok(&["config", "set", "days", "30"]);
    let r = cli.run(&["up", "--plan", third.to_str().unwrap(), "--yes"]);
    refused(&r, "the stack's configuration changed");
    assert_eq!(recorded(&cli), before);

    // A plan carries its steering; the command line cannot add to it.
    let r = cli.run(&["up", "--plan", third.to_str().unwrap(), "--target", "vpc"]);
    assert_eq!(r.code, 2, "{}", r.stderr);

    // A fresh plan of the change applies, and only it.
    let fourth = dir.join("fourth.json");
    cli.ok(&["preview", "--save-plan", fourth.to_str().unwrap()]);
    assert_eq!(read(&fourth)["summary"]["update"], 1);
    let up = cli.ok(&["up", "--plan", fourth.to_str().unwrap(), "--yes"]);
    assert!(up.stdout.contains("1 updated"), "{}", up.stdout);
    assert_eq!(cli.run(&["preview", "--expect-no-changes"]).code, 0);

    // Not a plan at all.
    let bogus = dir.join("bogus.json");
    std::fs::write(&bogus, "{\"format\": \"cairn-stack\"}").unwrap();
    refused(
        &cli.run(&["up", "--plan", bogus.to_str().unwrap(), "--yes"]),
        "not a saved plan",
    );

    cli.ok(&["destroy", "--yes"]);
    assert!(recorded(&cli).0.is_empty());
}

/// `preview --refresh` plans against what the cloud holds now without writing the state;
/// `up --refresh` records the drift and repairs it.
#[tokio::test(flavor = "multi_thread")]
async fn a_refreshing_plan_shows_the_drift_and_plans_against_it() {
    let moto = Moto::start();
    let cli = Cli::new(BIN, &moto)
        .program("saved_plans")
        .env("CAIRN_PASSPHRASE", PASSPHRASE);
    cli.ok(&["config", "set", "aws:region", "us-east-2"]);
    cli.ok(&["up", "--yes"]);
    let (records, serial) = recorded(&cli);
    let logs = &records.iter().find(|r| r.0 == "logs").unwrap().2;
    let group = logs["name"].as_str().unwrap().to_string();

    // Changed behind Cairn's back.
    let config = crate::inventory::sdk(&moto.endpoint, None).await;
    aws_sdk_cloudwatchlogs::Client::new(&config)
        .put_retention_policy()
        .log_group_name(&group)
        .retention_in_days(30)
        .send()
        .await
        .unwrap();

    // The state does not know: a plain preview sees nothing to do.
    assert_eq!(cli.run(&["preview", "--expect-no-changes"]).code, 0);
    // Read back first, the drift shows and the plan puts it back; nothing is written.
    let r = cli.run(&["preview", "--refresh", "--expect-no-changes"]);
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stdout.contains("logs (aws:logs/LogGroup) has drifted"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("retention_in_days: 30 → 7"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("1 to update"), "{}", r.stdout);
    assert_eq!(recorded(&cli), (records.clone(), serial));
    // A refreshing plan cannot be saved: `up --plan` plans against the state as recorded.
    assert_eq!(
        cli.run(&["preview", "--refresh", "--save-plan", "p.json"])
            .code,
        2
    );

    let up = cli.ok(&["up", "--refresh", "--yes"]);
    assert!(up.stdout.contains("has drifted"), "{}", up.stdout);
    assert!(up.stdout.contains("1 updated"), "{}", up.stdout);
    assert_eq!(
        cli.run(&["preview", "--refresh", "--expect-no-changes"])
            .code,
        0
    );
    cli.ok(&["destroy", "--yes"]);
}
