//! Unit tests of `guard`: the ranges refused, the allow list and its parsing, and the messages.
//!
//! Everything here is a pure function of an address: no test connects anywhere.

use super::*;

/// Why `address` is refused, as words, or `public`: the only place that calls the check.
fn judge(address: &str) -> &'static str {
    let address: IpAddr = address.parse().unwrap();
    non_public(address).map_or("public", NonPublic::as_str)
}

fn entry(text: &str) -> AllowEntry {
    text.parse().unwrap()
}

fn entry_error(text: &str) -> String {
    text.parse::<AllowEntry>().unwrap_err().to_string()
}

/// How a policy that allows `allow` judges `address` reached through `host`.
fn check_with(allow: &[&str], host: &str, address: &str) -> Result<(), NonPublic> {
    AddressPolicy::public_only(allow.iter().map(|text| entry(text)))
        .check(host, address.parse().unwrap())
}

#[test]
fn loopback_private_and_link_local_are_refused() {
    for (address, why) in [
        ("127.0.0.1", "a loopback address"),
        ("127.255.255.254", "a loopback address"),
        ("::1", "a loopback address"),
        ("10.0.0.1", "a private address"),
        ("10.255.255.255", "a private address"),
        ("172.16.0.0", "a private address"),
        ("172.31.255.255", "a private address"),
        ("192.168.1.1", "a private address"),
        ("fc00::1", "a private address"),
        ("fd12:3456::1", "a private address"),
        ("169.254.0.1", "a link-local address"),
        ("fe80::1", "a link-local address"),
        ("febf::1", "a link-local address"),
        ("100.64.0.0", "a carrier-grade NAT address"),
        ("100.127.255.255", "a carrier-grade NAT address"),
        ("0.0.0.0", "an unspecified address"),
        ("0.1.2.3", "an unspecified address"),
        ("::", "an unspecified address"),
        ("224.0.0.1", "a multicast address"),
        ("239.255.255.250", "a multicast address"),
        ("ff02::1", "a multicast address"),
        ("255.255.255.255", "the broadcast address"),
        ("240.0.0.1", "a reserved address"),
        ("255.255.255.254", "a reserved address"),
        ("192.0.2.10", "a reserved address"),
        ("198.18.0.1", "a reserved address"),
        ("2001:db8::1", "a reserved address"),
    ] {
        assert_eq!(judge(address), why, "{address}");
    }
}

#[test]
fn cloud_metadata_addresses_are_named_as_such() {
    assert_eq!(judge("169.254.169.254"), "a cloud metadata address");
    assert_eq!(judge("fd00:ec2::254"), "a cloud metadata address");
    assert_eq!(judge("::ffff:169.254.169.254"), "a cloud metadata address");
}

#[test]
fn range_edges_are_exact() {
    assert_eq!(judge("172.15.255.255"), "public");
    assert_eq!(judge("172.16.0.0"), "a private address");
    assert_eq!(judge("172.32.0.0"), "public");
    assert_eq!(judge("100.63.255.255"), "public");
    assert_eq!(judge("100.64.0.0"), "a carrier-grade NAT address");
    assert_eq!(judge("100.128.0.0"), "public");
    assert_eq!(judge("9.255.255.255"), "public");
    assert_eq!(judge("11.0.0.0"), "public");
    assert_eq!(judge("192.167.255.255"), "public");
    assert_eq!(judge("192.169.0.0"), "public");
    assert_eq!(judge("223.255.255.255"), "public");
    assert_eq!(judge("fbff:ffff::1"), "public");
    assert_eq!(judge("fe00::1"), "public");
}

#[test]
fn public_addresses_are_allowed_without_connecting() {
    for address in [
        "93.184.216.34",
        "8.8.8.8",
        "1.1.1.1",
        "2606:2800:220:1:248:1893:25c8:1946",
    ] {
        assert_eq!(judge(address), "public", "{address}");
        assert_eq!(check_with(&[], "example.com", address), Ok(()), "{address}");
    }
}

