//! The contract: one value per field, borrowed from the payload where it can be, and its
//! canonical comparison (DESIGN 3.3).

use std::borrow::Cow;
use std::fmt;
use std::hash::{BuildHasher, Hasher};

use foldhash::fast::FixedState;

use serde::ser::{Serialize, SerializeMap, Serializer};

use crate::field::{Field, FIELD_COUNT};

/// One apprenticeship contract as it came on the wire.
///
/// Values are kept as sent (not trimmed): the canonical form is only used to compare. A field
/// the payload did not carry, or carried as `null`, is absent.
///
/// The contract is compact: the text of its values (for a parsed contract, the object's own
/// bytes in the input, borrowed) and one `(offset, length)` span per field, 176 bytes
/// whatever the number of fields (two `u16` per span for a text under 64 KiB, every real
/// contract), so that a million contracts fit beside their input.
///
/// The layout is fixed so that what the diff reads first (the hashes, the text's address and
/// the key's span) shares one cache line.
#[derive(Clone)]
#[repr(C)]
pub struct Contract<'a> {
    /// Hash of the key, computed once while the text is hot in the cache.
    key_hash: u64,
    /// Hash of the text: see [`Contract::fingerprint`].
    fingerprint: u64,
    /// The text the spans point into.
    src: Cow<'a, str>,
    spans: Spans,
}

/// The fixed hasher of keys and fingerprints: same input, same hash, in every run.
const HASHER: FixedState = FixedState::with_seed(0x6361_6d70_7573_7379);

/// Where a value lies in a contract's text; `start == u32::MAX` marks an absent field.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct Span {
    pub(crate) start: u32,
    pub(crate) len: u32,
}

impl Span {
    /// The value at this span of `src`: `None` when the field is absent (or the span does not
    /// lie in `src`).
    #[inline]
    fn value(self, src: &str) -> Option<&str> {
        if self.start == u32::MAX {
            return None;
        }
        let start = self.start as usize;
        src.get(start..start + self.len as usize)
    }
}

pub(crate) const ABSENT: Span = Span {
    start: u32::MAX,
    len: 0,
};

/// An absent field among narrow spans (see [`Spans`]).
pub(crate) const NARROW_ABSENT: [u16; 2] = [u16::MAX, 0];

/// A contract's spans: two `u16` each (`u16::MAX` marking an absent field) when they all fit,
/// as they do for any text under 64 KiB; boxed `u32` pairs otherwise. The same spans always
/// take the same form, so that equal spans compare equal.
#[derive(Clone, PartialEq, Eq)]
enum Spans {
    Narrow([[u16; 2]; FIELD_COUNT]),
    Wide(Box<[Span; FIELD_COUNT]>),
}

impl Spans {
    fn new(spans: [Span; FIELD_COUNT]) -> Spans {
        let narrow = |span: &Span| -> Option<[u16; 2]> {
            if span.start == u32::MAX {
                return Some(NARROW_ABSENT);
            }
            let start = u16::try_from(span.start).ok().filter(|&s| s < u16::MAX)?;
            Some([start, u16::try_from(span.len).ok()?])
        };
        let mut out = [NARROW_ABSENT; FIELD_COUNT];
        for (slot, span) in out.iter_mut().zip(&spans) {
            match narrow(span) {
                Some(n) => *slot = n,
                None => return Spans::Wide(Box::new(spans)),
            }
        }
        Spans::Narrow(out)
    }

    /// The span of field number `i`.
    #[inline]
    fn get(&self, i: usize) -> Span {
        match self {
            Spans::Narrow(spans) => match spans[i] {
                [u16::MAX, _] => ABSENT,
                [start, len] => Span {
                    start: start.into(),
                    len: len.into(),
                },
            },
            Spans::Wide(spans) => spans[i],
        }
    }
}

impl Default for Contract<'_> {
    fn default() -> Self {
        Contract {
            src: Cow::Borrowed(""),
            spans: Spans::new([ABSENT; FIELD_COUNT]),
            key_hash: 0,
            fingerprint: 0,
        }
        .sealed()
    }
}

