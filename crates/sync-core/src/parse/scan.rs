//! The fast path of [`parse`](crate::parse): a scanner for the shape real exports have.
//!
//! An export is an array of flat objects whose values are strings (or `null`). This scanner
//! reads exactly that shape, strictly, in one pass over the bytes, borrowing every string that
//! has no escape. On anything else (a syntax error, a value that is not a string, a top-level
//! key other than `contrats`) it gives up, and `parse` starts over with the general serde
//! path, which reports the error or the problem with its position. Both paths return the same
//! payload for every input the scanner accepts (a property test and a fuzz target check it).

use std::borrow::Cow;

use super::builder::{ContractBuilder, WRAPPER_KEY};
use super::payload::Payload;
use crate::contract::{Contract, NARROW_ABSENT};
use crate::field::{Field, FIELD_COUNT};

/// The scanner met something it does not handle; the general parser takes over.
#[derive(Debug)]
pub(crate) struct GiveUp;

type Scan<T> = Result<T, GiveUp>;

/// Scans a payload, or gives up.
pub(crate) fn scan(input: &[u8]) -> Scan<Payload<'_>> {
    let text = simdutf8::basic::from_utf8(input).map_err(|_| GiveUp)?;
    let mut scanner = Scanner {
        text,
        bytes: input,
        pos: 0,
        next_field: [None; FIELD_COUNT + 1],
        quoted: Field::ALL.map(QuotedKey::new),
    };
    let mut payload = Payload::default();
    scanner.skip_ws();
    match scanner.peek()? {
        b'[' => scanner.contracts(&mut payload)?,
        b'{' => {
            scanner.pos += 1;
            scanner.skip_ws();
            if scanner.string()? != WRAPPER_KEY {
                return Err(GiveUp);
            }
            scanner.expect(b':')?;
            scanner.skip_ws();
            scanner.contracts(&mut payload)?;
            scanner.expect(b'}')?;
        }
        _ => return Err(GiveUp),
    }
    scanner.skip_ws();
    if scanner.pos != input.len() {
        return Err(GiveUp);
    }
    Ok(payload)
}

/// Bytes that end the fast loop inside a string: the quote, the backslash, control characters.
static STOPS: [bool; 256] = {
    let mut table = [false; 256];
    let mut c = 0;
    while c < 0x20 {
        table[c] = true;
        c += 1;
    }
    table[b'"' as usize] = true;
    table[b'\\' as usize] = true;
    table
};

/// The position of the first byte at or after `pos` that ends a run of plain string bytes
/// (see [`STOPS`]), or the end of input; eight bytes at a time.
#[inline]
fn skip_plain(bytes: &[u8], mut pos: usize) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    // High bit set in each byte of `v` that is zero (exact for the lowest one).
    let zero = |v: u64| v.wrapping_sub(ONES) & !v & HIGH;
    while let Some(chunk) = bytes.get(pos..pos + 8) {
        let Ok(chunk) = <[u8; 8]>::try_from(chunk) else {
            break;
        };
        let x = u64::from_le_bytes(chunk);
        let stops = zero(x ^ (ONES * u64::from(b'"')))
            | zero(x ^ (ONES * u64::from(b'\\')))
            | (x.wrapping_sub(ONES * 0x20) & !x & HIGH);
        if stops != 0 {
            return pos + (stops.trailing_zeros() / 8) as usize;
        }
        pos += 8;
    }
    while let Some(&byte) = bytes.get(pos) {
        if STOPS[byte as usize] {
            break;
        }
        pos += 1;
    }
    pos
}

/// The position of the first byte at or after `pos` that is not JSON white space.
#[inline]
fn skip_ws(bytes: &[u8], mut pos: usize) -> usize {
    while let Some(b' ' | b'\n' | b'\r' | b'\t') = bytes.get(pos) {
        pos += 1;
    }
    pos
}

/// After this many contracts, the scanner reserves room for those left, guessed from their
/// average size so far.
const RESERVE_AFTER: usize = 256;

