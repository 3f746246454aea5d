//! `aws:ec2/Instance`: an EC2 instance (the program's optional SSM host).

use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_ec2::types::{
    IamInstanceProfileSpecification, InstanceStateName, InstanceType, ResourceType,
};
use cairn::{Output, ProviderError, ResourceContext, TypeSchema};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::tagging;
use crate::config::Clients;
use crate::error::{aws, aws_on, found};
use crate::resource::{AwsResource, TagsAt};
use crate::{AwsProvider, Tags, wait};

cairn::args! {
    /// Arguments of an [`Instance`].
    pub struct InstanceArgs {
        pub ami: Output<String>,
        pub instance_type: Output<String>,
        pub subnet_id: Output<String>,
        pub security_group_ids: Option<Output<Vec<String>>>,
        /// An instance profile name.
        pub iam_instance_profile: Option<Output<String>>,
        pub tags: Option<Output<Tags>>,
    }
}

cairn::resource!(
    /// An EC2 instance.
    Instance, InstanceArgs, "aws:ec2/Instance", AwsProvider, {
        id: String,
        private_ip: String,
    }
);

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Inputs {
    ami: String,
    instance_type: String,
    subnet_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    security_group_ids: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    iam_instance_profile: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    tags: Option<Tags>,
}

pub(crate) struct Impl;

async fn describe(
    c: &Clients,
    id: &str,
) -> Result<Option<aws_sdk_ec2::types::Instance>, ProviderError> {
    let r = c.ec2.describe_instances().instance_ids(id).send().await;
    Ok(found(r, "DescribeInstances")?.and_then(|o| {
        o.reservations()
            .iter()
            .flat_map(|r| r.instances())
            .find(|i| {
                !matches!(
                    i.state().and_then(|s| s.name()),
                    Some(InstanceStateName::Terminated)
                )
            })
            .cloned()
    }))
}

fn outputs(i: &aws_sdk_ec2::types::Instance) -> Value {
    json!({ "id": i.instance_id(), "private_ip": i.private_ip_address() })
}

/// IAM is eventually consistent: only this error (a profile not yet visible to EC2) is retried.
const PROFILE_NOT_READY: &str = "cairn.InstanceProfileNotReady";

const TIMEOUT: Duration = Duration::from_secs(600);

#[async_trait]
impl AwsResource for Impl {
    const TYPE: &'static str = "aws:ec2/Instance";
    type Inputs = Inputs;
    const TAGS_AT: TagsAt = TagsAt::Ec2;

    fn schema() -> TypeSchema {
        TypeSchema {
            replace_on_changes: &["ami", "instance_type", "subnet_id", "iam_instance_profile"],
            unique: &[],
        }
    }

    async fn create(
        c: &Clients,
        ctx: &ResourceContext,
        token: &str,
        i: &Inputs,
    ) -> Result<(String, Value), ProviderError> {
        let profile = i
            .iam_instance_profile
            .as_ref()
            .map(|p| IamInstanceProfileSpecification::builder().name(p).build());
        // An instance profile created a moment ago may not be usable yet.
        let out = wait::retry_on(&[PROFILE_NOT_READY], Duration::from_secs(60), || async {
            c.ec2
                .run_instances()
                .client_token(token)
                .image_id(&i.ami)
                .instance_type(InstanceType::from(i.instance_type.as_str()))
                .subnet_id(&i.subnet_id)
                .set_security_group_ids(i.security_group_ids.clone())
                .set_iam_instance_profile(profile.clone())
                .min_count(1)
                .max_count(1)
                .tag_specifications(tagging::spec(ctx, ResourceType::Instance, i.tags.as_ref()))
                .send()
                .await
                .map_err(|e| {
                    let (code, message) = crate::error::describe(&e);
                    let code = if message.to_ascii_lowercase().contains("instance profile") {
                        Some(PROFILE_NOT_READY.to_string())
                    } else {
                        code
                    };
                    let error =
                        ProviderError::on_property("ami", format!("RunInstances: {message}"));
                    (code, crate::error::mark(error, &e))
                })
        })
        .await?;
        let id = out
            .instances()
            .first()
            .and_then(|i| i.instance_id())
            .unwrap_or_default()
            .to_string();
        let inst = wait::until(&format!("instance {id} to be running"), TIMEOUT, || async {
            let inst = describe(c, &id)
                .await?
                .ok_or_else(|| ProviderError::new(format!("instance {id} disappeared")))?;
            Ok(matches!(
                inst.state().and_then(|s| s.name()),
                Some(InstanceStateName::Running)
            )
            .then_some(inst))
        })
        .await?;
        Ok((id, outputs(&inst)))
    }

