//! Netlink attributes as the fuzzer builds them: a tree that can encode lies.
//!
//! An [`Attr`] is encoded as a normal `struct nlattr` (length, type, payload, padding to 4
//! bytes) unless one of its knobs says otherwise: [`Attr::len_override`] writes another
//! `nla_len` than the true one (shorter than the header, longer than the message, odd) and
//! [`Attr::unpadded`] leaves out the padding, so the next attribute starts misaligned.

/// `NLA_HDRLEN`: the size of `struct nlattr`.
pub const NLA_HDRLEN: usize = 4;
/// `NLA_F_NESTED`: the flag bit that marks a nested attribute.
pub const NLA_F_NESTED: u16 = 1 << 15;
/// `NLA_F_NET_BYTEORDER`: the flag bit that marks a big-endian payload.
pub const NLA_F_NET_BYTEORDER: u16 = 1 << 14;
/// `NLA_TYPE_MASK`: the type bits of `nla_type`.
pub const NLA_TYPE_MASK: u16 = !(NLA_F_NESTED | NLA_F_NET_BYTEORDER);

/// The payload of an attribute.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Body {
    /// Plain bytes.
    Raw(Vec<u8>),
    /// Nested attributes.
    Nest(Vec<Attr>),
}

/// One attribute of a request under construction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attr {
    /// `nla_type`, flag bits included.
    pub kind: u16,
    /// The payload.
    pub body: Body,
    /// An `nla_len` to write instead of the true length.
    pub len_override: Option<u16>,
    /// Leave out the padding after the payload.
    pub unpadded: bool,
}

impl Attr {
    /// An attribute with raw bytes.
    pub fn bytes(kind: u16, data: impl Into<Vec<u8>>) -> Self {
        Self {
            kind,
            body: Body::Raw(data.into()),
            len_override: None,
            unpadded: false,
        }
    }

    /// A `u8` attribute.
    pub fn u8(kind: u16, value: u8) -> Self {
        Self::bytes(kind, vec![value])
    }

    /// A `u16` attribute in host (little-endian) byte order.
    pub fn u16(kind: u16, value: u16) -> Self {
        Self::bytes(kind, value.to_le_bytes())
    }

    /// A `u16` attribute in network byte order (ports).
    pub fn be16(kind: u16, value: u16) -> Self {
        Self::bytes(kind, value.to_be_bytes())
    }

    /// A `u32` attribute in host (little-endian) byte order.
    pub fn u32(kind: u16, value: u32) -> Self {
        Self::bytes(kind, value.to_le_bytes())
    }

    /// A NUL-terminated string attribute.
    pub fn string(kind: u16, value: &str) -> Self {
        let mut data = value.as_bytes().to_vec();
        data.push(0);
        Self::bytes(kind, data)
    }

    /// A nested attribute (with `NLA_F_NESTED`, as libnl sets it).
    pub fn nest(kind: u16, children: Vec<Attr>) -> Self {
        Self {
            kind: kind | NLA_F_NESTED,
            body: Body::Nest(children),
            len_override: None,
            unpadded: false,
        }
    }

    /// The type without flag bits, as the kernel's `nla_type()` sees it.
    pub fn type_id(&self) -> u16 {
        self.kind & NLA_TYPE_MASK
    }

    /// The nested attributes, if this is a nest.
    pub fn children_mut(&mut self) -> Option<&mut Vec<Attr>> {
        match &mut self.body {
            Body::Nest(children) => Some(children),
            Body::Raw(_) => None,
        }
    }

    /// The payload size in bytes, as encoded (nested padding included).
    pub fn payload_len(&self) -> usize {
        match &self.body {
            Body::Raw(data) => data.len(),
            Body::Nest(children) => children.iter().map(Attr::encoded_len).sum(),
        }
    }

    /// The true `nla_len`: header plus payload.
    pub fn true_len(&self) -> usize {
        NLA_HDRLEN + self.payload_len()
    }

