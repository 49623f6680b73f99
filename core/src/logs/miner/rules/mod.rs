//! The miner's default preprocessing: what is a variable before any line is compared.
//!
//! Two stages, both on the content's text:
//! 1. masks for values that span punctuation or spaces and that no token rule could see
//!    whole: dates (`Sun Jul 3 23:59:59 2005`), UUIDs, host:port, IPv4 and IPv6 addresses,
//!    hexadecimal numbers, sizes in bytes (`1190 bytes (1.16 KB)`), clock times standing
//!    alone (`00:01`), bounded durations (`<1 sec`), the target of an HTTP request line
//!    (`"GET /v2/servers HTTP/1.1"` → `"GET <*>"`), words with a long digit run
//!    (`application_1445144423722_0020`), negative numbers and numbers with a unit of
//!    time, size, rate or frequency (`18ms`, `4GB`);
//! 2. the template rules of Khan et al. (ICSE 2022) that loghub's corrected templates
//!    follow, applied to the line itself ([`template_rules`]): paths, booleans and the
//!    user strings `null`/`root`/`admin`, digit runs, tokens holding a variable, and
//!    neighbouring variables, each becoming one `<*>`.
//!
//! The same rules then write every template's text, so templates read as loghub's do.
//!
//! How, for speed, with the same outcome: most lines go token by token ([`tokens`]); a
//! line with a mask that spans spaces gets those masks whole and the rest token by
//! token; a mask's `needs` skips it on texts it cannot match; the word-run masks and
//! three others ([`hand`]) run by hand. `tests.rs` checks every shortcut against the
//! masks' regexes applied one after the other (`preprocess_by_regex`).

mod hand;
mod tokens;

use std::borrow::Cow;
use std::sync::{LazyLock, OnceLock};

use regex::Regex;

use super::WILDCARD;

/// A mask and what decides whether a match counts.
struct Mask {
    pattern: String,
    /// Compiled on first use: most runs need few of the masks.
    regex: OnceLock<Regex>,
    /// Whether the character before the match (`None` at the start) allows it.
    after: fn(Option<char>) -> bool,
    /// Whether the character after the match (`None` at the end) allows it.
    before: fn(Option<char>) -> bool,
    /// Checks the matched text itself.
    accept: fn(&str) -> bool,
    /// Keeps the match's first word (an HTTP method) before the `<*>`.
    keep_first_word: bool,
    /// What a text must hold for the mask to match at all (a cheap test first).
    needs: fn(&Summary, &str) -> bool,
    /// How [`preprocess`] applies it ([`preprocess_by_regex`] always by the regex).
    by: By,
}

/// A regex's next match (start, end) at or after a byte offset, by hand.
type Find = fn(&[u8], usize) -> Option<(usize, usize)>;

/// How [`preprocess`] applies a mask.
#[derive(Clone, Copy)]
enum By {
    Regex,
    /// By hand: the regex's next match at or after a byte offset, as `find_at` gives it
    /// (the masks run on most lines; a regex costs its compiling and its warming up in
    /// every process).
    Hand(Find),
    /// On maximal runs of word characters, by hand: those this accepts become `<*>`.
    Words(fn(&str) -> bool),
    /// The mask before it, done by hand, did this one's work too.
    Before,
}

/// Counts of the characters masks need, so most masks are never run on most lines.
#[derive(Debug, Default)]
struct Summary {
    colons: u32,
    dashes: u32,
    dots: u32,
    angles: u32,
    digits: u32,
    /// The longest run of ASCII digits.
    digit_run: u32,
    /// An ASCII digit followed by an ASCII letter.
    digit_letter: bool,
}

impl Summary {
    fn of(text: &str) -> Summary {
        let mut s = Summary::default();
        let (mut run, mut prev_digit) = (0, false);
        for &b in text.as_bytes() {
            match b {
                b':' => s.colons += 1,
                b'-' => s.dashes += 1,
                b'.' => s.dots += 1,
                b'<' | b'>' => s.angles += 1,
                _ => {}
            }
            if b.is_ascii_digit() {
                s.digits += 1;
                run += 1;
                s.digit_run = s.digit_run.max(run);
            } else {
                s.digit_letter |= prev_digit && b.is_ascii_alphabetic();
                run = 0;
            }
            prev_digit = b.is_ascii_digit();
        }
        s
    }
}

