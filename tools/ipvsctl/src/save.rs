//! `ipvsctl save`: the rules `ipvsadm-save -n` (`ipvsadm -S -n`) prints.

use crate::action::Action;
use crate::addr::{format_endpoint, format_netmask, full_netmask};
use crate::dest::{Dest, FwdMethod, TunType};
use crate::list::ServiceEntry;
use crate::service::{Service, ServiceKey, IP_VS_SVC_F_ONEPACKET};

/// `--tun-nocsum`, `--tun-csum`, `--tun-remcsum` by `IP_VS_TUNNEL_ENCAP_FLAG_*` value.
const TUN_FLAG_OPTS: [&str; 3] = ["--tun-nocsum", "--tun-csum", "--tun-remcsum"];

/// The `-A` rule of a service.
fn service_rule(svc: &Service) -> String {
    let mut rule = format!("-A {} -s {}", svc.key.rule(), svc.scheduler);
    if svc.is_persistent() {
        rule.push_str(&format!(" -p {}", svc.timeout));
        let family = svc.key.family();
        if svc.netmask != full_netmask(family) {
            rule.push_str(&format!(" -M {}", format_netmask(svc.netmask, family)));
        }
    }
    if let Some(pe) = &svc.pe_name {
        rule.push_str(&format!(" --pe {pe}"));
    }
    if svc.flags & IP_VS_SVC_F_ONEPACKET != 0 {
        rule.push_str(" -o");
    }
    if let Some(flags) = svc.sched_flags_text() {
        rule.push_str(&format!(" -b {flags}"));
    }
    rule
}

/// The `-a` rule of a destination.
fn dest_rule(key: &ServiceKey, dest: &Dest) -> String {
    let mut rule = format!(
        "-a {} -r {} {} -w {}",
        key.rule(),
        format_endpoint(dest.addr, dest.port),
        dest.fwd.switch(),
        dest.weight
    );
    if let (FwdMethod::Tunnel, Some(tun)) = (dest.fwd, dest.tunnel) {
        let flag = TUN_FLAG_OPTS
            .get(usize::from(tun.flags))
            .copied()
            .unwrap_or("--tun-nocsum");
        match TunType::from_value(tun.tun_type) {
            Some(TunType::Ipip) => rule.push_str(" --tun-type ipip"),
            Some(TunType::Gue) => {
                rule.push_str(&format!(" --tun-type gue --tun-port {} {flag}", tun.port))
            }
            Some(TunType::Gre) => rule.push_str(&format!(" --tun-type gre {flag}")),
            None => {}
        }
    }
    rule
}

/// Renders the rules for a table, in ipvsadm's sorted order.
pub fn render_save(entries: &[ServiceEntry]) -> String {
    let mut out = String::new();
    for entry in entries {
        out.push_str(&service_rule(&entry.service));
        out.push('\n');
        for dest in &entry.dests {
            out.push_str(&dest_rule(&entry.service.key, dest));
            out.push('\n');
        }
    }
    out
}

/// A change in ipvsadm rule syntax (what `restore --check` prints back).
pub fn action_rule(action: &Action) -> String {
    match action {
        Action::AddService(svc) => service_rule(svc),
        Action::EditService(svc) => format!("-E{}", &service_rule(svc)[2..]),
        Action::DelService(key) => format!("-D {}", key.rule()),
        Action::AddDest(key, dest) => dest_rule(key, dest),
        Action::EditDest(key, dest) => format!("-e{}", &dest_rule(key, dest)[2..]),
        Action::DelDest(key, dest) => format!(
            "-d {} -r {}",
            key.rule(),
            format_endpoint(dest.addr, dest.port)
        ),
        Action::Flush => "-C".to_string(),
        Action::Zero(None) => "-Z".to_string(),
        Action::Zero(Some(key)) => format!("-Z {}", key.rule()),
        Action::SetTimeout(t) => format!("--set {} {} {}", t.tcp, t.tcp_fin, t.udp),
    }
}
