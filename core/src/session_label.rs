//! Session labels: `session_labels.csv` (`session,host,incident,kind`, as the generator
//! writes it), or any list of the anomalous sessions with a `session` column and an
//! optional `kind` column. Sessions it does not name are normal. Written by
//! [`write_session_labels`], read by [`read_session_labels`].

use std::collections::HashMap;
use std::path::Path;

use crate::Error;
use crate::label::csv_field;

/// A list of anomalous sessions: a `session` column and an optional `kind` column.
pub fn read_session_labels(path: &Path) -> Result<HashMap<String, (bool, String)>, Error> {
    let err = |line: u64, message: String| Error::line(path, line, message);
    let mut reader = csv::Reader::from_path(path).map_err(|e| err(0, e.to_string()))?;
    let headers = reader.headers().map_err(|e| err(1, e.to_string()))?.clone();
    let col = |name: &str| headers.iter().position(|h| h.trim() == name);
    let session = col("session").ok_or_else(|| err(1, "no session column".into()))?;
    let kind = col("kind");
    let mut out = HashMap::new();
    for r in reader.records() {
        let r = r.map_err(|e| err(e.position().map_or(0, |p| p.line()), e.to_string()))?;
        let key = r.get(session).unwrap_or("").trim().to_string();
        let k = kind
            .and_then(|k| r.get(k))
            .unwrap_or("anomalous")
            .to_string();
        out.insert(key, (true, k));
    }
    Ok(out)
}

/// One row of `session_labels.csv`: a session an incident bent.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionLabel<'a> {
    pub session: &'a str,
    pub host: &'a str,
    /// The incident's `id` in `labels.csv`.
    pub incident: u32,
    pub kind: &'a str,
}

/// Writes `session_labels.csv` atomically, header included even when there are no rows.
pub fn write_session_labels<'a>(
    path: &Path,
    rows: impl IntoIterator<Item = SessionLabel<'a>>,
) -> Result<(), Error> {
    let mut text = String::from("session,host,incident,kind\n");
    for r in rows {
        text.push_str(&format!(
            "{},{},{},{}\n",
            csv_field(r.session),
            csv_field(r.host),
            r.incident,
            csv_field(r.kind)
        ));
    }
    crate::io::write_atomic(path, text.as_bytes()).map_err(|source| Error::Write {
        path: path.to_path_buf(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn written_labels_read_back_with_their_kind() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("session_labels.csv");
        let rows = [
            SessionLabel {
                session: "req-0000002a",
                host: "web-1",
                incident: 3,
                kind: "disk_fill",
            },
            SessionLabel {
                session: "job-1",
                host: "db,1",
                incident: 4,
                kind: "restart",
            },
        ];
        write_session_labels(&path, rows.iter().cloned()).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.starts_with("session,host,incident,kind\nreq-0000002a,web-1,3,disk_fill\n"));
        assert!(text.contains("\"db,1\""), "{text}");
        let read = read_session_labels(&path).unwrap();
        assert_eq!(read.len(), 2);
        assert_eq!(read["req-0000002a"], (true, "disk_fill".to_string()));
        assert_eq!(read["job-1"], (true, "restart".to_string()));
        write_session_labels(&path, []).unwrap();
        assert!(read_session_labels(&path).unwrap().is_empty());
        std::fs::write(&path, "id,kind\n1,x\n").unwrap();
        let err = read_session_labels(&path).unwrap_err().to_string();
        assert!(err.contains("no session column"), "{err}");
    }
}
