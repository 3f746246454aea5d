//! A security group's inline rules (`ingress`, `egress`): the rules a program declares, the
//! same rules as AWS holds them (one peer at a time), and bringing a group to what is declared.
//!
//! AWS keeps a permission per protocol and port range and merges peers into it, so a rule is
//! compared peer by peer ([`Key`]): what the program declared reads back as declared when every
//! one of its peers is there, and anything else the group holds reads back as extra rules, so
//! drift shows as a changed list rather than not at all.

use std::collections::BTreeMap;

use aws_sdk_ec2::types::{IpPermission, IpRange, Ipv6Range, UserIdGroupPair};
use cairn::{CheckFailure, ProviderError};
use serde::{Deserialize, Serialize};

use super::{Direction, IpProtocol};
use crate::config::Clients;
use crate::error::aws_on;

/// One rule of a [`SecurityGroup`](super::SecurityGroup)'s `ingress` or `egress`: a protocol,
/// a port range, and the peers (sources for ingress, destinations for egress) it opens to.
///
/// ```
/// use cairn_aws::ec2::Rule;
/// let https = Rule::tcp(443).cidr("0.0.0.0/0").described("HTTPS from anywhere");
/// let everything_out = Rule::all().cidr("0.0.0.0/0");
/// # let _ = (https, everything_out);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rule {
    /// The IP protocol (EC2's `IpProtocol`).
    pub protocol: IpProtocol,
    /// The first and last port; for [`IpProtocol::Icmp`] the ICMP type and code (-1: any);
    /// ignored for [`IpProtocol::All`].
    pub from_port: i32,
    /// The last port of the range (see `from_port`).
    pub to_port: i32,
    /// IPv4 ranges the rule lets in (or out to), as CIDR blocks (EC2's `IpRanges`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cidr_blocks: Vec<String>,
    /// IPv6 ranges, as CIDR blocks (EC2's `Ipv6Ranges`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ipv6_cidr_blocks: Vec<String>,
    /// Other security groups, by id.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub security_groups: Vec<String>,
    /// The group itself: its members may reach each other.
    #[serde(default, rename = "self", skip_serializing_if = "is_false")]
    pub self_: bool,
    /// What the rule is for; changed in place.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// Written with the builder a program uses (`Rule::tcp(443).cidr("0.0.0.0/0")`).
impl cairn::Literal for Rule {
    fn literal(&self) -> String {
        let mut out = match (self.protocol, self.from_port, self.to_port) {
            (IpProtocol::All, _, _) => "Rule::all()".to_string(),
            (IpProtocol::Tcp, a, b) if a == b => format!("Rule::tcp({a})"),
            (p, a, b) => format!("Rule::new({}, {a}, {b})", p.literal()),
        };
        for c in &self.cidr_blocks {
            out.push_str(&format!(".cidr({c:?})"));
        }
        for c in &self.ipv6_cidr_blocks {
            out.push_str(&format!(".ipv6_cidr({c:?})"));
        }
        for g in &self.security_groups {
            out.push_str(&format!(".group({g:?})"));
        }
        if self.self_ {
            out.push_str(".with_self()");
        }
        if let Some(d) = &self.description {
            out.push_str(&format!(".described({d:?})"));
        }
        out
    }
}

impl Rule {
    /// A rule for `protocol` over the ports `from..=to`, open to no one yet.
    pub fn new(protocol: IpProtocol, from_port: i32, to_port: i32) -> Rule {
        Rule {
            protocol,
            from_port,
            to_port,
            cidr_blocks: Vec::new(),
            ipv6_cidr_blocks: Vec::new(),
            security_groups: Vec::new(),
            self_: false,
            description: None,
        }
    }

    /// TCP on one port.
    pub fn tcp(port: i32) -> Rule {
        Rule::new(IpProtocol::Tcp, port, port)
    }

    /// Every protocol and port.
    pub fn all() -> Rule {
        Rule::new(IpProtocol::All, 0, 0)
    }

    /// Opens the rule to an IPv4 block too.
    pub fn cidr(mut self, block: impl Into<String>) -> Rule {
        self.cidr_blocks.push(block.into());
        self
    }

    /// Opens the rule to an IPv6 block too.
    pub fn ipv6_cidr(mut self, block: impl Into<String>) -> Rule {
        self.ipv6_cidr_blocks.push(block.into());
        self
    }

