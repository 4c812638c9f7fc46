// SPDX-License-Identifier: GPL-2.0

//! Generic netlink: the "IPVS" family, its requests, attribute access and replies.
//!
//! The family, its policies and ops table live in shim.c (the C ip_vs ones, verbatim); every op
//! lands in [`rust_ipvs_genl_doit`] or [`rust_ipvs_genl_dumpit`], which hand safe views of the
//! request to the module's [`Family`] implementation. Attribute tables are parsed by the kernel's netlink
//! validator with the C policies, so lengths are checked before Rust sees a payload.

use super::{
    net::{
        Net, //
        PernetState,
    },
    shim,
};
use crate::uapi;
use core::marker::PhantomData;
use kernel::{
    bindings,
    error::{from_result, to_result},
    ffi::{
        c_int, //
        c_long,
        c_void,
    },
    prelude::*,
};

/// Length of a netlink attribute header (`NLA_HDRLEN`).
const NLA_HDRLEN: usize = 4;

/// A validated netlink attribute of a request.
#[derive(Clone, Copy)]
pub(crate) struct Attr<'a> {
    /// The attribute header, for nested parsing.
    nla: *const bindings::nlattr,
    /// The payload, `nla_len - NLA_HDRLEN` bytes after the header.
    payload: &'a [u8],
}

impl<'a> Attr<'a> {
    /// Wraps an attribute the kernel's parser stored in a table.
    ///
    /// # Safety
    ///
    /// `nla` is null or points to an attribute, validated by `nla_parse`, inside a message that
    /// stays alive and unchanged for `'a`.
    unsafe fn from_raw(nla: *const bindings::nlattr) -> Option<Self> {
        if nla.is_null() {
            return None;
        }
        // SAFETY: `nla` points to a valid attribute header (function contract).
        let len = usize::from(unsafe { (*nla).nla_len }).saturating_sub(NLA_HDRLEN);
        // SAFETY: the parser checked that `nla_len` bytes from `nla` lie inside the message,
        // which lives for `'a` (function contract).
        let payload = unsafe { core::slice::from_raw_parts(nla.cast::<u8>().add(NLA_HDRLEN), len) };
        Some(Attr { nla, payload })
    }

    /// The attribute's payload.
    pub(crate) fn payload(&self) -> &'a [u8] {
        self.payload
    }

    /// Parses the attribute as a nested table with one of the C policies.
    pub(crate) fn parse_nested<const N: usize>(&self, policy: Policy) -> Result<AttrTable<'a, N>> {
        let mut table = AttrTable::<N>::empty();
        let parse = match policy {
            Policy::Service if N == uapi::SVC_ATTR_MAX + 1 => shim::rust_ipvs_parse_service,
            Policy::Dest if N == uapi::DEST_ATTR_MAX + 1 => shim::rust_ipvs_parse_dest,
            Policy::Daemon if N == uapi::DAEMON_ATTR_MAX + 1 => shim::rust_ipvs_parse_daemon,
            _ => return Err(EINVAL),
        };
        // SAFETY: `table.attrs` has room for `max + 1` entries of the policy (checked above);
        // `self.nla` is a validated attribute alive for `'a`.
        to_result(unsafe { parse(table.attrs.as_mut_ptr(), self.nla) })?;
        Ok(table)
    }
}

/// The C attribute policies a nested attribute can be parsed with.
#[derive(Clone, Copy)]
pub(crate) enum Policy {
    /// `ip_vs_svc_policy`, `IPVS_CMD_ATTR_SERVICE`.
    Service,
    /// `ip_vs_dest_policy`, `IPVS_CMD_ATTR_DEST`.
    Dest,
    /// `ip_vs_daemon_policy`, `IPVS_CMD_ATTR_DAEMON`.
    Daemon,
}

/// A table of parsed attributes, indexed by attribute type (`struct nlattr *tb[N]`).
pub(crate) struct AttrTable<'a, const N: usize> {
    /// Attribute pointers as filled by `nla_parse`; null where absent.
    attrs: [*mut bindings::nlattr; N],
    /// The table borrows the request message.
    _message: PhantomData<&'a [u8]>,
}