/// Reserves room for the contracts of the `left` bytes of input, those read so far having taken
/// `read` bytes: a million contracts are then pushed without the vector being copied each time
/// it doubles. A guess too high costs address space only; too low, the vector grows as usual.
fn reserve_for_the_rest(payload: &mut Payload<'_>, read: usize, left: usize) {
    if let Some(guess) = left.checked_div(read / RESERVE_AFTER) {
        payload.contracts.reserve(guess + guess / 16);
    }
}

struct Scanner<'a> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
    /// The field that followed each field last time (`FIELD_COUNT`: the start of an object):
    /// exports write their fields in the same order, so the guess is almost always right.
    next_field: [Option<Field>; FIELD_COUNT + 1],
    /// Each field's key as compact exports write it, quoted and followed by its colon: the
    /// guessed key is recognised in one comparison.
    quoted: [QuotedKey; FIELD_COUNT],
}

/// A field's key as compact exports write it, `"name":`, compared at once with the 32 bytes at
/// a position: four masked words, no call, no loop.
#[derive(Clone, Copy)]
struct QuotedKey {
    text: [u8; 32],
    len: usize,
    words: [u64; 4],
    masks: [u64; 4],
}

impl QuotedKey {
    fn new(field: Field) -> QuotedKey {
        let quoted = format!("\"{}\":", field.name());
        let len = quoted.len().min(32);
        let mut text = [0u8; 32];
        text[..len].copy_from_slice(&quoted.as_bytes()[..len]);
        let mut mask = [0u8; 32];
        mask[..len].fill(0xff);
        QuotedKey {
            text,
            len,
            words: words(&text),
            masks: words(&mask),
        }
    }

    /// Whether `bytes` has the key at `pos`.
    #[inline]
    fn at(&self, bytes: &[u8], pos: usize) -> bool {
        match bytes
            .get(pos..pos + 32)
            .and_then(|w| <&[u8; 32]>::try_from(w).ok())
        {
            Some(window) => {
                let w = words(window);
                let differs = |i: usize| (w[i] & self.masks[i]) ^ self.words[i];
                differs(0) | differs(1) | differs(2) | differs(3) == 0
            }
            None => bytes
                .get(pos..)
                .is_some_and(|rest| rest.starts_with(&self.text[..self.len])),
        }
    }
}

/// 32 bytes as four little-endian words.
#[inline]
fn words(bytes: &[u8; 32]) -> [u64; 4] {
    std::array::from_fn(|i| {
        let mut word = [0u8; 8];
        word.copy_from_slice(&bytes[8 * i..8 * i + 8]);
        u64::from_le_bytes(word)
    })
}

impl<'a> Scanner<'a> {
    #[inline]
    fn peek(&self) -> Scan<u8> {
        self.bytes.get(self.pos).copied().ok_or(GiveUp)
    }

    #[inline]
    fn skip_ws(&mut self) {
        self.pos = skip_ws(self.bytes, self.pos);
    }

    /// Skips white space, then expects `byte`.
    #[inline]
    fn expect(&mut self, byte: u8) -> Scan<()> {
        self.skip_ws();
        if self.peek()? == byte {
            self.pos += 1;
            Ok(())
        } else {
            Err(GiveUp)
        }
    }

    /// `[ {contract}, ... ]`, at the `[`.
    fn contracts(&mut self, payload: &mut Payload<'a>) -> Scan<()> {
        if self.peek()? != b'[' {
            return Err(GiveUp);
        }
        self.pos += 1;
        self.skip_ws();
        if self.peek()? == b']' {
            self.pos += 1;
            return Ok(());
        }
        let array_start = self.pos;
        loop {
            self.skip_ws();
            let index = payload.contracts.len();
            if index == RESERVE_AFTER {
                reserve_for_the_rest(payload, self.pos - array_start, self.bytes.len() - self.pos);
            }
            let contract = self.contract(payload, index)?;
            payload.contracts.push(contract);
            self.skip_ws();
            match self.peek()? {
                b',' => self.pos += 1,
                b']' => {
                    self.pos += 1;
                    return Ok(());
                }
                _ => return Err(GiveUp),
            }
        }
    }

