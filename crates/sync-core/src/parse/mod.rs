//! Parsing a payload of document 000: a bare JSON array of contracts, or `{"contrats": [...]}`.
//!
//! Strings are borrowed from the input where JSON escapes allow it. Problems of shape that do
//! not stop the parse (a field that is not a string, an unknown field, `codeContrat` and
//! `ccodeContrat` disagreeing) are collected in the [`Payload`]; only input that is not JSON,
//! or not an array of objects, fails with a [`ParseError`].

mod builder;
pub(crate) mod general;
mod payload;
pub(crate) mod scan;

#[cfg(any(test, feature = "fuzzing"))]
pub(crate) use general::parse_general;
pub use payload::{ParseError, Payload};
#[cfg(any(test, feature = "fuzzing"))]
pub(crate) use scan::scan;

/// The UTF-8 byte order mark. RFC 8259 lets a parser ignore it, and exports written by Windows
/// tools often start with it.
const UTF8_BOM: &[u8] = b"\xef\xbb\xbf";

/// Parses a payload from bytes (strict JSON, UTF-8; a leading UTF-8 byte order mark is
/// ignored, and positions count from after it).
///
/// Input that is not UTF-8 fails with an error that says so, where, and what the file
/// probably is (UTF-16, Latin-1), instead of the JSON error it leads to.
///
/// ```
/// let payload = sync_core::parse(br#"{"contrats": [{"codeContrat": "C1"}]}"#).unwrap();
/// assert_eq!(payload.contracts[0].key(), "C1");
/// let err = sync_core::parse(b"[{\"codeContrat\": }]").unwrap_err();
/// assert_eq!((err.line, err.column), (1, 18)); // the `}` where a value was expected
/// ```
pub fn parse(input: &[u8]) -> Result<Payload<'_>, ParseError> {
    let input = without_bom(input);
    match scan::scan(input) {
        Ok(payload) => Ok(payload),
        Err(scan::GiveUp) => {
            general::parse_general(input).map_err(|err| encoding_error(input).unwrap_or(err))
        }
    }
}

/// `input` without its leading UTF-8 byte order mark, if it has one: what [`parse`] reads, and
/// what a client sends on (RFC 8259: a sender must not add one).
pub fn without_bom(input: &[u8]) -> &[u8] {
    input.strip_prefix(UTF8_BOM).unwrap_or(input)
}

/// When `input` is not UTF-8, the error that says so.
fn encoding_error(input: &[u8]) -> Option<ParseError> {
    let at_start = |message: &str| ParseError {
        line: 1,
        column: 1,
        message: format!("{message}; the file must be UTF-8"),
    };
    if input.starts_with(b"\xff\xfe") || input.starts_with(b"\xfe\xff") {
        return Some(at_start(
            "the file is UTF-16 (it starts with a UTF-16 byte order mark)",
        ));
    }
    if input.iter().take(4).any(|&b| b == 0) {
        return Some(at_start(
            "the file looks like UTF-16 or UTF-32 (it has NUL bytes at its start)",
        ));
    }
    let bad = simdutf8::compat::from_utf8(input).err()?.valid_up_to();
    let before = &input[..bad];
    let line_start = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |p| p + 1);
    Some(ParseError {
        line: before.iter().filter(|&&b| b == b'\n').count() + 1,
        column: bad - line_start + 1,
        message: format!(
            "byte 0x{:02X} is not UTF-8; the file must be UTF-8 (a file saved as Latin-1 or \
             Windows-1252 must be converted)",
            input[bad]
        ),
    })
}
