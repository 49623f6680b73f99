//! `sessions.csv`, one judged session a row, written atomically.

use std::io::Write;
use std::path::Path;

use vigil_core::AtomicFile;

use super::Judged;
use super::judge::Cut;

/// The columns of `sessions.csv`, in order.
const HEADER: [&str; 10] = [
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
];

/// Writes `sessions.csv` atomically.
pub fn write_sessions(path: &Path, judged: &[Judged]) -> std::io::Result<()> {
    let mut file = AtomicFile::create(path)?;
    {
        let mut w = csv::Writer::from_writer(&mut file);
        w.write_record(HEADER)?;
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

/// Reads a `sessions.csv` back (the service's views), columns found by their header names.
pub fn read_sessions(path: &Path) -> Result<Vec<Judged>, crate::Error> {
    let bad = |message: String| crate::Error::Read {
        path: path.to_path_buf(),
        message,
    };
    let mut r = csv::Reader::from_path(path).map_err(|e| bad(e.to_string()))?;
    let header = r.headers().map_err(|e| bad(e.to_string()))?.clone();
    let col = |name: &str| {
        header
            .iter()
            .position(|h| h == name)
            .ok_or_else(|| bad(format!("no {name} column")))
    };
    let [
        session,
        anomalous,
        score,
        min_p,
        events,
        first,
        reason,
        baseline,
        new_event,
        cut,
    ] = HEADER.map(col);
    let (session, anomalous, score, min_p, events) =
        (session?, anomalous?, score?, min_p?, events?);
    let (first, reason, baseline, new_event, cut) = (first?, reason?, baseline?, new_event?, cut?);
    let mut out = Vec::new();
    for (i, rec) in r.records().enumerate() {
        let rec = rec.map_err(|e| bad(e.to_string()))?;
        let line = i + 2;
        let field = |c: usize| rec.get(c).unwrap_or("");
        let number = |c: usize| {
            field(c)
                .parse::<usize>()
                .map_err(|_| bad(format!("line {line}: {:?} is not a count", field(c))))
        };
        out.push(Judged {
            session: field(session).to_string(),
            anomalous: field(anomalous) == "1",
            score: number(score)?,
            min_probability: field(min_p).parse().unwrap_or(f32::NAN),
            events: number(events)?,
            first_anomalous_line: field(first).parse().ok(),
            reason: field(reason).to_string(),
            baseline_anomalous: field(baseline) == "1",
            new_event: field(new_event) == "1",
            cut: Cut::parse(field(cut)),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sessions_read_back_as_written() {
        let judged = vec![
            Judged {
                session: "blk_1".into(),
                anomalous: true,
                score: 3,
                min_probability: 0.25,
                events: 7,
                first_anomalous_line: Some(12),
                reason: "event 3, \"x\", never followed 2".into(),
                baseline_anomalous: false,
                new_event: true,
                cut: Cut::End,
            },
            Judged {
                session: "blk_2".into(),
                anomalous: false,
                score: 0,
                min_probability: 0.5,
                events: 2,
                first_anomalous_line: None,
                reason: String::new(),
                baseline_anomalous: true,
                new_event: false,
                cut: Cut::Both,
            },
        ];
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sessions.csv");
        write_sessions(&path, &judged).unwrap();
        assert_eq!(read_sessions(&path).unwrap(), judged);
        std::fs::write(&path, "session,anomalous\nx,1\n").unwrap();
        let e = read_sessions(&path).unwrap_err().to_string();
        assert!(e.contains("no score column"), "{e}");
    }
}
