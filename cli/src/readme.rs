//! The README's command examples, as argument lists a binary's own parser must accept: so
//! a flag renamed or dropped fails a test instead of leaving the README wrong (issue 18).

/// Splits a shell line into words (single and double quotes, backslash escapes); a `#`
/// starting a word outside quotes begins a comment.
fn words(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut chars = line.chars().peekable();
    let mut quote: Option<char> = None;
    while let Some(c) = chars.next() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some('"'), '\\') => {
                if let Some(n) = chars.next() {
                    cur.push(n);
                }
            }
            (Some(_), c) => cur.push(c),
            (None, '\'' | '"') => {
                quote = Some(c);
                in_word = true;
            }
            (None, '\\') => {
                if let Some(n) = chars.next() {
                    cur.push(n);
                    in_word = true;
                }
            }
            (None, c) if c.is_whitespace() => {
                if in_word {
                    out.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            (None, '#') if !in_word => break,
            (None, c) => {
                cur.push(c);
                in_word = true;
            }
        }
    }
    if in_word {
        out.push(cur);
    }
    out
}

/// The command lines of the README's `sh` blocks (continuation lines joined).
fn lines(readme: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut in_block = false;
    let mut pending = String::new();
    for line in readme.lines() {
        if line.trim_start().starts_with("```") {
            in_block = !in_block && line.trim_start().starts_with("```sh");
            continue;
        }
        if !in_block {
            continue;
        }
        match line.strip_suffix('\\') {
            Some(head) => {
                pending.push_str(head);
                pending.push(' ');
            }
            None => {
                pending.push_str(line);
                out.push(std::mem::take(&mut pending));
            }
        }
    }
    out
}

/// One optional group's alternatives (`[--a x | --b]` → `[["--a", "x"], ["--b"]]`).
fn alternatives(group: &[String]) -> Vec<Vec<String>> {
    let mut alts = vec![Vec::new()];
    for w in group {
        if w == "|" {
            alts.push(Vec::new());
        } else {
            alts.last_mut().expect("one").push(w.clone());
        }
    }
    alts
}

/// A word's first choice (`likelihood|raw` → `likelihood`).
fn first_choice(w: &str) -> String {
    w.split('|').next().unwrap_or(w).to_string()
}

/// Every README command of `program` as argument lists (without the program's name): once
/// without its optional `[…]` parts, once with each part's first alternative. Each comes
/// with the README line it was read from.
pub fn readme_commands(readme: &str, program: &str) -> Vec<(String, Vec<String>)> {
    let mut out = Vec::new();
    for line in lines(readme) {
        let all = words(&line);
        // The command ends where the shell would start another (`|`, `&&`, `;`, `>`).
        let mut ws: Vec<String> = Vec::new();
        for w in all {
            if matches!(w.as_str(), "&&" | ";" | ">" | ">>" | "2>") {
                break;
            }
            ws.push(w);
        }
        if ws.first().map(String::as_str) != Some(program) {
            continue;
        }
        let mut plain = Vec::new();
        let mut full = Vec::new();
        let mut i = 1;
        while i < ws.len() {
            let w = &ws[i];
            if let Some(start) = w.strip_prefix('[') {
                let mut group = Vec::new();
                let mut rest = start.to_string();
                loop {
                    if let Some(last) = rest.strip_suffix(']') {
                        if !last.is_empty() {
                            group.push(last.to_string());
                        }
                        break;
                    }
                    group.push(rest.clone());
                    i += 1;
                    match ws.get(i) {
                        Some(next) => rest = next.clone(),
                        None => break,
                    }
                }
                let first = alternatives(&group).remove(0);
                full.extend(first.iter().map(|w| first_choice(w)));
            } else if w == "|" {
                break; // a pipe outside a group
            } else {
                plain.push(w.clone());
                full.push(w.clone());
            }
            i += 1;
        }
        let with_options = full != plain;
        out.push((line.trim().to_string(), plain));
        if with_options {
            out.push((line.trim().to_string(), full));
        }
    }
    out
}

/// A test, in the binary it is called from, that its `Cli` parses every README example of
/// `program`: `vigil_cli::readme_examples_parse!(Cli, "detector");`.
#[macro_export]
macro_rules! readme_examples_parse {
    ($cli:ident, $program:literal) => {
        #[cfg(test)]
        mod readme_tests {
            /// Issue 18: the README's examples of this program parse with its flags.
            #[test]
            fn every_readme_example_parses() {
                use ::clap::Parser;
                let readme = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md"));
                let commands = $crate::readme::readme_commands(readme, $program);
                assert!(!commands.is_empty(), "no README example of {}", $program);
                for (line, args) in commands {
                    let argv = std::iter::once($program.to_string()).chain(args.clone());
                    if let Err(e) = super::$cli::try_parse_from(argv) {
                        panic!("README: `{line}` ({args:?}) does not parse:\n{e}");
                    }
                }
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn optional_groups_give_a_plain_and_a_full_command() {
        let readme = "text\n```sh\ndetector metrics -i a.csv \\\n  [--score likelihood|raw] [--range-tolerance 0.05 | --no-range] # a comment\ntrainer x\n```\n```\ndetector not-a-shell-block\n```\n";
        let c = readme_commands(readme, "detector");
        assert_eq!(c.len(), 2);
        assert_eq!(c[0].1, ["metrics", "-i", "a.csv"]);
        assert_eq!(
            c[1].1,
            [
                "metrics",
                "-i",
                "a.csv",
                "--score",
                "likelihood",
                "--range-tolerance",
                "0.05"
            ]
        );
        assert_eq!(
            words(r#"a 'b c' "d \"e\"" f\ g # h"#),
            ["a", "b c", "d \"e\"", "f g"]
        );
    }
}
