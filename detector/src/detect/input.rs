//! Reading the input: the column layout, each line parsed into a group, a time and values,
//! bad lines failed or skipped, a group's step checked against the model's.

use std::path::Path;

use super::alarm::BASELINE_TAG;
use super::*;
use vigil_core::series::{BadLines, TIME_NAMES};
use vigil_core::time::parse_timestamp;

/// Column positions of the input.
pub(super) struct Layout {
    /// Fields in the header: every row must have as many.
    fields: usize,
    time: usize,
    group: Option<usize>,
    columns: Vec<usize>,
}

impl Detector<'_> {
    pub(super) fn layout<R: std::io::Read>(
        &self,
        reader: &mut csv::Reader<R>,
        path: &Path,
    ) -> Result<Layout, Error> {
        let file_err = |message: String| -> Error {
            vigil_core::Error::File {
                path: path.to_path_buf(),
                message,
            }
            .into()
        };
        let headers =
            vigil_core::series::read_header(reader, path, "a header with the model's columns")?;
        let find = |name: &str| headers.iter().position(|h| h == name);
        let spec = &self.model.data;
        let time = find(&spec.time_column)
            .or_else(|| TIME_NAMES.iter().find_map(|n| find(n)))
            .ok_or_else(|| {
                file_err(format!(
                    "no time column (the model's is {:?}); the columns are {}",
                    spec.time_column,
                    headers.join(", ")
                ))
            })?;
        let group = match &spec.group_column {
            Some(g) => Some(find(g).ok_or_else(|| {
                file_err(format!(
                    "no {g:?} column: the model was trained per {g}; the columns are {}",
                    headers.join(", ")
                ))
            })?),
            None => None,
        };
        let missing: Vec<&str> = spec
            .columns
            .iter()
            .filter(|c| find(c).is_none())
            .map(String::as_str)
            .collect();
        if !missing.is_empty() {
            return Err(file_err(format!(
                "the columns differ from the model's: it was trained on {}; this file lacks {} (it has {})",
                spec.columns.join(", "),
                missing.join(", "),
                headers.join(", ")
            )));
        }
        let columns = spec.columns.iter().filter_map(|c| find(c)).collect();
        Ok(Layout {
            fields: headers.len(),
            time,
            group,
            columns,
        })
    }

    pub(super) fn parse<'r>(
        &self,
        record: &'r csv::StringRecord,
        layout: &Layout,
        values: &mut [f32],
    ) -> Result<(&'r str, i64), String> {
        vigil_core::series::check_width(record, layout.fields)?;
        let field = |i: usize| record.get(i).unwrap_or("");
        let t = field(layout.time);
        let time = parse_timestamp(t)
            .map_err(|e| format!("bad timestamp {t:?}: {e}"))?
            .timestamp();
        let group = layout.group.map_or("", field);
        for ((v, &c), name) in values
            .iter_mut()
            .zip(&layout.columns)
            .zip(&self.model.data.columns)
        {
            let text = field(c);
            *v = text
                .parse::<f32>()
                .ok()
                .filter(|x| x.is_finite())
                .ok_or_else(|| {
                    if text.is_empty() {
                        format!("column {name}: missing value")
                    } else {
                        format!("column {name}: {text:?} is not a finite number")
                    }
                })?;
        }
        Ok((group, time))
    }

    pub(super) fn bad_line(
        &mut self,
        path: &Path,
        line: u64,
        message: String,
    ) -> Result<(), Error> {
        match self.options.bad_lines {
            BadLines::Fail => Err(vigil_core::Error::Line {
                path: path.to_path_buf(),
                line,
                message: format!("{message} (--skip-bad-lines skips and counts such lines)"),
            }
            .into()),
            BadLines::Skip => {
                self.report.skipped_lines += 1;
                let reason: String = message
                    .split(':')
                    .next()
                    .unwrap_or("")
                    .chars()
                    .take(40)
                    .collect();
                *self.report.skipped_by_reason.entry(reason).or_default() += 1;
                Ok(())
            }
        }
    }

    pub(super) fn group(&mut self, path: &Path, line: u64, name: &str) -> Result<usize, Error> {
        if let Some(&g) = self.index.get(name) {
            return Ok(g);
        }
        if !self.options.allow_new_hosts && !self.model.baseline.knows(name) {
            let known: Vec<&str> = self
                .model
                .baseline
                .groups
                .keys()
                .map(String::as_str)
                .take(12)
                .collect();
            return Err(vigil_core::Error::Line {
                path: path.to_path_buf(),
                line,
                message: format!(
                    "unknown host {name:?}: the model was trained on {} (--allow-new-hosts scores new hosts with the fleet's statistics)",
                    known.join(", ")
                ),
            }.into());
        }
        // The range's absorb span in rows (0: off).
        let absorb_rows = self.options.range_absorb.map_or(0, |d| {
            (d.secs() / self.model.data.step.max(1)).max(1) as usize
        });
        let g = self.groups.len();
        self.groups.push(Group {
            name: name.to_string(),
            last_grid: None,
            last_time: None,
            ring: VecDeque::with_capacity(self.need * self.width),
            deltas: Vec::new(),
            step_checked: false,
            score_model: self.scorers.0.clone(),
            score_baseline: self.scorers.1.clone(),
            range: self.options.range.map(|tolerance| {
                match self.model.baseline.bounds(name) {
                    Some((min, max)) => Range::with_bounds(min, max, tolerance),
                    None => Range::new(self.width, tolerance, RANGE_WARM_UP),
                }
                .with_delay(self.options.min_duration)
                .with_absorb(absorb_rows)
            }),
            last_values: Vec::new(),
            repeated: 0,
            model: Alarm::new(0, self.options.suppress_secs(), self.options.daily_repeats),
            baseline: Alarm::new(
                BASELINE_TAG,
                self.options.suppress_secs(),
                self.options.daily_repeats,
            ),
            recent: VecDeque::with_capacity(REFERENCE_ROWS * self.width),
        });
        self.index.insert(name.to_string(), g);
        self.report.hosts = self.groups.len();
        Ok(g)
    }

    pub(super) fn check_step(&mut self, path: &Path, g: usize) -> Result<(), Error> {
        let group = &mut self.groups[g];
        if group.step_checked || group.deltas.is_empty() {
            return Ok(());
        }
        group.step_checked = true;
        let mut d = group.deltas.clone();
        d.sort_unstable();
        let median = d[d.len() / 2];
        let step = self.model.data.step;
        if median == step {
            return Ok(());
        }
        // A step near the model's (a clock that drifts, a collector that was reconfigured:
        // 11 min for 10) is resampled onto the model's grid, as the trainer resamples its
        // data; another resolution altogether needs another model.
        let ratio = median as f64 / step as f64;
        if (1.0 / MAX_STEP_RATIO..=MAX_STEP_RATIO).contains(&ratio) {
            self.report.resampled.push(Resampled {
                host: group.name.clone(),
                step: median,
                model_step: step,
            });
            return Ok(());
        }
        let host = if group.name.is_empty() {
            String::new()
        } else {
            format!(" for {}", group.name)
        };
        Err(vigil_core::Error::File {
            path: path.to_path_buf(),
            message: format!(
                "the rows are {} apart{host}, but the model was trained on a step of {}: resample the data or train a model on this step (steps within ×{MAX_STEP_RATIO} of the model's are resampled onto it)",
                crate::explain::duration(median),
                crate::explain::duration(step)
            ),
        }
        .into())
    }
}
