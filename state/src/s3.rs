//! The S3 backend's ground floor: where a state lives (`s3://BUCKET/PREFIX`), a client for it
//! from the standard AWS configuration, and what can be wrong with the bucket, named, before
//! anything else happens. The lock with a lease is in `s3/lease.rs`, the snapshot and journal
//! objects in `s3/remote.rs`. (What writes the journal as each operation commits, and opens a
//! stack from it, builds on these; none of it is reachable from the command line yet.)

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use aws_sdk_s3::error::ProvideErrorMetadata;

use crate::StateError;

mod backend;
mod journal;
pub mod lease;
pub mod remote;

pub(crate) use backend::Remote;

/// A state location in S3.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// The bucket.
    pub bucket: String,
    /// Without leading or trailing `/`; empty for the bucket's root.
    pub prefix: String,
}

impl Location {
    /// Reads `s3://BUCKET[/PREFIX]`.
    pub fn parse(url: &str) -> Option<Location> {
        let rest = url.strip_prefix("s3://")?;
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        (!bucket.is_empty()).then(|| Location {
            bucket: bucket.to_string(),
            prefix: prefix.trim_matches('/').to_string(),
        })
    }

    /// The key of `name` under the prefix.
    pub fn key(&self, name: &str) -> String {
        if self.prefix.is_empty() {
            name.to_string()
        } else {
            format!("{}/{name}", self.prefix)
        }
    }
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "s3://{}/{}", self.bucket, self.prefix)
    }
}

/// What is wrong with a bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BucketProblem {
    /// No bucket of that name.
    Missing,
    /// The credentials may not use it.
    Denied,
    /// The bucket is in another region than the one configured.
    WrongRegion,
    /// No answer (no credentials, no network, an endpoint that does not answer).
    Unreachable,
    /// No region in the AWS configuration, so no endpoint to ask.
    NoRegion,
}

impl std::fmt::Display for BucketProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            BucketProblem::Missing => "it does not exist (create it first: Cairn never does)",
            BucketProblem::Denied => "access is denied (the credentials may not use it)",
            BucketProblem::WrongRegion => "it is in another region than the one configured",
            BucketProblem::Unreachable => "it cannot be reached",
            BucketProblem::NoRegion => {
                "no AWS region is configured (set AWS_REGION, or a region in the profile)"
            }
        })
    }
}

/// How many requests of each kind a bucket's client has sent (each retry too): what S3
/// bills, and what the benchmark reports per operation.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct RequestCounts {
    /// `GetObject` requests.
    pub get: u64,
    /// `ListObjectsV2` requests.
    pub list: u64,
    /// `HeadObject` and `HeadBucket` requests.
    pub head: u64,
    /// `PutObject` requests.
    pub put: u64,
    /// Single deletes and batches (`DeleteObjects`, one request for up to 1,000 keys).
    pub delete: u64,
}

impl RequestCounts {
    /// Requests that write (put and delete).
    pub fn writes(&self) -> u64 {
        self.put + self.delete
    }

    /// Requests that read (get, list and head).
    pub fn reads(&self) -> u64 {
        self.get + self.list + self.head
    }
}

#[derive(Debug, Default)]
struct Requests([AtomicU64; 5]);

impl Requests {
    fn counts(&self) -> RequestCounts {
        let n = |i: usize| self.0[i].load(Ordering::Relaxed);
        RequestCounts {
            get: n(0),
            list: n(1),
            head: n(2),
            put: n(3),
            delete: n(4),
        }
    }
}

/// Counts each request as it is sent, by its method (and, for a GET, whether it lists).
#[derive(Debug)]
struct Counter(Arc<Requests>);

impl aws_sdk_s3::config::Intercept for Counter {
    fn name(&self) -> &'static str {
        "cairn-request-counter"
    }

    fn read_before_transmit(
        &self,
        context: &aws_sdk_s3::config::interceptors::BeforeTransmitInterceptorContextRef<'_>,
        _: &aws_sdk_s3::config::RuntimeComponents,
        _: &mut aws_sdk_s3::config::ConfigBag,
    ) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        let request = context.request();
        let kind = match request.method() {
            "GET" if request.uri().contains("list-type=") => 1,
            "GET" => 0,
            "HEAD" => 2,
            "PUT" => 3,
            _ => 4,
        };
        self.0.0[kind].fetch_add(1, Ordering::Relaxed);
        Ok(())
    }
}

/// What a conditional read found.
pub(crate) enum Got {
    Object(Vec<u8>, String),
    Missing,
    /// Still the object of the ETag given.
    Unchanged,
}

