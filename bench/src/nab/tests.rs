use super::*;
use proptest::prelude::*;

/// `2 σ(5) - 1`: the unweighted score at a window's first row.
const MAX_TP: f64 = 0.9866142981514305;

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-12
}

/// A file of `n` rows one minute apart with windows given as row ranges.
fn file(n: usize, windows: &[(usize, usize)]) -> NabFile {
    let times = (0..n as i64)
        .map(|i| 1_400_000_000 + 60 * i)
        .collect::<Vec<_>>();
    let windows = windows.iter().map(|&(l, r)| (times[l], times[r])).collect();
    NabFile::new("test.csv", times, windows).expect("valid test file")
}

fn alarms(n: usize, at: &[usize]) -> Vec<bool> {
    let mut a = vec![false; n];
    for &i in at {
        a[i] = true;
    }
    a
}

fn score(f: &NabFile, at: &[usize], profile: &Profile) -> FileScore {
    score_file(f, &alarms(f.len(), at), profile).expect("scored")
}

/// A profile with every weight 1, as NAB's own scorer tests use.
const UNIT: Profile = Profile {
    name: "unit",
    tp: 1.0,
    fp: 1.0,
    fn_: 1.0,
    tn: 1.0,
};

#[test]
fn probationary_length_matches_nab() {
    let cases = [
        (0, 0),
        (10, 1),
        (20, 3),
        (100, 15),
        (1243, 186),
        (4032, 604),
        (4730, 709),
        (5000, 750),
        (6000, 750),
    ];
    for (n, rows) in cases {
        assert_eq!(probationary_rows(n), rows, "n = {n}");
    }
}

#[test]
fn profiles_match_profiles_json() {
    assert_eq!(
        PROFILES.map(|p| p.name),
        ["standard", "reward_low_FP_rate", "reward_low_FN_rate"]
    );
    assert_eq!(
        PROFILES.map(|p| (p.tp, p.fp, p.fn_, p.tn)),
        [
            (1.0, 0.11, 1.0, 1.0),
            (1.0, 0.22, 1.0, 1.0),
            (1.0, 0.11, 2.0, 1.0)
        ]
    );
}

#[test]
fn scaled_sigmoid_values() {
    assert!(close(scaled_sigmoid(-1.0), MAX_TP));
    assert!(close(
        scaled_sigmoid(-1.0),
        2.0 / (1.0 + (-5.0f64).exp()) - 1.0
    ));
    assert_eq!(scaled_sigmoid(0.0), 0.0);
    assert!(close(scaled_sigmoid(1.0), -MAX_TP));
    assert!(close(scaled_sigmoid(3.0), -0.9999993881955461));
    assert_eq!(scaled_sigmoid(3.0001), -1.0);
}

#[test]
fn detection_at_window_start_earns_tp_weight() {
    // NAB divides by scaledSigmoid(-1), so the first row earns exactly tpWeight
    // (NAB's true_positive_test.testFirstTruePositiveWithinWindow).
    let f = file(100, &[(40, 49)]);
    for profile in PROFILES {
        let s = score(&f, &[40], &profile);
        assert_eq!(s.score, 1.0);
        assert_eq!((s.tp, s.fp, s.fn_, s.tn), (1, 0, 9, 75));
        assert_eq!((s.windows, s.windows_scored, s.windows_detected), (1, 1, 1));
    }
}

#[test]
fn nab_scoring_all_metrics_example() {
    // NAB's scorer_test.testScoringAllMetrics: 100 rows, windows at rows 30..34 and
    // 65..69, detections at 30 (TP), 31 (second TP, ignored) and 37 (FP).
    // FP position (37 - 34) / (5 - 1) = 0.75: 2σ(-3.75) - 1 = -0.95405.
    let f = file(100, &[(30, 34), (65, 69)]);
    let s = score(&f, &[30, 31, 37], &UNIT);
    let fp = 2.0 / (1.0 + 3.75f64.exp()) - 1.0;
    assert!(close(s.score, 1.0 + fp - 1.0));
    assert!(close(s.score, -0.9540452601799487));
    // NAB's test uses no probation: tn = 89 there, 89 - 15 probationary rows here.
    assert_eq!((s.tp, s.fp, s.fn_, s.tn), (2, 1, 8, 74));
    let standard = score(&f, &[30, 31, 37], &STANDARD);
    assert!(close(standard.score, 1.0 + 0.11 * fp - 1.0));
    assert!(close(standard.score, -0.10494497861979435));
}

