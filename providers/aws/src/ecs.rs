//! ECS: `aws:ecs/Cluster`, `aws:ecs/TaskDefinition` (Fargate, awsvpc) and `aws:ecs/Service`.

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_ecs::types::{
    AssignPublicIp, AwsVpcConfiguration, Compatibility, KeyValuePair, LogConfiguration, LogDriver,
    NetworkConfiguration, NetworkMode, Tag, TransportProtocol,
};
use cairn::{CheckFailure, PropMap, ProviderError, ResourceContext};
use serde::{Deserialize, Serialize};

use crate::config::Clients;
use crate::error::{aws, aws_on, code, describe, found};
use crate::names;
use crate::resource::{AwsResource, by_record, known};
use crate::tagging::Tagging;
use crate::{AwsProvider, Tags, tags, wait};

/// A container of a task definition (the subset of ECS's fields Cairn manages).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ContainerDefinition {
    /// The container's name within the task (what a load balancer names it by).
    pub name: String,
    /// The image to run: `<repository URI>@<digest>` or `<repository>:<tag>`.
    pub image: String,
    /// Whether the task stops when this container stops (ECS's default, `true`).
    #[serde(default = "yes")]
    pub essential: bool,
    /// The ports it listens on.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub port_mappings: Vec<PortMapping>,
    /// Environment variables, by name. A secret among them stays secret where it sits when
    /// the containers are built with `cairn::compose`; [`ContainerDefinition::secrets`] keeps
    /// the value out of the task definition altogether.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub environment: BTreeMap<String, String>,
    /// `awslogs` options (`awslogs-group`, `awslogs-region`, `awslogs-stream-prefix`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub awslogs: Option<BTreeMap<String, String>>,
    /// Environment variables whose values ECS fetches when a task starts, by name: the ARN of
    /// a Secrets Manager secret (or one of its JSON keys) or of an SSM parameter. The
    /// execution role must be allowed to read them.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub secrets: BTreeMap<String, String>,
    /// The image's entry point and command, replaced.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub entry_point: Vec<String>,
    /// The command, replacing the image's `CMD`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub command: Vec<String>,
    /// CPU units and memory (MiB, a hard limit) of this container within the task's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu: Option<i32>,
    /// Memory in MiB.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory: Option<i32>,
    /// How ECS checks the container is healthy (none unless set).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health_check: Option<HealthCheck>,
}

/// A container's health check, as ECS runs it (`["CMD-SHELL", "curl -f http://localhost/"]`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct HealthCheck {
    /// The command: `CMD-SHELL` and a shell line, or `CMD` and an argument vector.
    pub command: Vec<String>,
    /// Seconds between checks (ECS: 5 to 300, default 30).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval: Option<i32>,
    /// Seconds a check may take (2 to 60, default 5).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<i32>,
    /// Failures before the container is unhealthy (1 to 10, default 3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retries: Option<i32>,
    /// Seconds after start during which failures do not count (0 to 300).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_period: Option<i32>,
}

fn yes() -> bool {
    true
}

cairn::string_enum! {
    /// The transport protocol of a [`PortMapping`].
    pub enum PortProtocol {
        Tcp = "tcp",
        Udp = "udp",
    }
}

/// A port a container listens on. Recorded (and written in JSON) as the bare port when it is
/// TCP with no host port of its own, the common case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PortMapping {
    /// The port the container listens on.
    pub container_port: i32,
    /// With `awsvpc` networking (Fargate) the host port is the container port: leave it unset
    /// or set it equal.
    pub host_port: Option<i32>,
    /// TCP unless set otherwise.
    pub protocol: PortProtocol,
}

impl PortMapping {
    /// TCP on `port`.
    pub fn tcp(port: i32) -> PortMapping {
        PortMapping {
            container_port: port,
            host_port: None,
            protocol: PortProtocol::Tcp,
        }
    }

    /// UDP on `port`.
    pub fn udp(port: i32) -> PortMapping {
        PortMapping {
            protocol: PortProtocol::Udp,
            ..PortMapping::tcp(port)
        }
    }
}

impl From<i32> for PortMapping {
    fn from(port: i32) -> PortMapping {
        PortMapping::tcp(port)
    }
}