    /// One flat object of strings and nulls, at the `{`.
    fn contract(&mut self, payload: &mut Payload<'a>, index: usize) -> Scan<Contract<'a>> {
        if self.peek()? != b'{' {
            return Err(GiveUp);
        }
        let start = self.pos;
        if let Some(contract) = self.plain_contract(start)? {
            return Ok(contract);
        }
        self.pos = start;
        self.pos += 1;
        let mut builder = ContractBuilder::new(index);
        self.skip_ws();
        if self.peek()? == b'}' {
            self.pos += 1;
            return Ok(builder.finish(payload, None));
        }
        let mut previous = FIELD_COUNT;
        loop {
            self.skip_ws();
            let key = self.string()?;
            let field = match self.next_field[previous] {
                Some(guess) if guess.name() == key => Some(guess),
                _ => Field::from_name(&key),
            };
            self.expect(b':')?;
            self.skip_ws();
            let value = match self.peek()? {
                b'"' => Some(self.string()?),
                b'n' if self.bytes[self.pos..].starts_with(b"null") => {
                    self.pos += 4;
                    None
                }
                _ => return Err(GiveUp),
            };
            match field {
                Some(field) => {
                    self.next_field[previous] = Some(field);
                    previous = field.index();
                    builder.field(field, value);
                }
                None => builder.other(key, value),
            }
            self.skip_ws();
            match self.peek()? {
                b',' => self.pos += 1,
                b'}' => {
                    self.pos += 1;
                    let src = self.text.get(start..self.pos);
                    return Ok(builder.finish(payload, src));
                }
                _ => return Err(GiveUp),
            }
        }
    }

    /// The common case, read straight into spans: an object whose keys are all fields (no
    /// alias, no unknown key), with no escape in any string. `None` (the object is then read
    /// again by [`contract`](Self::contract)) for anything else.
    ///
    /// Compact exports (`{"key":"value",...}`, keys in the order of the previous object) take
    /// the shortest way: each byte expected there is looked at first, white space skipped only
    /// when it is not there.
    fn plain_contract(&mut self, start: usize) -> Scan<Option<Contract<'a>>> {
        let bytes = self.bytes;
        let mut spans = [NARROW_ABSENT; FIELD_COUNT];
        let mut previous = FIELD_COUNT;
        let mut pos = skip_ws(bytes, start + 1);
        if bytes.get(pos) == Some(&b'}') {
            return Ok(None);
        }
        loop {
            let known = match self.expected_key(previous, pos) {
                Some(field) => Some(field),
                None => {
                    pos = skip_ws(bytes, pos);
                    self.expected_key(previous, pos)
                }
            };
            let field = match known {
                Some(field) => {
                    pos += self.quoted[field.index()].len;
                    field
                }
                None => {
                    self.pos = pos;
                    let Some((key_start, key_end)) = self.plain_string()? else {
                        return Ok(None);
                    };
                    let key = self.text.get(key_start..key_end).ok_or(GiveUp)?;
                    let Some(field) = Field::from_name(key) else {
                        return Ok(None);
                    };
                    self.expect(b':')?;
                    pos = self.pos;
                    field
                }
            };
            self.next_field[previous] = Some(field);
            previous = field.index();
            if bytes.get(pos) != Some(&b'"') {
                pos = skip_ws(bytes, pos);
            }
            spans[field.index()] = match bytes.get(pos) {
                Some(b'"') => {
                    let value_start = pos + 1;
                    let value_end = skip_plain(bytes, value_start);
                    match bytes.get(value_end) {
                        Some(b'"') => pos = value_end + 1,
                        Some(b'\\') => return Ok(None),
                        _ => return Err(GiveUp),
                    }
                    // Offsets from the object's start in two `u16`, as a contract under 64 KiB
                    // keeps them; a larger one is read again the general way.
                    if value_end - start >= usize::from(u16::MAX) {
                        return Ok(None);
                    }
                    [
                        (value_start - start) as u16,
                        (value_end - value_start) as u16,
                    ]
                }
                Some(b'n') if bytes[pos..].starts_with(b"null") => {
                    pos += 4;
                    NARROW_ABSENT
                }
                _ => return Err(GiveUp),
            };
            if !matches!(bytes.get(pos), Some(b',' | b'}')) {
                pos = skip_ws(bytes, pos);
            }
            match bytes.get(pos) {
                Some(b',') => pos += 1,
                Some(b'}') => {
                    self.pos = pos + 1;
                    let src = self.text.get(start..self.pos).ok_or(GiveUp)?;
                    return Ok(Some(Contract::from_spans(src, spans)));
                }
                _ => return Err(GiveUp),
            }
        }
    }

