//! `<file>.scores.csv`: a NAB results file per data file, one row per data row, so anyone
//! can re-score the run with NAB's own scorer.

use super::*;

/// Writes `path` (atomically): `timestamp,value,anomaly_score,label,anomaly,
/// baseline_score,baseline_anomaly`, the timestamp as NAB writes it, `label` 1 inside a
/// labelled window, `anomaly_score` the model's score and `anomaly` the default run's
/// alarms: 1 at the first row of each anomalous stretch only (a stretch pages a user once).
pub(super) fn write_results(
    path: &Path,
    file: &NabFile,
    values: &[f32],
    scores: &[f64],
    alarms: &[bool],
    base_scores: &[f64],
    base_alarms: &[bool],
) -> Result<(), Error> {
    let mut label = vec![false; file.len()];
    for &(l, r) in file.window_rows() {
        for x in &mut label[l..=r.min(file.len().saturating_sub(1))] {
            *x = true;
        }
    }
    let mut s = String::from(
        "timestamp,value,anomaly_score,label,anomaly,baseline_score,baseline_anomaly\n",
    );
    for (i, &t) in file.times().iter().enumerate() {
        let time = chrono::DateTime::from_timestamp(t, 0)
            .map(|d| d.format("%Y-%m-%d %H:%M:%S").to_string())
            .unwrap_or_default();
        let _ = writeln!(
            s,
            "{time},{},{:.6},{},{},{:.6},{}",
            values.get(i).copied().unwrap_or(f32::NAN),
            scores.get(i).copied().unwrap_or(0.0),
            u8::from(label[i]),
            u8::from(alarms.get(i).copied().unwrap_or(false)),
            base_scores.get(i).copied().unwrap_or(0.0),
            u8::from(base_alarms.get(i).copied().unwrap_or(false)),
        );
    }
    vigil_core::io::write_atomic(path, s.as_bytes()).map_err(|e| Error::Csv {
        path: path.to_path_buf(),
        message: e.to_string(),
    })
}
