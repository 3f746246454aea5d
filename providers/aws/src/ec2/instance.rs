//! `aws:ec2/Instance`: an EC2 instance (the program's optional SSM host).

use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_ec2::types::{
    IamInstanceProfileSpecification, InstanceStateName, InstanceType, ResourceType,
};
use cairn::{ProviderError, ResourceContext};

use super::tagging;
use crate::config::Clients;
use crate::error::{aws, aws_on, found};
use crate::resource::AwsResource;
use crate::tagging::Tagging;
use crate::{AwsProvider, Tags, wait};

/// An EC2 instance: a virtual machine in a subnet, started from an AMI.
///
/// ```no_run
/// # fn program(stack: &mut cairn::Stack, subnet: &cairn_aws::ec2::Subnet) {
/// use cairn_aws::ec2::{Instance, InstanceArgs};
/// use cairn_aws::ssm::{AMAZON_LINUX_2023, ParameterValue};
/// let ami = ParameterValue::get(stack, "ami", AMAZON_LINUX_2023);
/// let box_ = Instance::new(stack, "worker", InstanceArgs::builder()
///     .ami(ami.value())
///     .instance_type("t3.micro")
///     .subnet_id(subnet.id())
///     .build());
/// # }
/// ```
#[cairn::resource(token = "aws:ec2/Instance", provider = AwsProvider)]
#[api(calls(
    RunInstances,
    DescribeInstances,
    ModifyInstanceAttribute,
    TerminateInstances
))]
pub struct Instance {
    /// The image it starts from (`ami-…`).
    #[replace]
    #[api(name = "ImageId")]
    pub ami: String,
    /// `t3.micro`, … (EC2's own list of instance types is long and grows).
    #[replace]
    pub instance_type: String,
    /// The subnet it runs in.
    #[replace]
    pub subnet_id: String,
    /// Its security groups.
    #[unordered]
    #[api(default = "the VPC's default group")]
    pub security_group_ids: Option<Vec<String>>,
    /// An instance profile name, for the role its software acts as.
    #[replace]
    #[api(default = "none")]
    pub iam_instance_profile: Option<String>,
    #[tags]
    pub tags: Option<Tags>,
    #[output]
    pub id: String,
    #[output]
    pub private_ip: Option<String>,
}

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

fn outputs(i: &aws_sdk_ec2::types::Instance) -> InstanceOutputs {
    InstanceOutputs {
        id: i.instance_id().unwrap_or_default().to_string(),
        private_ip: i.private_ip_address().map(str::to_string),
    }
}

/// IAM is eventually consistent: only this error (a profile not yet visible to EC2) is retried.
const PROFILE_NOT_READY: &str = "cairn.InstanceProfileNotReady";

const TIMEOUT: Duration = Duration::from_secs(600);

#[async_trait]
impl AwsResource for Instance {
    const TAGS: Tagging = Tagging::Ec2;

    async fn create(
        c: &Clients,
        ctx: &ResourceContext,
        token: &str,
        i: &InstanceInputs,
    ) -> Result<(String, InstanceOutputs), ProviderError> {
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
                    // A profile EC2 cannot see yet is an `InvalidParameterValue` like any other
                    // bad value: only the message tells them apart.
                    let (_, message) = crate::error::describe(&e);
                    let not_ready = message.to_ascii_lowercase().contains("instance profile");
                    let error = aws_on("RunInstances", "ami")(e);
                    if not_ready {
                        error.code(Some(PROFILE_NOT_READY.to_string()))
                    } else {
                        error
                    }
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
        i: Option<&InstanceInputs>,
    ) -> Result<Option<(InstanceInputs, InstanceOutputs)>, ProviderError> {
        let Some(inst) = describe(c, id).await? else {
            return Ok(None);
        };
        let groups: Vec<String> = inst
            .security_groups()
            .iter()
            .filter_map(|g| g.group_id().map(str::to_string))
            .collect();
        let now = InstanceInputs {
            ami: inst.image_id().unwrap_or_default().to_string(),
            instance_type: inst
                .instance_type()
                .map(|t| t.as_str().to_string())
                .unwrap_or_default(),
            subnet_id: inst.subnet_id().unwrap_or_default().to_string(),
            security_group_ids: Some(groups),
            // EC2 reports the profile's ARN and id, not the name it was given.
            iam_instance_profile: i.and_then(|i| i.iam_instance_profile.clone()),
            tags: None,
        };
        Ok(Some((now, outputs(&inst))))
    }

    async fn update(
        c: &Clients,
        _ctx: &ResourceContext,
        id: &str,
        old: &InstanceInputs,
        new: &InstanceInputs,
    ) -> Result<InstanceOutputs, ProviderError> {
        if old.security_group_ids != new.security_group_ids {
            c.ec2
                .modify_instance_attribute()
                .instance_id(id)
                .set_groups(new.security_group_ids.clone())
                .send()
                .await
                .map_err(aws_on("ModifyInstanceAttribute", "security_group_ids"))?;
        }
        let inst = describe(c, id)
            .await?
            .ok_or_else(|| ProviderError::new(format!("instance {id} disappeared")))?;
        Ok(outputs(&inst))
    }

    async fn delete(
        c: &Clients,
        id: &str,
        _i: &InstanceInputs,
        _o: &InstanceOutputs,
    ) -> Result<(), ProviderError> {
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
