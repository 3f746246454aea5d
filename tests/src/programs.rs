//! Small programs for the integration tests, run through the same command line as the default
//! program (`cairn-program` with `CAIRN_TEST_PROGRAM=<name>`), so that one binary links the SDK.

use std::collections::BTreeMap;

use cairn::random::{Password, PasswordArgs};
use cairn::{Output, ResourceOptions, Stack};
use cairn_aws::Tags;
use cairn_aws::acm::{
    Certificate, CertificateArgs, CertificateValidation, CertificateValidationArgs,
};
use cairn_aws::ec2::{Direction, InstanceTenancy, IpProtocol, VpcEndpointType, cidr_subnet};
use cairn_aws::ec2::{
    Eip, EipArgs, Instance, InstanceArgs, InternetGateway, InternetGatewayArgs, NatGateway,
    NatGatewayArgs, Route, RouteArgs, RouteTable, RouteTableArgs, VpcEndpoint, VpcEndpointArgs,
};
use cairn_aws::ec2::{
    Rule, SecurityGroup, SecurityGroupArgs, SecurityGroupRule, SecurityGroupRuleArgs, Subnet,
    SubnetArgs, Vpc, VpcArgs,
};
use cairn_aws::ecr::ImageTagMutability;
use cairn_aws::ecr::{
    Image, ImageArgs, LifecyclePolicy, LifecyclePolicyArgs, LocalImage, Repository, RepositoryArgs,
    RepositoryPolicy, RepositoryPolicyArgs,
};
use cairn_aws::ecs::{
    Cluster, ClusterArgs, ContainerDefinition, HealthCheck, PortMapping, Service, ServiceArgs,
    TaskDefinition, TaskDefinitionArgs,
};
use cairn_aws::ecs::{FargateCpu, LaunchType};
use cairn_aws::elb::{FixedResponse, Protocol, Redirect, Scheme, TargetType};
use cairn_aws::elb::{
    Listener, ListenerArgs, ListenerRule, ListenerRuleArgs, LoadBalancer, LoadBalancerArgs,
    TargetGroup, TargetGroupArgs,
};
use cairn_aws::iam::{
    InstanceProfile, InstanceProfileArgs, Role, RoleArgs, RolePolicy, RolePolicyArgs,
};
use cairn_aws::logs::{LogGroup, LogGroupArgs};
use cairn_aws::rds::{
    Instance as DbInstance, InstanceArgs as DbInstanceArgs, SubnetGroup, SubnetGroupArgs,
};
use cairn_aws::route53::{Alias, Record, RecordArgs, RecordType, Zone, ZoneArgs};
use cairn_aws::s3::{Bucket, BucketArgs, ServerSideEncryption};
use cairn_aws::secretsmanager::{Secret, SecretArgs};
use cairn_aws::ssm::{Parameter, ParameterArgs, ParameterType};
use serde_json::json;

/// The program `CAIRN_TEST_PROGRAM` names, if any.
pub fn by_name(name: &str) -> Option<fn(&mut Stack)> {
    Some(match name {
        "replacements" => replacements,
        "updates" => updates,
        "secret_tag" => secret_tag,
        "image" => image,
        "secret_stores" => secret_stores,
        "database" => database,
        "https" => https,
        "web-service" => web_service::program,
        "lookups" => lookups,
        "lookup_of_nothing" => lookup_of_nothing,
        "saved_plans" => saved_plans,
        "imported" => imported,
        _ => return None,
    })
}

/// For the secret stores test: a generated password kept in a Secrets Manager secret and in
/// a secure SSM parameter, and a plain parameter; `v=2` changes the descriptions and the
/// plain value, not the password, and renames the plain parameter (an alias keeps it).
pub fn secret_stores(stack: &mut Stack) {
    let two = stack.config().get_or("v", 1) == 2;
    let pick = |a: &str, b: &str| -> String { if two { b } else { a }.to_string() };
    let password = Password::new(
        stack,
        "db-password",
        PasswordArgs::builder().length(24).build(),
    );
    let secret = Secret::new(
        stack,
        "db-secret",
        SecretArgs::builder()
            .description(pick(
                "the database's password",
                "the database's password, v2",
            ))
            .secret_string(password.result())
            .recovery_window_in_days(0)
            .tags(Tags::from([("v".to_string(), pick("1", "2"))]))
            .build(),
    );
    Parameter::new(
        stack,
        "db-password-param",
        ParameterArgs::builder()
            .name("/web/db/password")
            .value(password.result())
            .parameter_type(ParameterType::Secure)
            .build(),
    );
    // Renamed in v2, its old name kept as an alias: the same parameter, not a new one.
    let host = Parameter::with(
        stack,
        if two { "database-host" } else { "db-host" },
        ParameterArgs::builder()
            .name("/web/db/host")
            .value(pick("db.internal", "db-2.internal"))
            .description(pick("where the database is", "where the database is now"))
            .tags(Tags::from([("v".to_string(), pick("1", "2"))]))
            .build(),
        ResourceOptions::default().alias("db-host"),
    );
    // The password in a container's environment (what `secrets` is for, but done): secret
    // where it sits, the rest of the container shown.
    let containers = cairn::compose(|c| {
        vec![ContainerDefinition {
            name: "app".into(),
            image: "nginx:1".into(),
            essential: true,
            environment: BTreeMap::from([
                ("DB_HOST".to_string(), pick("db.internal", "db-2.internal")),
                ("DB_PASSWORD".to_string(), c.text(password.result())),
            ]),
            ..ContainerDefinition::default()
        }]
    });
    TaskDefinition::new(
        stack,
        "app-task",
        TaskDefinitionArgs::builder()
            .family("secret-stores")
            .cpu(FargateCpu::Cpu256)
            .memory("512")
            .containers(containers)
            .build(),
    );
    stack.export("secretArn", secret.arn());
    stack.export("hostVersion", host.version());
}

