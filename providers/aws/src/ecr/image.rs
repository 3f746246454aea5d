//! `aws:ecr/Image`: a container image pushed from disk into a repository, through ECR's own
//! layer-upload API (no Docker daemon), and [`LocalImage`], the image on disk.
//!
//! The image on disk is an OCI image layout (`oci-layout`, `index.json`, `blobs/sha256/…`),
//! as a directory or as the archive holding one: what `docker save IMAGE -o FILE` writes with
//! Docker 25 or later (read in place, not unpacked), `skopeo copy docker://IMAGE oci:DIR`, or
//! `crane pull --format=oci IMAGE DIR`. Its manifest digest is read
//! when the program runs and is one of the resource's inputs, so new content is a new digest:
//! the image is pushed again (a replacement), and what refers to it by `image_uri`
//! (`repository@sha256:…`) changes with it.

use std::path::{Path, PathBuf};

use async_trait::async_trait;
use aws_sdk_ecr::primitives::Blob;
use aws_sdk_ecr::types::ImageIdentifier;
use cairn::{ProviderError, ResourceContext};
use serde_json::Value;
use sha2::Digest;

use crate::AwsProvider;
use crate::config::Clients;
use crate::error::{aws, aws_on, code};
use crate::resource::{AwsResource, by_record};
use crate::tagging::Tagging;

/// An image in a repository, pushed from an OCI image layout on disk (layer by layer, with
/// no Docker daemon).
///
/// ```no_run
/// # fn program(stack: &mut cairn::Stack, repo: &cairn_aws::ecr::Repository) {
/// use cairn_aws::ecr::{Image, ImageArgs, LocalImage};
/// // An OCI layout, as `docker buildx build --output type=oci,tar=false,dest=image` writes.
/// let local = LocalImage::open("image").expect("an OCI image layout");
/// let image = Image::new(stack, "app-image", ImageArgs::builder()
///     .repository(repo.name())
///     .source(local.path())
///     .digest(local.digest())
///     .tag("v1".to_string())
///     .build());
/// // Run exactly this image: `<repository URI>@<digest>`.
/// let uri = image.image_uri();
/// # }
/// ```
#[cairn::resource(token = "aws:ecr/Image", provider = AwsProvider)]
#[api(calls(
    DescribeRepositories,
    BatchCheckLayerAvailability,
    InitiateLayerUpload,
    UploadLayerPart,
    CompleteLayerUpload,
    PutImage,
    DescribeImages,
    BatchDeleteImage
))]
pub struct Image {
    /// The repository's name (in the provider's account).
    #[replace]
    #[api(name = "RepositoryName")]
    pub repository: String,
    /// The OCI image layout directory ([`LocalImage::path`]). Moved elsewhere with the same
    /// content, nothing is pushed: the digest is the image.
    #[api(cairn)]
    pub source: String,
    /// The image's manifest digest ([`LocalImage::digest`]): new content, a new digest.
    #[replace]
    #[api(name = "ImageDigest", values = "`sha256:` and 64 hex digits")]
    pub digest: String,
    /// A tag to give the image too (a repository with immutable tags refuses to move one).
    /// Changed, the image gets the new tag in place; the old one stays on it until another
    /// image takes it.
    #[api(name = "ImageTag", default = "untagged")]
    pub tag: Option<String>,
    /// `<repository URI>@<digest>`: what a task definition names to run exactly this image.
    #[output]
    pub image_uri: String,
    #[output]
    pub digest: String,
}

/// An OCI image layout on disk, checked: its manifest found and every blob it names present
/// with the digest it claims.
#[derive(Debug, Clone)]
pub struct LocalImage {
    path: PathBuf,
    manifest: Descriptor,
    /// The config and the layers the manifest names, each checked.
    blobs: Vec<Descriptor>,
}

/// What a content descriptor says of a blob.
#[derive(Debug, Clone)]
struct Descriptor {
    media_type: String,
    digest: String,
}

/// Why an image on disk cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("the image at {path}: {problem}")]
pub struct LocalImageError {
    /// Where the image was looked for.
    pub path: PathBuf,
    /// What is wrong with it.
    pub problem: String,
}

const INDEX_TYPES: &[&str] = &[
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
];

fn sha256(bytes: &[u8]) -> String {
    let hash = sha2::Sha256::digest(bytes);
    let mut out = String::with_capacity(71);
    out.push_str("sha256:");
    for b in hash.iter() {
        out.push_str(&format!("{b:02x}"));
    }
    out
}

