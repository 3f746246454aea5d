//! ECS: `aws:ecs/Cluster`, `aws:ecs/TaskDefinition` (Fargate, awsvpc) and `aws:ecs/Service`.

use std::collections::BTreeMap;
use std::marker::PhantomData;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_ecs::types::{
    AssignPublicIp, AwsVpcConfiguration, Compatibility, KeyValuePair, LaunchType, LogConfiguration,
    LogDriver, NetworkConfiguration, NetworkMode, PortMapping, Tag, TransportProtocol,
};
use cairn::{Output, ProviderError, ResourceContext, TypeSchema, UniqueKey};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::config::Clients;
use crate::error::{aws, aws_on, code, describe, found};
use crate::names;
use crate::resource::{AwsResource, Handler, TagsAt, Typed};
use crate::{AwsProvider, Tags, tags, wait};

pub(crate) fn handler(ty: &str) -> Option<&'static dyn Handler> {
    Some(match ty {
        ClusterImpl::TYPE => &Typed::<ClusterImpl>(PhantomData),
        TaskDefinitionImpl::TYPE => &Typed::<TaskDefinitionImpl>(PhantomData),
        ServiceImpl::TYPE => &Typed::<ServiceImpl>(PhantomData),
        _ => return None,
    })
}

/// A container of a task definition (the subset of ECS's fields Cairn manages).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ContainerDefinition {
    pub name: String,
    pub image: String,
    #[serde(default = "yes")]
    pub essential: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub port_mappings: Vec<u16>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub environment: BTreeMap<String, String>,
    /// `awslogs` options (`awslogs-group`, `awslogs-region`, `awslogs-stream-prefix`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub awslogs: Option<BTreeMap<String, String>>,
}

fn yes() -> bool {
    true
}

/// A load balancer target for a service's containers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServiceLoadBalancer {
    pub target_group_arn: String,
    pub container_name: String,
    pub container_port: u16,
}

cairn::args! {
    /// Arguments of a [`Cluster`].
    pub struct ClusterArgs {
        /// Unique in the account and region. Left unset, Cairn names it `<resource name>-<random suffix>` and
        /// picks a new name for each replacement, so the new copy is created first.
        pub name: Option<Output<String>>,
        pub tags: Option<Output<Tags>>,
    }
}

cairn::resource!(
    /// An ECS cluster.
    Cluster, ClusterArgs, "aws:ecs/Cluster", AwsProvider, { arn: String, name: String }
);

cairn::args! {
    /// Arguments of a [`TaskDefinition`]. Task definitions are immutable: any change registers
    /// a new revision (a replacement) and deregisters the old one.
    pub struct TaskDefinitionArgs {
        pub family: Output<String>,
        /// CPU units as ECS spells them (`256`, `512`, `1024`, …).
        pub cpu: Output<String>,
        /// Memory in MiB (`512`, `1024`, …).
        pub memory: Output<String>,
        pub execution_role_arn: Option<Output<String>>,
        pub task_role_arn: Option<Output<String>>,
        pub containers: Output<Vec<ContainerDefinition>>,
        pub tags: Option<Output<Tags>>,
    }
}

cairn::resource!(
    /// A Fargate task definition (network mode `awsvpc`).
    TaskDefinition, TaskDefinitionArgs, "aws:ecs/TaskDefinition", AwsProvider, {
        arn: String,
        family: String,
        revision: i32,
    }
);

cairn::args! {
    /// Arguments of a [`Service`].
    pub struct ServiceArgs {
        /// Unique in its cluster. Left unset, Cairn names it `<resource name>-<random suffix>` and
        /// picks a new name for each replacement, so the new copy is created first.
        pub name: Option<Output<String>>,
        pub cluster: Output<String>,
        pub task_definition: Output<String>,
        pub desired_count: Output<i32>,
        /// `FARGATE` (the default) or `EC2`.
        pub launch_type: Option<Output<String>>,
        pub subnets: Output<Vec<String>>,
        pub security_groups: Option<Output<Vec<String>>>,
        pub assign_public_ip: Option<Output<bool>>,
        pub load_balancers: Option<Output<Vec<ServiceLoadBalancer>>>,
        pub tags: Option<Output<Tags>>,
    }
}

