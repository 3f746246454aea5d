//! IAM resources: `aws:iam/Role`, `aws:iam/RolePolicy` (inline), `aws:iam/RolePolicyAttachment`
//! (managed) and `aws:iam/InstanceProfile`.

use async_trait::async_trait;
use cairn::{CheckFailure, PropMap, ProviderError, ResourceContext};
use serde_json::Value;

use crate::config::Clients;
use crate::error::{aws_on, found, gone};
use crate::names;
use crate::resource::{AwsResource, by_record, check_policy};
use crate::tagging::Tagging;
use crate::{AwsProvider, Tags, tags};

/// An IAM role: an identity that a service (ECS, EC2) or another account assumes, with the
/// permissions of its policies ([`RolePolicy`], [`RolePolicyAttachment`]). IAM is global:
/// the role is the account's, whatever the provider's region.
///
/// ```no_run
/// # fn program(stack: &mut cairn::Stack) {
/// use cairn_aws::iam::{Role, RoleArgs, RolePolicyAttachment, RolePolicyAttachmentArgs};
/// let execution = Role::new(stack, "task-execution", RoleArgs::builder()
///     .assume_role_policy(serde_json::json!({
///         "Version": "2012-10-17",
///         "Statement": [{
///             "Effect": "Allow",
///             "Principal": { "Service": "ecs-tasks.amazonaws.com" },
///             "Action": "sts:AssumeRole",
///         }]
///     }))
///     .build());
/// RolePolicyAttachment::new(stack, "task-execution-policy", RolePolicyAttachmentArgs::builder()
///     .role(execution.name())
///     .policy_arn("arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy")
///     .build());
/// # }
/// ```
#[cairn::resource(token = "aws:iam/Role", provider = AwsProvider)]
#[api(calls(CreateRole, GetRole, UpdateAssumeRolePolicy, UpdateRole, DeleteRole))]
pub struct Role {
    /// The role's name.
    #[replace]
    #[unique(name = names::IAM_ROLE)]
    #[api(name = "RoleName", values = "up to 64 letters, digits and `+=,.@_-`")]
    pub name: String,
    /// Who may assume the role (a JSON policy document, compared structurally).
    #[api(
        name = "AssumeRolePolicyDocument",
        values = "an IAM trust policy document (checked at preview)"
    )]
    pub assume_role_policy: Value,
    /// What the role is for.
    #[api(default = "none")]
    pub description: Option<String>,
    /// The role's path (`/service/` …), part of its ARN.
    #[replace]
    #[api(default = "`/`", values = "`/`, or text that starts and ends with `/`")]
    pub path: Option<String>,
    #[tags]
    pub tags: Option<Tags>,
    #[output]
    pub name: String,
    #[output]
    pub arn: String,
    #[output]
    pub role_id: String,
}

/// An inline policy of a role: permissions that live and die with it.
///
/// ```no_run
/// # fn program(stack: &mut cairn::Stack, role: &cairn_aws::iam::Role, bucket: &cairn_aws::s3::Bucket) {
/// use cairn_aws::iam::{RolePolicy, RolePolicyArgs};
/// RolePolicy::new(stack, "read-uploads", RolePolicyArgs::builder()
///     .role(role.name())
///     .policy(cairn::json!({
///         "Version": "2012-10-17",
///         "Statement": [{
///             "Effect": "Allow",
///             "Action": "s3:GetObject",
///             "Resource": cairn::format!("{}/*", bucket.arn()),
///         }]
///     }))
///     .build());
/// # }
/// ```
#[cairn::resource(token = "aws:iam/RolePolicy", provider = AwsProvider)]
#[api(calls(PutRolePolicy, GetRolePolicy, DeleteRolePolicy))]
pub struct RolePolicy {
    /// The role's name.
    #[replace]
    #[api(name = "RoleName")]
    pub role: String,
    /// The policy's name.
    #[replace]
    #[unique(within(role), name = names::IAM_NAME)]
    #[api(
        name = "PolicyName",
        values = "up to 128 letters, digits and `+=,.@_-`"
    )]
    pub name: String,
    /// The permissions (a JSON policy document, compared structurally).
    #[api(
        name = "PolicyDocument",
        values = "an IAM policy document (checked at preview)"
    )]
    pub policy: Value,
    #[output]
    pub id: String,
}

/// A managed policy (AWS's or the account's) attached to a role. See [`Role`] for an
/// example.
#[cairn::resource(token = "aws:iam/RolePolicyAttachment", provider = AwsProvider)]
#[api(calls(AttachRolePolicy, ListAttachedRolePolicies, DetachRolePolicy))]
pub struct RolePolicyAttachment {
    /// The role's name.
    #[replace]
    #[api(name = "RoleName")]
    pub role: String,
    /// The managed policy's ARN.
    #[replace]
    #[unique(within(role))]
    pub policy_arn: String,
    #[output]
    pub id: String,
}

