use super::*;

fn drain(depth: usize, st: f64, masks: &[&str]) -> Drain {
    Drain::new(DrainConfig {
        depth,
        similarity: st,
        max_children: 100,
        masks: masks.iter().map(|m| m.to_string()).collect(),
        masked: Masked::Neutral,
        route_masked_by_text: false,
        merge: Merge::Token,
    })
    .unwrap()
}

fn texts(d: &Drain) -> Vec<String> {
    d.templates().iter().map(Template::text).collect()
}

#[test]
fn masks_apply_in_order_before_tokenising() {
    let d = Drain::new(DrainConfig::default()).unwrap();
    let shown = |text: &str| d.mask(text).replace(MASKED, WILDCARD);
    assert_eq!(
        shown("req-3b33478e routed to 10.0.0.7:8080 in 23ms, blk_-42 x=17 0x1F id=5.5"),
        "<*> routed to <*> in <*>, <*> x=<*> <*> id=<*>"
    );
    assert_eq!(
        shown("job-0badc0de done; uuid 123e4567-e89b-12d3-a456-426614174000"),
        "<*> done; uuid <*>"
    );
    // Numbers with a unit go; digits inside a word stay.
    assert_eq!(shown("db-1 eth0 18ms 88%"), "db-<*> eth0 <*> <*>%");
    // A later mask sees what the earlier ones left.
    assert_eq!(drain(4, 0.5, &[r"\d+", r"x\d"]).mask("x1"), "x<#>");
    assert_eq!(drain(4, 0.5, &[r"x\d", r"\d+"]).mask("x1"), "<#>");
}

#[test]
fn masked_positions_are_neutral() {
    // Regression: with masks as merged <*> (Drain.py), 3 masked tokens of 5 left a
    // line 2/5 similar to its own template, and every such line started a new one.
    let lines = [
        "req-3b33478e completed 200 in 16ms",
        "req-0badc0de completed 404 in 44ms",
    ];
    let mut d = Drain::new(DrainConfig::default()).unwrap();
    assert_eq!(d.add(lines[0]), d.add(lines[1]));
    assert_eq!(d.templates()[0].text(), "<*> completed <*> in <*>");
    let mut d = Drain::new(DrainConfig::default().as_logparser()).unwrap();
    assert_ne!(d.add(lines[0]), d.add(lines[1]));
    // Neutral, not equal: two masked tokens of four do not make two lines alike.
    let mut d = Drain::new(DrainConfig::default()).unwrap();
    assert_ne!(
        d.add("job-0badc0de returned 12 rows"),
        d.add("job-0badc0de moved 3 connections")
    );
}

#[test]
fn differing_positions_become_wildcards_and_ids_stay() {
    let mut d = drain(4, 0.5, &[]);
    let a = d.add("connected to host alpha in 5 ms");
    let b = d.add("connected to host beta in 7 ms");
    let c = d.add("disk full on volume one");
    assert_eq!(a, b);
    assert_ne!(a, c);
    assert_eq!(a, TemplateId(0));
    assert_eq!(c, TemplateId(1));
    assert_eq!(
        texts(&d),
        ["connected to host <*> in <*> ms", "disk full on volume one"]
    );
    assert_eq!(d.template(a).count(), 2);
}

#[test]
fn similarity_threshold_decides() {
    // 2 of 4 tokens equal: joins at st 0.5, not at 0.6.
    for (st, joined) in [(0.5, true), (0.6, false)] {
        let mut d = drain(4, st, &[]);
        let a = d.add("open file a b");
        let b = d.add("open file c d");
        assert_eq!(a == b, joined, "st {st}");
    }
}

#[test]
fn lengths_and_first_tokens_route() {
    let mut d = drain(4, 0.1, &[]);
    let a = d.add("alpha x y");
    // Another length: never the same template, however similar.
    assert_ne!(d.add("alpha x y z"), a);
    // Another first token at depth 4: another leaf.
    assert_ne!(d.add("beta x y"), a);
    // A first token with a digit goes down the <*> branch, with any other such token.
    let n = d.add("42 x y");
    assert_eq!(d.add("43 x y"), n);
    assert_eq!(d.template(n).text(), "<*> x y");
}

#[test]
fn max_children_sends_new_tokens_to_the_wildcard_branch() {
    let mut d = Drain::new(DrainConfig {
        depth: 4,
        similarity: 0.3,
        max_children: 3,
        masks: vec![],
        ..DrainConfig::default()
    })
    .unwrap();
    let a = d.add("a same tail");
    let b = d.add("b same tail");
    // The third child of the length node is the <*> branch; c and d share it.
    let c = d.add("c same tail");
    let e = d.add("e same tail");
    assert_ne!(a, b);
    assert_ne!(a, c);
    assert_eq!(c, e);
    assert_eq!(d.template(c).text(), "<*> same tail");
    assert_eq!(d.tree.nodes[d.tree.lengths[&3] as usize].children.len(), 3);
    // Known first tokens keep their own branch.
    assert_eq!(d.add("a same tail"), a);
}

