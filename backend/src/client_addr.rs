//! The client's address, for throttles and the audit log.
//!
//! It is the TCP peer, unless the peer is one of the operator's trusted proxies
//! (`OTCPAY_TRUSTED_PROXIES`, a comma-separated list of CIDRs or addresses; none by
//! default): then `X-Forwarded-For` is read from the right, skipping trusted proxies, and
//! the first address that is not one is the client. A header from any other peer is
//! ignored, so a client cannot choose the address it is throttled under.

use std::net::IpAddr;

use actix_web::{HttpRequest, web};
use ipnet::IpNet;

#[derive(Debug, Clone, Default)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    /// Parses `"10.0.0.0/8, 192.168.1.5"`; an empty list trusts no proxy.
    pub fn parse(list: &str) -> Result<Self, String> {
        list.split(',')
            .map(str::trim)
            .filter(|item| !item.is_empty())
            .map(|item| {
                item.parse::<IpNet>()
                    .or_else(|_| item.parse::<IpAddr>().map(IpNet::from))
                    .map_err(|_| {
                        format!("OTCPAY_TRUSTED_PROXIES: {item:?} is not a CIDR or an address")
                    })
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Self)
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.0.iter().any(|net| net.contains(&ip))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The client behind `peer`, given the `X-Forwarded-For` values in order.
    pub fn client(&self, peer: IpAddr, forwarded_for: &[&str]) -> IpAddr {
        if !self.contains(peer) {
            return canonical(peer);
        }
        let hops = forwarded_for
            .iter()
            .flat_map(|value| value.split(','))
            .map(str::trim)
            .collect::<Vec<_>>();
        let mut client = canonical(peer);
        for hop in hops.iter().rev() {
            let Ok(ip) = hop.parse::<IpAddr>() else {
                // A malformed hop ends what can be believed.
                break;
            };
            client = canonical(ip);
            if !self.contains(client) {
                break;
            }
        }
        client
    }
}

/// IPv4-mapped IPv6 addresses count as the IPv4 address they carry.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// The client address of a request, as text (`"unknown"` without a peer).
pub fn client_ip(req: &HttpRequest) -> String {
    let Some(peer) = req.peer_addr().map(|addr| addr.ip()) else {
        return "unknown".to_owned();
    };
    // Registered as app data by `startup` (the App's own copy of the setting).
    let Some(trusted) = req.app_data::<web::Data<TrustedProxies>>() else {
        return canonical(peer).to_string();
    };
    let forwarded: Vec<&str> = req
        .headers()
        .get_all("x-forwarded-for")
        .filter_map(|v| v.to_str().ok())
        .collect();
    trusted.client(peer, &forwarded).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn parses_cidrs_and_addresses_and_refuses_garbage() {
        let trusted = TrustedProxies::parse(" 10.0.0.0/8, 192.168.1.5 ,::1").unwrap();
        assert!(trusted.contains(ip("10.2.3.4")));
        assert!(trusted.contains(ip("192.168.1.5")));
        assert!(!trusted.contains(ip("192.168.1.6")));
        assert!(trusted.contains(ip("::1")));
        assert!(trusted.contains(ip("::ffff:10.0.0.1")));
        assert!(TrustedProxies::parse("").unwrap().is_empty());
        assert!(TrustedProxies::parse("10.0.0.0/33").is_err());
        assert!(TrustedProxies::parse("proxy.example").is_err());
    }

    #[test]
    fn forwarded_for_is_believed_only_from_trusted_proxies() {
        let trusted = TrustedProxies::parse("10.0.0.0/8").unwrap();
        // Not a trusted peer: the header is ignored.
        assert_eq!(
            trusted.client(ip("203.0.113.9"), &["198.51.100.1"]),
            ip("203.0.113.9")
        );
        // Through one proxy.
        assert_eq!(
            trusted.client(ip("10.0.0.2"), &["198.51.100.1"]),
            ip("198.51.100.1")
        );
        // A client-supplied first hop is skipped: the right-most untrusted hop wins.
        assert_eq!(
            trusted.client(ip("10.0.0.2"), &["1.2.3.4, 198.51.100.1, 10.0.0.3"]),
            ip("198.51.100.1")
        );
        // Several header lines read as one list.
        assert_eq!(
            trusted.client(ip("10.0.0.2"), &["1.2.3.4", "198.51.100.7"]),
            ip("198.51.100.7")
        );
        // No header: the proxy itself.
        assert_eq!(trusted.client(ip("10.0.0.2"), &[]), ip("10.0.0.2"));
        // Garbage stops the walk at the last believable hop.
        assert_eq!(
            trusted.client(ip("10.0.0.2"), &["198.51.100.1, not-an-ip"]),
            ip("10.0.0.2")
        );
        // No trusted proxies: never believed.
        assert_eq!(
            TrustedProxies::default().client(ip("10.0.0.2"), &["198.51.100.1"]),
            ip("10.0.0.2")
        );
    }
}
