//! Which addresses a webhook may connect to: the policy that keeps a server's bots out of its
//! operator's own network (SSRF), as pure functions of a host name and an address.
//!
//! [`AddressPolicy::Open`] reaches anything, as the simulator needs (an author's `localhost`).
//! [`AddressPolicy::PublicOnly`] refuses every address that is not a public unicast address
//! ([`non_public`] says why), unless an [`AllowEntry`] allows it. The client applies the policy
//! to the address it is about to connect to: resolved names in its resolver, IP literals before
//! sending and at every redirect hop.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

#[cfg(test)]
mod tests;

/// Which webhook targets the client may connect to.
///
/// ```
/// use flow_http::{AddressPolicy, AllowEntry, ClientConfig, NonPublic};
///
/// let allow = ["api.internal.example", "10.1.0.0/16"]
///     .into_iter()
///     .map(str::parse::<AllowEntry>)
///     .collect::<Result<Vec<_>, _>>()?;
/// let config = ClientConfig {
///     address_policy: AddressPolicy::public_only(allow),
///     ..ClientConfig::default()
/// };
/// let policy = &config.address_policy;
/// assert_eq!(policy.check("10.1.2.3", "10.1.2.3".parse()?), Ok(()));
/// assert_eq!(policy.check("api.internal.example", "10.9.9.9".parse()?), Ok(()));
/// assert_eq!(policy.check("10.2.0.1", "10.2.0.1".parse()?), Err(NonPublic::Private));
/// assert_eq!(policy.check("example.com", "93.184.216.34".parse()?), Ok(()));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum AddressPolicy {
    /// Any address: loopback, private networks, everything (the simulator and tests).
    #[default]
    Open,
    /// Public unicast addresses only, plus what `allow` allows (a production server).
    PublicOnly {
        /// Hosts and networks allowed although they are not public, e.g. an internal API.
        allow: Vec<AllowEntry>,
    },
}

impl AddressPolicy {
    /// Public addresses only, plus the `allow` entries.
    pub fn public_only(allow: impl IntoIterator<Item = AllowEntry>) -> Self {
        AddressPolicy::PublicOnly {
            allow: allow.into_iter().collect(),
        }
    }

    /// Whether this policy refuses some addresses, so that the client must check them.
    pub fn is_restricted(&self) -> bool {
        matches!(self, AddressPolicy::PublicOnly { .. })
    }

    /// Whether connecting to `address`, reached through the URL host `host` (a name or the
    /// address itself), is allowed; if not, why the address is refused.
    pub fn check(&self, host: &str, address: IpAddr) -> Result<(), NonPublic> {
        let AddressPolicy::PublicOnly { allow } = self else {
            return Ok(());
        };
        if allow.iter().any(|entry| entry.allows(host, address)) {
            return Ok(());
        }
        non_public(address).map_or(Ok(()), Err)
    }

    /// Whether every address `host` resolves to is allowed without being checked: always under
    /// [`AddressPolicy::Open`], and under [`AddressPolicy::PublicOnly`] when an allow entry
    /// names `host` itself.
    pub fn allows_host(&self, host: &str) -> bool {
        match self {
            AddressPolicy::Open => true,
            AddressPolicy::PublicOnly { allow } => {
                allow.iter().any(|entry| entry.allows_name(host))
            }
        }
    }
}

/// Why an address is not a public one, in the words of an error message: `a private address`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NonPublic {
    /// 127.0.0.0/8 and ::1: this machine.
    Loopback,
    /// RFC 1918 (10/8, 172.16/12, 192.168/16), unique local fc00::/7 and site-local fec0::/10.
    Private,
    /// 169.254/16 and fe80::/10.
    LinkLocal,
    /// The shared address space of carrier-grade NAT, 100.64/10.
    CarrierGradeNat,
    /// 0.0.0.0/8 and ::, which a connection takes to mean this machine.
    Unspecified,
    /// 224/4 and ff00::/8.
    Multicast,
    /// 255.255.255.255.
    Broadcast,
    /// 240/4, documentation, benchmarking and protocol ranges: never a real public service.
    Reserved,
    /// The instance metadata service of cloud providers, 169.254.169.254 and fd00:ec2::254,
    /// which hands out the machine's credentials.
    CloudMetadata,
}

