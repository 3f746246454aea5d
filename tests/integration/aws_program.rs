//! The default program against a real AWS API emulator (moto), driven through the engine, and
//! every fact checked back through the AWS SDK in each account.

use aws_config::SdkConfig;
use cairn::{Config, Engine, Program, Stack, StepKind};
use cairn_state::Store;
use cairn_tests::Moto;
use serde_json::Value;

const ACCOUNT_A: &str = "123456789012";
const ACCOUNT_B: &str = "222222222222";
use crate::inventory::ROLE_B;

struct Env {
    moto: Moto,
    dir: tempfile::TempDir,
    engine: Engine,
}

impl Env {
    fn new() -> Env {
        let moto = Moto::start();
        let dir = tempfile::tempdir().unwrap();
        // The program runs in this process: its credentials come from a file of the test's
        // own, named in its configuration, not from the process environment, which other tests
        // read while they start programs.
        std::fs::write(
            dir.path().join("credentials"),
            "[moto]\naws_access_key_id = testing\naws_secret_access_key = testing\n",
        )
        .unwrap();
        let engine = Engine::new(Store::open(dir.path().join("state.db")).unwrap(), "dev");
        Env { moto, dir, engine }
    }

    fn program(&self) -> Program {
        self.program_with(&[])
    }

    /// The program with extra configuration, as `config set` would give it.
    fn program_with(&self, extra: &[(&str, &str)]) -> Program {
        let credentials = self.dir.path().join("credentials");
        let mut pairs = vec![
            ("aws:sharedCredentialsFile", credentials.to_str().unwrap()),
            ("accountA:profile", "moto"),
            ("accountB:profile", "moto"),
            ("accountB:roleArn", ROLE_B),
        ];
        pairs.extend_from_slice(extra);
        let config = Config::from_pairs(pairs);
        let endpoint = self.moto.endpoint.clone();
        Program::declare(Stack::new("dev", config), move |s| {
            ecr_privatelink_fargate::program_at(s, Some(&endpoint))
        })
        .unwrap()
    }

    async fn sdk(&self, role: Option<&str>) -> SdkConfig {
        crate::inventory::sdk(&self.moto.endpoint, role).await
    }

    async fn up(&self) -> cairn::Execution {
        self.up_with(&[]).await
    }

    async fn up_with(&self, extra: &[(&str, &str)]) -> cairn::Execution {
        let program = self.program_with(extra);
        let session = self.engine.lock("up").unwrap();
        let plan = session.plan(&program).await.unwrap();
        let exec = session.apply(&program, &plan, 16, &|_| {}).await.unwrap();
        assert!(exec.errors.is_empty(), "{:#?}", exec.errors);
        exec
    }

    /// The plan's changed steps: (name, kind).
    async fn changes(&self, extra: &[(&str, &str)]) -> Vec<(String, StepKind)> {
        let plan = self
            .engine
            .preview(&self.program_with(extra))
            .await
            .unwrap();
        plan.steps
            .iter()
            .filter(|s| s.kind() != StepKind::Same)
            .map(|s| (s.name.clone(), s.kind()))
            .collect()
    }