/// An instance profile carrying one role, for EC2 instances
/// ([`InstanceArgs::iam_instance_profile`](crate::ec2::InstanceArgs)).
///
/// ```no_run
/// # fn program(stack: &mut cairn::Stack, role: &cairn_aws::iam::Role) {
/// use cairn_aws::iam::{InstanceProfile, InstanceProfileArgs};
/// let profile = InstanceProfile::new(stack, "worker", InstanceProfileArgs::builder()
///     .role(role.name())
///     .build());
/// # }
/// ```
#[cairn::resource(token = "aws:iam/InstanceProfile", provider = AwsProvider)]
#[api(calls(
    CreateInstanceProfile,
    GetInstanceProfile,
    AddRoleToInstanceProfile,
    RemoveRoleFromInstanceProfile,
    DeleteInstanceProfile
))]
pub struct InstanceProfile {
    /// The profile's name.
    #[replace]
    #[unique(name = names::IAM_NAME)]
    #[api(
        name = "InstanceProfileName",
        values = "up to 128 letters, digits and `+=,.@_-`"
    )]
    pub name: String,
    /// The role's name (a profile carries one; changing it swaps the role in place).
    #[api(name = "RoleName")]
    pub role: String,
    #[output]
    pub name: String,
    #[output]
    pub arn: String,
}

/// IAM returns policy documents URL-encoded; parses either form.
fn parse_document(doc: &str) -> Value {
    if let Ok(v) = serde_json::from_str(doc) {
        return v;
    }
    let decoded = percent_encoding::percent_decode_str(doc).decode_utf8_lossy();
    serde_json::from_str(&decoded).unwrap_or(Value::Null)
}

fn iam_tags(t: &Tags) -> Vec<aws_sdk_iam::types::Tag> {
    t.iter()
        .filter_map(|(k, v)| {
            aws_sdk_iam::types::Tag::builder()
                .key(k)
                .value(v)
                .build()
                .ok()
        })
        .collect()
}

fn role_outputs(r: &aws_sdk_iam::types::Role) -> RoleOutputs {
    RoleOutputs {
        name: r.role_name().to_string(),
        arn: r.arn().to_string(),
        role_id: r.role_id().to_string(),
    }
}

#[async_trait]
impl AwsResource for Role {
    const TAGS: Tagging = Tagging::IamRole;

    fn check(inputs: &PropMap) -> Vec<CheckFailure> {
        check_policy(inputs, "assume_role_policy")
    }

    async fn create(
        c: &Clients,
        ctx: &ResourceContext,
        _token: &str,
        i: &RoleInputs,
    ) -> Result<(String, RoleOutputs), ProviderError> {
        let out = c
            .iam
            .create_role()
            .role_name(&i.name)
            .assume_role_policy_document(i.assume_role_policy.to_string())
            .set_description(i.description.clone())
            .set_path(i.path.clone())
            .set_tags(Some(iam_tags(&tags::with_cairn(ctx, i.tags.as_ref()))))
            .send()
            .await
            .map_err(aws_on("CreateRole", "assume_role_policy"))?;
        let role = out
            .role()
            .ok_or_else(|| ProviderError::new("CreateRole returned no role"))?;
        Ok((i.name.clone(), role_outputs(role)))
    }

    fn id_from_inputs(i: &Self::Inputs) -> Option<String> {
        Some(i.name.clone())
    }

    async fn read(
        c: &Clients,
        id: &str,
        _i: Option<&RoleInputs>,
    ) -> Result<Option<(RoleInputs, RoleOutputs)>, ProviderError> {
        let Some(out) = found(c.iam.get_role().role_name(id).send().await, "GetRole")? else {
            return Ok(None);
        };
        let Some(r) = out.role() else {
            return Ok(None);
        };
        let now = RoleInputs {
            name: r.role_name().to_string(),
            assume_role_policy: r
                .assume_role_policy_document()
                .map(parse_document)
                .unwrap_or(Value::Null),
            description: r.description().map(str::to_string),
            path: Some(r.path().to_string()),
            tags: None,
        };
        Ok(Some((now, role_outputs(r))))
    }

    async fn update(
        c: &Clients,
        _ctx: &ResourceContext,
        id: &str,
        old: &RoleInputs,
        new: &RoleInputs,
    ) -> Result<RoleOutputs, ProviderError> {
        if old.assume_role_policy != new.assume_role_policy {
            c.iam
                .update_assume_role_policy()
                .role_name(id)
                .policy_document(new.assume_role_policy.to_string())
                .send()
                .await
                .map_err(aws_on("UpdateAssumeRolePolicy", "assume_role_policy"))?;
        }
        if old.description != new.description {
            c.iam
                .update_role()
                .role_name(id)
                .description(new.description.clone().unwrap_or_default())
                .send()
                .await
                .map_err(aws_on("UpdateRole", "description"))?;
        }
        let (_, o) = Self::read(c, id, Some(new))
            .await?
            .ok_or_else(|| ProviderError::new(format!("role {id} disappeared")))?;
        Ok(o)
    }

