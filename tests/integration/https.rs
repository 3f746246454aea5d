//! HTTPS as a service gets it (`cairn_tests::programs::https`): a public hosted zone, an ACM
//! certificate validated through a record in it, an HTTPS listener holding the certificate
//! once issued, an alias record naming the load balancer, and a private zone of the VPC.
//! Created, read back through the SDK, changed in place, drift repaired, destroyed.

use cairn_tests::{Cli, Moto};

const BIN: &str = env!("CARGO_BIN_EXE_cairn-program");

/// The record set of `name` and `kind` in `zone`.
async fn record(
    r53: &aws_sdk_route53::Client,
    zone: &str,
    name: &str,
    kind: aws_sdk_route53::types::RrType,
) -> Option<aws_sdk_route53::types::ResourceRecordSet> {
    let out = r53
        .list_resource_record_sets()
        .hosted_zone_id(zone)
        .send()
        .await
        .unwrap();
    out.resource_record_sets()
        .iter()
        .find(|s| s.name().trim_end_matches('.') == name && s.r#type() == &kind)
        .cloned()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_certificate_is_validated_through_dns_and_served_over_https_behind_an_alias() {
    use aws_sdk_route53::types::RrType;
    let moto = Moto::start();
    let cli = Cli::new(BIN, &moto).program("https");
    cli.ok(&["config", "set", "aws:region", "us-east-2"]);
    cli.ok(&["up", "--yes"]);
    let id = crate::inventory::ids(&cli, None);

    let config = crate::inventory::sdk(&moto.endpoint, None).await;
    let r53 = aws_sdk_route53::Client::new(&config);
    let acm = aws_sdk_acm::Client::new(&config);
    let elb = aws_sdk_elasticloadbalancingv2::Client::new(&config);

    // The certificate is issued, and its proof is in the zone.
    let cert = acm
        .describe_certificate()
        .certificate_arn(&id["certificate"])
        .send()
        .await
        .unwrap();
    let cert = cert.certificate().unwrap();
    assert_eq!(
        cert.status(),
        Some(&aws_sdk_acm::types::CertificateStatus::Issued)
    );
    let proof = cert.domain_validation_options()[0]
        .resource_record()
        .unwrap();
    let cname = record(
        &r53,
        &id["zone"],
        proof.name().trim_end_matches('.'),
        RrType::Cname,
    )
    .await
    .expect("the validation record");
    assert_eq!(
        cname.resource_records()[0].value().trim_end_matches('.'),
        proof.value().trim_end_matches('.')
    );
    // The listener serves the certificate; the alias names the load balancer.
    let listeners = elb
        .describe_listeners()
        .listener_arns(&id["https"])
        .send()
        .await
        .unwrap();
    let listener = &listeners.listeners()[0];
    assert_eq!(listener.protocol().map(|p| p.as_str()), Some("HTTPS"));
    assert_eq!(
        listener.certificates()[0].certificate_arn(),
        Some(id["certificate"].as_str())
    );
    let lbs = elb
        .describe_load_balancers()
        .load_balancer_arns(&id["lb"])
        .send()
        .await
        .unwrap();
    let lb = &lbs.load_balancers()[0];
    let app = record(&r53, &id["zone"], "app.cairn-example.com", RrType::A)
        .await
        .expect("the alias record");
    let alias = app.alias_target().unwrap();
    assert_eq!(
        alias.dns_name().trim_end_matches('.').to_ascii_lowercase(),
        lb.dns_name().unwrap().to_ascii_lowercase()
    );
    // The private zone belongs to the VPC.
    let internal = r53
        .get_hosted_zone()
        .id(&id["internal-zone"])
        .send()
        .await
        .unwrap();
    assert_eq!(internal.vpcs()[0].vpc_id(), Some(id["vpc"].as_str()));
    let outputs = cli.ok(&["outputs", "--json"]).stdout;
    assert!(outputs.contains("nameServers"), "{outputs}");
    assert!(cli.ok(&["preview"]).stdout.contains("Plan: no changes"));

    // v=2: comments, a record's values and TTL, the security policy, the alias's health
    // evaluation, the zone's tags: each in place.
    cli.ok(&["config", "set", "v", "2"]);
    let up = cli.ok(&["up", "--yes"]);
    assert!(up.stdout.contains("Update: 5 updated"), "{}", up.stdout);
    assert_eq!(crate::inventory::ids(&cli, None), id, "nothing replaced");
    let txt = record(
        &r53,
        &id["internal-zone"],
        "about.internal.test",
        RrType::Txt,
    )
    .await
    .unwrap();
    let mut values: Vec<&str> = txt.resource_records().iter().map(|r| r.value()).collect();
    values.sort();
    assert_eq!(
        (txt.ttl(), values),
        (Some(600), vec!["\"owner=web\"", "\"v=2\""]),
        "txt: records, ttl"
    );
    let zone = r53.get_hosted_zone().id(&id["zone"]).send().await.unwrap();
    assert_eq!(
        zone.hosted_zone()
            .and_then(|z| z.config())
            .and_then(|c| c.comment()),
        Some("the public zone"),
        "zone: comment"
    );
    let tags = r53
        .list_tags_for_resource()
        .resource_type(aws_sdk_route53::types::TagResourceType::Hostedzone)
        .resource_id(&id["zone"])
        .send()
        .await
        .unwrap();
    assert!(
        tags.resource_tag_set()
            .unwrap()
            .tags()
            .iter()
            .any(|t| t.key() == Some("v") && t.value() == Some("2")),
        "zone: tags"
    );
    let listeners = elb
        .describe_listeners()
        .listener_arns(&id["https"])
        .send()
        .await
        .unwrap();
    assert_eq!(
        listeners.listeners()[0].ssl_policy(),
        Some("ELBSecurityPolicy-TLS13-1-2-2021-06"),
        "https: ssl_policy"
    );
    let app = record(&r53, &id["zone"], "app.cairn-example.com", RrType::A)
        .await
        .unwrap();
    assert!(
        app.alias_target().unwrap().evaluate_target_health(),
        "app: alias"
    );
    assert!(cli.ok(&["preview"]).stdout.contains("Plan: no changes"));

    // A record changed behind Cairn's back: reported, put back.
    let by_hand = aws_sdk_route53::types::ResourceRecordSet::builder()
        .name("about.internal.test")
        .r#type(RrType::Txt)
        .ttl(600)
        .resource_records(
            aws_sdk_route53::types::ResourceRecord::builder()
                .value("\"by-hand\"")
                .build()
                .unwrap(),
        )
        .build()
        .unwrap();
    let change = aws_sdk_route53::types::Change::builder()
        .action(aws_sdk_route53::types::ChangeAction::Upsert)
        .resource_record_set(by_hand)
        .build()
        .unwrap();
    r53.change_resource_record_sets()
        .hosted_zone_id(&id["internal-zone"])
        .change_batch(
            aws_sdk_route53::types::ChangeBatch::builder()
                .changes(change)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let refresh = cli.ok(&["refresh", "--yes"]).stdout;
    assert!(
        refresh.contains("txt (") && refresh.contains("~ records"),
        "{refresh}"
    );
    cli.ok(&["up", "--yes"]);
    let txt = record(
        &r53,
        &id["internal-zone"],
        "about.internal.test",
        RrType::Txt,
    )
    .await
    .unwrap();
    assert_eq!(txt.resource_records().len(), 2, "txt: repaired");

    cli.ok(&["destroy", "--yes"]);
    let zones = r53.list_hosted_zones().send().await.unwrap();
    assert!(
        zones.hosted_zones().is_empty(),
        "{:?}",
        zones.hosted_zones()
    );
    let certs = acm.list_certificates().send().await.unwrap();
    assert!(
        certs.certificate_summary_list().is_empty(),
        "{:?}",
        certs.certificate_summary_list()
    );
}
