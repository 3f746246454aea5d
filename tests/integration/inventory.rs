//! What exists in moto for a stack, read through the AWS SDK in both accounts: the ground truth
//! the crash and fault tests compare the state against.

use std::collections::BTreeMap;

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_ec2::types::Filter;

pub const ROLE_B: &str = "arn:aws:iam::222222222222:role/cairn-deployer";

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

/// Resource type token -> ids of what exists, duplicates kept (sorted).
pub type Inventory = BTreeMap<&'static str, Vec<String>>;

/// Every top-level resource of the stack `stack` in both accounts: EC2 by the stack tag, the
/// rest by listing (each moto here serves only this test).
pub async fn of_stack(endpoint: &str, stack: &str) -> Inventory {
    let mut inv = Inventory::new();
    for role in [None, Some(ROLE_B)] {
        let config = sdk(endpoint, role).await;
        ec2(&config, stack, &mut inv).await;
        others(&config, &mut inv).await;
    }
    inv.retain(|_, ids| !ids.is_empty());
    for ids in inv.values_mut() {
        ids.sort();
    }
    inv
}

async fn ec2(config: &SdkConfig, stack: &str, inv: &mut Inventory) {
    let ec2 = aws_sdk_ec2::Client::new(config);
    let tagged = || {
        Filter::builder()
            .name("tag:cairn:stack")
            .values(stack)
            .build()
    };
    let mut add = |ty: &'static str, ids: Vec<Option<&str>>| {
        inv.entry(ty)
            .or_default()
            .extend(ids.into_iter().flatten().map(str::to_string));
    };
    let out = ec2.describe_vpcs().filters(tagged()).send().await.unwrap();
    add(
        "aws:ec2/Vpc",
        out.vpcs().iter().map(|x| x.vpc_id()).collect(),
    );
    let out = ec2
        .describe_subnets()
        .filters(tagged())
        .send()
        .await
        .unwrap();
    add(
        "aws:ec2/Subnet",
        out.subnets().iter().map(|x| x.subnet_id()).collect(),
    );
    let out = ec2
        .describe_internet_gateways()
        .filters(tagged())
        .send()
        .await
        .unwrap();
    add(
        "aws:ec2/InternetGateway",
        out.internet_gateways()
            .iter()
            .map(|x| x.internet_gateway_id())
            .collect(),
    );
    let out = ec2
        .describe_route_tables()
        .filters(tagged())
        .send()
        .await
        .unwrap();
    add(
        "aws:ec2/RouteTable",
        out.route_tables()
            .iter()
            .map(|x| x.route_table_id())
            .collect(),
    );
    let out = ec2
        .describe_security_groups()
        .filters(tagged())
        .send()
        .await
        .unwrap();
    add(
        "aws:ec2/SecurityGroup",
        out.security_groups().iter().map(|x| x.group_id()).collect(),
    );
    let out = ec2
        .describe_vpc_endpoints()
        .filters(tagged())
        .send()
        .await
        .unwrap();
    add(
        "aws:ec2/VpcEndpoint",
        out.vpc_endpoints()
            .iter()
            // EC2 sends states in lower case, which the SDK's enum does not recognise.
            .filter(|e| {
                let state = e.state().map(|s| s.as_str().to_ascii_lowercase());
                !matches!(state.as_deref(), Some("deleted" | "deleting"))
            })
            .map(|x| x.vpc_endpoint_id())
            .collect(),
    );
}

async fn others(config: &SdkConfig, inv: &mut Inventory) {
    let mut add = |ty: &'static str, ids: Vec<String>| inv.entry(ty).or_default().extend(ids);

    let ecr = aws_sdk_ecr::Client::new(config);
    let repos = ecr.describe_repositories().send().await.unwrap();
    add(
        "aws:ecr/Repository",
        repos
            .repositories()
            .iter()
            .filter_map(|r| r.repository_name().map(str::to_string))
            .collect(),
    );

    let iam = aws_sdk_iam::Client::new(config);
    let roles = iam.list_roles().send().await.unwrap();
    add(
        "aws:iam/Role",
        roles
            .roles()
            .iter()
            .map(|r| r.role_name().to_string())
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

/// The same view of what the state records (types the inventory covers).
pub fn of_state(records: &[cairn_state::ResourceRecord]) -> Inventory {
    let covered = [
        "aws:ec2/Vpc",
        "aws:ec2/Subnet",
        "aws:ec2/InternetGateway",
        "aws:ec2/RouteTable",
        "aws:ec2/SecurityGroup",
        "aws:ec2/VpcEndpoint",
        "aws:ecr/Repository",
        "aws:iam/Role",
        "aws:logs/LogGroup",
        "aws:ecs/Cluster",
        "aws:ecs/Service",
        "aws:ecs/TaskDefinition",
        "aws:lb/LoadBalancer",
        "aws:lb/Listener",
        "aws:lb/TargetGroup",
    ];
    let mut inv = Inventory::new();
    for r in records {
        if let Some(ty) = covered.iter().find(|t| **t == r.ty) {
            inv.entry(ty).or_default().push(r.id.clone());
        }
    }
    for ids in inv.values_mut() {
        ids.sort();
    }
    inv
}
