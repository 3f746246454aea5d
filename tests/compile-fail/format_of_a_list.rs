// A list has no one way to be text: `cairn::format!` says to `.map(..)` it into text first.
use cairn::Output;

fn main() {
    let subnets: Output<Vec<String>> = Output::new(vec!["subnet-1".to_string()]);
    let _ = cairn::format!("subnets: {}", subnets);
}
