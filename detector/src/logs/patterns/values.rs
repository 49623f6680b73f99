//! The values behind each `<*>` of a template: the template's literal parts matched
//! against the line's content (white space runs as one space), as logparser's
//! `get_parameter_list` does; a line the template's text does not match (a built-in rule
//! rewrote one of its constants) gives no values.

use std::collections::HashMap;

use regex::Regex;

use vigil_core::logs::MinedTemplate;

/// Distinct values kept per `<*>`; past it, new values are only counted as distinct.
const MAX_DISTINCT: usize = 10_000;

/// What one `<*>` has seen.
#[derive(Debug, Default, Clone)]
struct Slot {
    counts: HashMap<String, u64>,
    /// Distinct values past [`MAX_DISTINCT`] (counted once each time they appear: an
    /// upper bound).
    overflow: usize,
}

pub(crate) struct Values {
    templates: Vec<String>,
    regexes: Vec<Option<Option<Regex>>>,
    slots: Vec<Vec<Slot>>,
    top: usize,
}

impl Values {
    pub fn new(templates: &[MinedTemplate], top: usize) -> Values {
        Values {
            templates: templates.iter().map(|t| t.text().to_string()).collect(),
            regexes: vec![None; templates.len()],
            slots: vec![Vec::new(); templates.len()],
            top,
        }
    }

    fn regex(&mut self, id: usize) -> Option<&Regex> {
        let text = &self.templates[id];
        self.regexes[id]
            .get_or_insert_with(|| {
                if !text.contains("<*>") {
                    return None;
                }
                // Template and content alike with white space runs as one space.
                let normal = text.split_whitespace().collect::<Vec<_>>().join(" ");
                let parts: Vec<String> = normal.split("<*>").map(regex::escape).collect();
                Regex::new(&format!("^{}$", parts.join("(.*?)"))).ok()
            })
            .as_ref()
    }

    /// Counts the values `content` gives template `id`'s wildcards.
    pub fn add(&mut self, id: usize, content: &str) {
        let normal = content.split_whitespace().collect::<Vec<_>>().join(" ");
        let Some(re) = self.regex(id) else { return };
        let Some(caps) = re.captures(&normal) else {
            return;
        };
        let found: Vec<String> = caps
            .iter()
            .skip(1)
            .map(|m| m.map_or("", |m| m.as_str()).to_string())
            .collect();
        let slots = &mut self.slots[id];
        if slots.len() < found.len() {
            slots.resize(found.len(), Slot::default());
        }
        for (slot, v) in slots.iter_mut().zip(found) {
            let v = super::clip(&v, 100);
            let room = slot.counts.len() < MAX_DISTINCT;
            match slot.counts.get_mut(&v) {
                Some(c) => *c += 1,
                None if room => {
                    slot.counts.insert(v, 1);
                }
                None => slot.overflow += 1,
            }
        }
    }

    /// Each wildcard's most frequent values (ties by value) and its distinct count.
    pub fn top(&self, id: usize) -> Vec<(Vec<(String, u64)>, usize)> {
        self.slots[id]
            .iter()
            .map(|s| {
                let mut v: Vec<(String, u64)> =
                    s.counts.iter().map(|(k, c)| (k.clone(), *c)).collect();
                v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
                v.truncate(self.top);
                (v, s.counts.len() + s.overflow)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(template: &str, lines: &[&str]) -> Vec<(Vec<(String, u64)>, usize)> {
        let mut v = Values {
            templates: vec![template.to_string()],
            regexes: vec![None],
            slots: vec![Vec::new()],
            top: 2,
        };
        for l in lines {
            v.add(0, l);
        }
        v.top(0)
    }

    #[test]
    fn each_wildcard_gets_its_values() {
        let t = values(
            "user <*> logged in from <*>",
            &[
                "user ann logged in from 10.0.0.1",
                "user  bob logged in from 10.0.0.2",
                "user ann logged in from 10.0.0.1",
                "something else entirely",
            ],
        );
        assert_eq!(
            t,
            vec![
                (vec![("ann".into(), 2), ("bob".into(), 1)], 2),
                (vec![("10.0.0.1".into(), 2), ("10.0.0.2".into(), 1)], 2),
            ]
        );
        // Pieces: `rhost=<*>` gives the part after `=`.
        let t = values(
            "auth failure rhost=<*> user=<*>",
            &["auth failure rhost=a.b user=root"],
        );
        assert_eq!(t[0].0, vec![("a.b".to_string(), 1)]);
        assert_eq!(t[1].0, vec![("root".to_string(), 1)]);
        assert!(values("no wildcards", &["no wildcards"]).is_empty());
    }
}