/// How a [`PortMapping`] is written: a bare port, or every field.
#[derive(Serialize, Deserialize)]
#[serde(untagged)]
enum PortMappingRepr {
    Port(i32),
    Full {
        container_port: i32,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        host_port: Option<i32>,
        protocol: PortProtocol,
    },
}

impl Serialize for PortMapping {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let repr = match *self {
            PortMapping {
                container_port,
                host_port: None,
                protocol: PortProtocol::Tcp,
            } => PortMappingRepr::Port(container_port),
            PortMapping {
                container_port,
                host_port,
                protocol,
            } => PortMappingRepr::Full {
                container_port,
                host_port,
                protocol,
            },
        };
        repr.serialize(s)
    }
}

impl<'de> Deserialize<'de> for PortMapping {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<PortMapping, D::Error> {
        Ok(match PortMappingRepr::deserialize(d)? {
            PortMappingRepr::Port(port) => PortMapping::tcp(port),
            PortMappingRepr::Full {
                container_port,
                host_port,
                protocol,
            } => PortMapping {
                container_port,
                host_port,
                protocol,
            },
        })
    }
}

/// A load balancer target for a service's containers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServiceLoadBalancer {
    /// The target group that sends traffic to the tasks.
    pub target_group_arn: String,
    /// The container that receives it (a [`ContainerDefinition::name`]).
    pub container_name: String,
    /// The container's port that receives it.
    pub container_port: i32,
}

cairn::string_enum! {
    /// Where a [`Service`]'s tasks run.
    pub enum LaunchType {
        Fargate = "FARGATE",
        Ec2 = "EC2",
        External = "EXTERNAL",
    }
}

cairn::string_enum! {
    /// The CPU of a Fargate task, in CPU units (1024 to a vCPU).
    pub enum FargateCpu {
        /// 0.25 vCPU: 512, 1024 or 2048 MiB.
        Cpu256 = "256",
        /// 0.5 vCPU: 1024 to 4096 MiB, by 1024.
        Cpu512 = "512",
        /// 1 vCPU: 2048 to 8192 MiB, by 1024.
        Cpu1024 = "1024",
        /// 2 vCPU: 4096 to 16384 MiB, by 1024.
        Cpu2048 = "2048",
        /// 4 vCPU: 8192 to 30720 MiB, by 1024.
        Cpu4096 = "4096",
        /// 8 vCPU: 16384 to 61440 MiB, by 4096.
        Cpu8192 = "8192",
        /// 16 vCPU: 32768 to 122880 MiB, by 8192.
        Cpu16384 = "16384",
    }
}

impl FargateCpu {
    /// The memory sizes (MiB) Fargate accepts with this CPU.
    pub fn memory_sizes(self) -> Vec<u32> {
        let (from, to, step) = match self {
            FargateCpu::Cpu256 => return vec![512, 1024, 2048],
            FargateCpu::Cpu512 => (1024, 4096, 1024),
            FargateCpu::Cpu1024 => (2048, 8192, 1024),
            FargateCpu::Cpu2048 => (4096, 16384, 1024),
            FargateCpu::Cpu4096 => (8192, 30720, 1024),
            FargateCpu::Cpu8192 => (16384, 61440, 4096),
            FargateCpu::Cpu16384 => (32768, 122880, 8192),
        };
        (from..=to).step_by(step).collect()
    }
}

/// An ECS cluster: the grouping services and tasks run in (with Fargate, no machines of
/// its own).
///
/// ```no_run
/// # fn program(stack: &mut cairn::Stack) {
/// use cairn_aws::ecs::{Cluster, ClusterArgs};
/// let cluster = Cluster::new(stack, "cluster", ClusterArgs::default());
/// # }
/// ```
#[cairn::resource(token = "aws:ecs/Cluster", provider = AwsProvider)]
#[api(calls(CreateCluster, DescribeClusters, DeleteCluster))]
pub struct Cluster {
    /// The cluster's name.
    #[replace]
    #[unique(name = names::ECS)]
    #[api(
        name = "ClusterName",
        values = "up to 255 letters, digits, `-` and `_`"
    )]
    pub name: String,
    #[tags]
    pub tags: Option<Tags>,
    #[output]
    pub arn: String,
    #[output]
    pub name: String,
}

