//! Reading NAB's data files and label windows (`labeler.py`).

use super::*;

/// Parses a NAB timestamp (`2014-02-19 10:50:00.000000`, `2014-02-19 10:50:00`, or any
/// form [`vigil_core::time::parse_timestamp`] reads) as unix seconds, UTC; whole seconds only.
pub(crate) fn parse_time(text: &str) -> Option<i64> {
    let s = text.trim();
    let t = ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f"]
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(s, f).ok())
        .map(|t| t.and_utc())
        .or_else(|| vigil_core::time::parse_timestamp(s).ok())?;
    (t.timestamp_subsec_nanos() == 0).then_some(t.timestamp())
}

/// `{"file": [["start", "end"], ...], ...}` as written, keys in file order, so that a
/// key given twice is caught rather than silently overwritten.
pub(crate) struct WindowJson(Vec<(String, Vec<(String, String)>)>);

impl<'de> serde::Deserialize<'de> for WindowJson {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Entries;
        impl<'de> serde::de::Visitor<'de> for Entries {
            type Value = WindowJson;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an object of file names to [start, end] windows")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<WindowJson, A::Error> {
                let mut entries = Vec::new();
                while let Some(entry) = map.next_entry()? {
                    entries.push(entry);
                }
                Ok(WindowJson(entries))
            }
        }
        d.deserialize_map(Entries)
    }
}

/// Reads NAB's `labels/combined_windows.json`: data-file path → windows `(start, end)`,
/// inclusive unix seconds (timestamps like `2014-02-19 10:50:00.000000`, taken as UTC).
pub fn read_windows(path: &Path) -> Result<BTreeMap<String, Vec<(i64, i64)>>, Error> {
    let text = fs::read_to_string(path).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let json_err = |message: String| Error::Json {
        path: path.to_path_buf(),
        message,
    };
    let raw: WindowJson = serde_json::from_str(&text).map_err(|e| json_err(e.to_string()))?;
    let mut out = BTreeMap::new();
    for (key, windows) in raw.0 {
        if out.contains_key(&key) {
            return Err(json_err(format!("duplicate key {key:?}")));
        }
        let time = |text: &str| {
            parse_time(text).ok_or_else(|| Error::Timestamp {
                file: format!("{}: {key}", path.display()),
                text: text.to_string(),
            })
        };
        let windows = windows
            .iter()
            .map(|(start, end)| Ok((time(start)?, time(end)?)))
            .collect::<Result<Vec<_>, Error>>()?;
        out.insert(key, windows);
    }
    Ok(out)
}

/// Reads a NAB data file (`timestamp,value` CSV): row timestamps (unix seconds) and values.
pub fn read_series(path: &Path) -> Result<(Vec<i64>, Vec<f64>), Error> {
    let csv_error = |message: String| Error::Csv {
        path: path.to_path_buf(),
        message,
    };
    let mut reader = csv::Reader::from_path(path).map_err(|e| csv_error(e.to_string()))?;
    let headers = reader.headers().map_err(|e| csv_error(e.to_string()))?;
    let column = |name: &str| {
        headers
            .iter()
            .position(|h| h.trim() == name)
            .ok_or_else(|| csv_error(format!("no {name:?} column")))
    };
    let (t_col, v_col) = (column("timestamp")?, column("value")?);
    let (mut times, mut values) = (Vec::new(), Vec::new());
    for (i, record) in reader.records().enumerate() {
        let record = record.map_err(|e| csv_error(e.to_string()))?;
        let row = i + 2;
        let field = |c: usize| record.get(c).unwrap_or("");
        let time = parse_time(field(t_col)).ok_or_else(|| Error::Timestamp {
            file: format!("{} line {row}", path.display()),
            text: field(t_col).to_string(),
        })?;
        let value = field(v_col)
            .trim()
            .parse::<f64>()
            .map_err(|_| csv_error(format!("line {row}: bad value {:?}", field(v_col))))?;
        times.push(time);
        values.push(value);
    }
    Ok((times, values))
}

/// Loads the NAB files whose label key starts with `prefix` (e.g. `"realAWSCloudwatch/"`)
/// from a NAB checkout at `root` (`labels/combined_windows.json`, `data/<key>`), in key
/// order: the files and their values.
pub fn load_corpus(root: &Path, prefix: &str) -> Result<Corpus, Error> {
    let windows = read_windows(&root.join("labels").join("combined_windows.json"))?;
    let mut corpus = Corpus::default();
    for (key, windows) in windows.into_iter().filter(|(k, _)| k.starts_with(prefix)) {
        let path = root.join("data").join(&key);
        if !path.exists() {
            corpus.missing.push(key);
            continue;
        }
        match read_series(&path)
            .and_then(|(times, vals)| Ok((NabFile::new(key.clone(), times, windows)?, vals)))
        {
            Ok((file, vals)) => {
                corpus.files.push(file);
                corpus.values.push(vals);
            }
            Err(e) => corpus.skipped.push((key, e.to_string())),
        }
    }
    Ok(corpus)
}

/// The labelled files of a NAB checkout under a prefix: those that could be read, and
/// what happened to the others (a run over "every file" runs what exists and says so).
#[derive(Debug, Default)]
pub struct Corpus {
    pub files: Vec<NabFile>,
    /// Each file's values, in the order of `files`.
    pub values: Vec<Vec<f64>>,
    /// Labelled in `combined_windows.json`, but without a data file.
    pub missing: Vec<String>,
    /// Present but not scorable as NAB scores (e.g. timestamps that go backwards), with why.
    pub skipped: Vec<(String, String)>,
}
