//! RDS: `aws:rds/SubnetGroup` (where a database may run) and `aws:rds/Instance` (a database
//! server: PostgreSQL, MySQL, MariaDB, …).

use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_rds::types::{DbInstance, DbSubnetGroup, Tag};
use cairn::{CheckFailure, PropMap, ProviderError, ResourceContext};

use crate::config::Clients;
use crate::error::{aws, aws_on, code, gone};
use crate::names;
use crate::resource::{AwsResource, known};
use crate::tagging::Tagging;
use crate::{AwsProvider, Tags, tags, wait};

/// The subnets a database may be placed in (at least two availability zones).
///
/// ```no_run
/// # fn program(stack: &mut cairn::Stack, private: &[cairn_aws::ec2::Subnet], sg: &cairn_aws::ec2::SecurityGroup) {
/// use cairn::Output;
/// use cairn::random::{Password, PasswordArgs};
/// use cairn_aws::rds::{Instance, InstanceArgs, SubnetGroup, SubnetGroupArgs};
/// let subnets = SubnetGroup::new(stack, "db-subnets", SubnetGroupArgs::builder()
///     .subnet_ids(Output::all(private.iter().map(|s| s.id())))
///     .build());
/// let password = Password::new(stack, "db-password", PasswordArgs::builder().length(24).build());
/// let db = Instance::new(stack, "db", InstanceArgs::builder()
///     .engine("postgres")
///     .instance_class("db.t4g.micro")
///     .allocated_storage(20)
///     .username("app")
///     .password(password.result())
///     .db_subnet_group_name(subnets.name())
///     .vpc_security_group_ids(Output::all([sg.id()]))
///     .skip_final_snapshot(true)
///     .build());
/// stack.export("dbHost", db.address());
/// # }
/// ```
#[cairn::resource(token = "aws:rds/SubnetGroup", provider = AwsProvider)]
#[api(calls(
    CreateDBSubnetGroup,
    DescribeDBSubnetGroups,
    ModifyDBSubnetGroup,
    DeleteDBSubnetGroup
))]
pub struct SubnetGroup {
    /// The group's name, lower case.
    #[replace]
    #[unique(name = names::RDS)]
    #[api(
        name = "DBSubnetGroupName",
        values = "up to 255 lowercase letters, digits, spaces and `._-`"
    )]
    pub name: String,
    /// What the group is for (RDS requires one).
    #[api(name = "DBSubnetGroupDescription", default = "`Managed by Cairn`")]
    pub description: Option<String>,
    /// Its subnets, in two availability zones or more.
    #[unordered]
    pub subnet_ids: Vec<String>,
    #[tags]
    pub tags: Option<Tags>,
    #[output]
    pub name: String,
    #[output]
    pub arn: String,
}