    /// The field whose compact key (`"name":`) is at `pos`, if it is one of those expected after
    /// field number `previous` (`FIELD_COUNT`: the start of an object): the one that followed
    /// it last time, or one of the next few in wire order (exports leave absent fields out).
    #[inline]
    fn expected_key(&self, previous: usize, pos: usize) -> Option<Field> {
        match self.next_field[previous] {
            Some(learned) if self.quoted[learned.index()].at(self.bytes, pos) => Some(learned),
            _ => self.key_in_wire_order(previous, pos),
        }
    }

    /// The part of [`expected_key`](Self::expected_key) tried when the learned guess fails.
    #[cold]
    fn key_in_wire_order(&self, previous: usize, pos: usize) -> Option<Field> {
        let first = if previous == FIELD_COUNT {
            0
        } else {
            previous + 1
        };
        Field::ALL
            .get(first..)
            .unwrap_or_default()
            .iter()
            .take(4)
            .copied()
            .find(|f| self.quoted[f.index()].at(self.bytes, pos))
    }

    /// A string without escapes, at its opening quote: its content's byte range. `None` when
    /// it has an escape (the caller reads it again the slow way).
    #[inline]
    fn plain_string(&mut self) -> Scan<Option<(usize, usize)>> {
        if self.peek()? != b'"' {
            return Err(GiveUp);
        }
        let start = self.pos + 1;
        self.pos = skip_plain(self.bytes, start);
        match self.peek()? {
            b'"' => {
                self.pos += 1;
                Ok(Some((start, self.pos - 1)))
            }
            b'\\' => Ok(None),
            _ => Err(GiveUp),
        }
    }

