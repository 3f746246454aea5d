//! The way in: the domain's zone, a certificate validated through it, a public load balancer
//! answering HTTPS with it (and redirecting HTTP), and the domain's alias to the load balancer.

use cairn::{ResourceOptions, Stack};
use cairn_aws::acm::{
    Certificate, CertificateArgs, CertificateValidation, CertificateValidationArgs,
};
use cairn_aws::ec2::{Rule, SecurityGroup, SecurityGroupArgs};
use cairn_aws::elb::{
    Listener, ListenerArgs, LoadBalancer, LoadBalancerArgs, Protocol, Redirect, TargetGroup,
    TargetGroupArgs, TargetType,
};
use cairn_aws::route53::{Alias, Record, RecordArgs, RecordType, Zone, ZoneArgs};

use crate::Settings;
use crate::network::Network;

/// The port the containers listen on.
pub(crate) const PORT: i32 = 80;

pub(crate) struct Edge {
    pub zone: Zone,
    pub load_balancer: LoadBalancer,
    pub security_group: SecurityGroup,
    pub target_group: TargetGroup,
    pub https: Listener,
}

pub(crate) fn declare(stack: &mut Stack, s: &Settings, net: &Network) -> Edge {
    let zone = Zone::new(
        stack,
        "zone",
        ZoneArgs::builder().name(&s.domain).tags(s.tags()).build(),
    );
    let certificate = Certificate::new(
        stack,
        "certificate",
        CertificateArgs::builder()
            .domain_name(&s.domain)
            .tags(s.tags())
            .build(),
    );
    // One domain, one proof (the certificate's create waits until AWS has made it).
    let (proof_name, proof_value) = certificate.validation_record();
    let proof_record = Record::new(
        stack,
        "certificate-proof",
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
            .validation_record_fqdns(vec![proof_record.fqdn()])
            .build(),
    );

    let security_group = SecurityGroup::new(
        stack,
        "firewall",
        SecurityGroupArgs::builder()
            .vpc_id(net.vpc.id())
            .description("HTTP and HTTPS from anywhere to the load balancer")
            .ingress(vec![
                Rule::tcp(80)
                    .cidr("0.0.0.0/0")
                    .described("HTTP, redirected"),
                Rule::tcp(443).cidr("0.0.0.0/0").described("HTTPS"),
            ])
            .egress(vec![
                Rule::tcp(PORT)
                    .cidr("10.40.0.0/16")
                    .described("to the tasks"),
            ])
            .tags(s.tags())
            .build(),
    );
    let load_balancer = LoadBalancer::new(
        stack,
        "load-balancer",
        LoadBalancerArgs::builder()
            .subnets(net.public.iter().map(|s| s.id()).collect::<Vec<_>>())
            .security_groups(vec![security_group.id()])
            .tags(s.tags())
            .build(),
    );
    let target_group = TargetGroup::new(
        stack,
        "target-group",
        TargetGroupArgs::builder()
            .port(PORT)
            .protocol(Protocol::Http)
            .vpc_id(net.vpc.id())
            .target_type(TargetType::Ip)
            .health_check_path("/")
            .matcher("200-399")
            .tags(s.tags())
            .build(),
    );
    let https = Listener::new(
        stack,
        "https",
        ListenerArgs::builder()
            .load_balancer_arn(load_balancer.arn())
            .port(443)
            .protocol(Protocol::Https)
            // The validated certificate: the listener waits until it is issued.
            .certificate_arn(validation.certificate_arn())
            .ssl_policy("ELBSecurityPolicy-TLS13-1-2-2021-06")
            .target_group_arn(target_group.arn())
            .build(),
    );
    Listener::new(
        stack,
        "http",
        ListenerArgs::builder()
            .load_balancer_arn(load_balancer.arn())
            .port(80)
            .protocol(Protocol::Http)
            .redirect(Redirect {
                status_code: "HTTP_301".into(),
                protocol: Some("HTTPS".into()),
                port: Some("443".into()),
                ..Default::default()
            })
            .build(),
    );
    Record::with(
        stack,
        "domain",
        RecordArgs::builder()
            .zone_id(zone.zone_id())
            .name(&s.domain)
            .record_type(RecordType::A)
            .alias(
                load_balancer
                    .dns_name()
                    .zip(&load_balancer.zone_id())
                    .map(|(name, zone_id)| Alias {
                        name,
                        zone_id,
                        evaluate_target_health: true,
                    }),
            )
            .build(),
        // Pointing the name at the load balancer once it serves HTTPS.
        ResourceOptions::default().depends_on(&https),
    );
    Edge {
        zone,
        load_balancer,
        security_group,
        target_group,
        https,
    }
}