/// A database instance. It is available (its `address` answers) when the create returns.
/// Its master password is secret to Cairn (masked, sealed) and cannot be read back, so a
/// password changed by hand is not seen as drift.
///
/// Deleting takes a final snapshot named `<identifier>-final` unless `skip_final_snapshot`.
/// See [`SubnetGroup`] for an example.
#[cairn::resource(token = "aws:rds/Instance", provider = AwsProvider)]
#[api(calls(
    CreateDBInstance,
    DescribeDBInstances,
    ModifyDBInstance,
    DeleteDBInstance
))]
pub struct Instance {
    /// The instance's identifier, lower case.
    #[replace]
    #[unique(name = names::RDS_INSTANCE)]
    #[api(
        name = "DBInstanceIdentifier",
        values = "1 to 63 lowercase letters, digits and `-`, starting with a letter"
    )]
    pub identifier: String,
    /// The database engine.
    #[replace]
    #[api(values = "`postgres`, `mysql`, `mariadb`, … (RDS's engine names)")]
    pub engine: String,
    /// The engine's version (`16.3`; a major version upgrade is allowed).
    #[api(default = "AWS's default version of the engine")]
    pub engine_version: Option<String>,
    /// The instance's size: `db.t4g.micro`, …
    #[api(name = "DBInstanceClass")]
    pub instance_class: String,
    /// Storage, in GiB (AWS only grows it).
    #[api(values = "20 to 65,536 GiB for `gp2`/`gp3`")]
    pub allocated_storage: i32,
    /// The storage's kind.
    #[api(default = "`gp2`", values = "`gp3`, `gp2`, `io1`, `io2`, `standard`")]
    pub storage_type: Option<String>,
    /// Whether the storage is encrypted (with the account's `aws/rds` key).
    #[replace]
    #[api(default = "`false`")]
    pub storage_encrypted: Option<bool>,
    /// A standby in another availability zone.
    #[api(name = "MultiAZ", default = "`false`")]
    pub multi_az: Option<bool>,
    /// The database created with the instance.
    #[replace]
    #[api(
        name = "DBName",
        default = "none (the engine's default databases only)"
    )]
    pub db_name: Option<String>,
    /// The master user.
    #[replace]
    #[api(
        name = "MasterUsername",
        values = "1 to 16 letters and digits, starting with a letter"
    )]
    pub username: String,
    /// The master user's password (`cairn::random::Password` makes a good one).
    #[secret]
    #[api(
        name = "MasterUserPassword",
        values = "8 to 128 printable characters but `/`, `@`, `\"` and space"
    )]
    pub password: String,
    /// The [`SubnetGroup`] to place it in.
    #[replace]
    #[api(name = "DBSubnetGroupName", default = "the default VPC")]
    pub db_subnet_group_name: Option<String>,
    /// Its security groups.
    #[unordered]
    #[api(default = "the VPC's default group")]
    pub vpc_security_group_ids: Option<Vec<String>>,
    /// Whether it has a public address.
    #[api(default = "`false` in a subnet group of private subnets")]
    pub publicly_accessible: Option<bool>,
    /// Days of automated backups.
    #[api(default = "1", values = "0 (off) to 35")]
    pub backup_retention_period: Option<i32>,
    /// Refuse deletion (by anyone) while set.
    #[api(default = "`false`")]
    pub deletion_protection: Option<bool>,
    /// Delete without a final snapshot.
    #[api(cairn, default = "`false`: a final snapshot is taken")]
    pub skip_final_snapshot: Option<bool>,
    #[tags]
    pub tags: Option<Tags>,
    #[output]
    pub identifier: String,
    #[output]
    pub arn: String,
    /// The host name clients connect to.
    #[output]
    pub address: String,
    #[output]
    pub port: i32,
}

fn rds_tags(ctx: &ResourceContext, user: Option<&Tags>) -> Vec<Tag> {
    tags::with_cairn(ctx, user)
        .into_iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect()
}

const DESCRIPTION: &str = "Managed by Cairn";

async fn describe_group(c: &Clients, name: &str) -> Result<Option<DbSubnetGroup>, ProviderError> {
    match c
        .rds
        .describe_db_subnet_groups()
        .db_subnet_group_name(name)
        .send()
        .await
    {
        Ok(out) => Ok(out.db_subnet_groups().first().cloned()),
        Err(e) if code(&e).as_deref() == Some("DBSubnetGroupNotFoundFault") => Ok(None),
        Err(e) => Err(aws("DescribeDBSubnetGroups")(e)),
    }
}

fn group_outputs(g: &DbSubnetGroup) -> SubnetGroupOutputs {
    SubnetGroupOutputs {
        name: g.db_subnet_group_name().unwrap_or_default().to_string(),
        arn: g.db_subnet_group_arn().unwrap_or_default().to_string(),
    }
}

#[async_trait]
impl AwsResource for SubnetGroup {
    const TAGS: Tagging = Tagging::RdsSubnetGroup;

    async fn create(
        c: &Clients,
        ctx: &ResourceContext,
        _token: &str,
        i: &SubnetGroupInputs,
    ) -> Result<(String, SubnetGroupOutputs), ProviderError> {
        let out = c
            .rds
            .create_db_subnet_group()
            .db_subnet_group_name(&i.name)
            .db_subnet_group_description(i.description.as_deref().unwrap_or(DESCRIPTION))
            .set_subnet_ids(Some(i.subnet_ids.clone()))
            .set_tags(Some(rds_tags(ctx, i.tags.as_ref())))
            .send()
            .await
            .map_err(aws_on("CreateDBSubnetGroup", "subnet_ids"))?;
        let g = out
            .db_subnet_group()
            .ok_or_else(|| ProviderError::new("CreateDBSubnetGroup returned nothing"))?;
        Ok((i.name.clone(), group_outputs(g)))
    }

