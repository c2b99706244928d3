//! The SSRF guard of outgoing calls to merchant URLs (webhook endpoints: checked when
//! a merchant sets one and again at every delivery).
//!
//! Only `http` and `https` URLs are called. Unless the operator allows private targets
//! (`allow_private_webhooks`, on by default in embedded mode only), the host is resolved
//! and the URL refused when ANY of its addresses is not a public unicast address:
//! loopback, private, link-local, unique-local, CGNAT, unspecified, broadcast,
//! multicast, documentation, benchmarking and other reserved ranges, and IPv6 forms that
//! embed such an IPv4 address (IPv4-mapped, IPv4-compatible, NAT64, 6to4).
//!
//! DNS rebinding: the HTTP client of the dispatcher resolves through [`GuardedResolver`],
//! which applies the same rule to the addresses it actually connects to, so a name that
//! passed the check and then resolves elsewhere still cannot reach a private address.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use reqwest::Url;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// The error text logged for a refused target (no request is sent).
pub const ADDRESS_NOT_ALLOWED: &str = "address not allowed";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UrlRefused {
    #[error("invalid url")]
    Invalid,
    #[error("unsupported url scheme (only http and https)")]
    Scheme,
    #[error("{ADDRESS_NOT_ALLOWED}")]
    AddressNotAllowed,
    #[error("dns: {0}")]
    Dns(String),
}

/// The marker error of [`GuardedResolver`]; the dispatcher finds it in the source chain
/// of a failed request.
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error("{ADDRESS_NOT_ALLOWED}")]
pub struct AddressNotAllowed;

fn v4_in(ip: Ipv4Addr, net: [u8; 4], prefix: u32) -> bool {
    let mask = if prefix == 0 {
        0
    } else {
        u32::MAX << (32 - prefix)
    };
    (u32::from(ip) & mask) == (u32::from(Ipv4Addr::from(net)) & mask)
}

fn v6_in(ip: Ipv6Addr, net: [u16; 8], prefix: u32) -> bool {
    let mask = if prefix == 0 {
        0
    } else {
        u128::MAX << (128 - prefix)
    };
    let net = Ipv6Addr::new(
        net[0], net[1], net[2], net[3], net[4], net[5], net[6], net[7],
    );
    (u128::from(ip) & mask) == (u128::from(net) & mask)
}

/// True for a public unicast IPv4 address that a webhook may reach.
pub fn is_public_v4(ip: Ipv4Addr) -> bool {
    const BLOCKED: &[([u8; 4], u32)] = &[
        ([0, 0, 0, 0], 8),       // "this network", includes unspecified
        ([10, 0, 0, 0], 8),      // private
        ([100, 64, 0, 0], 10),   // carrier-grade NAT
        ([127, 0, 0, 0], 8),     // loopback
        ([169, 254, 0, 0], 16),  // link-local (cloud metadata lives here)
        ([172, 16, 0, 0], 12),   // private
        ([192, 0, 0, 0], 24),    // IETF protocol assignments
        ([192, 0, 2, 0], 24),    // documentation TEST-NET-1
        ([192, 88, 99, 0], 24),  // 6to4 relay anycast (deprecated)
        ([192, 168, 0, 0], 16),  // private
        ([198, 18, 0, 0], 15),   // benchmarking
        ([198, 51, 100, 0], 24), // documentation TEST-NET-2
        ([203, 0, 113, 0], 24),  // documentation TEST-NET-3
        ([224, 0, 0, 0], 4),     // multicast
        ([240, 0, 0, 0], 4),     // reserved, includes broadcast 255.255.255.255
    ];
    !BLOCKED.iter().any(|(net, prefix)| v4_in(ip, *net, *prefix))
}

