// SPDX-License-Identifier: GPL-2.0

//! Kernel log messages under C's prefix (`pr_fmt`: "IPVS: "), not the module's name, so that
//! what a user greps for in `dmesg` reads as under C: [`ipvs_info!`] and [`ipvs_err!`].

use core::fmt;
use kernel::print::{
    call_printk, //
    format_strings,
};

/// The prefix of every message, NUL-terminated (C's `pr_fmt` is "IPVS: ").
const PREFIX: &[u8] = b"IPVS\0";

/// Logs `args` at `KERN_INFO`.
pub(crate) fn info(args: fmt::Arguments<'_>) {
    // SAFETY: `INFO` is one of the kernel crate's fixed format strings and `PREFIX` is
    // NUL-terminated, as `call_printk` requires.
    unsafe { call_printk(&format_strings::INFO, PREFIX, args) };
}

/// Logs `args` at `KERN_ERR`.
pub(crate) fn err(args: fmt::Arguments<'_>) {
    // SAFETY: as in `info`, with `ERR`.
    unsafe { call_printk(&format_strings::ERR, PREFIX, args) };
}

/// A name from a request or a setting (bytes, as C prints them with `%s`) for a log line;
/// "?" if it is not UTF-8.
pub(crate) fn name(bytes: &[u8]) -> &str {
    core::str::from_utf8(bytes).unwrap_or("?")
}

/// `pr_info` of C's IPVS: a message at `KERN_INFO`, prefixed "IPVS: ".
macro_rules! ipvs_info {
    ($($arg:tt)*) => {
        $crate::ffi::log::info(::kernel::prelude::fmt!($($arg)*))
    };
}

/// `pr_err` of C's IPVS: a message at `KERN_ERR`, prefixed "IPVS: ".
macro_rules! ipvs_err {
    ($($arg:tt)*) => {
        $crate::ffi::log::err(::kernel::prelude::fmt!($($arg)*))
    };
}

pub(crate) use ipvs_err;
pub(crate) use ipvs_info;
