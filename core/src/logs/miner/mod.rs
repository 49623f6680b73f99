//! The template miner: Vigil's default, learnt from a whole file and then only matched.
//!
//! Three steps, in one pass over the training lines:
//! 1. every line is preprocessed ([`rules::preprocess`]: masks, then loghub's template
//!    rules); each distinct preprocessed line, in the order they first appear, is
//!    clustered by [`Drain`], merging differing tokens piece by piece ([`Merge::Pieces`])
//!    and leaving positions where both sides are `<*>` neutral ([`Masked::Wildcard`]);
//!    for each merged position the miner notes the values lines held there;
//! 2. a merged position whose values were at most `split_values` plain words (no `<*>`, no
//!    `/`, no leading digit: `GET`/`POST`, `Resumed`/`Paused`/`Started`, `HTTPS`/`SOCKS5`) is a constant
//!    Drain merged too eagerly: the cluster splits into one template per value. Each
//!    distinct line is matched again and each template's tokens are merged from its own
//!    lines;
//! 3. template texts are written by the same rules, and templates whose texts are equal
//!    become one.
//!
//! A `key=<*>` position never splits: its values are a variable's by construction.
//! Afterwards [`Miner::matching`] parses new lines exactly as the training lines were
//! parsed: a line whose split values were never seen matches no template.
//!
//! Template ids are indices in the order each distinct template text first appeared in
//! step 2; the same lines give the same templates.

pub mod rules;

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::path::Path;

use regex::{NoExpand, Regex};
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

use super::drain::{Masked, Merge, WILDCARD, tokens};
use super::{Drain, DrainConfig, Error, LineReport, LogFormat, LogReader, TemplateId};
use crate::series::BadLines;

/// How the miner works.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MinerConfig {
    /// The clustering tree (depth, similarity, `max_children`) and masks of the user's,
    /// applied before the built-in rules (or, without them, as Drain applies masks).
    pub drain: DrainConfig,
    /// The built-in preprocessing and template rules ([`rules`]); without them the
    /// miner is `drain` as configured.
    pub rules: bool,
    /// A merged position with at most this many distinct word values splits its cluster
    /// (0: never).
    pub split_values: usize,
}

/// Values of plain words a merged position splits on, chosen on 12 loghub-2k systems
/// (3 to 6 give the same average within 0.001) and checked on 4 others.
pub const SPLIT_VALUES: usize = 4;

/// The similarity a line needs to join a cluster, chosen on the same 12 systems (0.4 to
/// 0.7 lie within 0.005 of each other there).
pub const SIMILARITY: f64 = 0.6;

impl Default for MinerConfig {
    /// Depth 4, similarity [`SIMILARITY`], no masks of the user's, the rules,
    /// [`SPLIT_VALUES`].
    fn default() -> Self {
        MinerConfig {
            drain: DrainConfig {
                masks: Vec::new(),
                similarity: SIMILARITY,
                ..DrainConfig::default()
            },
            rules: true,
            split_values: SPLIT_VALUES,
        }
    }
}

impl MinerConfig {
    /// Exactly logparser's Drain.py with these tree settings and masks.
    pub fn as_logparser(self) -> MinerConfig {
        MinerConfig {
            drain: self.drain.as_logparser(),
            rules: false,
            split_values: 0,
        }
    }

    /// The clustering tree's settings.
    fn tree(&self) -> DrainConfig {
        if self.rules {
            DrainConfig {
                masks: Vec::new(),
                masked: Masked::Wildcard,
                merge: Merge::Pieces,
                route_masked_by_text: false,
                ..self.drain.clone()
            }
        } else {
            self.drain.clone()
        }
    }
}

/// Memory for the distinct prepared lines kept from step 1 for step 2, both copies
/// counted (beyond this, step 2 prepares the lines past them again).
const CACHE_BYTES: usize = 256 << 20;

/// A line of step 1 not kept in the cache.
const UNCACHED: u32 = u32::MAX;

/// A mined template.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MinedTemplate {
    text: String,
    /// Training lines it holds.
    count: u64,
}

