//! Secrets at rest and in output: a secret set with `config set --secret` and carried by a
//! resource input and a stack output is found nowhere in plaintext (state database and its
//! write-ahead log, config file, any command's output with logging at its most verbose) except
//! where the user asks for it (`--show-secrets`).

use cairn_tests::{Cli, Run};

const BIN: &str = env!("CARGO_BIN_EXE_cairn-secrets");
const SECRET: &str = "hunter2-Correct-Horse";
const PASSPHRASE: &str = "a passphrase for tests";

#[test]
fn secrets_never_appear_in_plaintext_and_a_wrong_passphrase_is_a_clear_error() {
    // No AWS here: the program uses the in-process test provider.
    let cli = Cli::with_endpoint(BIN, "http://127.0.0.1:9");
    let env = [("CAIRN_PASSPHRASE", PASSPHRASE), ("RUST_LOG", "trace")];
    let run = |args: &[&str]| -> Run {
        let r = cli.run_with(args, &env);
        assert_eq!(r.code, 0, "{args:?}:\n{}\n{}", r.stdout, r.stderr);
        r
    };

    // Without a passphrase a secret cannot be stored, and nothing is written.
    let refused = cli.run(&["config", "set", "--secret", "dbPassword", SECRET]);
    assert_eq!(refused.code, 1);
    assert!(
        refused.stderr.contains("CAIRN_PASSPHRASE"),
        "{}",
        refused.stderr
    );
    let config_file = cli.dir.path().join("Cairn.dev.toml");
    assert!(!config_file.exists());

    let mut seen = vec![refused];
    for args in [
        &["config", "set", "--secret", "dbPassword", SECRET][..],
        &["config", "list"],
        &["config", "get", "dbPassword"],
        &["preview"],
        &["preview", "--json"],
        &["up", "--yes"],
        &["outputs"],
        &["outputs", "--json"],
        &["history", "--json"],
        &["graph"],
        &["state", "pending"],
        &["preview"],
    ] {
        seen.push(run(args));
    }
    for r in &seen {
        for text in [&r.stdout, &r.stderr] {
            assert!(
                !text.contains(SECRET),
                "plaintext secret in output:\n{text}"
            );
        }
    }
    assert!(seen.iter().any(|r| r.stdout.contains("[secret]")));

    // Only where asked for.
    assert!(run(&["outputs", "--show-secrets"]).stdout.contains(SECRET));
    assert!(
        run(&["config", "get", "dbPassword", "--show-secrets"])
            .stdout
            .contains(SECRET)
    );

    // At rest: neither the config file nor the database (nor its log) holds it.
    let state = cli.state_path();
    for path in [
        config_file.clone(),
        state.clone(),
        state.with_extension("db-wal"),
    ] {
        if let Ok(bytes) = std::fs::read(&path) {
            assert!(
                !bytes.windows(SECRET.len()).any(|w| w == SECRET.as_bytes()),
                "plaintext secret in {}",
                path.display()
            );
        }
    }
    assert!(
        std::fs::read_to_string(&config_file)
            .unwrap()
            .contains("secure")
    );

    // And none of it is readable by other users: the config holding sealed values, the state
    // directory, the database and its companions, whatever the umask.
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&config_file), 0o600);
    let mut state_files = 0;
    for entry in std::fs::read_dir(state.parent().unwrap()).unwrap() {
        let path = entry.unwrap().path();
        if path.to_string_lossy().contains("state.db") {
            assert_eq!(mode(&path), 0o600, "{}", path.display());
            state_files += 1;
        }
    }
    assert!(state_files >= 1);
    let fresh = cli.dir.path().join("team/.cairn/state.db");
    let r = cli.run_with(
        &["preview"],
        &[
            ("CAIRN_PASSPHRASE", PASSPHRASE),
            ("CAIRN_STATE", fresh.to_str().unwrap()),
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(mode(fresh.parent().unwrap()), 0o700);
    assert_eq!(mode(&cli.dir.path().join("team")), 0o700);
    assert_eq!(mode(&fresh), 0o600);

    // A wrong passphrase is an error saying so; no passphrase says which variable to set.
    for (passphrase, says) in [("not it", "passphrase is wrong"), ("", "CAIRN_PASSPHRASE")] {
        let r = cli.run_with(&["preview"], &[("CAIRN_PASSPHRASE", passphrase)]);
        assert_eq!(r.code, 1, "{}", r.stdout);
        assert!(r.stderr.contains(says), "{}", r.stderr);
        assert!(!r.stderr.contains(SECRET) && !r.stdout.contains(SECRET));
    }

    // A secret is not silently replaced by a plain value (which the committed file would hold
    // in clear), neither by `config set` nor by `-c`.
    for (args, code) in [
        (&["config", "set", "dbPassword", "in-clear"][..], 1),
        (&["preview", "-c", "dbPassword=in-clear"], 2),
    ] {
        let r = cli.run_with(args, &[("CAIRN_PASSPHRASE", PASSPHRASE)]);
        assert_eq!(r.code, code, "{args:?}: {}", r.stdout);
        assert!(
            r.stderr
                .contains("config key 'dbPassword' is secret: a plain value would be written"),
            "{}",
            r.stderr
        );
    }
    assert!(
        !std::fs::read_to_string(&config_file)
            .unwrap()
            .contains("in-clear")
    );
    // A secret given without a value is read from standard input, never from the command line.
    let mut set = cli
        .command(&["config", "set", "--secret", "apiToken"])
        .env("CAIRN_PASSPHRASE", PASSPHRASE)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    set.stdin
        .take()
        .unwrap()
        .write_all(b"tok-from-stdin-123\n")
        .unwrap();
    assert!(set.wait_with_output().unwrap().status.success());
    let got = run(&["config", "get", "apiToken", "--show-secrets"]);
    assert_eq!(got.stdout.trim(), "tok-from-stdin-123");
    assert!(
        run(&["config", "get", "apiToken"])
            .stdout
            .contains("[secret]")
    );

    // A rekey seals the config's and the state's secrets again under a new passphrase, with
    // the current costs recorded; the old passphrase opens nothing after it.
    const NEW: &str = "another passphrase for tests";
    let rekey = [
        ("CAIRN_PASSPHRASE", PASSPHRASE),
        ("CAIRN_NEW_PASSPHRASE", NEW),
    ];
    for (args, says) in [
        (["config", "rekey"], "Sealed 2 secret(s) again"),
        (["state", "rekey"], "value(s) again"),
    ] {
        let r = cli.run_with(&args, &rekey);
        assert_eq!(r.code, 0, "{args:?}: {}", r.stderr);
        assert!(
            r.stdout.contains(says) && r.stdout.contains("(argon2id$v=19$m=65536,t=3,p=1)"),
            "{}",
            r.stdout
        );
    }
    assert!(
        std::fs::read_to_string(&config_file)
            .unwrap()
            .contains("kdf = \"argon2id$v=19$m=65536,t=3,p=1\"")
    );
    let old = cli.run_with(
        &["outputs", "--show-secrets"],
        &[("CAIRN_PASSPHRASE", PASSPHRASE)],
    );
    assert_eq!(old.code, 1, "{}", old.stdout);
    let new = cli.run_with(&["outputs", "--show-secrets"], &[("CAIRN_PASSPHRASE", NEW)]);
    assert!(new.stdout.contains(SECRET), "{}", new.stderr);
    let new = cli.run_with(&["up", "--yes"], &[("CAIRN_PASSPHRASE", NEW)]);
    assert!(new.stdout.contains("Update: no changes"), "{}", new.stderr);

    // A provider's check that quotes a secret input back, in text and in JSON: redacted.
    let bad = format!("bad!{SECRET}");
    let r = cli.run_with(
        &["config", "set", "--secret", "dbValue", &bad],
        &[("CAIRN_PASSPHRASE", NEW)],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    for args in [&["preview"][..], &["up", "--yes", "--json"]] {
        let r = cli.run_with(args, &[("CAIRN_PASSPHRASE", NEW), ("RUST_LOG", "trace")]);
        assert_eq!(r.code, 1, "{args:?}: {}", r.stdout);
        assert!(
            r.stderr.contains("property 'value': '[secret]' is invalid"),
            "{}",
            r.stderr
        );
        for text in [&r.stdout, &r.stderr] {
            assert!(
                !text.contains(SECRET),
                "{args:?}: the secret is in:\n{text}"
            );
        }
    }

    // Moving the stack to another state file: the export is private and keeps the secrets
    // sealed, never overwrites, and the import brings it whole (and never over a stack).
    let with_new = [("CAIRN_PASSPHRASE", NEW)];
    let export = cli.dir.path().join("dev.stack.json");
    let r = cli.run_with(&["state", "export", export.to_str().unwrap()], &with_new);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(mode(&export), 0o600);
    let bytes = std::fs::read(&export).unwrap();
    assert!(!bytes.windows(SECRET.len()).any(|w| w == SECRET.as_bytes()));
    let again = cli.run_with(&["state", "export", export.to_str().unwrap()], &with_new);
    assert_eq!(again.code, 1);
    assert!(
        again.stderr.contains("never overwrites"),
        "{}",
        again.stderr
    );
    let other = cli.dir.path().join("other/state.db");
    let there = [
        ("CAIRN_PASSPHRASE", NEW),
        ("CAIRN_STATE", other.to_str().unwrap()),
    ];
    let r = cli.run_with(&["state", "import", export.to_str().unwrap()], &there);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let shown = cli.run_with(&["outputs", "--show-secrets"], &there);
    assert!(shown.stdout.contains(SECRET), "{}", shown.stderr);
    let history = cli.run_with(&["history"], &there).stdout;
    assert_eq!(history, cli.run_with(&["history"], &with_new).stdout);
    let twice = cli.run_with(&["state", "import", export.to_str().unwrap()], &there);
    assert_eq!(twice.code, 1);
    assert!(
        twice.stderr.contains("stack 'dev' already exists"),
        "{}",
        twice.stderr
    );
}

/// The secret's plaintext goes through a real AWS call (a tag on a VPC, against moto) and is in
/// no output and no log line, with every log on (`RUST_LOG=trace`): the SDK's request dumps
/// are capped, and what reaches stderr is redacted.
#[test]
fn a_secret_sent_to_aws_is_in_no_output_even_at_trace() {
    let moto = cairn_tests::Moto::start();
    let cli = Cli::new(env!("CARGO_BIN_EXE_cairn-program"), &moto);
    let env = [
        ("CAIRN_TEST_PROGRAM", "secret_tag"),
        ("CAIRN_PASSPHRASE", PASSPHRASE),
        ("RUST_LOG", "trace"),
    ];
    cli.ok(&["config", "set", "aws:region", "us-east-2"]);
    let mut set = cli
        .command(&["config", "set", "--secret", "vpcToken"])
        .envs(env)
        .stdin(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    set.stdin
        .take()
        .unwrap()
        .write_all(format!("{SECRET}\n").as_bytes())
        .unwrap();
    assert!(set.wait().unwrap().success());
    for args in [
        &["up", "--yes"][..],
        &["refresh", "--yes"],
        &["up", "--yes", "--json"],
        &["destroy", "--yes"],
    ] {
        let r = cli.run_with(args, &env);
        assert_eq!(r.code, 0, "{args:?}: {}", r.stderr);
        assert!(
            r.stderr.len() > 10_000,
            "trace logging is on: {}",
            r.stderr.len()
        );
        for text in [&r.stdout, &r.stderr] {
            assert!(
                !text.contains(SECRET),
                "{args:?}: the secret is in the output"
            );
        }
    }
}
