// Arguments with required properties have no `Default`: `..Default::default()` cannot stand
// in for the CIDR block.
use cairn_aws::ec2::VpcArgs;

fn main() {
    let _ = VpcArgs {
        enable_dns_support: Some(true.into()),
        ..Default::default()
    };
}
