// A VPC without its CIDR block does not compile: `build` needs every required property.
use cairn_aws::ec2::VpcArgs;

fn main() {
    let _ = VpcArgs::builder().enable_dns_support(true).build();
}
