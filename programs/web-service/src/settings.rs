//! The program's configuration, read once.

use cairn::{Output, Stack, Tags};

/// What `Cairn.<stack>.toml` sets, with the defaults.
pub struct Settings {
    pub region: String,
    pub domain: String,
    pub image: String,
    pub desired_count: i32,
    pub db_instance_class: String,
    pub stack: String,
}

impl Settings {
    pub fn read(stack: &Stack) -> Settings {
        let c = stack.config();
        Settings {
            region: c.get_or("aws:region", "us-east-2".to_string()),
            domain: c.get_or("domain", "web.cairn-example.com".to_string()),
            image: c.get_or("image", "public.ecr.aws/nginx/nginx:stable".to_string()),
            desired_count: c.get_or("desiredCount", 2),
            db_instance_class: c.get_or("dbInstanceClass", "db.t4g.micro".to_string()),
            stack: stack.name().to_string(),
        }
    }

    /// The tags every resource carries beside Cairn's own.
    pub fn tags(&self) -> Output<Tags> {
        Output::new(Tags::from([
            ("app".to_string(), "web".to_string()),
            ("env".to_string(), self.stack.clone()),
        ]))
    }
}
