//! What `detector diff` writes: diff.txt (the differences, each with its distinguishing
//! sequence and example sessions), diff.csv (every transition), the merged graph and each
//! log's machine in DOT, rendered by Graphviz where it is installed.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use super::ktails::{Machine, State, Sym};
use super::{DiffSummary, Transition, Verdict};
use crate::Error;
use crate::logs::patterns::clip;

fn verdict_name(v: Verdict) -> &'static str {
    match v {
        Verdict::OnlyA => "only in A",
        Verdict::OnlyB => "only in B",
        Verdict::MoreInB => "more in B",
        Verdict::LessInB => "less in B",
        Verdict::Same => "",
    }
}

fn name(p: &Path) -> String {
    p.file_name().map_or(p.display().to_string(), |f| {
        f.to_string_lossy().into_owned()
    })
}

/// The report: counts, then each difference by p-value.
pub fn render(s: &DiffSummary, transitions: &[Transition]) -> String {
    let mut out = String::new();
    // File names, or whole paths where the names are the same.
    let (mut a, mut b) = (name(&s.a), name(&s.b));
    if a == b {
        (a, b) = (s.a.display().to_string(), s.b.display().to_string());
    }
    let _ = writeln!(
        out,
        "A: {a} ({} sessions, {} transitions)\nB: {b} ({} sessions, {} transitions)",
        s.a_sessions, s.a_transitions, s.b_sessions, s.b_transitions,
    );
    let _ = writeln!(
        out,
        "{}-tails over {} templates; {} transitions tested, alpha {} with Bonferroni: {} only in A, {} only in B, {} more in B, {} less in B",
        s.k, s.templates, s.tested, s.alpha, s.only_a, s.only_b, s.more_in_b, s.less_in_b
    );
    for t in transitions.iter().filter(|t| t.verdict != Verdict::Same) {
        let _ = writeln!(
            out,
            "\n{}: A {} ({:.2}%), B {} ({:.2}%), p {:.1e}",
            verdict_name(t.verdict),
            t.a_count,
            100.0 * t.a_share,
            t.b_count,
            100.0 * t.b_share,
            t.p_value
        );
        for (i, e) in t.sequence.iter().enumerate() {
            let arrow = if i == 0 { "   " } else { " → " };
            let _ = writeln!(out, "  {arrow}{}", clip(e, 100));
        }
        for (side, ex) in [("A", &t.a_examples), ("B", &t.b_examples)] {
            if !ex.is_empty() {
                let _ = writeln!(out, "    sessions in {side}: {}", ex.join(", "));
            }
        }
    }
    out
}

/// Every transition: `verdict,p_value,a_count,a_share,b_count,b_share,a_gap_ms,b_gap_ms,
/// sequence,a_examples,b_examples` (the sequence's events joined by ` → `).
pub fn write_csv(path: &Path, transitions: &[Transition]) -> Result<(), Error> {
    crate::logs::parse::write_csv(path, |w| {
        w.write_record([
            "verdict",
            "p_value",
            "a_count",
            "a_share",
            "b_count",
            "b_share",
            "a_gap_ms",
            "b_gap_ms",
            "sequence",
            "a_examples",
            "b_examples",
        ])?;
        let gap = |g: Option<f64>| g.map_or(String::new(), |g| format!("{g:.1}"));
        for t in transitions {
            w.write_record([
                verdict_name(t.verdict).replace(' ', "_"),
                format!("{:.3e}", t.p_value),
                t.a_count.to_string(),
                format!("{:.6}", t.a_share),
                t.b_count.to_string(),
                format!("{:.6}", t.b_share),
                gap(t.a_gap_ms),
                gap(t.b_gap_ms),
                t.sequence.join(" → "),
                t.a_examples.join(" "),
                t.b_examples.join(" "),
            ])?;
        }
        Ok(())
    })
}

fn esc(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

/// Node ids for states, in first-use order.
struct Nodes<'a, F: Fn(Sym) -> String> {
    ids: BTreeMap<State, usize>,
    text: &'a F,
    out: String,
}

impl<'a, F: Fn(Sym) -> String> Nodes<'a, F> {
    fn id(&mut self, state: &State) -> String {
        let n = self.ids.len();
        let id = *self.ids.entry(state.clone()).or_insert(n);
        if id == n {
            let label = state
                .iter()
                .filter(|s| **s != Sym::Start || state.iter().all(|x| *x == Sym::Start))
                .map(|s| clip(&(self.text)(*s), 48))
                .collect::<Vec<_>>()
                .join("\\n");
            let shape = match state.last() {
                Some(Sym::Start) | Some(Sym::End) => "circle",
                _ => "box",
            };
            let _ = writeln!(
                self.out,
                "  n{id} [shape={shape}, label=\"{}\"];",
                esc(&label)
            );
        }
        format!("n{id}")
    }
}

