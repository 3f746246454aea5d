//! Lookups against moto (`cairn_tests::programs::lookups`): the account, the zones, the default
//! VPC and its subnets and the public AMI parameter read at preview and shown as reads, their
//! values flowing into resources the stack makes; a lookup of a VPC the run makes read during
//! `up`; nothing looked up recorded, changed or deleted.

use cairn_tests::{Cli, Moto};

const BIN: &str = env!("CARGO_BIN_EXE_cairn-program");

#[tokio::test(flavor = "multi_thread")]
async fn lookups_read_what_exists_feed_resources_and_are_never_managed() {
    let moto = Moto::start();
    let cli = Cli::new(BIN, &moto)
        .program("lookups")
        .env("CAIRN_PASSPHRASE", "a passphrase for tests");
    cli.ok(&["config", "set", "aws:region", "us-east-2"]);
    let config = crate::inventory::sdk(&moto.endpoint, None).await;
    let ec2 = aws_sdk_ec2::Client::new(&config);
    let default_vpc = ec2
        .describe_vpcs()
        .filters(
            aws_sdk_ec2::types::Filter::builder()
                .name("is-default")
                .values("true")
                .build(),
        )
        .send()
        .await
        .unwrap()
        .vpcs()[0]
        .vpc_id()
        .unwrap()
        .to_string();

    // Made by someone else: the program looks them up by the ids its configuration gives.
    let s3 = aws_sdk_s3::Client::new(&config);
    s3.create_bucket()
        .bucket("shared-assets")
        .create_bucket_configuration(
            aws_sdk_s3::types::CreateBucketConfiguration::builder()
                .location_constraint(aws_sdk_s3::types::BucketLocationConstraint::UsEast2)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let iam = aws_sdk_iam::Client::new(&config);
    let role_arn = iam
        .create_role()
        .role_name("shared-role")
        .assume_role_policy_document(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#,
        )
        .send()
        .await
        .unwrap()
        .role()
        .unwrap()
        .arn()
        .to_string();
    cli.ok(&["config", "set", "bucket", "shared-assets"]);
    cli.ok(&["config", "set", "role", "shared-role"]);

    let preview = cli.ok(&["preview"]).stdout;
    for row in [
        ">  read     me (aws:getCallerIdentity)",
        ">  read     zones (aws:ec2/getAvailabilityZones)",
        ">  read     default-vpc (aws:ec2/getVpc)",
        ">  read     default-subnets (aws:ec2/getSubnets)",
        ">  read     ami (aws:ssm/getParameter)",
    ] {
        assert!(preview.contains(row), "{row} in:\n{preview}");
    }
    // What a lookup read is known to the plan; a lookup of what the run makes is not.
    assert!(
        preview.contains(&format!("vpc_id: \"{default_vpc}\"")),
        "{preview}"
    );
    assert!(
        preview.contains("availability_zone: \"us-east-2a\""),
        "{preview}"
    );
    assert!(
        preview.contains(
            "made-by-id (aws:ec2/Vpc)  [read during up: its arguments are not known yet]"
        ),
        "{preview}"
    );
    assert!(preview.contains("Plan: 3 to create (10 read)"), "{preview}");

    let up = cli.ok(&["up", "--yes"]);
    assert!(up.stdout.contains("3 created"), "{}", up.stdout);
    let outputs: serde_json::Value =
        serde_json::from_str(&cli.ok(&["outputs", "--json"]).stdout).unwrap();
    assert_eq!(outputs["account"], "123456789012");
    assert_eq!(outputs["region"], "us-east-2");
    assert_eq!(
        outputs["zones"],
        serde_json::json!(["us-east-2a", "us-east-2b", "us-east-2c"])
    );
    assert_eq!(outputs["defaultVpc"], default_vpc);
    assert_eq!(outputs["defaultSubnets"].as_array().unwrap().len(), 3);
    assert_eq!(outputs["subnetZone"], "us-east-2a");
    assert_eq!(outputs["madeCidr"], "10.77.0.0/16");
    assert!(
        outputs["firstSubnetCidr"]
            .as_str()
            .unwrap()
            .starts_with("172.31.")
    );
    assert_eq!(outputs["bucketArn"], "arn:aws:s3:::shared-assets");
    assert_eq!(outputs["roleArn"], role_arn.as_str());

    // Only what the stack makes is recorded.
    let ids = crate::inventory::ids(&cli, Some("a passphrase for tests"));
    let names: Vec<&str> = ids.keys().map(String::as_str).collect();
    assert_eq!(names, ["ami-id", "extra", "made"]);
    let ssm = aws_sdk_ssm::Client::new(&config);
    let ami = ssm
        .get_parameter()
        .name("/lookups/ami")
        .with_decryption(true)
        .send()
        .await
        .unwrap();
    assert!(
        ami.parameter()
            .unwrap()
            .value()
            .unwrap()
            .starts_with("ami-")
    );

    let again = cli.ok(&["preview"]).stdout;
    assert!(
        again.contains("Plan: no changes (3 unchanged, 10 read)"),
        "{again}"
    );

    // Destroy deletes what the stack made and leaves what it only read.
    cli.ok(&["destroy", "--yes"]);
    let vpcs = ec2.describe_vpcs().send().await.unwrap();
    let left: Vec<&str> = vpcs.vpcs().iter().filter_map(|v| v.vpc_id()).collect();
    assert_eq!(left, [default_vpc.as_str()]);
    let subnets = ec2
        .describe_subnets()
        .filters(
            aws_sdk_ec2::types::Filter::builder()
                .name("vpc-id")
                .values(&default_vpc)
                .build(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(subnets.subnets().len(), 3);
    let buckets = s3.list_buckets().send().await.unwrap();
    assert_eq!(
        buckets.buckets().len(),
        1,
        "the shared bucket is still there"
    );
    iam.get_role()
        .role_name("shared-role")
        .send()
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_lookup_that_finds_nothing_is_an_error_at_preview_naming_it() {
    let moto = Moto::start();
    let cli = Cli::new(BIN, &moto).program("lookup_of_nothing");
    cli.ok(&["config", "set", "aws:region", "us-east-2"]);
    let preview = cli.run(&["preview"]);
    assert_ne!(preview.code, 0, "{}", preview.stdout);
    assert!(
        preview
            .stderr
            .contains("lookup 'main' (aws:ec2/getVpc): nothing matches: no VPC with tag Name=main"),
        "{}",
        preview.stderr
    );
    assert!(
        preview
            .stderr
            .contains("lookup 'gone' (aws:ec2/Vpc), argument 'id': there is no aws:ec2/Vpc with id 'vpc-0000000000'"),
        "{}",
        preview.stderr
    );
    assert!(
        preview.stderr.contains(
            "lookup 'a-route' (aws:ec2/Route): aws:ec2/Route cannot be looked up by its id alone"
        ),
        "{}",
        preview.stderr
    );
    assert!(
        preview.stderr.contains(
            "lookup 'unset-bucket' (aws:s3/Bucket), argument 'id': a lookup by id needs an id, and it is empty"
        ),
        "{}",
        preview.stderr
    );
    let up = cli.run(&["up", "--yes"]);
    assert_ne!(up.code, 0, "{}", up.stdout);
    assert!(up.stderr.contains("lookup 'main'"), "{}", up.stderr);
    assert!(crate::inventory::ids(&cli, None).is_empty());
}
