//! The database: PostgreSQL in the database subnets, reachable from the service only, its
//! generated master password kept sealed in the state and handed to the service through a
//! Secrets Manager secret.

use cairn::Stack;
use cairn::random::{Password, PasswordArgs};
use cairn_aws::ec2::{Rule, SecurityGroup, SecurityGroupArgs};
use cairn_aws::rds::{Instance, InstanceArgs, SubnetGroup, SubnetGroupArgs};
use cairn_aws::secretsmanager::{Secret, SecretArgs};

use crate::Settings;
use crate::network::Network;

pub(crate) struct Database {
    pub instance: Instance,
    pub password: Secret,
    pub security_group: SecurityGroup,
}

pub(crate) fn declare(stack: &mut Stack, s: &Settings, net: &Network) -> Database {
    let subnets = SubnetGroup::new(
        stack,
        "subnets",
        SubnetGroupArgs::builder()
            .subnet_ids(net.database.iter().map(|s| s.id()).collect::<Vec<_>>())
            .description("the web service's database")
            .tags(s.tags())
            .build(),
    );
    // PostgreSQL from the private tier, where the service runs; nothing out.
    let security_group = SecurityGroup::new(
        stack,
        "firewall",
        SecurityGroupArgs::builder()
            .vpc_id(net.vpc.id())
            .description("PostgreSQL from the private subnets")
            .ingress(vec![
                Rule::tcp(5432)
                    .cidr("10.40.10.0/24")
                    .cidr("10.40.11.0/24")
                    .described("the service"),
            ])
            .egress(Vec::<Rule>::new())
            .tags(s.tags())
            .build(),
    );
    let generated = Password::new(
        stack,
        "password",
        PasswordArgs::builder().length(32).build(),
    );
    let instance = Instance::new(
        stack,
        "instance",
        InstanceArgs::builder()
            .engine("postgres")
            .engine_version("16.3")
            .instance_class(&s.db_instance_class)
            .allocated_storage(20)
            .storage_type("gp3")
            .storage_encrypted(true)
            .multi_az(false)
            .db_name("web")
            .username("web")
            .password(generated.result())
            .db_subnet_group_name(subnets.name())
            .vpc_security_group_ids(vec![security_group.id()])
            .backup_retention_period(7)
            .skip_final_snapshot(s.stack != "prod")
            .tags(s.tags())
            .build(),
    );
    let password = Secret::new(
        stack,
        "password-secret",
        SecretArgs::builder()
            .description("the web service's database password")
            .secret_string(generated.result())
            .recovery_window_in_days(if s.stack == "prod" { 30 } else { 0 })
            .tags(s.tags())
            .build(),
    );
    Database {
        instance,
        password,
        security_group,
    }
}
