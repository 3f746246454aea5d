//! IAM resources: `aws:iam/Role`, `aws:iam/RolePolicy` (inline), `aws:iam/RolePolicyAttachment`
//! (managed) and `aws:iam/InstanceProfile`.

use std::marker::PhantomData;

use async_trait::async_trait;
use cairn::{CheckFailure, Output, PropMap, ProviderError, ResourceContext, TypeSchema, UniqueKey};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::config::Clients;
use crate::error::{aws, aws_on, found, gone};
use crate::names;
use crate::resource::{AwsResource, Handler, Typed, check_policy};
use crate::{AwsProvider, Tags, tags};

pub(crate) fn handler(ty: &str) -> Option<&'static dyn Handler> {
    Some(match ty {
        RoleImpl::TYPE => &Typed::<RoleImpl>(PhantomData),
        RolePolicyImpl::TYPE => &Typed::<RolePolicyImpl>(PhantomData),
        AttachmentImpl::TYPE => &Typed::<AttachmentImpl>(PhantomData),
        InstanceProfileImpl::TYPE => &Typed::<InstanceProfileImpl>(PhantomData),
        _ => return None,
    })
}

cairn::args! {
    /// Arguments of a [`Role`].
    pub struct RoleArgs {
        /// Unique in the account. Left unset, Cairn names it `<resource name>-<random suffix>` and
        /// picks a new name for each replacement, so the new copy is created first.
        pub name: Option<Output<String>>,
        /// Who may assume the role (a JSON policy document, compared structurally).
        pub assume_role_policy: Output<Value>,
        pub description: Option<Output<String>>,
        /// The role's path (`/` by default, `/service/` …). Changing it replaces the role.
        pub path: Option<Output<String>>,
        pub tags: Option<Output<Tags>>,
    }
}

cairn::resource!(
    /// An IAM role.
    Role, RoleArgs, "aws:iam/Role", AwsProvider, { name: String, arn: String, role_id: String }
);

cairn::args! {
    /// Arguments of a [`RolePolicy`].
    pub struct RolePolicyArgs {
        pub role: Output<String>,
        /// Unique in its role. Left unset, Cairn names it `<resource name>-<random suffix>` and
        /// picks a new name for each replacement, so the new copy is created first.
        pub name: Option<Output<String>>,
        pub policy: Output<Value>,
    }
}

cairn::resource!(
    /// An inline policy of a role.
    RolePolicy, RolePolicyArgs, "aws:iam/RolePolicy", AwsProvider, { id: String }
);

cairn::args! {
    /// Arguments of a [`RolePolicyAttachment`].
    pub struct RolePolicyAttachmentArgs {
        pub role: Output<String>,
        pub policy_arn: Output<String>,
    }
}

cairn::resource!(
    /// A managed policy attached to a role.
    RolePolicyAttachment, RolePolicyAttachmentArgs, "aws:iam/RolePolicyAttachment", AwsProvider, { id: String }
);

cairn::args! {
    /// Arguments of an [`InstanceProfile`].
    pub struct InstanceProfileArgs {
        /// Unique in the account. Left unset, Cairn names it `<resource name>-<random suffix>` and
        /// picks a new name for each replacement, so the new copy is created first.
        pub name: Option<Output<String>>,
        pub role: Output<String>,
    }
}

cairn::resource!(
    /// An instance profile carrying one role, for EC2 instances.
    InstanceProfile, InstanceProfileArgs, "aws:iam/InstanceProfile", AwsProvider, { name: String, arn: String }
);