/// A Fargate task definition (network mode `awsvpc`): the containers a task runs, its size
/// and its roles. Each change registers a new revision (a replacement, as ECS revisions
/// cannot change); the old one is deregistered.
///
/// ```no_run
/// # fn program(stack: &mut cairn::Stack, execution_role: &cairn_aws::iam::Role, image_uri: cairn::Output<String>) {
/// use cairn_aws::ecs::{ContainerDefinition, FargateCpu, PortMapping, TaskDefinition, TaskDefinitionArgs};
/// let task = TaskDefinition::new(stack, "app-task", TaskDefinitionArgs::builder()
///     .family("app")
///     .cpu(FargateCpu::Cpu256)
///     .memory("512")
///     .execution_role_arn(execution_role.arn())
///     .containers(image_uri.map(|image| vec![ContainerDefinition {
///         name: "app".into(),
///         image,
///         essential: true,
///         port_mappings: vec![PortMapping::tcp(8080)],
///         ..Default::default()
///     }]))
///     .build());
/// # }
/// ```
#[cairn::resource(token = "aws:ecs/TaskDefinition", provider = AwsProvider)]
#[api(calls(
    RegisterTaskDefinition,
    DescribeTaskDefinition,
    ListTaskDefinitions,
    DeregisterTaskDefinition
))]
pub struct TaskDefinition {
    /// The family the revisions belong to.
    #[replace]
    #[api(values = "up to 255 letters, digits, `-` and `_`")]
    pub family: String,
    /// The task's CPU units.
    #[replace]
    pub cpu: FargateCpu,
    /// MiB, as text (`"512"`): one of the sizes [`FargateCpu::memory_sizes`] lists.
    #[replace]
    #[api(values = "a size [`FargateCpu::memory_sizes`] lists for `cpu` (checked at preview)")]
    pub memory: String,
    /// The role ECS uses to start the task: pull the image, write its logs, read its secrets.
    #[replace]
    #[api(default = "none (an image from ECR or `awslogs` needs one)")]
    pub execution_role_arn: Option<String>,
    /// The role the task's own code acts as.
    #[replace]
    #[api(default = "none")]
    pub task_role_arn: Option<String>,
    /// The containers, in order.
    #[replace]
    #[api(name = "ContainerDefinitions")]
    pub containers: Vec<ContainerDefinition>,
    #[tags]
    pub tags: Option<Tags>,
    #[output]
    pub arn: String,
    #[output]
    pub family: String,
    #[output]
    pub revision: i32,
}

/// An ECS service: keeps `desired_count` tasks of a task definition running in a cluster's
/// subnets, registered with a load balancer's target group. A new task definition rolls
/// the tasks in place.
///
/// ```no_run
/// # fn program(stack: &mut cairn::Stack, cluster: &cairn_aws::ecs::Cluster, task: &cairn_aws::ecs::TaskDefinition, private: &[cairn_aws::ec2::Subnet], sg: &cairn_aws::ec2::SecurityGroup) {
/// use cairn::Output;
/// use cairn_aws::ecs::{Service, ServiceArgs};
/// Service::new(stack, "app", ServiceArgs::builder()
///     .cluster(cluster.arn())
///     .task_definition(task.arn())
///     .desired_count(2)
///     .subnets(Output::all(private.iter().map(|s| s.id())))
///     .security_groups(Output::all([sg.id()]))
///     .build());
/// # }
/// ```
#[cairn::resource(token = "aws:ecs/Service", provider = AwsProvider)]
#[api(calls(CreateService, DescribeServices, UpdateService, DeleteService))]
pub struct Service {
    /// The service's name.
    #[replace]
    #[unique(within(cluster), name = names::ECS)]
    #[api(
        name = "ServiceName",
        values = "up to 255 letters, digits, `-` and `_`"
    )]
    pub name: String,
    /// The cluster's name or ARN.
    #[replace]
    pub cluster: String,
    /// The task definition's ARN (a revision).
    #[api(name = "TaskDefinition")]
    pub task_definition: String,
    /// How many tasks to keep running.
    #[api(values = "0 or more")]
    pub desired_count: i32,
    /// Where the tasks run.
    #[replace]
    #[api(default = "[`LaunchType::Fargate`]")]
    pub launch_type: Option<LaunchType>,
    /// The subnets the tasks get addresses in.
    #[unordered]
    #[api(name = "NetworkConfiguration.AwsvpcConfiguration.Subnets")]
    pub subnets: Vec<String>,
    /// The tasks' security groups.
    #[unordered]
    #[api(
        name = "NetworkConfiguration.AwsvpcConfiguration.SecurityGroups",
        default = "the VPC's default group"
    )]
    pub security_groups: Option<Vec<String>>,
    /// Whether tasks get a public IP (a public subnet without NAT needs one to pull images).
    #[api(
        name = "NetworkConfiguration.AwsvpcConfiguration.AssignPublicIp",
        default = "`false`"
    )]
    pub assign_public_ip: Option<bool>,
    /// The target groups the tasks are registered with.
    #[replace]
    #[api(default = "none")]
    pub load_balancers: Option<Vec<ServiceLoadBalancer>>,
    #[tags]
    pub tags: Option<Tags>,
    #[output]
    pub arn: String,
    #[output]
    pub name: String,
}