/// True for a public unicast IPv6 address that a webhook may reach. Forms that embed an
/// IPv4 address are judged by that address.
pub fn is_public_v6(ip: Ipv6Addr) -> bool {
    let segments = ip.segments();
    let embedded_v4 = |hi: u16, lo: u16| {
        Ipv4Addr::new(
            (hi >> 8) as u8,
            (hi & 0xff) as u8,
            (lo >> 8) as u8,
            (lo & 0xff) as u8,
        )
    };
    // ::ffff:a.b.c.d (IPv4-mapped).
    if let Some(v4) = ip.to_ipv4_mapped() {
        return is_public_v4(v4);
    }
    // 64:ff9b::a.b.c.d (NAT64 well-known prefix) and 64:ff9b:1::/48 (local NAT64).
    if v6_in(ip, [0x64, 0xff9b, 0, 0, 0, 0, 0, 0], 96) {
        return is_public_v4(embedded_v4(segments[6], segments[7]));
    }
    if v6_in(ip, [0x64, 0xff9b, 1, 0, 0, 0, 0, 0], 48) {
        return false;
    }
    // 2002:a.b.c.d::/48 (6to4).
    if v6_in(ip, [0x2002, 0, 0, 0, 0, 0, 0, 0], 16) {
        return is_public_v4(embedded_v4(segments[1], segments[2]));
    }
    const BLOCKED: &[([u16; 8], u32)] = &[
        ([0, 0, 0, 0, 0, 0, 0, 0], 96), // unspecified, loopback, IPv4-compatible (deprecated)
        ([0x100, 0, 0, 0, 0, 0, 0, 0], 64), // discard-only
        ([0x2001, 0, 0, 0, 0, 0, 0, 0], 23), // IETF protocol assignments (Teredo, ORCHID, …)
        ([0x2001, 0xdb8, 0, 0, 0, 0, 0, 0], 32), // documentation
        ([0x3fff, 0, 0, 0, 0, 0, 0, 0], 20), // documentation (RFC 9637)
        ([0x5f00, 0, 0, 0, 0, 0, 0, 0], 16), // segment routing SIDs
        ([0xfc00, 0, 0, 0, 0, 0, 0, 0], 7), // unique-local
        ([0xfe80, 0, 0, 0, 0, 0, 0, 0], 10), // link-local
        ([0xfec0, 0, 0, 0, 0, 0, 0, 0], 10), // site-local (deprecated)
        ([0xff00, 0, 0, 0, 0, 0, 0, 0], 8), // multicast
    ];
    !BLOCKED.iter().any(|(net, prefix)| v6_in(ip, *net, *prefix))
}

/// True for an address a webhook may reach when private targets are not allowed.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

/// Parses a webhook URL: `http` or `https` with a host.
pub fn parse_url(url: &str) -> Result<Url, UrlRefused> {
    let parsed = Url::parse(url).map_err(|_| UrlRefused::Invalid)?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(UrlRefused::Scheme);
    }
    if parsed.host().is_none() {
        return Err(UrlRefused::Invalid);
    }
    Ok(parsed)
}

/// Checks a webhook URL before anything is sent: the scheme, and — unless private
/// targets are allowed — every address the host resolves to.
pub async fn check_url(url: &str, allow_private: bool) -> Result<Url, UrlRefused> {
    let parsed = parse_url(url)?;
    if allow_private {
        return Ok(parsed);
    }
    let port = parsed.port_or_known_default().unwrap_or(80);
    let host = parsed.host_str().ok_or(UrlRefused::Invalid)?;
    let literal = host.trim_start_matches('[').trim_end_matches(']');
    let addresses: Vec<IpAddr> = match literal.parse::<IpAddr>() {
        Ok(ip) => vec![ip],
        Err(_) => tokio::net::lookup_host((host, port))
            .await
            .map_err(|e| UrlRefused::Dns(e.to_string()))?
            .map(|addr| addr.ip())
            .collect(),
    };
    if addresses.is_empty() {
        return Err(UrlRefused::Dns("the host has no address".to_owned()));
    }
    if addresses.iter().all(|ip| is_public(*ip)) {
        Ok(parsed)
    } else {
        Err(UrlRefused::AddressNotAllowed)
    }
}

/// The DNS resolver of the webhook client when private targets are not allowed: it
/// resolves with the system resolver and fails when any address is not public, so the
/// connection can only go to vetted addresses (no DNS rebinding between check and use).
#[derive(Debug, Clone, Copy, Default)]
pub struct GuardedResolver;

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let addresses: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            if addresses.is_empty() || !addresses.iter().all(|a| is_public(a.ip())) {
                return Err(Box::new(AddressNotAllowed) as Box<dyn std::error::Error + Send + Sync>);
            }
            let addrs: Addrs = Box::new(addresses.into_iter());
            Ok(addrs)
        })
    }
}

