//! The assets bucket: private, versioned and encrypted.

use cairn::Stack;
use cairn_aws::s3::{Bucket, BucketArgs, ServerSideEncryption};

use crate::Settings;

pub(crate) struct Assets {
    pub bucket: Bucket,
}

pub(crate) fn declare(stack: &mut Stack, s: &Settings) -> Assets {
    let bucket = Bucket::new(
        stack,
        "bucket",
        BucketArgs::builder()
            .versioning(true)
            .encryption(ServerSideEncryption::Aes256)
            .block_public_access(true)
            .force_destroy(s.stack != "prod")
            .tags(s.tags())
            .build(),
    );
    Assets { bucket }
}
