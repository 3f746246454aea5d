//! Route 53: `aws:route53/Zone` (a public or private hosted zone) and `aws:route53/Record`
//! (one record set: values with a TTL, or an alias to a load balancer or another AWS name).

use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_route53::types::{
    AliasTarget, Change, ChangeAction, ChangeBatch, ChangeStatus, HostedZoneConfig, ResourceRecord,
    ResourceRecordSet, RrType, Vpc, VpcRegion,
};
use cairn::{CheckFailure, PropMap, ProviderError, ResourceContext};
use serde::{Deserialize, Serialize};

use crate::config::Clients;
use crate::error::{aws, aws_on, code, gone};
use crate::resource::{AwsResource, by_record, declared};
use crate::tagging::Tagging;
use crate::{AwsProvider, Tags, wait};

/// A hosted zone: public, or private to the VPCs given. The records AWS makes with it (its
/// `NS` and `SOA`) come and go with it. Route 53 is global: the zone is the account's,
/// whatever the provider's region.
///
/// ```no_run
/// # fn program(stack: &mut cairn::Stack, vpc: &cairn_aws::ec2::Vpc) {
/// use cairn::Output;
/// use cairn_aws::route53::{Zone, ZoneArgs};
/// let internal = Zone::new(stack, "internal", ZoneArgs::builder()
///     .name("internal.example.com")
///     .vpc_ids(Output::all([vpc.id()]))
///     .build());
/// # }
/// ```
#[cairn::resource(token = "aws:route53/Zone", provider = AwsProvider)]
#[api(calls(
    CreateHostedZone,
    GetHostedZone,
    ListHostedZonesByName,
    UpdateHostedZoneComment,
    AssociateVPCWithHostedZone,
    DisassociateVPCFromHostedZone,
    ListResourceRecordSets,
    ChangeResourceRecordSets,
    GetChange,
    DeleteHostedZone
))]
pub struct Zone {
    /// The domain (`example.com`).
    #[replace]
    pub name: String,
    /// What the zone is for.
    #[api(name = "HostedZoneConfig.Comment", default = "none")]
    pub comment: Option<String>,
    /// Private to these VPCs (changed in place, at least one kept). A zone cannot change
    /// between public and private.
    #[unordered]
    #[api(name = "VPC", default = "a public zone")]
    pub vpc_ids: Option<Vec<String>>,
    /// Delete the records it still holds when it is deleted (AWS refuses otherwise).
    #[api(cairn, default = "`false`: a zone holding records is not deleted")]
    pub force_destroy: Option<bool>,
    #[tags]
    pub tags: Option<Tags>,
    #[output]
    pub zone_id: String,
    #[output]
    pub name_servers: Vec<String>,
}

cairn::string_enum! {
    /// The type of a [`Record`].
    pub enum RecordType {
        A = "A",
        Aaaa = "AAAA",
        Cname = "CNAME",
        Txt = "TXT",
        Mx = "MX",
        Ns = "NS",
        Srv = "SRV",
        Caa = "CAA",
    }
}

/// An alias: the record answers with what another AWS name answers (a load balancer's
/// `dns_name` and `zone_id`), at no charge and with no TTL of its own.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alias {
    /// The AWS name answered with (a load balancer's `dns_name`).
    pub name: String,
    /// The hosted zone of that name (a load balancer's `zone_id`, not the record's zone).
    pub zone_id: String,
    /// Whether Route 53 answers only while the target is healthy (`false` unless set).
    #[serde(default)]
    pub evaluate_target_health: bool,
}