cairn::resource!(
    /// An ECS service. A service that names a target group needs that group's listener to exist
    /// first (AWS rejects it otherwise): declare the listener in `depends_on`.
    Service, ServiceArgs, "aws:ecs/Service", AwsProvider, { arn: String, name: String }
);

/// The tags of the ECS resource `arn`.
pub(crate) async fn tags_of(c: &Clients, arn: &str) -> Result<Option<Tags>, ProviderError> {
    let out = c
        .ecs
        .list_tags_for_resource()
        .resource_arn(arn)
        .send()
        .await
        .map_err(aws("ListTagsForResource"))?;
    Ok(Some(tags::collect(
        out.tags().iter().map(|t| (t.key(), t.value())),
    )))
}

fn ecs_tags(ctx: &ResourceContext, user: Option<&Tags>) -> Vec<Tag> {
    tags::with_cairn(ctx, user)
        .into_iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect()
}

async fn sync_tags(
    c: &Clients,
    arn: &str,
    old: Option<&Tags>,
    new: Option<&Tags>,
) -> Result<(), ProviderError> {
    let (set, remove) = tags::changes(old, new);
    if !set.is_empty() {
        let t = set
            .into_iter()
            .map(|(k, v)| Tag::builder().key(k).value(v).build());
        c.ecs
            .tag_resource()
            .resource_arn(arn)
            .set_tags(Some(t.collect()))
            .send()
            .await
            .map_err(aws_on("TagResource", "tags"))?;
    }
    if !remove.is_empty() {
        c.ecs
            .untag_resource()
            .resource_arn(arn)
            .set_tag_keys(Some(remove))
            .send()
            .await
            .map_err(aws_on("UntagResource", "tags"))?;
    }
    Ok(())
}

/// An execution role created a moment ago may not be assumable by ECS yet (IAM is eventually
/// consistent); this marks that one error so it alone is retried.
const ROLE_NOT_READY: &str = "cairn.RoleNotAssumableYet";

