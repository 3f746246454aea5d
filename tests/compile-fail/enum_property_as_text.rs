// A rule's direction is `Direction::Egress`, not text: "egres" cannot silently open ingress.
use cairn_aws::ec2::{IpProtocol, SecurityGroupRuleArgs};

fn main() {
    let _ = SecurityGroupRuleArgs::builder()
        .security_group_id("sg-1")
        .direction("egres")
        .protocol(IpProtocol::Tcp)
        .from_port(443)
        .to_port(443)
        .build();
}