    fn id_from_inputs(i: &Self::Inputs) -> Option<String> {
        Some(i.name.clone())
    }

    async fn read(
        c: &Clients,
        id: &str,
        i: Option<&SubnetGroupInputs>,
    ) -> Result<Option<(SubnetGroupInputs, SubnetGroupOutputs)>, ProviderError> {
        let Some(g) = describe_group(c, id).await? else {
            return Ok(None);
        };
        let description = g.db_subnet_group_description().map(str::to_string);
        let now = SubnetGroupInputs {
            name: id.to_string(),
            // AWS's copy of the default is the default.
            description: match (i.and_then(|i| i.description.as_ref()), description) {
                (None, Some(d)) if d == DESCRIPTION => None,
                (_, d) => d,
            },
            subnet_ids: g
                .subnets()
                .iter()
                .filter_map(|s| s.subnet_identifier().map(str::to_string))
                .collect(),
            tags: None,
        };
        Ok(Some((now, group_outputs(&g))))
    }

    async fn update(
        c: &Clients,
        _ctx: &ResourceContext,
        id: &str,
        old: &SubnetGroupInputs,
        new: &SubnetGroupInputs,
    ) -> Result<SubnetGroupOutputs, ProviderError> {
        // Tags alone need no call. (moto 5.2.5 loses a group it modifies, so the test
        // changes only its tags.)
        let same =
            old.description == new.description && cairn::same_set(&old.subnet_ids, &new.subnet_ids);
        if same {
            let g = describe_group(c, id)
                .await?
                .ok_or_else(|| ProviderError::new(format!("subnet group {id} disappeared")))?;
            return Ok(group_outputs(&g));
        }
        let out = c
            .rds
            .modify_db_subnet_group()
            .db_subnet_group_name(id)
            .db_subnet_group_description(new.description.as_deref().unwrap_or(DESCRIPTION))
            .set_subnet_ids(Some(new.subnet_ids.clone()))
            .send()
            .await
            .map_err(aws_on("ModifyDBSubnetGroup", "subnet_ids"))?;
        let g = out
            .db_subnet_group()
            .ok_or_else(|| ProviderError::new("ModifyDBSubnetGroup returned nothing"))?;
        Ok(group_outputs(g))
    }

    async fn delete(
        c: &Clients,
        id: &str,
        _i: &SubnetGroupInputs,
        _o: &SubnetGroupOutputs,
    ) -> Result<(), ProviderError> {
        // Still in use while an instance in it is being deleted.
        wait::retry_on(
            &["InvalidDBSubnetGroupStateFault"],
            Duration::from_secs(600),
            || async {
                gone(
                    c.rds
                        .delete_db_subnet_group()
                        .db_subnet_group_name(id)
                        .send()
                        .await,
                    "DeleteDBSubnetGroup",
                )
            },
        )
        .await
    }
}

/// The instance, being deleted or not.
async fn describe_any(c: &Clients, id: &str) -> Result<Option<DbInstance>, ProviderError> {
    match c
        .rds
        .describe_db_instances()
        .db_instance_identifier(id)
        .send()
        .await
    {
        Ok(out) => Ok(out.db_instances().first().cloned()),
        Err(e) if code(&e).as_deref() == Some("DBInstanceNotFound") => Ok(None),
        Err(e) => Err(aws("DescribeDBInstances")(e)),
    }
}

/// The instance, unless it is gone or going (which is gone, to a program).
async fn describe_instance(c: &Clients, id: &str) -> Result<Option<DbInstance>, ProviderError> {
    Ok(describe_any(c, id)
        .await?
        .filter(|d| d.db_instance_status() != Some("deleting")))
}

fn instance_outputs(d: &DbInstance) -> InstanceOutputs {
    let endpoint = d.endpoint();
    InstanceOutputs {
        identifier: d.db_instance_identifier().unwrap_or_default().to_string(),
        arn: d.db_instance_arn().unwrap_or_default().to_string(),
        address: endpoint
            .and_then(|e| e.address())
            .unwrap_or_default()
            .to_string(),
        port: endpoint.and_then(|e| e.port()).unwrap_or_default(),
    }
}

