//! What came back for each request, how that compares with the model, and the totals.

use std::collections::BTreeMap;
use std::fmt;

use crate::model::Verdict;

/// The answer the kernel gave to one request.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Outcome {
    /// The errno of an NLMSG_ERROR (or of a failed NLMSG_DONE), positive.
    pub errno: Option<i32>,
    /// An ACK (NLMSG_ERROR with 0) came back.
    pub acked: bool,
    /// Reply messages of the request's own (doit replies and dump entries).
    pub replies: u32,
    /// NLMSG_DONE came back.
    pub done: bool,
    /// Nothing conclusive came back before the receive timeout.
    pub timed_out: bool,
    /// `send` itself failed with this errno.
    pub send_errno: Option<i32>,
}

impl Outcome {
    /// The counter this outcome goes to.
    pub fn category(&self) -> String {
        if let Some(errno) = self.send_errno {
            format!("send_{}", errno_name(errno))
        } else if self.timed_out {
            "timeout".to_string()
        } else if let Some(errno) = self.errno {
            errno_name(errno)
        } else if self.done {
            "dump_done".to_string()
        } else if self.replies > 0 {
            "reply".to_string()
        } else if self.acked {
            "ack_ok".to_string()
        } else {
            "silent".to_string()
        }
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.category())?;
        if self.replies > 0 && self.errno.is_some() {
            write!(f, " after {} replies", self.replies)?;
        }
        Ok(())
    }
}

/// How an outcome compares with the model's verdict.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Judgement {
    /// As predicted.
    Agree,
    /// Accepted although the C implementation certainly rejects it: the configuration may
    /// have changed.
    UnexpectedOk,
    /// Rejected with another errno than predicted, or a reply where an error was due.
    Mismatch,
    /// No answer in time, or the socket lost it.
    Lost,
}

/// Compares what came back with the verdict.
pub fn judge(verdict: &Verdict, outcome: &Outcome) -> Judgement {
    if outcome.timed_out || outcome.send_errno.is_some() {
        return Judgement::Lost;
    }
    let errno_in = |set: &[i32]| outcome.errno.is_some_and(|e| set.contains(&e));
    let ok = outcome.errno.is_none();
    let agree = match verdict {
        Verdict::Error(set) => {
            if ok {
                return Judgement::UnexpectedOk;
            }
            errno_in(set)
        }
        Verdict::Reply => ok && outcome.replies > 0,
        Verdict::ReplyOrError(set) => (ok && outcome.replies > 0) || errno_in(set),
        Verdict::Dump => ok && outcome.done,
        Verdict::Harmless(set) => (ok && outcome.replies == 0) || errno_in(set),
        Verdict::MayChange => true,
    };
    if agree {
        Judgement::Agree
    } else {
        Judgement::Mismatch
    }
}

/// The totals of a run.
#[derive(Debug, Default)]
pub struct Summary {
    /// Requests sent.
    pub sent: u64,
    /// Outcome category -> count.
    pub by_category: BTreeMap<String, u64>,
    /// Requests accepted that the C implementation rejects.
    pub unexpected_ok: u64,
    /// Answers that differ from the C implementation's.
    pub mismatch: u64,
    /// Write requests that needed an extra defect to be certainly rejected.
    pub forced: u64,
    /// Requests not sent because no defect made them safe.
    pub skipped: u64,
}

impl Summary {
    /// Counts one answered request.
    pub fn add(&mut self, outcome: &Outcome, judgement: Judgement) {
        self.sent += 1;
        *self.by_category.entry(outcome.category()).or_default() += 1;
        match judgement {
            Judgement::UnexpectedOk => self.unexpected_ok += 1,
            Judgement::Mismatch => self.mismatch += 1,
            Judgement::Agree | Judgement::Lost => {}
        }
    }