fn role_aware<E, R>(
    call: &'static str,
    property: &'static str,
) -> impl Fn(aws_smithy_runtime_api::client::result::SdkError<E, R>) -> (Option<String>, ProviderError)
where
    E: aws_smithy_types::error::metadata::ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    move |e| {
        let (code, message) = describe(&e);
        let lower = message.to_ascii_lowercase();
        let code = if lower.contains("assume") && lower.contains("role") {
            Some(ROLE_NOT_READY.to_string())
        } else {
            code
        };
        let error = ProviderError::on_property(property, format!("{call}: {message}"));
        (code, crate::error::mark(error, &e))
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct ClusterInputs {
    name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    tags: Option<Tags>,
}

pub(crate) struct ClusterImpl;

#[async_trait]
impl AwsResource for ClusterImpl {
    const TYPE: &'static str = "aws:ecs/Cluster";
    type Inputs = ClusterInputs;
    const TAGS_AT: TagsAt = TagsAt::EcsArn;
    const CREATE_RETURNS_EXISTING: bool = true;

    fn schema() -> TypeSchema {
        TypeSchema {
            replace_on_changes: &["name"],
            unique: &[UniqueKey {
                key: &["name"],
                within: &[],
                auto_name: Some(names::ECS),
            }],
        }
    }

    async fn create(
        c: &Clients,
        ctx: &ResourceContext,
        _token: &str,
        i: &ClusterInputs,
    ) -> Result<(String, Value), ProviderError> {
        let out = c
            .ecs
            .create_cluster()
            .cluster_name(&i.name)
            .set_tags(Some(ecs_tags(ctx, i.tags.as_ref())))
            .send()
            .await
            .map_err(aws_on("CreateCluster", "name"))?;
        let arn = out
            .cluster()
            .and_then(|c| c.cluster_arn())
            .unwrap_or_default()
            .to_string();
        Ok((arn.clone(), json!({ "arn": arn, "name": i.name })))
    }

    async fn find(
        c: &Clients,
        _ctx: &ResourceContext,
        _token: &str,
        i: &Self::Inputs,
    ) -> Result<Vec<String>, ProviderError> {
        let out = c
            .ecs
            .describe_clusters()
            .clusters(&i.name)
            .send()
            .await
            .map_err(aws("DescribeClusters"))?;
        Ok(out
            .clusters()
            .iter()
            .filter(|c| c.status() == Some("ACTIVE"))
            .filter_map(|c| c.cluster_arn().map(str::to_string))
            .collect())
    }

    async fn read(
        c: &Clients,
        id: &str,
        i: &ClusterInputs,
    ) -> Result<Option<(ClusterInputs, Value)>, ProviderError> {
        let out = c
            .ecs
            .describe_clusters()
            .clusters(id)
            .send()
            .await
            .map_err(aws("DescribeClusters"))?;
        let live = out
            .clusters()
            .iter()
            .find(|c| c.status() == Some("ACTIVE"))
            .map(|cl| {
                let name = cl.cluster_name().unwrap_or_default().to_string();
                (
                    ClusterInputs {
                        name: name.clone(),
                        tags: i.tags.clone(),
                    },
                    json!({ "arn": id, "name": name }),
                )
            });
        Ok(live)
    }

    async fn update(
        c: &Clients,
        _ctx: &ResourceContext,
        id: &str,
        old: &ClusterInputs,
        new: &ClusterInputs,
    ) -> Result<Value, ProviderError> {
        sync_tags(c, id, old.tags.as_ref(), new.tags.as_ref()).await?;
        Ok(json!({ "arn": id, "name": new.name }))
    }

    async fn delete(
        c: &Clients,
        id: &str,
        _i: &ClusterInputs,
        _o: &Value,
    ) -> Result<(), ProviderError> {
        // Services just deleted may still be draining out of the cluster.
        wait::retry_on(
            &[
                "ClusterContainsServicesException",
                "ClusterContainsTasksException",
            ],
            Duration::from_secs(300),
            || async {
                match c.ecs.delete_cluster().cluster(id).send().await {
                    Err(e) if code(&e).as_deref() == Some("ClusterNotFoundException") => Ok(()),
                    r => r
                        .map(|_| ())
                        .map_err(|e| (code(&e), aws("DeleteCluster")(e))),
                }
            },
        )
        .await
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct TaskDefinitionInputs {
    family: String,
    cpu: String,
    memory: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    execution_role_arn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    task_role_arn: Option<String>,
    containers: Vec<ContainerDefinition>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    tags: Option<Tags>,
}

fn container(
    d: &ContainerDefinition,
) -> Result<aws_sdk_ecs::types::ContainerDefinition, ProviderError> {
    let mut b = aws_sdk_ecs::types::ContainerDefinition::builder()
        .name(&d.name)
        .image(&d.image)
        .essential(d.essential);
    for port in &d.port_mappings {
        b = b.port_mappings(
            PortMapping::builder()
                .container_port(i32::from(*port))
                .protocol(TransportProtocol::Tcp)
                .build(),
        );
    }
    for (k, v) in &d.environment {
        b = b.environment(KeyValuePair::builder().name(k).value(v).build());
    }
    if let Some(opts) = &d.awslogs {
        let lc = LogConfiguration::builder()
            .log_driver(LogDriver::Awslogs)
            .set_options(Some(opts.clone().into_iter().collect()))
            .build()
            .map_err(|e| ProviderError::on_property("containers", e.to_string()))?;
        b = b.log_configuration(lc);
    }
    Ok(b.build())
}

pub(crate) struct TaskDefinitionImpl;

#[async_trait]
impl AwsResource for TaskDefinitionImpl {
    const TYPE: &'static str = "aws:ecs/TaskDefinition";
    type Inputs = TaskDefinitionInputs;
    const TAGS_AT: TagsAt = TagsAt::EcsArn;

    fn schema() -> TypeSchema {
        TypeSchema {
            replace_on_changes: &[
                "family",
                "cpu",
                "memory",
                "execution_role_arn",
                "task_role_arn",
                "containers",
            ],
            unique: &[],
        }
    }

    async fn create(
        c: &Clients,
        ctx: &ResourceContext,
        _token: &str,
        i: &TaskDefinitionInputs,
    ) -> Result<(String, Value), ProviderError> {
        let containers = i
            .containers
            .iter()
            .map(container)
            .collect::<Result<Vec<_>, _>>()?;
        let out = wait::retry_on(&[ROLE_NOT_READY], Duration::from_secs(60), || async {
            c.ecs
                .register_task_definition()
                .family(&i.family)
                .cpu(&i.cpu)
                .memory(&i.memory)
                .network_mode(NetworkMode::Awsvpc)
                .requires_compatibilities(Compatibility::Fargate)
                .set_execution_role_arn(i.execution_role_arn.clone())
                .set_task_role_arn(i.task_role_arn.clone())
                .set_container_definitions(Some(containers.clone()))
                .set_tags(Some(ecs_tags(ctx, i.tags.as_ref())))
                .send()
                .await
                .map_err(role_aware("RegisterTaskDefinition", "containers"))
        })
        .await?;
        let td = out
            .task_definition()
            .ok_or_else(|| ProviderError::new("RegisterTaskDefinition returned nothing"))?;
        let arn = td.task_definition_arn().unwrap_or_default().to_string();
        Ok((
            arn.clone(),
            json!({ "arn": arn, "family": i.family, "revision": td.revision() }),
        ))
    }

    async fn find(
        c: &Clients,
        _ctx: &ResourceContext,
        _token: &str,
        i: &Self::Inputs,
    ) -> Result<Vec<String>, ProviderError> {
        // Registering makes a new revision each time, so every active revision of the family
        // is a candidate; the engine leaves out the ones it records.
        let out = c
            .ecs
            .list_task_definitions()
            .family_prefix(&i.family)
            .status(aws_sdk_ecs::types::TaskDefinitionStatus::Active)
            .send()
            .await
            .map_err(aws("ListTaskDefinitions"))?;
        let family = format!(":task-definition/{}:", i.family);
        Ok(out
            .task_definition_arns()
            .iter()
            .filter(|arn| arn.contains(&family))
            .cloned()
            .collect())
    }

    async fn read(
        c: &Clients,
        id: &str,
        i: &TaskDefinitionInputs,
    ) -> Result<Option<(TaskDefinitionInputs, Value)>, ProviderError> {
        let r = c
            .ecs
            .describe_task_definition()
            .task_definition(id)
            .send()
            .await;
        let td = match r {
            Err(e) if code(&e).as_deref() == Some("ClientException") => return Ok(None),
            r => r.map_err(aws("DescribeTaskDefinition"))?,
        };
        let Some(td) = td.task_definition() else {
            return Ok(None);
        };
        if td.status().map(|s| s.as_str()) == Some("INACTIVE") {
            return Ok(None);
        }
        // A revision is immutable: what exists is what was registered.
        Ok(Some((
            i.clone(),
            json!({ "arn": id, "family": i.family, "revision": td.revision() }),
        )))
    }

    async fn update(
        c: &Clients,
        _ctx: &ResourceContext,
        id: &str,
        old: &TaskDefinitionInputs,
        new: &TaskDefinitionInputs,
    ) -> Result<Value, ProviderError> {
        sync_tags(c, id, old.tags.as_ref(), new.tags.as_ref()).await?;
        let (_, o) = Self::read(c, id, new)
            .await?
            .ok_or_else(|| ProviderError::new(format!("task definition {id} disappeared")))?;
        Ok(o)
    }

    async fn delete(
        c: &Clients,
        id: &str,
        _i: &TaskDefinitionInputs,
        _o: &Value,
    ) -> Result<(), ProviderError> {
        match c
            .ecs
            .deregister_task_definition()
            .task_definition(id)
            .send()
            .await
        {
            Err(e) if code(&e).as_deref() == Some("ClientException") => Ok(()),
            r => r.map(|_| ()).map_err(aws("DeregisterTaskDefinition")),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct ServiceInputs {
    name: String,
    cluster: String,
    task_definition: String,
    desired_count: i32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    launch_type: Option<String>,
    subnets: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    security_groups: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    assign_public_ip: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    load_balancers: Option<Vec<ServiceLoadBalancer>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    tags: Option<Tags>,
}

impl ServiceInputs {
    fn network(&self) -> Result<NetworkConfiguration, ProviderError> {
        let vpc = AwsVpcConfiguration::builder()
            .set_subnets(Some(self.subnets.clone()))
            .set_security_groups(self.security_groups.clone())
            .assign_public_ip(if self.assign_public_ip.unwrap_or(false) {
                AssignPublicIp::Enabled
            } else {
                AssignPublicIp::Disabled
            })
            .build()
            .map_err(|e| ProviderError::on_property("subnets", e.to_string()))?;
        Ok(NetworkConfiguration::builder()
            .awsvpc_configuration(vpc)
            .build())
    }
}

pub(crate) struct ServiceImpl;

async fn describe_service(
    c: &Clients,
    cluster: &str,
    arn: &str,
) -> Result<Option<aws_sdk_ecs::types::Service>, ProviderError> {
    let r = c
        .ecs
        .describe_services()
        .cluster(cluster)
        .services(arn)
        .send()
        .await;
    Ok(found(r, "DescribeServices")?.and_then(|o| {
        o.services()
            .iter()
            .find(|s| s.status() != Some("INACTIVE"))
            .cloned()
    }))
}

#[async_trait]
impl AwsResource for ServiceImpl {
    const TYPE: &'static str = "aws:ecs/Service";
    type Inputs = ServiceInputs;
    const TAGS_AT: TagsAt = TagsAt::EcsArn;

    fn schema() -> TypeSchema {
        TypeSchema {
            replace_on_changes: &["name", "cluster", "launch_type", "load_balancers"],
            unique: &[UniqueKey {
                key: &["name"],
                within: &["cluster"],
                auto_name: Some(names::ECS),
            }],
        }
    }

    async fn create(
        c: &Clients,
        ctx: &ResourceContext,
        token: &str,
        i: &ServiceInputs,
    ) -> Result<(String, Value), ProviderError> {
        let network = i.network()?;
        let lbs: Vec<aws_sdk_ecs::types::LoadBalancer> = i
            .load_balancers
            .iter()
            .flatten()
            .map(|l| {
                aws_sdk_ecs::types::LoadBalancer::builder()
                    .target_group_arn(&l.target_group_arn)
                    .container_name(&l.container_name)
                    .container_port(i32::from(l.container_port))
                    .build()
            })
            .collect();
        let out = wait::retry_on(&[ROLE_NOT_READY], Duration::from_secs(60), || async {
            c.ecs
                .create_service()
                .client_token(token)
                .service_name(&i.name)
                .cluster(&i.cluster)
                .task_definition(&i.task_definition)
                .desired_count(i.desired_count)
                .launch_type(LaunchType::from(
                    i.launch_type.as_deref().unwrap_or("FARGATE"),
                ))
                .network_configuration(network.clone())
                .set_load_balancers((!lbs.is_empty()).then(|| lbs.clone()))
                .set_tags(Some(ecs_tags(ctx, i.tags.as_ref())))
                .send()
                .await
                .map_err(role_aware("CreateService", "task_definition"))
        })
        .await?;
        let arn = out
            .service()
            .and_then(|s| s.service_arn())
            .unwrap_or_default()
            .to_string();
        Ok((arn.clone(), json!({ "arn": arn, "name": i.name })))
    }

    async fn find(
        c: &Clients,
        _ctx: &ResourceContext,
        _token: &str,
        i: &Self::Inputs,
    ) -> Result<Vec<String>, ProviderError> {
        let s = describe_service(c, &i.cluster, &i.name).await?;
        Ok(s.and_then(|s| s.service_arn().map(str::to_string))
            .into_iter()
            .collect())
    }

    async fn read(
        c: &Clients,
        id: &str,
        i: &ServiceInputs,
    ) -> Result<Option<(ServiceInputs, Value)>, ProviderError> {
        let Some(s) = describe_service(c, &i.cluster, id).await? else {
            return Ok(None);
        };
        let vpc = s
            .network_configuration()
            .and_then(|n| n.awsvpc_configuration());
        let now = ServiceInputs {
            name: s.service_name().unwrap_or_default().to_string(),
            cluster: i.cluster.clone(),
            task_definition: s.task_definition().unwrap_or_default().to_string(),
            desired_count: s.desired_count(),
            launch_type: i
                .launch_type
                .as_ref()
                .and(s.launch_type().map(|l| l.as_str().to_string())),
            subnets: vpc.map(|v| v.subnets().to_vec()).unwrap_or_default(),
            security_groups: i
                .security_groups
                .as_ref()
                .and(vpc.map(|v| v.security_groups().to_vec())),
            assign_public_ip: i
                .assign_public_ip
                .as_ref()
                .and(vpc.map(|v| v.assign_public_ip() == Some(&AssignPublicIp::Enabled))),
            load_balancers: i.load_balancers.clone(),
            tags: i.tags.clone(),
        };
        let mut now = now;
        // Order of subnets and groups is not drift.
        let same_set = |a: &[String], b: &[String]| {
            let mut a = a.to_vec();
            let mut b = b.to_vec();
            a.sort();
            b.sort();
            a == b
        };
        if same_set(&now.subnets, &i.subnets) {
            now.subnets = i.subnets.clone();
        }
        if let (Some(a), Some(b)) = (&now.security_groups, &i.security_groups)
            && same_set(a, b)
        {
            now.security_groups = i.security_groups.clone();
        }
        Ok(Some((now, json!({ "arn": id, "name": i.name }))))
    }

    async fn update(
        c: &Clients,
        _ctx: &ResourceContext,
        id: &str,
        old: &ServiceInputs,
        new: &ServiceInputs,
    ) -> Result<Value, ProviderError> {
        c.ecs
            .update_service()
            .cluster(&new.cluster)
            .service(id)
            .desired_count(new.desired_count)
            .task_definition(&new.task_definition)
            .network_configuration(new.network()?)
            .send()
            .await
            .map_err(aws_on("UpdateService", "desired_count"))?;
        sync_tags(c, id, old.tags.as_ref(), new.tags.as_ref()).await?;
        Ok(json!({ "arn": id, "name": new.name }))
    }

    async fn delete(
        c: &Clients,
        id: &str,
        i: &ServiceInputs,
        _o: &Value,
    ) -> Result<(), ProviderError> {
        let r = c
            .ecs
            .delete_service()
            .cluster(&i.cluster)
            .service(id)
            .force(true)
            .send()
            .await;
        match r {
            Err(e)
                if matches!(
                    code(&e).as_deref(),
                    Some("ServiceNotFoundException") | Some("ClusterNotFoundException")
                ) =>
            {
                return Ok(());
            }
            r => {
                r.map_err(aws("DeleteService"))?;
            }
        }
        // Draining stops the tasks; the target group and cluster are busy until it is done.
        wait::until(
            &format!("service {} to drain", i.name),
            Duration::from_secs(900),
            || async {
                Ok(describe_service(c, &i.cluster, id)
                    .await?
                    .is_none()
                    .then_some(()))
            },
        )
        .await
    }
}
