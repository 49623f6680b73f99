//! Preprocessing token by token: most lines hold no value that spans white space, and
//! most of their tokens are plain words or digit runs, whose outcome is known at a glance.

use std::hash::BuildHasher;

use super::{
    TAIL, TOKEN_DELIMITERS, WILDCARD, ascii, digit_word, hex_word, token_delimiter,
    user_or_boolean_piece, whole_from, word,
};

/// Slots of the token cache of [`by_tokens`] (a power of two).
const REMEMBERED_TOKENS: usize = 1 << 12;

/// Tokens [`by_tokens`] preprocessed, and what they became, each in the slot its hash
/// picks (a newer one takes the slot).
#[derive(Default)]
struct Remembered {
    /// Each slot's hash, apart, so that a miss touches little memory.
    hashes: Vec<u64>,
    /// Each slot's token and what it became.
    slots: Vec<(String, String)>,
}

thread_local! {
    static TOKENS: std::cell::RefCell<Remembered> = Default::default();
}

/// [`preprocess`] token by token into `out`, where that gives the same text: most lines hold no
/// value that spans white space, and most of their tokens are plain words or digit runs,
/// whose outcome is known without running a mask. Other tokens go through [`whole`](super::whole) on
/// their own, and recent ones are remembered.
///
/// With `first` at [`TAIL`] the masks before it have been applied to the whole line
/// already, and the tokens get the rest. From 0, `None` (no token-by-token reading)
/// where a mask could match across a space: a line that is not ASCII, a token starting
/// `bytes` or `HTTP/`, two colons and a token ending in a day's name (a date); or a
/// duration's text across a space: a token ending `<`, `>`, `<=` or `>=` (perhaps a
/// `<*>` of an earlier mask) before one starting with a digit (`<*> 5ms`), or a token
/// ending in a digit and holding `<` or `>` before a duration's unit (`<*>=5 ms`).
pub(super) fn by_tokens(content: &str, out: &mut String, first: usize) -> Option<()> {
    // After the masks that span spaces, no token's outcome depends on another's.
    let tail = first >= TAIL;
    let b = content.as_bytes();
    let (mut line_colons, mut day) = (0, false);
    // The last token ends in a digit and became something with a `<*>` (`<*>=5`, with
    // a duration's unit in the next token perhaps).
    let mut after_number_and_angle = false;
    let mut i = 0;
    TOKENS.with_borrow_mut(|remembered| {
        if remembered.hashes.is_empty() {
            remembered.hashes = vec![0; REMEMBERED_TOKENS];
            remembered.slots = vec![(String::new(), String::new()); REMEMBERED_TOKENS];
        }
        loop {
            while i < b.len() && CLASS[b[i] as usize] == SPACE {
                i += 1;
            }
            if i == b.len() {
                break;
            }
            let start = i;
            let (mut seen, mut digits, mut colons, mut dashes) = (0u8, 0usize, 0u32, 0u32);
            while i < b.len() {
                let k = CLASS[b[i] as usize];
                if k == SPACE {
                    break;
                }
                seen |= k;
                digits += (k & DIGIT) as usize;
                colons += ((k & COLON) >> 1) as u32;
                dashes += ((k & DASH) >> 2) as u32;
                i += 1;
            }
            let t = &b[start..i];
            if seen & STOP != 0 {
                return None;
            }
            if !tail
                && (t.starts_with(b"bytes")
                    || t.starts_with(b"HTTP/")
                    || (out.ends_with(['<', '>']) || out.ends_with("<=") || out.ends_with(">="))
                        && t[0].is_ascii_digit()
                    || (after_number_and_angle && duration_unit(t)))
            {
                return None;
            }
            let token = &content[start..i];
            line_colons += colons;
            day |= t.len() >= 3
                && matches!(
                    &t[t.len() - 3..],
                    b"Mon" | b"Tue" | b"Wed" | b"Thu" | b"Fri" | b"Sat" | b"Sun"
                );
            if !out.is_empty() {
                out.push(' ');
            }
            let token_start = out.len();
            let shape = if digits == t.len() {
                Shape::Digits
            } else if digits == 0
                && seen & SPECIAL == 0
                && colons < 3
                && dashes < 4
                && (seen & HEX_LETTER == 0 || longest_hex_run(t) < 8)
                && !(if seen & DELIMITER == 0 {
                    user_or_boolean_piece(token)
                } else {
                    user_or_boolean(token)
                })
            {
                Shape::Kept
            } else {
                Shape::Other
            };
            match shape {
                Shape::Kept => out.push_str(token),
                Shape::Digits => out.push_str(WILDCARD),
                Shape::Other if simple(token, out) => {}
                Shape::Other if tail => out.push_str(&whole_from(token, first)),
                Shape::Other => {
                    let hash = rustc_hash::FxBuildHasher.hash_one(token);
                    let at = (hash >> 52) as usize & (REMEMBERED_TOKENS - 1);
                    let (seen, became) = &mut remembered.slots[at];
                    if remembered.hashes[at] != hash || seen != token {
                        remembered.hashes[at] = hash;
                        seen.clear();
                        seen.push_str(token);
                        *became = whole_from(token, 0);
                    }
                    out.push_str(became);
                }
            }
            after_number_and_angle =
                t[t.len() - 1].is_ascii_digit() && out[token_start..].contains(['<', '>']);
        }
        Some(())
    })?;
    if !tail && line_colons >= 2 && day {
        return None;
    }
    Some(())
}

