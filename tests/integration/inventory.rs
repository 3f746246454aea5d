//! Everything that exists in moto, read through the AWS SDK in both accounts, at the grain the
//! state records it: the ground truth the crash and fault tests compare the state against.
//!
//! Nothing is found by Cairn's tags (recovery finds by those, so an untagged orphan would escape
//! both): every object of each kind Cairn manages is listed, less moto's own defaults (taken as
//! a baseline before the test deploys) and the objects AWS makes by itself with a VPC or a
//! security group (its main route table and local route, its default group and default egress
//! rule).

use std::collections::BTreeMap;

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_ec2::types::IpPermission;
use cairn_state::ResourceRecord;
use serde_json::Value;

pub const ROLE_B: &str = "arn:aws:iam::222222222222:role/cairn-deployer";

/// The stack `dev`'s resources as the state records them, name to id (the state opened with
/// `passphrase` when it holds secrets).
pub fn ids(cli: &cairn_tests::Cli, passphrase: Option<&str>) -> BTreeMap<String, String> {
    let store = cairn_state::Store::open(cli.state_path()).unwrap();
    if let Some(p) = passphrase {
        store.use_passphrase(Some(p.to_string())).unwrap();
    }
    let records = store.resources("dev").unwrap();
    records.into_iter().map(|r| (r.name, r.id)).collect()
}

/// SDK configuration for moto at `endpoint`, as account A (no role) or the role's account.
pub async fn sdk(endpoint: &str, role: Option<&str>) -> SdkConfig {
    let base = aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new("us-east-2"))
        .endpoint_url(endpoint)
        .credentials_provider(aws_credential_types::Credentials::new(
            "testing", "testing", None, None, "moto",
        ))
        .load()
        .await;
    let Some(role) = role else { return base };
    let provider = aws_config::sts::AssumeRoleProvider::builder(role)
        .session_name("verify")
        .configure(&base)
        .build()
        .await;
    base.into_builder()
        .credentials_provider(
            aws_credential_types::provider::SharedCredentialsProvider::new(provider),
        )
        .build()
}

/// Resource type token -> ids of what exists, duplicates kept (sorted). Security group rules
/// are listed one permission per entry (group, direction, protocol, ports, one source), since
/// AWS merges the rules of one port range into one permission.
pub type Inventory = BTreeMap<String, Vec<String>>;

/// What moto holds before the test deploys anything.
/// An S3 client for moto: addressed by path, since moto has no per-bucket host names.
pub fn s3(config: &SdkConfig) -> aws_sdk_s3::Client {
    aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(config)
            .force_path_style(true)
            .build(),
    )
}

/// Makes the bucket `name` in us-east-2 (Cairn never makes the state's bucket).
pub async fn create_bucket(config: &SdkConfig, name: &str) {
    s3(config)
        .create_bucket()
        .bucket(name)
        .create_bucket_configuration(
            aws_sdk_s3::types::CreateBucketConfiguration::builder()
                .location_constraint(aws_sdk_s3::types::BucketLocationConstraint::UsEast2)
                .build(),
        )
        .send()
        .await
        .unwrap();
}

pub struct Defaults(Inventory);

impl Defaults {
    pub async fn of(endpoint: &str) -> Defaults {
        Defaults(everything(endpoint).await)
    }

    /// Everything in both accounts now, less the defaults.
    pub async fn everything_else(&self, endpoint: &str) -> Inventory {
        let mut now = everything(endpoint).await;
        for (ty, ids) in &self.0 {
            if let Some(current) = now.get_mut(ty) {
                for id in ids {
                    if let Some(i) = current.iter().position(|c| c == id) {
                        current.remove(i);
                    }
                }
            }
        }
        now.retain(|_, ids| !ids.is_empty());
        now
    }
}