#[test]
fn ipv6_forms_of_ipv4_are_judged_by_their_ipv4_address() {
    for (address, why) in [
        ("::ffff:10.0.0.1", "a private address"),
        ("::ffff:127.0.0.1", "a loopback address"),
        ("::127.0.0.1", "a loopback address"),
        ("::10.0.0.1", "a private address"),
        ("::ffff:0:10.0.0.1", "a private address"),
        ("64:ff9b::10.0.0.1", "a private address"),
        ("64:ff9b::127.0.0.1", "a loopback address"),
        ("2002:0a00:0001::1", "a private address"),
        ("::ffff:93.184.216.34", "public"),
        ("64:ff9b::93.184.216.34", "public"),
        ("64:ff9b:1::1", "a reserved address"),
    ] {
        assert_eq!(judge(address), why, "{address}");
    }
    // `::` and `::1` are IPv6's own, not IPv4-compatible forms of 0.0.0.0 and 0.0.0.1.
    assert_eq!(embedded_ipv4(Ipv6Addr::UNSPECIFIED), None);
    assert_eq!(embedded_ipv4(Ipv6Addr::LOCALHOST), None);
}

#[test]
fn open_policy_allows_everything() {
    let open = AddressPolicy::default();
    assert_eq!(open, AddressPolicy::Open);
    assert!(!open.is_restricted());
    for address in ["127.0.0.1", "10.0.0.1", "169.254.169.254", "::1"] {
        assert_eq!(open.check("any", address.parse().unwrap()), Ok(()));
    }
}

#[test]
fn address_entries_allow_their_addresses_whatever_the_name() {
    assert_eq!(check_with(&["127.0.0.1"], "127.0.0.1", "127.0.0.1"), Ok(()));
    assert_eq!(check_with(&["127.0.0.1"], "localhost", "127.0.0.1"), Ok(()));
    assert_eq!(
        check_with(&["127.0.0.1"], "127.0.0.2", "127.0.0.2"),
        Err(NonPublic::Loopback)
    );
    assert_eq!(check_with(&["::1"], "::1", "::1"), Ok(()));
    assert_eq!(check_with(&["[::1]"], "::1", "::1"), Ok(()));
    assert_eq!(check_with(&["10.0.0.0/8"], "db", "10.200.3.4"), Ok(()));
    assert_eq!(
        check_with(&["10.0.0.0/8"], "db", "11.0.0.1"),
        Ok(()),
        "public anyway"
    );
    assert_eq!(
        check_with(&["10.0.0.0/8"], "db", "192.168.0.1"),
        Err(NonPublic::Private)
    );
    assert_eq!(check_with(&["fd00::/8"], "db", "fd00:ec2::254"), Ok(()));
    assert_eq!(check_with(&["127.0.0.0/8"], "x", "127.9.9.9"), Ok(()));
    assert_eq!(check_with(&["0.0.0.0/0"], "x", "10.1.1.1"), Ok(()));
    // An IPv4 entry also allows the IPv6 forms that stand for its addresses.
    assert_eq!(
        check_with(&["127.0.0.1"], "::ffff:127.0.0.1", "::ffff:127.0.0.1"),
        Ok(())
    );
    // An IPv4 entry never allows an IPv6 address that is not such a form, nor the reverse.
    assert_eq!(
        check_with(&["127.0.0.1"], "::1", "::1"),
        Err(NonPublic::Loopback)
    );
    assert_eq!(
        check_with(&["::1"], "127.0.0.1", "127.0.0.1"),
        Err(NonPublic::Loopback)
    );
}

#[test]
fn host_entries_allow_any_address_of_exactly_that_name() {
    assert_eq!(check_with(&["localhost"], "localhost", "127.0.0.1"), Ok(()));
    assert_eq!(check_with(&["localhost"], "LocalHost", "::1"), Ok(()));
    assert_eq!(
        check_with(&["localhost"], "localhost.", "127.0.0.1"),
        Ok(())
    );
    assert_eq!(
        check_with(
            &["api.internal.example"],
            "api.internal.example",
            "10.0.0.7"
        ),
        Ok(())
    );
    assert_eq!(
        check_with(&["internal.example"], "api.internal.example", "10.0.0.7"),
        Err(NonPublic::Private),
        "a name entry does not cover its subdomains"
    );
    assert_eq!(
        check_with(&["localhost"], "127.0.0.1", "127.0.0.1"),
        Err(NonPublic::Loopback),
        "a name entry does not allow the address written as such"
    );
    let policy = AddressPolicy::public_only([entry("API.Internal.Example")]);
    assert!(policy.allows_host("api.internal.example"));
    assert!(!policy.allows_host("other.example"));
}