/// Lookups against what moto holds from the start (the account, the zones, the default VPC
/// and its subnets, the public AMI parameter), feeding resources the stack makes: a subnet of
/// the default VPC in its first zone, a parameter holding the AMI id; and a VPC the stack makes,
/// looked up again by its id (read during `up`, its id not known before).
pub fn lookups(stack: &mut Stack) {
    use cairn_aws::CallerIdentity;
    use cairn_aws::ec2::{AvailabilityZones, SubnetFilter, Subnets, VpcFilter};
    use cairn_aws::ssm::{AMAZON_LINUX_2023, ParameterValue};
    let me = CallerIdentity::get(stack, "me");
    let zones = AvailabilityZones::get(stack, "zones");
    let default = Vpc::lookup(
        stack,
        "default-vpc",
        VpcFilter {
            default: Some(true),
            ..VpcFilter::default()
        },
    );
    let default_subnets = Subnets::get(
        stack,
        "default-subnets",
        SubnetFilter {
            vpc_id: Some(default.id()),
            ..SubnetFilter::default()
        },
    );
    let again = Vpc::get(stack, "default-vpc-by-id", default.id());
    let ami = ParameterValue::get(stack, "ami", AMAZON_LINUX_2023);
    let subnet = Subnet::new(
        stack,
        "extra",
        SubnetArgs::builder()
            .vpc_id(again.id())
            .cidr_block("172.31.200.0/24")
            .availability_zone(zones.names().map(|z| z[0].clone()))
            .build(),
    );
    Parameter::new(
        stack,
        "ami-id",
        ParameterArgs::builder()
            .name("/lookups/ami")
            .value(ami.value())
            .build(),
    );
    let made = Vpc::new(
        stack,
        "made",
        VpcArgs::builder().cidr_block("10.77.0.0/16").build(),
    );
    let made_again = Vpc::get(stack, "made-by-id", made.id());
    // What another team made, by the ids configuration gives: any type is looked up by id.
    let first_subnet = Subnet::get(
        stack,
        "first-default-subnet",
        default_subnets.ids().map(|ids| ids[0].clone()),
    );
    let bucket: String = stack.config().get_or("bucket", String::new());
    let role: String = stack.config().get_or("role", String::new());
    let shared_bucket = Bucket::get(stack, "shared-bucket", bucket);
    let shared_role = Role::get(stack, "shared-role", role);
    stack.export("account", me.account_id());
    stack.export("region", me.region());
    stack.export("zones", zones.names());
    stack.export("defaultVpc", default.id());
    stack.export("defaultSubnets", default_subnets.ids());
    stack.export("subnetZone", subnet.availability_zone());
    stack.export("madeCidr", made_again.cidr_block());
    stack.export("firstSubnetCidr", first_subnet.cidr_block());
    stack.export("bucketArn", shared_bucket.arn());
    stack.export("roleArn", shared_role.arn());
}

/// What `import` printed for a VPC, a subnet, a security group, a role and its policy made
/// outside Cairn (`tests/fixtures/import/`), pasted in.
pub fn imported(stack: &mut Stack) {
    let legacy_vpc: Vpc = include!("../fixtures/import/legacy_vpc.rs");
    let legacy_subnet: Subnet = include!("../fixtures/import/legacy_subnet.rs");
    let legacy_web: SecurityGroup = include!("../fixtures/import/legacy_web.rs");
    let legacy_role: Role = include!("../fixtures/import/legacy_role.rs");
    let legacy_role_read: RolePolicy = include!("../fixtures/import/legacy_role_read.rs");
    let legacy_zone: Zone = include!("../fixtures/import/legacy_zone.rs");
    let legacy_www: Record = include!("../fixtures/import/legacy_www.rs");
    stack.export("www", legacy_www.fqdn());
    stack.export("role", legacy_role.arn());
    stack.export("rolePolicy", legacy_role_read.id());
    stack.export("vpc", legacy_vpc.id());
    stack.export("subnet", legacy_subnet.id());
    stack.export("group", legacy_web.id());
}

