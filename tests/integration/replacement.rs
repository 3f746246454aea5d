//! Replacements against moto, through the command line (`cairn_tests::programs::replacements`):
//! a failed replacement never tears down what it cannot rebuild, a fixed name is replaced by
//! deleting first (and the plan says so), and what Cairn names is replaced by creating first,
//! with no conflict. Each fact is read back through the SDK.

use aws_sdk_ec2::types::Filter;
use cairn_tests::faults::{FaultPlan, FaultProxy};
use cairn_tests::{Cli, Moto, Run};
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_cairn-program");

fn cli(moto: &Moto) -> Cli {
    let cli = Cli::new(BIN, moto).program("replacements");
    cli.ok(&["config", "set", "aws:region", "us-east-2"]);
    cli
}

/// A proxy in front of moto that refuses every `CreateSecurityGroup`, as AWS refuses a
/// description it does not accept.
fn refusing_new_groups(moto: &Moto) -> FaultProxy {
    FaultProxy::start(
        &moto.endpoint,
        FaultPlan {
            permanent: vec![(
                vec!["Action=CreateSecurityGroup".into()],
                400,
                "InvalidParameterValue".into(),
                "Invalid security group description".into(),
            )],
            ..FaultPlan::default()
        },
    )
}

fn through(cli: &Cli, proxy: &FaultProxy, args: &[&str]) -> Run {
    cli.run_with(args, &[("AWS_ENDPOINT_URL", &proxy.endpoint)])
}

/// The stack's security groups (moto's default groups left out): name -> (id, description,
/// ingress ports).
async fn groups(moto: &Moto) -> Vec<(String, String, String, Vec<i32>)> {
    let ec2 = aws_sdk_ec2::Client::new(&crate::inventory::sdk(&moto.endpoint, None).await);
    let out = ec2
        .describe_security_groups()
        .filters(
            Filter::builder()
                .name("tag:cairn:stack")
                .values("dev")
                .build(),
        )
        .send()
        .await
        .unwrap();
    let mut v: Vec<_> = out
        .security_groups()
        .iter()
        .map(|g| {
            let ports = g
                .ip_permissions()
                .iter()
                .filter_map(|p| p.from_port())
                .collect();
            (
                g.group_name().unwrap_or_default().to_string(),
                g.group_id().unwrap_or_default().to_string(),
                g.description().unwrap_or_default().to_string(),
                ports,
            )
        })
        .collect();
    v.sort();
    v
}

fn history_counts(cli: &Cli) -> Value {
    let history: Value = serde_json::from_str(&cli.ok(&["history", "--json"]).stdout).unwrap();
    history[0].clone()
}