impl<'a, const N: usize> AttrTable<'a, N> {
    /// A table with no attributes.
    fn empty() -> Self {
        AttrTable {
            attrs: [core::ptr::null_mut(); N],
            _message: PhantomData,
        }
    }

    /// The attribute of type `ty`, if present.
    pub(crate) fn get(&self, ty: usize) -> Option<Attr<'a>> {
        let nla = *self.attrs.get(ty)?;
        // SAFETY: entries are null or set by `nla_parse` to validated attributes of the
        // message this table borrows for `'a`.
        unsafe { Attr::from_raw(nla) }
    }
}

/// A `doit` request: `struct genl_info` of a message being handled.
pub(crate) struct Request<'a> {
    /// The request; valid for the duration of the `doit` call.
    info: *mut bindings::genl_info,
    /// The request is borrowed from the `doit` call.
    _call: PhantomData<&'a ()>,
}

impl<'a> Request<'a> {
    /// The command (`genlhdr->cmd`).
    pub(crate) fn cmd(&self) -> u8 {
        // SAFETY: `info` is valid during the `doit` call this request borrows.
        unsafe { shim::rust_ipvs_info_cmd(self.info) }
    }

    /// The top-level attribute of type `ty`, validated by the family policy.
    pub(crate) fn attr(&self, ty: usize) -> Option<Attr<'a>> {
        if ty > uapi::CMD_ATTR_MAX {
            return None;
        }
        // CAST: `ty` is at most `IPVS_CMD_ATTR_MAX` (checked above).
        // SAFETY: `info->attrs` has `maxattr + 1` entries, filled by the genetlink core.
        let nla = unsafe { shim::rust_ipvs_info_attr(self.info, ty as c_int) };
        // SAFETY: the genetlink core validated the attribute; the message outlives the call.
        unsafe { Attr::from_raw(nla) }
    }

    /// The namespace of the requesting socket.
    pub(crate) fn net(&self) -> &'a Net {
        // SAFETY: the socket, and so its namespace, is alive during the call.
        unsafe { Net::from_raw(shim::rust_ipvs_info_net(self.info)) }
    }

    /// Sends a unicast reply with command `cmd` whose attributes `fill` writes.
    pub(crate) fn reply(&self, cmd: u8, fill: impl FnOnce(&mut Writer<'_>) -> Result) -> Result {
        // SAFETY: allocates a message; null on failure.
        let skb = unsafe { shim::rust_ipvs_genlmsg_new() };
        if skb.is_null() {
            return Err(ENOMEM);
        }
        let mut writer = Writer {
            skb,
            _skb: PhantomData,
        };
        // SAFETY: `skb` is a fresh message and `info` the request being answered.
        let hdr = unsafe { shim::rust_ipvs_genlmsg_put_reply(skb, self.info, cmd) };
        let filled = if hdr.is_null() {
            Err(EMSGSIZE)
        } else {
            fill(&mut writer)
        };
        if let Err(e) = filled {
            // SAFETY: `skb` is ours and not sent.
            unsafe { shim::rust_ipvs_nlmsg_free(skb) };
            return Err(e);
        }
        // SAFETY: `hdr` was put into `skb` above.
        unsafe { shim::rust_ipvs_genlmsg_end(skb, hdr) };
        // SAFETY: sending consumes `skb`, which is not used again.
        to_result(unsafe { shim::rust_ipvs_genlmsg_reply(skb, self.info) })
    }
}

/// A `dumpit` call: the message being filled and the dump's resume state.
pub(crate) struct Dump<'a> {
    /// The message being filled.
    skb: *mut bindings::sk_buff,
    /// The dump's callback state (`struct netlink_callback`).
    cb: *mut bindings::netlink_callback,
    /// Both are borrowed from the `dumpit` call.
    _call: PhantomData<&'a ()>,
}

impl<'a> Dump<'a> {
    /// The command being dumped.
    pub(crate) fn cmd(&self) -> u8 {
        // SAFETY: `cb` is valid during the call.
        unsafe { shim::rust_ipvs_dump_cmd(self.cb) }
    }

