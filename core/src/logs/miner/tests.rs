use super::*;

fn learnt(lines: &[&str]) -> Miner {
    let mut m = Miner::new(MinerConfig::default()).unwrap();
    m.learn(|feed| {
        for l in lines {
            feed(l);
        }
        Ok::<(), Error>(())
    })
    .unwrap();
    m
}

fn text(m: &Miner, line: &str) -> Option<String> {
    m.matching(line).map(|t| m.template(t).text().to_string())
}

#[test]
fn constants_drain_merged_split_again() {
    let mut lines = Vec::new();
    for i in 0..30 {
        let state = ["Resumed", "Paused", "Started"][i % 3];
        lines.push(format!(
            "[instance: {i:08x}-fe1a-409b-b8cc-1e88b294cd1d] VM {state} (Lifecycle Event)"
        ));
    }
    let users = ["cyrus", "news", "test", "guest", "mail", "ftp", "games"];
    for i in 0..30 {
        lines.push(format!(
            "session opened for user {} by (uid={i})",
            users[i % 7]
        ));
    }
    let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
    let m = learnt(&lines);
    assert_eq!(
        text(
            &m,
            "[instance: 00000001-fe1a-409b-b8cc-1e88b294cd1d] VM Paused (Lifecycle Event)"
        )
        .as_deref(),
        Some("[instance: <*>] VM Paused (Lifecycle Event)")
    );
    assert_eq!(
        text(
            &m,
            "[instance: 00000001-fe1a-409b-b8cc-1e88b294cd1d] VM Started (Lifecycle Event)"
        )
        .as_deref(),
        Some("[instance: <*>] VM Started (Lifecycle Event)")
    );
    // A constant value training never saw is a template training never saw.
    assert_eq!(
        m.matching("[instance: 0-1] VM Rebooted (Lifecycle Event)"),
        None
    );
    // Seven users are a variable.
    assert_eq!(
        text(&m, "session opened for user nobody by (uid=7)").as_deref(),
        Some("session opened for user <*> by (uid=<*>)")
    );
    assert_eq!(m.templates().len(), 4);
    assert_eq!(
        m.templates().iter().map(MinedTemplate::count).sum::<u64>(),
        60
    );
}

#[test]
fn differing_tokens_merge_piece_by_piece() {
    let m = learnt(&[
        "sshd: authentication failure; logname= rhost=host-a.example user=alice",
        "sshd: authentication failure; logname= rhost=b.example user=bob",
        "sshd: authentication failure; logname= rhost=c user=carol",
        "sshd: authentication failure; logname= rhost=d user=dave",
        "sshd: authentication failure; logname= rhost=e user=eve",
    ]);
    assert_eq!(m.templates().len(), 1);
    assert_eq!(
        m.templates()[0].text(),
        "sshd: authentication failure; logname= rhost=<*> user=<*>"
    );
}

#[test]
fn learning_forgets_and_the_same_lines_give_the_same_miner() {
    let a = learnt(&["a 1 b", "a 2 b", "c d"]);
    let mut b = learnt(&["x y z"]);
    b.learn(|feed| {
        for l in ["a 1 b", "a 2 b", "c d"] {
            feed(l);
        }
        Ok::<(), Error>(())
    })
    .unwrap();
    assert_eq!(
        serde_json::to_string(&a).unwrap(),
        serde_json::to_string(&b).unwrap()
    );
    assert_eq!(b.matching("x y z"), None);
}

#[test]
fn a_saved_miner_parses_alike_and_a_damaged_one_is_refused() {
    let m = learnt(&[
        "job 1 done in 3 ms",
        "job 2 done in 4 ms",
        "VM Paused",
        "VM Started",
    ]);
    let json = serde_json::to_string(&m).unwrap();
    let back: Miner = serde_json::from_str(&json).unwrap();
    for l in ["job 9 done in 1 ms", "VM Paused", "VM Halted"] {
        assert_eq!(back.matching(l), m.matching(l), "{l}");
    }
    let damaged = json.replacen("\"templates\":{", "\"templates\":{\"zz\":99,", 1);
    let err = serde_json::from_str::<Miner>(&damaged)
        .unwrap_err()
        .to_string();
    assert!(err.contains("damaged miner"), "{err}");
}