/// For the saved-plan tests: resources Cairn names (a security group, a log group), inputs
/// known only once another resource exists (the subnet's VPC id), a secret from the
/// configuration (sealed in the plan file), and the lookup of the zones. `days` (config)
/// changes the log group in place; `SAVED_PLANS_EXTRA` (environment, not configuration) makes
/// the program declare one more log group.
pub fn saved_plans(stack: &mut Stack) {
    use cairn_aws::ec2::AvailabilityZones;
    let zones = AvailabilityZones::get(stack, "zones");
    let vpc = Vpc::new(
        stack,
        "vpc",
        VpcArgs::builder().cidr_block("10.42.0.0/16").build(),
    );
    Subnet::new(
        stack,
        "subnet",
        SubnetArgs::builder()
            .vpc_id(vpc.id())
            .cidr_block("10.42.1.0/24")
            .availability_zone(zones.names().map(|z| z[0].clone()))
            .build(),
    );
    SecurityGroup::new(
        stack,
        "group",
        SecurityGroupArgs::builder()
            .vpc_id(vpc.id())
            .description("saved plans")
            .build(),
    );
    let days: i32 = stack.config().get_or("days", 7);
    LogGroup::new(
        stack,
        "logs",
        LogGroupArgs::builder().retention_in_days(days).build(),
    );
    if let Some(token) = stack.config().get_secret("token") {
        Parameter::new(
            stack,
            "token",
            ParameterArgs::builder()
                .name("/saved-plans/token")
                .value(token)
                .build(),
        );
    }
    if std::env::var_os("SAVED_PLANS_EXTRA").is_some() {
        LogGroup::new(stack, "extra-logs", LogGroupArgs::default());
    }
    stack.export("vpcId", vpc.id());
}

/// Lookups of what does not exist: a VPC by a tag none carries, one by an id none has; a
/// security group in each.
pub fn lookup_of_nothing(stack: &mut Stack) {
    use cairn_aws::ec2::VpcFilter;
    let tagged = Vpc::lookup(
        stack,
        "main",
        VpcFilter {
            tags: Some(Output::new(Tags::from([("Name".into(), "main".into())]))),
            ..VpcFilter::default()
        },
    );
    let gone = Vpc::get(stack, "gone", "vpc-0000000000");
    // A route is read through its table: not by an id alone.
    Route::get(stack, "a-route", "rtb-0000000000_0.0.0.0/0");
    // An id left blank (a configuration value not set).
    Bucket::get(stack, "unset-bucket", "");
    for (name, vpc) in [("in-main", tagged), ("in-gone", gone)] {
        SecurityGroup::new(
            stack,
            name,
            SecurityGroupArgs::builder()
                .vpc_id(vpc.id())
                .description("never made")
                .build(),
        );
    }
}

/// A VPC of `10.<octet>.0.0/16` and a subnet of it in each of two zones (`<prefix>-a` and
/// `<prefix>-b`, its first two /24s after the zeroth).
fn vpc_in_two_zones(stack: &mut Stack, octet: u8, prefix: &str) -> (Vpc, Vec<Subnet>) {
    let vpc = Vpc::new(
        stack,
        "vpc",
        VpcArgs::builder()
            .cidr_block(format!("10.{octet}.0.0/16"))
            .build(),
    );
    let subnets = ["a", "b"]
        .iter()
        .enumerate()
        .map(|(n, zone)| {
            Subnet::new(
                stack,
                &format!("{prefix}-{zone}"),
                SubnetArgs::builder()
                    .vpc_id(vpc.id())
                    .cidr_block(format!("10.{octet}.{}.0/24", n + 1))
                    .availability_zone(format!("us-east-2{zone}"))
                    .build(),
            )
        })
        .collect();
    (vpc, subnets)
}