impl NonPublic {
    /// The words used in messages, e.g. `"a private address"`.
    pub fn as_str(self) -> &'static str {
        match self {
            NonPublic::Loopback => "a loopback address",
            NonPublic::Private => "a private address",
            NonPublic::LinkLocal => "a link-local address",
            NonPublic::CarrierGradeNat => "a carrier-grade NAT address",
            NonPublic::Unspecified => "an unspecified address",
            NonPublic::Multicast => "a multicast address",
            NonPublic::Broadcast => "the broadcast address",
            NonPublic::Reserved => "a reserved address",
            NonPublic::CloudMetadata => "a cloud metadata address",
        }
    }
}

impl fmt::Display for NonPublic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why `address` is not a public unicast address, or `None` when it is one.
///
/// An IPv6 address that embeds an IPv4 one (`::ffff:a.b.c.d`, `::a.b.c.d`, `::ffff:0:a.b.c.d`,
/// NAT64's `64:ff9b::/96` and 6to4's `2002::/16`) is judged by the IPv4 address it embeds.
pub fn non_public(address: IpAddr) -> Option<NonPublic> {
    match address {
        IpAddr::V4(v4) => non_public_v4(v4),
        IpAddr::V6(v6) => match embedded_ipv4(v6) {
            Some(v4) => non_public_v4(v4),
            None => non_public_v6(v6),
        },
    }
}

/// The ranges of IPv4, most specific first (the metadata address is in the link-local range).
const V4_RANGES: [(Ipv4Addr, u8, NonPublic); 17] = [
    (
        Ipv4Addr::new(169, 254, 169, 254),
        32,
        NonPublic::CloudMetadata,
    ),
    (Ipv4Addr::new(255, 255, 255, 255), 32, NonPublic::Broadcast),
    (Ipv4Addr::new(0, 0, 0, 0), 8, NonPublic::Unspecified),
    (Ipv4Addr::new(127, 0, 0, 0), 8, NonPublic::Loopback),
    (Ipv4Addr::new(10, 0, 0, 0), 8, NonPublic::Private),
    (Ipv4Addr::new(172, 16, 0, 0), 12, NonPublic::Private),
    (Ipv4Addr::new(192, 168, 0, 0), 16, NonPublic::Private),
    (Ipv4Addr::new(100, 64, 0, 0), 10, NonPublic::CarrierGradeNat),
    (Ipv4Addr::new(169, 254, 0, 0), 16, NonPublic::LinkLocal),
    (Ipv4Addr::new(224, 0, 0, 0), 4, NonPublic::Multicast),
    (Ipv4Addr::new(240, 0, 0, 0), 4, NonPublic::Reserved),
    // IETF protocol assignments (RFC 6890).
    (Ipv4Addr::new(192, 0, 0, 0), 24, NonPublic::Reserved),
    // Documentation (RFC 5737).
    (Ipv4Addr::new(192, 0, 2, 0), 24, NonPublic::Reserved),
    (Ipv4Addr::new(198, 51, 100, 0), 24, NonPublic::Reserved),
    (Ipv4Addr::new(203, 0, 113, 0), 24, NonPublic::Reserved),
    // Benchmarking (RFC 2544).
    (Ipv4Addr::new(198, 18, 0, 0), 15, NonPublic::Reserved),
    // The former 6to4 relay anycast (RFC 7526).
    (Ipv4Addr::new(192, 88, 99, 0), 24, NonPublic::Reserved),
];

/// The ranges of IPv6 that embed no IPv4 address, most specific first.
const V6_RANGES: [(Ipv6Addr, u8, NonPublic); 10] = [
    (
        Ipv6Addr::new(0xfd00, 0x0ec2, 0, 0, 0, 0, 0, 0x0254),
        128,
        NonPublic::CloudMetadata,
    ),
    (Ipv6Addr::UNSPECIFIED, 128, NonPublic::Unspecified),
    (Ipv6Addr::LOCALHOST, 128, NonPublic::Loopback),
    (
        Ipv6Addr::new(0xfc00, 0, 0, 0, 0, 0, 0, 0),
        7,
        NonPublic::Private,
    ),
    (
        Ipv6Addr::new(0xfec0, 0, 0, 0, 0, 0, 0, 0),
        10,
        NonPublic::Private,
    ),
    (
        Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 0),
        10,
        NonPublic::LinkLocal,
    ),
    (
        Ipv6Addr::new(0xff00, 0, 0, 0, 0, 0, 0, 0),
        8,
        NonPublic::Multicast,
    ),
    // Documentation (RFC 3849).
    (
        Ipv6Addr::new(0x2001, 0x0db8, 0, 0, 0, 0, 0, 0),
        32,
        NonPublic::Reserved,
    ),
    // Discard-only (RFC 6666).
    (
        Ipv6Addr::new(0x0100, 0, 0, 0, 0, 0, 0, 0),
        64,
        NonPublic::Reserved,
    ),
    // Local-use NAT64 (RFC 8215): translated by a gateway of the local network.
    (
        Ipv6Addr::new(0x0064, 0xff9b, 1, 0, 0, 0, 0, 0),
        48,
        NonPublic::Reserved,
    ),
];

