//! Choosing the backend's ports: 3210 for the HTTP API and the next free one
//! for HTTP actions, unless the user asks for specific ports or a saved
//! deployment suggests its previous ones.

use std::io::ErrorKind;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener, ToSocketAddrs};

use anyhow::{Result, bail};

use crate::credentials::local_state::LocalPorts;

/// Where a local backend's HTTP API port search starts.
pub const DEFAULT_CLOUD_PORT: u16 = 3210;

/// How many ports a search tries before letting the OS pick one.
const SEARCH_WIDTH: u16 = 10;

/// The first free port in `[start, start + 10)`, else one the OS assigns.
pub fn find_free_port(start: u16) -> u16 {
    let end = start.saturating_add(SEARCH_WIDTH);
    (start..end)
        .find(|&port| port != 0 && is_port_free(port))
        .unwrap_or_else(os_assigned_port)
}

/// Whether `port` can be listened on everywhere a server might bind it: the
/// unspecified address (IPv6 dual-stack, else IPv4), `0.0.0.0`, `127.0.0.1`,
/// every address of `localhost`, and the machine's primary IPv4 address.
pub fn is_port_free(port: u16) -> bool {
    let can_listen = |ip: IpAddr| TcpListener::bind(SocketAddr::new(ip, port));
    // A dual-stack `::` listener also sees IPv4; fall back to IPv4 alone on
    // machines without IPv6.
    match can_listen(IpAddr::V6(Ipv6Addr::UNSPECIFIED)) {
        Ok(_) => {}
        Err(e) if no_such_address(&e) => {
            if can_listen(IpAddr::V4(Ipv4Addr::UNSPECIFIED)).is_err() {
                return false;
            }
        }
        Err(_) => return false,
    }
    if can_listen(IpAddr::V4(Ipv4Addr::UNSPECIFIED)).is_err()
        || can_listen(IpAddr::V4(Ipv4Addr::LOCALHOST)).is_err()
    {
        return false;
    }
    if let Ok(addrs) = ("localhost", port).to_socket_addrs() {
        for addr in addrs {
            if let Err(e) = TcpListener::bind(addr)
                && !no_such_address(&e)
            {
                return false;
            }
        }
    }
    match primary_ipv4() {
        Some(ip) => can_listen(IpAddr::V4(ip)).is_ok(),
        None => true,
    }
}

fn no_such_address(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        ErrorKind::AddrNotAvailable | ErrorKind::Unsupported
    ) || e.raw_os_error() == Some(EAFNOSUPPORT)
}

#[cfg(unix)]
const EAFNOSUPPORT: i32 = libc::EAFNOSUPPORT;
#[cfg(not(unix))]
const EAFNOSUPPORT: i32 = 10047; // WSAEAFNOSUPPORT

/// The first non-loopback IPv4 address of the machine's interfaces.
fn primary_ipv4() -> Option<Ipv4Addr> {
    if_addrs::get_if_addrs()
        .ok()?
        .into_iter()
        .find_map(|iface| match iface.ip() {
            IpAddr::V4(ip) if !ip.is_loopback() => Some(ip),
            _ => None,
        })
}

fn os_assigned_port() -> u16 {
    TcpListener::bind((Ipv4Addr::UNSPECIFIED, 0))
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or(0)
}

/// Picks the cloud and site ports.
///
/// * A requested port (`--local-cloud-port`, `--local-site-port`) must be free,
///   else this fails.
/// * Otherwise a suggested port (a saved deployment's previous one) is used if
///   it is free.
/// * Otherwise the cloud port is searched from 3210 and the site port from the
///   cloud port + 1.
///
/// Unlike the official CLI, a port is never chosen twice (its saved site port
/// could otherwise be handed out again as the new cloud port's neighbour).
pub fn choose_ports(requested: PortChoice, suggested: PortChoice) -> Result<LocalPorts> {
    if let (Some(cloud), Some(site)) = (requested.cloud, requested.site)
        && cloud == site
    {
        bail!(
            "--local-cloud-port and --local-site-port are both {cloud}: the backend needs two different ports."
        );
    }
    let cloud = choose_one(requested.cloud, suggested.cloud, DEFAULT_CLOUD_PORT, &[])?;
    let site = choose_one(
        requested.site,
        suggested.site,
        cloud.saturating_add(1),
        &[cloud],
    )?;
    Ok(LocalPorts { cloud, site })
}

/// Ports asked for, cloud and site; `None` where there is no preference.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PortChoice {
    pub cloud: Option<u16>,
    pub site: Option<u16>,
}

impl From<LocalPorts> for PortChoice {
    fn from(ports: LocalPorts) -> Self {
        PortChoice {
            cloud: Some(ports.cloud),
            site: Some(ports.site),
        }
    }
}

fn choose_one(
    requested: Option<u16>,
    suggested: Option<u16>,
    search_from: u16,
    taken: &[u16],
) -> Result<u16> {
    if let Some(port) = requested {
        if port == 0 || !is_port_free(port) {
            bail!(
                "Requested port {port} is not available. Stop whatever is using it, or choose another port."
            );
        }
        return Ok(port);
    }
    if let Some(port) = suggested
        && port != 0
        && !taken.contains(&port)
        && is_port_free(port)
    {
        return Ok(port);
    }
    let mut start = search_from;
    loop {
        let port = find_free_port(start);
        if !taken.contains(&port) {
            return Ok(port);
        }
        start = port.saturating_add(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A port that nothing listens on right now (may race, but only with other
    /// tests picking the same OS-assigned port).
    fn free_port() -> u16 {
        let l = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        l.local_addr().unwrap().port()
    }

    #[test]
    fn a_busy_port_is_not_free() {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        let port = listener.local_addr().unwrap().port();
        assert!(!is_port_free(port));
        drop(listener);
        assert!(is_port_free(port));
    }

    #[test]
    fn search_skips_busy_ports() {
        let listener = TcpListener::bind((Ipv4Addr::UNSPECIFIED, 0)).unwrap();
        let busy = listener.local_addr().unwrap().port();
        let found = find_free_port(busy);
        assert_ne!(found, busy);
        assert_ne!(found, 0);
    }

    #[test]
    fn requested_ports_must_be_free() {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        let busy = listener.local_addr().unwrap().port();
        let err = choose_ports(
            PortChoice {
                cloud: Some(busy),
                site: None,
            },
            PortChoice::default(),
        )
        .unwrap_err();
        assert!(
            err.to_string()
                .contains(&format!("Requested port {busy} is not available"))
        );
        let free = free_port();
        let err = choose_ports(
            PortChoice {
                cloud: Some(free),
                site: Some(free),
            },
            PortChoice::default(),
        )
        .unwrap_err();
        assert!(err.to_string().contains("two different ports"));
    }

    #[test]
    fn suggested_ports_are_used_when_free_and_never_twice() {
        let a = free_port();
        let ports = choose_ports(
            PortChoice::default(),
            PortChoice {
                cloud: Some(a),
                site: Some(a),
            },
        )
        .unwrap();
        assert_eq!(ports.cloud, a);
        assert_ne!(ports.site, a);
    }
}