    /// The bytes this attribute occupies, padding included.
    pub fn encoded_len(&self) -> usize {
        let len = self.true_len();
        if self.unpadded {
            len
        } else {
            align4(len)
        }
    }

    /// Appends the encoded attribute to `out`. A true length above 65535 is written as 65535:
    /// the length field cannot hold more, and the result is one more malformed attribute.
    pub fn encode_into(&self, out: &mut Vec<u8>) {
        let start = out.len();
        out.extend_from_slice(&[0; NLA_HDRLEN]);
        match &self.body {
            Body::Raw(data) => out.extend_from_slice(data),
            Body::Nest(children) => encode_attrs(children, out),
        }
        let true_len = out.len() - start;
        let nla_len = self
            .len_override
            .unwrap_or_else(|| u16::try_from(true_len).unwrap_or(u16::MAX));
        out[start..start + 2].copy_from_slice(&nla_len.to_le_bytes());
        out[start + 2..start + 4].copy_from_slice(&self.kind.to_le_bytes());
        if !self.unpadded {
            out.resize(start + align4(true_len), 0);
        }
    }
}

/// Appends a list of attributes to `out`.
pub fn encode_attrs(attrs: &[Attr], out: &mut Vec<u8>) {
    for attr in attrs {
        attr.encode_into(out);
    }
}

/// `NLA_ALIGN` / `NLMSG_ALIGN`: rounds up to a multiple of 4.
pub fn align4(len: usize) -> usize {
    (len + 3) & !3
}

/// One attribute as the kernel's `nla_for_each_attr` finds it in a byte stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RawAttr<'a> {
    /// `nla_type()`: the type without flag bits.
    pub kind: u16,
    /// `nla_data()`, `nla_len() ` bytes long.
    pub data: &'a [u8],
}

/// Walks a stream of attributes exactly like the kernel's `nla_for_each_attr`: it stops at the
/// first attribute whose `nla_len` is below the header size or beyond the remaining bytes.
/// Returns the attributes found and how many bytes were left over (the kernel's "bytes leftover
/// after parsing attributes"; negative when the last attribute's padding was missing).
pub fn walk(stream: &[u8]) -> (Vec<RawAttr<'_>>, isize) {
    let mut found = Vec::new();
    let mut pos = 0usize;
    let mut rem = isize::try_from(stream.len()).unwrap_or(isize::MAX);
    loop {
        // nla_ok(): rem >= sizeof(*nla) && nla_len >= sizeof(*nla) && nla_len <= rem.
        if rem < NLA_HDRLEN as isize {
            break;
        }
        let nla_len = usize::from(u16::from_le_bytes([stream[pos], stream[pos + 1]]));
        let kind = u16::from_le_bytes([stream[pos + 2], stream[pos + 3]]) & NLA_TYPE_MASK;
        if nla_len < NLA_HDRLEN || nla_len as isize > rem {
            break;
        }
        found.push(RawAttr {
            kind,
            data: &stream[pos + NLA_HDRLEN..pos + nla_len],
        });
        // nla_next(): advance by NLA_ALIGN(nla_len), which may overshoot the end.
        let step = align4(nla_len);
        rem -= step as isize;
        pos += step;
    }
    (found, rem)
}

/// The attributes of a request as the kernel's parser sees them, for reading findings: each as
/// `type:hex`, the top-level nests (types 1 to 3: SERVICE, DEST, DAEMON) opened one level as
/// `type{...}`, and `+N` for bytes the parser stops before.
pub fn describe_attrs(stream: &[u8]) -> String {
    describe_level(stream, true)
}