/// For the database test: a PostgreSQL instance in a subnet group of two zones, behind a
/// security group open to the VPC, its generated password also kept in a secret for the
/// application (with the host, as JSON); `v=2` grows it and changes its settings in place,
/// and the subnet group's tags (not its description or subnets: moto 5.2.5 loses a subnet
/// group that ModifyDBSubnetGroup changes).
pub fn database(stack: &mut Stack) {
    let two = stack.config().get_or("v", 1) == 2;
    let (vpc, subnets) = vpc_in_two_zones(stack, 20, "db");
    let group = SubnetGroup::new(
        stack,
        "db-subnets",
        SubnetGroupArgs::builder()
            .subnet_ids(subnets.iter().map(|s| s.id()).collect::<Vec<_>>())
            .description("the database's zones")
            .tags([("v", if two { "2" } else { "1" })])
            .build(),
    );
    let firewall = SecurityGroup::new(
        stack,
        "db-firewall",
        SecurityGroupArgs::builder()
            .vpc_id(vpc.id())
            .description("postgres from the VPC")
            .ingress(vec![Rule::tcp(5432).cidr("10.20.0.0/16")])
            .egress(Vec::<Rule>::new())
            .build(),
    );
    let password = Password::new(
        stack,
        "db-password",
        PasswordArgs::builder().length(32).build(),
    );
    let db = DbInstance::new(
        stack,
        "db",
        DbInstanceArgs::builder()
            .engine("postgres")
            .engine_version("16.3")
            .instance_class(if two { "db.t4g.small" } else { "db.t4g.micro" })
            .allocated_storage(if two { 30 } else { 20 })
            .db_name("app")
            .username("app")
            .password(password.result())
            .db_subnet_group_name(group.name())
            .vpc_security_group_ids(vec![firewall.id()])
            .backup_retention_period(if two { 7 } else { 1 })
            .skip_final_snapshot(true)
            .tags([("v", if two { "2" } else { "1" })])
            .build(),
    );
    // What the application reads: one JSON document, the password in it secret.
    Secret::new(
        stack,
        "db-credentials",
        SecretArgs::builder()
            .secret_string(
                cairn::json!({
                    "username": "app",
                    "password": password.result(),
                    "host": db.address(),
                    "port": db.port(),
                })
                .map(|doc| doc.to_string()),
            )
            .recovery_window_in_days(0)
            .build(),
    );
    stack.export("address", db.address());
}

/// For the HTTPS test: a public zone, a certificate validated through it, an HTTPS listener
/// holding the certificate once issued, an alias naming the load balancer, and a private zone
/// of the VPC with a TXT record; `v=2` changes the zones' comments, the TXT record, the
/// listener's security policy and the alias's health evaluation, each in place.
pub fn https(stack: &mut Stack) {
    let two = stack.config().get_or("v", 1) == 2;
    let domain = "cairn-example.com";
    let (vpc, subnets) = vpc_in_two_zones(stack, 30, "public");
    let zone = Zone::new(
        stack,
        "zone",
        ZoneArgs::builder()
            .name(domain)
            .maybe_comment(two.then(|| "the public zone".to_string()))
            .tags([("v", if two { "2" } else { "1" })])
            .build(),
    );
    let certificate = Certificate::new(
        stack,
        "certificate",
        CertificateArgs::builder()
            .domain_name(format!("app.{domain}"))
            .build(),
    );
    let (proof_name, proof_value) = certificate.validation_record();
    let validation_record = Record::new(
        stack,
        "certificate-validation-record",
        RecordArgs::builder()
            .zone_id(zone.zone_id())
            .name(proof_name)
            .record_type(RecordType::Cname)
            .ttl(60)
            .records(proof_value)
            .build(),
    );
    let validation = CertificateValidation::new(
        stack,
        "certificate-validation",
        CertificateValidationArgs::builder()
            .certificate_arn(certificate.arn())
            .validation_record_fqdns(vec![validation_record.fqdn()])
            .build(),
    );
    let lb = LoadBalancer::new(
        stack,
        "lb",
        LoadBalancerArgs::builder()
            .subnets(subnets.iter().map(|s| s.id()).collect::<Vec<_>>())
            .build(),
    );
    Listener::new(
        stack,
        "https",
        ListenerArgs::builder()
            .load_balancer_arn(lb.arn())
            .port(443)
            .protocol(Protocol::Https)
            .certificate_arn(validation.certificate_arn())
            .ssl_policy(if two {
                "ELBSecurityPolicy-TLS13-1-2-2021-06"
            } else {
                "ELBSecurityPolicy-2016-08"
            })
            .fixed_response(FixedResponse {
                status_code: "200".into(),
                content_type: Some("text/plain".into()),
                message_body: Some("hello over TLS".into()),
            })
            .build(),
    );
    Record::new(
        stack,
        "app",
        RecordArgs::builder()
            .zone_id(zone.zone_id())
            .name(format!("app.{domain}"))
            .record_type(RecordType::A)
            .alias(
                lb.dns_name()
                    .zip(&lb.zone_id())
                    .map(move |(name, zone_id)| Alias {
                        name,
                        zone_id,
                        evaluate_target_health: two,
                    }),
            )
            .build(),
    );
    let internal = Zone::new(
        stack,
        "internal-zone",
        ZoneArgs::builder()
            .name("internal.test")
            .vpc_ids(vec![vpc.id()])
            .comment(if two { "inside, v2" } else { "inside" })
            .build(),
    );
    Record::new(
        stack,
        "txt",
        RecordArgs::builder()
            .zone_id(internal.zone_id())
            .name("about.internal.test")
            .record_type(RecordType::Txt)
            .ttl(if two { 600 } else { 300 })
            .records(if two {
                vec!["\"v=2\"".to_string(), "\"owner=web\"".to_string()]
            } else {
                vec!["\"v=1\"".to_string()]
            })
            .build(),
    );
    stack.export("nameServers", zone.name_servers());
}

