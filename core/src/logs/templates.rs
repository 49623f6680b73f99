//! The templates file of a pre-parsed log: `EventId,EventTemplate[,…]`.

use std::collections::HashMap;
use std::path::Path;

use super::Error;

/// Template texts of a templates file: `EventId,EventTemplate[,…]`.
pub fn read_templates(path: &Path) -> Result<HashMap<String, String>, Error> {
    let err = |line: u64, message: String| Error::line(path, line, message);
    let mut reader = csv::Reader::from_path(path).map_err(|e| err(0, e.to_string()))?;
    let headers = reader.headers().map_err(|e| err(1, e.to_string()))?.clone();
    let col = |name: &str| {
        headers
            .iter()
            .position(|h| h.trim() == name)
            .ok_or_else(|| {
                err(
                    1,
                    format!("no {name} column (expected EventId,EventTemplate)"),
                )
            })
    };
    let (id, text) = (col("EventId")?, col("EventTemplate")?);
    let mut out = HashMap::new();
    for r in reader.records() {
        let r = r.map_err(|e| err(e.position().map_or(0, |p| p.line()), e.to_string()))?;
        let line = r.position().map_or(0, |p| p.line());
        match (r.get(id), r.get(text)) {
            (Some(i), Some(t)) => {
                out.insert(i.trim().to_string(), t.to_string());
            }
            _ => return Err(err(line, "missing EventId or EventTemplate".into())),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_ids_and_texts_and_names_what_is_missing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("templates.csv");
        std::fs::write(
            &path,
            "EventId,EventTemplate,Occurrences\nE5,\"Receiving block <*> src: <*>\",3\n 7 ,PacketResponder <*> terminating,1\n",
        )
        .unwrap();
        let t = read_templates(&path).unwrap();
        assert_eq!(t.len(), 2);
        assert_eq!(t["E5"], "Receiving block <*> src: <*>");
        assert_eq!(t["7"], "PacketResponder <*> terminating", "ids are trimmed");
        std::fs::write(&path, "Id,Text\n1,x\n").unwrap();
        let e = read_templates(&path).unwrap_err().to_string();
        assert!(e.contains(":1: no EventId column"), "{e}");
    }
}