/// What [`preprocess`] makes of an ASCII token standing alone, as far as a glance tells.
#[derive(Debug, PartialEq)]
pub(super) enum Shape {
    /// It stays as it is: no digit, no `/` or `*`, no run of eight hexadecimal letters,
    /// fewer than three colons and four dashes, no piece that is a boolean or a user
    /// name: no mask or rule can match it.
    Kept,
    /// Only digits: `<*>`.
    Digits,
    /// Anything else: see [`whole`](super::whole).
    Other,
}

/// Byte classes for [`by_tokens`].
const DIGIT: u8 = 1;
const COLON: u8 = 2;
const DASH: u8 = 4;
/// `/`, `*`, `<` or `>`: a path, a `<*>`, a duration's bound.
const SPECIAL: u8 = 8;
const HEX_LETTER: u8 = 16;
/// A delimiter of the template rules' pieces, white space aside.
const DELIMITER: u8 = 32;
/// White space as the masks see it (a class of its own).
const SPACE: u8 = 64;
/// Not ASCII: [`by_tokens`] gives up.
const STOP: u8 = 128;

static CLASS: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut c = 0;
    while c < 256 {
        let b = c as u8;
        t[c] = if b >= 128 {
            STOP
        } else if matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r') {
            SPACE
        } else if b.is_ascii_digit() {
            DIGIT
        } else if matches!(b, b'a'..=b'f' | b'A'..=b'F') {
            HEX_LETTER
        } else if matches!(b, b'/' | b'*' | b'<' | b'>') {
            SPECIAL
        } else if b == b':' {
            COLON | DELIMITER
        } else if b == b'-' {
            DASH | DELIMITER
        } else if TOKEN_DELIMITERS[c] {
            DELIMITER
        } else {
            0
        };
        c += 1;
    }
    t
};

/// Delimiters of the rules' pieces that no mask looks at (no `.`, `:` or `/`).
const INERT: [bool; 128] = ascii(b"-=,;()[]{}'\"!|+@#$%&");

/// [`whole`](super::whole) for a token of word characters and [`INERT`] delimiters, with fewer than
/// four dashes (no UUID) and no dash that could start a negative number (a dash and a
/// digit, after no word or after a digit word): each run of
/// word characters is then masked or kept on its own (a digit word, a hexadecimal id, a
/// number with a unit, digits, a boolean or a user name become `<*>`), and the
/// delimiters stay. Appends that to `out`; `false`, appending nothing, for any other
/// token.
pub(super) fn simple(token: &str, out: &mut String) -> bool {
    let b = token.as_bytes();
    let mut dashes = 0;
    for (i, &c) in b.iter().enumerate() {
        if word(c as char) {
            continue;
        }
        if !c.is_ascii() || !INERT[c as usize] {
            return false;
        }
        if c == b'-' {
            dashes += 1;
            // The negative-number mask follows the digit-word mask: a dash after a run
            // that mask took follows a `<*>`, not a word.
            let digit_next = b.get(i + 1).is_some_and(u8::is_ascii_digit);
            if digit_next {
                let run = b[..i]
                    .iter()
                    .rev()
                    .take_while(|&&c| word(c as char))
                    .count();
                if run == 0 || digit_word(&token[i - run..i]) {
                    return false;
                }
            }
        }
    }
    if dashes >= 4 {
        return false;
    }
    let mut start = 0;
    for (i, &c) in b.iter().enumerate().chain([(b.len(), &b' ')]) {
        if i < b.len() && word(c as char) {
            continue;
        }
        if i > start {
            let run = &token[start..i];
            let masked = digit_word(run)
                || hex_word(run)
                || unit_word(run)
                || run.bytes().all(|c| c.is_ascii_digit())
                || user_or_boolean_piece(run);
            out.push_str(if masked { WILDCARD } else { run });
        }
        if i < b.len() {
            out.push(c as char);
        }
        start = i + 1;
    }
    true
}

/// A whole word run that the unit mask takes: digits, then one of its units.
pub(super) fn unit_word(run: &str) -> bool {
    let digits = run.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 {
        return false;
    }
    let unit = &run[digits..];
    matches!(
        unit,
        "ns" | "us"
            | "ms"
            | "s"
            | "sec"
            | "secs"
            | "m"
            | "min"
            | "mins"
            | "h"
            | "hr"
            | "hrs"
            | "d"
            | "B"
            | "bps"
            | "Hz"
    ) || {
        let u = unit.as_bytes();
        match u {
            [p, b'B'] | [p, b'i', b'B'] => b"kKMGTP".contains(p),
            [p, b'b', b'p', b's'] => b"kKMG".contains(p),
            [p, b'H', b'z'] => b"kMG".contains(p),
            _ => false,
        }
    }
}

/// Whether `t` starts with a unit of the duration mask and a word boundary.
pub(super) fn duration_unit(t: &[u8]) -> bool {
    [&b"ns"[..], b"us", b"ms", b"s", b"sec", b"secs", b"min"]
        .iter()
        .any(|u| t.starts_with(u) && t.get(u.len()).is_none_or(|&c| !word(c as char)))
}

/// The longest run of the letters `a` to `f` (either case).
pub(super) fn longest_hex_run(t: &[u8]) -> usize {
    let (mut run, mut longest) = (0, 0);
    for &c in t {
        if CLASS[c as usize] == HEX_LETTER {
            run += 1;
            longest = longest.max(run);
        } else {
            run = 0;
        }
    }
    longest
}

/// Whether a piece of `token` between the rules' delimiters is one of
/// [`USERS_AND_BOOLEANS`](super::USERS_AND_BOOLEANS).
pub(super) fn user_or_boolean(token: &str) -> bool {
    token.len() >= 4 && token.split(token_delimiter).any(user_or_boolean_piece)
}