async fn everything(endpoint: &str) -> Inventory {
    let mut inv = Inventory::new();
    for role in [None, Some(ROLE_B)] {
        let config = sdk(endpoint, role).await;
        ec2(&config, &mut inv).await;
        others(&config, &mut inv).await;
    }
    inv.retain(|_, ids| !ids.is_empty());
    for ids in inv.values_mut() {
        ids.sort();
    }
    inv
}

/// One permission of a security group rule: `group_direction_protocol_ports_source`. The
/// ports of an all-protocols rule mean nothing and are left out.
fn rule_atom(
    group: &str,
    direction: &str,
    protocol: &str,
    ports: (i64, i64),
    source: &str,
) -> String {
    let ports = if protocol == "-1" {
        "*".to_string()
    } else {
        format!("{}-{}", ports.0, ports.1)
    };
    format!("{group}_{direction}_{protocol}_{ports}_{source}")
}

fn permission_atoms(group: &str, direction: &str, p: &IpPermission) -> Vec<String> {
    let protocol = p.ip_protocol().unwrap_or_default();
    let ports = (
        i64::from(p.from_port().unwrap_or(-1)),
        i64::from(p.to_port().unwrap_or(-1)),
    );
    let sources = p
        .ip_ranges()
        .iter()
        .filter_map(|r| r.cidr_ip())
        .chain(p.user_id_group_pairs().iter().filter_map(|g| g.group_id()));
    sources
        .map(|s| rule_atom(group, direction, protocol, ports, s))
        .collect()
}

async fn ec2(config: &SdkConfig, inv: &mut Inventory) {
    let ec2 = aws_sdk_ec2::Client::new(config);
    let mut add = |ty: &str, ids: Vec<String>| inv.entry(ty.to_string()).or_default().extend(ids);
    let own = |s: Option<&str>| s.map(str::to_string);

    let vpcs = ec2.describe_vpcs().send().await.unwrap();
    add(
        "aws:ec2/Vpc",
        vpcs.vpcs().iter().filter_map(|x| own(x.vpc_id())).collect(),
    );
    let subnets = ec2.describe_subnets().send().await.unwrap();
    add(
        "aws:ec2/Subnet",
        subnets
            .subnets()
            .iter()
            .filter_map(|x| own(x.subnet_id()))
            .collect(),
    );
    let igws = ec2.describe_internet_gateways().send().await.unwrap();
    add(
        "aws:ec2/InternetGateway",
        igws.internet_gateways()
            .iter()
            .filter_map(|x| own(x.internet_gateway_id()))
            .collect(),
    );

    let tables = ec2.describe_route_tables().send().await.unwrap();
    for t in tables.route_tables() {
        let id = t.route_table_id().unwrap_or_default();
        // The main table comes with its VPC.
        if t.associations().iter().any(|a| a.main() == Some(true)) {
            continue;
        }
        add("aws:ec2/RouteTable", vec![id.to_string()]);
        add(
            "aws:ec2/RouteTableAssociation",
            t.associations()
                .iter()
                .filter_map(|a| own(a.route_table_association_id()))
                .collect(),
        );
        // The local route comes with the table; prefix-list routes with a gateway endpoint.
        add(
            "aws:ec2/Route",
            t.routes()
                .iter()
                .filter(|r| r.gateway_id() != Some("local"))
                .filter_map(|r| r.destination_cidr_block())
                .map(|d| format!("{id}_{d}"))
                .collect(),
        );
    }

    let groups = ec2.describe_security_groups().send().await.unwrap();
    for g in groups.security_groups() {
        let id = g.group_id().unwrap_or_default();
        if g.group_name() == Some("default") {
            continue;
        }
        add("aws:ec2/SecurityGroup", vec![id.to_string()]);
        let mut atoms: Vec<String> = Vec::new();
        for p in g.ip_permissions() {
            atoms.extend(permission_atoms(id, "ingress", p));
        }
        for p in g.ip_permissions_egress() {
            atoms.extend(permission_atoms(id, "egress", p));
        }
        // Every group starts with one egress rule allowing everything.
        let default_egress = rule_atom(id, "egress", "-1", (-1, -1), "0.0.0.0/0");
        if let Some(i) = atoms.iter().position(|a| *a == default_egress) {
            atoms.remove(i);
        }
        add("aws:ec2/SecurityGroupRule", atoms);
    }

    let endpoints = ec2.describe_vpc_endpoints().send().await.unwrap();
    add(
        "aws:ec2/VpcEndpoint",
        endpoints
            .vpc_endpoints()
            .iter()
            // EC2 sends states in lower case, which the SDK's enum does not recognise.
            .filter(|e| {
                let state = e.state().map(|s| s.as_str().to_ascii_lowercase());
                !matches!(state.as_deref(), Some("deleted" | "deleting"))
            })
            .filter_map(|x| own(x.vpc_endpoint_id()))
            .collect(),
    );
    let reservations = ec2.describe_instances().send().await.unwrap();
    add(
        "aws:ec2/Instance",
        reservations
            .reservations()
            .iter()
            .flat_map(|r| r.instances())
            .filter(|i| {
                !matches!(
                    i.state().and_then(|s| s.name()).map(|n| n.as_str()),
                    Some("terminated" | "shutting-down")
                )
            })
            .filter_map(|i| own(i.instance_id()))
            .collect(),
    );
}