/// For the image test: a repository, and the OCI image layout at `imageDir` pushed into it
/// with the tag `imageTag` (default `v1`).
pub fn image(stack: &mut Stack) {
    let dir: String = stack.config().require("imageDir");
    let tag: String = stack.config().get_or("imageTag", "v1".to_string());
    let repository = Repository::new(
        stack,
        "repository",
        RepositoryArgs::builder().force_delete(true).build(),
    );
    match LocalImage::open(&dir) {
        Ok(local) => {
            let image = Image::new(
                stack,
                "image",
                ImageArgs::builder()
                    .repository(repository.name())
                    .source(local.path())
                    .digest(local.digest())
                    .tag(tag)
                    .build(),
            );
            stack.export("imageUri", image.image_uri());
        }
        Err(e) => stack.error(e.to_string()),
    }
}

/// For the secrets test: a VPC whose tag carries the secret `vpcToken`, so the secret goes
/// through a real AWS call (and back, when the tags are read).
pub fn secret_tag(stack: &mut Stack) {
    let token = stack
        .config()
        .get_secret("vpcToken")
        .unwrap_or_else(|| Output::secret_value(String::new()));
    Vpc::new(
        stack,
        "vpc",
        VpcArgs::builder()
            .cidr_block("10.9.0.0/16")
            .tags(token.map(|t| Tags::from([("token".to_string(), t)])))
            .build(),
    );
}

/// For the replacement tests: a security group (`webSgName` fixes its name; unset, Cairn names
/// it) with a port-80 rule, and with `loadBalancer=true` a load balancer, target group, listener
/// and role, each left for Cairn to name. Each has a setting that forces its replacement:
/// `webSgDescription`, `lbScheme`, `tgPort`, `rolePath`.
pub fn replacements(stack: &mut Stack) {
    let c = stack.config();
    let sg_name: Option<String> = c.get("webSgName");
    let description = c.get_or("webSgDescription", "web servers".to_string());
    let load_balancer = c.get_or("loadBalancer", false);
    let scheme = c.get_or("lbScheme", Scheme::InternetFacing);
    let tg_port = c.get_or("tgPort", 80);
    let role_path = c.get_or("rolePath", "/".to_string());
    let region = c.get_or("aws:region", "us-east-2".to_string());

    let vpc = Vpc::new(
        stack,
        "vpc",
        VpcArgs::builder().cidr_block("10.0.0.0/16").build(),
    );
    let sg = SecurityGroup::new(
        stack,
        "web",
        SecurityGroupArgs::builder()
            .vpc_id(vpc.id())
            .maybe_name(sg_name)
            .description(description)
            .build(),
    );
    SecurityGroupRule::new(
        stack,
        "http",
        SecurityGroupRuleArgs::builder()
            .security_group_id(sg.id())
            .direction(Direction::Ingress)
            .protocol(IpProtocol::Tcp)
            .from_port(80)
            .to_port(80)
            .cidr_blocks(vec!["0.0.0.0/0".to_string()])
            .build(),
    );
    stack.export("webSgId", sg.id());
    if !load_balancer {
        return;
    }
    let subnets: Vec<Subnet> = [("a", "10.0.1.0/24"), ("b", "10.0.2.0/24")]
        .into_iter()
        .map(|(zone, cidr)| {
            Subnet::new(
                stack,
                &format!("public-{zone}"),
                SubnetArgs::builder()
                    .vpc_id(vpc.id())
                    .cidr_block(cidr)
                    .availability_zone(format!("{region}{zone}"))
                    .build(),
            )
        })
        .collect();
    let lb = LoadBalancer::new(
        stack,
        "lb",
        LoadBalancerArgs::builder()
            .subnets(Output::all(subnets.iter().map(Subnet::id)))
            .security_groups(Output::all([sg.id()]))
            .scheme(scheme)
            .build(),
    );
    let tg = TargetGroup::new(
        stack,
        "tg",
        TargetGroupArgs::builder()
            .port(tg_port)
            .protocol(Protocol::Http)
            .vpc_id(vpc.id())
            .target_type(TargetType::Ip)
            .build(),
    );
    Listener::new(
        stack,
        "listener",
        ListenerArgs::builder()
            .load_balancer_arn(lb.arn())
            .port(80)
            .protocol(Protocol::Http)
            .target_group_arn(tg.arn())
            .build(),
    );
    let role = Role::new(
        stack,
        "role",
        RoleArgs::builder()
            .assume_role_policy(json!({
                "Version": "2012-10-17",
                "Statement": [{
                    "Effect": "Allow",
                    "Principal": { "Service": "ecs-tasks.amazonaws.com" },
                    "Action": "sts:AssumeRole",
                }]
            }))
            .path(role_path)
            .build(),
    );
    stack.export("lbArn", lb.arn());
    stack.export("tgArn", tg.arn());
    stack.export("roleName", role.name());
}