    /// Opens the rule to another security group's members too.
    pub fn group(mut self, id: impl Into<String>) -> Rule {
        self.security_groups.push(id.into());
        self
    }

    /// Opens the rule to the group's own members too.
    pub fn with_self(mut self) -> Rule {
        self.self_ = true;
        self
    }

    /// Describes every peer of the rule (AWS shows it beside each).
    pub fn described(mut self, text: impl Into<String>) -> Rule {
        self.description = Some(text.into());
        self
    }

    fn keys(&self, group_id: &str) -> Vec<Key> {
        let at = |peer| Key {
            protocol: self.protocol.as_str().to_string(),
            ports: ports(self.protocol.as_str(), self.from_port, self.to_port),
            peer,
        };
        let mut keys: Vec<Key> = self
            .cidr_blocks
            .iter()
            .map(|c| at(Peer::Cidr(c.clone())))
            .chain(
                self.ipv6_cidr_blocks
                    .iter()
                    .map(|c| at(Peer::Ipv6(c.clone()))),
            )
            .chain(
                self.security_groups
                    .iter()
                    .map(|g| at(Peer::Group(g.clone()))),
            )
            .collect();
        if self.self_ {
            keys.push(at(Peer::Group(group_id.to_string())));
        }
        keys
    }

    /// What is wrong with the rule, if anything.
    fn problem(&self) -> Option<String> {
        let no_peer = self.cidr_blocks.is_empty()
            && self.ipv6_cidr_blocks.is_empty()
            && self.security_groups.is_empty()
            && !self.self_;
        if no_peer {
            return Some(
                "opens to no one: give it cidr_blocks, ipv6_cidr_blocks, security_groups or self"
                    .into(),
            );
        }
        let ported = matches!(self.protocol, IpProtocol::Tcp | IpProtocol::Udp);
        let port = 0..=65535;
        if ported && !(port.contains(&self.from_port) && port.contains(&self.to_port)) {
            return Some(format!(
                "ports {}..{} are outside 0..65535",
                self.from_port, self.to_port
            ));
        }
        if ported && self.from_port > self.to_port {
            return Some(format!(
                "from_port {} is above to_port {}",
                self.from_port, self.to_port
            ));
        }
        None
    }
}

/// Checks the declared rules of `property` (`ingress` or `egress`).
pub(super) fn check(rules: Option<Vec<Rule>>, property: &str) -> Vec<CheckFailure> {
    rules
        .into_iter()
        .flatten()
        .enumerate()
        .filter_map(|(n, rule)| {
            rule.problem().map(|p| CheckFailure {
                property: Some(property.into()),
                reason: format!("rule {} ({} {}): {p}", n + 1, rule.protocol, rule.from_port),
            })
        })
        .collect()
}

/// Whom a permission opens to.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Peer {
    Cidr(String),
    Ipv6(String),
    Group(String),
}

/// One peer of one permission: what AWS adds, revokes and describes as a unit.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Key {
    protocol: String,
    /// None for every protocol, whose ports AWS ignores.
    ports: Option<(i32, i32)>,
    peer: Peer,
}

/// Each peer and its description.
type Peers = BTreeMap<Key, Option<String>>;

fn ports(protocol: &str, from: i32, to: i32) -> Option<(i32, i32)> {
    (protocol != "-1").then_some((from, to))
}

fn declared(rules: &[Rule], group_id: &str) -> Peers {
    rules
        .iter()
        .flat_map(|r| {
            r.keys(group_id)
                .into_iter()
                .map(|k| (k, r.description.clone()))
        })
        .collect()
}

fn held(permissions: &[IpPermission]) -> Peers {
    let mut peers = Peers::new();
    for p in permissions {
        let protocol = p.ip_protocol().unwrap_or("-1").to_string();
        let ports = ports(
            &protocol,
            p.from_port().unwrap_or(0),
            p.to_port().unwrap_or(0),
        );
        let mut add = |peer, description: Option<&str>| {
            let key = Key {
                protocol: protocol.clone(),
                ports,
                peer,
            };
            peers.insert(key, description.map(str::to_string));
        };
        for r in p.ip_ranges() {
            add(
                Peer::Cidr(r.cidr_ip().unwrap_or_default().into()),
                r.description(),
            );
        }
        for r in p.ipv6_ranges() {
            add(
                Peer::Ipv6(r.cidr_ipv6().unwrap_or_default().into()),
                r.description(),
            );
        }
        for g in p.user_id_group_pairs() {
            add(
                Peer::Group(g.group_id().unwrap_or_default().into()),
                g.description(),
            );
        }
    }
    peers
}

