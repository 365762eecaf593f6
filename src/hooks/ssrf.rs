//! The SSRF guard: hook URLs must be http(s) and, unless `webhooks.allow_local_network` is set,
//! must not point at loopback, private, link-local, unspecified, multicast or other non-public
//! addresses — checked on the URL when a hook is saved and on every resolved address before each
//! delivery (the delivery then connects to the address that was checked).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, ToSocketAddrs};

use reqwest::Url;

/// Longest hook URL accepted.
pub const MAX_URL_LEN: usize = 2048;

/// Why a URL is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    #[error("invalid url")]
    Invalid,
    #[error("requests to the local network are not allowed")]
    LocalNetwork,
    #[error("host cannot be resolved: {0}")]
    Unresolvable(String),
}

/// Parses a hook URL: http or https, a host, at most [`MAX_URL_LEN`] characters.
pub fn parse(url: &str) -> Result<Url, Refused> {
    if url.len() > MAX_URL_LEN || url.trim() != url || url.chars().any(char::is_control) {
        return Err(Refused::Invalid);
    }
    let parsed = Url::parse(url).map_err(|_| Refused::Invalid)?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none_or(str::is_empty) {
        return Err(Refused::Invalid);
    }
    Ok(parsed)
}

/// The checks made when a hook is saved: the URL parses, and a literal IP address or a name
/// such as `localhost` is not on the local network (names are resolved again at delivery).
pub fn check_saved(url: &str, allow_local: bool) -> Result<Url, Refused> {
    let parsed = parse(url)?;
    if allow_local {
        return Ok(parsed);
    }
    match host_of(&parsed) {
        Some(Host::Ip(ip)) if is_local(ip) => Err(Refused::LocalNetwork),
        Some(Host::Name(d)) if is_local_name(d) => Err(Refused::LocalNetwork),
        _ => Ok(parsed),
    }
}

enum Host<'a> {
    Ip(IpAddr),
    Name(&'a str),
}

/// The URL's host as an address (the URL parser already normalised `2130706433` and the like)
/// or a name.
fn host_of(url: &Url) -> Option<Host<'_>> {
    let h = url.host_str()?;
    let bare = h.strip_prefix('[').and_then(|x| x.strip_suffix(']')).unwrap_or(h);
    Some(match bare.parse::<IpAddr>() {
        Ok(ip) => Host::Ip(ip),
        Err(_) => Host::Name(h),
    })
}

/// Resolves the URL's host (blocking: DNS) and returns the address to connect to: refused when
/// any resolved address is on the local network (unless allowed), or nothing resolves.
pub fn resolve(url: &Url, allow_local: bool) -> Result<SocketAddr, Refused> {
    let port = url.port_or_known_default().ok_or(Refused::Invalid)?;
    let addrs: Vec<SocketAddr> = match host_of(url) {
        Some(Host::Ip(ip)) => vec![SocketAddr::new(ip, port)],
        Some(Host::Name(d)) => {
            if !allow_local && is_local_name(d) {
                return Err(Refused::LocalNetwork);
            }
            (d, port).to_socket_addrs().map_err(|e| Refused::Unresolvable(e.to_string()))?.collect()
        }
        None => return Err(Refused::Invalid),
    };
    if !allow_local && addrs.iter().any(|a| is_local(a.ip())) {
        return Err(Refused::LocalNetwork);
    }
    addrs.first().copied().ok_or_else(|| Refused::Unresolvable("no address".into()))
}

fn is_local_name(host: &str) -> bool {
    let h = host.trim_end_matches('.').to_ascii_lowercase();
    h == "localhost" || h.ends_with(".localhost")
}

/// True for every address that is not a public unicast one.
pub fn is_local(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_local_v4(v4),
        IpAddr::V6(v6) => is_local_v6(v6),
    }
}

