//! `import` against moto: a VPC, a subnet, a security group, a role and the role's inline
//! policy made with the SDK (outside Cairn) are imported, the declarations printed are the
//! fixtures (`tests/fixtures/import/`: what refers to another imported resource written as a
//! reference to it), and the program holding those fixtures (`cairn_tests::programs::imported`)
//! previews no change; `destroy` then removes them, dependents first. Refusals come before
//! anything is read.

use aws_sdk_ec2::types::{IpPermission, IpRange, ResourceType, Tag, TagSpecification};
use aws_sdk_route53::types::{
    Change, ChangeAction, ChangeBatch, ResourceRecord, ResourceRecordSet, RrType,
};
use cairn_tests::{Cli, Moto};

const BIN: &str = env!("CARGO_BIN_EXE_cairn-program");

fn tagged(kind: ResourceType, name: &str) -> TagSpecification {
    TagSpecification::builder()
        .resource_type(kind)
        .tags(Tag::builder().key("Name").value(name).build())
        .build()
}

/// The fixture for `name`, as the printed statement: `let var = <fixture>;`.
fn expected(var: &str) -> String {
    let path = format!("{}/fixtures/import/{var}.rs", env!("CARGO_MANIFEST_DIR"));
    let fixture = std::fs::read_to_string(path).unwrap();
    format!("let {var} = {};", fixture.trim_end())
}