/// A word character as the masks see it: ASCII only (Unicode classes cost milliseconds
/// to compile, and log variables are ASCII).
fn word(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}
fn anything(_: Option<char>) -> bool {
    true
}
fn any_text(_: &str) -> bool {
    true
}
fn no_word_dot_dash(c: Option<char>) -> bool {
    !c.is_some_and(|c| word(c) || c == '.' || c == '-')
}
fn no_word_dot(c: Option<char>) -> bool {
    !c.is_some_and(|c| word(c) || c == '.')
}
fn no_word_colon(c: Option<char>) -> bool {
    !c.is_some_and(|c| word(c) || c == ':')
}
fn no_word_angle(c: Option<char>) -> bool {
    !c.is_some_and(|c| word(c) || c == '<' || c == '>')
}
fn no_word_dash(c: Option<char>) -> bool {
    !c.is_some_and(|c| word(c) || c == '-')
}
fn no_word(c: Option<char>) -> bool {
    !c.is_some_and(word)
}
fn space_or_end(c: Option<char>) -> bool {
    c.is_none_or(char::is_whitespace)
}
fn quote(c: Option<char>) -> bool {
    c == Some('"')
}
fn has_hex_letter(s: &str) -> bool {
    s.bytes().any(|b| matches!(b, b'a'..=b'f' | b'A'..=b'F'))
}
/// A hexadecimal id: a digit and a letter, or 8 characters or more (`abdbebbb`, an id
/// that happens to hold no digit).
fn hex_id(s: &str) -> bool {
    s.len() >= 8 || (s.bytes().any(|b| b.is_ascii_digit()) && has_hex_letter(s))
}

const MONTHS: &str = "Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec";
const DAYS: &str = "Mon|Tue|Wed|Thu|Fri|Sat|Sun";