fn ecs_tags(ctx: &ResourceContext, user: Option<&Tags>) -> Vec<Tag> {
    tags::with_cairn(ctx, user)
        .into_iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect()
}

/// An execution role created a moment ago may not be assumable by ECS yet (IAM is eventually
/// consistent); this marks that one error so it alone is retried.
const ROLE_NOT_READY: &str = "cairn.RoleNotAssumableYet";

fn role_aware<E, R>(
    call: &'static str,
    property: &'static str,
) -> impl Fn(aws_smithy_runtime_api::client::result::SdkError<E, R>) -> ProviderError
where
    E: aws_smithy_types::error::metadata::ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    move |e| {
        // ECS says so only in the message of an `InvalidParameterException`.
        let lower = describe(&e).1.to_ascii_lowercase();
        let not_ready = lower.contains("assume") && lower.contains("role");
        let error = aws_on(call, property)(e);
        if not_ready {
            error.code(Some(ROLE_NOT_READY.to_string()))
        } else {
            error
        }
    }
}

#[async_trait]
impl AwsResource for Cluster {
    const TAGS: Tagging = Tagging::Ecs;
    const CREATE_RETURNS_EXISTING: bool = true;

    async fn create(
        c: &Clients,
        ctx: &ResourceContext,
        _token: &str,
        i: &ClusterInputs,
    ) -> Result<(String, ClusterOutputs), ProviderError> {
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
        let name = i.name.clone();
        Ok((arn.clone(), ClusterOutputs { arn, name }))
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
        _i: Option<&ClusterInputs>,
    ) -> Result<Option<(ClusterInputs, ClusterOutputs)>, ProviderError> {
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
                let arn = id.to_string();
                let tags = None;
                let now = ClusterInputs {
                    name: name.clone(),
                    tags,
                };
                (now, ClusterOutputs { arn, name })
            });
        Ok(live)
    }

    async fn delete(
        c: &Clients,
        id: &str,
        _i: &ClusterInputs,
        _o: &ClusterOutputs,
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
                    r => r.map(|_| ()).map_err(aws("DeleteCluster")),
                }
            },
        )
        .await
    }
}