impl LocalImage {
    /// Reads the layout at `path`: its one image manifest (an index of several platforms is
    /// refused: pick one when exporting it) and every blob it names, each checked.
    pub fn open(path: impl AsRef<Path>) -> Result<LocalImage, LocalImageError> {
        let path = path.as_ref().to_path_buf();
        let fail = |problem: String| LocalImageError {
            path: path.clone(),
            problem,
        };
        let index: Value = read_json(&path, "index.json").map_err(fail)?;
        let manifests = index["manifests"].as_array().cloned().unwrap_or_default();
        let [manifest] = manifests.as_slice() else {
            return Err(fail(format!(
                "index.json lists {} manifests; export one image, for one platform",
                manifests.len()
            )));
        };
        let manifest = descriptor(manifest).map_err(fail)?;
        if INDEX_TYPES.contains(&manifest.media_type.as_str()) {
            return Err(fail(
                "it holds a multi-platform index: export one platform (`--platform linux/amd64`)"
                    .into(),
            ));
        }
        let mut image = LocalImage {
            path,
            manifest,
            blobs: Vec::new(),
        };
        let body = image.blob(&image.manifest.digest)?;
        let parsed: Value = serde_json::from_slice(&body)
            .map_err(|e| image.error(format!("its manifest is not JSON: {e}")))?;
        image.blobs = image.blobs_of(&parsed)?;
        for blob in &image.blobs {
            image.blob(&blob.digest)?;
        }
        Ok(image)
    }

    /// Where the image is on disk, as text (the `source` input).
    pub fn path(&self) -> String {
        self.path.display().to_string()
    }

    /// The manifest's digest (`sha256:…`).
    pub fn digest(&self) -> String {
        self.manifest.digest.clone()
    }

    fn error(&self, problem: String) -> LocalImageError {
        LocalImageError {
            path: self.path.clone(),
            problem,
        }
    }

    /// The blob of `digest`, checked against it.
    fn blob(&self, digest: &str) -> Result<Vec<u8>, LocalImageError> {
        let hex = digest
            .strip_prefix("sha256:")
            .filter(|h| h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()))
            .ok_or_else(|| self.error(format!("'{digest}' is not a sha256 digest")))?;
        let bytes = read_file(&self.path, &format!("blobs/sha256/{hex}"))
            .map_err(|e| self.error(format!("blob {digest}: {e}")))?;
        if sha256(&bytes) != digest {
            return Err(self.error(format!("blob {digest} does not have that digest")));
        }
        Ok(bytes)
    }

    /// The config and the layers a manifest names.
    fn blobs_of(&self, manifest: &Value) -> Result<Vec<Descriptor>, LocalImageError> {
        let mut out = vec![descriptor(&manifest["config"]).map_err(|p| self.error(p))?];
        for layer in manifest["layers"].as_array().into_iter().flatten() {
            out.push(descriptor(layer).map_err(|p| self.error(p))?);
        }
        Ok(out)
    }
}

fn read_json(layout: &Path, name: &str) -> Result<Value, String> {
    let text = read_file(layout, name)?;
    serde_json::from_slice(&text).map_err(|e| format!("{name}: {e}"))
}

/// One file of the layout at `layout`: a directory, or an archive of one (`docker save`).
fn read_file(layout: &Path, name: &str) -> Result<Vec<u8>, String> {
    use std::io::Read;
    if layout.is_dir() {
        let file = layout.join(name);
        return std::fs::read(&file).map_err(|e| format!("{}: {e}", file.display()));
    }
    let archive = std::fs::File::open(layout).map_err(|e| e.to_string())?;
    let mut archive = tar::Archive::new(archive);
    // Seeking past the entries before it rather than reading them: layers are large.
    let entries = archive.entries_with_seek().map_err(|e| e.to_string())?;
    for entry in entries {
        let mut entry = entry.map_err(|e| {
            format!("neither a layout directory nor a `docker save` archive of one ({e})")
        })?;
        let path = entry.path().map_err(|e| e.to_string())?.into_owned();
        if path.strip_prefix(".").unwrap_or(&path) == Path::new(name) {
            let mut bytes = Vec::new();
            entry
                .read_to_end(&mut bytes)
                .map_err(|e| format!("{name}: {e}"))?;
            return Ok(bytes);
        }
    }
    Err(format!("the archive holds no {name}"))
}

fn descriptor(v: &Value) -> Result<Descriptor, String> {
    match (v["mediaType"].as_str(), v["digest"].as_str()) {
        (Some(media_type), Some(digest)) => Ok(Descriptor {
            media_type: media_type.to_string(),
            digest: digest.to_string(),
        }),
        _ => Err(format!("a descriptor without mediaType or digest: {v}")),
    }
}

/// An image on disk that does not check out is a bad `source`.
impl From<LocalImageError> for ProviderError {
    fn from(e: LocalImageError) -> ProviderError {
        ProviderError::on_property("source", e.to_string()).kind(cairn::ErrorKind::Invalid)
    }
}