fn is_local_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_multicast()
        || ip.is_broadcast()
        || ip.is_documentation()
        || a == 0                                   // "this network"
        || (a == 100 && (64..128).contains(&b))     // shared address space (CGNAT)
        || (a == 192 && b == 0 && c == 0)           // IETF protocol assignments
        || (a == 198 && (b == 18 || b == 19))       // benchmarking
        || a >= 240 // reserved
}

fn is_local_v6(ip: Ipv6Addr) -> bool {
    let s = ip.segments();
    if let Some(v4) = ip.to_ipv4_mapped() {
        return is_local_v4(v4);
    }
    // IPv4-compatible (::a.b.c.d, deprecated), NAT64 (64:ff9b::/96) and 6to4 (2002::/16) embed
    // an IPv4 address that the packet may end up at.
    if s[..6] == [0; 6] && !ip.is_loopback() && !ip.is_unspecified() {
        return is_local_v4(Ipv4Addr::new((s[6] >> 8) as u8, s[6] as u8, (s[7] >> 8) as u8, s[7] as u8));
    }
    if s[0] == 0x64 && s[1] == 0xff9b && s[2..6] == [0; 4] {
        return is_local_v4(Ipv4Addr::new((s[6] >> 8) as u8, s[6] as u8, (s[7] >> 8) as u8, s[7] as u8));
    }
    if s[0] == 0x2002 {
        return is_local_v4(Ipv4Addr::new((s[1] >> 8) as u8, s[1] as u8, (s[2] >> 8) as u8, s[2] as u8));
    }
    ip.is_loopback()
        || ip.is_unspecified()
        || ip.is_multicast()
        || (s[0] & 0xfe00) == 0xfc00 // unique local
        || (s[0] & 0xffc0) == 0xfe80 // link-local
        || (s[0] & 0xffc0) == 0xfec0 // site-local (deprecated)
        || (s[0] == 0x2001 && s[1] == 0x0db8) // documentation
}

#[cfg(test)]
mod tests {
    use super::*;

    fn local(s: &str) -> bool {
        is_local(s.parse().unwrap())
    }

    #[test]
    fn non_public_addresses_are_local() {
        for a in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "224.0.0.1",
            "255.255.255.255",
            "100.64.0.1",
            "::1",
            "::",
            "fe80::1",
            "fc00::1",
            "fd12::1",
            "ff02::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "::127.0.0.1",
            "64:ff9b::a00:1",
            "2002:7f00:1::",
        ] {
            assert!(local(a), "{a} should be local");
        }
    }

    #[test]
    fn public_addresses_are_not_local() {
        for a in ["8.8.8.8", "93.184.216.34", "2606:4700:4700::1111", "::ffff:8.8.8.8"] {
            assert!(!local(a), "{a} should be public");
        }
    }

    #[test]
    fn saved_urls_must_be_http_and_not_local_unless_allowed() {
        assert_eq!(check_saved("ftp://example.com/", false), Err(Refused::Invalid));
        assert_eq!(check_saved("not a url", false), Err(Refused::Invalid));
        assert_eq!(check_saved("http://127.0.0.1:9/x", false), Err(Refused::LocalNetwork));
        assert_eq!(check_saved("http://[::ffff:7f00:1]/", false), Err(Refused::LocalNetwork));
        assert_eq!(check_saved("http://LOCALHOST./", false), Err(Refused::LocalNetwork));
        assert_eq!(check_saved("http://2130706433/", false), Err(Refused::LocalNetwork));
        assert!(check_saved("http://127.0.0.1:9/x", true).is_ok());
        assert!(check_saved("https://hooks.example.com/in", false).is_ok());
        assert_eq!(
            check_saved(&format!("https://e.com/{}", "a".repeat(MAX_URL_LEN)), false),
            Err(Refused::Invalid)
        );
    }

    #[test]
    fn resolving_refuses_local_addresses() {
        let url = parse("http://127.0.0.1:8080/").unwrap();
        assert_eq!(resolve(&url, false), Err(Refused::LocalNetwork));
        assert_eq!(resolve(&url, true).unwrap(), "127.0.0.1:8080".parse().unwrap());
    }
}
