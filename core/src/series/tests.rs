use super::*;

fn read(text: &str, options: &ReadOptions) -> Result<Table, Error> {
    read_table_from(text.as_bytes(), Path::new("m.csv"), options)
}

fn ok(text: &str) -> Table {
    read(text, &ReadOptions::default()).unwrap()
}

fn err(text: &str) -> String {
    read(text, &ReadOptions::default()).unwrap_err().to_string()
}

#[test]
fn reads_nab_files_as_they_are() {
    let t = ok(
        "timestamp,value\n2014-02-14 14:30:00,0.132\n2014-02-14 14:35:00,0.134\n2014-02-14 14:40:00,0.134\n",
    );
    assert_eq!(t.columns, ["value"]);
    assert_eq!(
        (t.step, t.series.len(), t.group_column.clone()),
        (300, 1, None)
    );
    let s = &t.series[0].segments[0];
    assert_eq!(s.values, [0.132, 0.134, 0.134]);
    assert_eq!(s.start, 1_392_388_200);
}

#[test]
fn reads_generator_files_by_host_and_ignores_text_columns() {
    let t = ok("timestamp,host,cpu,ram,processes\n\
        2026-01-01T00:00:00Z,web-1,10,20,nginx\n\
        2026-01-01T00:00:00Z,db-1,30,40,postgres;backup\n\
        2026-01-01T00:01:00Z,web-1,11,21,nginx\n\
        2026-01-01T00:01:00Z,db-1,31,41,\n");
    assert_eq!(t.columns, ["cpu", "ram"]);
    assert_eq!(t.group_column.as_deref(), Some("host"));
    assert_eq!(t.step, 60);
    let groups: Vec<_> = t.series.iter().map(|s| s.group.as_str()).collect();
    assert_eq!(groups, ["web-1", "db-1"]);
    assert_eq!(t.series[1].segments[0].values, [30.0, 40.0, 31.0, 41.0]);
}

#[test]
fn short_gaps_are_filled_and_marked_long_gaps_split() {
    let mut text = String::from("ts,x\n");
    for i in [0, 1, 2, 6, 7, 8, 200, 201] {
        text.push_str(&format!("{},{}\n", 1_700_000_000 + i * 60, i));
    }
    let t = ok(&text);
    let segs = &t.series[0].segments;
    assert_eq!(segs.len(), 2, "the 191-step gap splits the series");
    assert_eq!(segs[0].len(), 9);
    assert_eq!(
        segs[0].filled,
        [false, false, false, true, true, true, false, false, false]
    );
    assert_eq!(
        segs[0].values[3..6],
        [3.0, 4.0, 5.0],
        "linear interpolation"
    );
    assert_eq!(segs[1].start, 1_700_000_000 + 200 * 60);
    assert_eq!((t.report.filled_steps, t.report.splits), (3, 1));
}

#[test]
fn irregular_times_snap_to_the_dominant_step() {
    let text = "timestamp,x\n\
        2026-01-01T00:00:00Z,1\n2026-01-01T00:00:58Z,2\n2026-01-01T00:02:03Z,3\n\
        2026-01-01T00:03:00Z,4\n2026-01-01T00:04:00Z,5\n2026-01-01T00:04:10Z,7\n";
    let t = ok(text);
    assert_eq!(t.step, 60);
    let s = &t.series[0].segments[0];
    assert_eq!(
        s.values,
        [1.0, 2.0, 3.0, 4.0, 6.0],
        "two rows on one step are averaged"
    );
    assert_eq!(t.report.merged_rows, 1);
}

#[test]
fn empty_cells_are_gaps_not_zeros() {
    let t = ok("timestamp,a,b\n1700000000,1,10\n1700000060,,20\n1700000120,3,30\n");
    let s = &t.series[0].segments[0];
    assert_eq!(s.values, [1.0, 10.0, 2.0, 20.0, 3.0, 30.0]);
    assert_eq!(s.filled, [false, true, false]);
}

