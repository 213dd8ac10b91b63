//! Ids as the document writes them: opaque strings, often percent-encoded (`%2f`, `%3d`).

/// An id in the form it is compared in: percent-escapes decoded (`%2f` is `/`, `%3d` is `=`,
/// in either case), surrounding spaces removed. A `%` not followed by two hex digits stays.
///
/// Every map of [`CycleData`](crate::CycleData) is keyed by ids in this form, so that
/// `abc%3d%3d` and `abc==` name the same object.
pub fn normalize_id(id: &str) -> String {
    let bytes = id.trim().as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

#[cfg(test)]
mod tests {
    use super::normalize_id;

    #[test]
    fn ids_match_in_either_form() {
        assert_eq!(normalize_id("abc%3d%3d"), "abc==");
        assert_eq!(normalize_id("abc%3D%3D"), "abc==");
        assert_eq!(normalize_id("a%2fb"), "a/b");
        assert_eq!(normalize_id("100%"), "100%");
        assert_eq!(normalize_id("%zz"), "%zz");
    }
}
