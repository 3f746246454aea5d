//! Where a deployment keeps what it must not show: a generated password (`cairn::random`)
//! stored in a Secrets Manager secret and a secure SSM parameter, beside a plain parameter
//! (`cairn_tests::programs::secret_stores`). Created, read back through the SDK, changed in
//! place, its drift reported and repaired, destroyed; the password in no command's output.

use cairn_tests::{Cli, Moto, Run};

const BIN: &str = env!("CARGO_BIN_EXE_cairn-program");
const PASSPHRASE: &str = "a passphrase for tests";

#[tokio::test(flavor = "multi_thread")]
async fn a_generated_password_is_kept_in_secrets_manager_and_ssm_and_never_shown() {
    let moto = Moto::start();
    let cli = Cli::new(BIN, &moto)
        .program("secret_stores")
        .env("CAIRN_PASSPHRASE", PASSPHRASE);
    let mut seen: Vec<Run> = Vec::new();
    cli.ok(&["config", "set", "aws:region", "us-east-2"]);
    seen.push(cli.ok(&["preview"]));
    seen.push(cli.ok(&["up", "--yes"]));
    let id = crate::inventory::ids(&cli, Some(PASSPHRASE));

    let config = crate::inventory::sdk(&moto.endpoint, None).await;
    let sm = aws_sdk_secretsmanager::Client::new(&config);
    let ssm = aws_sdk_ssm::Client::new(&config);
    let secret_value = |sm: aws_sdk_secretsmanager::Client, arn: String| async move {
        let out = sm.get_secret_value().secret_id(arn).send().await.unwrap();
        out.secret_string().unwrap().to_string()
    };
    let parameter = |ssm: aws_sdk_ssm::Client, name: &'static str| async move {
        let out = ssm
            .get_parameter()
            .name(name)
            .with_decryption(true)
            .send()
            .await
            .unwrap();
        let p = out.parameter().unwrap().clone();
        (
            p.value().unwrap().to_string(),
            p.r#type().unwrap().as_str().to_string(),
            p.version(),
        )
    };
    // One password, in both stores, as generated.
    let password = secret_value(sm.clone(), id["db-secret"].clone()).await;
    assert_eq!(password.chars().count(), 24, "{password:?}");
    let (stored, kind, _) = parameter(ssm.clone(), "/web/db/password").await;
    assert_eq!(
        (stored.as_str(), kind.as_str()),
        (password.as_str(), "SecureString")
    );
    let (host, _, version) = parameter(ssm.clone(), "/web/db/host").await;
    assert_eq!((host.as_str(), version), ("db.internal", 1));
    // The task gets it plain; the state only sealed.
    let ecs = aws_sdk_ecs::Client::new(&config);
    let task = ecs
        .describe_task_definition()
        .task_definition(&id["app-task"])
        .send()
        .await
        .unwrap();
    let env = task.task_definition().unwrap().container_definitions()[0].environment();
    assert!(
        env.iter()
            .any(|e| e.name() == Some("DB_PASSWORD") && e.value() == Some(password.as_str())),
        "{env:?}"
    );
    let state = std::fs::read(cli.state_path()).unwrap();
    assert!(!String::from_utf8_lossy(&state).contains(&password));
    seen.push(cli.ok(&["preview"]));
    assert!(seen.last().unwrap().stdout.contains("Plan: no changes"));

    // v=2: descriptions, the plain value and tags, each in place; the password stays; the
    // plain parameter is renamed in the program, its old name an alias.
    cli.ok(&["config", "set", "v", "2"]);
    let preview = cli.ok(&["preview"]);
    assert!(
        preview
            .stdout
            .contains("~  update   database-host (aws:ssm/Parameter)  [renamed from 'db-host']"),
        "{}",
        preview.stdout
    );
    // The container's password is secret where it sits, so the rest of its diff is shown.
    assert!(
        preview
            .stdout
            .contains(r#"~ containers[0].environment.DB_HOST: "db.internal" → "db-2.internal""#)
            && !preview.stdout.contains("DB_PASSWORD"),
        "{}",
        preview.stdout
    );
    seen.push(preview);
    let up = cli.ok(&["up", "--yes"]);
    assert!(
        up.stdout.contains("Update: 1 replaced, 2 updated"),
        "{}",
        up.stdout
    );
    seen.push(up);
    let mut renamed = id.clone();
    let host = renamed.remove("db-host").unwrap();
    renamed.insert("database-host".into(), host);
    let mut now = crate::inventory::ids(&cli, Some(PASSPHRASE));
    // A task definition's revision is immutable: its new container is a new revision.
    assert_ne!(now.remove("app-task"), renamed.remove("app-task"));
    assert_eq!(now, renamed, "nothing else replaced, one renamed");
    let described = sm
        .describe_secret()
        .secret_id(&id["db-secret"])
        .send()
        .await
        .unwrap();
    assert_eq!(
        described.description(),
        Some("the database's password, v2"),
        "db-secret: description"
    );
    assert!(
        described
            .tags()
            .iter()
            .any(|t| t.key() == Some("v") && t.value() == Some("2")),
        "db-secret: tags"
    );
    assert_eq!(
        secret_value(sm.clone(), id["db-secret"].clone()).await,
        password
    );
    let (host, _, version) = parameter(ssm.clone(), "/web/db/host").await;
    assert_eq!(
        (host.as_str(), version),
        ("db-2.internal", 2),
        "db-host: value"
    );
    let outputs = cli.ok(&["outputs", "--json"]);
    assert!(
        outputs.stdout.contains("\"hostVersion\": 2"),
        "{}",
        outputs.stdout
    );
    seen.push(outputs);

    // Changed behind Cairn's back: reported (the value masked), and put back by up.
    sm.put_secret_value()
        .secret_id(&id["db-secret"])
        .secret_string("changed-by-hand")
        .send()
        .await
        .unwrap();
    let refresh = cli.ok(&["refresh", "--yes"]);
    assert!(
        refresh.stdout.contains("db-secret (") && refresh.stdout.contains("~ secret_string"),
        "{}",
        refresh.stdout
    );
    assert!(
        !refresh.stdout.contains("changed-by-hand"),
        "{}",
        refresh.stdout
    );
    // Read back, the container is as declared: its secret is wrapped where it was.
    assert!(!refresh.stdout.contains("app-task"), "{}", refresh.stdout);
    seen.push(refresh);
    seen.push(cli.ok(&["up", "--yes"]));
    assert_eq!(
        secret_value(sm.clone(), id["db-secret"].clone()).await,
        password
    );

    seen.push(cli.ok(&["destroy", "--yes"]));
    let gone = sm
        .describe_secret()
        .secret_id(&id["db-secret"])
        .send()
        .await;
    assert!(gone.is_err(), "the secret is still there: {gone:?}");
    let left = ssm.describe_parameters().send().await.unwrap();
    assert!(left.parameters().is_empty(), "{:?}", left.parameters());

    for r in &seen {
        for text in [&r.stdout, &r.stderr] {
            assert!(!text.contains(&password), "the password in output:\n{text}");
        }
    }
}