fn container(
    d: &ContainerDefinition,
) -> Result<aws_sdk_ecs::types::ContainerDefinition, ProviderError> {
    let mut b = aws_sdk_ecs::types::ContainerDefinition::builder()
        .name(&d.name)
        .image(&d.image)
        .essential(d.essential);
    for port in &d.port_mappings {
        let protocol = match port.protocol {
            PortProtocol::Tcp => TransportProtocol::Tcp,
            PortProtocol::Udp => TransportProtocol::Udp,
        };
        b = b.port_mappings(
            aws_sdk_ecs::types::PortMapping::builder()
                .container_port(port.container_port)
                .set_host_port(port.host_port)
                .protocol(protocol)
                .build(),
        );
    }
    for (k, v) in &d.environment {
        b = b.environment(KeyValuePair::builder().name(k).value(v).build());
    }
    for (name, from) in &d.secrets {
        let secret = aws_sdk_ecs::types::Secret::builder()
            .name(name)
            .value_from(from)
            .build()
            .map_err(|e| ProviderError::on_property("containers", e.to_string()))?;
        b = b.secrets(secret);
    }
    b = b
        .set_entry_point((!d.entry_point.is_empty()).then(|| d.entry_point.clone()))
        .set_command((!d.command.is_empty()).then(|| d.command.clone()))
        .set_cpu(d.cpu)
        .set_memory(d.memory);
    if let Some(h) = &d.health_check {
        let check = aws_sdk_ecs::types::HealthCheck::builder()
            .set_command(Some(h.command.clone()))
            .set_interval(h.interval)
            .set_timeout(h.timeout)
            .set_retries(h.retries)
            .set_start_period(h.start_period)
            .build()
            .map_err(|e| ProviderError::on_property("containers", e.to_string()))?;
        b = b.health_check(check);
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

/// The memory size, against the sizes Fargate accepts with the CPU.
fn memory_size(inputs: &PropMap) -> Option<CheckFailure> {
    let (Some(cpu), Some(memory)) = (
        known::<FargateCpu>(inputs, "cpu"),
        known::<String>(inputs, "memory"),
    ) else {
        return None;
    };
    let sizes = cpu.memory_sizes();
    if memory.parse::<u32>().is_ok_and(|m| sizes.contains(&m)) {
        return None;
    }
    let first = sizes.first().copied().unwrap_or_default();
    let last = sizes.last().copied().unwrap_or_default();
    Some(CheckFailure {
        property: Some("memory".into()),
        reason: format!(
            "'{memory}' MiB is not a memory size Fargate accepts with {cpu} CPU units: \
             expected one of {first}…{last} ({} sizes, see FargateCpu::memory_sizes)",
            sizes.len()
        ),
    })
}

/// Host ports: with `awsvpc` networking a container's host port is its container port.
fn host_ports(inputs: &PropMap) -> Vec<CheckFailure> {
    let containers: Vec<ContainerDefinition> = known(inputs, "containers").unwrap_or_default();
    containers
        .iter()
        .flat_map(|c| c.port_mappings.iter().map(move |p| (c, p)))
        .filter(|(_, p)| p.host_port.is_some_and(|h| h != p.container_port))
        .map(|(c, p)| CheckFailure {
            property: Some("containers".into()),
            reason: format!(
                "container '{}': host port {} differs from container port {}, and Fargate \
                 (awsvpc) maps a port to itself: leave host_port unset",
                c.name,
                p.host_port.unwrap_or_default(),
                p.container_port
            ),
        })
        .collect()
}

#[async_trait]
impl AwsResource for TaskDefinition {
    const LOOKUP_BY_ID: bool = false;
    const TAGS: Tagging = Tagging::Ecs;

    /// Fargate accepts only some memory sizes with each CPU, and no host port of its own.
    fn check(inputs: &PropMap) -> Vec<CheckFailure> {
        let mut failures = host_ports(inputs);
        failures.extend(memory_size(inputs));
        failures
    }

    async fn create(
        c: &Clients,
        ctx: &ResourceContext,
        _token: &str,
        i: &TaskDefinitionInputs,
    ) -> Result<(String, TaskDefinitionOutputs), ProviderError> {
        let containers = i
            .containers
            .iter()
            .map(container)
            .collect::<Result<Vec<_>, _>>()?;
        let out = wait::retry_on(&[ROLE_NOT_READY], Duration::from_secs(60), || async {
            c.ecs
                .register_task_definition()
                .family(&i.family)
                .cpu(i.cpu.as_str())
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
        let family = i.family.clone();
        let revision = td.revision();
        Ok((
            arn.clone(),
            TaskDefinitionOutputs {
                arn,
                family,
                revision,
            },
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
        i: Option<&TaskDefinitionInputs>,
    ) -> Result<Option<(TaskDefinitionInputs, TaskDefinitionOutputs)>, ProviderError> {
        let i = by_record(i, Self::TYPE)?;
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
        // A revision is immutable: what exists is what was registered (tags aside).
        let outputs = TaskDefinitionOutputs {
            arn: id.to_string(),
            family: i.family.clone(),
            revision: td.revision(),
        };
        Ok(Some((i.clone(), outputs)))
    }

    async fn delete(
        c: &Clients,
        id: &str,
        _i: &TaskDefinitionInputs,
        _o: &TaskDefinitionOutputs,
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
impl AwsResource for Service {
    const LOOKUP_BY_ID: bool = false;
    const TAGS: Tagging = Tagging::Ecs;

    async fn create(
        c: &Clients,
        ctx: &ResourceContext,
        token: &str,
        i: &ServiceInputs,
    ) -> Result<(String, ServiceOutputs), ProviderError> {
        let network = i.network()?;
        let lbs: Vec<aws_sdk_ecs::types::LoadBalancer> = i
            .load_balancers
            .iter()
            .flatten()
            .map(|l| {
                aws_sdk_ecs::types::LoadBalancer::builder()
                    .target_group_arn(&l.target_group_arn)
                    .container_name(&l.container_name)
                    .container_port(l.container_port)
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
                .launch_type(i.launch_type.unwrap_or(LaunchType::Fargate).as_str().into())
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
        let name = i.name.clone();
        Ok((arn.clone(), ServiceOutputs { arn, name }))
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
        i: Option<&ServiceInputs>,
    ) -> Result<Option<(ServiceInputs, ServiceOutputs)>, ProviderError> {
        let i = by_record(i, Self::TYPE)?;
        let Some(s) = describe_service(c, &i.cluster, id).await? else {
            return Ok(None);
        };
        let vpc = s
            .network_configuration()
            .and_then(|n| n.awsvpc_configuration());
        let lbs: Vec<ServiceLoadBalancer> = s
            .load_balancers()
            .iter()
            .map(|l| ServiceLoadBalancer {
                target_group_arn: l.target_group_arn().unwrap_or_default().to_string(),
                container_name: l.container_name().unwrap_or_default().to_string(),
                container_port: l.container_port().unwrap_or(0),
            })
            .collect();
        let now = ServiceInputs {
            name: s.service_name().unwrap_or_default().to_string(),
            // ECS answers with the cluster's ARN, the program may have given its name.
            cluster: i.cluster.clone(),
            task_definition: s.task_definition().unwrap_or_default().to_string(),
            desired_count: s.desired_count(),
            launch_type: s.launch_type().and_then(|l| LaunchType::parse(l.as_str())),
            subnets: vpc.map(|v| v.subnets().to_vec()).unwrap_or_default(),
            security_groups: vpc.map(|v| v.security_groups().to_vec()),
            assign_public_ip: vpc.map(|v| v.assign_public_ip() == Some(&AssignPublicIp::Enabled)),
            load_balancers: (!lbs.is_empty()).then_some(lbs),
            tags: None,
        };
        let outputs = ServiceOutputs {
            arn: id.to_string(),
            name: now.name.clone(),
        };
        Ok(Some((now, outputs)))
    }

    async fn update(
        c: &Clients,
        _ctx: &ResourceContext,
        id: &str,
        _old: &ServiceInputs,
        new: &ServiceInputs,
    ) -> Result<ServiceOutputs, ProviderError> {
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
        let (arn, name) = (id.to_string(), new.name.clone());
        Ok(ServiceOutputs { arn, name })
    }

    async fn delete(
        c: &Clients,
        id: &str,
        i: &ServiceInputs,
        _o: &ServiceOutputs,
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

#[cfg(test)]
mod tests {
    use super::*;
    use cairn::Prop;
    use serde_json::json;

    #[test]
    fn a_plain_tcp_port_is_written_as_the_bare_port_and_anything_else_in_full() {
        let ports = vec![
            PortMapping::tcp(80),
            PortMapping::udp(8125),
            PortMapping {
                host_port: Some(443),
                ..PortMapping::tcp(443)
            },
        ];
        let written = serde_json::to_value(&ports).unwrap();
        assert_eq!(
            written,
            json!([
                80,
                {"container_port": 8125, "protocol": "udp"},
                {"container_port": 443, "host_port": 443, "protocol": "tcp"},
            ])
        );
        let read: Vec<PortMapping> = serde_json::from_value(written).unwrap();
        assert_eq!(read, ports);
    }

    #[test]
    fn a_host_port_other_than_the_container_port_is_refused_on_fargate() {
        let container = ContainerDefinition {
            name: "web".into(),
            port_mappings: vec![PortMapping {
                host_port: Some(8080),
                ..PortMapping::tcp(80)
            }],
            ..Default::default()
        };
        let inputs = PropMap::from([(
            "containers".to_string(),
            Prop {
                value: Some(serde_json::to_value(vec![container]).unwrap()),
                secret: false,
            },
        )]);
        let reasons: Vec<String> = host_ports(&inputs).into_iter().map(|f| f.reason).collect();
        assert_eq!(
            reasons,
            [
                "container 'web': host port 8080 differs from container port 80, and Fargate \
              (awsvpc) maps a port to itself: leave host_port unset"
            ]
        );
    }
}

cairn::literal_via_serde!(ContainerDefinition, ServiceLoadBalancer);
