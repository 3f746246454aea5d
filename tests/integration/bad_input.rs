//! Bad input through the default program's command line, against a deployed stack: each
//! mistake is one clear error naming the resource and property (or the config key, the
//! provider, the file) and the state is exactly as it was. Duplicate names, cycles and
//! `protect` are covered by the engine's own tests (`core/src/engine/tests.rs`).

use cairn::{Config, Engine, Program, Stack};
use cairn_aws::ecr::{Repository, RepositoryArgs, RepositoryPolicy, RepositoryPolicyArgs};
use cairn_state::Store;
use cairn_tests::faults::{FaultPlan, FaultProxy};
use cairn_tests::{Cli, Moto, Run};

use crate::inventory::ROLE_B;

const BIN: &str = env!("CARGO_BIN_EXE_cairn-program");

/// Everything the state says about the stack.
fn snapshot(path: &std::path::Path) -> String {
    let store = Store::open(path).unwrap();
    format!(
        "{:?}\n{:?}\n{}\n{:?}",
        store.resources("dev").unwrap(),
        store.outputs("dev").unwrap(),
        store.history("dev").unwrap().len(),
        store.pending_operations("dev").unwrap(),
    )
}

fn fails_with(r: &Run, needles: &[&str]) {
    assert_eq!(r.code, 1, "expected a failure:\n{}\n{}", r.stdout, r.stderr);
    for n in needles {
        assert!(r.stderr.contains(n), "missing {n:?} in:\n{}", r.stderr);
    }
}

#[test]
fn bad_input_is_one_clear_error_and_leaves_the_state_untouched() {
    let moto = Moto::start();
    let cli = Cli::new(BIN, &moto);
    cli.ok(&["config", "set", "accountB:roleArn", ROLE_B]);
    cli.ok(&["up", "--yes"]);
    let before = snapshot(&cli.state_path());

    // An invalid CIDR block, and one outside its VPC: both caught at preview.
    cli.ok(&[
        "config",
        "set",
        "privateSubnetCidrs",
        "10.0.2.0/33,10.0.3.0/24",
    ]);
    for command in [&["preview"][..], &["up", "--yes"]] {
        fails_with(
            &cli.run(command),
            &[
                "resource 'private-a'",
                "property 'cidr_block'",
                "'10.0.2.0/33' is not a valid IPv4 CIDR block",
            ],
        );
    }
    cli.ok(&[
        "config",
        "set",
        "privateSubnetCidrs",
        "10.0.2.0/24,10.1.3.0/24",
    ]);
    fails_with(
        &cli.run(&["up", "--yes"]),
        &[
            "resource 'private-b'",
            "property 'cidr_block'",
            "'10.1.3.0/24' is outside the VPC's CIDR block '10.0.0.0/16'",
        ],
    );
    cli.ok(&["config", "rm", "privateSubnetCidrs"]);

    // A mistyped key the program reads, and a value of the wrong type.
    cli.ok(&["config", "set", "desiredcount", "3"]);
    fails_with(
        &cli.run(&["up", "--yes"]),
        &["config key 'desiredcount'", "did you mean 'desiredCount'"],
    );
    cli.ok(&["config", "rm", "desiredcount"]);
    cli.ok(&["config", "set", "desiredCount", "three"]);
    fails_with(
        &cli.run(&["up", "--yes"]),
        &["config key 'desiredCount': 'three' is not a valid i32"],
    );
    cli.ok(&["config", "rm", "desiredCount"]);

    // An unknown region.
    cli.ok(&["config", "set", "aws:region", "us-esat-2"]);
    fails_with(
        &cli.run(&["preview"]),
        &["provider 'accountA'", "'us-esat-2' is not an AWS region"],
    );
    cli.ok(&["config", "rm", "aws:region"]);

    // No credentials anywhere: no keys, no profile files, no instance metadata.
    let home = tempfile::tempdir().unwrap();
    let nowhere = home.path().join("none");
    let nowhere = nowhere.to_str().unwrap();
    fails_with(
        &cli.run_env(
            &["up", "--yes"],
            &[
                ("HOME", home.path().to_str().unwrap()),
                ("AWS_CONFIG_FILE", nowhere),
                ("AWS_SHARED_CREDENTIALS_FILE", nowhere),
                ("AWS_EC2_METADATA_DISABLED", "true"),
            ],
            &["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"],
        ),
        &["provider 'accountA'", "provider 'accountB'", "credentials"],
    );

    // Wrong credentials: AWS's own answer, as a proxy in front of moto gives it.
    let proxy = FaultProxy::start(
        &moto.endpoint,
        FaultPlan {
            permanent: vec![(
                vec!["Credential=AKIAWRONGKEY/".into()],
                403,
                "InvalidClientTokenId".into(),
                "The security token included in the request is invalid.".into(),
            )],
            ..FaultPlan::default()
        },
    );
    fails_with(
        &cli.run_with(
            &["up", "--yes"],
            &[
                ("AWS_ENDPOINT_URL", &proxy.endpoint),
                ("AWS_ACCESS_KEY_ID", "AKIAWRONGKEY"),
            ],
        ),
        &["provider 'accountA'", "InvalidClientTokenId"],
    );

    assert_eq!(snapshot(&cli.state_path()), before, "the state changed");

    // A state database that is corrupted, truncated, or from a newer Cairn: refused, untouched.
    let good = std::fs::read(cli.state_path()).unwrap();
    let mut corrupted = good.clone();
    for b in &mut corrupted[100..4096] {
        *b = 0xA5;
    }
    let truncated = good[..good.len() / 2].to_vec();
    for (what, bytes) in [("corrupted", corrupted), ("truncated", truncated)] {
        let path = cli.dir.path().join(format!("{what}.db"));
        std::fs::write(&path, &bytes).unwrap();
        let r = cli.run_with(&["up", "--yes"], &[("CAIRN_STATE", path.to_str().unwrap())]);
        fails_with(
            &r,
            &["state database", "unreadable (truncated or corrupted)"],
        );
        assert_eq!(
            std::fs::read(&path).unwrap(),
            bytes,
            "{what} file was modified"
        );
    }
    let newer = cli.dir.path().join("newer.db");
    std::fs::write(&newer, &good).unwrap();
    rusqlite::Connection::open(&newer)
        .unwrap()
        .pragma_update(None, "user_version", 99)
        .unwrap();
    let newer_bytes = std::fs::read(&newer).unwrap();
    let r = cli.run_with(&["preview"], &[("CAIRN_STATE", newer.to_str().unwrap())]);
    fails_with(&r, &["schema version 99", "upgrade Cairn"]);
    assert_eq!(std::fs::read(&newer).unwrap(), newer_bytes);

    // And the real state still works.
    let again = cli.ok(&["up", "--yes"]);
    assert!(
        again.stdout.contains("Update: no changes"),
        "{}",
        again.stdout
    );
}