#[test]
fn as_logparser_is_drain_alone() {
    let config = MinerConfig::default().as_logparser();
    assert!(!config.rules);
    let mut m = Miner::new(config).unwrap();
    m.learn(|feed| {
        feed("send 12 bytes");
        feed("send 13 bytes");
        Ok::<(), Error>(())
    })
    .unwrap();
    assert_eq!(m.templates().len(), 1);
    assert_eq!(m.templates()[0].text(), "send <*> bytes");
}

#[test]
fn learning_assigns_each_line_what_matching_gives_it() {
    let lines: Vec<String> = (0..200)
        .map(|i| match i % 4 {
            0 => format!("req-{i:08x} cache hit {}", ["carts", "users"][i % 8 / 4]),
            1 => format!("job {i} finished in {} ms", i * 3),
            2 => format!("user u{} logged in from 10.0.0.{}", i % 13, i % 250),
            _ => format!("VM {} (Lifecycle Event)", ["Paused", "Resumed"][i % 8 / 4]),
        })
        .collect();
    let mut m = Miner::new(MinerConfig::default()).unwrap();
    let ids = m
        .learn(|feed| {
            lines.iter().for_each(|l| feed(l));
            Ok::<(), Error>(())
        })
        .unwrap();
    assert_eq!(ids.len(), lines.len());
    for (l, id) in lines.iter().zip(&ids) {
        assert_eq!(m.matching(l), *id, "{l}");
        assert!(id.is_some());
    }
}

#[test]
fn lines_that_change_between_the_passes_fail_learning() {
    // With no room to keep prepared lines, learning reads the lines twice.
    let mut m = Miner::new(MinerConfig::default()).unwrap();
    let mut calls = 0;
    let err = m
        .learn_within(
            |feed| {
                calls += 1;
                for i in 0..(if calls == 1 { 3 } else { 4 }) {
                    feed(&format!("line {i} done"));
                }
                Ok::<(), Error>(())
            },
            0,
        )
        .unwrap_err()
        .to_string();
    assert!(err.contains("3 lines, then 4"), "{err}");
}

#[test]
fn learning_reads_the_lines_once_and_a_full_cache_changes_nothing() {
    let lines: Vec<String> = (0..600)
        .map(|i| match i % 5 {
            0 => format!("req-{i:08x} cache hit {}", ["carts", "users"][i % 10 / 5]),
            1 => format!("job {} finished in {} ms", i % 7, i % 3),
            2 => format!("user u{} logged in from 10.0.0.{}", i % 13, i % 250),
            3 => format!("worker {} state {}", i % 4, ["idle", "busy", "gone"][i % 3]),
            _ => format!("VM {} (Lifecycle Event)", ["Paused", "Resumed"][i % 10 / 5]),
        })
        .collect();
    let learn = |cache: usize| {
        let mut m = Miner::new(MinerConfig::default()).unwrap();
        let mut passes = 0;
        let ids = m
            .learn_within(
                |feed| {
                    passes += 1;
                    lines.iter().for_each(|l| feed(l));
                    Ok::<(), Error>(())
                },
                cache,
            )
            .unwrap();
        // The tree's own counts differ (lines past the cache are clustered one by one);
        // the templates and each line's template may not.
        (m.templates().to_vec(), ids, passes)
    };
    let (whole, ids, passes) = learn(CACHE_BYTES);
    assert_eq!(passes, 1);
    // Room for a few distinct lines only: the rest are prepared again in a second pass.
    for cache in [0, 100, 300] {
        let (m, i, p) = learn(cache);
        assert_eq!(p, 2, "cache {cache}");
        assert_eq!((&m, &i), (&whole, &ids), "cache {cache}");
    }
}
