//! The second shipped program, `programs/web-service`, end to end against moto: preview (its
//! components as a tree), up, a no-op up, an update (more tasks, a new image, a bigger
//! database), and destroy.

use cairn_state::Store;
use cairn_tests::{Cli, Moto};

const BIN: &str = env!("CARGO_BIN_EXE_cairn-program");
const PASSPHRASE: &str = "a passphrase for tests";

fn records(cli: &Cli) -> Vec<cairn_state::ResourceRecord> {
    let store = Store::open(cli.state_path()).unwrap();
    store.use_passphrase(Some(PASSPHRASE.into())).unwrap();
    store.resources("dev").unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_web_service_is_previewed_deployed_left_alone_updated_and_destroyed() {
    let moto = Moto::start();
    let cli = Cli::new(BIN, &moto)
        .program("web-service")
        .env("CAIRN_PASSPHRASE", PASSPHRASE);

    let preview = cli.ok(&["preview"]).stdout;
    for component in ["network/", "edge/", "database/", "assets/", "service/"] {
        assert!(
            preview.lines().any(|l| l == format!("  {component}")),
            "{component}: {preview}"
        );
    }
    let planned = preview
        .lines()
        .find(|l| l.starts_with("Plan: "))
        .unwrap_or_else(|| panic!("{preview}"))
        .to_string();
    let up = cli.ok(&["up", "--yes"]).stdout;
    let made = records(&cli).len();
    assert!(
        up.contains(&format!("Update: {made} created")),
        "{up}\n(planned: {planned})"
    );
    // The zones are asked of AWS: a read, not a resource.
    assert_eq!(
        planned,
        format!("Plan: {made} to create (1 read)"),
        "{preview}"
    );
    assert!(
        preview.contains(">  read     zones (aws:ec2/getAvailabilityZones)"),
        "{preview}"
    );

    let config = crate::inventory::sdk(&moto.endpoint, None).await;
    let ecs = aws_sdk_ecs::Client::new(&config);
    let id = |name: &str| {
        records(&cli)
            .into_iter()
            .find(|r| r.name == name)
            .unwrap_or_else(|| panic!("no {name}"))
            .id
    };
    let (cluster, service) = (id("service/cluster"), id("service/service"));
    let described = ecs
        .describe_services()
        .cluster(&cluster)
        .services(&service)
        .send()
        .await
        .unwrap();
    let svc = &described.services()[0];
    assert_eq!(svc.desired_count(), 2);
    // The password reaches the task only as a reference to the secret.
    let task = ecs
        .describe_task_definition()
        .task_definition(svc.task_definition().unwrap())
        .send()
        .await
        .unwrap();
    let web = &task.task_definition().unwrap().container_definitions()[0];
    assert_eq!(web.secrets()[0].name(), "DB_PASSWORD");
    assert_eq!(
        web.secrets()[0].value_from(),
        id("database/password-secret")
    );
    let rds = aws_sdk_rds::Client::new(&config);
    let db = rds
        .describe_db_instances()
        .db_instance_identifier(id("database/instance"))
        .send()
        .await
        .unwrap();
    let host = db.db_instances()[0]
        .endpoint()
        .and_then(|e| e.address())
        .unwrap()
        .to_string();
    assert!(
        web.environment()
            .iter()
            .any(|e| e.name() == Some("DB_HOST") && e.value() == Some(host.as_str())),
        "{:?}",
        web.environment()
    );

    // Nothing changed: nothing to do.
    assert!(cli.ok(&["preview"]).stdout.contains("Plan: no changes"));
    let again = cli.ok(&["up", "--yes"]).stdout;
    assert!(
        !again.contains("created") && !again.contains("updated"),
        "{again}"
    );

    // More tasks, a new image, a bigger database: the task definition is a new revision, the
    // rest changes in place.
    cli.ok(&["config", "set", "desiredCount", "3"]);
    cli.ok(&["config", "set", "image", "public.ecr.aws/nginx/nginx:1.27"]);
    cli.ok(&["config", "set", "dbInstanceClass", "db.t4g.small"]);
    let up = cli.ok(&["up", "--yes"]).stdout;
    assert!(up.contains("Update: 1 replaced, 2 updated"), "{up}");
    let described = ecs
        .describe_services()
        .cluster(&cluster)
        .services(&service)
        .send()
        .await
        .unwrap();
    assert_eq!(described.services()[0].desired_count(), 3);
    let db = rds
        .describe_db_instances()
        .db_instance_identifier(id("database/instance"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        db.db_instances()[0].db_instance_class(),
        Some("db.t4g.small")
    );

    let gone = cli.ok(&["destroy", "--yes"]).stdout;
    assert!(gone.contains(&format!("Destroy: {made} deleted")), "{gone}");
    assert!(records(&cli).is_empty());
}