    /// A string, at its opening quote; borrowed unless it has escapes.
    #[inline]
    fn string(&mut self) -> Scan<Cow<'a, str>> {
        if self.peek()? != b'"' {
            return Err(GiveUp);
        }
        self.pos += 1;
        let start = self.pos;
        self.pos = skip_plain(self.bytes, self.pos);
        match self.peek()? {
            b'"' => {
                let s = self.text.get(start..self.pos).ok_or(GiveUp)?;
                self.pos += 1;
                Ok(Cow::Borrowed(s))
            }
            b'\\' => self.escaped(start).map(Cow::Owned),
            _ => Err(GiveUp),
        }
    }

    /// The rest of a string with escapes, from its first backslash.
    fn escaped(&mut self, start: usize) -> Scan<String> {
        let mut out = String::from(self.text.get(start..self.pos).ok_or(GiveUp)?);
        loop {
            let run = self.pos;
            self.pos = skip_plain(self.bytes, self.pos);
            out.push_str(self.text.get(run..self.pos).ok_or(GiveUp)?);
            match self.peek()? {
                b'"' => {
                    self.pos += 1;
                    return Ok(out);
                }
                b'\\' => {
                    self.pos += 1;
                    let escape = self.peek()?;
                    self.pos += 1;
                    let c = match escape {
                        b'"' => '"',
                        b'\\' => '\\',
                        b'/' => '/',
                        b'b' => '\u{8}',
                        b'f' => '\u{c}',
                        b'n' => '\n',
                        b'r' => '\r',
                        b't' => '\t',
                        b'u' => self.unicode_escape()?,
                        _ => return Err(GiveUp),
                    };
                    out.push(c);
                }
                _ => return Err(GiveUp),
            }
        }
    }

    /// `XXXX` after `\u`, with a following `\uXXXX` low surrogate when the first is high.
    fn unicode_escape(&mut self) -> Scan<char> {
        let first = self.hex4()?;
        let code = match first {
            0xD800..=0xDBFF => {
                if !self.bytes[self.pos..].starts_with(b"\\u") {
                    return Err(GiveUp);
                }
                self.pos += 2;
                let second = self.hex4()?;
                if !(0xDC00..=0xDFFF).contains(&second) {
                    return Err(GiveUp);
                }
                0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00)
            }
            0xDC00..=0xDFFF => return Err(GiveUp),
            _ => first,
        };
        char::from_u32(code).ok_or(GiveUp)
    }

    fn hex4(&mut self) -> Scan<u32> {
        let digits = self.bytes.get(self.pos..self.pos + 4).ok_or(GiveUp)?;
        let mut value = 0;
        for &d in digits {
            let v = (d as char).to_digit(16).ok_or(GiveUp)?;
            value = value * 16 + v;
        }
        self.pos += 4;
        Ok(value)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::parse::parse_general;

    /// The scanner either gives up or returns what the general parser returns.
    fn check_same(input: &[u8]) {
        if let Ok(fast) = scan(input) {
            let general = parse_general(input).expect("the scanner accepted invalid JSON");
            assert_eq!(fast.contracts, general.contracts);
            assert_eq!(fast.problems, general.problems);
        }
    }

    fn check(input: &str, accepted: bool) {
        check_same(input.as_bytes());
        assert_eq!(scan(input.as_bytes()).is_ok(), accepted, "{input}");
    }

    #[test]
    fn accepts_the_export_shape_and_gives_up_on_the_rest() {
        check(r#"[]"#, true);
        check(r#" { "contrats" : [ ] } "#, true);
        check(r#"[{"codeContrat": "C1", "nomEntreprise": null}]"#, true);
        check(r#"[{"ccodeContrat": "C1", "x": "y"}, {}]"#, true);
        check(
            r#"[{"codeContrat": "a\"b\\c\/d\u00e9\ud83d\ude00\n"}]"#,
            true,
        );
        check(r#"[{"codeContrat": 12}]"#, false);
        check(r#"[{"codeContrat": "C1",}]"#, false);
        check(r#"[{"codeContrat": "C1"},]"#, false);
        check(r#"[{"codeContrat": "C1"}] x"#, false);
        check(r#"[{"codeContrat": "\ud83d"}]"#, false);
        check("[{\"codeContrat\": \"tab\there\"}]", false);
        check(r#"{"contrats": [], "autre": 1}"#, false);
        check(r#"[{"codeContrat": nul}]"#, false);
        check(r#"[1]"#, false);
        check("", false);
    }

    /// Keys written compact and in the usual order are recognised in one comparison; a key
    /// that only starts like the expected one, another order, a field left out (the next key
    /// then comes later in wire order) or a spaced colon are read too.
    #[test]
    fn compact_keys_in_the_usual_order_are_read_as_the_parser_reads_them() {
        let input = r#"[{"codeContrat":"C1","nomSite":"A","codeSite":"S"},
            {"codeContrat":"C2","nomSite":"B","codeSite":"T"},
            {"codeContrat":"C3","codeSite":"U","nomSite":"C"},
            {"codeContrat":"C4","nomSite" : "D","codeSite":"V"},
            {"codeContrat":"C5","nomSiteX":"E","codeSite":"W"},
            {"codeContrat":"C6","nomSite":"F","codeSite":"X"},
            {"codeContrat":"C7","dateFin":"01/01/2027","codeSite":"Y"},
            {"codeContrat":"C8","codeSite":"Z"}]"#;
        check(input, true);
        let payload = scan(input.as_bytes()).unwrap();
        let sites: Vec<_> = payload
            .contracts
            .iter()
            .map(|c| (c.get(Field::NomSite), c.get(Field::CodeSite)))
            .collect();
        assert_eq!(
            sites,
            [
                (Some("A"), Some("S")),
                (Some("B"), Some("T")),
                (Some("C"), Some("U")),
                (Some("D"), Some("V")),
                (None, Some("W")),
                (Some("F"), Some("X")),
                (None, Some("Y")),
                (None, Some("Z")),
            ]
        );
        assert_eq!(payload.contracts[6].get(Field::DateFin), Some("01/01/2027"));
    }

    /// Every key is recognised at once in the 32-byte window, near the end of the input too,
    /// and a window that differs in any byte of the key, or starts one byte off, is not taken
    /// for it.
    #[test]
    fn quoted_keys_match_exactly_their_own_bytes() {
        for field in Field::ALL {
            let key = QuotedKey::new(field);
            let quoted = format!("\"{}\":", field.name());
            assert_eq!(key.len, quoted.len(), "{field} fits in the window");
            for tail in ["", "\"x\"", &"x".repeat(40)] {
                let text = format!("{quoted}{tail}");
                let bytes = text.as_bytes();
                assert!(key.at(bytes, 0), "{text}");
                assert!(!key.at(format!(" {text}").as_bytes(), 0), "{text}");
                for i in 0..quoted.len() {
                    let mut changed = bytes.to_vec();
                    changed[i] ^= 0x20;
                    assert!(!key.at(&changed, 0), "{text} with byte {i} changed");
                }
            }
            assert!(!key.at(&quoted.as_bytes()[..quoted.len() - 1], 0));
        }
    }

    #[test]
    fn finds_every_stop_byte_whatever_its_place_in_a_word() {
        for len in 0..20 {
            for stop in ["\\\"", "\\\\", "\\n", "\t", "\u{1f}", "é"] {
                let value = format!("{}{stop}{}", "a".repeat(len), "b".repeat(len % 7));
                let text = format!("[{{\"codeContrat\": \"{value}\", \"nomSite\": \"{value}x\"}}]");
                check_same(text.as_bytes());
            }
        }
        let payload = scan(br#"[{"codeContrat": "0123456789abcdef\"x"}]"#).unwrap();
        assert_eq!(payload.contracts[0].key(), "0123456789abcdef\"x");
    }

    fn json_string() -> impl Strategy<Value = String> {
        prop_oneof![
            "[a-zA-Z0-9 @.éà-]{0,12}".prop_map(|s| format!("\"{s}\"")),
            Just(r#""\u00e9\n\"""#.to_owned()),
            Just(r#""\ud83d\ude00""#.to_owned()),
            Just(r#""\ud83d""#.to_owned()),
            Just("null".to_owned()),
            Just("12".to_owned()),
            Just("[\"a\"]".to_owned()),
        ]
    }

    fn key() -> impl Strategy<Value = String> {
        prop_oneof![
            proptest::sample::select(crate::field::Field::ALL.to_vec())
                .prop_map(|f| f.name().to_owned()),
            Just("ccodeContrat".to_owned()),
            Just("inconnu".to_owned()),
        ]
    }

    fn payload() -> impl Strategy<Value = String> {
        // Keys written compact (`"k":v`, as exports do) or spaced.
        let pair = (key(), json_string(), any::<bool>());
        let object = proptest::collection::vec(pair, 0..6).prop_map(|pairs| {
            let body: Vec<String> = pairs
                .iter()
                .map(|(k, v, compact)| {
                    if *compact {
                        format!("\"{k}\":{v}")
                    } else {
                        format!("\"{k}\" :{v}")
                    }
                })
                .collect();
            format!("{{ {} }}", body.join(",\n"))
        });
        (proptest::collection::vec(object, 0..5), any::<bool>()).prop_map(|(objects, wrapped)| {
            let array = format!("[{}]", objects.join(" , "));
            if wrapped {
                format!("{{\"contrats\": {array}}}")
            } else {
                array
            }
        })
    }

    proptest! {
        #[test]
        fn scanner_agrees_with_the_general_parser(text in payload(), cut in any::<prop::sample::Index>(), flip in any::<u8>()) {
            check_same(text.as_bytes());
            let mut bytes = text.into_bytes();
            check_same(&bytes[..cut.index(bytes.len() + 1)]);
            if !bytes.is_empty() {
                let i = cut.index(bytes.len());
                bytes[i] = flip;
                check_same(&bytes);
            }
        }
    }
}