impl MinedTemplate {
    /// Tokens separated by single spaces, variables as `<*>`.
    pub fn text(&self) -> &str {
        &self.text
    }

    pub fn count(&self) -> u64 {
        self.count
    }
}

/// A Drain cluster: where it splits, and its templates by the values there.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct Cluster {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    split: Vec<u32>,
    /// The split positions' values joined by spaces (tokens hold none) → template.
    templates: BTreeMap<String, TemplateId>,
}

/// The values a position held in step 1, as far as splitting cares.
#[derive(Debug, Clone, Default)]
struct Values {
    /// Distinct values, up to one more than `split_values`.
    distinct: Vec<String>,
    /// Some value is not a [`plain_word`].
    unfit: bool,
}

/// A template while step 2 merges its lines.
#[derive(Debug, Clone)]
struct Growing {
    tokens: Vec<String>,
    count: u64,
}

/// The miner. Serialises to what parsing new lines needs.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(try_from = "Saved", into = "Saved")]
pub struct Miner {
    config: MinerConfig,
    drain: Drain,
    clusters: Vec<Cluster>,
    templates: Vec<MinedTemplate>,
    /// The user's masks, compiled (with the rules).
    masks: Vec<Regex>,
}

/// What is saved.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Saved {
    config: MinerConfig,
    drain: Drain,
    clusters: Vec<Cluster>,
    templates: Vec<MinedTemplate>,
}

impl TryFrom<Saved> for Miner {
    type Error = Error;

    /// Checks a loaded miner, so that a damaged file fails here, not with a panic later.
    fn try_from(s: Saved) -> Result<Miner, Error> {
        let bad = |what: String| Err(Error::Drain(format!("damaged miner: {what}")));
        if s.config.tree() != *s.drain.config() {
            return bad("its tree was built with other settings".into());
        }
        if s.clusters.len() != s.drain.templates().len() {
            return bad(format!(
                "{} clusters for {} tree templates",
                s.clusters.len(),
                s.drain.templates().len()
            ));
        }
        for (i, c) in s.clusters.iter().enumerate() {
            let len = s.drain.templates()[i].token_count();
            if let Some(p) = c.split.iter().find(|&&p| p as usize >= len) {
                return bad(format!("cluster {i} splits at {p} of {len} tokens"));
            }
            if let Some(t) = c
                .templates
                .values()
                .find(|t| t.index() >= s.templates.len())
            {
                return bad(format!(
                    "cluster {i} points to template {t} of {}",
                    s.templates.len()
                ));
            }
        }
        let masks = compile(&s.config)?;
        Ok(Miner {
            config: s.config,
            drain: s.drain,
            clusters: s.clusters,
            templates: s.templates,
            masks,
        })
    }
}

impl From<Miner> for Saved {
    fn from(m: Miner) -> Saved {
        Saved {
            config: m.config,
            drain: m.drain,
            clusters: m.clusters,
            templates: m.templates,
        }
    }
}

/// The user's masks the miner applies itself (with the rules; Drain applies them
/// otherwise).
fn compile(config: &MinerConfig) -> Result<Vec<Regex>, Error> {
    if !config.rules {
        return Ok(Vec::new());
    }
    config
        .drain
        .masks
        .iter()
        .map(|m| {
            Regex::new(m).map_err(|e| Error::Mask {
                pattern: m.clone(),
                message: e.to_string(),
            })
        })
        .collect()
}

impl Miner {
    /// A miner that has learnt nothing (it matches no line).
    pub fn new(config: MinerConfig) -> Result<Miner, Error> {
        let masks = compile(&config)?;
        Ok(Miner {
            drain: Drain::new(config.tree())?,
            config,
            clusters: Vec::new(),
            templates: Vec::new(),
            masks,
        })
    }

    pub fn config(&self) -> &MinerConfig {
        &self.config
    }

    pub fn templates(&self) -> &[MinedTemplate] {
        &self.templates
    }

    pub fn template(&self, id: TemplateId) -> &MinedTemplate {
        &self.templates[id.index()]
    }