fn local(i: &ImageInputs) -> Result<LocalImage, ProviderError> {
    let image = LocalImage::open(&i.source)?;
    if image.digest() != i.digest {
        return Err(ProviderError::on_property(
            "digest",
            format!(
                "the image at {} is now {}, not {} as declared: run the program again",
                i.source,
                image.digest(),
                i.digest
            ),
        )
        .kind(cairn::ErrorKind::Invalid));
    }
    Ok(image)
}

/// The codes of an upload that went further than this process saw: a retried part already
/// received, or a retried completion of an upload already completed (its response lost).
const UPLOAD_AHEAD: &[&str] = &["UploadNotFoundException", "InvalidLayerPartException"];

/// Uploads the blob `digest` unless the repository has it. An upload that a lost response
/// put out of step is started again (at most three times), after looking whether the blob
/// arrived after all: content-addressed, a blob is there or not, never twice.
async fn push_blob(
    c: &Clients,
    repository: &str,
    image: &LocalImage,
    digest: &str,
) -> Result<(), ProviderError> {
    let mut attempt = 1;
    loop {
        match upload_blob(c, repository, image, digest).await {
            Err(e)
                if attempt < 3 && e.code.as_deref().is_some_and(|c| UPLOAD_AHEAD.contains(&c)) =>
            {
                attempt += 1;
            }
            r => return r,
        }
    }
}

async fn upload_blob(
    c: &Clients,
    repository: &str,
    image: &LocalImage,
    digest: &str,
) -> Result<(), ProviderError> {
    let have = c
        .ecr
        .batch_check_layer_availability()
        .repository_name(repository)
        .layer_digests(digest)
        .send()
        .await
        .map_err(aws("BatchCheckLayerAvailability"))?;
    let available = have.layers().iter().any(|l| {
        l.layer_digest() == Some(digest)
            && l.layer_availability() == Some(&aws_sdk_ecr::types::LayerAvailability::Available)
    });
    if available {
        return Ok(());
    }
    let bytes = image.blob(digest)?;
    let upload = c
        .ecr
        .initiate_layer_upload()
        .repository_name(repository)
        .send()
        .await
        .map_err(aws("InitiateLayerUpload"))?;
    let id = upload.upload_id().unwrap_or_default().to_string();
    // ECR's parts are at least 5 MiB but the last; it says how large it wants them.
    let part = upload
        .part_size()
        .filter(|&n| n > 0)
        .unwrap_or(10 * 1024 * 1024) as usize;
    for (n, chunk) in bytes.chunks(part).enumerate() {
        let first = (n * part) as i64;
        c.ecr
            .upload_layer_part()
            .repository_name(repository)
            .upload_id(&id)
            .part_first_byte(first)
            .part_last_byte(first + chunk.len() as i64 - 1)
            .layer_part_blob(Blob::new(chunk))
            .send()
            .await
            .map_err(aws("UploadLayerPart"))?;
    }
    match c
        .ecr
        .complete_layer_upload()
        .repository_name(repository)
        .upload_id(&id)
        .layer_digests(digest)
        .send()
        .await
    {
        // Another push of the same content finished first: the blob is there.
        Err(e) if code(&e).as_deref() == Some("LayerAlreadyExistsException") => Ok(()),
        r => r.map(|_| ()).map_err(aws("CompleteLayerUpload")),
    }
}

async fn repository_uri(c: &Clients, repository: &str) -> Result<String, ProviderError> {
    let out = c
        .ecr
        .describe_repositories()
        .repository_names(repository)
        .send()
        .await
        .map_err(aws_on("DescribeRepositories", "repository"))?;
    Ok(out
        .repositories()
        .first()
        .and_then(|r| r.repository_uri())
        .unwrap_or_default()
        .to_string())
}

/// Puts the manifest (with the tag, if any): the bytes as they are on disk, whose digest is
/// the image's.
async fn put_manifest(
    c: &Clients,
    i: &ImageInputs,
    image: &LocalImage,
) -> Result<(), ProviderError> {
    let manifest = image.blob(&i.digest)?;
    let put = c
        .ecr
        .put_image()
        .repository_name(&i.repository)
        .image_manifest(String::from_utf8_lossy(&manifest))
        .image_manifest_media_type(&image.manifest.media_type)
        .image_digest(&i.digest)
        .set_image_tag(i.tag.clone())
        .send()
        .await;
    match put {
        // Pushed before (a lost response, or the same content twice): it is there.
        Err(e) if code(&e).as_deref() == Some("ImageAlreadyExistsException") => Ok(()),
        r => r.map(|_| ()).map_err(aws_on("PutImage", "tag")),
    }
}

fn by_digest(digest: &str) -> ImageIdentifier {
    ImageIdentifier::builder().image_digest(digest).build()
}

#[async_trait]
impl AwsResource for Image {
    const LOOKUP_BY_ID: bool = false;
    const TAGS: Tagging = Tagging::None;
    const CREATE_IS_IDEMPOTENT: bool = true;