/// Waits until the instance is available again (after a create or a modification): minutes
/// on AWS, polled on Cairn's own backoff.
async fn available(c: &Clients, id: &str) -> Result<DbInstance, ProviderError> {
    wait::until(
        &format!("database {id} to become available"),
        Duration::from_secs(3600),
        || async {
            let d = describe_instance(c, id)
                .await?
                .ok_or_else(|| ProviderError::new(format!("database {id} disappeared")))?;
            Ok(match d.db_instance_status() {
                Some("available") => Some(d),
                Some("failed" | "incompatible-parameters" | "storage-full") => {
                    return Err(ProviderError::new(format!(
                        "database {id} is {}",
                        d.db_instance_status().unwrap_or_default()
                    )));
                }
                _ => None,
            })
        },
    )
    .await
}

#[async_trait]
impl AwsResource for Instance {
    const TAGS: Tagging = Tagging::RdsInstance;

    fn check(inputs: &PropMap) -> Vec<CheckFailure> {
        let mut failures = Vec::new();
        if let Some(p) = known::<String>(inputs, "password") {
            let bad = p.chars().find(|c| matches!(c, '/' | '@' | '"' | ' '));
            if !(8..=128).contains(&p.chars().count()) || bad.is_some() {
                failures.push(CheckFailure {
                    property: Some("password".into()),
                    reason: "RDS takes 8 to 128 printable characters, but not '/', '@', '\"' \
                             or space"
                        .into(),
                });
            }
        }
        if let Some(d) = known::<i32>(inputs, "backup_retention_period")
            && !(0..=35).contains(&d)
        {
            failures.push(CheckFailure {
                property: Some("backup_retention_period".into()),
                reason: format!("{d} is outside 0..35 days"),
            });
        }
        failures
    }

    async fn create(
        c: &Clients,
        ctx: &ResourceContext,
        _token: &str,
        i: &InstanceInputs,
    ) -> Result<(String, InstanceOutputs), ProviderError> {
        c.rds
            .create_db_instance()
            .db_instance_identifier(&i.identifier)
            .engine(&i.engine)
            .set_engine_version(i.engine_version.clone())
            .db_instance_class(&i.instance_class)
            .allocated_storage(i.allocated_storage)
            .set_storage_type(i.storage_type.clone())
            .set_storage_encrypted(i.storage_encrypted)
            .set_multi_az(i.multi_az)
            .set_db_name(i.db_name.clone())
            .master_username(&i.username)
            .master_user_password(&i.password)
            .set_db_subnet_group_name(i.db_subnet_group_name.clone())
            .set_vpc_security_group_ids(i.vpc_security_group_ids.clone())
            .set_publicly_accessible(i.publicly_accessible)
            .set_backup_retention_period(i.backup_retention_period)
            .set_deletion_protection(i.deletion_protection)
            .set_tags(Some(rds_tags(ctx, i.tags.as_ref())))
            .send()
            .await
            .map_err(|e| {
                let prop = match code(&e).as_deref() {
                    Some("DBSubnetGroupNotFoundFault") => "db_subnet_group_name",
                    Some("InvalidParameterValue") => "engine",
                    _ => "identifier",
                };
                aws_on("CreateDBInstance", prop)(e)
            })?;
        let d = available(c, &i.identifier).await?;
        Ok((i.identifier.clone(), instance_outputs(&d)))
    }

    fn id_from_inputs(i: &Self::Inputs) -> Option<String> {
        Some(i.identifier.clone())
    }

    async fn read(
        c: &Clients,
        id: &str,
        i: Option<&InstanceInputs>,
    ) -> Result<Option<(InstanceInputs, InstanceOutputs)>, ProviderError> {
        let Some(d) = describe_instance(c, id).await? else {
            return Ok(None);
        };
        let text = |v: Option<&str>| v.map(str::to_string);
        let groups: Vec<String> = d
            .vpc_security_groups()
            .iter()
            .filter_map(|g| text(g.vpc_security_group_id()))
            .collect();
        let now = InstanceInputs {
            identifier: id.to_string(),
            engine: d.engine().unwrap_or_default().to_string(),
            engine_version: text(d.engine_version()),
            instance_class: d.db_instance_class().unwrap_or_default().to_string(),
            allocated_storage: d.allocated_storage().unwrap_or_default(),
            storage_type: text(d.storage_type()),
            storage_encrypted: d.storage_encrypted(),
            multi_az: d.multi_az(),
            db_name: text(d.db_name()),
            username: d.master_username().unwrap_or_default().to_string(),
            // Never returned by AWS.
            password: i.map(|i| i.password.clone()).unwrap_or_default(),
            db_subnet_group_name: d
                .db_subnet_group()
                .and_then(|g| text(g.db_subnet_group_name())),
            vpc_security_group_ids: (!groups.is_empty()).then_some(groups),
            publicly_accessible: d.publicly_accessible(),
            backup_retention_period: d.backup_retention_period(),
            deletion_protection: d.deletion_protection(),
            // How a delete goes: nothing AWS holds until then.
            skip_final_snapshot: i.and_then(|i| i.skip_final_snapshot),
            tags: None,
        };
        Ok(Some((now, instance_outputs(&d))))
    }