fn permission(key: &Key, description: Option<&String>) -> IpPermission {
    let (from, to) = key.ports.unwrap_or((-1, -1));
    let p = IpPermission::builder()
        .ip_protocol(&key.protocol)
        .from_port(from)
        .to_port(to);
    let description = description.cloned();
    match &key.peer {
        Peer::Cidr(c) => p.ip_ranges(
            IpRange::builder()
                .cidr_ip(c)
                .set_description(description)
                .build(),
        ),
        Peer::Ipv6(c) => p.ipv6_ranges(
            Ipv6Range::builder()
                .cidr_ipv6(c)
                .set_description(description)
                .build(),
        ),
        Peer::Group(g) => p.user_id_group_pairs(
            UserIdGroupPair::builder()
                .group_id(g)
                .set_description(description)
                .build(),
        ),
    }
    .build()
}

/// What the group holds, as the program declared it where it matches: each declared rule
/// whose every peer is held (with its description) comes back as it is; every other peer
/// comes back in a rule of its own protocol, ports and description.
pub(super) fn read_back(rules: &[Rule], permissions: &[IpPermission], group_id: &str) -> Vec<Rule> {
    let mut left = held(permissions);
    let mut out = Vec::new();
    for rule in rules {
        let keys = rule.keys(group_id);
        let whole = keys
            .iter()
            .all(|k| left.get(k).is_some_and(|d| *d == rule.description));
        if whole && !keys.is_empty() {
            for k in &keys {
                left.remove(k);
            }
            out.push(rule.clone());
        }
    }
    // By protocol, ports and description: the peers AWS holds alike, in one rule.
    type Alike = (String, Option<(i32, i32)>, Option<String>);
    let mut extra: BTreeMap<Alike, Rule> = BTreeMap::new();
    for (key, description) in left {
        let Some(protocol) = IpProtocol::parse(&key.protocol) else {
            tracing::warn!(protocol = %key.protocol, "a rule of a protocol Cairn does not model");
            continue;
        };
        let (from, to) = key.ports.unwrap_or((0, 0));
        let rule = extra
            .entry((key.protocol.clone(), key.ports, description.clone()))
            .or_insert_with(|| Rule {
                description,
                ..Rule::new(protocol, from, to)
            });
        match key.peer {
            Peer::Cidr(c) => rule.cidr_blocks.push(c),
            Peer::Ipv6(c) => rule.ipv6_cidr_blocks.push(c),
            Peer::Group(g) if g == group_id => rule.self_ = true,
            Peer::Group(g) => rule.security_groups.push(g),
        }
    }
    out.extend(extra.into_values());
    out
}

