//! Drain: online log-template mining with a fixed-depth prefix tree (He et al., ICWS 2017),
//! step for step as logparser's `Drain.py`, so its loghub figures carry over.
//!
//! A line's content is masked (every match of each mask regex becomes `<*>`, in order),
//! split on white space, and routed down the tree: first by its token count, then by its
//! first `depth - 3` tokens (a token with a digit, or one past `max_children` at a node,
//! goes to the `<*>` branch). The leaf holds templates of that length; the line joins the
//! most similar one (the share of positions where template and line agree; `<*>` positions
//! count as parameters, which break ties) if that share reaches `similarity`, and the
//! positions where they differ become `<*>`. Otherwise the line starts a new template.
//!
//! Three departures from `Drain.py`, on purpose:
//! - there a line with fewer than `depth - 2` tokens never reaches a leaf, so each such
//!   line starts a template of its own (logparser's evaluation hides it by grouping on the
//!   template text); here short lines reach the leaf at the end of their tokens;
//! - masked positions are neutral by default ([`Masked::Neutral`]): left out of the
//!   similarity where line and template are both masked. Drain.py turns a mask's match into
//!   the `<*>` of a merged position, which never counts as equal ([`Masked::Parameter`]),
//!   so a line with 3 of its 5 tokens masked is 2/5 similar to the very template it started
//!   (`<*> completed <*> in <*>`) and every such line starts another. Drain3 counts them
//!   as equal instead, which merges `<*> returned <*> rows` with `<*> moved <*> connections`;
//! - a token that a mask changed in part (`b<*>-fe<*>a`, what is left of a UUID after a
//!   number mask) goes down the `<*>` branch, like a token with a digit: a mask has declared
//!   it a parameter. Drain.py routes it by its text (`route_masked_by_text`), so every UUID
//!   opens a branch of its own.
//!
//! With `Masked::Parameter` and `route_masked_by_text`, every loghub-2k system scores
//! exactly as Drain.py does. Masked tokens show as `<*>` in template texts either way.
//!
//! Template ids are indices in first-seen order and never change, even when merging
//! rewrites a template's text; the same lines in the same order give the same templates.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;

use regex::{NoExpand, Regex};
use serde::{Deserialize, Serialize};

use super::{Error, is_space};

/// The placeholder of a parameter in template texts, and of a merged position in the tree.
pub const WILDCARD: &str = "<*>";

/// What a mask's match becomes with [`Masked::Neutral`]. Shown as `<*>`.
const MASKED: &str = "<#>";

/// How masked positions count in the similarity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Masked {
    /// Neither for nor against: left out where line and template are both masked.
    #[default]
    Neutral,
    /// As the `<*>` of a merged position: never equal (logparser's Drain.py).
    Parameter,
}

/// Masks for logs in general, applied in this order: block, request and job ids, UUIDs,
/// IPv4 addresses (with a port), hexadecimal numbers, and numbers between word boundaries
/// with any unit (`42`, `x=3.5`, `web-2`, `18ms`; not `eth0`). Each match becomes `<*>`.
///
/// Units matter: Drain counts a template's `<*>` positions as unequal, so in
/// `<*> completed <*> in 16ms` a differing duration left as a token would drop a line's
/// similarity to 2/5 and start a template per duration.
pub const DEFAULT_MASKS: [&str; 6] = [
    r"blk_-?\d+",
    r"\b(?:req|job)-[0-9a-f]{8}\b",
    r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b",
    r"\b(?:\d{1,3}\.){3}\d{1,3}(?::\d{1,5})?\b",
    r"\b0[xX][0-9a-fA-F]+\b",
    r"\b\d+(?:\.\d+)?[a-zA-Z]*\b",
];

/// Drain's parameters, as saved beside a model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DrainConfig {
    /// Tree depth counting the root, the length layer and the leaves, as in the paper:
    /// 4 routes by the first token, 6 by the first three. At least 3.
    pub depth: usize,
    /// Similarity threshold `st` in [0, 1]: the share of equal tokens needed to join a template.
    pub similarity: f64,
    /// Children of an inner node before new tokens share its `<*>` branch. At least 2.
    pub max_children: usize,
    /// Regexes whose matches become `<*>` before tokenising, applied in order.
    pub masks: Vec<String>,
    /// How masked positions count in the similarity.
    #[serde(default)]
    pub masked: Masked,
    /// Route a token that a mask changed in part by its text (Drain.py), not down the
    /// `<*>` branch.
    #[serde(default)]
    pub route_masked_by_text: bool,
}

impl Default for DrainConfig {
    /// logparser's defaults for depth and `max_children`, its common `st` 0.5, and
    /// [`DEFAULT_MASKS`].
    fn default() -> Self {
        DrainConfig {
            depth: 4,
            similarity: 0.5,
            max_children: 100,
            masks: DEFAULT_MASKS.iter().map(|m| m.to_string()).collect(),
            masked: Masked::Neutral,
            route_masked_by_text: false,
        }
    }
}