    /// The run found something: a request accepted or answered unlike the C implementation,
    /// or lost.
    pub fn anomalies(&self) -> u64 {
        let lost: u64 = self
            .by_category
            .iter()
            .filter(|(name, _)| *name == "timeout" || name.starts_with("send_"))
            .map(|(_, n)| n)
            .sum();
        self.unexpected_ok + self.mismatch + lost
    }
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "sent={}", self.sent)?;
        let fixed = ["ack_ok", "reply", "dump_done", "silent"];
        for name in fixed {
            write!(
                f,
                " {name}={}",
                self.by_category.get(name).copied().unwrap_or(0)
            )?;
        }
        for (name, count) in &self.by_category {
            if !fixed.contains(&name.as_str()) && name != "timeout" {
                write!(f, " {name}={count}")?;
            }
        }
        write!(
            f,
            " timeout={} unexpected_ok={} mismatch={} forced={} skipped={}",
            self.by_category.get("timeout").copied().unwrap_or(0),
            self.unexpected_ok,
            self.mismatch,
            self.forced,
            self.skipped
        )
    }
}

/// The symbolic name of an errno (`EINVAL`), or `E<number>` for the rare ones.
pub fn errno_name(errno: i32) -> String {
    let name = match errno {
        libc::EPERM => "EPERM",
        libc::ENOENT => "ENOENT",
        libc::ESRCH => "ESRCH",
        libc::EINTR => "EINTR",
        libc::EIO => "EIO",
        libc::ENXIO => "ENXIO",
        libc::E2BIG => "E2BIG",
        libc::EBADF => "EBADF",
        libc::EAGAIN => "EAGAIN",
        libc::ENOMEM => "ENOMEM",
        libc::EACCES => "EACCES",
        libc::EFAULT => "EFAULT",
        libc::EBUSY => "EBUSY",
        libc::EEXIST => "EEXIST",
        libc::ENODEV => "ENODEV",
        libc::EINVAL => "EINVAL",
        libc::ENOSPC => "ENOSPC",
        libc::ERANGE => "ERANGE",
        libc::ENOSYS => "ENOSYS",
        libc::EMSGSIZE => "EMSGSIZE",
        libc::ENOPROTOOPT => "ENOPROTOOPT",
        libc::EPROTONOSUPPORT => "EPROTONOSUPPORT",
        libc::EOPNOTSUPP => "EOPNOTSUPP",
        libc::EAFNOSUPPORT => "EAFNOSUPPORT",
        libc::ENOBUFS => "ENOBUFS",
        libc::ECONNREFUSED => "ECONNREFUSED",
        libc::ETIMEDOUT => "ETIMEDOUT",
        524 => "ENOTSUPP",
        _ => return format!("E{errno}"),
    };
    name.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{EINVAL, ESRCH};

    fn err(errno: i32) -> Outcome {
        Outcome {
            errno: Some(errno),
            ..Outcome::default()
        }
    }

    #[test]
    fn judging() {
        let ack = Outcome {
            acked: true,
            ..Outcome::default()
        };
        assert_eq!(
            judge(&Verdict::Error(vec![EINVAL]), &err(EINVAL)),
            Judgement::Agree
        );
        assert_eq!(
            judge(&Verdict::Error(vec![EINVAL]), &err(ESRCH)),
            Judgement::Mismatch
        );
        assert_eq!(
            judge(&Verdict::Error(vec![EINVAL]), &ack),
            Judgement::UnexpectedOk
        );
        assert_eq!(
            judge(&Verdict::Harmless(vec![ESRCH]), &ack),
            Judgement::Agree
        );
        assert_eq!(judge(&Verdict::Reply, &ack), Judgement::Mismatch);
        let lost = Outcome {
            timed_out: true,
            ..Outcome::default()
        };
        assert_eq!(judge(&Verdict::Reply, &lost), Judgement::Lost);
    }

    #[test]
    fn summary_line() {
        let mut s = Summary::default();
        s.add(&err(EINVAL), Judgement::Agree);
        s.add(&err(EINVAL), Judgement::Agree);
        s.add(
            &Outcome {
                acked: true,
                ..Outcome::default()
            },
            Judgement::Agree,
        );
        assert_eq!(
            s.to_string(),
            "sent=3 ack_ok=1 reply=0 dump_done=0 silent=0 EINVAL=2 timeout=0 unexpected_ok=0 \
             mismatch=0 forced=0 skipped=0"
        );
        assert_eq!(s.anomalies(), 0);
        assert_eq!(errno_name(95), "EOPNOTSUPP");
        assert_eq!(errno_name(4095), "E4095");
    }
}