#[tokio::test(flavor = "multi_thread")]
async fn resources_made_elsewhere_are_imported_declared_and_then_managed() {
    let moto = Moto::start();
    let config = crate::inventory::sdk(&moto.endpoint, None).await;
    let ec2 = aws_sdk_ec2::Client::new(&config);
    let vpc = ec2
        .create_vpc()
        .cidr_block("10.61.0.0/16")
        .tag_specifications(tagged(ResourceType::Vpc, "legacy"))
        .send()
        .await
        .unwrap();
    let vpc = vpc.vpc().unwrap().vpc_id().unwrap().to_string();
    let subnet = ec2
        .create_subnet()
        .vpc_id(&vpc)
        .cidr_block("10.61.1.0/24")
        .availability_zone("us-east-2a")
        .send()
        .await
        .unwrap();
    let subnet = subnet.subnet().unwrap().subnet_id().unwrap().to_string();
    let group = ec2
        .create_security_group()
        .vpc_id(&vpc)
        .group_name("legacy-web")
        .description("web, made by hand")
        .send()
        .await
        .unwrap();
    let group = group.group_id().unwrap().to_string();
    ec2.authorize_security_group_ingress()
        .group_id(&group)
        .ip_permissions(
            IpPermission::builder()
                .ip_protocol("tcp")
                .from_port(443)
                .to_port(443)
                .ip_ranges(IpRange::builder().cidr_ip("10.0.0.0/8").build())
                .build(),
        )
        .send()
        .await
        .unwrap();

    // A role with an inline policy: the policy is read through its role, by `role:name`.
    let iam = aws_sdk_iam::Client::new(&config);
    let trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
    iam.create_role()
        .role_name("legacy-role")
        .assume_role_policy_document(trust)
        .send()
        .await
        .unwrap();
    let read = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}"#;
    iam.put_role_policy()
        .role_name("legacy-role")
        .policy_name("read")
        .policy_document(read)
        .send()
        .await
        .unwrap();

    // A zone and a record in it: the record is read through its zone, by `zone_name_type`.
    let route53 = aws_sdk_route53::Client::new(&config);
    let zone = route53
        .create_hosted_zone()
        .name("legacy.example.com")
        .caller_reference("legacy")
        .send()
        .await
        .unwrap();
    let zone = zone
        .hosted_zone()
        .unwrap()
        .id()
        .trim_start_matches("/hostedzone/")
        .to_string();
    route53
        .change_resource_record_sets()
        .hosted_zone_id(&zone)
        .change_batch(
            ChangeBatch::builder()
                .changes(
                    Change::builder()
                        .action(ChangeAction::Create)
                        .resource_record_set(
                            ResourceRecordSet::builder()
                                .name("www.legacy.example.com")
                                .r#type(RrType::A)
                                .ttl(60)
                                .resource_records(
                                    ResourceRecord::builder()
                                        .value("10.61.1.10")
                                        .build()
                                        .unwrap(),
                                )
                                .build()
                                .unwrap(),
                        )
                        .build()
                        .unwrap(),
                )
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();

    let cli = Cli::new(BIN, &moto).program("imported");
    cli.ok(&["config", "set", "aws:region", "us-east-2"]);

    // One at a time, and then two from a file under one lock and one history entry.
    let one = cli.ok(&["import", "legacy-vpc", "aws:ec2/Vpc", &vpc]);
    assert!(
        one.stderr.contains("Imported 1 resource(s)"),
        "{}",
        one.stderr
    );
    let list = cli.dir.path().join("more.toml");
    std::fs::write(
        &list,
        format!(
            "[[resource]]\nname = \"legacy-subnet\"\ntype = \"aws:ec2/Subnet\"\nid = \"{subnet}\"\n\n\
             [[resource]]\nname = \"legacy-web\"\ntype = \"aws:ec2/SecurityGroup\"\nid = \"{group}\"\n"
        ),
    )
    .unwrap();
    let more = cli.ok(&["import", "--file", list.to_str().unwrap()]);
    let roles = cli.dir.path().join("roles.json");
    std::fs::write(
        &roles,
        r#"[{"name": "legacy-role", "type": "aws:iam/Role", "id": "legacy-role"},
            {"name": "legacy-role-read", "type": "aws:iam/RolePolicy", "id": "legacy-role:read"}]"#,
    )
    .unwrap();
    let iam_printed = cli.ok(&["import", "--file", roles.to_str().unwrap()]);
    let dns = cli.ok(&["import", "legacy-zone", "aws:route53/Zone", &zone]);
    let record_id = format!("{zone}_www.legacy.example.com_A");
    let www = cli.ok(&["import", "legacy-www", "aws:route53/Record", &record_id]);
    // What refers to another imported resource is written as a reference to it.
    let printed = [one, more, iam_printed, dns, www]
        .map(|r| r.stdout)
        .concat();
    let statements: Vec<&str> = printed
        .split("\n\n")
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    let wanted = [
        "legacy_vpc",
        "legacy_subnet",
        "legacy_web",
        "legacy_role",
        "legacy_role_read",
        "legacy_zone",
        "legacy_www",
    ]
    .map(expected);
    assert_eq!(
        statements, wanted,
        "the printed declarations are not the fixtures:\n{printed}"
    );
    let history = cli.ok(&["history", "--json"]).stdout;
    let history: serde_json::Value = serde_json::from_str(&history).unwrap();
    assert_eq!(history.as_array().unwrap().len(), 5, "{history}");

    // Not declared yet (another program), nothing imported can be deleted: it is protected.
    let undeclared = cli.run_with(&["preview"], &[("CAIRN_TEST_PROGRAM", "saved_plans")]);
    assert_eq!(undeclared.code, 1, "{}", undeclared.stdout);
    assert!(
        undeclared
            .stderr
            .contains("resource 'legacy-vpc' is protected and no longer in the program"),
        "{}",
        undeclared.stderr
    );

    // Declared as printed, nothing changes; the first `up` takes the declaration's protection.
    let preview = cli.ok(&["preview", "--expect-no-changes"]);
    assert!(preview.stdout.contains("no changes"), "{}", preview.stdout);
    cli.ok(&["up", "--yes"]);

    // Refused, before anything is read: a name taken, an id managed, a type not by id.
    let r = cli.run(&["import", "legacy-vpc", "aws:ec2/Vpc", &vpc]);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr
            .contains("a resource named 'legacy-vpc' is already in the stack"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains(&format!(
            "aws:ec2/Vpc '{vpc}' is already managed, as 'legacy-vpc'"
        )),
        "{}",
        r.stderr
    );
    let r = cli.run(&[
        "import",
        "r",
        "aws:lb/ListenerRule",
        "arn:aws:elasticloadbalancing:rule",
    ]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("cannot be imported yet"), "{}", r.stderr);
    let r = cli.run(&["import", "p", "aws:iam/RolePolicy", "legacy-role"]);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains(
            "'legacy-role' is not an id of aws:iam/RolePolicy: it takes `<role name>:<policy name>`"
        ),
        "{}",
        r.stderr
    );
    let r = cli.run(&["import", "nothing", "aws:ec2/Vpc", "vpc-0000000000"]);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr
            .contains("there is no aws:ec2/Vpc with id 'vpc-0000000000'"),
        "{}",
        r.stderr
    );

    // Managed now: destroy removes them.
    cli.ok(&["destroy", "--yes"]);
    let left = ec2.describe_vpcs().vpc_ids(&vpc).send().await;
    assert!(
        left.is_err() || left.unwrap().vpcs().is_empty(),
        "the imported VPC is still there"
    );
    assert!(
        iam.get_role()
            .role_name("legacy-role")
            .send()
            .await
            .is_err(),
        "the imported role is still there"
    );
}