    async fn delete(
        c: &Clients,
        id: &str,
        _i: &RoleInputs,
        _o: &RoleOutputs,
    ) -> Result<(), ProviderError> {
        gone(c.iam.delete_role().role_name(id).send().await, "DeleteRole")
    }
}

async fn put_role_policy(c: &Clients, i: &RolePolicyInputs) -> Result<(), ProviderError> {
    c.iam
        .put_role_policy()
        .role_name(&i.role)
        .policy_name(&i.name)
        .policy_document(i.policy.to_string())
        .send()
        .await
        .map_err(aws_on("PutRolePolicy", "policy"))?;
    Ok(())
}

#[async_trait]
impl AwsResource for RolePolicy {
    const LOOKUP_BY_ID: bool = false;
    const IMPORT_ID: Option<&'static str> = Some("`<role name>:<policy name>`");

    fn seed(id: &str) -> Option<RolePolicyInputs> {
        let (role, name) = id.split_once(':')?;
        Some(RolePolicyInputs {
            role: role.to_string(),
            name: name.to_string(),
            policy: Value::Null,
        })
    }

    fn check(inputs: &PropMap) -> Vec<CheckFailure> {
        check_policy(inputs, "policy")
    }

    async fn create(
        c: &Clients,
        _ctx: &ResourceContext,
        _token: &str,
        i: &RolePolicyInputs,
    ) -> Result<(String, RolePolicyOutputs), ProviderError> {
        put_role_policy(c, i).await?;
        let id = format!("{}:{}", i.role, i.name);
        Ok((id.clone(), RolePolicyOutputs { id }))
    }

    fn id_from_inputs(i: &Self::Inputs) -> Option<String> {
        Some(format!("{}:{}", i.role, i.name))
    }

    async fn read(
        c: &Clients,
        id: &str,
        i: Option<&RolePolicyInputs>,
    ) -> Result<Option<(RolePolicyInputs, RolePolicyOutputs)>, ProviderError> {
        let i = by_record(i, Self::TYPE)?;
        let r = c
            .iam
            .get_role_policy()
            .role_name(&i.role)
            .policy_name(&i.name)
            .send()
            .await;
        let Some(out) = found(r, "GetRolePolicy")? else {
            return Ok(None);
        };
        let now = RolePolicyInputs {
            policy: parse_document(out.policy_document()),
            ..i.clone()
        };
        Ok(Some((now, RolePolicyOutputs { id: id.to_string() })))
    }

    async fn update(
        c: &Clients,
        _ctx: &ResourceContext,
        id: &str,
        _old: &RolePolicyInputs,
        new: &RolePolicyInputs,
    ) -> Result<RolePolicyOutputs, ProviderError> {
        put_role_policy(c, new).await?;
        Ok(RolePolicyOutputs { id: id.to_string() })
    }

    async fn delete(
        c: &Clients,
        _id: &str,
        i: &RolePolicyInputs,
        _o: &RolePolicyOutputs,
    ) -> Result<(), ProviderError> {
        let r = c
            .iam
            .delete_role_policy()
            .role_name(&i.role)
            .policy_name(&i.name)
            .send()
            .await;
        gone(r, "DeleteRolePolicy")
    }
}

#[async_trait]
impl AwsResource for RolePolicyAttachment {
    const LOOKUP_BY_ID: bool = false;
    const IMPORT_ID: Option<&'static str> = Some("`<role name>/<policy ARN>`");

    fn seed(id: &str) -> Option<RolePolicyAttachmentInputs> {
        let (role, policy_arn) = id.split_once('/')?;
        Some(RolePolicyAttachmentInputs {
            role: role.to_string(),
            policy_arn: policy_arn.to_string(),
        })
    }

    async fn create(
        c: &Clients,
        _ctx: &ResourceContext,
        _token: &str,
        i: &RolePolicyAttachmentInputs,
    ) -> Result<(String, RolePolicyAttachmentOutputs), ProviderError> {
        c.iam
            .attach_role_policy()
            .role_name(&i.role)
            .policy_arn(&i.policy_arn)
            .send()
            .await
            .map_err(aws_on("AttachRolePolicy", "policy_arn"))?;
        let id = format!("{}/{}", i.role, i.policy_arn);
        Ok((id.clone(), RolePolicyAttachmentOutputs { id }))
    }