    /// Learns from one set of training lines, forgetting anything learnt before. `pass`
    /// feeds every line's content to the function it is given, in order. It is called
    /// once, unless the distinct prepared lines outgrow [`CACHE_BYTES`]: then once more
    /// for the lines past that, which must be the same each time, or learning fails.
    /// Returns each line's template: the one [`Miner::matching`] gives it, `None` where it
    /// matches none.
    ///
    /// Each line is prepared once; equal prepared lines (most of a log: its variables are
    /// masked) are clustered and merged once, in the order they first appear, so learning
    /// costs one preparation per line and one tree search per distinct line.
    pub fn learn<E>(
        &mut self,
        pass: impl FnMut(&mut dyn FnMut(&str)) -> Result<(), E>,
    ) -> Result<Vec<Option<TemplateId>>, E>
    where
        E: From<Error>,
    {
        self.learn_within(pass, CACHE_BYTES)
    }

    /// [`Miner::learn`] keeping at most `cache_bytes` of distinct prepared lines.
    fn learn_within<E>(
        &mut self,
        mut pass: impl FnMut(&mut dyn FnMut(&str)) -> Result<(), E>,
        cache_bytes: usize,
    ) -> Result<Vec<Option<TemplateId>>, E>
    where
        E: From<Error>,
    {
        let mut learning = Miner::new(self.config.clone())?;
        let mut values: Vec<Vec<Values>> = Vec::new();
        let changed = |first: usize, second: usize| {
            Error::Drain(format!(
                "the training lines changed while the miner read them: {first} lines, then {second}"
            ))
        };
        // Step 1: the distinct prepared lines in first-seen order, and each line's index
        // among them (UNCACHED past the cache's size: those are prepared again in step 2).
        let mut index: FxHashMap<Box<str>, u32> = FxHashMap::default();
        let mut distinct: Vec<(Box<str>, u64)> = Vec::new();
        let mut of_line: Vec<u32> = Vec::new();
        let (mut cached_bytes, mut uncached) = (0usize, 0usize);
        let mut buffer = String::new();
        pass(&mut |content| {
            let prepared = learning.prepare_into(content, &mut buffer);
            if let Some(&i) = index.get(prepared) {
                distinct[i as usize].1 += 1;
                of_line.push(i);
                return;
            }
            learning.observe(prepared, &mut values);
            // Two copies (the list and its index), and their bookkeeping.
            let cost = 2 * prepared.len() + 64;
            if cached_bytes + cost > cache_bytes {
                uncached += 1;
                of_line.push(UNCACHED);
                return;
            }
            cached_bytes += cost;
            let text: Box<str> = prepared.into();
            index.insert(text.clone(), distinct.len() as u32);
            distinct.push((text, 1));
            of_line.push(distinct.len() as u32 - 1);
        })?;
        drop(index);
        learning.choose_splits(&values);
        let clusters = learning.clusters.len();
        // Step 2: each distinct line merged into its template, then the lines left over.
        let mut growing = Vec::new();
        let mut assigned: Vec<TemplateId> = distinct
            .iter()
            .map(|(prepared, count)| learning.refine(prepared, *count, &mut growing))
            .collect();
        let mut rest = Vec::with_capacity(uncached);
        if uncached > 0 {
            let mut seen = 0usize;
            pass(&mut |content| {
                if of_line.get(seen) == Some(&UNCACHED) {
                    let prepared = learning.prepare(content);
                    rest.push(learning.refine(&prepared, 1, &mut growing));
                }
                seen += 1;
            })?;
            if seen != of_line.len() {
                return Err(changed(of_line.len(), seen).into());
            }
        }
        let final_ids = learning.finish(growing);
        let mut ids: Vec<Option<TemplateId>> = Vec::with_capacity(of_line.len());
        if learning.clusters.len() == clusters {
            for t in assigned.iter_mut().chain(rest.iter_mut()) {
                *t = final_ids[t.index()];
            }
            let mut rest = rest.into_iter();
            for &i in &of_line {
                ids.push(match i {
                    UNCACHED => rest.next().map(Some).unwrap_or_default(),
                    i => Some(assigned[i as usize]),
                });
            }
        } else {
            // A line whose cluster widened past it in step 1 started a cluster of its
            // own in step 2, which matching may prefer for other lines too: all of them
            // are matched again.
            let matched: Vec<Option<TemplateId>> = distinct
                .iter()
                .map(|(p, _)| learning.matching_prepared(p))
                .collect();
            if uncached > 0 {
                let mut all = of_line.iter();
                pass(&mut |content| {
                    ids.push(match all.next() {
                        Some(&UNCACHED) | None => learning.matching(content),
                        Some(&i) => matched[i as usize],
                    })
                })?;
            } else {
                ids.extend(of_line.iter().map(|&i| matched[i as usize]));
            }
        }
        if ids.len() != of_line.len() {
            return Err(changed(of_line.len(), ids.len()).into());
        }
        *self = learning;
        Ok(ids)
    }

