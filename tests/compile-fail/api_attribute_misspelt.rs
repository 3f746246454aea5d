// A misspelt part of `#[api(..)]` is an error, so a property's documented default cannot
// silently vanish (`default` is meant).
use cairn::testing::TestProvider;

#[cairn::resource(token = "test:Thing", provider = TestProvider)]
pub struct Widget {
    #[api(defualt = "`false`")]
    pub enabled: Option<bool>,
    #[output]
    pub id: String,
}

fn main() {}
