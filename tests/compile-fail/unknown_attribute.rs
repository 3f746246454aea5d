// A misspelt field attribute is an error, not an ignored one (`#[replace]` is meant).
use cairn::testing::TestProvider;

#[cairn::resource(token = "test:Thing", provider = TestProvider)]
pub struct Widget {
    #[replaces]
    pub key: String,
    #[output]
    pub id: String,
}

fn main() {}