async fn others(config: &SdkConfig, inv: &mut Inventory) {
    let mut add = |ty: &str, ids: Vec<String>| inv.entry(ty.to_string()).or_default().extend(ids);

    let ecr = aws_sdk_ecr::Client::new(config);
    let repos = ecr.describe_repositories().send().await.unwrap();
    for r in repos.repositories() {
        let name = r.repository_name().unwrap_or_default().to_string();
        if ecr
            .get_repository_policy()
            .repository_name(&name)
            .send()
            .await
            .is_ok()
        {
            add("aws:ecr/RepositoryPolicy", vec![name.clone()]);
        }
        if ecr
            .get_lifecycle_policy()
            .repository_name(&name)
            .send()
            .await
            .is_ok()
        {
            add("aws:ecr/LifecyclePolicy", vec![name.clone()]);
        }
        let images = ecr
            .list_images()
            .repository_name(&name)
            .send()
            .await
            .unwrap();
        let mut digests: Vec<String> = images
            .image_ids()
            .iter()
            .filter_map(|i| i.image_digest())
            .map(|d| format!("{name}@{d}"))
            .collect();
        // One entry per image, however many tags it has.
        digests.sort();
        digests.dedup();
        add("aws:ecr/Image", digests);
        add("aws:ecr/Repository", vec![name]);
    }

    let iam = aws_sdk_iam::Client::new(config);
    let roles = iam.list_roles().send().await.unwrap();
    for r in roles.roles() {
        let name = r.role_name().to_string();
        let inline = iam
            .list_role_policies()
            .role_name(&name)
            .send()
            .await
            .unwrap();
        add(
            "aws:iam/RolePolicy",
            inline
                .policy_names()
                .iter()
                .map(|p| format!("{name}:{p}"))
                .collect(),
        );
        let attached = iam
            .list_attached_role_policies()
            .role_name(&name)
            .send()
            .await
            .unwrap();
        add(
            "aws:iam/RolePolicyAttachment",
            attached
                .attached_policies()
                .iter()
                .filter_map(|p| p.policy_arn())
                .map(|arn| format!("{name}/{arn}"))
                .collect(),
        );
        add("aws:iam/Role", vec![name]);
    }
    let profiles = iam.list_instance_profiles().send().await.unwrap();
    add(
        "aws:iam/InstanceProfile",
        profiles
            .instance_profiles()
            .iter()
            .map(|p| p.instance_profile_name().to_string())
            .collect(),
    );

    let logs = aws_sdk_cloudwatchlogs::Client::new(config);
    let groups = logs.describe_log_groups().send().await.unwrap();
    add(
        "aws:logs/LogGroup",
        groups
            .log_groups()
            .iter()
            .filter_map(|g| g.log_group_name().map(str::to_string))
            .collect(),
    );

    let ecs = aws_sdk_ecs::Client::new(config);
    let clusters = ecs.list_clusters().send().await.unwrap();
    let cluster_arns: Vec<String> = clusters.cluster_arns().to_vec();
    if !cluster_arns.is_empty() {
        let described = ecs
            .describe_clusters()
            .set_clusters(Some(cluster_arns.clone()))
            .send()
            .await
            .unwrap();
        add(
            "aws:ecs/Cluster",
            described
                .clusters()
                .iter()
                .filter(|c| c.status() == Some("ACTIVE"))
                .filter_map(|c| c.cluster_arn().map(str::to_string))
                .collect(),
        );
    }
    for cluster in &cluster_arns {
        let services = ecs.list_services().cluster(cluster).send().await.unwrap();
        if services.service_arns().is_empty() {
            continue;
        }
        let described = ecs
            .describe_services()
            .cluster(cluster)
            .set_services(Some(services.service_arns().to_vec()))
            .send()
            .await
            .unwrap();
        add(
            "aws:ecs/Service",
            described
                .services()
                .iter()
                .filter(|s| s.status() != Some("INACTIVE"))
                .filter_map(|s| s.service_arn().map(str::to_string))
                .collect(),
        );
    }
    let tds = ecs
        .list_task_definitions()
        .status(aws_sdk_ecs::types::TaskDefinitionStatus::Active)
        .send()
        .await
        .unwrap();
    add(
        "aws:ecs/TaskDefinition",
        tds.task_definition_arns().to_vec(),
    );

    let elb = aws_sdk_elasticloadbalancingv2::Client::new(config);
    let lbs = elb.describe_load_balancers().send().await.unwrap();
    let lb_arns: Vec<String> = lbs
        .load_balancers()
        .iter()
        .filter_map(|l| l.load_balancer_arn().map(str::to_string))
        .collect();
    for lb in &lb_arns {
        let listeners = elb
            .describe_listeners()
            .load_balancer_arn(lb)
            .send()
            .await
            .unwrap();
        add(
            "aws:lb/Listener",
            listeners
                .listeners()
                .iter()
                .filter_map(|l| l.listener_arn().map(str::to_string))
                .collect(),
        );
    }
    add("aws:lb/LoadBalancer", lb_arns);
    let tgs = elb.describe_target_groups().send().await.unwrap();
    add(
        "aws:lb/TargetGroup",
        tgs.target_groups()
            .iter()
            .filter_map(|g| g.target_group_arn().map(str::to_string))
            .collect(),
    );
}

