//! Splitting a log line's header from its content.
//!
//! A format names the fields in angle brackets, `<Date> <Time> <Level> <Component>:
//! <Content>`, as logparser's `generate_logformat_regex` reads it: each field matches as
//! little as it can (`.*?`), a run of spaces matches any white space, and the text between
//! fields is a regular expression (so `\[<Pid>\]` and `(\[<Pid>\])?` work; a plain
//! `[<Thread>]` means literal brackets, as a user writes it). `<Content>` is the part that
//! templates are mined from.

use std::borrow::Cow;
use std::fmt;

use regex::Regex;
use serde::{Deserialize, Serialize};

use super::structured::{self, Record, Structured};
use super::{Error, is_space};

/// The format of the generator's `logs.log`:
/// `2026-01-26T00:05:41.180Z lb-1 INFO haproxy: req-3b33478e routed to backend web-2`.
pub const VIGIL_FORMAT: &str = "<Timestamp> <Host> <Level> <Component>: <Content>";

/// The content field every format must have.
pub const CONTENT: &str = "Content";

/// A checked log format.
#[derive(Clone)]
pub struct LogFormat {
    source: String,
    fields: Vec<String>,
    /// Capture group of each field.
    groups: Vec<usize>,
    content: usize,
    /// `None` for `<Content>` alone: the whole line is the content.
    regex: Option<Regex>,
    /// The same pattern for the direct matcher, when its literal text is plain.
    program: Option<Vec<Item>>,
    /// `json` or `logfmt`: the line is a record, not a header and a content.
    structured: Option<Structured>,
}

/// What one line is to a format.
#[derive(Debug, PartialEq)]
pub enum Line<'a> {
    /// The field values in format order.
    Fields(Vec<Cow<'a, str>>),
    /// The header does not fit the format.
    Unfit,
    /// A structured line the filter let through nothing of.
    Filtered,
    /// A structured line that is not one (not JSON, a logfmt quote never closed): why.
    Malformed(String),
}

/// A step of the direct matcher: the format's pattern without a regex engine.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Item {
    /// One literal character.
    Char(char),
    /// `\s+`, greedy.
    Spaces,
    /// `(?P<field>.*?)`, lazy: the field with this index.
    Field(usize),
}