/// The masks, in the order they apply.
static MASKS: LazyLock<Vec<Mask>> = LazyLock::new(|| {
    let m = |pattern: &str,
             after: fn(Option<char>) -> bool,
             before: fn(Option<char>) -> bool,
             accept: fn(&str) -> bool| Mask {
        pattern: pattern.to_string(),
        regex: OnceLock::new(),
        after,
        before,
        accept,
        keep_first_word: false,
        needs: |_, _| true,
        by: By::Regex,
    };
    let needs = |mask: Mask, needs: fn(&Summary, &str) -> bool| Mask { needs, ..mask };
    let date = format!(
        r"(?-u:\b)(?:{DAYS})[\t\n\x0B\x0C\r ]+(?:{MONTHS})[\t\n\x0B\x0C\r ]+[0-9]{{1,2}}[\t\n\x0B\x0C\r ]+[0-9][0-9]:[0-9][0-9]:[0-9][0-9](?:[\t\n\x0B\x0C\r ]+[0-9]{{4}})?(?-u:\b)"
    );
    vec![
        needs(m(&date, anything, anything, any_text), |s, _| s.colons >= 2),
        needs(
            m(
                r"(?-u:\b)[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}(?-u:\b)",
                anything,
                anything,
                any_text,
            ),
            |s, _| s.dashes >= 4,
        ),
        // host:port, also host/address:port (`msra-sa-41/10.190.173.170:9000`).
        needs(
            m(
                r"[a-zA-Z][0-9A-Za-z_]*(?:[.-][0-9A-Za-z_]+)+(?:/[[0-9].]+)?:[0-9]+(?-u:\b)",
                no_word_dot_dash,
                anything,
                any_text,
            ),
            |s, _| s.colons >= 1 && s.dots + s.dashes >= 1 && s.digits >= 1,
        ),
        needs(
            m(
                r"(?-u:\b)[0-9][[0-9],]*[\t\n\x0B\x0C\r ]+bytes(?:[\t\n\x0B\x0C\r ]+\([0-9]+(?:\.[0-9]+)?[\t\n\x0B\x0C\r ]*[KMGT]?B\))?",
                anything,
                no_word,
                any_text,
            ),
            |s, t| s.digits >= 1 && t.contains("bytes"),
        ),
        Mask {
            needs: |s, _| s.colons >= 1 && s.digits >= 3,
            by: By::Hand(hand::find_clock),
            ..m(
                r"[0-9]{1,2}:[0-9]{2}(?::[0-9]{2}(?:[.,][0-9]+)?)?",
                space_or_end,
                space_or_end,
                any_text,
            )
        },
        needs(
            m(
                r"[<>]=?[\t\n\x0B\x0C\r ]?[0-9]+(?:\.[0-9]+)?[\t\n\x0B\x0C\r ]?(?:ns|us|ms|s|sec|secs|min)(?-u:\b)",
                no_word_angle,
                anything,
                any_text,
            ),
            |s, _| s.angles >= 1 && s.digits >= 1,
        ),
        Mask {
            keep_first_word: true,
            needs: |_, t| t.contains("HTTP/"),
            ..m(
                r"(?:GET|POST|PUT|DELETE|HEAD|PATCH|OPTIONS) [^\t\n\x0B\x0C\r ]+ HTTP/[0-9](?:\.[0-9])?",
                quote,
                quote,
                any_text,
            )
        },
        Mask {
            needs: |s, _| s.digit_run >= 4,
            by: By::Words(digit_word),
            ..m(
                r"[0-9A-Za-z_]*[A-Za-z_][0-9]{4,}[0-9A-Za-z_]*|(?-u:\b)[0-9]{4,}[A-Za-z_][0-9A-Za-z_]*",
                anything,
                anything,
                any_text,
            )
        },
        Mask {
            needs: |s, _| s.dashes >= 1 && s.digits >= 1,
            by: By::Hand(hand::find_negative),
            ..m(
                r"-[0-9]+(?:\.[0-9]+)?(?-u:\b)",
                no_word_dash,
                anything,
                any_text,
            )
        },
        Mask {
            needs: |s, _| s.dots >= 3,
            by: By::Hand(hand::find_ipv4),
            ..m(
                r"(?:[0-9]{1,3}\.){3}[0-9]{1,3}(?::[0-9]+)?",
                no_word_dot,
                no_word_dot,
                any_text,
            )
        },
        needs(
            m(
                r"(?:[0-9a-fA-F]{1,4}:){3,7}[0-9a-fA-F]{1,4}",
                no_word_colon,
                no_word_colon,
                has_hex_letter,
            ),
            |s, _| s.colons >= 3,
        ),
        // These two by hand, together, on word runs.
        Mask {
            by: By::Words(hex_word),
            ..m(
                r"(?-u:\b)0[xX][0-9a-fA-F]+(?-u:\b)",
                anything,
                anything,
                any_text,
            )
        },
        Mask {
            by: By::Before,
            ..m(r"(?-u:\b)[0-9a-fA-F]+(?-u:\b)", anything, anything, hex_id)
        },
        needs(
            m(
                r"(?-u:\b)[0-9]+(?:\.[0-9]+)?(?:ns|us|ms|s|sec|secs|m|min|mins|h|hr|hrs|d|[kKMGTP]i?B|B|[kKMG]?bps|[kMG]?Hz)(?-u:\b)",
                anything,
                anything,
                any_text,
            ),
            |s, _| s.digit_letter,
        ),
    ]
});

/// `text` with one mask applied: by its regex, or by hand where it has a hand and
/// `by_regex` is false.
fn apply<'a>(mask: &Mask, text: Cow<'a, str>, by_regex: bool) -> Cow<'a, str> {
    let mut out = String::new();
    let mut last = 0;
    let mut each = |start: usize, end: usize| {
        let before = text[..start].chars().next_back();
        let after = text[end..].chars().next();
        let found = &text[start..end];
        if (mask.after)(before) && (mask.before)(after) && (mask.accept)(found) {
            out.push_str(&text[last..start]);
            if mask.keep_first_word {
                let word = found.split(' ').next().unwrap_or_default();
                out.push_str(word);
                out.push(' ');
            }
            out.push_str(WILDCARD);
            last = end;
        }
    };
    match mask.by {
        By::Hand(find) if !by_regex => {
            let mut from = 0;
            while let Some((start, end)) = find(text.as_bytes(), from) {
                each(start, end);
                from = end;
            }
        }
        _ => {
            let regex = mask
                .regex
                .get_or_init(|| Regex::new(&mask.pattern).expect("a valid built-in mask"));
            for m in regex.find_iter(&text) {
                each(m.start(), m.end());
            }
        }
    }
    if last == 0 {
        return text;
    }
    out.push_str(&text[last..]);
    Cow::Owned(out)
}

/// The content with the built-in masks applied, then [`template_rules`]: the text the
/// miner tokenises.
pub fn preprocess(content: &str) -> String {
    let mut out = String::new();
    preprocess_into(content, &mut out);
    out
}