/// The same view of what the state records: every record.
pub fn of_state(records: &[ResourceRecord]) -> Inventory {
    let mut inv = Inventory::new();
    for r in records {
        let ids = inv.entry(r.ty.clone()).or_default();
        if r.ty == "aws:ec2/SecurityGroupRule" {
            ids.extend(rule_atoms_of(&r.inputs));
        } else {
            ids.push(r.id.clone());
        }
    }
    for ids in inv.values_mut() {
        ids.sort();
    }
    inv
}

/// The permissions a rule record asks for (its inputs as the state holds them).
fn rule_atoms_of(inputs: &Value) -> Vec<String> {
    let s = |k: &str| inputs[k].as_str().unwrap_or_default().to_string();
    let group = s("security_group_id");
    let (direction, protocol) = (s("direction"), s("protocol"));
    let ports = (
        inputs["from_port"].as_i64().unwrap_or(-1),
        inputs["to_port"].as_i64().unwrap_or(-1),
    );
    let mut sources: Vec<String> = inputs["cidr_blocks"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| c.as_str().map(str::to_string))
        .collect();
    sources.extend(
        inputs["source_security_group_id"]
            .as_str()
            .map(str::to_string),
    );
    sources
        .iter()
        .map(|src| rule_atom(&group, &direction, &protocol, ports, src))
        .collect()
}
