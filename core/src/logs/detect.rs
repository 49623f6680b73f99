//! Finding a log's header format from its first lines (`--format auto`, the default).
//!
//! Each candidate of [`CANDIDATES`] (the generator's format, log4j/logback layouts, HDFS,
//! syslog, ISO timestamps with a level, …) is tried on a sample of the file's first
//! non-empty lines; a line counts for a candidate only when it fits the format *and* its
//! fields look like what they name (a `<Level>` is a log level, a `<Date>` a date, a
//! `<Time>` a time of day, a `<Timestamp>` a full time, a `<Month>` a month, a `<Pid>` a
//! number). The candidate that fits the most lines wins (the first listed on a tie); if
//! none fits at least `MIN_SHARE` of them, the whole line is the content (`<Content>`).

use std::path::Path;

use super::format::LogFormat;
use super::structured;
use super::{Error, LogReader};

/// The format name that asks for detection.
pub const AUTO: &str = "auto";

/// Formats tried, most specific first.
pub const CANDIDATES: [&str; 16] = [
    "<Timestamp> <Host> <Level> <Component>: <Content>",
    "<Date> <Time> <Level> [<Thread>] <Component>: <Content>",
    "<Date> <Time> <Level> [<Thread>] <Content>",
    "<Date> <Time> [<Thread>] <Level> <Component> - <Content>",
    "<Date> <Time> <Pid> <Level> <Component>: <Content>",
    "<Date> <Time> <Level> <Component>: <Content>",
    "<Date> <Time> <Level> <Content>",
    "<Timestamp> <Level> [<Thread>] <Content>",
    "<Timestamp> <Level> <Component>: <Content>",
    "<Timestamp> <Level> <Content>",
    "<Month> <Day> <Time> <Host> <Component>[<Pid>]: <Content>",
    "<Month> <Day> <Time> <Host> <Component>: <Content>",
    "<Timestamp> <Host> <Component>[<Pid>]: <Content>",
    "<Timestamp> <Host> <Component>: <Content>",
    "<Timestamp> <Content>",
    "<Date> <Time> <Content>",
];

/// Non-empty lines sampled from the start of the file.
pub const SAMPLE_LINES: usize = 500;
/// A candidate must fit at least this share of them.
pub const MIN_SHARE: f64 = 0.5;

/// What detection chose.
#[derive(Debug, Clone, PartialEq)]
pub struct Detected {
    pub format: String,
    /// Sampled lines the format fits, and lines sampled.
    pub fitted: usize,
    pub sampled: usize,
}

const LEVELS: [&str; 16] = [
    "TRACE",
    "DEBUG",
    "FINE",
    "INFO",
    "INFORMATION",
    "NOTICE",
    "WARN",
    "WARNING",
    "ERROR",
    "ERR",
    "SEVERE",
    "CRITICAL",
    "CRIT",
    "FATAL",
    "ALERT",
    "EMERG",
];
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

fn is_date(v: &str) -> bool {
    let digits = v.chars().filter(char::is_ascii_digit).count();
    let seps = v.chars().filter(|c| matches!(c, '-' | '/' | '.')).count();
    v.chars()
        .all(|c| c.is_ascii_digit() || matches!(c, '-' | '/' | '.'))
        && ((digits == 6 && seps == 0) || ((6..=8).contains(&digits) && seps == 2))
}

fn is_time(v: &str) -> bool {
    let (clock, _fraction) = v.split_once([',', '.']).unwrap_or((v, ""));
    let parts: Vec<&str> = clock.split(':').collect();
    (parts.len() == 3
        && parts
            .iter()
            .all(|p| p.len() == 2 && p.chars().all(|c| c.is_ascii_digit())))
        || (parts.len() == 1 && clock.len() == 6 && clock.chars().all(|c| c.is_ascii_digit()))
}

/// Whether a field's value looks like what the field names.
fn plausible(field: &str, v: &str) -> bool {
    match field {
        "Content" => true,
        "Level" => LEVELS.iter().any(|l| l.eq_ignore_ascii_case(v)),
        "Date" => is_date(v),
        "Time" => is_time(v),
        // A bare integer is a time only with unix seconds' 9–10 digits (not a counter).
        "Timestamp" => {
            let digits = v.chars().all(|c| c.is_ascii_digit());
            (!digits || (9..=10).contains(&v.len())) && crate::time::parse_timestamp(v).is_ok()
        }
        "Month" => MONTHS.contains(&v),
        "Day" => v.parse::<u32>().is_ok_and(|d| (1..=31).contains(&d)),
        "Pid" => !v.is_empty() && v.chars().all(|c| c.is_ascii_digit()),
        // Hosts, components, threads: a word of some sort.
        _ => {
            !v.is_empty() && !v.contains(char::is_whitespace) || field == "Thread" && !v.is_empty()
        }
    }
}

