//! Endpoint overrides: every AWS call, credentials included, goes where an override says, so
//! whoever serves it reads every request and can answer with ids of real resources. An override
//! therefore comes only from the person running Cairn (`AWS_ENDPOINT_URL` and the SDK's
//! per-service `AWS_ENDPOINT_URL_<SERVICE>`, a profile's `endpoint_url`, or code), never from
//! the committed stack configuration; plain HTTP is refused unless the host is this machine;
//! and every override is shown before a plan.

use std::net::IpAddr;

/// The configuration key that used to set an override, ignored now (with a warning).
pub(crate) const IGNORED_CONFIG_KEY: &str = "aws:endpointUrl";

/// Refuses an override that would send calls in clear text off this machine.
pub(crate) fn check(origin: &str, url: &str) -> Result<(), String> {
    let Some((scheme, rest)) = url.split_once("://") else {
        return Err(format!("{origin}={url} is not a URL (it needs https://)"));
    };
    match scheme.to_ascii_lowercase().as_str() {
        "https" => Ok(()),
        "http" if is_loopback(host(rest)) => Ok(()),
        "http" => Err(format!(
            "{origin}={url} would send every AWS call, credentials included, in clear text to \
             another machine: plain HTTP is allowed only to this machine (127.0.0.1, ::1, \
             localhost); use https://"
        )),
        other => Err(format!(
            "{origin}={url}: '{other}' is not a scheme AWS is reached by (use https://)"
        )),
    }
}

/// The overrides in the environment, as (variable, value).
pub(crate) fn from_environment() -> Vec<(String, String)> {
    let mut found: Vec<(String, String)> = std::env::vars()
        .filter(|(k, v)| k.starts_with("AWS_ENDPOINT_URL") && !v.is_empty())
        .collect();
    found.sort();
    found
}

/// The host of the part of a URL after its scheme: no user, port or path.
fn host(rest: &str) -> &str {
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host_port = authority.rsplit('@').next().unwrap_or_default();
    match host_port.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or_default(),
        None => host_port.split(':').next().unwrap_or_default(),
    }
}

fn is_loopback(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_http_is_allowed_only_to_this_machine() {
        for ok in [
            "http://127.0.0.1:5000",
            "http://localhost:4566/",
            "http://[::1]:5000",
            "http://127.0.0.2",
            "https://vpce-123.ec2.us-east-2.vpce.amazonaws.com",
            "HTTPS://example.com",
        ] {
            assert_eq!(check("AWS_ENDPOINT_URL", ok), Ok(()), "{ok}");
        }
        for refused in [
            "http://example.com:4566",
            "http://127.0.0.1.evil.example:80",
            "http://127.0.0.1@evil.example",
            "http://10.0.0.5:5000",
            "ftp://127.0.0.1",
            "127.0.0.1:5000",
        ] {
            assert!(check("AWS_ENDPOINT_URL", refused).is_err(), "{refused}");
        }
    }

    #[test]
    fn the_refusal_names_the_variable_and_says_why() {
        let err = check("AWS_ENDPOINT_URL_EC2", "http://example.com").unwrap_err();
        assert!(err.starts_with("AWS_ENDPOINT_URL_EC2=http://example.com would send"));
        assert!(err.contains("clear text"));
    }
}
