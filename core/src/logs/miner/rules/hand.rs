//! Three masks by hand, exactly as their regexes match: each finder gives the regex's
//! next match at or after a byte offset, as `find_at` would (the masks run on most lines,
//! and a regex costs its compiling and its warming up in every process). The regexes stay
//! beside them in the mask table, as the reference the tests compare with.

/// The ASCII digits from `i` on.
fn digits_at(t: &[u8], i: usize) -> usize {
    t.get(i..)
        .map_or(0, |r| r.iter().take_while(|c| c.is_ascii_digit()).count())
}

/// A word character at `i` (`(?-u:\b)`'s: ASCII letters, digits, `_`).
fn word_at(t: &[u8], i: usize) -> bool {
    t.get(i).is_some_and(|&c| super::word(c as char))
}

/// `-[0-9]+(?:\.[0-9]+)?(?-u:\b)`.
pub(super) fn find_negative(t: &[u8], from: usize) -> Option<(usize, usize)> {
    let mut s = from;
    while let Some(at) = t.get(s..)?.iter().position(|&c| c == b'-') {
        s += at;
        let whole = digits_at(t, s + 1);
        if whole > 0 {
            let end = s + 1 + whole;
            if t.get(end) == Some(&b'.') {
                let fraction = digits_at(t, end + 1);
                if fraction > 0 && !word_at(t, end + 1 + fraction) {
                    return Some((s, end + 1 + fraction));
                }
            }
            if !word_at(t, end) {
                return Some((s, end));
            }
        }
        s += 1;
    }
    None
}

/// `(?:[0-9]{1,3}\.){3}[0-9]{1,3}(?::[0-9]+)?`.
pub(super) fn find_ipv4(t: &[u8], from: usize) -> Option<(usize, usize)> {
    let at = |s: usize| {
        let mut i = s;
        for _ in 0..3 {
            // A group ends at a dot, so it holds the whole digit run.
            let d = digits_at(t, i);
            if !(1..=3).contains(&d) || t.get(i + d) != Some(&b'.') {
                return None;
            }
            i += d + 1;
        }
        let d = digits_at(t, i).min(3);
        if d == 0 {
            return None;
        }
        i += d;
        if t.get(i) == Some(&b':') {
            let port = digits_at(t, i + 1);
            if port > 0 {
                i += 1 + port;
            }
        }
        Some(i)
    };
    first_at_digit(t, from, at)
}

/// `[0-9]{1,2}:[0-9]{2}(?::[0-9]{2}(?:[.,][0-9]+)?)?`.
pub(super) fn find_clock(t: &[u8], from: usize) -> Option<(usize, usize)> {
    let two = |i: usize| digits_at(t, i) >= 2;
    let at = |s: usize| {
        let hours = if t.get(s + 1).is_some_and(u8::is_ascii_digit) {
            2
        } else {
            1
        };
        let mut i = s + hours;
        if t.get(i) != Some(&b':') || !two(i + 1) {
            return None;
        }
        i += 3;
        if t.get(i) == Some(&b':') && two(i + 1) {
            i += 3;
            if matches!(t.get(i), Some(b'.' | b',')) {
                let f = digits_at(t, i + 1);
                if f > 0 {
                    i += 1 + f;
                }
            }
        }
        Some(i)
    };
    first_at_digit(t, from, at)
}

/// The first match from `from` on that starts at a digit, `at` giving where a match
/// starting there ends.
fn first_at_digit(
    t: &[u8],
    from: usize,
    at: impl Fn(usize) -> Option<usize>,
) -> Option<(usize, usize)> {
    (from..t.len()).find_map(|s| {
        if t[s].is_ascii_digit() {
            at(s).map(|e| (s, e))
        } else {
            None
        }
    })
}