#[tokio::test]
async fn a_malformed_json_policy_fails_at_preview_naming_resource_and_property() {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::new(Store::open(dir.path().join("s.db")).unwrap(), "dev");
    let program = Program::declare(Stack::new("dev", Config::default()), |s| {
        let repo = Repository::new(s, "repo", RepositoryArgs::builder().name("repo").build());
        RepositoryPolicy::new(
            s,
            "repo-policy",
            RepositoryPolicyArgs::builder()
                .repository(repo.name())
                .policy(cairn_aws::policy_document(
                    r#"{"Version": "2012-10-17", "Statement": ["#,
                ))
                .build(),
        );
    })
    .unwrap();
    let err = engine.preview(&program).await.unwrap_err().to_string();
    for n in [
        "resource 'repo-policy'",
        "property 'policy'",
        "not valid JSON",
        "line 1 column",
    ] {
        assert!(err.contains(n), "missing {n:?} in: {err}");
    }
    assert!(engine.records().unwrap().is_empty());
}

/// A name the program sets that the service would refuse (upper case in an ECR repository, a
/// bucket name too long, a security group name AWS reserves) fails at preview, each naming its
/// resource, its property and the rule, all at once.
#[tokio::test]
async fn a_name_aws_would_refuse_fails_at_preview_naming_resource_property_and_rule() {
    use cairn_aws::ec2::{SecurityGroup, SecurityGroupArgs};
    use cairn_aws::s3::{Bucket, BucketArgs};
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::new(Store::open(dir.path().join("s.db")).unwrap(), "dev");
    let program = Program::declare(Stack::new("dev", Config::default()), |s| {
        Repository::new(s, "repo", RepositoryArgs::builder().name("Web").build());
        Bucket::new(
            s,
            "assets",
            BucketArgs::builder().name("a".repeat(64)).build(),
        );
        SecurityGroup::new(
            s,
            "web-sg",
            SecurityGroupArgs::builder()
                .name("sg-web")
                .description("web")
                .vpc_id("vpc-0123456789abcdef0")
                .build(),
        );
    })
    .unwrap();
    let err = engine.preview(&program).await.unwrap_err().to_string();
    for n in [
        "resource 'repo'",
        "'Web' has upper-case letters",
        "resource 'assets'",
        "at most 63 are allowed",
        "resource 'web-sg'",
        "begins with 'sg-', which AWS reserves",
        "property 'name'",
    ] {
        assert!(err.contains(n), "missing {n:?} in: {err}");
    }
    assert!(engine.records().unwrap().is_empty());
}