fn failed(r: &Run) {
    assert_eq!(r.code, 1, "expected a failure:\n{}\n{}", r.stdout, r.stderr);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failed_replacement_never_tears_down_what_it_cannot_rebuild() {
    let moto = Moto::start();
    let cli = cli(&moto);

    // A fixed name: the replacement deletes first, and the plan says so on both steps.
    cli.ok(&["config", "set", "webSgName", "web"]);
    cli.ok(&["up", "--yes"]);
    cli.ok(&["config", "set", "webSgDescription", "web servers, v2"]);
    let preview = cli.ok(&["preview"]).stdout;
    assert!(
        preview.contains("web (aws:ec2/SecurityGroup)  [forced by description]  [delete before replace: the name 'web' is fixed]"),
        "{preview}"
    );
    assert!(
        preview.contains("http (aws:ec2/SecurityGroupRule)  [forced by security_group_id]  [delete before replace: it refers to 'web', which is deleted first]"),
        "{preview}"
    );
    let up = cli.ok(&["up", "--yes"]);
    assert!(up.stdout.contains("Update: 2 replaced"), "{}", up.stdout);
    let now = groups(&moto).await;
    assert_eq!(now.len(), 1, "{now:?}");
    assert_eq!(
        (now[0].0.as_str(), now[0].2.as_str(), now[0].3.as_slice()),
        ("web", "web servers, v2", &[80][..])
    );

    // The same with the new group refused: what the plan deleted first is counted and named,
    // the run fails, and the next up rebuilds it.
    let proxy = refusing_new_groups(&moto);
    cli.ok(&["config", "set", "webSgDescription", "web servers, v3"]);
    let up = through(&cli, &proxy, &["up", "--yes"]);
    failed(&up);
    assert!(
        up.stdout.contains("Update: 2 deleted, 1 failed"),
        "{}",
        up.stdout
    );
    assert!(
        up.stderr.contains("Invalid security group description")
            && up.stderr.contains(
                "declared but not in the cloud now (the next up creates them): web, http"
            ),
        "{}",
        up.stderr
    );
    let last = history_counts(&cli);
    assert_eq!(last["result"], "failed");
    assert_eq!(last["summary"]["counts"]["deleted"], 2);
    assert_eq!(last["summary"]["counts"]["failed"], 1);
    assert!(groups(&moto).await.is_empty());
    let up = cli.ok(&["up", "--yes"]);
    assert!(up.stdout.contains("Update: 2 created"), "{}", up.stdout);
    let now = groups(&moto).await;
    assert_eq!(now.len(), 1);
    assert_eq!(
        (now[0].2.as_str(), now[0].3.as_slice()),
        ("web servers, v3", &[80][..])
    );

    // Left to Cairn, the name is kept until a replacement, which then creates first under a new
    // name. Refused, it changes nothing at all: the old group and its port-80 rule stay.
    cli.ok(&["config", "rm", "webSgName"]);
    assert!(
        cli.ok(&["preview"])
            .stdout
            .contains("Plan: no changes (3 unchanged)")
    );
    cli.ok(&["config", "set", "webSgDescription", "web servers, v4"]);
    let preview = cli.ok(&["preview"]).stdout;
    assert!(!preview.contains("delete before replace"), "{preview}");
    let before = groups(&moto).await;
    let up = through(&cli, &proxy, &["up", "--yes"]);
    failed(&up);
    assert!(up.stdout.contains("Update: 1 failed"), "{}", up.stdout);
    assert!(
        !up.stderr.contains("declared but not in the cloud"),
        "{}",
        up.stderr
    );
    assert_eq!(groups(&moto).await, before);
    let last = history_counts(&cli);
    assert_eq!(last["summary"]["counts"], serde_json::json!({"failed": 1}));

    let up = cli.ok(&["up", "--yes"]);
    assert!(up.stdout.contains("Update: 2 replaced"), "{}", up.stdout);
    let now = groups(&moto).await;
    assert_eq!(now.len(), 1, "{now:?}");
    assert!(
        now[0].0.starts_with("web-") && now[0].0.len() == 11,
        "{now:?}"
    );
    assert_eq!(
        (now[0].2.as_str(), now[0].3.as_slice()),
        ("web servers, v4", &[80][..])
    );
    assert!(
        cli.ok(&["preview"])
            .stdout
            .contains("Plan: no changes (3 unchanged)")
    );
}

/// Where `event` appears in a run's output, for ordering the lines of one run.
fn line_of(out: &str, event: &str) -> usize {
    out.lines()
        .position(|l| l.trim_start().starts_with(event))
        .unwrap_or_else(|| panic!("no line starting with {event:?} in:\n{out}"))
}

#[tokio::test(flavor = "multi_thread")]
async fn what_cairn_names_is_replaced_by_creating_first_without_conflict() {
    let moto = Moto::start();
    let cli = cli(&moto);
    cli.ok(&["config", "set", "loadBalancer", "true"]);

    // A fixed name the load balancer still uses cannot be deleted first: refused at preview
    // and at up, before anything is touched.
    cli.ok(&["config", "set", "webSgName", "web"]);
    cli.ok(&["up", "--yes"]);
    cli.ok(&["config", "set", "webSgDescription", "web servers, v2"]);
    for command in [&["preview"][..], &["up", "--yes"]] {
        let r = cli.run(command);
        failed(&r);
        assert!(
            r.stderr.contains(
                "resource 'web' (aws:ec2/SecurityGroup) would be replaced by deleting it first \
                 (the name 'web' is fixed), but 'lb' still refers to it"
            ) && r.stderr.contains("leave `name` unset"),
            "{}",
            r.stderr
        );
    }
    assert_eq!(groups(&moto).await[0].2, "web servers");

    // Left to Cairn, every one of these is replaced by creating first.
    cli.ok(&["config", "rm", "webSgName"]);
    let outputs = |cli: &Cli| -> Value {
        serde_json::from_str(&cli.ok(&["outputs", "--json"]).stdout).unwrap()
    };
    let old = outputs(&cli);
    for (k, v) in [
        ("lbScheme", "internal"),
        ("tgPort", "8080"),
        ("rolePath", "/service/"),
    ] {
        cli.ok(&["config", "set", k, v]);
    }
    let preview = cli.ok(&["preview"]).stdout;
    assert!(!preview.contains("delete before replace"), "{preview}");
    let up = cli.ok(&["up", "--yes"]);
    for name in ["web", "lb", "tg", "role"] {
        assert!(
            line_of(&up.stdout, &format!("replaced  {name} "))
                < line_of(&up.stdout, &format!("deleted original {name} ")),
            "{}",
            up.stdout
        );
    }
    let new = outputs(&cli);
    for k in ["webSgId", "lbArn", "tgArn", "roleName"] {
        assert_ne!(old[k], new[k], "{k}");
    }

    // Through the SDK: one of each, as changed, the listener on the new target group.
    let config = crate::inventory::sdk(&moto.endpoint, None).await;
    let elb = aws_sdk_elasticloadbalancingv2::Client::new(&config);
    let lbs = elb.describe_load_balancers().send().await.unwrap();
    assert_eq!(lbs.load_balancers().len(), 1);
    let lb = &lbs.load_balancers()[0];
    assert_eq!(lb.scheme().map(|s| s.as_str()), Some("internal"));
    assert!(lb.load_balancer_name().unwrap().starts_with("lb-"));
    let tgs = elb.describe_target_groups().send().await.unwrap();
    assert_eq!(tgs.target_groups().len(), 1);
    assert_eq!(tgs.target_groups()[0].port(), Some(8080));
    let listeners = elb
        .describe_listeners()
        .load_balancer_arn(lb.load_balancer_arn().unwrap())
        .send()
        .await
        .unwrap();
    let forward = listeners.listeners()[0].default_actions()[0].target_group_arn();
    assert_eq!(forward, tgs.target_groups()[0].target_group_arn());
    let iam = aws_sdk_iam::Client::new(&config);
    let roles = iam.list_roles().send().await.unwrap();
    let ours: Vec<_> = roles
        .roles()
        .iter()
        .filter(|r| r.role_name().starts_with("role-"))
        .collect();
    assert_eq!(ours.len(), 1);
    assert_eq!(ours[0].path(), "/service/");
    let now = groups(&moto).await;
    assert_eq!(now.len(), 1, "{now:?}");
    assert_eq!(now[0].2, "web servers, v2");
    assert!(cli.ok(&["preview"]).stdout.contains("Plan: no changes"));
    cli.ok(&["destroy", "--yes"]);
    assert!(groups(&moto).await.is_empty());
}