impl DrainConfig {
    /// The same settings, mined exactly as logparser's Drain.py does.
    pub fn as_logparser(self) -> DrainConfig {
        DrainConfig {
            masked: Masked::Parameter,
            route_masked_by_text: true,
            ..self
        }
    }

    /// Checks the parameters and compiles the masks.
    fn check(&self) -> Result<Vec<Regex>, Error> {
        if self.depth < 3 {
            return Err(Error::Drain(format!(
                "depth {} is below 3 (root, length layer, leaves)",
                self.depth
            )));
        }
        if !(0.0..=1.0).contains(&self.similarity) {
            return Err(Error::Drain(format!(
                "similarity {} is outside [0, 1]",
                self.similarity
            )));
        }
        if self.max_children < 2 {
            return Err(Error::Drain(format!(
                "max_children {} is below 2",
                self.max_children
            )));
        }
        self.masks
            .iter()
            .map(|m| {
                let regex = Regex::new(m).map_err(|e| Error::Mask {
                    pattern: m.clone(),
                    message: e.to_string(),
                })?;
                if regex.is_match("") {
                    return Err(Error::Mask {
                        pattern: m.clone(),
                        message: "it matches the empty string".into(),
                    });
                }
                Ok(regex)
            })
            .collect()
    }
}

/// A template's stable id: its index in [`Drain::templates`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct TemplateId(pub u32);

impl TemplateId {
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

impl fmt::Display for TemplateId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A mined template: tokens, some of them `<*>`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Template {
    tokens: Vec<String>,
    /// Lines that joined it while learning.
    count: u64,
}

impl Template {
    pub fn token_count(&self) -> usize {
        self.tokens.len()
    }

    /// Lines added to it by [`Drain::add`].
    pub fn count(&self) -> u64 {
        self.count
    }

    /// The tokens joined by single spaces, masked parts shown as `<*>`.
    pub fn text(&self) -> String {
        self.tokens.join(" ").replace(MASKED, WILDCARD)
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct Node {
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    children: BTreeMap<String, u32>,
    /// Templates at a leaf, in creation order (ties go to the first).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    templates: Vec<u32>,
}

/// The miner: masks, tree and templates. Serialises to everything needed to parse new
/// lines the same way (the masks are compiled again on loading).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(try_from = "Tree", into = "Tree")]
pub struct Drain {
    tree: Tree,
    masks: Vec<Regex>,
}

/// What is saved: the configuration, the tree and the templates.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Tree {
    config: DrainConfig,
    /// Length-layer nodes by token count.
    lengths: BTreeMap<u32, u32>,
    nodes: Vec<Node>,
    templates: Vec<Template>,
}

impl TryFrom<Tree> for Drain {
    type Error = Error;

    /// Checks a loaded tree so that a damaged file fails here, not with a panic later.
    fn try_from(tree: Tree) -> Result<Drain, Error> {
        let masks = tree.config.check()?;
        let bad = |what: String| Err(Error::Drain(format!("damaged tree: {what}")));
        let nodes = tree.nodes.len();
        for (&len, &node) in &tree.lengths {
            if node as usize >= nodes {
                return bad(format!("length {len} points to node {node} of {nodes}"));
            }
        }
        for (i, node) in tree.nodes.iter().enumerate() {
            if let Some(c) = node.children.values().find(|&&c| c as usize >= nodes) {
                return bad(format!("node {i} has child {c} of {nodes}"));
            }
            for &t in &node.templates {
                let Some(template) = tree.templates.get(t as usize) else {
                    return bad(format!(
                        "node {i} holds template {t} of {}",
                        tree.templates.len()
                    ));
                };
                let len = template.tokens.len() as u32;
                if !tree.lengths.contains_key(&len) {
                    return bad(format!(
                        "template {t} has {len} tokens, a length with no node"
                    ));
                }
            }
        }
        Ok(Drain { tree, masks })
    }
}

impl From<Drain> for Tree {
    fn from(d: Drain) -> Tree {
        d.tree
    }
}

impl Drain {
    pub fn new(config: DrainConfig) -> Result<Drain, Error> {
        let masks = config.check()?;
        Ok(Drain {
            tree: Tree {
                config,
                lengths: BTreeMap::new(),
                nodes: Vec::new(),
                templates: Vec::new(),
            },
            masks,
        })
    }

    pub fn config(&self) -> &DrainConfig {
        &self.tree.config
    }

    pub fn templates(&self) -> &[Template] {
        &self.tree.templates
    }

    pub fn template(&self, id: TemplateId) -> &Template {
        &self.tree.templates[id.index()]
    }

    /// Learns from one line's content: joins (and maybe generalises) the most similar
    /// template, or starts a new one.
    pub fn add(&mut self, content: &str) -> TemplateId {
        let masked = self.mask(content);
        let tokens = tokens(&masked);
        match self.search(&tokens) {
            Some(id) => {
                let template = &mut self.tree.templates[id as usize];
                template.count += 1;
                for (t, token) in template.tokens.iter_mut().zip(&tokens) {
                    if t != token && t != WILDCARD {
                        WILDCARD.clone_into(t);
                    }
                }
                TemplateId(id)
            }
            None => {
                let id = self.tree.templates.len() as u32;
                self.tree.templates.push(Template {
                    tokens: tokens.iter().map(|t| t.to_string()).collect(),
                    count: 1,
                });
                self.insert(&tokens, id);
                TemplateId(id)
            }
        }
    }

