//! Whether a value looks like an email address, read once by a small automaton.

/// Whether a trimmed string looks like an email address: one `@`, a non-empty local part, a
/// dotted domain, no spaces or characters that cannot appear unquoted.
pub fn is_plausible_email(value: &str) -> bool {
    value.len() <= 254
        && plausible_ascii_email(value.as_bytes()).unwrap_or_else(|| plausible_email(value))
}

/// The classes of bytes the email automaton tells apart.
const OTHER: u8 = 0;
const DOT: u8 = 1;
const DASH: u8 = 2;
const AT: u8 = 3;
/// White space, controls and the specials that cannot appear unquoted (non-ASCII bytes too,
/// which the automaton is never given).
const BAD: u8 = 4;

static EMAIL_CLASS: [u8; 256] = {
    let mut table = [OTHER; 256];
    let mut c = 0;
    while c < 256 {
        if c <= b' ' as usize || c >= 0x7f {
            table[c] = BAD;
        }
        c += 1;
    }
    let specials = b",;:<>()[]\\\"";
    let mut i = 0;
    while i < specials.len() {
        table[specials[i] as usize] = BAD;
        i += 1;
    }
    table[b'.' as usize] = DOT;
    table[b'-' as usize] = DASH;
    table[b'@' as usize] = AT;
    table
};

/// The states of the automaton: where the address read so far stands. `FAIL` keeps it.
const FAIL: u8 = 0;
/// Nothing read yet.
const LOCAL_START: u8 = 1;
/// In the local part, after a character other than a dot.
const LOCAL: u8 = 2;
/// In the local part, after a dot.
const LOCAL_DOT: u8 = 3;
/// Just after the `@`.
const DOMAIN_START: u8 = 4;
/// In the domain's first label (no dot yet), after a character other than `-`.
const LABEL: u8 = 5;
/// In the domain's first label, after a `-`.
const LABEL_DASH: u8 = 6;
/// Just after a dot of the domain.
const DOTTED_START: u8 = 7;
/// In a later label, after a character other than `-`: the one state that accepts.
const DOTTED: u8 = 8;
/// In a later label, after a `-`.
const DOTTED_DASH: u8 = 9;

/// The next state, by state and class (`OTHER`, `DOT`, `DASH`, `AT`, `BAD`).
static EMAIL_NEXT: [[u8; 8]; 16] = {
    // The states after an ordinary character, a dot, a dash and an `@`; `BAD` always fails.
    const fn after(other: u8, dot: u8, dash: u8, at: u8) -> [u8; 8] {
        [other, dot, dash, at, FAIL, FAIL, FAIL, FAIL]
    }
    let mut next = [[FAIL; 8]; 16];
    next[LOCAL_START as usize] = after(LOCAL, FAIL, LOCAL, FAIL);
    next[LOCAL as usize] = after(LOCAL, LOCAL_DOT, LOCAL, DOMAIN_START);
    next[LOCAL_DOT as usize] = after(LOCAL, FAIL, LOCAL, FAIL);
    next[DOMAIN_START as usize] = after(LABEL, FAIL, FAIL, FAIL);
    next[LABEL as usize] = after(LABEL, DOTTED_START, LABEL_DASH, FAIL);
    next[LABEL_DASH as usize] = after(LABEL, FAIL, LABEL_DASH, FAIL);
    next[DOTTED_START as usize] = after(DOTTED, FAIL, FAIL, FAIL);
    next[DOTTED as usize] = after(DOTTED, DOTTED_START, DOTTED_DASH, FAIL);
    next[DOTTED_DASH as usize] = after(DOTTED, FAIL, DOTTED_DASH, FAIL);
    next
};

/// [`plausible_email`] for an ASCII value, read once by a small automaton (one table step a
/// byte, no branch on the bytes); `None` (the rules on characters then decide) when the value
/// is not ASCII.
fn plausible_ascii_email(value: &[u8]) -> Option<bool> {
    if !value.is_ascii() {
        return None;
    }
    let state = value.iter().fold(LOCAL_START, |state, &b| {
        EMAIL_NEXT[usize::from(state) & 15][usize::from(EMAIL_CLASS[usize::from(b)]) & 7]
    });
    // A local part of 64 bytes at most: the `@` is looked for only in longer values.
    let short_local = value.len() <= 65 || value.iter().position(|&b| b == b'@') <= Some(64);
    Some(state == DOTTED && short_local)
}

/// The rules of [`is_plausible_email`], on characters.
fn plausible_email(value: &str) -> bool {
    let Some((local, domain)) = value.split_once('@') else {
        return false;
    };
    let forbidden = |part: &str| {
        part.chars()
            .any(|c| c.is_whitespace() || c.is_control() || "@,;:<>()[]\\\"".contains(c))
    };
    !local.is_empty()
        && local.len() <= 64
        && !forbidden(local)
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && domain.contains('.')
        && !forbidden(domain)
        && domain
            .split('.')
            .all(|label| !label.is_empty() && !label.starts_with('-') && !label.ends_with('-'))
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::{is_plausible_email, plausible_ascii_email, plausible_email};

    proptest! {
        /// The one-pass ASCII check and the rules on characters agree on every ASCII value.
        #[test]
        fn the_ascii_email_check_follows_the_rules(
            near in "[ab.\\-]{0,4}@[ab.\\-]{0,7}",
            shaped in "[ab]{0,2}([.\\-]{1,2}[ab]{0,2}){0,2}@[ab]{0,2}([.\\-]{1,2}[ab]{0,2}){0,3}",
            odd in "[ab.@ ,\\x7f]{0,10}",
            any in "[\\x00-\\x7f]{0,16}",
        ) {
            for value in [near, shaped, odd, any] {
                prop_assert_eq!(plausible_ascii_email(value.as_bytes()), Some(plausible_email(&value)), "{:?}", value);
            }
        }

        /// Whatever the characters, the check answers as the rules on characters.
        #[test]
        fn the_email_check_follows_the_rules(value in "[ab.@\\- é\\u{a0}\\u{2028}]{0,12}") {
            prop_assert_eq!(is_plausible_email(&value), plausible_email(&value), "{:?}", value);
        }
    }

    #[test]
    fn the_ascii_email_check_on_examples() {
        for (value, plausible) in [
            ("a@b.fr", true),
            ("a.b@c-d.e.fr", true),
            ("-a-@b.c-d", true),
            ("a@b.c--d.e", true),
            ("a@b.c-.d", false),
            ("@b.fr", false),
            (".a@b.fr", false),
            ("a.@b.fr", false),
            ("a..b@c.fr", false),
            ("a@b", false),
            ("a@.b.fr", false),
            ("a@b..fr", false),
            ("a@b.fr.", false),
            ("a@-b.fr", false),
            ("a@b-.fr", false),
            ("a@b.fr-", false),
            ("a@b@c.fr", false),
            ("a b@c.fr", false),
            ("a@c.fr\u{7f}", false),
        ] {
            assert_eq!(
                plausible_ascii_email(value.as_bytes()),
                Some(plausible),
                "{value}"
            );
            assert_eq!(plausible_email(value), plausible, "{value}");
        }
        for (local, plausible) in [(64, true), (65, false)] {
            let value = format!("{}@b.fr", "a".repeat(local));
            assert_eq!(plausible_ascii_email(value.as_bytes()), Some(plausible));
            assert_eq!(plausible_email(&value), plausible);
        }
    }
}