/// One level of [`describe_attrs`].
fn describe_level(stream: &[u8], top: bool) -> String {
    let (attrs, rest) = walk(stream);
    let mut parts: Vec<String> = attrs
        .iter()
        .map(|a| {
            if top && (1..=3).contains(&a.kind) {
                format!("{}{{{}}}", a.kind, describe_level(a.data, false))
            } else {
                let hex: String = a.data.iter().take(24).map(|b| format!("{b:02x}")).collect();
                let more = if a.data.len() > 24 { "..." } else { "" };
                format!("{}:{hex}{more}", a.kind)
            }
        })
        .collect();
    if rest > 0 {
        parts.push(format!("+{rest}"));
    }
    parts.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn u32_attr_is_8_bytes() {
        let mut out = Vec::new();
        Attr::u32(4, 0x0102_0304).encode_into(&mut out);
        assert_eq!(out, [8, 0, 4, 0, 4, 3, 2, 1]);
    }

    #[test]
    fn odd_payload_is_padded_and_len_excludes_padding() {
        let mut out = Vec::new();
        Attr::bytes(3, vec![0xaa; 5]).encode_into(&mut out);
        assert_eq!(out.len(), 12);
        assert_eq!(u16::from_le_bytes([out[0], out[1]]), 9);
        assert_eq!(&out[9..], &[0, 0, 0]);
    }

    #[test]
    fn unpadded_attr_leaves_the_next_one_misaligned() {
        let mut a = Attr::bytes(1, vec![1, 2, 3]);
        a.unpadded = true;
        let mut out = Vec::new();
        encode_attrs(&[a, Attr::u16(2, 7)], &mut out);
        assert_eq!(out.len(), 7 + 8);
        assert_eq!(u16::from_le_bytes([out[7], out[8]]), 6);
    }

    #[test]
    fn nest_length_covers_children() {
        let nest = Attr::nest(1, vec![Attr::u16(1, 2), Attr::string(6, "rr")]);
        let mut out = Vec::new();
        nest.encode_into(&mut out);
        assert_eq!(out.len(), 4 + 8 + 8);
        assert_eq!(u16::from_le_bytes([out[0], out[1]]), 20);
        assert_eq!(u16::from_le_bytes([out[2], out[3]]), 1 | NLA_F_NESTED);
    }

    #[test]
    fn override_is_written_verbatim() {
        let mut a = Attr::u32(5, 1);
        a.len_override = Some(2);
        let mut out = Vec::new();
        a.encode_into(&mut out);
        assert_eq!(u16::from_le_bytes([out[0], out[1]]), 2);
        assert_eq!(out.len(), 8);
    }

    #[test]
    fn walk_stops_like_nla_ok() {
        let mut bad = Attr::u32(5, 1);
        bad.len_override = Some(3);
        let mut out = Vec::new();
        encode_attrs(&[Attr::u16(1, 2), bad, Attr::u16(4, 80)], &mut out);
        let (found, rem) = walk(&out);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].kind, 1);
        assert_eq!(rem, 16);
    }

    #[test]
    fn walk_missing_final_padding_gives_negative_rest() {
        let mut a = Attr::bytes(1, vec![9; 3]);
        a.unpadded = true;
        let mut out = Vec::new();
        a.encode_into(&mut out);
        let (found, rem) = walk(&out);
        assert_eq!(found.len(), 1);
        assert_eq!(rem, -1);
    }

    #[test]
    fn description_opens_top_level_nests() {
        let mut cut = Attr::u16(9, 1);
        cut.len_override = Some(1);
        let mut out = Vec::new();
        encode_attrs(
            &[
                Attr::nest(1, vec![Attr::u16(1, 2), Attr::be16(4, 80)]),
                Attr::u32(4, 7),
                cut,
            ],
            &mut out,
        );
        assert_eq!(describe_attrs(&out), "1{1:0200 4:0050} 4:07000000 +8");
    }

    #[test]
    fn oversized_nest_saturates_the_length_field() {
        let nest = Attr::nest(1, vec![Attr::bytes(3, vec![0; 70_000])]);
        let mut out = Vec::new();
        nest.encode_into(&mut out);
        assert_eq!(u16::from_le_bytes([out[0], out[1]]), u16::MAX);
    }
}