/// The best candidate for `lines` (see the module's doc).
pub fn detect(lines: &[&str]) -> Detected {
    let lines: Vec<&str> = lines
        .iter()
        .copied()
        .filter(|l| !l.trim().is_empty())
        .collect();
    // Records first: a JSON object or logfmt pairs per line.
    for (format, fits) in [
        ("json", structured::looks_like_json as fn(&str) -> bool),
        ("logfmt", structured::looks_like_logfmt),
    ] {
        let fitted = lines.iter().filter(|l| fits(l)).count();
        if !lines.is_empty() && fitted as f64 >= MIN_SHARE * lines.len() as f64 {
            return Detected {
                format: format.into(),
                fitted,
                sampled: lines.len(),
            };
        }
    }
    let mut best = Detected {
        format: "<Content>".into(),
        fitted: 0,
        sampled: lines.len(),
    };
    for candidate in CANDIDATES {
        let Ok(format) = LogFormat::new(candidate) else {
            continue;
        };
        let fitted = lines
            .iter()
            .filter(|l| {
                format.split(l).is_some_and(|values| {
                    format
                        .fields()
                        .iter()
                        .zip(&values)
                        .all(|(f, v)| plausible(f, v))
                })
            })
            .count();
        if fitted > best.fitted {
            best = Detected {
                format: candidate.to_string(),
                fitted,
                sampled: lines.len(),
            };
        }
    }
    if (best.fitted as f64) < MIN_SHARE * best.sampled as f64 {
        best.format = "<Content>".into();
    }
    best
}

/// `format` itself, or for [`AUTO`] the format detected on the first lines of `path`.
pub fn resolve(
    format: &str,
    path: &Path,
    max_line_bytes: usize,
) -> Result<(String, Option<Detected>), Error> {
    if format != AUTO {
        return Ok((format.to_string(), None));
    }
    let mut reader = LogReader::open(path, max_line_bytes)?;
    let mut sample = Vec::new();
    while sample.len() < SAMPLE_LINES {
        match reader.next_line()? {
            Some((_, line)) if !line.trim().is_empty() => sample.push(line.to_string()),
            Some(_) => {}
            None => break,
        }
    }
    let refs: Vec<&str> = sample.iter().map(String::as_str).collect();
    let d = detect(&refs);
    Ok((d.format.clone(), Some(d)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn detected(text: &str) -> String {
        let lines: Vec<&str> = text.lines().collect();
        detect(&lines).format
    }

    #[test]
    fn common_headers_are_recognised() {
        assert_eq!(
            detected(
                "2026-01-26T00:05:41.180Z lb-1 INFO haproxy: req-3b33478e routed to backend web-2\n"
            ),
            CANDIDATES[0]
        );
        assert_eq!(
            detected(
                "2024-03-01 10:11:12,345 INFO [main] Starting service\n\
                 2024-03-01 10:11:13,001 WARN [pool-1-thread-3] slow call to db took 812 ms\n"
            ),
            "<Date> <Time> <Level> [<Thread>] <Content>"
        );
        assert_eq!(
            detected(
                "081109 203615 148 INFO dfs.DataNode$PacketResponder: PacketResponder 1 for block blk_38865049064139660 terminating\n"
            ),
            "<Date> <Time> <Pid> <Level> <Component>: <Content>"
        );
        assert_eq!(
            detected("Jun 14 15:16:01 combo sshd(pam_unix)[19939]: check pass; user unknown\n"),
            "<Month> <Day> <Time> <Host> <Component>[<Pid>]: <Content>"
        );
        assert_eq!(
            detected("2024-03-01T10:11:12Z ERROR connection reset by peer\n"),
            "<Timestamp> <Level> <Content>"
        );
    }

    #[test]
    fn json_lines_and_logfmt_are_recognised() {
        assert_eq!(
            detected("{\"ts\": 1, \"msg\": \"up\"}\n{\"ts\": 2, \"msg\": \"down\"}\n"),
            "json"
        );
        assert_eq!(
            detected(
                "time=2026-01-01T00:00:00Z level=info msg=\"started\"\nts=2 level=warn msg=slow\n"
            ),
            "logfmt"
        );
        // Pairs inside a text line are not logfmt.
        assert_ne!(
            detected("2024-03-01T10:11:12Z ERROR user=ann id=3 failed\n"),
            "logfmt"
        );
    }

    #[test]
    fn lines_that_fit_nothing_are_content_and_a_minority_does_not_decide() {
        assert_eq!(
            detected("hello world\nanother free text line\n"),
            "<Content>"
        );
        // One syslog line among free text: under half fits.
        assert_eq!(
            detected("Jun 14 15:16:01 combo sshd[1]: x\nfree text\nmore free text\n"),
            "<Content>"
        );
        // A level that is not a level does not fit.
        assert_ne!(
            detected("2024-03-01 10:11:12 hello [main] world\n"),
            "<Date> <Time> <Level> [<Thread>] <Content>"
        );
    }
}
