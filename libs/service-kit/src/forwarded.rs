//! Who is calling: the peer's address, or — only when the peer is one of the configured proxies — the address that
//! proxy put last in `X-Forwarded-For` (the one it saw). Anyone else's `X-Forwarded-For` is ignored, so a caller
//! that reaches a service directly cannot pick the address its limits are counted under.
//!
//! Proxies are listed in settings (`http.trusted_proxies` for the services and the portal, `edge.trusted_proxies` for
//! the edge) as addresses (`127.0.0.1`, `::1`) or networks (`10.0.0.0/8`).
//!
//! Handlers take [`ClientAddress`] (the address limits count) or [`ForwardedFor`] (the chain to pass on to the next
//! hop) as extractors; their state gives the [`TrustedProxies`] through `FromRef`.

use std::convert::Infallible;
use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, FromRef, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{Extensions, HeaderMap};

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

/// The proxies whose `X-Forwarded-For` is believed. Shared, not copied: the extractors take it from the state on
/// every request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Arc<[ProxyNet]>);

impl TrustedProxies {
    /// Parses each entry; the error names the first one that is not an address or a network.
    pub fn parse(entries: &[String]) -> Result<Self, String> {
        entries
            .iter()
            .filter(|e| !e.trim().is_empty())
            .map(|e| e.parse())
            .collect::<Result<Arc<[_]>, _>>()
            .map(Self)
    }

    /// Trusts nobody: every caller is its peer address.
    pub fn none() -> Self {
        Self(Arc::from([]))
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

/// The connection's peer, when the server was started with connect info (a router called directly in a test has
/// none).
pub fn peer(extensions: &Extensions) -> Option<SocketAddr> {
    extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| *addr)
}

/// What both extractors read: the state's proxies and the connection's peer.
fn trusted_and_peer<S>(parts: &Parts, state: &S) -> (TrustedProxies, Option<SocketAddr>)
where
    TrustedProxies: FromRef<S>,
{
    (TrustedProxies::from_ref(state), peer(&parts.extensions))
}

/// The caller's address, as limits count it: [`TrustedProxies::client_address`] of the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddress(pub IpAddr);

impl<S> FromRequestParts<S> for ClientAddress
where
    TrustedProxies: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let (trusted, peer) = trusted_and_peer(parts, state);
        Ok(Self(trusted.client_address(peer, &parts.headers)))
    }
}

/// The `X-Forwarded-For` to pass on to the next hop: [`TrustedProxies::chain_to_forward`] of the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForwardedFor(pub Option<String>);

impl<S> FromRequestParts<S> for ForwardedFor
where
    TrustedProxies: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let (trusted, peer) = trusted_and_peer(parts, state);
        Ok(Self(trusted.chain_to_forward(peer, &parts.headers)))
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

    #[tokio::test]
    async fn the_extractors_read_the_peer_and_the_proxies_of_the_state() {
        let trusted = proxies(&["127.0.0.1"]);
        let from = |peer: Option<&str>| {
            let mut request = axum::http::Request::builder()
                .header("x-forwarded-for", "203.0.113.9")
                .body(())
                .expect("request");
            if let Some(peer) = peer {
                let peer: SocketAddr = peer.parse().expect("addr");
                request.extensions_mut().insert(ConnectInfo(peer));
            }
            request.into_parts().0
        };
        let client = |ip: &str| ClientAddress(ip.parse().expect("ip"));
        let forwarded = |chain: &str| ForwardedFor(Some(chain.to_owned()));

        let mut parts = from(Some("127.0.0.1:5000"));
        let Ok(address) = ClientAddress::from_request_parts(&mut parts, &trusted).await;
        assert_eq!(address, client("203.0.113.9"));
        let Ok(chain) = ForwardedFor::from_request_parts(&mut parts, &trusted).await;
        assert_eq!(chain, forwarded("203.0.113.9"));
        // A private or loopback caller is not trusted for being one: only configured proxies are.
        let mut parts = from(Some("10.1.2.3:5000"));
        let Ok(address) = ClientAddress::from_request_parts(&mut parts, &trusted).await;
        assert_eq!(address, client("10.1.2.3"));
        let Ok(chain) = ForwardedFor::from_request_parts(&mut parts, &trusted).await;
        assert_eq!(chain, forwarded("10.1.2.3"));
        let mut parts = from(Some("127.0.0.1:5000"));
        let Ok(chain) = ForwardedFor::from_request_parts(&mut parts, &TrustedProxies::none()).await;
        assert_eq!(chain, forwarded("127.0.0.1"));
        // Without connect info (a router called directly) the header is passed as it came.
        let mut parts = from(None);
        let Ok(chain) = ForwardedFor::from_request_parts(&mut parts, &trusted).await;
        assert_eq!(chain, forwarded("203.0.113.9"));
    }
}
