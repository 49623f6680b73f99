//! Session labels: `session_labels.csv` (`session,host,incident,kind`, as the generator
//! writes it), or any list of the anomalous sessions with a `session` column and an
//! optional `kind` column. Sessions it does not name are normal.

use std::collections::HashMap;
use std::path::Path;

use crate::Error;

/// A list of anomalous sessions: a `session` column and an optional `kind` column.
pub fn read_session_labels(path: &Path) -> Result<HashMap<String, (bool, String)>, Error> {
    let err = |line: u64, message: String| Error::Line {
        path: path.to_path_buf(),
        line,
        message,
    };
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
