//! Who is calling: the peer's address, or — only when the peer is one of the configured proxies — the address that
//! proxy put last in `X-Forwarded-For` (the one it saw). Anyone else's `X-Forwarded-For` is ignored, so a caller
//! that reaches a service directly cannot pick the address its limits are counted under.
//!
//! Proxies are listed in settings (`http.trusted_proxies` for the services and the portal, `edge.trusted_proxies` for
//! the edge) as addresses (`127.0.0.1`, `::1`) or networks (`10.0.0.0/8`).

use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;

use axum::http::HeaderMap;

/// One trusted proxy: an address, or a network in CIDR notation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProxyNet {
    network: IpAddr,
    prefix: u8,
}

impl ProxyNet {
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.network, canonical(ip)) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

impl FromStr for ProxyNet {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let text = text.trim();
        let (address, prefix) = match text.split_once('/') {
            Some((address, prefix)) => (address, Some(prefix)),
            None => (text, None),
        };
        let network =
            canonical(address.parse::<IpAddr>().map_err(|_| {
                format!("{text:?} is not an IP address or a network like 10.0.0.0/8")
            })?);
        let longest = if network.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => longest,
            Some(p) => p
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= longest)
                .ok_or_else(|| format!("{text:?}: the prefix length must be 0–{longest}"))?,
        };
        Ok(Self { network, prefix })
    }
}

/// The proxies whose `X-Forwarded-For` is believed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<ProxyNet>);

impl TrustedProxies {
    /// Parses each entry; the error names the first one that is not an address or a network.
    pub fn parse(entries: &[String]) -> Result<Self, String> {
        entries
            .iter()
            .filter(|e| !e.trim().is_empty())
            .map(|e| e.parse())
            .collect::<Result<Vec<_>, _>>()
            .map(Self)
    }

    /// Trusts nobody: every caller is its peer address.
    pub fn none() -> Self {
        Self(Vec::new())
    }

    pub fn trusts(&self, ip: IpAddr) -> bool {
        self.0.iter().any(|net| net.contains(ip))
    }

    /// The client's address: the peer, or — when the peer is a trusted proxy — the last address in its
    /// `X-Forwarded-For` (the one that proxy added). A trusted proxy's header that does not parse counts as absent.
    pub fn client_address(&self, peer: Option<SocketAddr>, headers: &HeaderMap) -> IpAddr {
        let peer = canonical(peer.map_or(IpAddr::from([127, 0, 0, 1]), |p| p.ip()));
        if !self.trusts(peer) {
            return peer;
        }
        last_forwarded(headers).unwrap_or(peer)
    }

    /// The `X-Forwarded-For` to pass on to the next hop: a trusted proxy's chain as it came (its last entry is the
    /// client), otherwise just the peer's address — a caller's own header is dropped.
    pub fn chain_to_forward(
        &self,
        peer: Option<SocketAddr>,
        headers: &HeaderMap,
    ) -> Option<String> {
        let chain = headers
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        match peer {
            None => chain,
            Some(peer) => {
                let peer = canonical(peer.ip());
                match chain {
                    Some(chain) if self.trusts(peer) && last_forwarded(headers).is_some() => {
                        Some(chain)
                    }
                    _ => Some(peer.to_string()),
                }
            }
        }
    }
}

fn last_forwarded(headers: &HeaderMap) -> Option<IpAddr> {
    // Several X-Forwarded-For fields are one list (RFC 9110 §5.3): the last field's last entry.
    let last = headers.get_all("x-forwarded-for").iter().next_back()?;
    let entry = last.to_str().ok()?.rsplit(',').next()?.trim();
    entry.parse::<IpAddr>().ok().map(canonical)
}

/// `::ffff:10.1.2.3` (an IPv4 peer on a dual-stack socket) is `10.1.2.3`.
fn canonical(ip: IpAddr) -> IpAddr {
    ip.to_canonical()
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn proxies(list: &[&str]) -> TrustedProxies {
        TrustedProxies::parse(&list.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>())
            .expect("parse")
    }

    #[test]
    fn addresses_and_networks_are_parsed_and_matched() {
        let trusted = proxies(&["127.0.0.1", "10.0.0.0/8", "fd00::/8", "::1"]);
        for ip in [
            "127.0.0.1",
            "10.200.3.4",
            "fd12::1",
            "::1",
            "::ffff:10.0.0.9",
        ] {
            assert!(trusted.trusts(ip.parse().expect("ip")), "{ip}");
        }
        for ip in ["127.0.0.2", "11.0.0.1", "192.168.1.1", "fe80::1"] {
            assert!(!trusted.trusts(ip.parse().expect("ip")), "{ip}");
        }
        assert!(proxies(&["0.0.0.0/0"]).trusts("203.0.113.9".parse().expect("ip")));
        for bad in ["localhost", "10.0.0.0/33", "::/129", "10.0.0.0/x"] {
            assert!(TrustedProxies::parse(&[bad.to_owned()]).is_err(), "{bad}");
        }
    }

    #[test]
    fn forwarded_addresses_count_only_from_trusted_proxies() {
        let mut headers = HeaderMap::new();
        headers.insert(
            "x-forwarded-for",
            HeaderValue::from_static("198.51.100.1, 203.0.113.9"),
        );
        let edge: SocketAddr = "127.0.0.1:5000".parse().expect("addr");
        let stranger: SocketAddr = "198.51.100.7:5000".parse().expect("addr");
        let trusted = proxies(&["127.0.0.1"]);
        assert_eq!(
            trusted.client_address(Some(edge), &headers),
            "203.0.113.9".parse::<IpAddr>().expect("ip")
        );
        assert_eq!(
            trusted.client_address(Some(stranger), &headers),
            stranger.ip()
        );
        assert_eq!(
            TrustedProxies::none().client_address(Some(edge), &headers),
            edge.ip(),
            "nobody is trusted unless configured"
        );
        assert_eq!(
            trusted
                .chain_to_forward(Some(stranger), &headers)
                .as_deref(),
            Some("198.51.100.7")
        );
        assert_eq!(
            trusted.chain_to_forward(Some(edge), &headers).as_deref(),
            Some("198.51.100.1, 203.0.113.9")
        );
        headers.insert("x-forwarded-for", HeaderValue::from_static("not-an-ip"));
        assert_eq!(trusted.client_address(Some(edge), &headers), edge.ip());
    }
}