fn non_public_v4(address: Ipv4Addr) -> Option<NonPublic> {
    let bits = u32::from(address);
    V4_RANGES
        .iter()
        .find(|(network, prefix, _)| in_prefix_v4(bits, u32::from(*network), *prefix))
        .map(|(_, _, why)| *why)
}

fn non_public_v6(address: Ipv6Addr) -> Option<NonPublic> {
    let bits = u128::from(address);
    V6_RANGES
        .iter()
        .find(|(network, prefix, _)| in_prefix_v6(bits, u128::from(*network), *prefix))
        .map(|(_, _, why)| *why)
}

/// The IPv4 address an IPv6 one stands for, where it embeds one: mapped `::ffff:a.b.c.d`,
/// compatible `::a.b.c.d` (not `::` or `::1`), translated `::ffff:0:a.b.c.d`, NAT64
/// `64:ff9b::a.b.c.d` and 6to4 `2002:aabb:ccdd::/48`.
pub(crate) fn embedded_ipv4(address: Ipv6Addr) -> Option<Ipv4Addr> {
    let segments = address.segments();
    let last_32 = Ipv4Addr::from((u128::from(address) & 0xffff_ffff) as u32);
    match segments {
        [0, 0, 0, 0, 0, 0xffff, _, _] | [0, 0, 0, 0, 0xffff, 0, _, _] => Some(last_32),
        [0x0064, 0xff9b, 0, 0, 0, 0, _, _] => Some(last_32),
        [0, 0, 0, 0, 0, 0, 0, 0 | 1] => None,
        [0, 0, 0, 0, 0, 0, _, _] => Some(last_32),
        [0x2002, high, low, ..] => Some(Ipv4Addr::from((u32::from(high) << 16) | u32::from(low))),
        _ => None,
    }
}

fn in_prefix_v4(bits: u32, network: u32, prefix: u8) -> bool {
    let mask = u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0);
    bits & mask == network & mask
}

fn in_prefix_v6(bits: u128, network: u128, prefix: u8) -> bool {
    let mask = u128::MAX.checked_shl(128 - u32::from(prefix)).unwrap_or(0);
    bits & mask == network & mask
}

/// One entry of a [`AddressPolicy::PublicOnly`] allow list, read from `HOST|IP|CIDR` text.
///
/// A host name matches the URL's host exactly, case-insensitively and ignoring a final dot,
/// and then allows any address it resolves to. An address or network allows those addresses
/// whatever name led to them, including IPv6 forms that embed an allowed IPv4 address.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum AllowEntry {
    /// A host name, in lower case without a final dot, e.g. `api.internal.example`.
    Host(String),
    /// A network: `10.0.0.0/8`, or one address when the prefix is the whole address.
    Network {
        /// The network's first address; its bits past `prefix` are zero.
        address: IpAddr,
        /// How many leading bits are fixed: 32 (or 128) for a single address.
        prefix: u8,
    },
}

impl AllowEntry {
    /// Whether this entry allows connecting to `address` reached through the URL host `host`.
    pub fn allows(&self, host: &str, address: IpAddr) -> bool {
        match self {
            AllowEntry::Host(_) => self.allows_name(host),
            AllowEntry::Network { .. } => {
                let embedded = match address {
                    IpAddr::V6(v6) => embedded_ipv4(v6).map(IpAddr::V4),
                    IpAddr::V4(_) => None,
                };
                self.contains(address) || embedded.is_some_and(|v4| self.contains(v4))
            }
        }
    }

    fn allows_name(&self, host: &str) -> bool {
        match self {
            AllowEntry::Host(name) => {
                let host = host.strip_suffix('.').unwrap_or(host);
                name.eq_ignore_ascii_case(host)
            }
            AllowEntry::Network { .. } => false,
        }
    }