impl<'a> Contract<'a> {
    /// An empty contract: every field absent.
    pub fn new() -> Self {
        Self::default()
    }

    /// Builds a contract from `(field, value)` pairs; later pairs win.
    pub fn from_pairs<I, V>(pairs: I) -> Self
    where
        I: IntoIterator<Item = (Field, V)>,
        V: Into<Cow<'a, str>>,
    {
        let mut values: [Option<Cow<'a, str>>; FIELD_COUNT] = Default::default();
        for (field, value) in pairs {
            values[field.index()] = Some(value.into());
        }
        Self::from_values(&values)
    }

    /// A contract that owns the text of `values`.
    pub(crate) fn from_values<S: AsRef<str>>(values: &[Option<S>; FIELD_COUNT]) -> Self {
        let mut src =
            String::with_capacity(values.iter().flatten().map(|v| v.as_ref().len()).sum());
        let mut spans = [ABSENT; FIELD_COUNT];
        for (span, value) in spans.iter_mut().zip(values) {
            if let Some(value) = value {
                let value = value.as_ref();
                match (u32::try_from(src.len()), u32::try_from(value.len())) {
                    (Ok(start), Ok(len)) if start < u32::MAX => {
                        *span = Span { start, len };
                        src.push_str(value);
                    }
                    // A contract of more than 4 GiB: the field reads as absent.
                    _ => {}
                }
            }
        }
        Contract {
            src: Cow::Owned(src),
            spans: Spans::new(spans),
            key_hash: 0,
            fingerprint: 0,
        }
        .sealed()
    }

    /// A contract whose values are all slices of `src` (the object's text in the input), or
    /// `None` when one is not.
    pub(crate) fn borrowing<S: AsRef<str>>(
        src: &'a str,
        values: &[Option<S>; FIELD_COUNT],
    ) -> Option<Self> {
        let base = src.as_ptr() as usize;
        let end = base + src.len();
        if u32::try_from(src.len()).is_err() {
            return None;
        }
        let mut spans = [ABSENT; FIELD_COUNT];
        for (span, value) in spans.iter_mut().zip(values) {
            if let Some(value) = value {
                let value = value.as_ref();
                let at = value.as_ptr() as usize;
                if at < base || at + value.len() > end {
                    return None;
                }
                *span = Span {
                    start: (at - base) as u32,
                    len: value.len() as u32,
                };
            }
        }
        Some(
            Contract {
                src: Cow::Borrowed(src),
                spans: Spans::new(spans),
                key_hash: 0,
                fingerprint: 0,
            }
            .sealed(),
        )
    }

    /// A contract whose values lie at `spans` in `src`, the object's text in the input, each
    /// span as two `u16` (`[u16::MAX, 0]` for an absent field): the scanner's fast path, which
    /// makes every span lie in `src` between two quotes (so on character boundaries).
    pub(crate) fn from_spans(src: &'a str, spans: [[u16; 2]; FIELD_COUNT]) -> Self {
        let spans = Spans::Narrow(spans);
        debug_assert!((0..FIELD_COUNT).all(|i| {
            let span = spans.get(i);
            span.start == u32::MAX || span.value(src).is_some()
        }));
        Contract {
            src: Cow::Borrowed(src),
            spans,
            key_hash: 0,
            fingerprint: 0,
        }
        .sealed()
    }

    /// Computes the key hash and the fingerprint.
    ///
    /// The fingerprint hashes the text the values come from: the object's own text for a
    /// parsed contract (its values follow from it), the values and their places otherwise.
    /// Equal fingerprints mean equal values, but with a chance of 2^-64; different ones say
    /// nothing (the same contract written with other spacing has another fingerprint).
    fn sealed(mut self) -> Self {
        self.key_hash = HASHER.hash_one(self.key());
        let mut hasher = HASHER.build_hasher();
        match &self.src {
            Cow::Borrowed(text) => {
                hasher.write_u8(0);
                hasher.write(text.as_bytes());
            }
            Cow::Owned(text) => {
                hasher.write_u8(1);
                hasher.write(text.as_bytes());
                for span in (0..FIELD_COUNT).map(|i| self.spans.get(i)) {
                    hasher.write_u64(u64::from(span.start) << 32 | u64::from(span.len));
                }
            }
        }
        self.fingerprint = hasher.finish();
        self
    }

    /// The hash of [`key`](Self::key), the same for equal keys.
    #[inline]
    pub(crate) fn key_hash(&self) -> u64 {
        self.key_hash
    }

    /// A hash of the contract's text: contracts with equal fingerprints have equal values
    /// (but with a chance of 2^-64), so the diff takes them as the same without reading them.
    /// Different fingerprints say nothing: the values are then compared one by one.
    #[inline]
    pub fn fingerprint(&self) -> u64 {
        self.fingerprint
    }

    /// The value of a field as sent, if present.
    #[inline]
    pub fn get(&self, field: Field) -> Option<&str> {
        self.spans.get(field.index()).value(&self.src)
    }

    /// The value of a field, trimmed; absent fields read as `""`.
    #[inline]
    pub fn trimmed(&self, field: Field) -> &str {
        self.get(field).map_or("", trim)
    }

    /// Every value, trimmed, in [`Field::ALL`] order (absent fields read as `""`): what
    /// [`trimmed`](Self::trimmed) gives field by field, in one loop.
    pub fn trimmed_values(&self) -> [&str; FIELD_COUNT] {
        let src: &str = &self.src;
        let mut values = [""; FIELD_COUNT];
        match &self.spans {
            Spans::Narrow(spans) => {
                for (value, &[start, len]) in values.iter_mut().zip(spans) {
                    if start != u16::MAX {
                        let start = usize::from(start);
                        *value = src.get(start..start + usize::from(len)).map_or("", trim);
                    }
                }
            }
            Spans::Wide(spans) => {
                for (value, span) in values.iter_mut().zip(spans.iter()) {
                    *value = span.value(src).map_or("", trim);
                }
            }
        }
        values
    }

    /// Whether the fields numbered `fields` are all present, with the same values as sent, in
    /// both contracts, told by one comparison of the text they span (the keys between them
    /// included) and of where each value lies in it. `false` also when it cannot be told that
    /// way (a field absent, a contract over 64 KiB, fields out of order), whatever the values.
    pub(crate) fn same_block(&self, other: &Contract<'_>, fields: std::ops::Range<usize>) -> bool {
        let (Spans::Narrow(a), Spans::Narrow(b)) = (&self.spans, &other.spans) else {
            return false;
        };
        let (Some(a), Some(b)) = (a.get(fields.clone()), b.get(fields)) else {
            return false;
        };
        let (Some(&[base_a, _]), Some(&[base_b, _])) = (a.first(), b.first()) else {
            return false;
        };
        // Each value of `a` follows the one before (so lies in the block, the text from the
        // first value to the end of the last), and each of `b` lies at the same place in its
        // block, with the same length.
        let mut end = base_a;
        for (&[sa, la], &[sb, lb]) in a.iter().zip(b) {
            if sa == u16::MAX
                || sb == u16::MAX
                || sa < end
                || sb < base_b
                || sa - base_a != sb - base_b
                || la != lb
            {
                return false;
            }
            end = sa.saturating_add(la);
        }
        let len = usize::from(end - base_a);
        let (a, b) = (usize::from(base_a), usize::from(base_b));
        match (
            self.src.as_bytes().get(a..a + len),
            other.src.as_bytes().get(b..b + len),
        ) {
            (Some(a), Some(b)) => a == b,
            _ => false,
        }
    }

    /// Sets (or, with `None`, removes) a field. The contract then owns its text.
    pub fn set(&mut self, field: Field, value: Option<Cow<'_, str>>) {
        let mut values: [Option<&str>; FIELD_COUNT] = Field::ALL.map(|f| self.get(f));
        values[field.index()] = value.as_deref();
        *self = Contract::from_values(&values);
    }

    /// The contract key: `codeContrat`, trimmed (`""` when absent).
    #[inline]
    pub fn key(&self) -> &str {
        self.trimmed(Field::CodeContrat)
    }

    /// The present fields and their values, in wire order.
    pub fn fields(&self) -> impl Iterator<Item = (Field, &str)> + '_ {
        Field::ALL
            .iter()
            .filter_map(|&f| self.get(f).map(|v| (f, v)))
    }