#[test]
fn later_detections_score_by_relative_position() {
    let f = file(100, &[(30, 34)]);
    // Row 31: position -(34 - 31 + 1) / 5 = -0.8, 2σ(4) - 1 over 2σ(5) - 1.
    let row31 = (2.0 / (1.0 + (-4.0f64).exp()) - 1.0) / MAX_TP;
    assert!(close(score(&f, &[31], &STANDARD).score, row31));
    assert!(close(row31, 0.9771068409226045));
    // Only the earliest detection counts.
    let both = score(&f, &[31, 33], &STANDARD);
    assert_eq!(both.score, score(&f, &[31], &STANDARD).score);
    assert_eq!(both.tp, 2);
    // Right edge: position -1/5, 2σ(1) - 1 = tanh(0.5), over MAX_TP.
    let edge = score(&f, &[34], &STANDARD).score;
    assert!(close(edge, 0.5f64.tanh() / MAX_TP));
    assert!(close(edge, 0.46838684390227814));
}

#[test]
fn missed_windows_cost_fn_weight() {
    let f = file(100, &[(30, 34), (65, 69)]);
    assert_eq!(score(&f, &[], &STANDARD).score, -2.0);
    assert_eq!(score(&f, &[], &REWARD_LOW_FP_RATE).score, -2.0);
    assert_eq!(score(&f, &[], &REWARD_LOW_FN_RATE).score, -4.0);
    assert_eq!(score(&f, &[30], &REWARD_LOW_FN_RATE).score, 1.0 - 2.0);
}

#[test]
fn false_positive_before_any_window_costs_fp_weight() {
    let f = file(100, &[(60, 69)]);
    assert!(close(score(&f, &[20], &STANDARD).score, -0.11 - 1.0));
    assert!(close(
        score(&f, &[20], &REWARD_LOW_FP_RATE).score,
        -0.22 - 1.0
    ));
    let no_windows = file(100, &[]);
    let s = score(&no_windows, &[20, 21], &STANDARD);
    assert!(close(s.score, -0.22));
    assert_eq!((s.tp, s.fp, s.fn_, s.tn), (0, 2, 0, 83));
}

#[test]
fn false_positive_after_window_scored_by_sigmoid() {
    let f = file(100, &[(30, 34)]);
    // Row 35: position |34 - 35| / (5 - 1) = 0.25: 2σ(-1.25) - 1 = -0.55460.
    let fp = 2.0 / (1.0 + 1.25f64.exp()) - 1.0;
    assert!(close(fp, -0.5545997223493824));
    let s = score(&f, &[35], &STANDARD);
    assert!(close(s.score, 0.11 * fp - 1.0));
    // NAB's true_positive_test.testTruePositiveAtRightEdgeOfWindow: TP at the right
    // edge plus FP just after, plus the missed window, is nearly 0 (at fp weight 1).
    let wide = file(1000, &[(450, 549)]);
    let tp = score(&wide, &[549], &UNIT).score;
    let fp = score(&wide, &[550], &UNIT).score;
    assert!((tp + fp + 1.0).abs() < 1e-3);
    // Far past the window (position > 3) a false positive costs the full fp weight.
    assert!(close(score(&f, &[47], &STANDARD).score, -0.11 - 1.0));
    // An earlier false positive after a window costs less than a later one.
    assert!(score(&f, &[36], &UNIT).score > score(&f, &[37], &UNIT).score);
}

#[test]
fn probationary_rows_are_not_scored() {
    // 100 rows: rows 0..15 are probationary.
    let f = file(100, &[(60, 69)]);
    let s = score(&f, &[0, 5, 14], &STANDARD);
    assert_eq!(s.score, -1.0);
    assert_eq!((s.tp, s.fp, s.fn_, s.tn), (0, 0, 10, 75));
    assert!(close(score(&f, &[15], &STANDARD).score, -0.11 - 1.0));
}

#[test]
fn windows_in_probation_are_not_scored_but_shape_later_false_positives() {
    // 100 rows: rows 0..15 are probationary. A window at rows 5..14 lies wholly in
    // probation: no miss is charged for it, but the false positive at row 15 is scored
    // after it: |14 - 15| / (10 - 1) = 1/9, and 2σ(-5/9) - 1 = -tanh(5/18).
    let f = file(100, &[(5, 14)]);
    let s = score(&f, &[], &STANDARD);
    assert_eq!(s.score, 0.0);
    assert_eq!((s.windows, s.windows_scored, s.fn_), (1, 0, 0));
    let fp = score(&f, &[15], &STANDARD).score;
    assert!(close(fp, 0.11 * -(5.0f64 / 18.0).tanh()));
    // From row 42 the position (28/9) passes 3 and the full -fp applies.
    assert!(close(
        score(&f, &[41], &STANDARD).score,
        0.11 * scaled_sigmoid(3.0)
    ));
    assert!(close(score(&f, &[42], &STANDARD).score, -0.11));
}