/// One record set of a zone: `records` with a `ttl`, or an `alias` (exactly one). Each
/// change is waited for until Route 53 has it on every server (`GetChange`).
///
/// ```no_run
/// # fn program(stack: &mut cairn::Stack, zone: &cairn_aws::route53::Zone, alb: &cairn_aws::elb::LoadBalancer) {
/// use cairn_aws::route53::{Alias, Record, RecordArgs, RecordType};
/// Record::new(stack, "www", RecordArgs::builder()
///     .zone_id(zone.zone_id())
///     .name("www.example.com")
///     .record_type(RecordType::A)
///     .alias(alb.dns_name().zip(&alb.zone_id()).map(|(name, zone_id)| Alias {
///         name,
///         zone_id,
///         evaluate_target_health: false,
///     }))
///     .build());
/// # }
/// ```
#[cairn::resource(token = "aws:route53/Record", provider = AwsProvider)]
#[api(calls(ChangeResourceRecordSets, ListResourceRecordSets, GetChange))]
#[unique(key(name, record_type), within(zone_id))]
pub struct Record {
    /// The zone's id.
    #[replace]
    #[api(name = "HostedZoneId")]
    pub zone_id: String,
    /// The full name (`www.example.com`).
    #[replace]
    pub name: String,
    /// The record's type.
    #[replace]
    #[api(name = "Type")]
    pub record_type: RecordType,
    /// Seconds resolvers may keep the answer; not for an alias.
    #[api(name = "TTL", default = "300 (none for an alias)")]
    pub ttl: Option<i64>,
    /// The answers (addresses, names, text), in the type's own syntax.
    #[unordered]
    #[api(name = "ResourceRecords", default = "none: the record is an `alias`")]
    pub records: Option<Vec<String>>,
    /// Answer with an AWS resource's addresses (a load balancer), free of charge.
    #[api(name = "AliasTarget", default = "none: the record has `records`")]
    pub alias: Option<Alias>,
    #[output]
    pub fqdn: String,
}

/// Zone ids as Route 53 returns them (`/hostedzone/Z123`) and as it takes them (`Z123`).
fn bare(id: &str) -> &str {
    id.trim_start_matches("/hostedzone/")
}

/// A domain name as a program writes it: no trailing dot, `*` for a wildcard.
fn plain(name: &str) -> String {
    name.trim_end_matches('.')
        .replace("\\052", "*")
        .to_ascii_lowercase()
}

/// Waits for a change to reach every Route 53 server (seconds on AWS).
async fn in_sync(c: &Clients, change: Option<&str>) -> Result<(), ProviderError> {
    let Some(change) = change else {
        return Ok(());
    };
    wait::until(
        "the Route 53 change to be in sync",
        Duration::from_secs(600),
        || async {
            let out = c
                .route53
                .get_change()
                .id(change)
                .send()
                .await
                .map_err(aws("GetChange"))?;
            Ok(
                (out.change_info().map(|i| i.status()) == Some(&ChangeStatus::Insync))
                    .then_some(()),
            )
        },
    )
    .await
}

fn vpc(c: &Clients, id: &str) -> Vpc {
    Vpc::builder()
        .vpc_id(id)
        .vpc_region(VpcRegion::from(c.region.as_str()))
        .build()
}

#[async_trait]
impl AwsResource for Zone {
    const TAGS: Tagging = Tagging::Route53;

    async fn create(
        c: &Clients,
        _ctx: &ResourceContext,
        token: &str,
        i: &ZoneInputs,
    ) -> Result<(String, ZoneOutputs), ProviderError> {
        let vpcs = i.vpc_ids.clone().unwrap_or_default();
        let config = HostedZoneConfig::builder()
            .set_comment(i.comment.clone())
            .private_zone(i.vpc_ids.is_some())
            .build();
        let out = c
            .route53
            .create_hosted_zone()
            .name(&i.name)
            // Unique per request: a create sent twice makes one zone.
            .caller_reference(token)
            .hosted_zone_config(config)
            .set_vpc(vpcs.first().map(|v| vpc(c, v)))
            .send()
            .await
            .map_err(aws_on("CreateHostedZone", "name"))?;
        let id = out
            .hosted_zone()
            .map(|z| bare(z.id()).to_string())
            .unwrap_or_default();
        for v in vpcs.iter().skip(1) {
            c.route53
                .associate_vpc_with_hosted_zone()
                .hosted_zone_id(&id)
                .vpc(vpc(c, v))
                .send()
                .await
                .map_err(aws_on("AssociateVPCWithHostedZone", "vpc_ids"))?;
        }
        in_sync(c, out.change_info().map(|i| i.id())).await?;
        let name_servers = out
            .delegation_set()
            .map(|d| d.name_servers().to_vec())
            .unwrap_or_default();
        Ok((
            id.clone(),
            ZoneOutputs {
                zone_id: id,
                name_servers,
            },
        ))
    }