    fn contains(&self, candidate: IpAddr) -> bool {
        match (self, candidate) {
            (
                AllowEntry::Network {
                    address: IpAddr::V4(network),
                    prefix,
                },
                IpAddr::V4(v4),
            ) => in_prefix_v4(u32::from(v4), u32::from(*network), *prefix),
            (
                AllowEntry::Network {
                    address: IpAddr::V6(network),
                    prefix,
                },
                IpAddr::V6(v6),
            ) => in_prefix_v6(u128::from(v6), u128::from(*network), *prefix),
            _ => false,
        }
    }
}

impl fmt::Display for AllowEntry {
    /// The entry as it parses back: `localhost`, `127.0.0.1`, `10.0.0.0/8`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AllowEntry::Host(name) => f.write_str(name),
            AllowEntry::Network { address, prefix } if *prefix == full_prefix(*address) => {
                write!(f, "{address}")
            }
            AllowEntry::Network { address, prefix } => write!(f, "{address}/{prefix}"),
        }
    }
}

/// Text that is not an allow-list entry.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AllowEntryError {
    /// The text is empty or blank.
    #[error(
        "empty allow-list entry (expected HOST|IP|CIDR, e.g. api.internal.example, 10.0.0.1 or \
         10.0.0.0/8)"
    )]
    Empty,
    /// The text is neither a host name, nor an address, nor a network.
    #[error(
        "invalid allow-list entry `{0}` (expected HOST|IP|CIDR: a host name such as \
         api.internal.example, an address such as 10.0.0.1 or ::1, or a network such as \
         10.0.0.0/8 or fd00::/8)"
    )]
    Invalid(String),
    /// The prefix length after `/` is not a number from 0 to the address's length.
    #[error(
        "invalid prefix length in `{entry}` (expected a number from 0 to {max} after the `/`)"
    )]
    Prefix {
        /// The entry as written.
        entry: String,
        /// The longest prefix of its address family: 32 or 128.
        max: u8,
    },
    /// The address of a network has bits set past its prefix, which usually is a typo.
    #[error("`{entry}` is not the start of its network (expected `{network}`)")]
    NotNetworkStart {
        /// The entry as written.
        entry: String,
        /// The network it would be with those bits cleared.
        network: String,
    },
}

impl FromStr for AllowEntry {
    type Err = AllowEntryError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let entry = text.trim();
        if entry.is_empty() {
            return Err(AllowEntryError::Empty);
        }
        if let Some((address, prefix)) = entry.split_once('/') {
            return parse_network(entry, address, prefix);
        }
        if let Some(address) = parse_address(entry) {
            return Ok(AllowEntry::Network {
                address,
                prefix: full_prefix(address),
            });
        }
        parse_host(entry).ok_or_else(|| AllowEntryError::Invalid(entry.to_owned()))
    }
}

fn full_prefix(address: IpAddr) -> u8 {
    match address {
        IpAddr::V4(_) => 32,
        IpAddr::V6(_) => 128,
    }
}

/// An address as written in a URL or on its own: `10.0.0.1`, `::1` or `[::1]`.
pub(crate) fn parse_address(text: &str) -> Option<IpAddr> {
    let bare = text
        .strip_prefix('[')
        .and_then(|inner| inner.strip_suffix(']'))
        .unwrap_or(text);
    bare.parse().ok()
}

fn parse_network(entry: &str, address: &str, prefix: &str) -> Result<AllowEntry, AllowEntryError> {
    let address =
        parse_address(address).ok_or_else(|| AllowEntryError::Invalid(entry.to_owned()))?;
    let max = full_prefix(address);
    let prefix = prefix
        .parse::<u8>()
        .ok()
        .filter(|prefix| *prefix <= max)
        .ok_or_else(|| AllowEntryError::Prefix {
            entry: entry.to_owned(),
            max,
        })?;
    let start = network_start(address, prefix);
    if start != address {
        return Err(AllowEntryError::NotNetworkStart {
            entry: entry.to_owned(),
            network: AllowEntry::Network {
                address: start,
                prefix,
            }
            .to_string(),
        });
    }
    Ok(AllowEntry::Network { address, prefix })
}