    /// What changed, in one ModifyDBInstance applied at once (not at the next maintenance
    /// window, which would leave the state ahead of the database), then waited for.
    async fn update(
        c: &Clients,
        _ctx: &ResourceContext,
        id: &str,
        old: &InstanceInputs,
        new: &InstanceInputs,
    ) -> Result<InstanceOutputs, ProviderError> {
        fn changed<T: PartialEq + Clone>(old: &T, new: &T) -> Option<T> {
            (old != new).then(|| new.clone())
        }
        let version = changed(&old.engine_version, &new.engine_version).flatten();
        let req = c
            .rds
            .modify_db_instance()
            .db_instance_identifier(id)
            .apply_immediately(true)
            .set_allow_major_version_upgrade(version.is_some().then_some(true))
            .set_engine_version(version)
            .set_db_instance_class(changed(&old.instance_class, &new.instance_class))
            .set_allocated_storage(changed(&old.allocated_storage, &new.allocated_storage))
            .set_storage_type(changed(&old.storage_type, &new.storage_type).flatten())
            .set_multi_az(changed(&old.multi_az, &new.multi_az).map(|v| v.unwrap_or(false)))
            .set_master_user_password(changed(&old.password, &new.password))
            .set_vpc_security_group_ids(
                changed(&old.vpc_security_group_ids, &new.vpc_security_group_ids).flatten(),
            )
            .set_publicly_accessible(
                changed(&old.publicly_accessible, &new.publicly_accessible)
                    .map(|v| v.unwrap_or(false)),
            )
            .set_backup_retention_period(
                changed(&old.backup_retention_period, &new.backup_retention_period).flatten(),
            )
            .set_deletion_protection(
                changed(&old.deletion_protection, &new.deletion_protection)
                    .map(|v| v.unwrap_or(false)),
            );
        let what = (
            &new.engine_version,
            &new.instance_class,
            new.allocated_storage,
            &new.storage_type,
            new.multi_az,
            &new.password,
            &new.vpc_security_group_ids,
            new.publicly_accessible,
            new.backup_retention_period,
            new.deletion_protection,
        );
        let was = (
            &old.engine_version,
            &old.instance_class,
            old.allocated_storage,
            &old.storage_type,
            old.multi_az,
            &old.password,
            &old.vpc_security_group_ids,
            old.publicly_accessible,
            old.backup_retention_period,
            old.deletion_protection,
        );
        // Tags and the delete settings alone need no call.
        if what != was {
            req.send()
                .await
                .map_err(aws_on("ModifyDBInstance", "instance_class"))?;
        }
        Ok(instance_outputs(&available(c, id).await?))
    }

    async fn delete(
        c: &Clients,
        id: &str,
        i: &InstanceInputs,
        _o: &InstanceOutputs,
    ) -> Result<(), ProviderError> {
        let skip = i.skip_final_snapshot == Some(true);
        gone(
            c.rds
                .delete_db_instance()
                .db_instance_identifier(id)
                .skip_final_snapshot(skip)
                .set_final_db_snapshot_identifier((!skip).then(|| format!("{id}-final")))
                .send()
                .await,
            "DeleteDBInstance",
        )?;
        // Its subnet group and security groups are in use until it is gone, not only going.
        wait::until(
            &format!("database {id} to be deleted"),
            Duration::from_secs(3600),
            || async { Ok(describe_any(c, id).await?.is_none().then_some(())) },
        )
        .await
    }
}
