// A unique key's scope must be a property of the type: a misspelt one is an error at the
// attribute, not a key that is never checked.
use cairn::testing::TestProvider;

#[cairn::resource(token = "test:Thing", provider = TestProvider)]
pub struct Widget {
    #[unique(within(zoen))]
    pub name: String,
    pub zone: Option<String>,
    #[output]
    pub id: String,
}

fn main() {}
