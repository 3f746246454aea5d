//! AWS failing under the program: throttling, 500s, 503s and dropped connections injected by a
//! loopback proxy in front of moto (`cairn_tests::faults`), and a permanent error.

use std::sync::atomic::Ordering;

use cairn_state::Store;
use cairn_tests::faults::{FaultPlan, FaultProxy};
use cairn_tests::{Cli, Moto};

use crate::inventory::{self, Defaults, ROLE_B};

const BIN: &str = env!("CARGO_BIN_EXE_cairn-program");

#[tokio::test(flavor = "multi_thread")]
async fn with_a_fifth_of_calls_failing_up_converges_without_duplicates() {
    let moto = Moto::start();
    let defaults = Defaults::of(&moto.endpoint).await;
    let proxy = FaultProxy::start(
        &moto.endpoint,
        FaultPlan {
            rate: 0.2,
            seed: 7,
            ..FaultPlan::default()
        },
    );
    let cli = Cli::with_endpoint(BIN, &proxy.endpoint);
    cli.ok(&["config", "set", "accountB:roleArn", ROLE_B]);

    let up = cli.ok(&["up", "--yes"]);
    assert!(up.stdout.contains("Update: 36 created"), "{}", up.stdout);
    let injected = proxy.stats.injected();
    let forwarded = proxy.stats.forwarded.load(Ordering::SeqCst);
    assert!(
        injected * 10 >= (injected + forwarded),
        "the proxy injected too few faults to prove anything: {injected} of {}",
        injected + forwarded
    );
    // Decisions are a function of the seed and the request's number, and with seed 7 each kind
    // is drawn among the first 45 numbers (a 503 at 8, a dropped connection at 14, throttling
    // at 18), far fewer requests than an up makes: these hold for every order of requests.
    for (kind, n) in [
        ("throttling", &proxy.stats.throttled),
        ("5xx", &proxy.stats.server_errors),
        ("dropped connection", &proxy.stats.dropped),
    ] {
        assert!(n.load(Ordering::SeqCst) > 0, "no {kind} was injected");
    }

    // Exactly what the state records exists, once.
    let records = Store::open(cli.state_path())
        .unwrap()
        .resources("dev")
        .unwrap();
    assert_eq!(records.len(), 36);
    let in_moto = defaults.everything_else(&moto.endpoint).await;
    assert_eq!(in_moto, inventory::of_state(&records));

    // Still under fire: nothing to change, then everything goes.
    let again = cli.ok(&["up", "--yes"]);
    assert!(
        again.stdout.contains("Update: no changes"),
        "{}",
        again.stdout
    );
    let destroyed = cli.ok(&["destroy", "--yes"]);
    assert!(
        destroyed.stdout.contains("Destroy: 36 deleted"),
        "{}",
        destroyed.stdout
    );
    let left = defaults.everything_else(&moto.endpoint).await;
    assert!(left.is_empty(), "left behind: {left:?}");
    eprintln!(
        "faults injected: {} throttled, {} 5xx, {} dropped; {} forwarded",
        proxy.stats.throttled.load(Ordering::SeqCst),
        proxy.stats.server_errors.load(Ordering::SeqCst),
        proxy.stats.dropped.load(Ordering::SeqCst),
        proxy.stats.forwarded.load(Ordering::SeqCst),
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_permanent_error_fails_that_resource_at_once_and_the_rest_completes() {
    let moto = Moto::start();
    let defaults = Defaults::of(&moto.endpoint).await;
    let message = "The Vpc Endpoint Service 'com.amazonaws.us-east-2.logs' does not exist";
    let proxy = FaultProxy::start(
        &moto.endpoint,
        FaultPlan {
            permanent: vec![(
                vec![
                    "Action=CreateVpcEndpoint".into(),
                    "ServiceName=com.amazonaws.us-east-2.logs".into(),
                ],
                400,
                "InvalidParameterValue".into(),
                message.into(),
            )],
            ..FaultPlan::default()
        },
    );
    let cli = Cli::with_endpoint(BIN, &proxy.endpoint);
    cli.ok(&["config", "set", "accountB:roleArn", ROLE_B]);

    let up = cli.run(&["up", "--yes"]);
    assert_eq!(up.code, 1, "{}\n{}", up.stdout, up.stderr);
    // AWS's code and message, the resource, and the property it is about.
    for needle in [
        "endpoint-logs",
        "service_name",
        "InvalidParameterValue",
        message,
    ] {
        assert!(
            up.stderr.contains(needle),
            "missing {needle:?}:\n{}",
            up.stderr
        );
    }
    // At once: the SDK does not retry a client error.
    assert_eq!(proxy.stats.permanent.load(Ordering::SeqCst), 1);
    // Everything independent of it was created and recorded.
    assert!(up.stdout.contains("Update: 35 created"), "{}", up.stdout);
    let records = Store::open(cli.state_path())
        .unwrap()
        .resources("dev")
        .unwrap();
    assert_eq!(records.len(), 35);
    assert!(records.iter().all(|r| r.name != "endpoint-logs"));
    let in_moto = defaults.everything_else(&moto.endpoint).await;
    assert_eq!(in_moto, inventory::of_state(&records));
}

/// `up` through `cli` until the program is what exists, allowing one more run than the first
/// (a create whose response was lost is adopted as it is, and the next run finishes it).
fn up_converges(cli: &Cli) {
    for run in 1..=2 {
        let up = cli.run(&["up", "--yes"]);
        let preview = cli.ok(&["preview"]);
        if up.code == 0 && preview.stdout.contains("Plan: no changes (36 unchanged)") {
            return;
        }
        assert!(
            run < 2,
            "up did not converge in two runs:\n{}\n{}\n--- then preview ---\n{}",
            up.stdout,
            up.stderr,
            preview.stdout
        );
    }
}

/// Deploys and destroys the default program behind `proxy`, checking after each step that what
/// the state records exists in moto once, and nothing more.
async fn deploy_and_destroy_behind(moto: &Moto, defaults: &Defaults, proxy: &FaultProxy) {
    let cli = Cli::with_endpoint(BIN, &proxy.endpoint);
    cli.ok(&["config", "set", "accountB:roleArn", ROLE_B]);
    up_converges(&cli);
    let records = Store::open(cli.state_path())
        .unwrap()
        .resources("dev")
        .unwrap();
    assert_eq!(records.len(), 36);
    let in_moto = defaults.everything_else(&moto.endpoint).await;
    assert_eq!(
        in_moto,
        inventory::of_state(&records),
        "moto and the state differ"
    );
    let again = cli.ok(&["up", "--yes"]);
    assert!(
        again.stdout.contains("Update: no changes"),
        "{}",
        again.stdout
    );

    let destroyed = cli.run(&["destroy", "--yes"]);
    if destroyed.code != 0 {
        cli.ok(&["destroy", "--yes"]);
    }
    let left = defaults.everything_else(&moto.endpoint).await;
    assert!(left.is_empty(), "left behind: {left:?}");
    assert!(
        Store::open(cli.state_path())
            .unwrap()
            .resources("dev")
            .unwrap()
            .is_empty()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_first_response_of_every_mutating_operation_lost_leaves_no_duplicate() {
    let moto = Moto::start();
    let defaults = Defaults::of(&moto.endpoint).await;
    let proxy = FaultProxy::start(
        &moto.endpoint,
        FaultPlan {
            lose_first_of_each: true,
            ..FaultPlan::default()
        },
    );
    deploy_and_destroy_behind(&moto, &defaults, &proxy).await;
    let lost = proxy.stats.lost.lock().unwrap().clone();
    for op in [
        "CreateVpc",
        "CreateSubnet",
        "CreateInternetGateway",
        "CreateRouteTable",
        "CreateRoute",
        "AssociateRouteTable",
        "CreateSecurityGroup",
        "AuthorizeSecurityGroupIngress",
        "CreateVpcEndpoint",
        "CreateRepository",
        "SetRepositoryPolicy",
        "CreateRole",
        "AttachRolePolicy",
        "CreateLogGroup",
        "CreateCluster",
        "RegisterTaskDefinition",
        "CreateLoadBalancer",
        "CreateTargetGroup",
        "CreateListener",
        "CreateService",
        "DeleteVpc",
        "DeleteRole",
        "DeleteService",
    ] {
        assert!(
            lost.iter().any(|l| l == op),
            "no response of {op} was lost: {lost:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn with_15_percent_of_mutating_responses_lost_up_and_destroy_converge() {
    let moto = Moto::start();
    let defaults = Defaults::of(&moto.endpoint).await;
    let proxy = FaultProxy::start(
        &moto.endpoint,
        FaultPlan {
            lost_responses: 0.15,
            seed: 3,
            ..FaultPlan::default()
        },
    );
    deploy_and_destroy_behind(&moto, &defaults, &proxy).await;
    let lost = proxy.stats.lost.lock().unwrap().len();
    assert!(lost > 0, "no response was lost");
    eprintln!("responses lost after moto acted: {lost}");
}

/// The types whose create, repeated, AWS answers with "already exists" (or by returning what
/// exists, for the idempotent ones), among those the default program names itself or that
/// have no name: a create of one of these whose record was lost meets what it made. (Where
/// Cairn picks the name, a record lost outright takes the name with it; a lost response keeps
/// it in the pending record and the failed create, which
/// `the_first_response_of_every_mutating_operation_lost_leaves_no_duplicate` covers.)
const CONFLICTING: &[&str] = &[
    "aws:ec2/Subnet",
    "aws:ec2/SecurityGroupRule",
    "aws:ec2/Route",
    "aws:ec2/RouteTableAssociation",
    "aws:ecr/Repository",
    "aws:ecr/RepositoryPolicy",
    "aws:iam/RolePolicyAttachment",
    "aws:logs/LogGroup",
    "aws:ecs/Cluster",
    "aws:ecs/Service",
    // Not `aws:lb/Listener`: moto accepts a second listener on a port, where AWS answers
    // `DuplicateListener`.
];

#[tokio::test(flavor = "multi_thread")]
async fn a_create_that_meets_what_it_made_adopts_it_for_every_type() {
    let moto = Moto::start();
    let defaults = Defaults::of(&moto.endpoint).await;
    let cli = Cli::new(BIN, &moto);
    cli.ok(&["config", "set", "accountB:roleArn", ROLE_B]);
    cli.ok(&["config", "set", "enableSsm", "true"]);
    cli.ok(&["config", "set", "ssmAmiId", "ami-03cf127a"]);
    cli.ok(&["up", "--yes"]);

    // The state loses every record of those types, as if each create's response had been lost
    // and its record never written.
    let store = Store::open(cli.state_path()).unwrap();
    let before = store.resources("dev").unwrap();
    let mut forgotten = Vec::new();
    for r in before
        .iter()
        .filter(|r| CONFLICTING.contains(&r.ty.as_str()))
    {
        store.complete_delete(None, r.seq).unwrap();
        forgotten.push((r.ty.clone(), r.name.clone(), r.id.clone()));
    }
    let types: std::collections::BTreeSet<&str> =
        forgotten.iter().map(|(t, _, _)| t.as_str()).collect();
    assert_eq!(
        types.len(),
        CONFLICTING.len(),
        "the program has each type: {types:?}"
    );

    let up = cli.ok(&["up", "--yes"]);
    assert!(up.stdout.contains("created"), "{}", up.stdout);
    let after = store.resources("dev").unwrap();
    for (ty, name, id) in &forgotten {
        let now = after.iter().find(|r| &r.name == name).unwrap();
        assert_eq!(
            &now.id, id,
            "{name} ({ty}) was made again instead of adopted"
        );
    }
    let in_moto = defaults.everything_else(&moto.endpoint).await;
    assert_eq!(
        in_moto,
        inventory::of_state(&after),
        "moto and the state differ"
    );
    assert!(cli.ok(&["preview"]).stdout.contains("Plan: no changes"));

    // Another stack asking for the same names meets what is not its own: refused, nothing of
    // the first stack is adopted, and destroying the second leaves the first as it was.
    let prod = |args: &[&str]| {
        let mut full = vec!["--stack", "prod"];
        full.extend_from_slice(args);
        cli.run(&full)
    };
    assert_eq!(prod(&["config", "set", "accountB:roleArn", ROLE_B]).code, 0);
    let up = prod(&["up", "--yes"]);
    assert_eq!(up.code, 1, "{}\n{}", up.stdout, up.stderr);
    for name in ["repository", "log-group", "cluster"] {
        assert!(
            up.stderr.contains(&format!("creating '{name}'"))
                && up
                    .stderr
                    .contains(&format!("what exists is not this stack's '{name}'")),
            "{name}: {}",
            up.stderr
        );
    }
    let prod_records = store.resources("prod").unwrap();
    assert!(
        prod_records
            .iter()
            .all(|p| after.iter().all(|d| d.id != p.id))
    );
    assert_eq!(prod(&["destroy", "--yes"]).code, 0);
    assert_eq!(store.resources("dev").unwrap(), after);
    assert_eq!(defaults.everything_else(&moto.endpoint).await, in_moto);
}

/// An operation on one resource of the default program: (operation, resource name).
type OnResource = (&'static str, &'static str);

/// The orders AWS enforces on deletes (moto forgives most of them), between resources of the
/// default program: each `((op, resource), (op, resource))` means every call of the first
/// operation naming the first resource must be answered before any call of the second
/// operation naming the second resource is made.
const DELETE_ORDER: &[(OnResource, OnResource)] = &[
    (("DeleteService", "service"), ("DeleteCluster", "cluster")),
    (
        ("DeleteService", "service"),
        ("DeleteTargetGroup", "target-group"),
    ),
    (("DeleteService", "service"), ("DeleteSubnet", "private-a")),
    (
        ("DeleteService", "service"),
        ("DeleteSecurityGroup", "service-sg"),
    ),
    (
        ("DeleteListener", "listener"),
        ("DeleteTargetGroup", "target-group"),
    ),
    (
        ("DeleteListener", "listener"),
        ("DeleteLoadBalancer", "load-balancer"),
    ),
    (
        ("DeleteLoadBalancer", "load-balancer"),
        ("DeleteSubnet", "public-a"),
    ),
    (
        ("DeleteLoadBalancer", "load-balancer"),
        ("DeleteSubnet", "public-b"),
    ),
    (
        ("DeleteLoadBalancer", "load-balancer"),
        ("DeleteSecurityGroup", "alb-sg"),
    ),
    (
        ("DeleteVpcEndpoints", "endpoint-ecr-api"),
        ("DeleteSubnet", "private-a"),
    ),
    (
        ("DeleteVpcEndpoints", "endpoint-ecr-dkr"),
        ("DeleteSubnet", "private-b"),
    ),
    (
        ("DeleteVpcEndpoints", "endpoint-logs"),
        ("DeleteSecurityGroup", "endpoint-sg"),
    ),
    (
        ("DeleteVpcEndpoints", "endpoint-s3"),
        ("DeleteRouteTable", "private-a-routes"),
    ),
    (
        ("TerminateInstances", "ssm-host"),
        ("DeleteSubnet", "private-a"),
    ),
    (
        ("TerminateInstances", "ssm-host"),
        ("DeleteInstanceProfile", "ssm-instance-profile"),
    ),
    (
        ("DetachRolePolicy", "task-execution-role"),
        ("DeleteRole", "task-execution-role"),
    ),
    (
        ("RemoveRoleFromInstanceProfile", "ssm-instance-role"),
        ("DeleteRole", "ssm-instance-role"),
    ),
    (
        ("DisassociateRouteTable", "public-a-routes"),
        ("DeleteRouteTable", "public-routes"),
    ),
    (
        ("DisassociateRouteTable", "private-a-routes-association"),
        ("DeleteSubnet", "private-a"),
    ),
    (
        ("DetachInternetGateway", "internet-gateway"),
        ("DeleteVpc", "vpc"),
    ),
    (("DeleteSubnet", "private-a"), ("DeleteVpc", "vpc")),
    (("DeleteSecurityGroup", "endpoint-sg"), ("DeleteVpc", "vpc")),
    (("DeleteRouteTable", "public-routes"), ("DeleteVpc", "vpc")),
];

#[tokio::test(flavor = "multi_thread")]
async fn destroy_calls_aws_in_the_order_aws_requires() {
    let moto = Moto::start();
    let proxy = FaultProxy::start(&moto.endpoint, FaultPlan::default());
    let cli = Cli::with_endpoint(BIN, &proxy.endpoint);
    cli.ok(&["config", "set", "accountB:roleArn", ROLE_B]);
    cli.ok(&["config", "set", "enableSsm", "true"]);
    cli.ok(&["config", "set", "ssmAmiId", "ami-03cf127a"]);
    cli.ok(&["up", "--yes"]);
    let records = Store::open(cli.state_path())
        .unwrap()
        .resources("dev")
        .unwrap();
    // What a call names the resource by: its id (a role: its name, which is its id).
    let id = |name: &str| {
        let r = records.iter().find(|r| r.name == name);
        r.unwrap_or_else(|| panic!("no resource '{name}'"))
            .id
            .clone()
    };
    proxy.stats.calls.lock().unwrap().clear();
    cli.ok(&["destroy", "--yes"]);
    let calls: Vec<String> = proxy
        .stats
        .calls
        .lock()
        .unwrap()
        .iter()
        .map(|c| c.op.clone())
        .collect();
    for ((op1, r1), (op2, r2)) in DELETE_ORDER {
        assert!(
            proxy.stats.before((op1, &id(r1)), (op2, &id(r2))),
            "{op1} of {r1} must be done before {op2} of {r2}: {calls:?}"
        );
    }
}

/// Every attempt of every call goes through the pacer of its account, region and API: a
/// throttled one slows its API down, the SDK retries it, and the run completes.
#[test]
fn a_throttled_api_is_paced_slower_and_its_calls_retried_through_the_pacer() {
    let moto = Moto::start();
    let proxy = FaultProxy::start(
        &moto.endpoint,
        FaultPlan {
            throttle_first: vec![("CreateSubnet", 3), ("CreateTargetGroup", 2)],
            ..FaultPlan::default()
        },
    );
    let cli = Cli::with_endpoint(BIN, &proxy.endpoint);
    cli.ok(&["config", "set", "accountB:roleArn", ROLE_B]);
    let up = cli.run_with(&["up", "--yes"], &[("RUST_LOG", "cairn_aws=info")]);
    assert_eq!(up.code, 0, "{}\n{}", up.stdout, up.stderr);
    assert!(up.stdout.contains("Update: 36 created"), "{}", up.stdout);
    assert_eq!(proxy.stats.throttled.load(Ordering::SeqCst), 5);
    let throttled: Vec<&str> = up
        .stderr
        .lines()
        .filter(|l| l.contains("AWS throttled"))
        .collect();
    let of = |api: &str| {
        let said = format!("AWS throttled {api};");
        throttled.iter().filter(|l| l.contains(&said)).count()
    };
    assert_eq!(
        (
            of("ec2:CreateSubnet"),
            of("elasticloadbalancingv2:CreateTargetGroup")
        ),
        (3, 2),
        "{}",
        up.stderr
    );
    // The first throttle of an API halves its seeded rate: EC2's 5 mutating calls a second.
    assert!(
        throttled
            .iter()
            .any(|l| l.contains("ec2:CreateSubnet; pacing it at 2.50 calls a second")),
        "{}",
        up.stderr
    );
}