/// IAM returns policy documents URL-encoded; parses either form.
fn parse_document(doc: &str) -> Value {
    if let Ok(v) = serde_json::from_str(doc) {
        return v;
    }
    let decoded = percent_encoding::percent_decode_str(doc).decode_utf8_lossy();
    serde_json::from_str(&decoded).unwrap_or(Value::Null)
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct RoleInputs {
    name: String,
    assume_role_policy: Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    path: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    tags: Option<Tags>,
}

pub(crate) struct RoleImpl;

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

fn role_outputs(r: &aws_sdk_iam::types::Role) -> Value {
    json!({ "name": r.role_name(), "arn": r.arn(), "role_id": r.role_id() })
}

#[async_trait]
impl AwsResource for RoleImpl {
    const TYPE: &'static str = "aws:iam/Role";
    type Inputs = RoleInputs;

    fn schema() -> TypeSchema {
        TypeSchema {
            replace_on_changes: &["name", "path"],
            unique: &[UniqueKey {
                key: &["name"],
                within: &[],
                auto_name: Some(names::IAM_ROLE),
            }],
        }
    }

    fn check(inputs: &PropMap) -> Vec<CheckFailure> {
        check_policy(inputs, "assume_role_policy")
    }

    async fn create(
        c: &Clients,
        ctx: &ResourceContext,
        _token: &str,
        i: &RoleInputs,
    ) -> Result<(String, Value), ProviderError> {
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

    async fn cairn_tags(c: &Clients, id: &str) -> Result<Option<Tags>, ProviderError> {
        let out = c
            .iam
            .list_role_tags()
            .role_name(id)
            .send()
            .await
            .map_err(aws("ListRoleTags"))?;
        Ok(Some(
            out.tags()
                .iter()
                .map(|t| (t.key().to_string(), t.value().to_string()))
                .collect(),
        ))
    }

    fn id_from_inputs(i: &Self::Inputs) -> Option<String> {
        Some(i.name.clone())
    }

    async fn read(
        c: &Clients,
        id: &str,
        i: &RoleInputs,
    ) -> Result<Option<(RoleInputs, Value)>, ProviderError> {
        let Some(out) = found(c.iam.get_role().role_name(id).send().await, "GetRole")? else {
            return Ok(None);
        };
        let Some(r) = out.role() else {
            return Ok(None);
        };
        let observed = if i.tags.is_some() {
            c.iam
                .list_role_tags()
                .role_name(id)
                .send()
                .await
                .map_err(aws("ListRoleTags"))?
                .tags()
                .iter()
                .map(|t| (t.key().to_string(), t.value().to_string()))
                .collect()
        } else {
            Vec::new()
        };
        let now = RoleInputs {
            name: r.role_name().to_string(),
            assume_role_policy: r
                .assume_role_policy_document()
                .map(parse_document)
                .unwrap_or(Value::Null),
            description: i
                .description
                .as_ref()
                .map(|_| r.description().unwrap_or_default().to_string()),
            path: i.path.as_ref().map(|_| r.path().to_string()),
            tags: if i.tags.is_some() {
                tags::user_part(observed, i.tags.as_ref())
            } else {
                None
            },
        };
        Ok(Some((now, role_outputs(r))))
    }

    async fn update(
        c: &Clients,
        _ctx: &ResourceContext,
        id: &str,
        old: &RoleInputs,
        new: &RoleInputs,
    ) -> Result<Value, ProviderError> {
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
        let (set, remove) = tags::changes(old.tags.as_ref(), new.tags.as_ref());
        if !set.is_empty() {
            c.iam
                .tag_role()
                .role_name(id)
                .set_tags(Some(iam_tags(&set)))
                .send()
                .await
                .map_err(aws_on("TagRole", "tags"))?;
        }
        if !remove.is_empty() {
            c.iam
                .untag_role()
                .role_name(id)
                .set_tag_keys(Some(remove))
                .send()
                .await
                .map_err(aws_on("UntagRole", "tags"))?;
        }
        let (_, o) = Self::read(c, id, new)
            .await?
            .ok_or_else(|| ProviderError::new(format!("role {id} disappeared")))?;
        Ok(o)
    }

    async fn delete(
        c: &Clients,
        id: &str,
        _i: &RoleInputs,
        _o: &Value,
    ) -> Result<(), ProviderError> {
        gone(c.iam.delete_role().role_name(id).send().await, "DeleteRole")
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct RolePolicyInputs {
    role: String,
    name: String,
    policy: Value,
}

pub(crate) struct RolePolicyImpl;

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
impl AwsResource for RolePolicyImpl {
    const TYPE: &'static str = "aws:iam/RolePolicy";
    type Inputs = RolePolicyInputs;

    fn schema() -> TypeSchema {
        TypeSchema {
            replace_on_changes: &["role", "name"],
            unique: &[UniqueKey {
                key: &["name"],
                within: &["role"],
                auto_name: Some(names::IAM_NAME),
            }],
        }
    }

    fn check(inputs: &PropMap) -> Vec<CheckFailure> {
        check_policy(inputs, "policy")
    }

    async fn create(
        c: &Clients,
        _ctx: &ResourceContext,
        _token: &str,
        i: &RolePolicyInputs,
    ) -> Result<(String, Value), ProviderError> {
        put_role_policy(c, i).await?;
        let id = format!("{}:{}", i.role, i.name);
        Ok((id.clone(), json!({ "id": id })))
    }

    fn id_from_inputs(i: &Self::Inputs) -> Option<String> {
        Some(format!("{}:{}", i.role, i.name))
    }

    async fn read(
        c: &Clients,
        id: &str,
        i: &RolePolicyInputs,
    ) -> Result<Option<(RolePolicyInputs, Value)>, ProviderError> {
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
        Ok(Some((now, json!({ "id": id }))))
    }

    async fn update(
        c: &Clients,
        _ctx: &ResourceContext,
        id: &str,
        _old: &RolePolicyInputs,
        new: &RolePolicyInputs,
    ) -> Result<Value, ProviderError> {
        put_role_policy(c, new).await?;
        Ok(json!({ "id": id }))
    }

    async fn delete(
        c: &Clients,
        _id: &str,
        i: &RolePolicyInputs,
        _o: &Value,
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

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct AttachmentInputs {
    role: String,
    policy_arn: String,
}

pub(crate) struct AttachmentImpl;

#[async_trait]
impl AwsResource for AttachmentImpl {
    const TYPE: &'static str = "aws:iam/RolePolicyAttachment";
    type Inputs = AttachmentInputs;

    fn schema() -> TypeSchema {
        TypeSchema {
            replace_on_changes: &["role", "policy_arn"],
            unique: &[UniqueKey {
                key: &["policy_arn"],
                within: &["role"],
                auto_name: None,
            }],
        }
    }

    async fn create(
        c: &Clients,
        _ctx: &ResourceContext,
        _token: &str,
        i: &AttachmentInputs,
    ) -> Result<(String, Value), ProviderError> {
        c.iam
            .attach_role_policy()
            .role_name(&i.role)
            .policy_arn(&i.policy_arn)
            .send()
            .await
            .map_err(aws_on("AttachRolePolicy", "policy_arn"))?;
        let id = format!("{}/{}", i.role, i.policy_arn);
        Ok((id.clone(), json!({ "id": id })))
    }

    fn id_from_inputs(i: &Self::Inputs) -> Option<String> {
        Some(format!("{}/{}", i.role, i.policy_arn))
    }

    async fn read(
        c: &Clients,
        id: &str,
        i: &AttachmentInputs,
    ) -> Result<Option<(AttachmentInputs, Value)>, ProviderError> {
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
        Ok(attached.then(|| (i.clone(), json!({ "id": id }))))
    }

    async fn update(
        _c: &Clients,
        _ctx: &ResourceContext,
        id: &str,
        _old: &AttachmentInputs,
        _new: &AttachmentInputs,
    ) -> Result<Value, ProviderError> {
        Ok(json!({ "id": id }))
    }

    async fn delete(
        c: &Clients,
        _id: &str,
        i: &AttachmentInputs,
        _o: &Value,
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

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct InstanceProfileInputs {
    name: String,
    role: String,
}

pub(crate) struct InstanceProfileImpl;

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
impl AwsResource for InstanceProfileImpl {
    const TYPE: &'static str = "aws:iam/InstanceProfile";
    type Inputs = InstanceProfileInputs;

    fn schema() -> TypeSchema {
        TypeSchema {
            replace_on_changes: &["name"],
            unique: &[UniqueKey {
                key: &["name"],
                within: &[],
                auto_name: Some(names::IAM_NAME),
            }],
        }
    }

    async fn create(
        c: &Clients,
        _ctx: &ResourceContext,
        _token: &str,
        i: &InstanceProfileInputs,
    ) -> Result<(String, Value), ProviderError> {
        let out = c
            .iam
            .create_instance_profile()
            .instance_profile_name(&i.name)
            .send()
            .await
            .map_err(aws_on("CreateInstanceProfile", "name"))?;
        add_role(c, &i.name, &i.role).await?;
        let arn = out.instance_profile().map(|p| p.arn().to_string());
        Ok((i.name.clone(), json!({ "name": i.name, "arn": arn })))
    }

    fn id_from_inputs(i: &Self::Inputs) -> Option<String> {
        Some(i.name.clone())
    }

    async fn read(
        c: &Clients,
        id: &str,
        _i: &InstanceProfileInputs,
    ) -> Result<Option<(InstanceProfileInputs, Value)>, ProviderError> {
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
        Ok(Some((now, json!({ "name": id, "arn": p.arn() }))))
    }

    async fn update(
        c: &Clients,
        _ctx: &ResourceContext,
        id: &str,
        old: &InstanceProfileInputs,
        new: &InstanceProfileInputs,
    ) -> Result<Value, ProviderError> {
        remove_role(c, id, &old.role).await?;
        add_role(c, id, &new.role).await?;
        let (_, o) = Self::read(c, id, new)
            .await?
            .ok_or_else(|| ProviderError::new(format!("instance profile {id} disappeared")))?;
        Ok(o)
    }

    async fn delete(
        c: &Clients,
        id: &str,
        i: &InstanceProfileInputs,
        _o: &Value,
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
