//! What each AWS service accepts as a resource name, for the names Cairn picks when a program
//! leaves one unset (`<resource name>-<suffix>`, see `cairn::UniqueKey`). From each service's
//! API reference: the longest name and the characters allowed besides letters and digits.

use cairn::NameRule;

const fn rule(max_len: usize, punctuation: &'static str) -> NameRule {
    NameRule {
        max_len,
        punctuation,
        lowercase: false,
        refused_prefixes: &[],
    }
}

/// `CreateSecurityGroup`: 255 characters, `a-zA-Z0-9 ._-:/()#,@[]+=&;{}!$*`, not `sg-…`.
pub(crate) const SECURITY_GROUP: NameRule = NameRule {
    refused_prefixes: &["sg-"],
    ..rule(255, "._-:/()#,@[]+=&;{}!$*")
};

/// ELBv2 load balancers: 32 characters, letters, digits and hyphens, not `internal-…`.
pub(crate) const LOAD_BALANCER: NameRule = NameRule {
    refused_prefixes: &["internal-"],
    ..rule(32, "-")
};

/// ELBv2 target groups: 32 characters, letters, digits and hyphens.
pub(crate) const TARGET_GROUP: NameRule = rule(32, "-");

/// IAM roles: 64 characters of `\w+=,.@-`.
pub(crate) const IAM_ROLE: NameRule = rule(64, "_+=,.@-");

/// IAM inline policies and instance profiles: 128 characters of `\w+=,.@-`.
pub(crate) const IAM_NAME: NameRule = rule(128, "_+=,.@-");

/// ECR repositories: 256 characters, lower case, `._-/` between letters and digits.
pub(crate) const REPOSITORY: NameRule = NameRule {
    lowercase: true,
    ..rule(256, "._-/")
};

/// ECS clusters and services: 255 characters, letters, digits, hyphens and underscores.
pub(crate) const ECS: NameRule = rule(255, "-_");

/// CloudWatch Logs groups: 512 characters of `._-/#`.
pub(crate) const LOG_GROUP: NameRule = rule(512, "._-/#");

/// S3 buckets: 63 characters, lower case, letters, digits, `.` and `-`, not `xn--…` nor
/// `sthree-…`.
pub(crate) const BUCKET: NameRule = NameRule {
    lowercase: true,
    refused_prefixes: &["xn--", "sthree-"],
    ..rule(63, "-")
};

/// Secrets Manager secrets: 512 characters of `/_+=.@-`.
pub(crate) const SECRET: NameRule = rule(512, "/_+=.@-");

/// SSM parameters: 1011 characters of `._-/`, not beginning with `aws` or `ssm`.
pub(crate) const SSM_PARAMETER: NameRule = NameRule {
    refused_prefixes: &["aws", "ssm", "/aws", "/ssm"],
    ..rule(1011, "._-/")
};

/// RDS subnet groups: 255 characters, lower case, letters, digits and `._-`.
pub(crate) const RDS: NameRule = NameRule {
    lowercase: true,
    ..rule(255, "._-")
};

/// RDS instances: 63 characters, lower case, letters, digits and hyphens.
pub(crate) const RDS_INSTANCE: NameRule = NameRule {
    lowercase: true,
    ..rule(63, "-")
};