    /// Appends the contract in the wire format to `out`: the bytes `serde_json` writes for it
    /// through its [`Serialize`] impl (compact, present fields in wire order, values as sent),
    /// with each value that needs no escape (every value of a real export) copied as it is.
    /// Writing a million contracts back out is mostly this.
    pub fn write_json(&self, out: &mut Vec<u8>) {
        out.reserve(self.src.len() + 2);
        out.push(b'{');
        for (i, (field, value)) in self.fields().enumerate() {
            out.extend_from_slice(if i == 0 { b"\"" } else { b",\"" });
            // Field names are ASCII letters: nothing to escape.
            out.extend_from_slice(field.name().as_bytes());
            out.extend_from_slice(b"\":");
            write_json_str(out, value);
        }
        out.push(b'}');
    }

    /// A copy that owns its strings, so it can outlive the payload it was parsed from.
    pub fn into_owned(self) -> Contract<'static> {
        Contract {
            src: Cow::Owned(self.src.into_owned()),
            spans: self.spans,
            key_hash: self.key_hash,
            fingerprint: self.fingerprint,
        }
    }

    /// Whether the two contracts carry the same text in the same places: then they are equal
    /// value for value. Cheap, and true for most unchanged contracts of two exports.
    #[inline]
    fn same_text(&self, other: &Contract<'_>) -> bool {
        self.spans == other.spans && self.src == other.src
    }

    /// Whether the two contracts are canonically equal (DESIGN 3.3): strings trimmed, emails
    /// compared case-insensitively, absent and empty fields equal.
    pub fn canonical_eq(&self, other: &Contract<'_>) -> bool {
        self.same_text(other)
            || Field::ALL
                .iter()
                .all(|&f| field_eq(f, self.get(f), other.get(f)))
    }

    /// The fields whose canonical values differ, in wire order.
    pub fn changed_fields<'s>(
        &'s self,
        other: &'s Contract<'_>,
    ) -> impl Iterator<Item = Field> + 's {
        let same = self.same_text(other);
        Field::ALL
            .iter()
            .copied()
            .filter(move |&f| !same && !field_eq(f, self.get(f), other.get(f)))
    }
}