/// For the update test: one resource of every type that has properties AWS changes in place,
/// each of them set from `v` (`1` or `2`), so that `config set v 2` updates every one of them
/// and nothing is replaced. The resources the changes point at (a second VPC, group, route
/// table, role, target group) exist in both versions.
pub fn updates(stack: &mut Stack) {
    let two = stack.config().get_or("v", 1) == 2;
    let pick = |a: &str, b: &str| -> String { if two { b } else { a }.to_string() };
    let tags = || Some(Output::new(Tags::from([("v".to_string(), pick("1", "2"))])));
    let vpc = Vpc::new(
        stack,
        "vpc",
        VpcArgs::builder()
            .cidr_block("10.0.0.0/16")
            .enable_dns_support(two)
            .enable_dns_hostnames(two)
            .maybe_tags(tags())
            .build(),
    );
    let other_vpc = Vpc::new(
        stack,
        "other-vpc",
        VpcArgs::builder()
            .cidr_block("10.1.0.0/16")
            .instance_tenancy(InstanceTenancy::Shared)
            .assign_generated_ipv6_cidr_block(true)
            .build(),
    );
    let subnet = |stack: &mut Stack, name: &str, cidr: &str, zone: &str, changes: bool| {
        Subnet::new(
            stack,
            name,
            SubnetArgs::builder()
                .vpc_id(vpc.id())
                .cidr_block(cidr)
                .availability_zone(format!("us-east-2{zone}"))
                .map_public_ip_on_launch(changes && two)
                .maybe_tags(changes.then(tags).flatten())
                .build(),
        )
    };
    // An IPv6 subnet of the other VPC, its /64 carved from the /56 AWS gave the VPC: moved
    // to the next /64, and made to hand out IPv6 addresses.
    Subnet::new(
        stack,
        "v6-subnet",
        SubnetArgs::builder()
            .vpc_id(other_vpc.id())
            .cidr_block("10.1.1.0/24")
            .ipv6_cidr_block(other_vpc.ipv6_cidr_block().map(move |vpc| {
                let n = if two { 2 } else { 1 };
                vpc.and_then(|v| cidr_subnet(&v, 8, n)).unwrap_or_default()
            }))
            .assign_ipv6_address_on_creation(two)
            .build(),
    );
    let a = subnet(stack, "subnet-a", "10.0.1.0/24", "a", true);
    let b = subnet(stack, "subnet-b", "10.0.2.0/24", "b", false);
    InternetGateway::new(
        stack,
        "gateway",
        InternetGatewayArgs::builder()
            .vpc_id(if two { other_vpc.id() } else { vpc.id() })
            .maybe_tags(tags())
            .build(),
    );
    let table = |stack: &mut Stack, name: &str, tagged: bool| {
        RouteTable::new(
            stack,
            name,
            RouteTableArgs::builder()
                .vpc_id(vpc.id())
                .maybe_tags(if tagged { tags() } else { None })
                .build(),
        )
    };
    let rt = table(stack, "routes", true);
    let rt2 = table(stack, "other-routes", false);
    Bucket::new(
        stack,
        "bucket",
        BucketArgs::builder()
            .versioning(two)
            .encryption(if two {
                ServerSideEncryption::Kms
            } else {
                ServerSideEncryption::Aes256
            })
            .block_public_access(two)
            .policy(json!({"Version": "2012-10-17", "Statement": [{
                "Sid": pick("One", "Two"), "Effect": "Deny", "Principal": "*",
                "Action": "s3:DeleteBucket", "Resource": "*"
            }]}))
            .force_destroy(true)
            .maybe_tags(tags())
            .build(),
    );
    // A private subnet's way out: an Elastic IP, a NAT gateway holding it, a route through it.
    let nat_ip = Eip::new(
        stack,
        "nat-ip",
        EipArgs::builder().maybe_tags(tags()).build(),
    );
    let nat = NatGateway::new(
        stack,
        "nat",
        NatGatewayArgs::builder()
            .subnet_id(a.id())
            .allocation_id(nat_ip.id())
            .maybe_tags(tags())
            .build(),
    );
    Route::new(
        stack,
        "nat-route",
        RouteArgs::builder()
            .route_table_id(rt2.id())
            .destination_cidr_block("0.0.0.0/0")
            .nat_gateway_id(nat.id())
            .build(),
    );
    // The other group's rules are rule resources, AWS's default egress among them (taken
    // over, not refused as a duplicate); the group's are inline, its default egress gone.
    let sg2 = SecurityGroup::new(
        stack,
        "other-group",
        SecurityGroupArgs::builder()
            .vpc_id(vpc.id())
            .description("updates")
            .build(),
    );
    SecurityGroupRule::new(
        stack,
        "all-out",
        SecurityGroupRuleArgs::builder()
            .security_group_id(sg2.id())
            .direction(Direction::Egress)
            .protocol(IpProtocol::All)
            .from_port(0)
            .to_port(0)
            .cidr_blocks(vec!["0.0.0.0/0".to_string()])
            .build(),
    );
    let sg = SecurityGroup::new(
        stack,
        "group",
        SecurityGroupArgs::builder()
            .vpc_id(vpc.id())
            .description("updates")
            .ingress(sg2.id().map(move |other| {
                if two {
                    vec![
                        Rule::tcp(80).cidr("10.0.0.0/16").described("web, v2"),
                        Rule::tcp(443).cidr("10.0.0.0/16").group(other).with_self(),
                    ]
                } else {
                    vec![Rule::tcp(80).cidr("10.0.0.0/16").described("web")]
                }
            }))
            .egress(if two {
                vec![
                    Rule::tcp(443).cidr("0.0.0.0/0"),
                    Rule::tcp(5432).cidr("10.0.0.0/16"),
                ]
            } else {
                vec![Rule::tcp(443).cidr("0.0.0.0/0")]
            })
            .maybe_tags(tags())
            .build(),
    );
    let groups = || Output::all(if two { vec![sg2.id()] } else { vec![sg.id()] });
    let policy = |sid: &str| {
        json!({"Version": "2012-10-17", "Statement": [{
            "Sid": sid, "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "*"
        }]})
    };
    VpcEndpoint::new(
        stack,
        "s3",
        VpcEndpointArgs::builder()
            .vpc_id(vpc.id())
            .service_name("com.amazonaws.us-east-2.s3")
            .vpc_endpoint_type(VpcEndpointType::Gateway)
            .route_table_ids(Output::all(if two {
                vec![rt.id(), rt2.id()]
            } else {
                vec![rt.id()]
            }))
            .policy(policy(&pick("One", "Two")))
            .maybe_tags(tags())
            .build(),
    );
    VpcEndpoint::new(
        stack,
        "ecr-api",
        VpcEndpointArgs::builder()
            .vpc_id(vpc.id())
            .service_name("com.amazonaws.us-east-2.ecr.api")
            .vpc_endpoint_type(VpcEndpointType::Interface)
            .subnet_ids(Output::all(if two {
                vec![a.id(), b.id()]
            } else {
                vec![a.id()]
            }))
            .security_group_ids(groups())
            .private_dns_enabled(false)
            .build(),
    );
    Instance::new(
        stack,
        "host",
        InstanceArgs::builder()
            .ami("ami-03cf127a")
            .instance_type("t3.micro")
            .subnet_id(a.id())
            .security_group_ids(groups())
            .maybe_tags(tags())
            .build(),
    );

    let repo = Repository::new(
        stack,
        "repository",
        RepositoryArgs::builder()
            .image_tag_mutability(if two {
                ImageTagMutability::Immutable
            } else {
                ImageTagMutability::Mutable
            })
            .scan_on_push(two)
            .force_delete(true)
            .maybe_tags(tags())
            .build(),
    );
    RepositoryPolicy::new(
        stack,
        "repository-policy",
        RepositoryPolicyArgs::builder()
            .repository(repo.name())
            .policy(json!({"Version": "2012-10-17", "Statement": [{
                "Sid": pick("One", "Two"), "Effect": "Allow",
                "Principal": {"AWS": "arn:aws:iam::222222222222:root"},
                "Action": ["ecr:BatchGetImage"]
            }]}))
            .build(),
    );
    LifecyclePolicy::new(
        stack,
        "lifecycle",
        LifecyclePolicyArgs::builder()
            .repository(repo.name())
            .policy(json!({"rules": [{
                "rulePriority": 1, "description": "keep a few",
                "selection": {"tagStatus": "any", "countType": "imageCountMoreThan",
                              "countNumber": if two { 20 } else { 10 }},
                "action": {"type": "expire"}
            }]}))
            .build(),
    );

    let trust = |services: &[&str]| {
        json!({"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"Service": services}, "Action": "sts:AssumeRole"
        }]})
    };
    let role = Role::new(
        stack,
        "role",
        RoleArgs::builder()
            .assume_role_policy(trust(if two {
                &["ecs-tasks.amazonaws.com", "ec2.amazonaws.com"]
            } else {
                &["ecs-tasks.amazonaws.com"]
            }))
            .description(pick("first", "second"))
            .maybe_tags(tags())
            .build(),
    );
    let other_role = Role::new(
        stack,
        "other-role",
        RoleArgs::builder()
            .assume_role_policy(trust(&["ec2.amazonaws.com"]))
            .build(),
    );
    RolePolicy::new(
        stack,
        "inline",
        RolePolicyArgs::builder()
            .role(role.name())
            .name("inline")
            .policy(json!({"Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Action": pick("logs:PutLogEvents", "logs:CreateLogStream"),
                "Resource": "*"
            }]}))
            .build(),
    );
    InstanceProfile::new(
        stack,
        "profile",
        InstanceProfileArgs::builder()
            .role(if two { other_role.name() } else { role.name() })
            .build(),
    );
    LogGroup::new(
        stack,
        "logs",
        LogGroupArgs::builder()
            .retention_in_days(if two { 14 } else { 7 })
            .maybe_tags(tags())
            .build(),
    );

    let lb = LoadBalancer::new(
        stack,
        "lb",
        LoadBalancerArgs::builder()
            .subnets(Output::all([a.id(), b.id()]))
            .security_groups(groups())
            .maybe_tags(tags())
            .build(),
    );
    let target_group = |stack: &mut Stack, name: &str, main: bool| {
        TargetGroup::new(
            stack,
            name,
            TargetGroupArgs::builder()
                .port(80)
                .protocol(Protocol::Http)
                .vpc_id(vpc.id())
                .target_type(TargetType::Ip)
                .health_check_path(if main {
                    pick("/", "/healthz")
                } else {
                    "/".to_string()
                })
                .health_check_interval_seconds(if main && two { 10 } else { 30 })
                .health_check_timeout_seconds(if main && two { 4 } else { 5 })
                .healthy_threshold_count(if main && two { 2 } else { 5 })
                .unhealthy_threshold_count(if main && two { 3 } else { 2 })
                .matcher(if main && two { "200-299" } else { "200" })
                .maybe_tags(if main { tags() } else { None })
                .build(),
        )
    };
    let tg = target_group(stack, "tg", true);
    let tg2 = target_group(stack, "other-tg", false);
    let listener = Listener::new(
        stack,
        "listener",
        ListenerArgs::builder()
            .load_balancer_arn(lb.arn())
            .port(if two { 8080 } else { 80 })
            .protocol(Protocol::Http)
            .target_group_arn(if two { tg2.arn() } else { tg.arn() })
            .build(),
    );
    // A rule moves, matches more (another path, a host, a method) and answers itself.
    ListenerRule::new(
        stack,
        "api-rule",
        ListenerRuleArgs::builder()
            .listener_arn(listener.arn())
            .priority(if two { 20 } else { 10 })
            .path_patterns(if two {
                vec!["/api/*".to_string(), "/v2/*".to_string()]
            } else {
                vec!["/api/*".to_string()]
            })
            .maybe_host_headers(two.then(|| vec!["api.example.com".to_string()]))
            .maybe_http_request_methods(two.then(|| vec!["GET".to_string()]))
            .maybe_target_group_arn((!two).then(|| tg.arn()))
            .maybe_fixed_response(two.then(|| FixedResponse {
                status_code: "404".into(),
                content_type: Some("text/plain".into()),
                message_body: Some("no such api".into()),
            }))
            .maybe_tags(tags())
            .build(),
    );
    // Port 81 answers without a target group: a redirect to HTTPS, then a fixed answer.
    Listener::new(
        stack,
        "redirect",
        ListenerArgs::builder()
            .load_balancer_arn(lb.arn())
            .port(81)
            .protocol(Protocol::Http)
            .maybe_redirect((!two).then(|| Redirect {
                status_code: "HTTP_301".into(),
                protocol: Some("HTTPS".into()),
                port: Some("443".into()),
                ..Default::default()
            }))
            .maybe_fixed_response(two.then(|| FixedResponse {
                status_code: "503".into(),
                content_type: Some("text/plain".into()),
                message_body: Some("down for maintenance".into()),
            }))
            .build(),
    );

    let cluster = Cluster::new(
        stack,
        "cluster",
        ClusterArgs::builder().maybe_tags(tags()).build(),
    );
    let task = TaskDefinition::new(
        stack,
        "task",
        TaskDefinitionArgs::builder()
            .family("updates")
            .cpu(FargateCpu::Cpu256)
            .memory("512")
            // A new image is a new task definition: the service moves to it in place.
            .containers(vec![ContainerDefinition {
                name: "web".into(),
                image: pick("nginx:1", "nginx:2"),
                essential: true,
                port_mappings: vec![
                    PortMapping::tcp(80),
                    PortMapping::udp(if two { 8125 } else { 8126 }),
                ],
                secrets: BTreeMap::from([(
                    "DB_PASSWORD".to_string(),
                    "arn:aws:secretsmanager:us-east-2:123456789012:secret:db-password".to_string(),
                )]),
                entry_point: vec!["/docker-entrypoint.sh".into()],
                command: vec![
                    "nginx".into(),
                    "-g".into(),
                    pick("daemon off;", "daemon off; worker_processes 2;"),
                ],
                cpu: Some(128),
                memory: Some(256),
                health_check: Some(HealthCheck {
                    command: vec![
                        "CMD-SHELL".into(),
                        "curl -f http://localhost/ || exit 1".into(),
                    ],
                    interval: Some(15),
                    retries: Some(2),
                    ..Default::default()
                }),
                ..Default::default()
            }])
            .build(),
    );
    Service::new(
        stack,
        "service",
        ServiceArgs::builder()
            .cluster(cluster.arn())
            .task_definition(task.arn())
            .desired_count(if two { 2 } else { 1 })
            .launch_type(LaunchType::Fargate)
            .subnets(Output::all(if two {
                vec![a.id(), b.id()]
            } else {
                vec![a.id()]
            }))
            .security_groups(groups())
            .maybe_tags(tags())
            .build(),
    );
}
