//! Carving a network's address block into subnets' blocks, as Terraform's `cidrsubnet` does:
//! what a program needs when the VPC's block is AWS's to choose (an Amazon-provided IPv6
//! `/56`) and is known only once the VPC exists.

use ipnet::IpNet;

/// The `n`th block of `block` with `new_bits` more prefix bits: `cidr_subnet("10.0.0.0/16",
/// 8, 2)` is `10.0.2.0/24`, and a VPC's IPv6 `/56` with 8 gives its subnets' `/64`s. `None`
/// when `block` is no CIDR block or has no `n`th such block.
///
/// ```
/// use cairn_aws::ec2::cidr_subnet;
/// assert_eq!(cidr_subnet("10.0.0.0/16", 8, 2).as_deref(), Some("10.0.2.0/24"));
/// assert_eq!(
///     cidr_subnet("2600:1f16:abc:de00::/56", 8, 1).as_deref(),
///     Some("2600:1f16:abc:de01::/64")
/// );
/// assert_eq!(cidr_subnet("10.0.0.0/16", 8, 256), None);
/// ```
pub fn cidr_subnet(block: &str, new_bits: u8, n: u32) -> Option<String> {
    let net: IpNet = block.parse().ok()?;
    let prefix = net.prefix_len().checked_add(new_bits)?;
    let mut subnets = net.subnets(prefix).ok()?;
    subnets.nth(usize::try_from(n).ok()?).map(|s| s.to_string())
}