#[test]
fn entries_parse_and_print_back() {
    for text in [
        "localhost",
        "api.internal.example",
        "my_host-1.lan",
        "127.0.0.1",
        "::1",
        "10.0.0.0/8",
        "172.16.0.0/12",
        "fd00::/8",
        "0.0.0.0/0",
        "::/0",
    ] {
        assert_eq!(entry(text).to_string(), text);
    }
    assert_eq!(
        entry(" Api.Internal.Example. "),
        AllowEntry::Host("api.internal.example".to_owned())
    );
    assert_eq!(entry("[::1]").to_string(), "::1");
    assert_eq!(entry("127.0.0.1/32").to_string(), "127.0.0.1");
    assert_eq!(
        entry("10.0.0.0/8"),
        AllowEntry::Network {
            address: "10.0.0.0".parse().unwrap(),
            prefix: 8
        }
    );
}

#[test]
fn bad_entries_say_what_was_expected() {
    assert_eq!(
        entry_error(" "),
        "empty allow-list entry (expected HOST|IP|CIDR, e.g. api.internal.example, 10.0.0.1 or \
         10.0.0.0/8)"
    );
    let invalid = |text: &str| {
        format!(
            "invalid allow-list entry `{text}` (expected HOST|IP|CIDR: a host name such as \
             api.internal.example, an address such as 10.0.0.1 or ::1, or a network such as \
             10.0.0.0/8 or fd00::/8)"
        )
    };
    for text in [
        "http://api.example",
        "api.example:8080",
        "user@host",
        "127.1",
        "300.1.1.1",
        "a..b",
        "-a.example",
        "exämple.com",
        "host/8",
        "*.example",
    ] {
        assert_eq!(entry_error(text), invalid(text), "{text}");
    }
    assert_eq!(
        entry_error("10.0.0.0/33"),
        "invalid prefix length in `10.0.0.0/33` (expected a number from 0 to 32 after the `/`)"
    );
    assert_eq!(
        entry_error("fd00::/129"),
        "invalid prefix length in `fd00::/129` (expected a number from 0 to 128 after the `/`)"
    );
    assert_eq!(
        entry_error("10.0.0.0/"),
        "invalid prefix length in `10.0.0.0/` (expected a number from 0 to 32 after the `/`)"
    );
    assert_eq!(
        entry_error("10.0.0.0/8/8"),
        "invalid prefix length in `10.0.0.0/8/8` (expected a number from 0 to 32 after the `/`)"
    );
    assert_eq!(
        entry_error("10.0.0.1/8"),
        "`10.0.0.1/8` is not the start of its network (expected `10.0.0.0/8`)"
    );
    assert_eq!(
        entry_error("fd00::1/8"),
        "`fd00::1/8` is not the start of its network (expected `fd00::/8`)"
    );
}

#[test]
fn blocked_messages_say_why_and_which_flag_allows_it() {
    let blocked = |host: &str, refused: &[&str]| Blocked {
        host: host.to_owned(),
        refused: refused
            .iter()
            .map(|address| {
                let address: IpAddr = address.parse().unwrap();
                (address, non_public(address).unwrap())
            })
            .collect(),
    };
    assert_eq!(
        blocked("10.0.0.1", &["10.0.0.1"]).to_string(),
        "webhook target 10.0.0.1 is a private address and was blocked; the server's operator \
         can allow it with --allow-webhook 10.0.0.1"
    );
    assert_eq!(
        blocked("::ffff:127.0.0.1", &["::ffff:127.0.0.1"]).to_string(),
        "webhook target ::ffff:127.0.0.1 is a loopback address (it embeds 127.0.0.1) and was \
         blocked; the server's operator can allow it with --allow-webhook ::ffff:127.0.0.1"
    );
    assert_eq!(
        blocked("localhost", &["127.0.0.1"]).to_string(),
        "webhook target localhost resolves to 127.0.0.1, a loopback address, and was blocked; \
         the server's operator can allow it with --allow-webhook localhost"
    );
    assert_eq!(
        blocked(
            "db.lan",
            &["10.0.0.1", "::1", "fd00::1", "169.254.169.254", "127.0.0.1"]
        )
        .to_string(),
        "webhook target db.lan resolves only to refused addresses (10.0.0.1 is a private \
         address, ::1 is a loopback address, fd00::1 is a private address and 2 more), and was \
         blocked; the server's operator can allow it with --allow-webhook db.lan"
    );
    assert_eq!(
        blocked("10.0.0.1", &["10.0.0.1"]).message(Some("127.0.0.1:8080")),
        "webhook target 10.0.0.1 is a private address and was blocked (reached by a redirect \
         from 127.0.0.1:8080); the server's operator can allow it with --allow-webhook 10.0.0.1"
    );
}

#[test]
fn public_types_are_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<AddressPolicy>();
    assert_send_sync::<AllowEntry>();
    assert_send_sync::<AllowEntryError>();
    assert_send_sync::<Blocked>();
}
