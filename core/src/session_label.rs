//! Session labels: `session_labels.csv` (`session,host,incident,kind,anomalous`, as the
//! generator writes it), or any list of the anomalous sessions with a `session` column and
//! optional `kind` and `anomalous` columns. Sessions it does not name are normal; a row
//! with `anomalous` false names a normal session worth knowing about (the generator's
//! sessions cut by the start or the end of a file, which are not anomalies). Written by
//! [`write_session_labels`], read by [`read_session_labels`].

use std::collections::HashMap;
use std::path::Path;

use crate::Error;
use crate::label::csv_field;

/// A list of sessions: a `session` column, an optional `kind` column and an optional
/// `anomalous` column (`true`/`false`, `1`/`0`; every row is anomalous without it).
pub fn read_session_labels(path: &Path) -> Result<HashMap<String, (bool, String)>, Error> {
    let err = |line: u64, message: String| Error::line(path, line, message);
    let mut reader = csv::Reader::from_path(path).map_err(|e| err(0, e.to_string()))?;
    let headers = reader.headers().map_err(|e| err(1, e.to_string()))?.clone();
    let col = |name: &str| headers.iter().position(|h| h.trim() == name);
    let session = col("session").ok_or_else(|| err(1, "no session column".into()))?;
    let kind = col("kind");
    let flag = col("anomalous");
    let mut out = HashMap::new();
    for r in reader.records() {
        let line = |r: &csv::StringRecord| r.position().map_or(0, |p| p.line());
        let r = r.map_err(|e| err(e.position().map_or(0, |p| p.line()), e.to_string()))?;
        let key = r.get(session).unwrap_or("").trim().to_string();
        let k = kind
            .and_then(|k| r.get(k))
            .unwrap_or("anomalous")
            .to_string();
        let anomalous = match flag.and_then(|f| r.get(f)).map(str::trim) {
            None | Some("true" | "1") => true,
            Some("false" | "0") => false,
            Some(other) => {
                let shown: String = other.chars().take(40).collect();
                return Err(err(
                    line(&r),
                    format!("anomalous: expected true or false, found {shown:?}"),
                ));
            }
        };
        out.insert(key, (anomalous, k));
    }
    Ok(out)
}

/// One row of `session_labels.csv`: a session an incident bent, or a normal session cut by
/// the start or the end of the file.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionLabel<'a> {
    pub session: &'a str,
    pub host: &'a str,
    /// The incident that bent it (its `id` in `labels.csv` for an incident seen in the
    /// metrics); none for a cut session.
    pub incident: Option<u32>,
    pub kind: &'a str,
    pub anomalous: bool,
}

/// Writes `session_labels.csv` atomically, header included even when there are no rows.
pub fn write_session_labels<'a>(
    path: &Path,
    rows: impl IntoIterator<Item = SessionLabel<'a>>,
) -> Result<(), Error> {
    let mut text = String::from("session,host,incident,kind,anomalous\n");
    for r in rows {
        text.push_str(&format!(
            "{},{},{},{},{}\n",
            csv_field(r.session),
            csv_field(r.host),
            r.incident.map(|i| i.to_string()).unwrap_or_default(),
            csv_field(r.kind),
            r.anomalous
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
                incident: Some(3),
                kind: "disk_fill",
                anomalous: true,
            },
            SessionLabel {
                session: "job-1",
                host: "db,1",
                incident: Some(4),
                kind: "restart",
                anomalous: true,
            },
            SessionLabel {
                session: "job-2",
                host: "db-1",
                incident: None,
                kind: "cut_by_file_end",
                anomalous: false,
            },
        ];
        write_session_labels(&path, rows.iter().cloned()).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.starts_with(
            "session,host,incident,kind,anomalous\nreq-0000002a,web-1,3,disk_fill,true\n"
        ));
        assert!(text.contains("\"db,1\""), "{text}");
        assert!(
            text.contains("job-2,db-1,,cut_by_file_end,false\n"),
            "{text}"
        );
        let read = read_session_labels(&path).unwrap();
        assert_eq!(read.len(), 3);
        assert_eq!(read["job-2"], (false, "cut_by_file_end".to_string()));
        assert_eq!(read["req-0000002a"], (true, "disk_fill".to_string()));
        assert_eq!(read["job-1"], (true, "restart".to_string()));
        write_session_labels(&path, []).unwrap();
        assert!(read_session_labels(&path).unwrap().is_empty());
        // A list without the anomalous column names anomalous sessions only.
        std::fs::write(&path, "session\nblk_1\n").unwrap();
        assert!(read_session_labels(&path).unwrap()["blk_1"].0);
        std::fs::write(&path, "session,anomalous\nblk_1,maybe\n").unwrap();
        let err = read_session_labels(&path).unwrap_err().to_string();
        assert!(err.contains(":2:") && err.contains("\"maybe\""), "{err}");
        std::fs::write(&path, "id,kind\n1,x\n").unwrap();
        let err = read_session_labels(&path).unwrap_err().to_string();
        assert!(err.contains("no session column"), "{err}");
    }
}