    async fn find(
        c: &Clients,
        _ctx: &ResourceContext,
        _token: &str,
        i: &Self::Inputs,
    ) -> Result<Vec<String>, ProviderError> {
        let out = c
            .route53
            .list_hosted_zones_by_name()
            .dns_name(&i.name)
            .send()
            .await
            .map_err(aws("ListHostedZonesByName"))?;
        Ok(out
            .hosted_zones()
            .iter()
            .filter(|z| plain(z.name()) == plain(&i.name))
            .map(|z| bare(z.id()).to_string())
            .collect())
    }

    async fn read(
        c: &Clients,
        id: &str,
        i: Option<&ZoneInputs>,
    ) -> Result<Option<(ZoneInputs, ZoneOutputs)>, ProviderError> {
        let out = match c.route53.get_hosted_zone().id(id).send().await {
            Ok(out) => out,
            Err(e) if code(&e).as_deref() == Some("NoSuchHostedZone") => return Ok(None),
            Err(e) => return Err(aws("GetHostedZone")(e)),
        };
        let Some(z) = out.hosted_zone() else {
            return Ok(None);
        };
        let private = z.config().is_some_and(|c| c.private_zone());
        let vpcs: Vec<String> = out
            .vpcs()
            .iter()
            .filter_map(|v| v.vpc_id().map(str::to_string))
            .collect();
        let now = ZoneInputs {
            name: plain(z.name()),
            comment: z
                .config()
                .and_then(|c| c.comment())
                .filter(|c| !c.is_empty())
                .map(str::to_string),
            vpc_ids: private.then_some(vpcs),
            // How a delete goes: nothing AWS holds until then.
            force_destroy: i.and_then(|i| i.force_destroy),
            tags: None,
        };
        let name_servers = out
            .delegation_set()
            .map(|d| d.name_servers().to_vec())
            .unwrap_or_default();
        Ok(Some((
            now,
            ZoneOutputs {
                zone_id: id.to_string(),
                name_servers,
            },
        )))
    }

    async fn update(
        c: &Clients,
        _ctx: &ResourceContext,
        id: &str,
        old: &ZoneInputs,
        new: &ZoneInputs,
    ) -> Result<ZoneOutputs, ProviderError> {
        if old.comment != new.comment {
            c.route53
                .update_hosted_zone_comment()
                .id(id)
                .comment(new.comment.clone().unwrap_or_default())
                .send()
                .await
                .map_err(aws_on("UpdateHostedZoneComment", "comment"))?;
        }
        match (&old.vpc_ids, &new.vpc_ids) {
            (Some(was), Some(now)) => {
                // Associate first: a private zone keeps at least one VPC throughout.
                for v in now.iter().filter(|v| !was.contains(v)) {
                    c.route53
                        .associate_vpc_with_hosted_zone()
                        .hosted_zone_id(id)
                        .vpc(vpc(c, v))
                        .send()
                        .await
                        .map_err(aws_on("AssociateVPCWithHostedZone", "vpc_ids"))?;
                }
                for v in was.iter().filter(|v| !now.contains(v)) {
                    c.route53
                        .disassociate_vpc_from_hosted_zone()
                        .hosted_zone_id(id)
                        .vpc(vpc(c, v))
                        .send()
                        .await
                        .map_err(aws_on("DisassociateVPCFromHostedZone", "vpc_ids"))?;
                }
            }
            (None, None) => {}
            _ => {
                return Err(ProviderError::on_property(
                    "vpc_ids",
                    "a hosted zone cannot change between public and private: declare a new one",
                ));
            }
        }
        let (_, outputs) = Self::read(c, id, Some(new))
            .await?
            .ok_or_else(|| ProviderError::new(format!("hosted zone {id} disappeared")))?;
        Ok(outputs)
    }

