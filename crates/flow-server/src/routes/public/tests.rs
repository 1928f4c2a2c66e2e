//! The rate limiter's memory: addresses whose allowance is full again are forgotten once there
//! are many, so a crowd of addresses does not grow it for ever.

use std::net::{IpAddr, Ipv4Addr};

use super::*;

fn address(index: u32) -> IpAddr {
    IpAddr::V4(Ipv4Addr::from(0x0a00_0000 + index))
}

#[test]
fn past_its_bound_the_limiter_forgets_addresses_whose_allowance_is_full_again() {
    // One request back every millisecond, so an address that made one is forgettable at once.
    let access = PublicAccess::new(["hello"], 60_000);
    // Just short of the tenth look, which is the first with more than FORGET_ABOVE addresses.
    let crowd = FORGET_EVERY as u32 * 10 - 1;
    for index in 0..crowd {
        access.check_rate(address(index)).unwrap();
    }
    assert!(access.limiter.len() > FORGET_ABOVE);
    std::thread::sleep(std::time::Duration::from_millis(20));
    // The next request is the tenth look.
    for _ in 0..FORGET_EVERY {
        access.check_rate(address(crowd)).unwrap_or(());
    }
    assert!(access.limiter.len() < 10, "{}", access.limiter.len());
}

#[test]
fn the_ids_of_the_public_start_are_canonical_uuid_v4_only() {
    let made = uuid::Uuid::new_v4().to_string();
    assert!(is_public_id(&made));
    assert!(!is_public_id(&made.to_uppercase()));
    assert!(!is_public_id(&made.replace('-', "")));
    assert!(!is_public_id(&format!("{{{made}}}")));
    assert!(
        !is_public_id("00000000-0000-1000-8000-000000000000"),
        "a v1 uuid"
    );
    assert!(!is_public_id("c-1"));
}