    /// The template `content` would join, without learning anything; `None` when it
    /// would start a new one.
    pub fn matching(&self, content: &str) -> Option<TemplateId> {
        let masked = self.mask(content);
        self.search(&tokens(&masked)).map(TemplateId)
    }

    /// What a mask's match becomes.
    fn masked(&self) -> &'static str {
        match self.tree.config.masked {
            Masked::Neutral => MASKED,
            Masked::Parameter => WILDCARD,
        }
    }

    /// `content` with every mask applied, in order.
    fn mask<'a>(&self, content: &'a str) -> Cow<'a, str> {
        let mut text = Cow::Borrowed(content);
        let masked = self.masked();
        for mask in &self.masks {
            if let Cow::Owned(s) = mask.replace_all(&text, NoExpand(masked)) {
                text = Cow::Owned(s);
            }
        }
        text
    }

    /// Token layers below the length layer.
    fn layers(&self) -> usize {
        self.tree.config.depth - 3
    }

    fn search(&self, tokens: &[&str]) -> Option<u32> {
        let mut node = *self.tree.lengths.get(&(tokens.len() as u32))?;
        for token in tokens.iter().take(self.layers()) {
            let children = &self.tree.nodes[node as usize].children;
            node = *children.get(*token).or_else(|| children.get(WILDCARD))?;
        }
        self.best(&self.tree.nodes[node as usize].templates, tokens)
    }

    /// The leaf's most similar template if it is similar enough (`fastMatch`).
    fn best(&self, candidates: &[u32], tokens: &[&str]) -> Option<u32> {
        let mut best = None;
        let (mut best_sim, mut best_params) = (-1.0, -1);
        let neutral_masks = self.tree.config.masked == Masked::Neutral;
        for &id in candidates {
            let template = &self.tree.templates[id as usize].tokens;
            let (mut same, mut params, mut neutral) = (0usize, 0i64, 0usize);
            for (t, token) in template.iter().zip(tokens) {
                if t == WILDCARD {
                    params += 1;
                } else if neutral_masks && t == MASKED && *token == MASKED {
                    neutral += 1;
                } else if t == token {
                    same += 1;
                }
            }
            let n = tokens.len() - neutral;
            let sim = if n == 0 { 1.0 } else { same as f64 / n as f64 };
            if sim > best_sim || (sim == best_sim && params > best_params) {
                (best, best_sim, best_params) = (Some(id), sim, params);
            }
        }
        best.filter(|_| best_sim >= self.tree.config.similarity)
    }

    /// Routes a new template down the tree, growing it (`addSeqToPrefixTree`).
    fn insert(&mut self, tokens: &[&str], id: u32) {
        let max = self.tree.config.max_children;
        let route_masked = !self.tree.config.route_masked_by_text;
        let masked = self.masked();
        let len = tokens.len() as u32;
        let mut node = match self.tree.lengths.get(&len) {
            Some(&n) => n,
            None => {
                let n = self.new_node();
                self.tree.lengths.insert(len, n);
                n
            }
        };
        for token in tokens.iter().take(self.layers()) {
            let children = &self.tree.nodes[node as usize].children;
            if let Some(&next) = children.get(*token) {
                node = next;
                continue;
            }
            let size = children.len();
            let has_wildcard = children.contains_key(WILDCARD);
            let parameter = token.chars().any(char::is_numeric)
                || (route_masked && token.contains(masked) && *token != masked);
            let own_branch = !parameter
                && if has_wildcard {
                    size < max
                } else {
                    size + 1 < max
                };
            node = if own_branch {
                self.child(node, token)
            } else {
                self.child(node, WILDCARD)
            };
        }
        self.tree.nodes[node as usize].templates.push(id);
    }

    /// `parent`'s child for `token`, created if missing.
    fn child(&mut self, parent: u32, token: &str) -> u32 {
        if let Some(&c) = self.tree.nodes[parent as usize].children.get(token) {
            return c;
        }
        let c = self.new_node();
        self.tree.nodes[parent as usize]
            .children
            .insert(token.to_string(), c);
        c
    }

    fn new_node(&mut self) -> u32 {
        self.tree.nodes.push(Node::default());
        (self.tree.nodes.len() - 1) as u32
    }
}

/// Tokens as Python's `str.split()` makes them.
fn tokens(text: &str) -> Vec<&str> {
    text.split(is_space).filter(|t| !t.is_empty()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn drain(depth: usize, st: f64, masks: &[&str]) -> Drain {
        Drain::new(DrainConfig {
            depth,
            similarity: st,
            max_children: 100,
            masks: masks.iter().map(|m| m.to_string()).collect(),
            masked: Masked::Neutral,
            route_masked_by_text: false,
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
}