    async fn create(
        c: &Clients,
        _ctx: &ResourceContext,
        _token: &str,
        i: &ImageInputs,
    ) -> Result<(String, ImageOutputs), ProviderError> {
        let image = local(i)?;
        for blob in &image.blobs {
            push_blob(c, &i.repository, &image, &blob.digest).await?;
        }
        put_manifest(c, i, &image).await?;
        let uri = repository_uri(c, &i.repository).await?;
        Ok((
            format!("{}@{}", i.repository, i.digest),
            ImageOutputs {
                image_uri: format!("{uri}@{}", i.digest),
                digest: i.digest.clone(),
            },
        ))
    }

    /// Content-addressed: the image of this digest in this repository is this image.
    fn id_from_inputs(i: &Self::Inputs) -> Option<String> {
        Some(format!("{}@{}", i.repository, i.digest))
    }

    async fn read(
        c: &Clients,
        _id: &str,
        i: Option<&ImageInputs>,
    ) -> Result<Option<(ImageInputs, ImageOutputs)>, ProviderError> {
        let i = by_record(i, Self::TYPE)?;
        let out = match c
            .ecr
            .describe_images()
            .repository_name(&i.repository)
            .image_ids(by_digest(&i.digest))
            .send()
            .await
        {
            Err(e)
                if matches!(
                    code(&e).as_deref(),
                    Some("ImageNotFoundException" | "RepositoryNotFoundException")
                ) =>
            {
                return Ok(None);
            }
            r => r.map_err(aws("DescribeImages"))?,
        };
        let Some(found) = out.image_details().first() else {
            return Ok(None);
        };
        let tag = match &i.tag {
            Some(t) if found.image_tags().contains(t) => Some(t.clone()),
            Some(_) => found.image_tags().first().cloned(),
            None => None,
        };
        let uri = repository_uri(c, &i.repository).await?;
        Ok(Some((
            ImageInputs { tag, ..i.clone() },
            ImageOutputs {
                image_uri: format!("{uri}@{}", i.digest),
                digest: i.digest.clone(),
            },
        )))
    }

    async fn update(
        c: &Clients,
        _ctx: &ResourceContext,
        _id: &str,
        old: &ImageInputs,
        new: &ImageInputs,
    ) -> Result<ImageOutputs, ProviderError> {
        if new.tag.is_some() && new.tag != old.tag {
            let image = local(new)?;
            put_manifest(c, new, &image).await?;
        }
        let uri = repository_uri(c, &new.repository).await?;
        Ok(ImageOutputs {
            image_uri: format!("{uri}@{}", new.digest),
            digest: new.digest.clone(),
        })
    }

    async fn delete(
        c: &Clients,
        _id: &str,
        i: &ImageInputs,
        _o: &ImageOutputs,
    ) -> Result<(), ProviderError> {
        match c
            .ecr
            .batch_delete_image()
            .repository_name(&i.repository)
            .image_ids(by_digest(&i.digest))
            .send()
            .await
        {
            // The repository went first (force_delete): so did its images.
            Err(e) if code(&e).as_deref() == Some("RepositoryNotFoundException") => Ok(()),
            r => r.map(|_| ()).map_err(aws("BatchDeleteImage")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn demo() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../programs/ecr-privatelink-fargate/image")
    }

    /// The demo's layout as `docker save` writes it: one archive, no `./` before the names.
    fn archive_of(dir: &Path, to: &Path) {
        let mut builder = tar::Builder::new(std::fs::File::create(to).unwrap());
        builder.append_dir_all("", dir).unwrap();
        builder.finish().unwrap();
    }

    #[test]
    fn an_archive_of_a_layout_reads_as_the_layout_itself() {
        let dir = tempfile::tempdir().unwrap();
        let tar = dir.path().join("image.tar");
        archive_of(&demo(), &tar);
        let (from_dir, from_tar) = (
            LocalImage::open(demo()).unwrap(),
            LocalImage::open(&tar).unwrap(),
        );
        assert_eq!(from_tar.digest(), from_dir.digest());
        let digests = |i: &LocalImage| i.blobs.iter().map(|b| b.digest.clone()).collect::<Vec<_>>();
        assert_eq!(digests(&from_tar), digests(&from_dir));
        for blob in &from_dir.blobs {
            assert_eq!(
                from_tar.blob(&blob.digest).unwrap(),
                from_dir.blob(&blob.digest).unwrap()
            );
        }
    }

    #[test]
    fn a_file_that_is_no_layout_archive_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("notes.txt");
        std::fs::write(&file, "not an image").unwrap();
        let err = LocalImage::open(&file).unwrap_err().to_string();
        assert!(
            err.contains("notes.txt") && err.contains("nor a `docker save` archive"),
            "{err}"
        );
    }
}