/// True when a request failed because [`GuardedResolver`] refused the address. The
/// marker may sit anywhere in the source chain, also inside an `io::Error` (whose
/// `source()` skips the error it wraps).
pub fn is_refusal(err: &(dyn std::error::Error + 'static)) -> bool {
    let mut current: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = current {
        if e.is::<AddressNotAllowed>() {
            return true;
        }
        if let Some(inner) = e
            .downcast_ref::<std::io::Error>()
            .and_then(std::io::Error::get_ref)
            && is_refusal(inner)
        {
            return true;
        }
        current = e.source();
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v4(s: &str) -> bool {
        is_public(s.parse::<IpAddr>().unwrap())
    }

    #[test]
    fn public_ipv4_is_allowed() {
        for ip in [
            "1.1.1.1",
            "8.8.8.8",
            "93.184.216.34",
            "100.63.255.255",
            "100.128.0.0",
            "172.15.255.255",
            "172.32.0.0",
            "192.167.255.255",
            "192.169.0.0",
            "169.253.255.255",
            "198.17.255.255",
            "198.20.0.0",
            "223.255.255.255",
            "11.0.0.1",
        ] {
            assert!(v4(ip), "{ip} is public");
        }
    }

    #[test]
    fn non_public_ipv4_is_refused() {
        for ip in [
            "0.0.0.0",
            "0.1.2.3",
            "10.0.0.1",
            "10.255.255.255",
            "100.64.0.1",
            "100.127.255.254",
            "127.0.0.1",
            "127.255.255.254",
            "169.254.169.254",
            "172.16.0.1",
            "172.31.255.255",
            "192.0.0.8",
            "192.0.2.1",
            "192.88.99.1",
            "192.168.0.1",
            "192.168.255.255",
            "198.18.0.1",
            "198.19.255.255",
            "198.51.100.7",
            "203.0.113.9",
            "224.0.0.1",
            "239.255.255.250",
            "240.0.0.1",
            "255.255.255.255",
        ] {
            assert!(!v4(ip), "{ip} must be refused");
        }
    }

    #[test]
    fn public_ipv6_is_allowed() {
        for ip in [
            "2606:4700:4700::1111",
            "2001:4860:4860::8888",
            "2a00:1450:4001:81c::200e",
            "::ffff:8.8.8.8",
            "64:ff9b::808:808",
            "2002:808:808::1",
        ] {
            assert!(v4(ip), "{ip} is public");
        }
    }

    #[test]
    fn non_public_ipv6_is_refused() {
        for ip in [
            "::",
            "::1",
            "::127.0.0.1",
            "::ffff:127.0.0.1",
            "::ffff:10.1.2.3",
            "::ffff:169.254.169.254",
            "::ffff:192.168.1.1",
            "::ffff:100.64.0.1",
            "::ffff:0.0.0.0",
            "64:ff9b::7f00:1",
            "64:ff9b::a00:1",
            "64:ff9b:1::1",
            "2002:7f00:1::1",
            "2002:c0a8:101::1",
            "100::1",
            "2001::1",
            "2001:db8::1",
            "3fff::1",
            "fc00::1",
            "fd12:3456:789a::1",
            "fe80::1",
            "febf::1",
            "fec0::1",
            "ff02::1",
            "ff05::1:3",
        ] {
            assert!(!v4(ip), "{ip} must be refused");
        }
    }

    #[test]
    fn only_http_and_https_urls() {
        assert!(parse_url("https://shop.example/cb").is_ok());
        assert!(parse_url("http://shop.example:8080/cb?x=1").is_ok());
        assert_eq!(parse_url("ftp://shop.example/"), Err(UrlRefused::Scheme));
        assert_eq!(parse_url("file:///etc/passwd"), Err(UrlRefused::Scheme));
        assert_eq!(parse_url("gopher://x/"), Err(UrlRefused::Scheme));
        assert_eq!(parse_url("not a url"), Err(UrlRefused::Invalid));
        assert_eq!(parse_url(""), Err(UrlRefused::Invalid));
    }

    #[tokio::test]
    async fn check_url_refuses_private_targets_unless_allowed() {
        for url in [
            "http://127.0.0.1:9/cb",
            "http://[::1]:9/cb",
            "http://localhost:9/cb",
            "http://169.254.169.254/latest/meta-data",
            "http://[::ffff:7f00:1]/",
            "https://10.0.0.1/",
            "http://0x7f000001/",
            "http://2130706433/",
        ] {
            assert_eq!(
                check_url(url, false).await,
                Err(UrlRefused::AddressNotAllowed),
                "{url}"
            );
            assert!(check_url(url, true).await.is_ok(), "{url} allowed");
        }
        assert_eq!(
            check_url("ftp://127.0.0.1/", true).await,
            Err(UrlRefused::Scheme)
        );
        assert!(check_url("https://1.1.1.1/hook", false).await.is_ok());
    }

    #[tokio::test]
    async fn guarded_resolver_refuses_loopback_names() {
        let name: Name = "localhost".parse().unwrap();
        let err = match GuardedResolver.resolve(name).await {
            Ok(_) => panic!("localhost must be refused"),
            Err(err) => err,
        };
        assert!(is_refusal(err.as_ref()));
        assert!(!is_refusal(&std::io::Error::other("x")));
    }
}
