//! A database as a team's second deployment has one (`cairn_tests::programs::database`): an
//! RDS PostgreSQL instance in a subnet group, its generated password in the instance and in
//! a secret for the application. Created, read back through the SDK, grown and changed in
//! place, its drift reported and repaired, destroyed.

use cairn_tests::{Cli, Moto};

const BIN: &str = env!("CARGO_BIN_EXE_cairn-program");
const PASSPHRASE: &str = "a passphrase for tests";

#[tokio::test(flavor = "multi_thread")]
async fn a_database_is_made_changed_in_place_repaired_and_destroyed() {
    let moto = Moto::start();
    let cli = Cli::new(BIN, &moto)
        .program("database")
        .env("CAIRN_PASSPHRASE", PASSPHRASE);
    cli.ok(&["config", "set", "aws:region", "us-east-2"]);
    cli.ok(&["up", "--yes"]);
    let id = crate::inventory::ids(&cli, Some(PASSPHRASE));

    let config = crate::inventory::sdk(&moto.endpoint, None).await;
    let rds = aws_sdk_rds::Client::new(&config);
    let sm = aws_sdk_secretsmanager::Client::new(&config);
    let describe = |rds: aws_sdk_rds::Client, id: String| async move {
        let out = rds
            .describe_db_instances()
            .db_instance_identifier(id)
            .send()
            .await
            .unwrap();
        out.db_instances()[0].clone()
    };
    let db = describe(rds.clone(), id["db"].clone()).await;
    assert_eq!(
        (
            db.engine(),
            db.db_instance_class(),
            db.allocated_storage(),
            db.backup_retention_period()
        ),
        (Some("postgres"), Some("db.t4g.micro"), Some(20), Some(1))
    );
    let group = db.db_subnet_group().unwrap();
    assert_eq!(
        group.db_subnet_group_name(),
        Some(id["db-subnets"].as_str())
    );
    assert_eq!(group.subnets().len(), 2, "db-subnets: subnet_ids");
    assert_eq!(
        db.vpc_security_groups()[0].vpc_security_group_id(),
        Some(id["db-firewall"].as_str())
    );
    // The application's secret: the password the instance was given, and where it is.
    let credentials = sm
        .get_secret_value()
        .secret_id(&id["db-credentials"])
        .send()
        .await
        .unwrap();
    let doc: serde_json::Value =
        serde_json::from_str(credentials.secret_string().unwrap()).unwrap();
    let address = db.endpoint().and_then(|e| e.address()).unwrap();
    assert_eq!(doc["host"], address);
    assert_eq!(doc["password"].as_str().unwrap().chars().count(), 32);
    let outputs = cli.ok(&["outputs"]).stdout;
    assert!(outputs.contains(address), "{outputs}");
    assert!(!outputs.contains(doc["password"].as_str().unwrap()));
    assert!(cli.ok(&["preview"]).stdout.contains("Plan: no changes"));

    // v=2: grown, backed up longer, tagged, all in place.
    cli.ok(&["config", "set", "v", "2"]);
    let up = cli.ok(&["up", "--yes"]);
    assert!(up.stdout.contains("Update: 2 updated"), "{}", up.stdout);
    assert_eq!(
        crate::inventory::ids(&cli, Some(PASSPHRASE)),
        id,
        "nothing replaced"
    );
    let db = describe(rds.clone(), id["db"].clone()).await;
    assert_eq!(
        (
            db.db_instance_class(),
            db.allocated_storage(),
            db.backup_retention_period()
        ),
        (Some("db.t4g.small"), Some(30), Some(7)),
        "db: modified"
    );
    let tags = rds
        .list_tags_for_resource()
        .resource_name(db.db_instance_arn().unwrap())
        .send()
        .await
        .unwrap();
    assert!(
        tags.tag_list()
            .iter()
            .any(|t| t.key() == Some("v") && t.value() == Some("2")),
        "db: tags"
    );
    let groups = rds
        .describe_db_subnet_groups()
        .db_subnet_group_name(&id["db-subnets"])
        .send()
        .await
        .unwrap();
    let tags = rds
        .list_tags_for_resource()
        .resource_name(groups.db_subnet_groups()[0].db_subnet_group_arn().unwrap())
        .send()
        .await
        .unwrap();
    assert!(
        tags.tag_list()
            .iter()
            .any(|t| t.key() == Some("v") && t.value() == Some("2")),
        "db-subnets: tags"
    );
    assert!(cli.ok(&["preview"]).stdout.contains("Plan: no changes"));

    // Changed behind Cairn's back: reported by refresh, put back by up.
    rds.modify_db_instance()
        .db_instance_identifier(&id["db"])
        .backup_retention_period(3)
        .apply_immediately(true)
        .send()
        .await
        .unwrap();
    let refresh = cli.ok(&["refresh", "--yes"]).stdout;
    assert!(
        refresh.contains("db (") && refresh.contains("~ backup_retention_period: 7 → 3"),
        "{refresh}"
    );
    cli.ok(&["up", "--yes"]);
    let db = describe(rds.clone(), id["db"].clone()).await;
    assert_eq!(db.backup_retention_period(), Some(7), "db: repaired");

    cli.ok(&["destroy", "--yes"]);
    let left = rds.describe_db_instances().send().await.unwrap();
    assert!(left.db_instances().is_empty(), "{:?}", left.db_instances());
    let left = rds.describe_db_subnet_groups().send().await.unwrap();
    assert!(
        left.db_subnet_groups()
            .iter()
            .all(|g| g.db_subnet_group_name() != Some(id["db-subnets"].as_str())),
        "{:?}",
        left.db_subnet_groups()
    );
}