#[test]
fn bad_cells_name_file_line_and_column() {
    let text = "timestamp,cpu\n2026-01-01T00:00:00Z,1\n2026-01-01T00:01:00Z,abc\n\
        2026-01-01T00:02:00Z,3\n2026-01-01T00:03:00Z,4\n2026-01-01T00:04:00Z,5\n";
    let e = err(text);
    assert!(
        e.contains("m.csv:3: column cpu: expected a number, found \"abc\""),
        "{e}"
    );
    let e = err(&text.replace("abc", "NaN"));
    assert!(
        e.contains("m.csv:3") && e.contains("not a finite number"),
        "{e}"
    );
    let e = err(&text.replace("2026-01-01T00:01:00Z", "yesterday"));
    assert!(e.contains("m.csv:3: column timestamp"), "{e}");
    let e = err(&text.replace(",abc", ",2,9"));
    assert!(e.contains("m.csv:3: expected 2 fields"), "{e}");

    let skip = ReadOptions {
        bad_lines: BadLines::Skip,
        ..ReadOptions::default()
    };
    let t = read(text, &skip).unwrap();
    assert_eq!((t.report.rows, t.report.skipped_lines), (4, 1));
    assert_eq!(
        t.series[0].segments[0].filled,
        [false, true, false, false, false]
    );
    assert_eq!(t.series[0].segments[0].values[1], 2.0);
}

/// Issue 18: a row with 9 fields under an 8-column header was scored silently by the
/// detector while the trainer refused it; both read through this check.
#[test]
fn a_row_with_more_fields_than_the_header_is_a_bad_line() {
    let text = "timestamp,host,cpu\n2026-01-01T00:00:00Z,a,1\n2026-01-01T00:01:00Z,a,2,7\n\
        2026-01-01T00:02:00Z,a,3\n2026-01-01T00:03:00Z,a,4\n";
    let e = err(text);
    assert!(
        e.contains("m.csv:3: expected 3 fields like the header, found 4"),
        "{e}"
    );
    let skip = ReadOptions {
        bad_lines: BadLines::Skip,
        ..ReadOptions::default()
    };
    let t = read(text, &skip).unwrap();
    assert_eq!((t.report.rows, t.report.skipped_lines), (3, 1));
}

#[test]
fn empty_header_only_and_single_row_files_are_refused() {
    assert!(err("").contains("empty"), "{}", err(""));
    assert!(err("timestamp,value\n").contains("no data rows"));
    let e = err("timestamp,value\n2026-01-01T00:00:00Z,1\n");
    assert!(e.contains("cannot find the sampling step"), "{e}");
    let e = err("timestamp,host\n2026-01-01T00:00:00Z,a\n");
    assert!(e.contains("no numeric metric column"), "{e}");
    let e = err("when,value\n1,2\n");
    assert!(
        e.contains("no time column") && e.contains("--time-column"),
        "{e}"
    );
}

#[test]
fn chosen_columns_and_time_column() {
    let text = "when,host,a,b\n1700000000,x,1,2\n1700000060,x,3,4\n";
    let options = ReadOptions {
        time_column: Some("when".into()),
        group_column: Some(String::new()),
        columns: Some(vec!["b".into(), "a".into()]),
        ..ReadOptions::default()
    };
    let t = read(text, &options).unwrap();
    assert_eq!(t.columns, ["b", "a"]);
    assert_eq!(t.series[0].segments[0].values, [2.0, 1.0, 4.0, 3.0]);
    let bad = ReadOptions {
        columns: Some(vec!["c".into()]),
        ..options
    };
    assert!(
        read(text, &bad)
            .unwrap_err()
            .to_string()
            .contains("no column \"c\"")
    );
}

/// Issue 18: `--no-group` on a multi-host file averaged the hosts together silently. Times
/// that repeat in more than 1 % of one series' rows are refused, naming the way out; a
/// stray repeated row is still merged and counted.
#[test]
fn no_group_on_several_hosts_is_refused_not_averaged() {
    let mut text = String::from("timestamp,host,cpu\n");
    for i in 0..100 {
        for h in ["web-1", "web-2"] {
            text.push_str(&format!("{},{h},{}\n", 1_700_000_000 + 60 * i, i));
        }
    }
    let none = ReadOptions {
        group_column: Some(String::new()),
        ..ReadOptions::default()
    };
    let err = read(&text, &none).unwrap_err().to_string();
    assert!(
        err.contains("100 of 200 rows repeat another row's time"),
        "{err}"
    );
    assert!(
        err.contains("--group-column (the other columns: host)"),
        "{err}"
    );
    // Grouped, the same file reads as two series.
    assert_eq!(
        read(&text, &ReadOptions::default()).unwrap().series.len(),
        2
    );
    // One stray repeat in a single series is merged and counted.
    let mut text = String::from("timestamp,cpu\n");
    for i in 0..200 {
        text.push_str(&format!("{},{i}\n", 1_700_000_000 + 60 * i));
    }
    text.push_str("1700000060,5\n");
    let t = read(&text, &none).unwrap();
    assert_eq!(t.report.merged_rows, 1);
}