impl LogFormat {
    /// A header format (`<Date> <Time> <Level> <Content>`), or `json` / `logfmt` with
    /// optional field paths (`json:message=log.text,time=ts`; see [`structured`]).
    pub fn new(format: &str) -> Result<LogFormat, Error> {
        if let Some(s) = Structured::parse(format) {
            return Ok(LogFormat {
                source: format.to_string(),
                fields: structured::FIELDS.iter().map(|f| f.to_string()).collect(),
                groups: Vec::new(),
                content: structured::CONTENT_INDEX,
                regex: None,
                program: None,
                structured: Some(s?),
            });
        }
        let err = |message: String| Error::Format {
            format: format.to_string(),
            message,
        };
        let source = format;
        let bracketed = literal_brackets(format);
        let format = bracketed.as_str();
        let mut pattern = String::from("^");
        let mut program = Some(Vec::new());
        let mut fields = Vec::new();
        let mut rest = format;
        while let Some(open) = rest.find('<') {
            let Some(close) = rest[open..].find('>').map(|c| open + c) else {
                break;
            };
            let name = &rest[open + 1..close];
            if name.contains('<') {
                // `<` inside the literal text: keep it literal and look further on.
                push_literal(&mut pattern, &mut program, &rest[..open + 1]);
                rest = &rest[open + 1..];
                continue;
            }
            if !is_field_name(name) {
                return Err(err(format!(
                    "<{name}> is not a field name: use letters, digits and _"
                )));
            }
            if fields.iter().any(|f| f == name) {
                return Err(err(format!("<{name}> appears twice")));
            }
            push_literal(&mut pattern, &mut program, &rest[..open]);
            pattern.push_str(&format!("(?P<{name}>.*?)"));
            if let Some(p) = program.as_mut() {
                p.push(Item::Field(fields.len()));
            }
            fields.push(name.to_string());
            rest = &rest[close + 1..];
        }
        push_literal(&mut pattern, &mut program, rest);
        pattern.push('$');
        let content = fields
            .iter()
            .position(|f| f == CONTENT)
            .ok_or_else(|| err("it has no <Content> field".into()))?;
        if fields.len() == 1 && format == "<Content>" {
            return Ok(LogFormat {
                source: source.to_string(),
                fields,
                groups: vec![0],
                content,
                regex: None,
                program: None,
                structured: None,
            });
        }
        let regex = Regex::new(&pattern).map_err(|e| err(e.to_string()))?;
        let groups = fields
            .iter()
            .map(|f| {
                regex
                    .capture_names()
                    .position(|n| n == Some(f.as_str()))
                    .ok_or_else(|| err(format!("<{f}> is inside a literal group")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(LogFormat {
            source: source.to_string(),
            fields,
            groups,
            content,
            regex: Some(regex),
            program,
            structured: None,
        })
    }

    /// The format `<Content>`: the whole line is the content.
    pub fn content_only() -> LogFormat {
        LogFormat {
            source: "<Content>".into(),
            fields: vec![CONTENT.into()],
            groups: vec![0],
            content: 0,
            regex: None,
            program: None,
            structured: None,
        }
    }

    /// With the jq program `filter` run on each line first (structured formats only).
    pub fn with_filter(mut self, filter: Option<&str>) -> Result<LogFormat, Error> {
        let Some(code) = filter else { return Ok(self) };
        match self.structured.take() {
            Some(s) => {
                self.structured = Some(s.with_filter(code)?);
                Ok(self)
            }
            None => Err(Error::Filter {
                filter: crate::error::clip(code),
                message: format!(
                    "a jq filter reads JSON lines or logfmt, and the format is {:?} (use --format json or logfmt)",
                    self.source
                ),
            }),
        }
    }

    /// Whether lines are records (JSON, logfmt) rather than a header and a content.
    pub fn is_structured(&self) -> bool {
        self.structured.is_some()
    }

    /// What `line` is to this format: its fields, or why it has none.
    pub fn line<'a>(&self, line: &'a str) -> Line<'a> {
        match &self.structured {
            Some(s) => match s.record(line) {
                Record::Fields(f) => Line::Fields(f.into_iter().map(Cow::Owned).collect()),
                Record::Filtered => Line::Filtered,
                Record::Malformed(m) => Line::Malformed(m),
            },
            None => match self.split(line) {
                Some(f) => Line::Fields(f.into_iter().map(Cow::Borrowed).collect()),
                None => Line::Unfit,
            },
        }
    }

    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// The field names in format order, `Content` included.
    pub fn fields(&self) -> &[String] {
        &self.fields
    }

    pub fn field_index(&self, name: &str) -> Option<usize> {
        self.fields.iter().position(|f| f == name)
    }

    pub fn content_index(&self) -> usize {
        self.content
    }

    /// The line's field values in format order (an optional field that is absent is
    /// empty), or `None` when the line does not fit the format. Surrounding white space
    /// is ignored, as logparser strips each line. Header formats only: [`LogFormat::line`]
    /// reads structured lines too.
    pub fn split<'a>(&self, line: &'a str) -> Option<Vec<&'a str>> {
        if self.structured.is_some() {
            return None;
        }
        let line = line.trim_matches(is_space);
        let Some(regex) = &self.regex else {
            return Some(vec![line]);
        };
        if let Some(program) = &self.program {
            let mut spans = vec![(0, 0); self.fields.len()];
            let mut budget = 64 * (line.len() + 16);
            match run(program, line, 0, 0, &mut spans, &mut budget) {
                Some(true) => return Some(spans.iter().map(|&(a, b)| &line[a..b]).collect()),
                Some(false) => return None,
                None => {} // Too much backtracking: let the regex engine decide.
            }
        }
        let caps = regex.captures(line)?;
        Some(
            self.groups
                .iter()
                .map(|&g| caps.get(g).map_or("", |m| m.as_str()))
                .collect(),
        )
    }

    /// [`LogFormat::split`] by the regex engine alone (tests compare the two).
    #[cfg(test)]
    fn split_by_regex<'a>(&self, line: &'a str) -> Option<Vec<&'a str>> {
        let line = line.trim_matches(is_space);
        let caps = self.regex.as_ref()?.captures(line)?;
        Some(
            self.groups
                .iter()
                .map(|&g| caps.get(g).map_or("", |m| m.as_str()))
                .collect(),
        )
    }
}

