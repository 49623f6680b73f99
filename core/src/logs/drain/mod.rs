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
pub(crate) const MASKED: &str = "<#>";

/// How masked positions count in the similarity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Masked {
    /// Neither for nor against: left out where line and template are both masked.
    #[default]
    Neutral,
    /// As the `<*>` of a merged position: never equal (logparser's Drain.py).
    Parameter,
    /// Masks write `<*>` (or the line arrives masked), and a position where template
    /// and line both hold `<*>` is neutral, whether it was masked or merged.
    Wildcard,
}

/// What a position where a line and its template differ becomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Merge {
    /// `<*>` (Drain).
    #[default]
    Token,
    /// Only the parts that differ, between punctuation both share: `rhost=1.2.3.4` and
    /// `rhost=host-7` give `rhost=<*>`, `(web-1)` and `(db)` give `(<*>)`.
    Pieces,
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
    /// What differing positions become.
    #[serde(default)]
    pub merge: Merge,
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
            merge: Merge::Token,
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

    pub fn tokens(&self) -> &[String] {
        &self.tokens
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
        self.add_tokens(&tokens(&masked))
    }

    /// [`Drain::add`] for a line already masked and split into tokens.
    pub fn add_tokens(&mut self, tokens: &[&str]) -> TemplateId {
        match self.search(tokens) {
            Some(id) => {
                let merge = self.tree.config.merge;
                let template = &mut self.tree.templates[id as usize];
                template.count += 1;
                merge.widen(&mut template.tokens, tokens);
                TemplateId(id)
            }
            None => {
                let id = self.tree.templates.len() as u32;
                self.tree.templates.push(Template {
                    tokens: tokens.iter().map(|t| t.to_string()).collect(),
                    count: 1,
                });
                self.insert(tokens, id);
                TemplateId(id)
            }
        }
    }

    /// The template `content` would join, without learning anything; `None` when it
    /// would start a new one.
    pub fn matching(&self, content: &str) -> Option<TemplateId> {
        let masked = self.mask(content);
        self.matching_tokens(&tokens(&masked))
    }

    /// [`Drain::matching`] for a line already masked and split into tokens.
    pub fn matching_tokens(&self, tokens: &[&str]) -> Option<TemplateId> {
        self.search(tokens).map(TemplateId)
    }

    /// What a mask's match becomes.
    fn masked(&self) -> &'static str {
        match self.tree.config.masked {
            Masked::Neutral => MASKED,
            Masked::Parameter | Masked::Wildcard => WILDCARD,
        }
    }

    /// `content` with every mask applied, in order: what [`Drain::add_tokens`] and
    /// [`Drain::matching_tokens`] expect, split at white space.
    pub fn mask<'a>(&self, content: &'a str) -> Cow<'a, str> {
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
        let neutral_masks = self.tree.config.masked != Masked::Parameter;
        let masked = self.masked();
        for &id in candidates {
            let template = &self.tree.templates[id as usize].tokens;
            let (mut same, mut params, mut neutral) = (0usize, 0i64, 0usize);
            for (t, token) in template.iter().zip(tokens) {
                if neutral_masks && t == masked && *token == masked {
                    neutral += 1;
                } else if t == WILDCARD {
                    params += 1;
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

/// Punctuation that keeps its place when two tokens merge piece by piece.
fn piece_delimiter(c: char) -> bool {
    ",!;:=|\"'[](){}.-+@#$%&/".contains(c)
}

/// A token's pieces: the runs between delimiters and each delimiter on its own, in order
/// (Python's `re.split` with the delimiter class captured: a text piece at both ends and
/// between any two delimiters, maybe empty).
fn pieces(token: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    for (i, c) in token.char_indices() {
        if piece_delimiter(c) {
            out.push(&token[start..i]);
            out.push(&token[i..i + c.len_utf8()]);
            start = i + c.len_utf8();
        }
    }
    out.push(&token[start..]);
    out
}

impl Merge {
    /// `template` widened to hold a line's `tokens` too: each differing position merged.
    pub fn widen(self, template: &mut [String], tokens: &[&str]) {
        for (t, token) in template.iter_mut().zip(tokens) {
            if t != token && t != WILDCARD {
                *t = match self {
                    Merge::Token => WILDCARD.to_string(),
                    Merge::Pieces => merge_pieces(t, token),
                };
            }
        }
    }
}

/// Two differing tokens merged by [`Merge::Pieces`]: with the same punctuation in the same
/// places, each differing piece becomes `<*>`; otherwise what both begin and end with
/// stays around one `<*>`.
pub fn merge_pieces(a: &str, b: &str) -> String {
    if a == b || a == WILDCARD {
        return a.to_string();
    }
    let (pa, pb) = (pieces(a), pieces(b));
    if pa.len() == pb.len() && pa.iter().zip(&pb).skip(1).step_by(2).all(|(x, y)| x == y) {
        return pa
            .iter()
            .zip(&pb)
            .map(|(x, y)| if x == y { *x } else { WILDCARD })
            .collect();
    }
    let n = pa.len().min(pb.len());
    let head = pa.iter().zip(&pb).take_while(|(x, y)| x == y).count();
    let tail = pa
        .iter()
        .rev()
        .zip(pb.iter().rev())
        .take(n - head)
        .take_while(|(x, y)| x == y)
        .count();
    let mut out: String = pa[..head].concat();
    out.push_str(WILDCARD);
    out.push_str(&pa[pa.len() - tail..].concat());
    out
}

/// Tokens as Python's `str.split()` makes them.
pub(crate) fn tokens(text: &str) -> Vec<&str> {
    text.split(is_space).filter(|t| !t.is_empty()).collect()
}

#[cfg(test)]
mod tests;