/// Equal when every field has the same value as sent (however the text is held).
impl PartialEq for Contract<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.same_text(other) || Field::ALL.iter().all(|&f| self.get(f) == other.get(f))
    }
}

impl Eq for Contract<'_> {}

/// Compares two values of `field` canonically.
#[inline]
pub fn field_eq(field: Field, a: Option<&str>, b: Option<&str>) -> bool {
    let a = a.map_or("", trim);
    let b = b.map_or("", trim);
    if a == b {
        return true;
    }
    field.is_email() && email_eq(a, b)
}

/// `str::trim`, with a fast path for the common value that starts and ends with a printable
/// ASCII character (which is never white space): then there is nothing to trim.
#[inline]
pub(crate) fn trim(value: &str) -> &str {
    match value.as_bytes() {
        [first, .., last] if first.is_ascii_graphic() && last.is_ascii_graphic() => value,
        [only] if only.is_ascii_graphic() => value,
        _ => value.trim(),
    }
}

/// Case-insensitive comparison of two trimmed emails.
pub fn email_eq(a: &str, b: &str) -> bool {
    if a.is_ascii() && b.is_ascii() {
        a.eq_ignore_ascii_case(b)
    } else {
        a.to_lowercase() == b.to_lowercase()
    }
}

/// The canonical form of an email: trimmed and lowercased, borrowed when already canonical.
pub fn normalize_email(email: &str) -> Cow<'_, str> {
    let email = trim(email);
    if is_lower_ascii(email.as_bytes()) {
        Cow::Borrowed(email)
    } else {
        Cow::Owned(email.to_lowercase())
    }
}

