//! The rules' tests.

use super::tokens::*;
use super::*;

#[test]
fn masks_see_values_across_punctuation() {
    assert_eq!(
        preprocess("connection from 1.2.3.4 (a.b.example) at Sun Jul  3 23:59:59 2005"),
        "connection from <*> (a.b.example) at <*>"
    );
    assert_eq!(
        preprocess("proxy.cse.cuhk.edu.hk:5070 close, 1190 bytes (1.16 KB) sent, lifetime 00:01"),
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

/// The shortcuts change nothing: on every loghub-2k line (where the benchmark is
/// beside the project) and on lines made of the masks' favourite pieces.
#[test]
fn shortcuts_equal_the_regexes() {
    let dir =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/benchmarks/loghub-2k");
    let mut lines: Vec<String> = Vec::new();
    if let Ok(systems) = std::fs::read_dir(&dir) {
        for s in systems.flatten() {
            let name = s.file_name().to_string_lossy().to_string();
            let log = s.path().join(format!("{name}_2k.log"));
            if let Ok(text) = std::fs::read_to_string(log) {
                lines.extend(text.lines().map(str::to_string));
            }
        }
    }
    let pieces = [
        "0x1F",
        "abdbebbb",
        "ab12",
        "12ab",
        "app_12345",
        "12345x",
        "-7",
        "x-7",
        "1.2.3.4",
        "1.2.3.4:80",
        "a-b:80",
        "fe80::1",
        "fe80:0:0:1",
        "12:30",
        "<1 sec",
        ">5ms",
        "3ms",
        "4GB",
        "bytes",
        "12 bytes",
        "\"GET /a HTTP/1.1\"",
        "Sun Jul 3 23:59:59 2005",
        ":",
        "-",
        ".",
        "<*>",
        "/a/b",
        "true",
        "é1234x",
        "_",
        " ",
        "  ",
        "=",
        "(",
        ")",
        "req-5a24c961",
        "45ms",
        "web-2",
        "user=root",
        "deadbeefcafe",
        "\t",
        "\x0b",
        "12",
        "/api/x",
        "a:b:c:d",
        "Sun",
        "a.b:80",
        "=5",
        "= ",
        " ms",
        "ms",
        "s,",
        "1234",
        "12:345",
        "1.2.3.4567",
        "1.22.333.4444:5",
        ".5",
        "1.",
        ",5",
        "9:",
        "123:45:67,8",
        "-1.5x",
        "--2",
        "x=-5",
        "(-5)",
        "a_-5",
        "5KiB",
        "3Mbps",
        "9kHz",
        "7secs",
        "0x1f-x",
        "FALSE",
        "a-b-c-d-e",
        "_9",
        "1234web",
        "x1234-",
        "<",
        ">",
        "<=",
        "x>",
        "5 ",
        " sec",
        "GET /a ",
        "12,345 ",
    ];
    let mut state = 0x2545_f491_u32;
    for _ in 0..60_000 {
        let mut line = String::new();
        for _ in 0..6 {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            line.push_str(pieces[state as usize % pieces.len()]);
            if state.is_multiple_of(3) {
                line.push(' ');
            }
        }
        lines.push(line);
    }
    for line in &lines {
        assert_eq!(preprocess(line), preprocess_by_regex(line), "{line:?}");
    }
}

#[test]
fn most_lines_are_preprocessed_token_by_token() {
    let simple = |t: &str| {
        let mut out = String::new();
        simple(t, &mut out).then_some(out)
    };
    assert_eq!(simple("req-5a24c961").as_deref(), Some("req-<*>"));
    assert_eq!(simple("blk_-754162").as_deref(), Some("blk_-<*>"));
    assert_eq!(
        simple("(took=45ms,true)").as_deref(),
        Some("(took=<*>,<*>)")
    );
    for not_simple in [
        "x=-5",
        "-5",
        "1234web-2",
        "a.b",
        "a:1",
        "1-2-3-4-5",
        "/a",
        "a?b",
    ] {
        assert_eq!(simple(not_simple), None, "{not_simple}");
    }
    assert_eq!(longest_hex_run(b"deadbeef-cafe"), 8);
    assert_eq!(longest_hex_run(b"completed"), 2);
    assert!(user_or_boolean("user=Root;") && user_or_boolean("NULL"));
    assert!(!user_or_boolean("rooted") && !user_or_boolean("nul"));
    let line = "req-5a24c961 completed 201 in 45ms\tfor user=root";
    let by_tokens = |line: &str| {
        let mut out = String::new();
        by_tokens(line, &mut out, 0).map(|()| out)
    };
    assert_eq!(
        by_tokens(line).as_deref(),
        Some("req-<*> completed <*> in <*> for user=<*>")
    );
    assert_eq!(by_tokens("a <b> c").as_deref(), Some("a <b> c"));
    for across in [
        "lifetime < 1 sec",
        "lifetime <1 sec",
        "sent 12 bytes",
        "\"GET /a HTTP/1.1\"",
        "at Sun Jul 3 23:59:59 2005",
        "id 1a2b3c4d-1a2b-1a2b-1a2b-1a2b3c4d5e6f 5ms",
        "caf\u{e9} 1",
        "a.b:80=5 ms",
        "a.b:80= 5ms",
        "a.b:80=5.5 secs,",
    ] {
        assert_eq!(by_tokens(across), None, "{across}");
        assert_eq!(preprocess(across), preprocess_by_regex(across), "{across}");
    }
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

#[test]
fn only_masks_before_the_tail_span_spaces() {
    let spans = |m: &Mask| m.pattern.contains(' ') || m.pattern.contains(r"\t");
    assert!(spans(&MASKS[TAIL - 1]));
    assert!(MASKS[TAIL..].iter().all(|m| !spans(m)));
}

#[test]
fn every_mask_compiles() {
    for m in MASKS.iter() {
        Regex::new(&m.pattern).unwrap();
    }
}
