//! Turning SDK errors into provider errors, and telling "not found" from real failures.

use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use cairn::ProviderError;

/// The error code and message of an SDK error, or its full chain for transport failures.
pub(crate) fn describe<E, R>(e: &SdkError<E, R>) -> (Option<String>, String)
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    match e.as_service_error() {
        // An error the service sent but without a code or message (an empty or garbled
        // body) says nothing by itself: show the whole chain, status included.
        Some(se) if se.code().is_none() && se.message().is_none() => (
            None,
            aws_smithy_types::error::display::DisplayErrorContext(e).to_string(),
        ),
        Some(se) => (
            se.code().map(str::to_string),
            format!(
                "{}: {}",
                se.code().unwrap_or("error"),
                se.message().unwrap_or("(no message)")
            ),
        ),
        None => (
            None,
            aws_smithy_types::error::display::DisplayErrorContext(e).to_string(),
        ),
    }
}

/// The error code of an SDK error, if the service sent one.
pub(crate) fn code<E, R>(e: &SdkError<E, R>) -> Option<String>
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    describe(e).0
}

/// True when the error says the thing does not exist.
pub(crate) fn is_not_found<E, R>(e: &SdkError<E, R>) -> bool
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    // Every service spells it with "NotFound" (`InvalidVpcID.NotFound`,
    // `RepositoryNotFoundException`, `ListenerNotFound`) except IAM.
    code(e).is_some_and(|c| c.contains("NotFound") || c == "NoSuchEntity")
}

/// Converts an SDK error, naming the call that failed.
pub(crate) fn aws<E, R>(call: &str) -> impl FnOnce(SdkError<E, R>) -> ProviderError + '_
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    move |e| {
        mark(
            ProviderError::new(format!("{call}: {}", describe(&e).1)),
            &e,
        )
    }
}

/// True when the error says the name or thing is taken (`EntityAlreadyExists`,
/// `RepositoryAlreadyExistsException`, `InvalidGroup.Duplicate`, `DuplicateLoadBalancerName`).
fn is_conflict<E, R>(e: &SdkError<E, R>) -> bool
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    code(e).is_some_and(|c| c.contains("AlreadyExists") || c.contains("Duplicate"))
}

/// True when the call may succeed if tried again, and may have been done already: no response
/// (the connection failed or timed out once the request could have been sent), a server-side
/// failure, or throttling that outlasted the SDK's retries.
fn is_transient<E, R>(e: &SdkError<E, R>) -> bool
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    const CODES: &[&str] = &[
        "Throttling",
        "ThrottlingException",
        "RequestLimitExceeded",
        "TooManyRequestsException",
        "RequestThrottled",
        "InternalError",
        "InternalFailure",
        "ServiceUnavailable",
        "Unavailable",
    ];
    match e {
        SdkError::DispatchFailure(_) | SdkError::ResponseError(_) | SdkError::TimeoutError(_) => {
            true
        }
        _ => code(e).is_some_and(|c| CODES.contains(&c.as_str())),
    }
}

/// Marks `p` with what `e` says about the call: a conflict, or a transient failure.
pub(crate) fn mark<E, R>(p: ProviderError, e: &SdkError<E, R>) -> ProviderError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    if is_conflict(e) {
        p.conflict()
    } else if is_transient(e) {
        p.transient()
    } else {
        p
    }
}

/// Converts an SDK error about one input property.
pub(crate) fn aws_on<'a, E, R>(
    call: &'a str,
    property: &'a str,
) -> impl FnOnce(SdkError<E, R>) -> ProviderError + 'a
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    move |e| {
        let p = ProviderError::on_property(property, format!("{call}: {}", describe(&e).1));
        mark(p, &e)
    }
}

/// Inputs that do not match the resource type's schema.
pub(crate) fn bad_inputs(ty: &str, e: serde_json::Error) -> ProviderError {
    ProviderError::new(format!("inputs do not match {ty}: {e}"))
}

/// A read's result with "not found" as `None`.
pub(crate) fn found<T, E, R>(
    r: Result<T, SdkError<E, R>>,
    call: &str,
) -> Result<Option<T>, ProviderError>
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    match r {
        Err(e) if is_not_found(&e) => Ok(None),
        r => r.map(Some).map_err(aws(call)),
    }
}

/// A delete's result with "not found" as success: deleting what is gone succeeds.
pub(crate) fn gone<T, E, R>(r: Result<T, SdkError<E, R>>, call: &str) -> Result<(), ProviderError>
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    gone_coded(r, call).map_err(|(_, e)| e)
}

/// [`gone`], keeping the error code for [`crate::wait::retry_on`].
pub(crate) fn gone_coded<T, E, R>(
    r: Result<T, SdkError<E, R>>,
    call: &str,
) -> Result<(), (Option<String>, ProviderError)>
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    match r {
        Err(e) if is_not_found(&e) => Ok(()),
        Err(e) => Err((code(&e), aws(call)(e))),
        Ok(_) => Ok(()),
    }
}