    fn id_of(&self, name: &str) -> String {
        let records = self.engine.records().unwrap();
        records.into_iter().find(|r| r.name == name).unwrap().id
    }
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

fn output(engine: &Engine, name: &str) -> Value {
    engine
        .outputs()
        .unwrap()
        .into_iter()
        .find(|o| o.0 == name)
        .unwrap()
        .1
}

#[tokio::test(flavor = "multi_thread")]
async fn preview_up_verify_noop_and_destroy_across_two_accounts() {
    let env = Env::new();

    // 1. Preview of an empty stack: every resource a create, outputs unknown.
    let plan = env.engine.preview(&env.program()).await.unwrap();
    assert!(plan.steps.iter().all(|s| s.kind() == StepKind::Create));
    assert!(plan.outputs.iter().all(|o| o.value.value.is_none()));

    // 2. Up, then check the architecture through the SDK in each account.
    let exec = env.up().await;
    assert!(exec.errors.is_empty(), "{:#?}", exec.errors);
    let a = env.sdk(None).await;
    let b = env.sdk(Some(ROLE_B)).await;
    let sts_b = aws_sdk_sts::Client::new(&b);
    assert_eq!(
        sts_b.get_caller_identity().send().await.unwrap().account(),
        Some(ACCOUNT_B)
    );

    let ecr_a = aws_sdk_ecr::Client::new(&a);
    let repo = ecr_a
        .describe_repositories()
        .repository_names("ecrprivatelink")
        .send()
        .await
        .unwrap();
    let repo = &repo.repositories()[0];
    assert_eq!(repo.registry_id(), Some(ACCOUNT_A));
    assert_eq!(
        output(&env.engine, "repositoryUri"),
        Value::from(repo.repository_uri().unwrap())
    );
    let policy = ecr_a
        .get_repository_policy()
        .repository_name("ecrprivatelink")
        .send()
        .await
        .unwrap();
    let policy: Value = serde_json::from_str(policy.policy_text().unwrap()).unwrap();
    let stmt = &policy["Statement"][0];
    assert_eq!(
        stmt["Principal"]["AWS"],
        format!("arn:aws:iam::{ACCOUNT_B}:root")
    );
    let mut actions: Vec<&str> = stmt["Action"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    actions.sort();
    let mut expected = ecr_privatelink_fargate::PULL_ACTIONS.to_vec();
    expected.sort();
    assert_eq!(actions, expected);

    let ec2_b = aws_sdk_ec2::Client::new(&b);
    let vpc_id = output(&env.engine, "vpcId").as_str().unwrap().to_string();
    let vpcs = ec2_b.describe_vpcs().vpc_ids(&vpc_id).send().await.unwrap();
    assert_eq!(
        vpcs.vpcs()[0].owner_id(),
        Some(ACCOUNT_B),
        "the VPC is in account B"
    );
    // Nothing of the network is in account A.
    let ec2_a = aws_sdk_ec2::Client::new(&a);
    assert!(ec2_a.describe_vpcs().vpc_ids(&vpc_id).send().await.is_err());

    let subnets = ec2_b
        .describe_subnets()
        .filters(
            aws_sdk_ec2::types::Filter::builder()
                .name("vpc-id")
                .values(&vpc_id)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let cidr_of = |id: &str| {
        subnets
            .subnets()
            .iter()
            .find(|s| s.subnet_id() == Some(id))
            .and_then(|s| s.cidr_block())
            .unwrap()
            .to_string()
    };
    let private_ids: Vec<String> = subnets
        .subnets()
        .iter()
        .filter(|s| {
            s.map_public_ip_on_launch() == Some(false)
                && s.cidr_block() != Some("10.0.0.0/24")
                && s.cidr_block() != Some("10.0.1.0/24")
        })
        .filter_map(|s| s.subnet_id().map(str::to_string))
        .collect();
    assert_eq!(private_ids.len(), 2);

    let endpoints = ec2_b
        .describe_vpc_endpoints()
        .filters(
            aws_sdk_ec2::types::Filter::builder()
                .name("vpc-id")
                .values(&vpc_id)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let eps = endpoints.vpc_endpoints();
    assert_eq!(eps.len(), 4);
    for service in ["ecr.api", "ecr.dkr", "logs"] {
        let name = format!("com.amazonaws.us-east-2.{service}");
        let ep = eps
            .iter()
            .find(|e| e.service_name() == Some(name.as_str()))
            .unwrap_or_else(|| panic!("{name}"));
        assert_eq!(
            ep.vpc_endpoint_type().map(|t| t.as_str()),
            Some("Interface")
        );
        assert_eq!(ep.private_dns_enabled(), Some(true));
        let mut subnets: Vec<String> = ep.subnet_ids().to_vec();
        subnets.sort();
        let mut want = private_ids.clone();
        want.sort();
        assert_eq!(subnets, want, "{service} sits in the private subnets");
        // Its security group allows 443 from exactly the private subnets.
        let sg = ep.groups()[0].group_id().unwrap();
        let groups = ec2_b
            .describe_security_groups()
            .group_ids(sg)
            .send()
            .await
            .unwrap();
        let rule = groups.security_groups()[0]
            .ip_permissions()
            .iter()
            .find(|p| p.from_port() == Some(443))
            .expect("a 443 rule");
        assert_eq!(rule.to_port(), Some(443));
        let mut sources: Vec<String> = rule
            .ip_ranges()
            .iter()
            .filter_map(|r| r.cidr_ip().map(str::to_string))
            .collect();
        sources.sort();
        let mut want: Vec<String> = private_ids.iter().map(|id| cidr_of(id)).collect();
        want.sort();
        assert_eq!(sources, want);
    }
    let s3 = eps
        .iter()
        .find(|e| e.service_name() == Some("com.amazonaws.us-east-2.s3"))
        .unwrap();
    assert_eq!(s3.vpc_endpoint_type().map(|t| t.as_str()), Some("Gateway"));
    // The gateway endpoint is on the private subnets' route tables.
    let tables = ec2_b
        .describe_route_tables()
        .filters(
            aws_sdk_ec2::types::Filter::builder()
                .name("association.subnet-id")
                .values(private_ids[0].clone())
                .values(private_ids[1].clone())
                .build(),
        )
        .send()
        .await
        .unwrap();
    let mut want: Vec<String> = tables
        .route_tables()
        .iter()
        .filter_map(|t| t.route_table_id().map(str::to_string))
        .collect();
    want.sort();
    let mut got: Vec<String> = s3.route_table_ids().to_vec();
    got.sort();
    assert_eq!(got, want);
    assert_eq!(got.len(), 2);

    // The service: Fargate, in the private subnets, no public IP, behind the target group.
    let ecs_b = aws_sdk_ecs::Client::new(&b);
    let services = ecs_b
        .describe_services()
        .cluster("ecrprivatelink")
        .services("ecrprivatelink")
        .send()
        .await
        .unwrap();
    let svc = &services.services()[0];
    assert_eq!(svc.launch_type().map(|l| l.as_str()), Some("FARGATE"));
    assert_eq!(svc.desired_count(), 2);
    let vpc_conf = svc
        .network_configuration()
        .unwrap()
        .awsvpc_configuration()
        .unwrap();
    assert_eq!(
        sorted(vpc_conf.subnets().to_vec()),
        sorted(private_ids.clone())
    );
    assert_eq!(
        vpc_conf.assign_public_ip().map(|a| a.as_str()),
        Some("DISABLED")
    );
    let elb_b = aws_sdk_elasticloadbalancingv2::Client::new(&b);
    let tg_arn = svc.load_balancers()[0]
        .target_group_arn()
        .unwrap()
        .to_string();
    let tgs = elb_b
        .describe_target_groups()
        .target_group_arns(&tg_arn)
        .send()
        .await
        .unwrap();
    assert_eq!(
        tgs.target_groups()[0].target_type().map(|t| t.as_str()),
        Some("ip")
    );
    let lb_arn = tgs.target_groups()[0].load_balancer_arns()[0].to_string();
    let lbs = elb_b
        .describe_load_balancers()
        .load_balancer_arns(&lb_arn)
        .send()
        .await
        .unwrap();
    let lb = &lbs.load_balancers()[0];
    assert_eq!(lb.scheme().map(|s| s.as_str()), Some("internet-facing"));
    let listeners = elb_b
        .describe_listeners()
        .load_balancer_arn(&lb_arn)
        .send()
        .await
        .unwrap();
    assert_eq!(listeners.listeners()[0].port(), Some(80));
    assert_eq!(
        output(&env.engine, "externalUrl"),
        Value::from(format!("http://{}", lb.dns_name().unwrap()))
    );
    // The task pulls account A's image from its repository, by the digest it pushed.
    let td = ecs_b
        .describe_task_definition()
        .task_definition(svc.task_definition().unwrap())
        .send()
        .await
        .unwrap();
    let image = td.task_definition().unwrap().container_definitions()[0]
        .image()
        .unwrap()
        .to_string();
    // By digest: the image account A pushed, whatever a tag points at later.
    let pushed = ecr_a
        .describe_images()
        .repository_name("ecrprivatelink")
        .send()
        .await
        .unwrap();
    let digest = pushed.image_details()[0].image_digest().unwrap();
    assert_eq!(pushed.image_details()[0].image_tags(), ["v1"]);
    assert_eq!(
        image,
        format!("{}@{digest}", repo.repository_uri().unwrap())
    );

    // 3. A second up with nothing changed plans nothing and changes nothing.
    let plan = env.engine.preview(&env.program()).await.unwrap();
    assert!(cairn::is_noop(&plan), "{}", cairn::plan_text(&plan));
    let exec = env.up().await;
    assert!(
        exec.errors.is_empty() && exec.counts.is_empty(),
        "{:?}",
        exec.counts
    );

    // 7. Destroy leaves nothing of the stack in either account.
    let program = env.program();
    let session = env.engine.lock("destroy").unwrap();
    let plan = session.plan_destroy(&program).unwrap();
    let exec = session.destroy(&program, &plan, 16, &|_| {}).await.unwrap();
    drop(session);
    assert!(exec.errors.is_empty(), "{:#?}", exec.errors);
    assert!(env.engine.records().unwrap().is_empty());
    assert!(
        ecr_a
            .describe_repositories()
            .repository_names("ecrprivatelink")
            .send()
            .await
            .is_err()
    );
    let tagged = aws_sdk_ec2::types::Filter::builder()
        .name("tag:cairn:stack")
        .values("dev")
        .build();
    assert!(
        ec2_b
            .describe_vpcs()
            .filters(tagged.clone())
            .send()
            .await
            .unwrap()
            .vpcs()
            .is_empty()
    );
    assert!(
        ec2_b
            .describe_subnets()
            .filters(tagged.clone())
            .send()
            .await
            .unwrap()
            .subnets()
            .is_empty()
    );
    let left = ec2_b
        .describe_vpc_endpoints()
        .filters(tagged)
        .send()
        .await
        .unwrap();
    assert!(
        left.vpc_endpoints()
            .iter()
            .all(|e| e.state().map(|s| s.as_str().to_ascii_lowercase()) == Some("deleted".into()))
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn in_place_changes_update_without_replacing() {
    let env = Env::new();
    env.up().await;
    let service_arn = env.id_of("service");

    // Desired count: exactly one update, of exactly that property.
    let plan = env
        .engine
        .preview(&env.program_with(&[("desiredCount", "3")]))
        .await
        .unwrap();
    let changed: Vec<_> = plan
        .steps
        .iter()
        .filter(|s| s.kind() != StepKind::Same)
        .collect();
    assert_eq!(changed.len(), 1, "{}", cairn::plan_text(&plan));
    assert_eq!(
        (changed[0].name.as_str(), changed[0].kind()),
        ("service", StepKind::Update)
    );
    let props: Vec<&str> = changed[0]
        .diffs
        .iter()
        .map(|d| d.property.as_str())
        .collect();
    assert_eq!(props, vec!["desired_count"]);
    let exec = env.up_with(&[("desiredCount", "3")]).await;
    assert_eq!(exec.counts.get("updated"), Some(&1));
    assert_eq!(exec.counts.len(), 1, "{:?}", exec.counts);
    assert_eq!(env.id_of("service"), service_arn, "not replaced");
    let b = env.sdk(Some(ROLE_B)).await;
    let ecs_b = aws_sdk_ecs::Client::new(&b);
    let svc = ecs_b
        .describe_services()
        .cluster("ecrprivatelink")
        .services(&service_arn)
        .send()
        .await
        .unwrap();
    assert_eq!(svc.services()[0].desired_count(), 3);

    // A tag on every taggable resource: updates only, nothing replaced.
    let extra = [("desiredCount", "3"), ("owner", "platform-team")];
    let changes = env.changes(&extra).await;
    assert!(!changes.is_empty());
    assert!(
        changes.iter().all(|(_, k)| *k == StepKind::Update),
        "{changes:?}"
    );
    let vpc_id = env.id_of("vpc");
    let exec = env.up_with(&extra).await;
    assert!(!exec.counts.contains_key("replaced") && !exec.counts.contains_key("created"));
    assert_eq!(env.id_of("vpc"), vpc_id);
    let ec2_b = aws_sdk_ec2::Client::new(&b);
    let vpc = ec2_b.describe_vpcs().vpc_ids(&vpc_id).send().await.unwrap();
    let owner = vpc.vpcs()[0]
        .tags()
        .iter()
        .find(|t| t.key() == Some("owner"))
        .and_then(|t| t.value());
    assert_eq!(owner, Some("platform-team"));
    assert!(env.changes(&extra).await.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_subnet_cidr_change_replaces_the_subnet_and_moves_its_users() {
    let env = Env::new();
    env.up().await;
    let old_subnet = env.id_of("private-a");
    let extra = [("privateSubnetCidrs", "10.0.4.0/24,10.0.3.0/24")];
    let changes = env.changes(&extra).await;
    assert!(
        changes.contains(&("private-a".into(), StepKind::Replace)),
        "{changes:?}"
    );
    // Users of the subnet's id follow it in place; nothing else is replaced but what must be.
    assert!(
        changes.contains(&("endpoint-ecr-dkr".into(), StepKind::Update)),
        "{changes:?}"
    );
    assert!(
        changes.contains(&("service".into(), StepKind::Update)),
        "{changes:?}"
    );
    assert!(!changes.iter().any(|(n, _)| n == "vpc" || n == "private-b"));

    env.up_with(&extra).await;
    let new_subnet = env.id_of("private-a");
    assert_ne!(new_subnet, old_subnet);
    let b = env.sdk(Some(ROLE_B)).await;
    let ec2_b = aws_sdk_ec2::Client::new(&b);
    assert!(
        ec2_b
            .describe_subnets()
            .subnet_ids(&old_subnet)
            .send()
            .await
            .is_err(),
        "old subnet deleted"
    );
    let new = ec2_b
        .describe_subnets()
        .subnet_ids(&new_subnet)
        .send()
        .await
        .unwrap();
    assert_eq!(new.subnets()[0].cidr_block(), Some("10.0.4.0/24"));
    let ep = ec2_b
        .describe_vpc_endpoints()
        .vpc_endpoint_ids(env.id_of("endpoint-ecr-dkr"))
        .send()
        .await
        .unwrap();
    assert!(ep.vpc_endpoints()[0].subnet_ids().contains(&new_subnet));
    assert!(!ep.vpc_endpoints()[0].subnet_ids().contains(&old_subnet));
    // The 443 rule now admits the new CIDR.
    let sg = ec2_b
        .describe_security_groups()
        .group_ids(env.id_of("endpoint-sg"))
        .send()
        .await
        .unwrap();
    let rule = sg.security_groups()[0]
        .ip_permissions()
        .iter()
        .find(|p| p.from_port() == Some(443))
        .unwrap();
    let sources: Vec<&str> = rule
        .ip_ranges()
        .iter()
        .filter_map(|r| r.cidr_ip())
        .collect();
    assert!(
        sources.contains(&"10.0.4.0/24") && !sources.contains(&"10.0.2.0/24"),
        "{sources:?}"
    );
    assert!(env.changes(&extra).await.is_empty());
    assert!(env.engine.records().unwrap().iter().all(|r| !r.replaced));
}

#[tokio::test(flavor = "multi_thread")]
async fn refresh_reports_out_of_band_changes_and_up_repairs_them() {
    let env = Env::new();
    env.up().await;
    let b = env.sdk(Some(ROLE_B)).await;
    let ec2_b = aws_sdk_ec2::Client::new(&b);
    // Out of band: delete an endpoint and revoke the 443 rule.
    ec2_b
        .delete_vpc_endpoints()
        .vpc_endpoint_ids(env.id_of("endpoint-ecr-dkr"))
        .send()
        .await
        .unwrap();
    let sg_id = env.id_of("endpoint-sg");
    let sg = ec2_b
        .describe_security_groups()
        .group_ids(&sg_id)
        .send()
        .await
        .unwrap();
    let rule = sg.security_groups()[0]
        .ip_permissions()
        .iter()
        .find(|p| p.from_port() == Some(443))
        .unwrap()
        .clone();
    ec2_b
        .revoke_security_group_ingress()
        .group_id(&sg_id)
        .ip_permissions(rule)
        .send()
        .await
        .unwrap();

    let program = env.program();
    let session = env.engine.lock("refresh").unwrap();
    let (drifts, errors) = session.refresh(&program, 16, true).await.unwrap();
    drop(session);
    assert!(errors.is_empty(), "{errors:?}");
    let mut gone: Vec<&str> = drifts
        .iter()
        .filter(|d| d.changes.is_none())
        .map(|d| d.name.as_str())
        .collect();
    gone.sort();
    assert_eq!(
        gone,
        vec!["endpoint-ecr-dkr", "endpoint-https-from-private"],
        "{drifts:?}"
    );

    let mut changes = env.changes(&[]).await;
    changes.sort();
    assert_eq!(
        changes,
        vec![
            ("endpoint-ecr-dkr".to_string(), StepKind::Create),
            ("endpoint-https-from-private".to_string(), StepKind::Create),
        ]
    );
    env.up().await;
    let sg = ec2_b
        .describe_security_groups()
        .group_ids(&sg_id)
        .send()
        .await
        .unwrap();
    assert!(
        sg.security_groups()[0]
            .ip_permissions()
            .iter()
            .any(|p| p.from_port() == Some(443))
    );
    let eps = ec2_b
        .describe_vpc_endpoints()
        .vpc_endpoint_ids(env.id_of("endpoint-ecr-dkr"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        eps.vpc_endpoints()[0].service_name(),
        Some("com.amazonaws.us-east-2.ecr.dkr")
    );
    assert!(env.changes(&[]).await.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn enable_ssm_adds_the_ssm_endpoints_and_a_private_host() {
    let env = Env::new();
    // An AMI moto ships in every region.
    let extra = [("enableSsm", "true"), ("ssmAmiId", "ami-03cf127a")];
    env.up_with(&extra).await;
    let b = env.sdk(Some(ROLE_B)).await;
    let ec2_b = aws_sdk_ec2::Client::new(&b);
    let vpc = aws_sdk_ec2::types::Filter::builder()
        .name("vpc-id")
        .values(env.id_of("vpc"))
        .build();
    let eps = ec2_b
        .describe_vpc_endpoints()
        .filters(vpc)
        .send()
        .await
        .unwrap();
    for service in ["ssm", "ssmmessages", "ec2", "ec2messages"] {
        let name = format!("com.amazonaws.us-east-2.{service}");
        let ep = eps
            .vpc_endpoints()
            .iter()
            .find(|e| e.service_name() == Some(name.as_str()));
        assert_eq!(
            ep.and_then(|e| e.private_dns_enabled()),
            Some(true),
            "{service}"
        );
    }
    let host = ec2_b
        .describe_instances()
        .instance_ids(env.id_of("ssm-host"))
        .send()
        .await
        .unwrap();
    let host = &host.reservations()[0].instances()[0];
    assert_eq!(host.subnet_id(), Some(env.id_of("private-a").as_str()));
    assert!(host.public_ip_address().is_none());
    let profile = host.iam_instance_profile().and_then(|p| p.arn()).unwrap();
    // The profile Cairn named and recorded.
    let recorded = env.id_of("ssm-instance-profile");
    assert!(recorded.starts_with("ssm-instance-profile-"), "{recorded}");
    assert!(
        profile.ends_with(&format!("instance-profile/{recorded}")),
        "{profile}"
    );
    assert!(env.changes(&extra).await.is_empty());

    // Turning it off removes exactly what it added.
    let changes = env.changes(&[]).await;
    assert_eq!(changes.len(), 8, "{changes:?}");
    assert!(changes.iter().all(|(_, k)| *k == StepKind::Delete));
    env.up().await;
    assert!(env.changes(&[]).await.is_empty());
}
