//! `sessions.csv`, one judged session a row, written atomically.

use std::io::Write;
use std::path::Path;

use vigil_core::AtomicFile;

use super::Judged;

/// Writes `sessions.csv` atomically.
pub fn write_sessions(path: &Path, judged: &[Judged]) -> std::io::Result<()> {
    let mut file = AtomicFile::create(path)?;
    {
        let mut w = csv::Writer::from_writer(&mut file);
        w.write_record([
            "session",
            "anomalous",
            "score",
            "min_probability",
            "events",
            "first_anomalous_line",
            "reason",
            "baseline_anomalous",
            "new_event",
            "cut_by_file",
        ])?;
        for j in judged {
            w.write_record([
                j.session.as_str(),
                if j.anomalous { "1" } else { "0" },
                &j.score.to_string(),
                &format!("{:.3e}", j.min_probability),
                &j.events.to_string(),
                &j.first_anomalous_line
                    .map_or(String::new(), |l| l.to_string()),
                &j.reason,
                if j.baseline_anomalous { "1" } else { "0" },
                if j.new_event { "1" } else { "0" },
                j.cut.as_str(),
            ])?;
        }
        w.flush()?;
    }
    file.flush()?;
    file.commit()
}