    async fn find(
        c: &Clients,
        ctx: &ResourceContext,
        _token: &str,
        _i: &Self::Inputs,
    ) -> Result<Vec<String>, ProviderError> {
        let out = c
            .ec2
            .describe_instances()
            .set_filters(Some(tagging::ours(ctx)))
            .send()
            .await
            .map_err(aws("DescribeInstances"))?;
        Ok(out
            .reservations()
            .iter()
            .flat_map(|r| r.instances())
            .filter(|x| {
                !matches!(
                    x.state().and_then(|s| s.name()),
                    Some(InstanceStateName::Terminated | InstanceStateName::ShuttingDown)
                )
            })
            .filter_map(|x| x.instance_id().map(str::to_string))
            .collect())
    }

    async fn read(
        c: &Clients,
        id: &str,
        i: &Inputs,
    ) -> Result<Option<(Inputs, Value)>, ProviderError> {
        let Some(inst) = describe(c, id).await? else {
            return Ok(None);
        };
        let groups: Vec<String> = inst
            .security_groups()
            .iter()
            .filter_map(|g| g.group_id().map(str::to_string))
            .collect();
        let now = Inputs {
            ami: inst.image_id().unwrap_or_default().to_string(),
            instance_type: inst
                .instance_type()
                .map(|t| t.as_str().to_string())
                .unwrap_or_default(),
            subnet_id: inst.subnet_id().unwrap_or_default().to_string(),
            security_group_ids: i.security_group_ids.as_ref().map(|recorded| {
                let mut a = groups.clone();
                let mut b = recorded.clone();
                a.sort();
                b.sort();
                if a == b {
                    recorded.clone()
                } else {
                    groups.clone()
                }
            }),
            iam_instance_profile: i.iam_instance_profile.clone(),
            tags: tagging::user_tags(Some(inst.tags()), i.tags.as_ref()),
        };
        Ok(Some((now, outputs(&inst))))
    }

    async fn update(
        c: &Clients,
        _ctx: &ResourceContext,
        id: &str,
        old: &Inputs,
        new: &Inputs,
    ) -> Result<Value, ProviderError> {
        if old.security_group_ids != new.security_group_ids {
            c.ec2
                .modify_instance_attribute()
                .instance_id(id)
                .set_groups(new.security_group_ids.clone())
                .send()
                .await
                .map_err(aws_on("ModifyInstanceAttribute", "security_group_ids"))?;
        }
        tagging::sync(c, id, old.tags.as_ref(), new.tags.as_ref()).await?;
        let inst = describe(c, id)
            .await?
            .ok_or_else(|| ProviderError::new(format!("instance {id} disappeared")))?;
        Ok(outputs(&inst))
    }

    async fn delete(c: &Clients, id: &str, _i: &Inputs, _o: &Value) -> Result<(), ProviderError> {
        if describe(c, id).await?.is_none() {
            return Ok(());
        }
        c.ec2
            .terminate_instances()
            .instance_ids(id)
            .send()
            .await
            .map_err(aws("TerminateInstances"))?;
        wait::until(&format!("instance {id} to terminate"), TIMEOUT, || async {
            Ok(describe(c, id).await?.is_none().then_some(()))
        })
        .await
    }
}
