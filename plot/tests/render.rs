//! The renderers through the public API, as the generator, trainer and detector call them.

use vigil_plot::{
    Band, Histogram, Panel, Scale, Span, TimeChart, render_histograms, render_lines,
    render_time_chart,
};

#[test]
fn draws_a_time_chart_and_histograms_without_system_fonts() {
    let dir = tempfile::tempdir().unwrap();
    let t: Vec<i64> = (0..200).map(|i| 1_767_225_600 + i * 3600).collect();
    let mid: Vec<f64> = (0..200)
        .map(|i| 50.0 + 20.0 * (i as f64 / 10.0).sin())
        .collect();
    let band = Band {
        lo: mid.iter().map(|v| v - 5.0).collect(),
        hi: mid.iter().map(|v| v + 5.0).collect(),
        t: t.clone(),
        mid,
    };
    let chart = TimeChart {
        title: "web-1 — 2026-01".into(),
        x_range: (t[0], t[199]),
        panels: vec![
            Panel {
                title: "cpu".into(),
                unit: "%".into(),
                band,
                y_range: Some((0.0, 100.0)),
                ..Panel::default()
            },
            Panel {
                title: "score".into(),
                points: t
                    .iter()
                    .enumerate()
                    .map(|(i, &t)| (t, 0.01 * (1.0 + i as f64), i % 3))
                    .collect(),
                point_legend: vec![("cpu".into(), 0), ("ram".into(), 1), ("disk".into(), 2)],
                hlines: vec![(1.0, "threshold".into())],
                log_y: true,
                ..Panel::default()
            },
        ],
        spans: vec![Span {
            start: t[50],
            end: t[60],
            label: "spike".into(),
            color: 1,
        }],
        markers: vec![(t[100], "train | test".into())],
    };
    let path = dir.path().join("chart.png");
    render_time_chart(&path, &chart, 1000, 220).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    assert_eq!(&bytes[1..4], b"PNG");
    assert!(bytes.len() > 5_000, "suspiciously small: {}", bytes.len());

    let h = Histogram {
        title: "cpu".into(),
        unit: "%".into(),
        edges: (0..=10).map(|i| i as f64 * 10.0).collect(),
        series: vec![
            ("web".into(), vec![1, 5, 9, 4, 2, 1, 0, 0, 0, 0], 0),
            ("db".into(), vec![0, 1, 2, 8, 9, 3, 1, 0, 0, 0], 1),
        ],
    };
    let path = dir.path().join("hist.png");
    render_histograms(
        &path,
        "distributions",
        &[h],
        2,
        &[(42.0, "threshold".into())],
    )
    .unwrap();
    assert_eq!(&std::fs::read(&path).unwrap()[1..4], b"PNG");
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        2,
        "temporary files left behind"
    );
}

#[test]
fn draws_a_log_scale_line_chart_with_a_marker() {
    let dir = tempfile::tempdir().unwrap();
    let series: Vec<(String, Vec<(f64, f64)>)> = ["training", "validation"]
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let points = (1..=40)
                .map(|e| (e as f64, (1.0 + i as f64) / e as f64))
                .collect();
            (name.to_string(), points)
        })
        .collect();
    let path = dir.path().join("loss.png");
    render_lines(
        &path,
        "loss",
        "epoch",
        "mean squared error",
        &series,
        Scale::Log,
        Some((12.0, "best epoch (12)".into())),
    )
    .unwrap();
    let bytes = std::fs::read(&path).unwrap();
    assert_eq!(&bytes[1..4], b"PNG");
    assert!(bytes.len() > 5_000, "suspiciously small: {}", bytes.len());
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        1,
        "temporary files left behind"
    );
}