#[test]
fn window_straddling_probation_keeps_its_full_width() {
    // Window rows 10..19 (width 10), probation ends at 15.
    let f = file(100, &[(10, 19)]);
    // A detection inside probation does not count: the window is missed.
    assert_eq!(score(&f, &[12], &STANDARD).score, -1.0);
    // Row 15: position -(19 - 15 + 1) / 10 = -0.5: (2σ(2.5) - 1) / MAX_TP.
    let s = score(&f, &[12, 15], &STANDARD);
    assert!(close(s.score, 1.25f64.tanh() / MAX_TP));
    assert!(close(s.score, 0.8597925669097837));
    assert_eq!((s.tp, s.fn_), (1, 4));
}

#[test]
fn repeated_timestamps_follow_first_occurrence() {
    // Rows 50 and 51 share a timestamp, as in NAB's daylight-saving repeats. A window
    // ending at that time ends at row 50 (NAB's `timestamps.index`), so row 51 is
    // outside: a false positive at |50 - 51| / (2 - 1) = 1.
    let mut times = (0..100i64).map(|i| 60 * i).collect::<Vec<_>>();
    for t in &mut times[51..] {
        *t -= 60;
    }
    let f = NabFile::new("dup.csv", times, vec![(49 * 60, 50 * 60)]).expect("valid");
    assert_eq!(f.window_rows(), &[(49, 50)]);
    let s = score(&f, &[51], &STANDARD);
    assert!(close(s.score, 0.11 * -MAX_TP - 1.0));
    assert_eq!((s.fp, s.fn_), (1, 2));
}

#[test]
fn invalid_inputs_are_rejected_with_the_file_name() {
    let times: Vec<i64> = (0..10).map(|i| 60 * i).collect();
    let cases = [
        (times.clone(), vec![(30, 60)]),
        (times.clone(), vec![(60, 120), (120, 180)]),
        (times.clone(), vec![(180, 240), (60, 120)]),
        (times.clone(), vec![(120, 60)]),
        (vec![0, 60, 30], vec![]),
    ];
    for (times, windows) in cases {
        let err = NabFile::new("bad.csv", times, windows).expect_err("invalid");
        assert!(err.to_string().starts_with("bad.csv: "), "{err}");
    }
    let f = file(10, &[]);
    let err = score_file(&f, &[false; 9], &STANDARD).expect_err("short");
    assert!(err.to_string().contains("test.csv"), "{err}");
    let err = optimise_threshold(&[f], &[], &STANDARD).expect_err("count");
    assert!(matches!(
        err,
        Error::FileCount {
            expected: 1,
            got: 0
        }
    ));
}

#[test]
fn normalisation_perfect_is_100_and_null_is_0() {
    let files = [
        file(100, &[(30, 34), (65, 69)]),
        file(200, &[(120, 139)]),
        file(50, &[]),
    ];
    for profile in PROFILES {
        let null: Vec<Vec<bool>> = files.iter().map(|f| vec![false; f.len()]).collect();
        let n = normalised(&files, &null, &profile).expect("null");
        assert_eq!(n.raw, -3.0 * profile.fn_);
        assert_eq!(n.null, n.raw);
        assert_eq!(n.perfect, 3.0);
        assert_eq!(n.normalised, 0.0);

        let perfect = [alarms(100, &[30, 65]), alarms(200, &[120]), alarms(50, &[])];
        let p = normalised(&files, &perfect, &profile).expect("perfect");
        assert_eq!(p.raw, 3.0);
        assert_eq!(p.normalised, 100.0);
        assert_eq!((p.windows, p.windows_detected), (3, 3));
    }
    // One window of two found at its start, the other missed (standard):
    // raw = 1 - 1 = 0, null = -2, perfect = 2: 100 × 2 / 4 = 50.
    let two = [file(100, &[(30, 34), (65, 69)])];
    let half = normalised(&two, &[alarms(100, &[30])], &STANDARD).expect("half");
    assert_eq!((half.raw, half.null, half.perfect), (0.0, -2.0, 2.0));
    assert_eq!(half.normalised, 50.0);
    // No windows: normalisation is undefined.
    let none = normalised(&[file(50, &[])], &[vec![false; 50]], &STANDARD).expect("none");
    assert!(none.normalised.is_nan());
}