    /// [`Miner::learn`] from the content of each line of the log at `path` that fits
    /// `format` (lines that do not are left out, as readers of the log skip them); also
    /// returns what the read met besides those lines.
    pub fn learn_file(
        &mut self,
        path: &Path,
        format: &LogFormat,
        max_line_bytes: usize,
        bad_lines: BadLines,
    ) -> Result<(Vec<Option<TemplateId>>, LineReport), Error> {
        let mut report = None;
        let ids = self.learn(|feed| {
            let mut reader = LogReader::open(path, max_line_bytes)?;
            reader.for_each_record(format, bad_lines, |_, fields| {
                feed(fields[format.content_index()]);
                Ok(())
            })?;
            report.get_or_insert(reader.report);
            Ok(())
        })?;
        Ok((ids, report.unwrap_or_default()))
    }

    /// The template `content` matches, learning nothing; `None` where none does.
    pub fn matching(&self, content: &str) -> Option<TemplateId> {
        self.matching_prepared(&self.prepare(content))
    }

    /// [`Miner::matching`] for a line [`Miner::prepare`] has seen to.
    fn matching_prepared(&self, prepared: &str) -> Option<TemplateId> {
        let tokens = tokens(prepared);
        let cluster = self.drain.matching_tokens(&tokens)?;
        let c = &self.clusters[cluster.index()];
        c.templates.get(&key(&c.split, &tokens)).copied()
    }

    /// [`Miner::prepare`] into `buffer` where the text changes, reusing its memory.
    fn prepare_into<'a>(&self, content: &'a str, buffer: &'a mut String) -> &'a str {
        if !self.config.rules {
            return match self.drain.mask(content) {
                Cow::Borrowed(b) => b,
                Cow::Owned(o) => {
                    *buffer = o;
                    buffer
                }
            };
        }
        rules::preprocess_into(&self.user_masked(content), buffer);
        buffer
    }

