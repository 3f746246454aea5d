//! Shared support for Cairn's integration tests (the tests themselves are in `integration/`).