/// A listener with no default action, or two, and an HTTPS listener without a certificate,
/// fail at preview naming the property.
#[tokio::test]
async fn a_listener_needs_one_action_and_https_a_certificate() {
    use cairn_aws::elb::{FixedResponse, Listener, ListenerArgs, Protocol};
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::new(Store::open(dir.path().join("s.db")).unwrap(), "dev");
    let lb = "arn:aws:elasticloadbalancing:us-east-2:123456789012:loadbalancer/app/web/1";
    let program = Program::declare(Stack::new("dev", Config::default()), |s| {
        Listener::new(
            s,
            "none",
            ListenerArgs::builder()
                .load_balancer_arn(lb)
                .port(80)
                .protocol(Protocol::Http)
                .build(),
        );
        Listener::new(
            s,
            "secure",
            ListenerArgs::builder()
                .load_balancer_arn(lb)
                .port(443)
                .protocol(Protocol::Https)
                .fixed_response(FixedResponse {
                    status_code: "200".into(),
                    ..Default::default()
                })
                .build(),
        );
    })
    .unwrap();
    let err = engine.preview(&program).await.unwrap_err().to_string();
    for n in [
        "resource 'none'",
        "set exactly one of target_group_arn, redirect and fixed_response (0 set)",
        "resource 'secure'",
        "property 'certificate_arn'",
        "an HTTPS listener needs a certificate",
    ] {
        assert!(err.contains(n), "missing {n:?} in: {err}");
    }
}

/// A listener rule without a condition or action, and a security group rule open to no one
/// or with its ports reversed, fail at preview naming the resource and the property.
#[tokio::test]
async fn a_listener_rule_needs_a_condition_and_an_inline_rule_a_peer() {
    use cairn_aws::ec2::{IpProtocol, Rule, SecurityGroup, SecurityGroupArgs};
    use cairn_aws::elb::{ListenerRule, ListenerRuleArgs};
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::new(Store::open(dir.path().join("s.db")).unwrap(), "dev");
    let listener = "arn:aws:elasticloadbalancing:us-east-2:123456789012:listener/app/web/1/2";
    let program = Program::declare(Stack::new("dev", Config::default()), |s| {
        ListenerRule::new(
            s,
            "aimless",
            ListenerRuleArgs::builder()
                .listener_arn(listener)
                .priority(0)
                .build(),
        );
        SecurityGroup::new(
            s,
            "closed",
            SecurityGroupArgs::builder()
                .vpc_id("vpc-1")
                .description("closed")
                .ingress(vec![Rule::tcp(80)])
                .egress(vec![Rule::new(IpProtocol::Tcp, 90, 80).cidr("0.0.0.0/0")])
                .build(),
        );
    })
    .unwrap();
    let err = engine.preview(&program).await.unwrap_err().to_string();
    for n in [
        "resource 'aimless'",
        "a listener rule has one action: set exactly one of target_group_arn",
        "property 'path_patterns'",
        "a listener rule needs a condition",
        "property 'priority'",
        "0 is outside 1..50000",
        "resource 'closed'",
        "property 'ingress'",
        "rule 1 (tcp 80): opens to no one",
        "property 'egress'",
        "from_port 90 is above to_port 80",
    ] {
        assert!(err.contains(n), "missing {n:?} in: {err}");
    }
    assert!(engine.records().unwrap().is_empty());
}