fn network_start(address: IpAddr, prefix: u8) -> IpAddr {
    match address {
        IpAddr::V4(v4) => {
            let mask = u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0);
            IpAddr::V4(Ipv4Addr::from(u32::from(v4) & mask))
        }
        IpAddr::V6(v6) => {
            let mask = u128::MAX.checked_shl(128 - u32::from(prefix)).unwrap_or(0);
            IpAddr::V6(Ipv6Addr::from(u128::from(v6) & mask))
        }
    }
}

/// A DNS host name in its ASCII form: dot-separated labels of letters, digits, `-` and `_`.
///
/// A name whose last label is all digits is refused: a URL reads such a host as an IPv4
/// address (`127.1` is `127.0.0.1`), so the entry would never match a host name.
fn parse_host(entry: &str) -> Option<AllowEntry> {
    let name = entry.strip_suffix('.').unwrap_or(entry);
    let labels_ok = name.split('.').all(|label| {
        (1..=63).contains(&label.len())
            && label
                .bytes()
                .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_')
            && !label.starts_with('-')
            && !label.ends_with('-')
    });
    let last_is_number = name
        .rsplit('.')
        .next()
        .is_some_and(|label| label.bytes().all(|byte| byte.is_ascii_digit()));
    (name.len() <= 253 && labels_ok && !last_is_number)
        .then(|| AllowEntry::Host(name.to_ascii_lowercase()))
}

/// A webhook target that the policy refused: the host as the URL has it and each address it
/// stood for, with the reason it was refused.
///
/// It travels through reqwest as the source of its error (from the resolver or the redirect
/// policy) and the client finds it there to write the message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.message(None))]
pub(crate) struct Blocked {
    /// The URL's host: a name, or an address without brackets.
    pub(crate) host: String,
    /// The refused addresses, in the order they were tried; never empty.
    pub(crate) refused: Vec<(IpAddr, NonPublic)>,
}

/// How many refused addresses a message names before it counts the rest.
const MAX_NAMED_ADDRESSES: usize = 3;

impl Blocked {
    /// The webhook target `host`, an IP literal that `policy` refuses, if it does.
    pub(crate) fn check_literal(
        policy: &AddressPolicy,
        host: &str,
        address: IpAddr,
    ) -> Option<Blocked> {
        policy.check(host, address).err().map(|why| Blocked {
            host: host.to_owned(),
            refused: vec![(address, why)],
        })
    }

    /// What happened, why, and how the operator allows it, as a bot author reads it, e.g.
    /// `webhook target 10.0.0.1 is a private address and was blocked; the server's operator
    /// can allow it with --allow-webhook 10.0.0.1`. `redirected_from` is the step's own `host:port`
    /// when a redirect from it led to the target.
    pub(crate) fn message(&self, redirected_from: Option<&str>) -> String {
        let is_literal = parse_address(&self.host).is_some();
        let what = match self.refused.as_slice() {
            [(address, why)] if is_literal => format!("is {why}{}", embedded_note(*address)),
            [(address, why)] => format!("resolves to {address}, {why}{},", embedded_note(*address)),
            many => format!(
                "resolves only to refused addresses ({}),",
                list_refused(many)
            ),
        };
        let redirect = redirected_from
            .map(|from| format!(" (reached by a redirect from {from})"))
            .unwrap_or_default();
        format!(
            "webhook target {} {what} and was blocked{redirect}; the server's operator can allow \
             it with --allow-webhook {}",
            self.host, self.host
        )
    }
}

/// ` (it embeds 127.0.0.1)` for an IPv6 address judged by its IPv4 address, else nothing.
fn embedded_note(address: IpAddr) -> String {
    match address {
        IpAddr::V6(v6) => embedded_ipv4(v6)
            .map(|v4| format!(" (it embeds {v4})"))
            .unwrap_or_default(),
        IpAddr::V4(_) => String::new(),
    }
}

/// `::1 is a loopback address, 10.0.0.1 is a private address and 2 more`.
fn list_refused(refused: &[(IpAddr, NonPublic)]) -> String {
    let mut parts: Vec<String> = refused
        .iter()
        .take(MAX_NAMED_ADDRESSES)
        .map(|(address, why)| format!("{address} is {why}{}", embedded_note(*address)))
        .collect();
    if refused.len() > MAX_NAMED_ADDRESSES {
        parts.push(format!("{} more", refused.len() - MAX_NAMED_ADDRESSES));
    }
    match parts.split_last() {
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
        None => String::new(),
    }
}
