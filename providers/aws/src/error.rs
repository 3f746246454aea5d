//! Turning SDK errors into provider errors, and telling "not found" from real failures.

use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use cairn::{ErrorKind, ProviderError};

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
    kind_of(code(e).as_deref(), false) == ErrorKind::NotFound
}

/// What kind of failure an error code (and whether a response came at all) means. Classified
/// here once, from the code the service sent, never from message text.
pub(crate) fn kind_of(code: Option<&str>, no_response: bool) -> ErrorKind {
    // Throttling that outlasted the SDK's retries, and failures on AWS's side.
    const RETRYABLE: &[&str] = &[
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestLimitExceeded",
        "TooManyRequestsException",
        "RequestThrottled",
        "RequestThrottledException",
        "SlowDown",
        "InternalError",
        "InternalFailure",
        "InternalServerError",
        "ServerException",
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "Unavailable",
    ];
    const INVALID: &[&str] = &[
        "ValidationError",
        "ValidationException",
        "MalformedPolicyDocument",
        "MalformedPolicyDocumentException",
        "MissingParameter",
        "UnknownParameter",
    ];
    if no_response {
        return ErrorKind::Retryable;
    }
    let Some(code) = code else {
        return ErrorKind::Other;
    };
    // Every service spells it with "NotFound" (`InvalidVpcID.NotFound`,
    // `RepositoryNotFoundException`, `ListenerNotFound`) except IAM; a taken name with
    // "AlreadyExists" (`EntityAlreadyExists`) or "Duplicate" (`InvalidGroup.Duplicate`,
    // `DuplicateLoadBalancerName`) or, in Secrets Manager, `ResourceExistsException`. Both
    // before "Invalid…", which prefixes some of them.
    if code.contains("NotFound") || code == "NoSuchEntity" {
        ErrorKind::NotFound
    } else if code.contains("AlreadyExists")
        || code.contains("Duplicate")
        || code == "ResourceExistsException"
    {
        ErrorKind::Conflict
    } else if RETRYABLE.contains(&code) {
        ErrorKind::Retryable
    } else if code.starts_with("Invalid") || INVALID.contains(&code) {
        ErrorKind::Invalid
    } else {
        ErrorKind::Other
    }
}

/// The kind of an SDK error: no response at all (the connection failed or timed out once the
/// request could have been sent) is retryable, and the call may have been done.
pub(crate) fn classify<E, R>(e: &SdkError<E, R>) -> ErrorKind
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    let no_response = matches!(
        e,
        SdkError::DispatchFailure(_) | SdkError::ResponseError(_) | SdkError::TimeoutError(_)
    );
    kind_of(code(e).as_deref(), no_response)
}

/// A provider error for SDK error `e` from `call`: its kind, its code and its message.
fn convert<E, R>(call: &str, e: &SdkError<E, R>) -> ProviderError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    let (code, message) = describe(e);
    ProviderError::new(format!("{call}: {message}"))
        .kind(classify(e))
        .code(code)
}

/// Converts an SDK error, naming the call that failed.
pub(crate) fn aws<E, R>(call: &str) -> impl FnOnce(SdkError<E, R>) -> ProviderError + '_
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    move |e| convert(call, &e)
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
    move |e| convert(call, &e).property(property)
}

/// Inputs that do not match the resource type's schema.
pub(crate) fn bad_inputs(ty: &str, e: serde_json::Error) -> ProviderError {
    ProviderError::new(format!("inputs do not match {ty}: {e}")).kind(ErrorKind::Invalid)
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
    match r {
        Err(e) if is_not_found(&e) => Ok(()),
        Err(e) => Err(aws(call)(e)),
        Ok(_) => Ok(()),
    }
}

#[cfg(test)]
mod tests;
