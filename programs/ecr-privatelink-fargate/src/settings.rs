//! The program's configuration, read once.

use cairn::{Output, Stack};
use cairn_aws::Tags;

/// The demo's image, shipped with the program.
pub const DEMO_IMAGE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/image");

pub struct Settings {
    pub region: String,
    pub image_tag: String,
    /// The OCI image layout account A publishes, a directory or a `docker save` archive
    /// (`imageDir`; default the tiny demo image
    /// shipped beside this program, `image/`).
    pub image_dir: String,
    pub enable_ssm: bool,
    pub desired_count: i32,
    /// Account B's id, for the repository policy: from `accountB:roleArn`, or `accountB:accountId`.
    pub account_b: Option<String>,
    /// CIDR blocks of the two private subnets (`privateSubnetCidrs`, comma-separated).
    pub private_cidrs: [String; 2],
    /// Extra tags on every taggable resource (`owner`).
    pub owner: Option<String>,
    /// The AMI of the optional SSM host (`ssmAmiId`, required with `enableSsm`).
    pub ssm_ami: String,
}

/// The account id in a role ARN (`arn:aws:iam::222222222222:role/x`).
fn account_of(role_arn: &str) -> Option<String> {
    role_arn
        .split(':')
        .nth(4)
        .filter(|a| !a.is_empty())
        .map(str::to_string)
}

impl Settings {
    pub fn read(stack: &Stack) -> Settings {
        let c = stack.config();
        let cidrs: String = c.get_or("privateSubnetCidrs", "10.0.2.0/24,10.0.3.0/24".to_string());
        let mut parts = cidrs.split(',').map(|p| p.trim().to_string());
        let private_cidrs = [
            parts.next().unwrap_or_default(),
            parts.next().unwrap_or_default(),
        ];
        let enable_ssm = c.get_or("enableSsm", false);
        let account_id: Option<String> = c.get("accountB:accountId");
        Settings {
            region: c.get_or("aws:region", "us-east-2".to_string()),
            image_tag: c.get_or("imageTag", "v1".to_string()),
            image_dir: c.get_or("imageDir", DEMO_IMAGE.to_string()),
            enable_ssm,
            desired_count: c.get_or("desiredCount", 2),
            account_b: c
                .get::<String>("accountB:roleArn")
                .and_then(|arn| account_of(&arn))
                .or(account_id),
            private_cidrs,
            owner: c.get("owner"),
            ssm_ami: if enable_ssm {
                c.require("ssmAmiId")
            } else {
                String::new()
            },
        }
    }

    /// The tags every taggable resource gets (beyond Cairn's own stack/name tags).
    pub fn tags(&self) -> Option<Output<Tags>> {
        self.owner
            .as_ref()
            .map(|o| Output::new(Tags::from([("owner".to_string(), o.clone())])))
    }
}