/// `[<Field>]` as the user means it: literal brackets around a field (`\[<Field>\]` in
/// the regex text), where a regex would read a character class. Escaped brackets and
/// brackets around anything else stay as they are.
fn literal_brackets(format: &str) -> String {
    let mut out = String::with_capacity(format.len() + 8);
    let mut rest = format;
    while let Some(i) = rest.find("[<") {
        let escaped = rest[..i].ends_with('\\');
        let after = &rest[i + 2..];
        let field = after
            .find(">]")
            .map(|j| &after[..j])
            .filter(|name| !escaped && is_field_name(name));
        match field {
            Some(name) => {
                out.push_str(&rest[..i]);
                out.push_str(&format!("\\[<{name}>\\]"));
                rest = &after[name.len() + 2..];
            }
            None => {
                out.push_str(&rest[..i + 1]);
                rest = &rest[i + 1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// Matches `program[pc..]` against `line[pos..]` to the end of the line, as a backtracking
/// regex engine would match the format's pattern: fields as short as possible, white space
/// runs as long as possible, the first success wins. Records field spans; `None` when the
/// budget of steps runs out.
///
/// The regex engine does the same work, but its bounded backtracker over a pattern of many
/// lazy groups was 60 % of `detector parse`'s time.
fn run(
    program: &[Item],
    line: &str,
    pc: usize,
    pos: usize,
    spans: &mut [(usize, usize)],
    budget: &mut usize,
) -> Option<bool> {
    *budget = budget.checked_sub(1)?;
    let rest = &line[pos..];
    let Some(&item) = program.get(pc) else {
        return Some(rest.is_empty());
    };
    match item {
        Item::Char(c) => match rest.strip_prefix(c) {
            Some(_) => run(program, line, pc + 1, pos + c.len_utf8(), spans, budget),
            None => Some(false),
        },
        Item::Spaces => {
            let mut end = line.len() - rest.trim_start_matches(char::is_whitespace).len();
            while end > pos {
                if run(program, line, pc + 1, end, spans, budget)? {
                    return Some(true);
                }
                end = line[..end]
                    .char_indices()
                    .next_back()
                    .map_or(pos, |(i, _)| i);
            }
            Some(false)
        }
        Item::Field(f) => {
            if pc + 1 == program.len() {
                spans[f] = (pos, line.len());
                return Some(true);
            }
            // Only where the next step can match: at each occurrence of its character, at
            // each white space, or (a field next) anywhere.
            let mut at = 0;
            loop {
                let found = match program[pc + 1] {
                    Item::Char(c) => rest[at..].find(c),
                    Item::Spaces => rest[at..].find(char::is_whitespace),
                    Item::Field(_) => (at <= rest.len()).then_some(0),
                };
                let Some(offset) = found else {
                    break;
                };
                let end = pos + at + offset;
                spans[f] = (pos, end);
                if run(program, line, pc + 1, end, spans, budget)? {
                    return Some(true);
                }
                match line[end..].chars().next() {
                    Some(c) => at = end - pos + c.len_utf8(),
                    None => break,
                }
            }
            Some(false)
        }
    }
}

impl fmt::Debug for LogFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("LogFormat").field(&self.source).finish()
    }
}

impl PartialEq for LogFormat {
    fn eq(&self, other: &Self) -> bool {
        self.source == other.source
    }
}

impl Serialize for LogFormat {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.source)
    }
}

impl<'de> Deserialize<'de> for LogFormat {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        LogFormat::new(&text).map_err(serde::de::Error::custom)
    }
}

/// The text between fields: runs of spaces match any white space; the rest is a regex.
/// `program` gets the same text as direct matcher steps, or becomes `None` when the text
/// uses regex syntax beyond escaped punctuation.
fn push_literal(pattern: &mut String, program: &mut Option<Vec<Item>>, literal: &str) {
    let mut in_spaces = false;
    for c in literal.chars() {
        if c == ' ' {
            if !in_spaces {
                pattern.push_str(r"\s+");
            }
            in_spaces = true;
        } else {
            pattern.push(c);
            in_spaces = false;
        }
    }
    let Some(p) = program.as_mut() else {
        return;
    };
    let mut chars = literal.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            ' ' => {
                while chars.peek() == Some(&' ') {
                    chars.next();
                }
                p.push(Item::Spaces);
            }
            '\\' => match chars.next() {
                Some(e) if e.is_ascii_punctuation() => p.push(Item::Char(e)),
                _ => {
                    *program = None;
                    return;
                }
            },
            '.' | '^' | '$' | '*' | '+' | '?' | '(' | ')' | '[' | ']' | '{' | '}' | '|' => {
                *program = None;
                return;
            }
            c => p.push(Item::Char(c)),
        }
    }
}