    async fn delete(
        c: &Clients,
        id: &str,
        i: &ZoneInputs,
        _o: &ZoneOutputs,
    ) -> Result<(), ProviderError> {
        if i.force_destroy == Some(true) {
            let sets = c
                .route53
                .list_resource_record_sets()
                .hosted_zone_id(id)
                .send()
                .await;
            let sets = match sets {
                Err(e) if code(&e).as_deref() == Some("NoSuchHostedZone") => return Ok(()),
                r => r.map_err(aws("ListResourceRecordSets"))?,
            };
            let apex = plain(&i.name);
            let changes: Vec<Change> = sets
                .resource_record_sets()
                .iter()
                .filter(|s| {
                    !(plain(s.name()) == apex && matches!(s.r#type(), RrType::Ns | RrType::Soa))
                })
                .filter_map(|s| {
                    Change::builder()
                        .action(ChangeAction::Delete)
                        .resource_record_set(s.clone())
                        .build()
                        .ok()
                })
                .collect();
            if !changes.is_empty() {
                let batch = ChangeBatch::builder()
                    .set_changes(Some(changes))
                    .build()
                    .map_err(|e| ProviderError::new(e.to_string()))?;
                c.route53
                    .change_resource_record_sets()
                    .hosted_zone_id(id)
                    .change_batch(batch)
                    .send()
                    .await
                    .map_err(aws("ChangeResourceRecordSets"))?;
            }
        }
        gone(
            c.route53.delete_hosted_zone().id(id).send().await,
            "DeleteHostedZone",
        )
    }
}

impl RecordInputs {
    fn set(&self) -> Result<ResourceRecordSet, ProviderError> {
        let mut b = ResourceRecordSet::builder()
            .name(&self.name)
            .r#type(RrType::from(self.record_type.as_str()));
        if let Some(a) = &self.alias {
            let target = AliasTarget::builder()
                .dns_name(&a.name)
                .hosted_zone_id(&a.zone_id)
                .evaluate_target_health(a.evaluate_target_health)
                .build()
                .map_err(|e| ProviderError::on_property("alias", e.to_string()))?;
            b = b.alias_target(target);
        } else {
            b = b.ttl(self.ttl.unwrap_or(300));
            for r in self.records.iter().flatten() {
                let rr = ResourceRecord::builder()
                    .value(r)
                    .build()
                    .map_err(|e| ProviderError::on_property("records", e.to_string()))?;
                b = b.resource_records(rr);
            }
        }
        b.build()
            .map_err(|e| ProviderError::on_property("name", e.to_string()))
    }

    fn id(&self) -> String {
        format!(
            "{}_{}_{}",
            self.zone_id,
            plain(&self.name),
            self.record_type
        )
    }

    /// Creates or upserts the record set (deletes go by what the zone holds).
    async fn change(&self, c: &Clients, action: ChangeAction) -> Result<(), ProviderError> {
        let property = if self.alias.is_some() {
            "alias"
        } else {
            "records"
        };
        submit(c, &self.zone_id, action, self.set()?, property).await
    }
}

/// Sends one change of one record set, and waits until it is in sync.
async fn submit(
    c: &Clients,
    zone_id: &str,
    action: ChangeAction,
    set: ResourceRecordSet,
    property: &str,
) -> Result<(), ProviderError> {
    let change = Change::builder()
        .action(action)
        .resource_record_set(set)
        .build()
        .map_err(|e| ProviderError::new(e.to_string()))?;
    let batch = ChangeBatch::builder()
        .changes(change)
        .build()
        .map_err(|e| ProviderError::new(e.to_string()))?;
    let out = c
        .route53
        .change_resource_record_sets()
        .hosted_zone_id(zone_id)
        .change_batch(batch)
        .send()
        .await
        .map_err(aws_on("ChangeResourceRecordSets", property))?;
    in_sync(c, out.change_info().map(|i| i.id())).await
}

/// The record set of this name and type, if the zone holds one.
async fn find_set(
    c: &Clients,
    i: &RecordInputs,
) -> Result<Option<ResourceRecordSet>, ProviderError> {
    let out = c
        .route53
        .list_resource_record_sets()
        .hosted_zone_id(&i.zone_id)
        .start_record_name(&i.name)
        .start_record_type(RrType::from(i.record_type.as_str()))
        .max_items(1)
        .send()
        .await;
    let out = match out {
        Err(e) if code(&e).as_deref() == Some("NoSuchHostedZone") => return Ok(None),
        r => r.map_err(aws("ListResourceRecordSets"))?,
    };
    Ok(out
        .resource_record_sets()
        .iter()
        .find(|s| {
            plain(s.name()) == plain(&i.name) && s.r#type().as_str() == i.record_type.as_str()
        })
        .cloned())
}

#[async_trait]
impl AwsResource for Record {
    const LOOKUP_BY_ID: bool = false;
    const IMPORT_ID: Option<&'static str> = Some("`<zone id>_<name>_<type>`");

    fn seed(id: &str) -> Option<RecordInputs> {
        // A name may hold `_` (`_acme-challenge.…`); a zone id and a type never do.
        let (zone_id, rest) = id.split_once('_')?;
        let (name, record_type) = rest.rsplit_once('_')?;
        Some(RecordInputs {
            zone_id: zone_id.to_string(),
            name: name.to_string(),
            record_type: RecordType::parse(record_type)?,
            ttl: None,
            records: None,
            alias: None,
        })
    }

    /// Values or an alias, not both; a TTL only with values.
    fn check(inputs: &PropMap) -> Vec<CheckFailure> {
        let (records, alias) = (declared(inputs, "records"), declared(inputs, "alias"));
        let mut failures = Vec::new();
        if records == alias {
            failures.push(CheckFailure {
                property: Some("records".into()),
                reason: "a record has `records` (with a `ttl`) or an `alias`: set exactly one"
                    .into(),
            });
        }
        if alias && declared(inputs, "ttl") {
            failures.push(CheckFailure {
                property: Some("ttl".into()),
                reason: "an alias answers with its target's TTL: leave `ttl` unset".into(),
            });
        }
        failures
    }

    async fn create(
        c: &Clients,
        _ctx: &ResourceContext,
        _token: &str,
        i: &RecordInputs,
    ) -> Result<(String, RecordOutputs), ProviderError> {
        i.change(c, ChangeAction::Create).await?;
        Ok((
            i.id(),
            RecordOutputs {
                fqdn: plain(&i.name),
            },
        ))
    }

    fn id_from_inputs(i: &Self::Inputs) -> Option<String> {
        Some(i.id())
    }

    async fn read(
        c: &Clients,
        _id: &str,
        i: Option<&RecordInputs>,
    ) -> Result<Option<(RecordInputs, RecordOutputs)>, ProviderError> {
        let i = by_record(i, Self::TYPE)?;
        let Some(set) = find_set(c, i).await? else {
            return Ok(None);
        };
        // AWS writes names with a trailing dot, in lower case: the same name as declared is
        // the declared spelling.
        let as_declared = |declared: Option<&str>, held: &str| match declared {
            Some(d) if plain(d) == plain(held) => d.to_string(),
            _ => plain(held),
        };
        let alias = set.alias_target().map(|a| Alias {
            name: as_declared(i.alias.as_ref().map(|d| d.name.as_str()), a.dns_name()),
            zone_id: a.hosted_zone_id().to_string(),
            evaluate_target_health: a.evaluate_target_health(),
        });
        let now = RecordInputs {
            zone_id: i.zone_id.clone(),
            name: as_declared(Some(&i.name), set.name()),
            record_type: i.record_type,
            ttl: set.ttl(),
            records: alias.is_none().then(|| {
                set.resource_records()
                    .iter()
                    .map(|r| r.value().to_string())
                    .collect()
            }),
            alias,
        };
        Ok(Some((
            now,
            RecordOutputs {
                fqdn: plain(&i.name),
            },
        )))
    }

    async fn update(
        c: &Clients,
        _ctx: &ResourceContext,
        _id: &str,
        _old: &RecordInputs,
        new: &RecordInputs,
    ) -> Result<RecordOutputs, ProviderError> {
        new.change(c, ChangeAction::Upsert).await?;
        Ok(RecordOutputs {
            fqdn: plain(&new.name),
        })
    }

    async fn delete(
        c: &Clients,
        _id: &str,
        i: &RecordInputs,
        _o: &RecordOutputs,
    ) -> Result<(), ProviderError> {
        // Route 53 deletes a record set only given exactly as it is.
        match find_set(c, i).await? {
            None => Ok(()),
            Some(held) => submit(c, &i.zone_id, ChangeAction::Delete, held, "records").await,
        }
    }
}

cairn::literal_via_serde!(Alias);
