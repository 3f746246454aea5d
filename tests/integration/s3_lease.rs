//! The lock of a stack kept in S3, against moto's S3 (conditional writes and all): one holder at
//! a time, named to whoever is refused; an expired lease taken over by exactly one taker, and
//! the old holder told it lost the lock; a missing bucket named before anything happens.

use std::time::Duration;

use cairn_state::StateError;
use cairn_state::s3::lease::Lease;
use cairn_state::s3::{Bucket, BucketProblem, Location};
use cairn_tests::Moto;

const LEASE: Duration = Duration::from_secs(60);

async fn bucket(moto: &Moto, name: &str, create: bool) -> Result<Bucket, StateError> {
    let sdk = crate::inventory::sdk(&moto.endpoint, None).await;
    if create {
        let s3 = aws_sdk_s3::Client::from_conf(
            aws_sdk_s3::config::Builder::from(&sdk)
                .force_path_style(true)
                .build(),
        );
        s3.create_bucket()
            .bucket(name)
            .create_bucket_configuration(
                aws_sdk_s3::types::CreateBucketConfiguration::builder()
                    .location_constraint(aws_sdk_s3::types::BucketLocationConstraint::UsEast2)
                    .build(),
            )
            .send()
            .await
            .unwrap();
    }
    let location = Location::parse(&format!("s3://{name}/team/cairn")).unwrap();
    Bucket::connect_with(location, &sdk).await
}

#[tokio::test(flavor = "multi_thread")]
async fn one_holder_at_a_time_and_an_expired_lease_goes_to_exactly_one_taker() {
    let moto = Moto::start();
    let err = bucket(&moto, "no-such-bucket", false).await.err().unwrap();
    assert!(
        matches!(&err, StateError::Bucket { bucket, problem: BucketProblem::Missing, .. }
            if bucket == "no-such-bucket"),
        "{err}"
    );
    assert!(err.to_string().contains("'no-such-bucket'"), "{err}");

    let b = bucket(&moto, "team-state", true).await.unwrap();
    let first = Lease::acquire(&b, "dev", "up", LEASE).await.unwrap();
    assert!(first.taken_over().is_none());
    let refused = Lease::acquire(&b, "dev", "destroy", LEASE)
        .await
        .err()
        .unwrap();
    match &refused {
        StateError::LeaseHeld { stack, holder } => {
            assert_eq!(stack, "dev");
            assert_eq!(holder.pid, std::process::id());
            assert_eq!(holder.command, "up");
        }
        other => panic!("{other}"),
    }
    assert!(refused.to_string().contains("`up`"), "{refused}");
    // Another stack is another lock.
    Lease::acquire(&b, "prod", "up", LEASE)
        .await
        .unwrap()
        .release()
        .await
        .unwrap();

    // Renewing moves the lease's end; releasing frees the lock.
    let mut first = first;
    let before = first.holder().expires;
    first.renew().await.unwrap();
    assert!(first.holder().expires >= before);
    first.release().await.unwrap();

    // A holder that stopped renewing (its lease already over): the next command takes over,
    // saying whose it was, and the old holder learns it lost the lock.
    let mut crashed = Lease::acquire(&b, "dev", "up", Duration::ZERO)
        .await
        .unwrap();
    let taker = Lease::acquire(&b, "dev", "up", LEASE).await.unwrap();
    assert_eq!(taker.taken_over().map(|h| h.command.as_str()), Some("up"));
    let lost = crashed.renew().await.err().unwrap();
    assert!(
        matches!(lost, StateError::LeaseLost { ref stack } if stack == "dev"),
        "{lost}"
    );
    // A second taker finds a live lease: only one wins.
    let second = Lease::acquire(&b, "dev", "up", LEASE).await.err().unwrap();
    assert!(matches!(second, StateError::LeaseHeld { .. }), "{second}");

    // Forcing removes any lock, naming its holder.
    let forced = Lease::force_release(&b, "dev").await.unwrap();
    assert_eq!(forced.map(|h| h.expires), Some(taker.holder().expires));
    assert!(Lease::force_release(&b, "dev").await.unwrap().is_none());
    let lost = taker.release().await.err().unwrap();
    assert!(matches!(lost, StateError::LeaseLost { .. }), "{lost}");
}