/// Whether every byte is ASCII and none is an upper-case letter (then lowercasing changes
/// nothing), eight bytes at a time: one email of a million users is read here.
fn is_lower_ascii(bytes: &[u8]) -> bool {
    const ONES: u64 = u64::from_ne_bytes([1; 8]);
    const HIGH: u64 = ONES * 0x80;
    let words = bytes.chunks_exact(8);
    let rest = words.remainder();
    words
        .map(|word| u64::from_le_bytes(word.try_into().unwrap_or_default()))
        .all(|w| {
            // For ASCII bytes (high bit clear), adding 0x80 - b'A' sets the high bit from
            // `A` on, and adding 0x80 - b'Z' - 1 from past `Z` on: upper-case letters set the
            // first and not the second.
            let upper = w.wrapping_add(ONES * u64::from(0x80 - b'A'))
                & !w.wrapping_add(ONES * u64::from(0x80 - b'Z' - 1));
            (w | upper) & HIGH == 0
        })
        && !rest.iter().any(|b| b.is_ascii_uppercase() || !b.is_ascii())
}

/// Appends `value` as a JSON string, as `serde_json` writes it.
fn write_json_str(out: &mut Vec<u8>, value: &str) {
    if needs_escape(value.as_bytes()) {
        // Quotes, backslashes and control characters: serde_json's own escapes. Writing to a
        // vector cannot fail.
        let _ = serde_json::to_writer(&mut *out, value);
    } else {
        out.push(b'"');
        out.extend_from_slice(value.as_bytes());
        out.push(b'"');
    }
}

/// Whether a JSON string of these bytes needs an escape: a quote, a backslash or a control
/// character (below 0x20) among them, tested eight bytes at a time.
fn needs_escape(bytes: &[u8]) -> bool {
    const ONES: u64 = u64::from_ne_bytes([1; 8]);
    const HIGH: u64 = ONES * 0x80;
    // The high bit of each byte of `w` that is zero (exact as a whole: a byte is marked only
    // if some byte is zero).
    let zero = |w: u64| w.wrapping_sub(ONES) & !w & HIGH;
    let words = bytes.chunks_exact(8);
    let rest = words.remainder();
    words
        .map(|word| u64::from_le_bytes(word.try_into().unwrap_or_default()))
        .any(|w| {
            // Bytes below 0x20: subtracting 0x20 borrows into their high bit (when it was
            // clear), as subtracting one does for a zero byte.
            let control = w.wrapping_sub(ONES * 0x20) & !w & HIGH;
            control | zero(w ^ (ONES * u64::from(b'"'))) | zero(w ^ (ONES * u64::from(b'\\'))) != 0
        })
        || rest.iter().any(|&b| b < 0x20 || b == b'"' || b == b'\\')
}

impl fmt::Debug for Contract<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.fields()).finish()
    }
}

