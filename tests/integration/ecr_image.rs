//! `aws:ecr/Image` against moto: the demo's image pushed from its OCI layout (packed in an
//! archive, as `docker save` writes one) through ECR's layer-upload API (no Docker), found by its digest with its tag; new content is a new digest,
//! pushed as a replacement, the old one removed; an image deleted by hand is drift; a layout
//! that does not check out is an error before anything is planned.

use std::path::Path;

use cairn_tests::{Cli, Moto};

const BIN: &str = env!("CARGO_BIN_EXE_cairn-program");

fn demo_image() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../programs/ecr-privatelink-fargate/image")
}

/// A copy of the demo's layout whose one layer is other bytes: another image.
fn changed_copy(to: &Path) -> String {
    let from = demo_image();
    let copy = |rel: &str| {
        let target = to.join(rel);
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        std::fs::copy(from.join(rel), target).unwrap();
    };
    copy("oci-layout");
    let index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(from.join("index.json")).unwrap()).unwrap();
    let blob = |d: &str| {
        from.join("blobs/sha256")
            .join(d.trim_start_matches("sha256:"))
    };
    let digest = index["manifests"][0]["digest"].as_str().unwrap();
    let mut manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(blob(digest)).unwrap()).unwrap();
    let config = manifest["config"]["digest"].as_str().unwrap().to_string();
    copy(&format!(
        "blobs/sha256/{}",
        config.trim_start_matches("sha256:")
    ));
    let put = |bytes: &[u8]| -> String {
        let out = std::process::Command::new("sha256sum")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .and_then(|mut c| {
                use std::io::Write;
                c.stdin.take().unwrap().write_all(bytes)?;
                c.wait_with_output()
            })
            .unwrap();
        let hex = String::from_utf8(out.stdout).unwrap()[..64].to_string();
        let dir = to.join("blobs/sha256");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(&hex), bytes).unwrap();
        format!("sha256:{hex}")
    };
    let layer = b"another layer";
    manifest["layers"][0]["digest"] = put(layer).into();
    manifest["layers"][0]["size"] = layer.len().into();
    let bytes = serde_json::to_vec(&manifest).unwrap();
    let new_digest = put(&bytes);
    let mut index = index;
    index["manifests"][0]["digest"] = new_digest.clone().into();
    index["manifests"][0]["size"] = bytes.len().into();
    std::fs::write(to.join("index.json"), serde_json::to_vec(&index).unwrap()).unwrap();
    new_digest
}

async fn digests(moto: &Moto, repository: &str) -> Vec<(String, Vec<String>)> {
    let config = crate::inventory::sdk(&moto.endpoint, None).await;
    let ecr = aws_sdk_ecr::Client::new(&config);
    let out = ecr
        .describe_images()
        .repository_name(repository)
        .send()
        .await
        .unwrap();
    let mut found: Vec<(String, Vec<String>)> = out
        .image_details()
        .iter()
        .map(|d| {
            (
                d.image_digest().unwrap_or_default().to_string(),
                d.image_tags().to_vec(),
            )
        })
        .collect();
    found.sort();
    found
}

#[tokio::test(flavor = "multi_thread")]
async fn an_image_is_pushed_from_disk_replaced_by_new_content_and_its_loss_is_drift() {
    let moto = Moto::start();
    let cli = Cli::new(BIN, &moto).program("image");
    cli.ok(&["config", "set", "aws:region", "us-east-2"]);
    // As `docker save` hands it over: one archive of the layout.
    let packed = tempfile::tempdir().unwrap();
    let archive = packed.path().join("image.tar");
    let tar = std::process::Command::new("tar")
        .arg("-cf")
        .arg(&archive)
        .arg("-C")
        .arg(demo_image())
        .arg(".")
        .status()
        .unwrap();
    assert!(tar.success());
    cli.ok(&["config", "set", "imageDir", archive.to_str().unwrap()]);
    let index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(demo_image().join("index.json")).unwrap()).unwrap();
    let v1 = index["manifests"][0]["digest"]
        .as_str()
        .unwrap()
        .to_string();

    cli.ok(&["up", "--yes"]);
    let store = cairn_state::Store::open(cli.state_path()).unwrap();
    let records = store.resources("dev").unwrap();
    let repository = records
        .iter()
        .find(|r| r.name == "repository")
        .unwrap()
        .id
        .clone();
    assert_eq!(
        digests(&moto, &repository).await,
        [(v1.clone(), vec!["v1".to_string()])]
    );
    let outputs = cli.ok(&["outputs", "--json"]).stdout;
    let outputs: serde_json::Value = serde_json::from_str(&outputs).unwrap();
    let uri = outputs["imageUri"].as_str().unwrap();
    assert!(
        uri.ends_with(&format!("/{repository}@{v1}")) && uri.contains(".dkr.ecr.us-east-2."),
        "{uri}"
    );
    assert!(cli.ok(&["preview"]).stdout.contains("Plan: no changes"));

    // New content: a new digest, pushed as a replacement; the old image goes.
    let dir = tempfile::tempdir().unwrap();
    let v2 = changed_copy(dir.path());
    cli.ok(&["config", "set", "imageDir", dir.path().to_str().unwrap()]);
    let preview = cli.ok(&["preview"]).stdout;
    assert!(
        preview.contains("+- replace  image (aws:ecr/Image)  [forced by digest]"),
        "{preview}"
    );
    assert!(preview.contains(&format!("+ \"{v2}\"")), "{preview}");
    cli.ok(&["up", "--yes"]);
    assert_eq!(
        digests(&moto, &repository).await,
        [(v2.clone(), vec!["v1".to_string()])]
    );

    // Deleted behind Cairn's back: refresh finds it gone, up pushes it again.
    let config = crate::inventory::sdk(&moto.endpoint, None).await;
    aws_sdk_ecr::Client::new(&config)
        .batch_delete_image()
        .repository_name(&repository)
        .image_ids(
            aws_sdk_ecr::types::ImageIdentifier::builder()
                .image_digest(&v2)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let refresh = cli.ok(&["refresh", "--yes"]).stdout;
    assert!(refresh.contains("image"), "{refresh}");
    cli.ok(&["up", "--yes"]);
    assert_eq!(digests(&moto, &repository).await.len(), 1);

    // A layout whose blob is not what it claims: an error naming it, nothing planned.
    let blob = std::fs::read_dir(dir.path().join("blobs/sha256"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    std::fs::write(&blob, b"tampered").unwrap();
    let bad = cli.run(&["preview"]);
    assert_eq!(bad.code, 1, "{}", bad.stdout);
    assert!(
        bad.stderr.contains("does not have that digest") || bad.stderr.contains("is not JSON"),
        "{}",
        bad.stderr
    );

    cli.ok(&["config", "set", "imageDir", demo_image().to_str().unwrap()]);
    cli.ok(&["destroy", "--yes"]);
}