#[test]
fn optimiser_finds_the_best_threshold() {
    // Window at rows 40..49. Row 5 (probationary) has the highest score but is not a
    // candidate; 0.9 at row 42 is a TP, 0.85 at row 43 a later TP (same score: the tie
    // goes to the higher threshold), 0.8 at row 20 a FP before the window.
    let f = file(100, &[(40, 49)]);
    let mut s = vec![0.0; 100];
    (s[5], s[42], s[43], s[20], s[60]) = (0.95, 0.9, 0.85, 0.8, 0.5);
    let files = [f];
    let scores = [s];
    let (threshold, best) = optimise_threshold(&files, &scores, &STANDARD).expect("optimised");
    assert_eq!(threshold, 0.9);
    assert!(close(best.raw, 0.9771068409226045));
    assert_eq!((best.tp, best.fp), (1, 0));
    for t in [f64::INFINITY, 0.95, 0.85, 0.8, 0.5, 0.0] {
        let at = score_at_threshold(&files, &scores, t, &STANDARD).expect("scored");
        assert!(
            best.raw >= at.raw,
            "threshold {t}: {} > {}",
            at.raw,
            best.raw
        );
    }
    assert!(close(
        score_at_threshold(&files, &scores, 0.8, &STANDARD)
            .expect("s")
            .raw,
        0.9771068409226045 - 0.11
    ));
}

#[test]
fn optimiser_never_alarms_when_alarms_only_hurt() {
    let files = [file(100, &[])];
    let scores = [(0..100).map(f64::from).collect::<Vec<_>>()];
    let (threshold, best) = optimise_threshold(&files, &scores, &STANDARD).expect("optimised");
    assert_eq!(threshold, f64::INFINITY);
    assert_eq!(best.raw, 0.0);
    assert_eq!(best.fp, 0);
}

#[test]
fn optimiser_ignores_probationary_nan_but_rejects_others() {
    let files = [file(100, &[(40, 49)])];
    let mut s = vec![0.0; 100];
    s[3] = f64::NAN;
    s[41] = 1.0;
    let (threshold, _) = optimise_threshold(&files, &[s.clone()], &STANDARD).expect("ok");
    assert_eq!(threshold, 1.0);
    s[30] = f64::NAN;
    let err = optimise_threshold(&files, &[s], &STANDARD).expect_err("nan");
    assert!(matches!(err, Error::BadScore { row: 30, .. }), "{err}");
}

proptest! {
    #[test]
    fn optimiser_matches_brute_force(
        lens in prop::collection::vec(20usize..150, 1..4),
        seeds in prop::collection::vec(0u32..1000, 600),
        starts in prop::collection::vec((0usize..150, 1usize..20), 0..4),
        profile in 0usize..3,
    ) {
        let profile = PROFILES[profile];
        let mut files = Vec::new();
        let mut scores = Vec::new();
        for (f, &n) in lens.iter().enumerate() {
            let mut windows: Vec<(usize, usize)> = Vec::new();
            for &(start, width) in &starts {
                let start = (start + 37 * f) % n;
                let end = (start + width).min(n - 1);
                if windows.last().is_none_or(|&(_, e)| start > e) {
                    windows.push((start, end));
                }
            }
            files.push(file(n, &windows));
            // Few distinct values, so that thresholds tie across rows.
            scores.push((0..n).map(|i| f64::from(seeds[(i * 7 + f * 13) % seeds.len()] % 12) / 11.0).collect::<Vec<_>>());
        }
        let (threshold, best) = optimise_threshold(&files, &scores, &profile).expect("optimised");
        let mut candidates: Vec<f64> = scores.iter().flatten().copied().collect();
        candidates.push(f64::INFINITY);
        let mut brute = f64::NEG_INFINITY;
        for &t in &candidates {
            let at = score_at_threshold(&files, &scores, t, &profile).expect("scored");
            prop_assert!(best.raw >= at.raw - 1e-9, "threshold {}: {} > {}", t, at.raw, best.raw);
            brute = brute.max(at.raw);
        }
        prop_assert!((best.raw - brute).abs() < 1e-9);
        let again = score_at_threshold(&files, &scores, threshold, &profile).expect("scored");
        prop_assert_eq!(again.raw, best.raw);
        prop_assert_eq!((again.tp, again.fp, again.fn_, again.tn), (best.tp, best.fp, best.fn_, best.tn));
    }
}