/// Writes the wire format: present fields only, in table order, values as sent.
impl Serialize for Contract<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let len = self.fields().count();
        let mut map = serializer.serialize_map(Some(len))?;
        for (field, value) in self.fields() {
            map.serialize_entry(field.name(), value)?;
        }
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use super::Contract;
    use crate::field::Field;
    use crate::parse::parse;

    /// A test made eight bytes at a time gives what its byte-wise form gives, for every byte at
    /// every place of a word and of the tail.
    fn agrees_at_every_byte(words: fn(&[u8]) -> bool, bytewise: impl Fn(&[u8]) -> bool) {
        for len in [1, 7, 8, 9, 16, 17, 23] {
            for at in 0..len {
                for byte in 0..=255u8 {
                    let mut bytes = vec![b'a'; len];
                    bytes[at] = byte;
                    assert_eq!(
                        words(&bytes),
                        bytewise(&bytes),
                        "byte {byte:#x} at {at} of {len}"
                    );
                }
            }
        }
    }

    /// The word-at-a-time test agrees with the byte-wise one for every byte at every place of
    /// a word and of the tail, and an email is lowercased exactly when it needs to be.
    #[test]
    fn emails_are_lowercased_exactly_when_needed() {
        agrees_at_every_byte(super::is_lower_ascii, |b| {
            !b.iter().any(|c| c.is_ascii_uppercase() || !c.is_ascii())
        });
        for (email, normal) in [
            (
                "jean.dupont@ecole.example.org",
                "jean.dupont@ecole.example.org",
            ),
            (
                " Jean.Dupont@Ecole.example.org ",
                "jean.dupont@ecole.example.org",
            ),
            (
                "jean.dupont@ecole.example.orZ",
                "jean.dupont@ecole.example.orz",
            ),
            ("ÉLodie@école.fr", "élodie@école.fr"),
            ("[\\]^_`{|}~@@", "[\\]^_`{|}~@@"),
        ] {
            let got = super::normalize_email(email);
            assert_eq!(got, normal);
            assert_eq!(
                matches!(got, std::borrow::Cow::Borrowed(_)),
                email == normal,
                "{email}"
            );
        }
    }

    /// Runs of fields compare equal exactly when their values do, however the text holds them.
    #[test]
    fn same_block_tells_equal_runs_of_values() {
        let text = br#"[
            {"codeSite":"S1","nomSite":"Rennes","codePeriode":"P1"},
            {"codeSite":"S1","nomSite":"Rennes","codePeriode":"P1"},
            {"codeSite":"S1","nomSite":"Rennes","codePeriode":"P2"},
            {"codeSite":"S1", "nomSite":"Rennes","codePeriode":"P1"},
            {"codeSite":"S1","codePeriode":"P1"},
            {"nomSite":"Rennes","codeSite":"S1","codePeriode":"P1"}
        ]"#;
        let payload = parse(text).unwrap();
        let c = &payload.contracts;
        let sites = Field::CodeSite.index()..Field::NomPeriode.index();
        let site = Field::CodeSite.index()..Field::CodePeriode.index();
        assert!(c[0].same_block(&c[1], sites.clone()));
        assert!(!c[0].same_block(&c[2], sites.clone()), "a value differs");
        assert!(c[0].same_block(&c[2], site.clone()));
        assert!(
            !c[0].same_block(&c[3], site.clone()),
            "the text between differs"
        );
        assert!(!c[0].same_block(&c[4], site.clone()), "a field is absent");
        assert!(!c[4].same_block(&c[4], site.clone()), "a field is absent");
        assert!(!c[5].same_block(&c[5], sites), "out of wire order");

        // Values held end to end: the same text cut in other places is not the same values.
        let ab_c = Contract::from_pairs([(Field::CodeSite, "ab"), (Field::NomSite, "c")]);
        let a_bc = Contract::from_pairs([(Field::CodeSite, "a"), (Field::NomSite, "bc")]);
        assert!(!ab_c.same_block(&a_bc, site.clone()));
        assert!(ab_c.same_block(&ab_c.clone(), site.clone()));
        assert!(!ab_c.same_block(&ab_c, 0..0), "an empty run tells nothing");
    }

    /// The word-at-a-time escape test agrees with the byte-wise one for every byte at every
    /// place of a word and of the tail, and the contract's JSON is serde_json's, byte for
    /// byte, whatever byte a value holds and wherever.
    #[test]
    fn contracts_are_written_as_serde_json_writes_them() {
        agrees_at_every_byte(super::needs_escape, |b| {
            b.iter().any(|&c| c < 0x20 || c == b'"' || c == b'\\')
        });
        let json = |c: &Contract<'_>| {
            let mut out = Vec::new();
            c.write_json(&mut out);
            assert_eq!(
                String::from_utf8(out.clone()).unwrap(),
                serde_json::to_string(c).unwrap()
            );
            out
        };
        for ch in (0..=0x7fu8).map(char::from).chain(['é', '\u{2028}', '😀']) {
            for value in [
                ch.to_string(),
                format!("abcdefg{ch}"),
                format!("x{ch}yz {ch}"),
            ] {
                json(&Contract::from_pairs([
                    (Field::CodeContrat, "C1"),
                    (Field::NomSite, value.as_str()),
                    (Field::Rncp, ""),
                ]));
            }
        }
        json(&Contract::new());
        let text = br#"[{"ccodeContrat":"C\"1\u0001","dateDebut":null,"x":1,"rncp":" R "}]"#;
        let payload = parse(text).unwrap();
        let written = json(&payload.contracts[0]);
        assert_eq!(written, br#"{"codeContrat":"C\"1\u0001","rncp":" R "}"#);
    }
}