/// [`preprocess`] into `out` (cleared first), reusing its memory.
pub fn preprocess_into(content: &str, out: &mut String) {
    out.clear();
    if tokens::by_tokens(content, out, 0).is_some() {
        return;
    }
    out.clear();
    if content.is_ascii() {
        // The masks that span spaces on the whole line, then the rest token by token.
        let head = masked(content, 0..TAIL);
        if tokens::by_tokens(&head, out, TAIL).is_some() {
            return;
        }
        out.clear();
    }
    out.push_str(&whole(content));
}

/// The masks from here on never match across white space (the ones before do: dates,
/// sizes in bytes, durations, HTTP request lines).
const TAIL: usize = 7;

/// [`preprocess`] on the whole text at once.
fn whole(content: &str) -> String {
    whole_from(content, 0)
}

/// [`whole`] with the masks from `first` on only.
fn whole_from(content: &str, first: usize) -> String {
    template_rules(&masked(content, first..MASKS.len()))
}

/// `content` with the masks in `range` applied.
fn masked(content: &str, range: std::ops::Range<usize>) -> Cow<'_, str> {
    let mut text = Cow::Borrowed(content);
    let mut summary = Summary::of(&text);
    for mask in &MASKS[range] {
        if !(mask.needs)(&summary, &text) {
            continue;
        }
        let before = text.as_ptr();
        text = match mask.by {
            By::Regex | By::Hand(_) => apply(mask, text, false),
            By::Words(accept) => words(text, accept),
            By::Before => continue,
        };
        // A step that changed nothing hands the same text back.
        if text.as_ptr() != before {
            summary = Summary::of(&text);
        }
    }
    text
}

/// Pieces the template rules make `<*>` (BL, US).
const USERS_AND_BOOLEANS: [&str; 5] = ["true", "false", "null", "root", "admin"];

/// Whether a piece is one of [`USERS_AND_BOOLEANS`], in any case.
fn user_or_boolean_piece(p: &str) -> bool {
    matches!(p.len(), 4 | 5) && USERS_AND_BOOLEANS.iter().any(|w| p.eq_ignore_ascii_case(w))
}

/// [`preprocess`] with every mask by its regex alone: what the shortcuts must equal.
#[cfg(test)]
fn preprocess_by_regex(content: &str) -> String {
    let mut text = Cow::Borrowed(content);
    for mask in MASKS.iter() {
        text = apply(mask, text, true);
    }
    template_rules(&text)
}

/// `text` with each maximal run of word characters that `mask` accepts made `<*>`.
fn words<'a>(text: Cow<'a, str>, mask: fn(&str) -> bool) -> Cow<'a, str> {
    let mut out = String::new();
    let (mut last, mut start) = (0, None);
    let close = |out: &mut String, last: &mut usize, from: usize, to: usize| {
        if mask(&text[from..to]) {
            out.push_str(&text[*last..from]);
            out.push_str(WILDCARD);
            *last = to;
        }
    };
    for (i, c) in text.char_indices() {
        match (word(c), start) {
            (true, None) => start = Some(i),
            (false, Some(from)) => {
                close(&mut out, &mut last, from, i);
                start = None;
            }
            _ => {}
        }
    }
    if let Some(from) = start {
        close(&mut out, &mut last, from, text.len());
    }
    if last == 0 {
        return text;
    }
    out.push_str(&text[last..]);
    Cow::Owned(out)
}

/// `\w*[A-Za-z_]\d{4,}\w*|\b\d{4,}[A-Za-z_]\w*` on a whole word run.
fn digit_word(w: &str) -> bool {
    let b = w.as_bytes();
    let letter = |c: u8| c.is_ascii_alphabetic() || c == b'_';
    let lead = b.iter().take_while(|c| c.is_ascii_digit()).count();
    if lead >= 4 && b.get(lead).is_some_and(|&c| letter(c)) {
        return true;
    }
    b.iter().enumerate().any(|(i, &c)| {
        letter(c) && b[i + 1..].iter().take_while(|c| c.is_ascii_digit()).count() >= 4
    })
}

/// `\b0[xX][0-9a-fA-F]+\b`, or `\b[0-9a-fA-F]+\b` that [`hex_id`] accepts, on a whole
/// word run.
fn hex_word(w: &str) -> bool {
    let hex = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_hexdigit());
    let prefixed = (w.starts_with("0x") || w.starts_with("0X")) && hex(&w[2..]);
    prefixed || (hex(w) && hex_id(w))
}