fn is_field_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn brackets_around_a_field_are_literal_as_a_user_writes_them() {
        let plain = LogFormat::new("<Date> <Time> <Level> [<Thread>] <Content>").unwrap();
        let escaped = LogFormat::new(r"<Date> <Time> <Level> \[<Thread>\] <Content>").unwrap();
        let line = "2024-03-01 10:11:12,345 INFO [pool-1 thread-3] slow call";
        let want = vec![
            "2024-03-01",
            "10:11:12,345",
            "INFO",
            "pool-1 thread-3",
            "slow call",
        ];
        assert_eq!(plain.split(line), Some(want.clone()));
        assert_eq!(escaped.split(line), Some(want));
        assert_eq!(plain.as_str(), "<Date> <Time> <Level> [<Thread>] <Content>");
        // A pid in brackets right after a field, and an optional group, as loghub writes them.
        let syslog =
            LogFormat::new("<Month> <Day> <Time> <Host> <Component>[<Pid>]: <Content>").unwrap();
        assert_eq!(
            syslog
                .split("Jun 14 15:16:01 combo sshd[19939]: check pass")
                .map(|f| f[5]),
            Some("19939")
        );
        let optional = LogFormat::new(r"<Host> <Component>(\[<Pid>\])?: <Content>").unwrap();
        assert_eq!(optional.split("h su: x").map(|f| f[2].len()), Some(0));
    }

    #[test]
    fn splits_the_generators_lines() {
        let f = LogFormat::new(VIGIL_FORMAT).unwrap();
        assert_eq!(
            f.fields(),
            ["Timestamp", "Host", "Level", "Component", "Content"]
        );
        let v = f
            .split(
                "2026-01-26T00:05:41.180Z lb-1 INFO haproxy: req-3b33478e routed to backend web-2",
            )
            .unwrap();
        assert_eq!(
            v,
            [
                "2026-01-26T00:05:41.180Z",
                "lb-1",
                "INFO",
                "haproxy",
                "req-3b33478e routed to backend web-2"
            ]
        );
        assert_eq!(f.content_index(), 4);
        assert_eq!(f.split("no header here"), None);
    }

    #[test]
    fn literal_text_is_a_regex_and_optional_groups_may_be_absent() {
        let f = LogFormat::new(r"<Month> <Date> <Time> <Level> <Component>(\[<PID>\])?: <Content>")
            .unwrap();
        let v = f
            .split("Jun 14 15:16:01 combo sshd(pam_unix)[19939]: authentication failure; x")
            .unwrap();
        assert_eq!(v[4], "sshd(pam_unix)");
        assert_eq!(v[5], "19939");
        assert_eq!(v[6], "authentication failure; x");
        let v = f.split("Jun 14 15:16:01 combo kernel: hello").unwrap();
        assert_eq!((v[4], v[5], v[6]), ("kernel", "", "hello"));
    }

    #[test]
    fn spaces_match_any_white_space_and_lines_are_trimmed() {
        let f = LogFormat::new("<Date> <Time>, <Level>    <Content>").unwrap();
        let v = f
            .split("  2016-09-28 04:30:30, Info\t\t  CBS Loaded x  ")
            .unwrap();
        assert_eq!(v, ["2016-09-28", "04:30:30", "Info", "CBS Loaded x"]);
        assert_eq!(LogFormat::content_only().split(" a  b ").unwrap(), ["a  b"]);
    }

    #[test]
    fn bad_formats_are_refused_with_a_reason() {
        for (format, needle) in [
            ("<Date> <Time>", "no <Content>"),
            ("<Date> <Date> <Content>", "twice"),
            ("<Da te> <Content>", "not a field name"),
            ("<Date> ( <Content>", "unclosed"),
        ] {
            let e = LogFormat::new(format).unwrap_err().to_string();
            assert!(e.contains(needle), "{format}: {e}");
        }
    }

    #[test]
    fn the_direct_matcher_agrees_with_the_regex() {
        use proptest::prelude::*;
        let formats = [
            VIGIL_FORMAT,
            r"<Date> <Time>, <Level>   <Component> <Content>",
            r"\[<Time>\] <Program> - <Content>",
            r"<A>:<B>  <C> \|<Content>\|",
            r"<A><B> x <Content>",
        ];
        for f in formats {
            let format = LogFormat::new(f).unwrap();
            assert!(format.program.is_some(), "{f}");
            proptest!(ProptestConfig::with_cases(2000), |(line in "[ab:|, \\[\\]x\t\u{a0}-]{0,24}")| {
                prop_assert_eq!(format.split(&line), format.split_by_regex(&line), "{} on {:?}", f, line);
            });
        }
        // Regex syntax other than escaped punctuation leaves it to the regex engine.
        let f = LogFormat::new(r"<Month> <Component>(\[<PID>\])?: <Content>").unwrap();
        assert!(f.program.is_none());
    }

    #[test]
    fn serialises_as_its_text() {
        let f = LogFormat::new(VIGIL_FORMAT).unwrap();
        let json = serde_json::to_string(&f).unwrap();
        assert_eq!(json, format!("{VIGIL_FORMAT:?}"));
        assert_eq!(serde_json::from_str::<LogFormat>(&json).unwrap(), f);
    }
}
