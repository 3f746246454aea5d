//! Cairn's integration tests: one binary, so that the large AWS SDK is linked once.

mod public_api;