#[test]
fn partly_masked_tokens_route_as_parameters() {
    let lines = ["vm b1e-fe2a resumed", "vm c3d-a9 resumed"];
    let mut d = drain(5, 0.5, &[r"\d+"]);
    let ids: Vec<_> = lines.iter().map(|l| d.add(l)).collect();
    assert_eq!(ids[0], ids[1]);
    assert_eq!(d.template(ids[0]).text(), "vm <*> resumed");
    // As logparser's Drain.py: each masked id opens its own branch at depth 5.
    let mut d = Drain::new(DrainConfig {
        route_masked_by_text: true,
        ..d.config().clone()
    })
    .unwrap();
    let ids: Vec<_> = lines.iter().map(|l| d.add(l)).collect();
    assert_ne!(ids[0], ids[1]);
}

#[test]
fn deeper_trees_route_by_more_tokens() {
    let mut d = drain(5, 0.1, &[]);
    let a = d.add("x alpha 1 2");
    let b = d.add("x beta 1 2");
    assert_ne!(a, b, "depth 5 routes by two tokens");
    let mut d = drain(4, 0.1, &[]);
    assert_eq!(d.add("x alpha 1 2"), d.add("x beta 1 2"));
}

#[test]
fn short_lines_are_matched_too() {
    // logparser's Drain.py would make a template per line here (depth 6, 2 tokens).
    let mut d = drain(6, 0.5, &[]);
    let a = d.add("restart 12");
    assert_eq!(d.add("restart 13"), a);
    assert_eq!(d.add(""), d.add("   "));
    assert_eq!(texts(&d), ["restart <*>", ""]);
}

#[test]
fn ties_go_to_more_parameters_then_to_the_first() {
    let mut d = drain(3, 0.5, &[]);
    let a = d.add("a b c d");
    let b = d.add("a b x y");
    assert_eq!(a, b); // "a b <*> <*>"
    let c = d.add("q r c d");
    assert_ne!(c, a);
    // "a b c d" is as similar to "a b <*> <*>" as to "q r c d" (2 of 4); the template
    // with more parameters wins.
    assert_eq!(d.matching("a b c d"), Some(a));
    // Equal similarity and parameters: the first template wins.
    let mut d = drain(3, 0.5, &[]);
    let a = d.add("a b c d");
    let w = d.add("w x y z");
    assert_ne!(a, w);
    assert_eq!(d.matching("a b y z"), Some(a));
}

#[test]
fn matching_does_not_learn() {
    let mut d = drain(4, 0.5, &[r"\d+"]);
    let a = d.add("took 5 ms on db");
    let before = serde_json::to_string(&d).unwrap();
    assert_eq!(d.matching("took 9 ms on cache"), Some(a));
    assert_eq!(d.matching("something else entirely"), None);
    assert_eq!(serde_json::to_string(&d).unwrap(), before);
    assert_eq!(d.template(a).text(), "took <*> ms on db");
    assert_eq!(d.template(a).count(), 1);
}

#[test]
fn same_lines_same_templates_and_a_round_trip() {
    let lines: Vec<String> = (0..500)
        .map(|i| match i % 5 {
            0 => format!("req-{i:08x} routed to backend web-{}", i % 3),
            1 => format!("scrape ok collectors={} duration={}ms", i % 7, i),
            2 => format!("user u{i} logged in from 10.0.{}.{}", i % 9, i % 200),
            3 => format!("cache {} for key k{}", ["hit", "miss"][i % 2], i),
            _ => format!("disk {} is {}% full", ["/var", "/tmp"][i % 2], i % 100),
        })
        .collect();
    let run = || {
        let mut d = Drain::new(DrainConfig::default()).unwrap();
        let ids: Vec<TemplateId> = lines.iter().map(|l| d.add(l)).collect();
        (ids, d)
    };
    let (ids1, d1) = run();
    let (ids2, d2) = run();
    assert_eq!(ids1, ids2);
    let json = serde_json::to_string(&d1).unwrap();
    assert_eq!(json, serde_json::to_string(&d2).unwrap());
    let loaded: Drain = serde_json::from_str(&json).unwrap();
    for (line, id) in lines.iter().zip(&ids1) {
        assert_eq!(loaded.matching(line), Some(*id), "{line}");
    }
    assert_eq!(texts(&loaded), texts(&d1));
    assert!(d1.templates().len() <= 8, "{:?}", texts(&d1));
}

#[test]
fn damaged_trees_and_bad_settings_are_refused() {
    let mut d = drain(4, 0.5, &[]);
    d.add("a b c");
    let mut v: serde_json::Value = serde_json::to_value(&d).unwrap();
    v["nodes"][0]["children"]["a"] = 99.into();
    let e = serde_json::from_value::<Drain>(v).unwrap_err().to_string();
    assert!(e.contains("damaged tree"), "{e}");
    for (config, needle) in [
        (
            DrainConfig {
                depth: 2,
                ..DrainConfig::default()
            },
            "depth",
        ),
        (
            DrainConfig {
                similarity: 1.5,
                ..DrainConfig::default()
            },
            "similarity",
        ),
        (
            DrainConfig {
                max_children: 1,
                ..DrainConfig::default()
            },
            "max_children",
        ),
        (
            DrainConfig {
                masks: vec!["(".into()],
                ..DrainConfig::default()
            },
            "invalid mask",
        ),
        (
            DrainConfig {
                masks: vec!["x*".into()],
                ..DrainConfig::default()
            },
            "empty string",
        ),
    ] {
        let e = Drain::new(config).unwrap_err().to_string();
        assert!(e.contains(needle), "{e}");
    }
}