    /// The namespace of the requesting socket.
    pub(crate) fn net(&self) -> &'a Net {
        // SAFETY: the dump skb belongs to the requesting socket, alive during the call.
        unsafe { Net::from_raw(shim::rust_ipvs_skb_net(self.skb)) }
    }

    /// Resume state kept between calls of one dump (`cb->args`).
    pub(crate) fn args(&mut self) -> &mut [c_long; 6] {
        // SAFETY: `cb->args` is an array of six longs owned by the dump, which only this call
        // touches while it runs.
        unsafe { &mut *shim::rust_ipvs_dump_args(self.cb).cast::<[c_long; 6]>() }
    }

    /// The request's top-level attributes, parsed with the family policy.
    pub(crate) fn request_attrs(&self) -> Result<AttrTable<'a, { uapi::CMD_ATTR_MAX + 1 }>> {
        let mut table = AttrTable::empty();
        // SAFETY: the table has `IPVS_CMD_ATTR_MAX + 1` entries; `cb->nlh` is the request,
        // alive for the whole dump.
        to_result(unsafe {
            shim::rust_ipvs_parse_dump_request(table.attrs.as_mut_ptr(), self.cb)
        })?;
        Ok(table)
    }

    /// Adds one entry (a message with NLM_F_MULTI and command `cmd`) whose attributes `fill`
    /// writes. `Err(EMSGSIZE)` means the message is full: stop and resume in the next call.
    pub(crate) fn entry(
        &mut self,
        cmd: u8,
        fill: impl FnOnce(&mut Writer<'_>) -> Result,
    ) -> Result {
        // SAFETY: `skb` and `cb` are valid during the call.
        let hdr = unsafe { shim::rust_ipvs_genlmsg_put_dump(self.skb, self.cb, cmd) };
        if hdr.is_null() {
            return Err(EMSGSIZE);
        }
        let mut writer = Writer {
            skb: self.skb,
            _skb: PhantomData,
        };
        match fill(&mut writer) {
            Ok(()) => {
                // SAFETY: `hdr` was put into `skb` above.
                unsafe { shim::rust_ipvs_genlmsg_end(self.skb, hdr) };
                Ok(())
            }
            Err(e) => {
                // SAFETY: `hdr` was put into `skb` above; cancelling trims it off.
                unsafe { shim::rust_ipvs_genlmsg_cancel(self.skb, hdr) };
                Err(e)
            }
        }
    }
}

/// Writes attributes into a message being built.
pub(crate) struct Writer<'a> {
    /// The message; owned by the reply or dump this writer borrows.
    skb: *mut bindings::sk_buff,
    /// The writer borrows the message.
    _skb: PhantomData<&'a mut ()>,
}

impl Writer<'_> {
    /// Adds an attribute with payload `data`; `EMSGSIZE` when the message is full.
    pub(crate) fn put(&mut self, ty: u16, data: &[u8]) -> Result {
        let len = c_int::try_from(data.len()).map_err(|_| EMSGSIZE)?;
        // SAFETY: `skb` is a message being built; `data` is valid for `len` bytes.
        let ret = unsafe {
            bindings::nla_put(
                self.skb,
                c_int::from(ty),
                len,
                data.as_ptr().cast::<c_void>(),
            )
        };
        if ret == 0 {
            Ok(())
        } else {
            Err(EMSGSIZE)
        }
    }

    /// Adds a `u8` attribute.
    pub(crate) fn put_u8(&mut self, ty: u16, value: u8) -> Result {
        self.put(ty, &[value])
    }

    /// Adds a `u16` attribute in host order.
    pub(crate) fn put_u16(&mut self, ty: u16, value: u16) -> Result {
        self.put(ty, &value.to_ne_bytes())
    }

    /// Adds a `u32` attribute in host order.
    pub(crate) fn put_u32(&mut self, ty: u16, value: u32) -> Result {
        self.put(ty, &value.to_ne_bytes())
    }

    /// Adds a 64-bit attribute, aligned with a pad attribute of type `pad` (`nla_put_u64_64bit`).
    pub(crate) fn put_u64(&mut self, ty: u16, value: u64, pad: u16) -> Result {
        let bytes = value.to_ne_bytes();
        // SAFETY: `skb` is a message being built; `bytes` is valid for 8 bytes.
        let ret = unsafe {
            bindings::nla_put_64bit(
                self.skb,
                c_int::from(ty),
                8,
                bytes.as_ptr().cast::<c_void>(),
                c_int::from(pad),
            )
        };
        if ret == 0 {
            Ok(())
        } else {
            Err(EMSGSIZE)
        }
    }

    /// Adds a nested attribute whose contents `fill` writes; cancelled on error.
    pub(crate) fn nest(&mut self, ty: u16, fill: impl FnOnce(&mut Self) -> Result) -> Result {
        // SAFETY: `skb` is a message being built.
        let start = unsafe { shim::rust_ipvs_nla_nest_start(self.skb, c_int::from(ty)) };
        if start.is_null() {
            return Err(EMSGSIZE);
        }
        match fill(self) {
            Ok(()) => {
                // SAFETY: `start` was returned by nest_start on this message.
                unsafe { shim::rust_ipvs_nla_nest_end(self.skb, start) };
                Ok(())
            }
            Err(e) => {
                // SAFETY: as above; cancelling trims the nest off.
                unsafe { shim::rust_ipvs_nla_nest_cancel(self.skb, start) };
                Err(e)
            }
        }
    }
}

