//! The client's address: the peer address, or — only when `server.client_address_header` is
//! configured — the address a reverse proxy put in that header (the last entry of a
//! comma-separated list such as `X-Forwarded-For`, which is the one the proxy itself saw). A
//! missing or unparsable header falls back to the peer address.

use std::net::IpAddr;

use actix_web::HttpRequest;

use crate::config::ServerConfig;

/// The address failed attempts are counted for (and audit records show).
pub fn of(req: &HttpRequest, cfg: &ServerConfig) -> Option<IpAddr> {
    if !cfg.client_address_header.is_empty() {
        let from_header = req
            .headers()
            .get(cfg.client_address_header.as_str())
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.rsplit(',').next())
            .and_then(|v| parse(v.trim()));
        if from_header.is_some() {
            return from_header;
        }
    }
    req.peer_addr().map(|a| a.ip())
}

/// An IP address, also in the `[v6]:port` and `v4:port` forms some proxies write.
fn parse(s: &str) -> Option<IpAddr> {
    if let Ok(ip) = s.parse() {
        return Some(ip);
    }
    s.parse::<std::net::SocketAddr>().ok().map(|a| a.ip())
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    fn cfg(header: &str) -> ServerConfig {
        ServerConfig { client_address_header: header.into(), ..ServerConfig::default() }
    }

    #[test]
    fn the_header_counts_only_when_configured_and_its_last_entry_wins() {
        let peer = "10.1.1.1:5000".parse().unwrap();
        let req = TestRequest::default()
            .peer_addr(peer)
            .insert_header(("X-Forwarded-For", "6.6.6.6, 192.0.2.7"))
            .to_http_request();
        assert_eq!(of(&req, &cfg("")), Some(IpAddr::from([10, 1, 1, 1])));
        assert_eq!(of(&req, &cfg("X-Forwarded-For")), Some(IpAddr::from([192, 0, 2, 7])));
        let garbage = TestRequest::default()
            .peer_addr(peer)
            .insert_header(("X-Forwarded-For", "not an address"))
            .to_http_request();
        assert_eq!(of(&garbage, &cfg("X-Forwarded-For")), Some(IpAddr::from([10, 1, 1, 1])));
        let with_port =
            TestRequest::default().peer_addr(peer).insert_header(("X-Real-IP", "[::1]:80")).to_http_request();
        assert_eq!(of(&with_port, &cfg("X-Real-IP")), Some("::1".parse().unwrap()));
    }
}