    fn id_from_inputs(i: &Self::Inputs) -> Option<String> {
        Some(format!("{}/{}", i.role, i.policy_arn))
    }

    async fn read(
        c: &Clients,
        id: &str,
        i: Option<&RolePolicyAttachmentInputs>,
    ) -> Result<Option<(RolePolicyAttachmentInputs, RolePolicyAttachmentOutputs)>, ProviderError>
    {
        let i = by_record(i, Self::TYPE)?;
        let r = c
            .iam
            .list_attached_role_policies()
            .role_name(&i.role)
            .send()
            .await;
        let Some(out) = found(r, "ListAttachedRolePolicies")? else {
            return Ok(None);
        };
        let attached = out
            .attached_policies()
            .iter()
            .any(|p| p.policy_arn() == Some(i.policy_arn.as_str()));
        let id = id.to_string();
        Ok(attached.then(|| (i.clone(), RolePolicyAttachmentOutputs { id })))
    }

    async fn delete(
        c: &Clients,
        _id: &str,
        i: &RolePolicyAttachmentInputs,
        _o: &RolePolicyAttachmentOutputs,
    ) -> Result<(), ProviderError> {
        let r = c
            .iam
            .detach_role_policy()
            .role_name(&i.role)
            .policy_arn(&i.policy_arn)
            .send()
            .await;
        gone(r, "DetachRolePolicy")
    }
}

async fn add_role(c: &Clients, profile: &str, role: &str) -> Result<(), ProviderError> {
    c.iam
        .add_role_to_instance_profile()
        .instance_profile_name(profile)
        .role_name(role)
        .send()
        .await
        .map_err(aws_on("AddRoleToInstanceProfile", "role"))?;
    Ok(())
}

async fn remove_role(c: &Clients, profile: &str, role: &str) -> Result<(), ProviderError> {
    let r = c
        .iam
        .remove_role_from_instance_profile()
        .instance_profile_name(profile)
        .role_name(role)
        .send()
        .await;
    gone(r, "RemoveRoleFromInstanceProfile")
}

#[async_trait]
impl AwsResource for InstanceProfile {
    async fn create(
        c: &Clients,
        _ctx: &ResourceContext,
        _token: &str,
        i: &InstanceProfileInputs,
    ) -> Result<(String, InstanceProfileOutputs), ProviderError> {
        let out = c
            .iam
            .create_instance_profile()
            .instance_profile_name(&i.name)
            .send()
            .await
            .map_err(aws_on("CreateInstanceProfile", "name"))?;
        add_role(c, &i.name, &i.role).await?;
        let arn = out
            .instance_profile()
            .map(|p| p.arn().to_string())
            .unwrap_or_default();
        let name = i.name.clone();
        Ok((i.name.clone(), InstanceProfileOutputs { name, arn }))
    }

    fn id_from_inputs(i: &Self::Inputs) -> Option<String> {
        Some(i.name.clone())
    }

    async fn read(
        c: &Clients,
        id: &str,
        _i: Option<&InstanceProfileInputs>,
    ) -> Result<Option<(InstanceProfileInputs, InstanceProfileOutputs)>, ProviderError> {
        let r = c
            .iam
            .get_instance_profile()
            .instance_profile_name(id)
            .send()
            .await;
        let Some(out) = found(r, "GetInstanceProfile")? else {
            return Ok(None);
        };
        let Some(p) = out.instance_profile() else {
            return Ok(None);
        };
        let now = InstanceProfileInputs {
            name: p.instance_profile_name().to_string(),
            role: p
                .roles()
                .first()
                .map(|r| r.role_name().to_string())
                .unwrap_or_default(),
        };
        let outputs = InstanceProfileOutputs {
            name: id.to_string(),
            arn: p.arn().to_string(),
        };
        Ok(Some((now, outputs)))
    }

    async fn update(
        c: &Clients,
        _ctx: &ResourceContext,
        id: &str,
        old: &InstanceProfileInputs,
        new: &InstanceProfileInputs,
    ) -> Result<InstanceProfileOutputs, ProviderError> {
        remove_role(c, id, &old.role).await?;
        add_role(c, id, &new.role).await?;
        let (_, o) = Self::read(c, id, Some(new))
            .await?
            .ok_or_else(|| ProviderError::new(format!("instance profile {id} disappeared")))?;
        Ok(o)
    }

    async fn delete(
        c: &Clients,
        id: &str,
        i: &InstanceProfileInputs,
        _o: &InstanceProfileOutputs,
    ) -> Result<(), ProviderError> {
        remove_role(c, id, &i.role).await?;
        gone(
            c.iam
                .delete_instance_profile()
                .instance_profile_name(id)
                .send()
                .await,
            "DeleteInstanceProfile",
        )
    }
}