/// Brings the group's rules of one direction to `rules`: adds what is missing first (so no
/// traffic the program allows is cut off meanwhile), then revokes what is not declared
/// (AWS's default allow-all egress among it), then corrects descriptions.
pub(super) async fn converge(
    c: &Clients,
    group_id: &str,
    direction: Direction,
    rules: &[Rule],
    permissions: &[IpPermission],
) -> Result<(), ProviderError> {
    let want = declared(rules, group_id);
    let have = held(permissions);
    let add: Vec<IpPermission> = want
        .iter()
        .filter(|(k, _)| !have.contains_key(k))
        .map(|(k, d)| permission(k, d.as_ref()))
        .collect();
    let revoke: Vec<IpPermission> = have
        .iter()
        .filter(|(k, _)| !want.contains_key(k))
        .map(|(k, _)| permission(k, None))
        .collect();
    let describe: Vec<IpPermission> = want
        .iter()
        .filter(|(k, d)| have.get(k).is_some_and(|h| h != *d))
        .map(|(k, d)| permission(k, d.as_ref()))
        .collect();
    let property = direction.as_str();
    let ec2 = &c.ec2;
    match direction {
        Direction::Ingress => {
            if !add.is_empty() {
                ec2.authorize_security_group_ingress()
                    .group_id(group_id)
                    .set_ip_permissions(Some(add))
                    .send()
                    .await
                    .map_err(aws_on("AuthorizeSecurityGroupIngress", property))?;
            }
            if !revoke.is_empty() {
                ec2.revoke_security_group_ingress()
                    .group_id(group_id)
                    .set_ip_permissions(Some(revoke))
                    .send()
                    .await
                    .map_err(aws_on("RevokeSecurityGroupIngress", property))?;
            }
            if !describe.is_empty() {
                ec2.update_security_group_rule_descriptions_ingress()
                    .group_id(group_id)
                    .set_ip_permissions(Some(describe))
                    .send()
                    .await
                    .map_err(aws_on(
                        "UpdateSecurityGroupRuleDescriptionsIngress",
                        property,
                    ))?;
            }
        }
        Direction::Egress => {
            if !add.is_empty() {
                ec2.authorize_security_group_egress()
                    .group_id(group_id)
                    .set_ip_permissions(Some(add))
                    .send()
                    .await
                    .map_err(aws_on("AuthorizeSecurityGroupEgress", property))?;
            }
            if !revoke.is_empty() {
                ec2.revoke_security_group_egress()
                    .group_id(group_id)
                    .set_ip_permissions(Some(revoke))
                    .send()
                    .await
                    .map_err(aws_on("RevokeSecurityGroupEgress", property))?;
            }
            if !describe.is_empty() {
                ec2.update_security_group_rule_descriptions_egress()
                    .group_id(group_id)
                    .set_ip_permissions(Some(describe))
                    .send()
                    .await
                    .map_err(aws_on(
                        "UpdateSecurityGroupRuleDescriptionsEgress",
                        property,
                    ))?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn permission_of(rule: &Rule, group: &str) -> Vec<IpPermission> {
        declared(std::slice::from_ref(rule), group)
            .iter()
            .map(|(k, d)| permission(k, d.as_ref()))
            .collect()
    }

    #[test]
    fn declared_rules_read_back_as_declared_whatever_way_aws_groups_their_peers() {
        let rules = vec![
            Rule::tcp(443)
                .cidr("10.0.0.0/16")
                .cidr("10.1.0.0/16")
                .with_self(),
            Rule::tcp(443).group("sg-other").described("from the other"),
        ];
        let held: Vec<IpPermission> = rules
            .iter()
            .flat_map(|r| permission_of(r, "sg-me"))
            .collect();
        assert_eq!(read_back(&rules, &held, "sg-me"), rules);
    }

    #[test]
    fn a_peer_the_program_did_not_declare_reads_back_as_a_rule_of_its_own() {
        let rules = vec![Rule::tcp(80).cidr("10.0.0.0/16")];
        let mut held = permission_of(&rules[0], "sg-me");
        held.extend(permission_of(&Rule::all().cidr("0.0.0.0/0"), "sg-me"));
        assert_eq!(
            read_back(&rules, &held, "sg-me"),
            vec![rules[0].clone(), Rule::all().cidr("0.0.0.0/0")]
        );
    }

    #[test]
    fn a_rule_missing_one_peer_reads_back_without_it() {
        let rule = Rule::tcp(80).cidr("10.0.0.0/16").cidr("10.1.0.0/16");
        let held = permission_of(&Rule::tcp(80).cidr("10.1.0.0/16"), "sg-me");
        assert_eq!(
            read_back(&[rule], &held, "sg-me"),
            vec![Rule::tcp(80).cidr("10.1.0.0/16")]
        );
    }

    #[test]
    fn a_rule_open_to_no_one_or_with_ports_reversed_is_refused() {
        let failures = check(
            Some(vec![
                Rule::tcp(80),
                Rule::new(IpProtocol::Tcp, 90, 80).cidr("10.0.0.0/8"),
            ]),
            "ingress",
        );
        let reasons: Vec<&str> = failures.iter().map(|f| f.reason.as_str()).collect();
        assert_eq!(
            reasons,
            [
                "rule 1 (tcp 80): opens to no one: give it cidr_blocks, ipv6_cidr_blocks, \
                 security_groups or self",
                "rule 2 (tcp 90): from_port 90 is above to_port 80",
            ]
        );
    }
}