/// A bucket checked to be usable, with the client that reaches it.
#[derive(Clone)]
pub struct Bucket {
    pub(crate) client: aws_sdk_s3::Client,
    /// Where in S3 the state is.
    pub location: Location,
    requests: Arc<Requests>,
}

impl Bucket {
    /// A client from the standard AWS configuration (`AWS_ENDPOINT_URL` points it at an
    /// emulator, addressed by path since such an endpoint has no per-bucket host names), after
    /// checking that the bucket exists and can be used.
    pub async fn connect(location: Location) -> Result<Bucket, crate::StateError> {
        let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest())
            .load()
            .await;
        Bucket::connect_with(location, &sdk).await
    }

    /// The same with a configuration given (a process reaching several emulators: tests).
    pub async fn connect_with(
        location: Location,
        sdk: &aws_config::SdkConfig,
    ) -> Result<Bucket, crate::StateError> {
        if sdk.region().is_none() {
            return Err(crate::StateError::Bucket {
                bucket: location.bucket,
                problem: BucketProblem::NoRegion,
                cause: "the state is in S3".into(),
            });
        }
        // An endpoint of one's own (AWS_ENDPOINT_URL, or AWS_ENDPOINT_URL_S3 for S3 alone).
        let custom =
            sdk.endpoint_url().is_some() || std::env::var_os("AWS_ENDPOINT_URL_S3").is_some();
        let requests = Arc::new(Requests::default());
        let conf = aws_sdk_s3::config::Builder::from(sdk)
            .force_path_style(custom)
            .interceptor(Counter(requests.clone()))
            .build();
        let bucket = Bucket {
            client: aws_sdk_s3::Client::from_conf(conf),
            location,
            requests,
        };
        bucket.check().await?;
        Ok(bucket)
    }

    /// The requests sent so far, retries included.
    pub fn requests(&self) -> RequestCounts {
        self.requests.counts()
    }

    async fn check(&self) -> Result<(), crate::StateError> {
        let head = self
            .client
            .head_bucket()
            .bucket(&self.location.bucket)
            .send()
            .await;
        let Err(e) = head else { return Ok(()) };
        let status = e.raw_response().map(|r| r.status().as_u16());
        let problem = match status {
            Some(404) => BucketProblem::Missing,
            Some(403) => BucketProblem::Denied,
            Some(301) => BucketProblem::WrongRegion,
            _ => BucketProblem::Unreachable,
        };
        let cause = match status {
            Some(status) if problem != BucketProblem::Unreachable => {
                format!("HeadBucket answered {status}")
            }
            _ => causes(&e),
        };
        Err(self.problem(problem, &cause))
    }

    /// The object at `key` and its ETag, if there is one.
    pub(crate) async fn get(&self, key: &str) -> Result<Option<(Vec<u8>, String)>, StateError> {
        Ok(match self.get_unless(key, None).await? {
            Got::Object(body, etag) => Some((body, etag)),
            Got::Missing | Got::Unchanged => None,
        })
    }

    /// The object at `key`, unless it is still the one with ETag `known` (`If-None-Match`:
    /// S3 answers 304 without the body).
    pub(crate) async fn get_unless(
        &self,
        key: &str,
        known: Option<&str>,
    ) -> Result<Got, StateError> {
        let got = self
            .client
            .get_object()
            .bucket(&self.location.bucket)
            .key(key)
            .set_if_none_match(known.map(str::to_string))
            .send()
            .await;
        let out = match got {
            Ok(out) => out,
            Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_key()) => {
                return Ok(Got::Missing);
            }
            Err(e) if e.raw_response().is_some_and(|r| r.status().as_u16() == 304) => {
                return Ok(Got::Unchanged);
            }
            Err(e) => return Err(self.failed(&e)),
        };
        let etag = out.e_tag().unwrap_or_default().to_string();
        let body = out
            .body
            .collect()
            .await
            .map_err(|e| self.problem(BucketProblem::Unreachable, &e))?
            .into_bytes()
            .to_vec();
        Ok(Got::Object(body, etag))
    }

    /// Deletes `keys` (those already gone too), a thousand a request.
    pub(crate) async fn delete_all(&self, keys: Vec<String>) -> Result<(), StateError> {
        use aws_sdk_s3::types::{Delete, ObjectIdentifier};
        for chunk in keys.chunks(1000) {
            let objects = chunk
                .iter()
                .map(|k| ObjectIdentifier::builder().key(k).build())
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| self.problem(BucketProblem::Unreachable, &e))?;
            let delete = Delete::builder()
                .set_objects(Some(objects))
                .quiet(true)
                .build()
                .map_err(|e| self.problem(BucketProblem::Unreachable, &e))?;
            let out = self
                .client
                .delete_objects()
                .bucket(&self.location.bucket)
                .delete(delete)
                .send()
                .await
                .map_err(|e| self.failed(&e))?;
            if let Some(e) = out.errors().first() {
                return Err(self.problem(
                    BucketProblem::Denied,
                    &format!(
                        "{}: {}",
                        e.key().unwrap_or_default(),
                        e.message().unwrap_or_default()
                    ),
                ));
            }
        }
        Ok(())
    }

    /// The names of the stacks under the prefix: each a folder holding its objects.
    pub(crate) async fn stack_names(&self) -> Result<Vec<String>, StateError> {
        let prefix = if self.location.prefix.is_empty() {
            String::new()
        } else {
            format!("{}/", self.location.prefix)
        };
        let mut names = Vec::new();
        let mut pages = self
            .client
            .list_objects_v2()
            .bucket(&self.location.bucket)
            .prefix(&prefix)
            .delimiter("/")
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| self.failed(&e))?;
            for p in page.common_prefixes() {
                if let Some(name) = p
                    .prefix()
                    .and_then(|p| p.strip_prefix(&prefix))
                    .and_then(|p| p.strip_suffix('/'))
                {
                    names.push(name.to_string());
                }
            }
        }
        names.sort();
        Ok(names)
    }

    /// Puts `body` at `key` only if nothing is there (`over: None`, `If-None-Match: *`) or
    /// what is there has ETag `over` (`If-Match`); returns the new ETag, or `None` when the
    /// condition did not hold.
    pub(crate) async fn put_if(
        &self,
        key: &str,
        body: Vec<u8>,
        over: Option<&str>,
    ) -> Result<Option<String>, StateError> {
        let put = self
            .client
            .put_object()
            .bucket(&self.location.bucket)
            .key(key)
            .content_type("application/json")
            .body(aws_sdk_s3::primitives::ByteStream::from(body));
        let put = match over {
            None => put.if_none_match("*"),
            Some(etag) => put.if_match(etag),
        };
        match put.send().await {
            Ok(out) => Ok(Some(out.e_tag().unwrap_or_default().to_string())),
            Err(e) if precondition_failed(&e) => Ok(None),
            Err(e) => Err(self.failed(&e)),
        }
    }

    pub(crate) fn problem(
        &self,
        problem: BucketProblem,
        cause: &dyn std::fmt::Display,
    ) -> crate::StateError {
        crate::StateError::Bucket {
            bucket: self.location.bucket.clone(),
            problem,
            cause: cause.to_string(),
        }
    }

    /// An error of a call on the bucket, as the state's error.
    pub(crate) fn failed<E>(&self, e: &aws_sdk_s3::error::SdkError<E>) -> crate::StateError
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        let problem = match e.raw_response().map(|r| r.status().as_u16()) {
            Some(403) => BucketProblem::Denied,
            Some(404) if e.code() == Some("NoSuchBucket") => BucketProblem::Missing,
            _ => BucketProblem::Unreachable,
        };
        let detail = match (e.code(), e.message()) {
            (Some(code), Some(message)) => format!("{code}: {message}"),
            (Some(code), None) => code.to_string(),
            _ => causes(e),
        };
        self.problem(problem, &detail)
    }
}

/// An error and its sources, each once: `dispatch failure: io error: … Connection refused`.
fn causes(e: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut next = Some(e);
    while let Some(e) = next {
        let text = e.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        next = e.source();
    }
    parts.join(": ")
}

/// Whether a conditional write was refused because its condition did not hold (the object
/// exists, for `If-None-Match: *`; it changed, for `If-Match`).
pub(crate) fn precondition_failed<E>(e: &aws_sdk_s3::error::SdkError<E>) -> bool {
    e.raw_response()
        .is_some_and(|r| matches!(r.status().as_u16(), 412 | 409))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_location_is_a_bucket_and_a_prefix() {
        let l = Location::parse("s3://team-state/cairn/prod/").unwrap();
        assert_eq!(l.bucket, "team-state");
        assert_eq!(l.key("dev/lock.json"), "cairn/prod/dev/lock.json");
        let root = Location::parse("s3://team-state").unwrap();
        assert_eq!(root.key("dev/lock.json"), "dev/lock.json");
        assert_eq!(Location::parse("s3:///x"), None);
        assert_eq!(Location::parse("/tmp/state.db"), None);
    }
}
