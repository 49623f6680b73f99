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

use std::borrow::Cow;
use std::sync::LazyLock;

use regex::Regex;

use super::WILDCARD;

/// A mask and what decides whether a match counts.
struct Mask {
    regex: Regex,
    /// Whether the character before the match (`None` at the start) allows it.
    after: fn(Option<char>) -> bool,
    /// Whether the character after the match (`None` at the end) allows it.
    before: fn(Option<char>) -> bool,
    /// Checks the matched text itself.
    accept: fn(&str) -> bool,
    /// Keeps the match's first word (an HTTP method) before the `<*>`.
    keep_first_word: bool,
}

fn word(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
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
        regex: Regex::new(pattern).expect("a valid built-in mask"),
        after,
        before,
        accept,
        keep_first_word: false,
    };
    let date =
        format!(r"\b(?:{DAYS})\s+(?:{MONTHS})\s+\d{{1,2}}\s+\d\d:\d\d:\d\d(?:\s+\d{{4}})?\b");
    vec![
        m(&date, anything, anything, any_text),
        m(
            r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b",
            anything,
            anything,
            any_text,
        ),
        // host:port, also host/address:port (`msra-sa-41/10.190.173.170:9000`).
        m(
            r"[a-zA-Z]\w*(?:[.-]\w+)+(?:/[\d.]+)?:\d+\b",
            no_word_dot_dash,
            anything,
            any_text,
        ),
        m(
            r"\b\d[\d,]*\s+bytes(?:\s+\(\d+(?:\.\d+)?\s*[KMGT]?B\))?",
            anything,
            no_word,
            any_text,
        ),
        m(
            r"\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?",
            space_or_end,
            space_or_end,
            any_text,
        ),
        m(
            r"[<>]=?\s?\d+(?:\.\d+)?\s?(?:ns|us|ms|s|sec|secs|min)\b",
            no_word_angle,
            anything,
            any_text,
        ),
        Mask {
            keep_first_word: true,
            ..m(
                r"(?:GET|POST|PUT|DELETE|HEAD|PATCH|OPTIONS) \S+ HTTP/\d(?:\.\d)?",
                quote,
                quote,
                any_text,
            )
        },
        m(
            r"\w*[A-Za-z_]\d{4,}\w*|\b\d{4,}[A-Za-z_]\w*",
            anything,
            anything,
            any_text,
        ),
        m(r"-\d+(?:\.\d+)?\b", no_word_dash, anything, any_text),
        m(
            r"(?:\d{1,3}\.){3}\d{1,3}(?::\d+)?",
            no_word_dot,
            no_word_dot,
            any_text,
        ),
        m(
            r"(?:[0-9a-fA-F]{1,4}:){3,7}[0-9a-fA-F]{1,4}",
            no_word_colon,
            no_word_colon,
            has_hex_letter,
        ),
        m(r"\b0[xX][0-9a-fA-F]+\b", anything, anything, any_text),
        m(r"\b[0-9a-fA-F]+\b", anything, anything, hex_id),
        m(
            r"\b\d+(?:\.\d+)?(?:ns|us|ms|s|sec|secs|m|min|mins|h|hr|hrs|d|[kKMGTP]i?B|B|[kKMG]?bps|[kMG]?Hz)\b",
            anything,
            anything,
            any_text,
        ),
    ]
});