    /// The text the tree sees: the user's masks and the rules, or Drain's masks.
    fn prepare<'a>(&self, content: &'a str) -> Cow<'a, str> {
        if !self.config.rules {
            return self.drain.mask(content);
        }
        Cow::Owned(rules::preprocess(&self.user_masked(content)))
    }

    /// `content` with the user's masks applied (the rules' own come after).
    fn user_masked<'a>(&self, content: &'a str) -> Cow<'a, str> {
        let mut text = Cow::Borrowed(content);
        for mask in &self.masks {
            if let Cow::Owned(t) = mask.replace_all(&text, NoExpand(WILDCARD)) {
                text = Cow::Owned(t);
            }
        }
        text
    }

    /// Step 1: clusters a prepared line and notes its values at merged positions.
    fn observe(&mut self, prepared: &str, values: &mut Vec<Vec<Values>>) {
        let tokens = tokens(prepared);
        let id = self.drain.add_tokens(&tokens).index();
        if self.config.split_values == 0 {
            return;
        }
        if id == values.len() {
            values.push(vec![Values::default(); tokens.len()]);
        }
        let cap = self.config.split_values + 1;
        for (v, token) in values[id].iter_mut().zip(&tokens) {
            if v.unfit {
                continue;
            }
            if !plain_word(token) {
                v.unfit = true;
                v.distinct.clear();
            } else if v.distinct.len() < cap && !v.distinct.iter().any(|d| d == token) {
                v.distinct.push(token.to_string());
            }
        }
    }

    /// Between steps 1 and 2: the positions each cluster splits at.
    fn choose_splits(&mut self, values: &[Vec<Values>]) {
        self.clusters = self
            .drain
            .templates()
            .iter()
            .enumerate()
            .map(|(i, template)| {
                let split = values.get(i).map_or_else(Vec::new, |positions| {
                    positions
                        .iter()
                        .zip(template.tokens())
                        .enumerate()
                        .filter(|(_, (v, t))| {
                            t.contains(WILDCARD)
                                && !keyed(t)
                                && !v.unfit
                                && v.distinct.len() <= self.config.split_values
                        })
                        .map(|(p, _)| p as u32)
                        .collect()
                });
                Cluster {
                    split,
                    templates: BTreeMap::new(),
                }
            })
            .collect();
    }

    /// Step 2: matches a prepared line that `count` training lines hold and merges it
    /// into its template (made on first sight); returns the template's index in
    /// `growing`.
    fn refine(&mut self, prepared: &str, count: u64, growing: &mut Vec<Growing>) -> TemplateId {
        let tokens = tokens(prepared);
        let cluster = match self.drain.matching_tokens(&tokens) {
            Some(c) => c.index(),
            None => {
                // Its cluster widened past it since it joined: it starts one of its own.
                let c = self.drain.add_tokens(&tokens).index();
                if c == self.clusters.len() {
                    self.clusters.push(Cluster::default());
                }
                c
            }
        };
        let c = &mut self.clusters[cluster];
        let k = key(&c.split, &tokens);
        match c.templates.get(&k) {
            Some(&id) => {
                let g = &mut growing[id.index()];
                g.count += count;
                self.drain.config().merge.widen(&mut g.tokens, &tokens);
                id
            }
            None => {
                let t = TemplateId(growing.len() as u32);
                c.templates.insert(k, t);
                growing.push(Growing {
                    tokens: tokens.iter().map(|t| t.to_string()).collect(),
                    count,
                });
                t
            }
        }
    }

    /// Step 3: template texts, and one template per text; returns each of step 2's
    /// templates' final id.
    fn finish(&mut self, growing: Vec<Growing>) -> Vec<TemplateId> {
        let mut by_text: BTreeMap<String, TemplateId> = BTreeMap::new();
        let mut final_ids = Vec::with_capacity(growing.len());
        self.templates.clear();
        for g in growing {
            let joined = g.tokens.join(" ");
            let text = if self.config.rules {
                rules::template_rules(&joined)
            } else {
                joined.replace(super::drain::MASKED, WILDCARD)
            };
            let id = *by_text.entry(text.clone()).or_insert_with(|| {
                self.templates.push(MinedTemplate { text, count: 0 });
                TemplateId(self.templates.len() as u32 - 1)
            });
            self.templates[id.index()].count += g.count;
            final_ids.push(id);
        }
        for c in &mut self.clusters {
            for t in c.templates.values_mut() {
                *t = final_ids[t.index()];
            }
        }
        final_ids
    }
}

/// A value a constant could be: no `<*>`, no `/`, not a number with a unit (`3ms`).
fn plain_word(token: &str) -> bool {
    !token.contains(WILDCARD)
        && !token.contains('/')
        && !token.starts_with(|c: char| c.is_ascii_digit())
}

/// `key=<*>`, `key:<*>`: a variable's value by construction.
fn keyed(token: &str) -> bool {
    let Some(at) = token.find(['=', ':']) else {
        return false;
    };
    let key = &token[..at];
    !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_alphanumeric() || c == '_' || c == '.')
        && token[at + 1..].starts_with(WILDCARD)
}

fn key(split: &[u32], tokens: &[&str]) -> String {
    let mut k = String::new();
    for (i, &p) in split.iter().enumerate() {
        if i > 0 {
            k.push(' ');
        }
        k.push_str(tokens.get(p as usize).copied().unwrap_or_default());
    }
    k
}

#[cfg(test)]
mod tests;