/// The state an edge leads to.
fn target(state: &State, next: Sym) -> State {
    if next == Sym::End {
        return vec![Sym::End];
    }
    let mut t = state[1..].to_vec();
    t.push(next);
    t
}

/// The merged graph: each transition coloured by where it occurs, differences bold.
pub fn dot(
    transitions: &[Transition],
    text: &impl Fn(Sym) -> String,
    min_edge: u64,
    a: &str,
    b: &str,
) -> String {
    let mut nodes = Nodes {
        ids: BTreeMap::new(),
        text,
        out: String::new(),
    };
    let mut edges = String::new();
    for t in transitions {
        let differs = t.verdict != Verdict::Same;
        if !differs && t.a_count.max(t.b_count) < min_edge {
            continue;
        }
        let (state, next) = &t.key;
        let from = nodes.id(state);
        let to = nodes.id(&target(state, *next));
        let (colour, style, label) = match t.verdict {
            Verdict::OnlyA => ("#d55e00", "bold", format!("only {a}: {}", t.a_count)),
            Verdict::OnlyB => ("#0072b2", "bold", format!("only {b}: {}", t.b_count)),
            Verdict::MoreInB | Verdict::LessInB => (
                if t.verdict == Verdict::MoreInB {
                    "#009e73"
                } else {
                    "#cc79a7"
                },
                "bold",
                format!("{:.1}% → {:.1}%", 100.0 * t.a_share, 100.0 * t.b_share),
            ),
            Verdict::Same if t.a_count == 0 || t.b_count == 0 => {
                ("#999999", "dashed", String::new())
            }
            Verdict::Same => ("#555555", "solid", String::new()),
        };
        let _ = writeln!(
            edges,
            "  {from} -> {to} [color=\"{colour}\", style={style}, label=\"{}\", tooltip=\"{a} {} / {b} {}\"];",
            esc(&label),
            t.a_count,
            t.b_count
        );
    }
    format!(
        "digraph diff {{\n  rankdir=TB;\n  node [fontname=\"DejaVu Sans\", fontsize=10];\n  edge [fontname=\"DejaVu Sans\", fontsize=9];\n  label=\"{a} vs {b}: orange only in {a}, blue only in {b}, green more in {b}, pink less in {b}, dashed in one log within chance\";\n{}{}}}\n",
        nodes.out, edges
    )
}

/// One log's machine: edges with their counts and mean gaps; rare ones (under 1 % of
/// their state's departures) dashed.
pub fn machine_dot(m: &Machine, text: &impl Fn(Sym) -> String, min_edge: u64) -> String {
    let mut nodes = Nodes {
        ids: BTreeMap::new(),
        text,
        out: String::new(),
    };
    let mut edges = String::new();
    for ((state, next), e) in &m.edges {
        if e.count < min_edge {
            continue;
        }
        let from = nodes.id(state);
        let to = nodes.id(&target(state, *next));
        let share = m.share(state, *next);
        let gap = e
            .mean_gap_ms()
            .map_or(String::new(), |g| format!(", {g:.0} ms"));
        let style = if share < 0.01 { "dashed" } else { "solid" };
        let _ = writeln!(
            edges,
            "  {from} -> {to} [style={style}, label=\"{}{gap}\"];",
            e.count
        );
    }
    format!(
        "digraph machine {{\n  node [fontname=\"DejaVu Sans\", fontsize=10];\n  edge [fontname=\"DejaVu Sans\", fontsize=9];\n{}{}}}\n",
        nodes.out, edges
    )
}

/// Renders `path` (DOT) to PNG and SVG beside it with Graphviz's `dot`; `false` when
/// `dot` is not installed, an error when it fails.
pub fn render_dot(path: &Path) -> Result<bool, Error> {
    for ext in ["png", "svg"] {
        let target = path.with_extension(ext);
        let temp = vigil_core::io::temp_sibling(&target);
        let run = std::process::Command::new("dot")
            .arg(format!("-T{ext}"))
            .arg(path)
            .arg("-o")
            .arg(&temp)
            .output();
        match run {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
            Err(e) => {
                return Err(Error::Output {
                    path: target,
                    message: format!("cannot run Graphviz's dot: {e}"),
                });
            }
            Ok(o) if !o.status.success() => {
                let _ = std::fs::remove_file(&temp);
                return Err(Error::Output {
                    path: target,
                    message: format!(
                        "Graphviz's dot failed: {}",
                        String::from_utf8_lossy(&o.stderr).trim()
                    ),
                });
            }
            Ok(_) => std::fs::rename(&temp, &target).map_err(|e| Error::Output {
                path: target.clone(),
                message: e.to_string(),
            })?,
        }
    }
    Ok(true)
}