/// `text` with one mask applied.
fn apply<'a>(mask: &Mask, text: Cow<'a, str>) -> Cow<'a, str> {
    let mut out = String::new();
    let mut last = 0;
    for m in mask.regex.find_iter(&text) {
        let before = text[..m.start()].chars().next_back();
        let after = text[m.end()..].chars().next();
        if (mask.after)(before) && (mask.before)(after) && (mask.accept)(m.as_str()) {
            out.push_str(&text[last..m.start()]);
            if mask.keep_first_word {
                let word = m.as_str().split(' ').next().unwrap_or_default();
                out.push_str(word);
                out.push(' ');
            }
            out.push_str(WILDCARD);
            last = m.end();
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
    let mut text = Cow::Borrowed(content);
    for mask in MASKS.iter() {
        text = apply(mask, text);
    }
    template_rules(&text)
}

/// Delimiters of path-like strings (Khan et al.'s PS rule).
fn path_delimiter(c: char) -> bool {
    c.is_whitespace() || ",!;:=|\"'[](){}".contains(c)
}

/// Delimiters of tokens for the other rules.
fn token_delimiter(c: char) -> bool {
    path_delimiter(c) || ".-+@#$%&".contains(c)
}

/// `/a/b`: one or more `/` each followed by something that is not a `/`.
fn is_path(s: &str) -> bool {
    s.starts_with('/') && s[1..].split('/').all(|p| !p.is_empty())
}

/// Splits `text` at every `delimiter` character, keeping the delimiters, and hands each
/// piece between delimiters to `f`.
fn rewrite(text: &str, delimiter: fn(char) -> bool, f: impl Fn(&str) -> bool) -> String {
    let mut out = String::with_capacity(text.len());
    let mut start = 0;
    let piece = |out: &mut String, p: &str| {
        if !p.is_empty() && f(p) {
            out.push_str(WILDCARD);
        } else {
            out.push_str(p);
        }
    };
    for (i, c) in text.char_indices() {
        if delimiter(c) {
            piece(&mut out, &text[start..i]);
            out.push(c);
            start = i + c.len_utf8();
        }
    }
    piece(&mut out, &text[start..]);
    out
}

/// Khan et al.'s template rules (logpai's `correct_single_template`): white space runs
/// become one space (DS); a path-like string becomes `<*>` (PS); `true`, `false`,
/// `null`, `root` and `admin` (BL, US), a run of digits (DG) and a token holding a `<*>`
/// without a `/` (WV) become `<*>`; `<*>.<*>` (DV) and `<*><*>` (CV) become one.
pub fn template_rules(text: &str) -> String {
    let mut spaced = String::with_capacity(text.len());
    for t in text.split(char::is_whitespace).filter(|t| !t.is_empty()) {
        if !spaced.is_empty() {
            spaced.push(' ');
        }
        spaced.push_str(t);
    }
    let pathless = rewrite(&spaced, path_delimiter, is_path);
    let mut t = rewrite(&pathless, token_delimiter, |p| {
        ["true", "false", "null", "root", "admin"]
            .iter()
            .any(|w| p.eq_ignore_ascii_case(w))
            || p.chars().all(|c| c.is_numeric())
            || (p.contains(WILDCARD) && !p.contains('/'))
    });
    for pair in ["<*>.<*>", "<*><*>"] {
        while t.contains(pair) {
            t = t.replace(pair, WILDCARD);
        }
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_see_values_across_punctuation() {
        assert_eq!(
            preprocess("connection from 1.2.3.4 (a.b.example) at Sun Jul  3 23:59:59 2005"),
            "connection from <*> (a.b.example) at <*>"
        );
        assert_eq!(
            preprocess(
                "proxy.cse.cuhk.edu.hk:5070 close, 1190 bytes (1.16 KB) sent, lifetime 00:01"
            ),
            "<*> close, <*> sent, lifetime <*>"
        );
        assert_eq!(
            preprocess("lifetime <1 sec; Old: msra-sa-41/10.190.173.170:9000 New: msra-sa-41:8030"),
            "lifetime <*>; Old: <*> New: <*>"
        );
        assert_eq!(
            preprocess(r#"10.11.10.1 "GET /v2/54fadb/servers/detail HTTP/1.1" status: 200"#),
            r#"<*> "GET <*>" status: <*>"#
        );
        assert_eq!(
            preprocess(
                "[instance: b9000564-fe1a-409b-b8cc-1e88b294cd1d] IPV6 Addr: fe80:0:0:0:c6b3:1ff:fecd:467f"
            ),
            "[instance: <*>] IPV6 Addr: <*>"
        );
        assert_eq!(
            preprocess("lease for [DFSClient_NONMAPREDUCE_1537864556_1] vCores:-27 flags=0x1"),
            "lease for [<*>] vCores:<*> flags=<*>"
        );
        // Words with a digit or two stay: they are names, not values.
        assert_eq!(
            preprocess("via interface eth1 ssh2 x86"),
            "via interface eth1 ssh2 x86"
        );
        // Ids without a digit, numbers with a unit.
        assert_eq!(
            preprocess("req-abdbebbb took 18ms, wrote 4GB at 3.5Mbps"),
            "req-<*> took <*>, wrote <*> at <*>"
        );
    }

    #[test]
    fn template_rules_follow_loghubs_corrections() {
        assert_eq!(
            template_rules("uid=0  euid=500 tty=NODEVssh"),
            "uid=<*> euid=<*> tty=NODEVssh"
        );
        assert_eq!(
            template_rules("open /var/log/messages as root: true"),
            "open <*> as <*>: <*>"
        );
        assert_eq!(
            template_rules("node-129 blk_<*> core.<*>.<*>"),
            "node-<*> <*> core.<*>"
        );
        assert_eq!(template_rules("<*><*> took <*>.<*>s"), "<*> took <*>");
        assert_eq!(template_rules("a//b /a/ /a/b/c"), "a//b /a/ <*>");
    }
}