/// Registration of the "IPVS" generic netlink family; unregistered on drop.
pub(crate) struct FamilyRegistration {
    /// Not constructible outside this module.
    _private: (),
}

impl FamilyRegistration {
    /// Registers the family. Requests can arrive as soon as this returns.
    pub(crate) fn new() -> Result<Self> {
        // SAFETY: the family in shim.c is static and its handlers are defined below.
        to_result(unsafe { shim::rust_ipvs_genl_register() })?;
        Ok(FamilyRegistration { _private: () })
    }
}

impl Drop for FamilyRegistration {
    fn drop(&mut self) {
        // SAFETY: registered in `new`; returns once no handler runs any more.
        unsafe { shim::rust_ipvs_genl_unregister() };
    }
}

/// What the module answers on the "IPVS" family (C: `ip_vs_genl_ops`), per namespace.
pub(crate) trait Family: PernetState {
    /// Handles a `doit` request.
    fn doit(&self, request: &Request<'_>) -> Result;
    /// Fills one part of a dump; the dump ends when a part adds nothing.
    fn dumpit(&self, dump: &mut Dump<'_>);
}

/// `doit` of every command: dispatches to [`Family::doit`].
///
/// # Safety
///
/// Called by the generic netlink core with the `genl_info` of a request to this family; `T`
/// is the module's per-namespace state type.
pub(crate) unsafe fn doit<T: Family>(info: *mut bindings::genl_info) -> c_int {
    from_result(|| {
        let request = Request {
            info,
            _call: PhantomData,
        };
        // SAFETY: `T` is the module's state type (caller).
        let ipvs = unsafe { request.net().state::<T>() }.ok_or(ENODEV)?;
        ipvs.doit(&request)?;
        Ok(0)
    })
}

/// `dumpit` of GET_SERVICE, GET_DEST and GET_DAEMON: dispatches to [`Family::dumpit`].
///
/// Returns the message length: 0 ends the dump.
///
/// # Safety
///
/// Called by the generic netlink core with the reply buffer and the callback state of a
/// dump of this family; `T` is the module's per-namespace state type.
pub(crate) unsafe fn dumpit<T: Family>(
    skb: *mut bindings::sk_buff,
    cb: *mut bindings::netlink_callback,
) -> c_int {
    let mut dump = Dump {
        skb,
        cb,
        _call: PhantomData,
    };
    // SAFETY: `T` is the module's state type (caller).
    if let Some(ipvs) = unsafe { dump.net().state::<T>() } {
        ipvs.dumpit(&mut dump);
    }
    // SAFETY: `skb` is the dump message, valid during the call.
    let len = unsafe { shim::rust_ipvs_skb_len(skb) };
    c_int::try_from(len).unwrap_or(c_int::MAX)
}