#[test]
fn read_windows_parses_nab_json() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("windows.json");
    let text = r#"{
"a/x.csv": [
    ["2014-02-19 10:50:00.000000", "2014-02-20 03:30:00.000000"],
    ["2014-02-21 00:00:00", "2014-02-21 00:05:00"]
],
"b/y\u0020z.csv": []
}"#;
    fs::write(&path, text).expect("write");
    let windows = read_windows(&path).expect("parsed");
    assert_eq!(windows.len(), 2);
    assert_eq!(
        windows["a/x.csv"],
        vec![
            (1_392_807_000, 1_392_867_000),
            (1_392_940_800, 1_392_941_100)
        ]
    );
    assert_eq!(windows["b/y z.csv"], vec![]);

    for bad in [
        r#"{"a": [["2014-02-19 10:50:00"]]}"#,
        r#"{"a": [["2014-02-19 10:50:00", "x"]]}"#,
        r#"{"a": [["2014-02-19 10:50:00.5", "2014-02-19 10:50:00"]]}"#,
        r#"{"a": []"#,
        r#"{"a": [], "a": []}"#,
        r#"{"a": []} x"#,
    ] {
        fs::write(&path, bad).expect("write");
        let err = read_windows(&path).expect_err(bad);
        assert!(err.to_string().contains("windows.json"), "{err}");
    }
}

#[test]
fn read_series_parses_nab_csv() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("x.csv");
    fs::write(
        &path,
        "timestamp,value\n2014-02-14 14:30:00,0.132\n2014-02-14 14:35:00,1e3\n",
    )
    .expect("write");
    let (times, values) = read_series(&path).expect("read");
    assert_eq!(times, vec![1_392_388_200, 1_392_388_500]);
    assert_eq!(values, vec![0.132, 1000.0]);
    fs::write(&path, "timestamp,value\n2014-02-14 14:30:00,abc\n").expect("write");
    let err = read_series(&path).expect_err("bad value");
    assert!(
        err.to_string().contains("x.csv") && err.to_string().contains("line 2"),
        "{err}"
    );
}

/// The NAB checkout shared by the benchmarks; the test is skipped where it is absent.
const NAB_ROOT: &str = "/work/shared/benchmarks/nab";

#[test]
fn real_aws_cloudwatch_corpus() {
    let root = Path::new(NAB_ROOT);
    if !root.join("labels/combined_windows.json").exists() {
        eprintln!("skipped: no NAB checkout at {NAB_ROOT}");
        return;
    }
    let windows = read_windows(&root.join("labels/combined_windows.json")).expect("windows");
    assert_eq!(windows.len(), 58);
    assert_eq!(windows.values().map(Vec::len).sum::<usize>(), 116);
    let aws: Vec<_> = windows
        .keys()
        .filter(|k| k.starts_with("realAWSCloudwatch/"))
        .collect();
    assert_eq!(aws.len(), 17);
    let w = &windows["realAWSCloudwatch/ec2_cpu_utilization_24ae8d.csv"];
    assert_eq!(w.len(), 2);

    let corpus = load_corpus(root, "realAWSCloudwatch/").expect("corpus");
    assert!(corpus.missing.is_empty() && corpus.skipped.is_empty());
    let (files, values) = (corpus.files, corpus.values);
    assert_eq!(files.len(), 17);
    assert_eq!(files.iter().map(|f| f.windows().len()).sum::<usize>(), 30);
    let f = &files[0];
    assert_eq!(
        (f.name(), f.len(), f.probationary_rows()),
        (
            "realAWSCloudwatch/ec2_cpu_utilization_24ae8d.csv",
            4032,
            604
        )
    );
    assert_eq!(f.window_rows(), &[(3447, 3647), (3677, 3877)]);
    for profile in PROFILES {
        let perfect: Vec<Vec<bool>> = files
            .iter()
            .map(|f| {
                alarms(
                    f.len(),
                    &f.window_rows().iter().map(|w| w.0).collect::<Vec<_>>(),
                )
            })
            .collect();
        let p = normalised(&files, &perfect, &profile).expect("perfect");
        assert_eq!(
            (p.raw, p.null, p.perfect, p.normalised),
            (30.0, -30.0 * profile.fn_, 30.0, 100.0)
        );
        let (threshold, best) = optimise_threshold(&files, &values, &profile).expect("optimised");
        assert!(best.raw >= best.null, "{threshold}: {best:?}");
        assert!(best.normalised.is_finite());
    }
}
