//! Error classification from the errors AWS (and moto) send: each case is a code and message
//! recorded from a real response, wrapped as the SDK wraps it.

use aws_sdk_ec2::operation::describe_vpcs::DescribeVpcsError;
use aws_smithy_runtime_api::client::result::{ConnectorError, SdkError};
use aws_smithy_runtime_api::http::{Response, StatusCode};
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::error::ErrorMetadata;

use super::*;

type Error = SdkError<DescribeVpcsError, Response>;

fn service(status: u16, code: &str, message: &str) -> Error {
    let meta = ErrorMetadata::builder().code(code).message(message).build();
    let body = format!(
        "<Response><Errors><Error><Code>{code}</Code><Message>{message}</Message></Error></Errors></Response>"
    );
    let raw = Response::new(StatusCode::try_from(status).unwrap(), SdkBody::from(body));
    SdkError::service_error(DescribeVpcsError::generic(meta), raw)
}

#[test]
fn each_recorded_error_has_the_kind_its_code_says() {
    let cases = [
        (
            400,
            "InvalidVpcID.NotFound",
            "The vpc ID 'vpc-1' does not exist",
            ErrorKind::NotFound,
        ),
        (
            404,
            "NoSuchEntity",
            "The role with name web cannot be found.",
            ErrorKind::NotFound,
        ),
        (
            400,
            "RepositoryNotFoundException",
            "The repository with name 'x' does not exist",
            ErrorKind::NotFound,
        ),
        (
            400,
            "ResourceNotFoundException",
            "The specified log group does not exist.",
            ErrorKind::NotFound,
        ),
        (
            400,
            "ClusterNotFoundException",
            "Cluster not found.",
            ErrorKind::NotFound,
        ),
        (
            409,
            "EntityAlreadyExists",
            "Role with name web already exists.",
            ErrorKind::Conflict,
        ),
        (
            400,
            "InvalidGroup.Duplicate",
            "The security group 'web' already exists",
            ErrorKind::Conflict,
        ),
        (
            400,
            "DuplicateLoadBalancerName",
            "A load balancer with the same name 'web' exists",
            ErrorKind::Conflict,
        ),
        (
            400,
            "ResourceAlreadyExistsException",
            "The specified log group already exists",
            ErrorKind::Conflict,
        ),
        (
            400,
            "ResourceExistsException",
            "The operation failed because the secret web already exists.",
            ErrorKind::Conflict,
        ),
        (
            400,
            "ParameterAlreadyExists",
            "The parameter already exists.",
            ErrorKind::Conflict,
        ),
        (
            400,
            "RequestLimitExceeded",
            "Request limit exceeded.",
            ErrorKind::Retryable,
        ),
        (400, "Throttling", "Rate exceeded", ErrorKind::Retryable),
        (
            400,
            "ThrottlingException",
            "Rate exceeded",
            ErrorKind::Retryable,
        ),
        (
            503,
            "ServiceUnavailable",
            "Service is unavailable",
            ErrorKind::Retryable,
        ),
        (
            500,
            "InternalError",
            "An internal error has occurred",
            ErrorKind::Retryable,
        ),
        (
            400,
            "InvalidParameterValue",
            "Value (web!) for parameter GroupName is invalid.",
            ErrorKind::Invalid,
        ),
        (
            400,
            "InvalidSubnet.Range",
            "The CIDR '10.9.0.0/24' is invalid.",
            ErrorKind::Invalid,
        ),
        (
            400,
            "ValidationError",
            "1 validation error detected",
            ErrorKind::Invalid,
        ),
        (
            400,
            "MalformedPolicyDocument",
            "Syntax errors in policy.",
            ErrorKind::Invalid,
        ),
        (
            403,
            "UnauthorizedOperation",
            "You are not authorized to perform this operation.",
            ErrorKind::Other,
        ),
        (
            400,
            "DependencyViolation",
            "resource sg-1 has a dependent object",
            ErrorKind::Other,
        ),
    ];
    for (status, code, message, kind) in cases {
        let e = service(status, code, message);
        assert_eq!(classify(&e), kind, "{code}");
        let p = aws("DescribeVpcs")(e);
        assert_eq!((p.kind, p.code.as_deref()), (kind, Some(code)), "{code}");
        assert_eq!(p.message, format!("DescribeVpcs: {code}: {message}"));
    }
}

#[test]
fn no_response_at_all_is_retryable_and_carries_no_code() {
    let io = std::io::Error::new(std::io::ErrorKind::ConnectionReset, "connection reset");
    let e: Error = SdkError::dispatch_failure(ConnectorError::io(Box::new(io)));
    assert_eq!(classify(&e), ErrorKind::Retryable);
    let e: Error = SdkError::timeout_error("timed out after 3.1s");
    let p = aws_on("CreateVpc", "cidr_block")(e);
    assert_eq!(p.kind, ErrorKind::Retryable);
    assert_eq!((p.code, p.property.as_deref()), (None, Some("cidr_block")));
}

#[test]
// The SDK's own error type, as its calls return it.
#[allow(clippy::result_large_err)]
fn not_found_is_none_for_a_read_and_success_for_a_delete() {
    let missing = || Err::<(), _>(service(400, "InvalidVpcID.NotFound", "gone"));
    assert!(found(missing(), "DescribeVpcs").unwrap().is_none());
    assert!(gone(missing(), "DeleteVpc").is_ok());
    let busy = Err::<(), _>(service(400, "DependencyViolation", "has dependents"));
    let e = gone(busy, "DeleteVpc").unwrap_err();
    assert_eq!(e.code.as_deref(), Some("DependencyViolation"));
}

#[test]
fn a_service_error_without_code_or_message_shows_the_whole_response() {
    let raw = Response::new(StatusCode::try_from(502).unwrap(), SdkBody::from("<html>"));
    let e: Error = SdkError::service_error(
        DescribeVpcsError::generic(ErrorMetadata::builder().build()),
        raw,
    );
    assert_eq!(classify(&e), ErrorKind::Other);
    assert!(
        describe(&e).1.contains("unhandled error"),
        "{}",
        describe(&e).1
    );
}