/// A table of ASCII characters.
const fn ascii(chars: &[u8]) -> [bool; 128] {
    let mut t = [false; 128];
    let mut i = 0;
    while i < chars.len() {
        t[chars[i] as usize] = true;
        i += 1;
    }
    t
}

/// Delimiters of path-like strings (Khan et al.'s PS rule), white space aside.
const PATH_DELIMITERS: [bool; 128] = ascii(b"\t\n\x0b\x0c\r ,!;:=|\"'[](){}");
/// Delimiters of tokens for the other rules.
const TOKEN_DELIMITERS: [bool; 128] = ascii(b"\t\n\x0b\x0c\r ,!;:=|\"'[](){}.-+@#$%&");

fn path_delimiter(c: char) -> bool {
    if c.is_ascii() {
        PATH_DELIMITERS[c as usize]
    } else {
        c.is_whitespace()
    }
}

fn token_delimiter(c: char) -> bool {
    if c.is_ascii() {
        TOKEN_DELIMITERS[c as usize]
    } else {
        c.is_whitespace()
    }
}

/// `/a/b`: one or more `/` each followed by something that is not a `/`.
fn is_path(s: &str) -> bool {
    s.starts_with('/') && s[1..].split('/').all(|p| !p.is_empty())
}

/// Splits `text` at every `delimiter` character, keeping the delimiters, and makes each
/// piece between delimiters that `f` accepts `<*>`.
fn rewrite<'a>(
    text: Cow<'a, str>,
    delimiter: fn(char) -> bool,
    f: impl Fn(&str) -> bool,
) -> Cow<'a, str> {
    let mut out = String::new();
    let (mut start, mut last) = (0, 0);
    let mut piece = |out: &mut String, from: usize, to: usize| {
        if from < to && f(&text[from..to]) {
            out.push_str(&text[last..from]);
            out.push_str(WILDCARD);
            last = to;
        }
    };
    for (i, c) in text.char_indices() {
        if delimiter(c) {
            piece(&mut out, start, i);
            start = i + c.len_utf8();
        }
    }
    piece(&mut out, start, text.len());
    if last == 0 {
        return text;
    }
    out.push_str(&text[last..]);
    Cow::Owned(out)
}

/// `text` with no white space but single spaces between words (DS).
fn single_spaced(text: &str) -> Cow<'_, str> {
    let b = text.as_bytes();
    let plain = text.is_ascii()
        && b.first().is_none_or(|&c| c != b' ')
        && b.last().is_none_or(|&c| c != b' ')
        && !b.windows(2).any(|w| w == b"  ")
        && !b
            .iter()
            .any(|&c| c != b' ' && c.is_ascii_whitespace() || c == 0x0b);
    if plain {
        return Cow::Borrowed(text);
    }
    let mut spaced = String::with_capacity(text.len());
    for t in text.split(char::is_whitespace).filter(|t| !t.is_empty()) {
        if !spaced.is_empty() {
            spaced.push(' ');
        }
        spaced.push_str(t);
    }
    Cow::Owned(spaced)
}

/// Khan et al.'s template rules (logpai's `correct_single_template`): white space runs
/// become one space (DS); a path-like string becomes `<*>` (PS); `true`, `false`,
/// `null`, `root` and `admin` (BL, US), a run of digits (DG) and a token holding a `<*>`
/// without a `/` (WV) become `<*>`; `<*>.<*>` (DV) and `<*><*>` (CV) become one.
pub fn template_rules(text: &str) -> String {
    let mut t = single_spaced(text);
    if t.contains('/') {
        t = rewrite(t, path_delimiter, is_path);
    }
    let t = rewrite(t, token_delimiter, |p| {
        let b = p.as_bytes();
        user_or_boolean_piece(p)
            || p.chars().all(|c| c.is_numeric())
            || (b.len() >= 3 && p.contains(WILDCARD) && !p.contains('/'))
    });
    let mut t = t.into_owned();
    if t.contains(WILDCARD) {
        for pair in ["<*>.<*>", "<*><*>"] {
            while t.contains(pair) {
                t = t.replace(pair, WILDCARD);
            }
        }
    }
    t
}

#[cfg(test)]
mod tests;
