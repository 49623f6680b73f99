//! The service as a running server on a loopback port: training jobs, detection beside the
//! detector's own library call, bad requests answered with problem documents, shutdown,
//! live events, and the dashboard in a real headless Chromium.

mod bad_input;
mod browser;
mod lifecycle;
mod support;

use std::time::Duration;

use clap::Parser;
use reqwest::blocking::multipart::{Form, Part};
use serde_json::Value;
use support::{Server, fixture, wait_job};

#[derive(Parser)]
#[command(no_binary_name = true)]
struct DetectorDefaults {
    #[command(flatten)]
    decision: vigil_detector::args::DecisionArgs,
}

/// `detector metrics` with no flags, as a library call: its anomalies.
fn cli_anomalies(
    input: &std::path::Path,
    model: &std::path::Path,
    out: &std::path::Path,
) -> Vec<(String, i64, i64, String)> {
    let flags = DetectorDefaults::try_parse_from(Vec::<String>::new()).unwrap();
    let options = flags
        .decision
        .apply(vigil_detector::detect::Options::default())
        .unwrap();
    vigil_detector::detect_metrics(&vigil_detector::MetricsJob {
        input,
        model_dir: model,
        out,
        options,
        labels: None,
        charts: None,
    })
    .unwrap();
    let mut r = csv::Reader::from_path(out.join("anomalies.csv")).unwrap();
    r.records()
        .map(|rec| {
            let rec = rec.unwrap();
            let t = |i: usize| {
                chrono::DateTime::parse_from_rfc3339(&rec[i])
                    .unwrap()
                    .timestamp()
            };
            (rec[0].to_string(), t(1), t(2), rec[7].to_string())
        })
        .collect()
}

fn view_anomalies(v: &Value) -> Vec<(String, i64, i64, String)> {
    v["anomalies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            let t = |k: &str| {
                chrono::DateTime::parse_from_rfc3339(a[k].as_str().unwrap())
                    .unwrap()
                    .timestamp()
            };
            (
                a["host"].as_str().unwrap().to_string(),
                t("start"),
                t("end"),
                a["explanation"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn a_model_trained_by_the_service_detects_what_the_cli_detects() {
    let f = fixture();
    let server = Server::start(Default::default());
    let c = &server.client;
    let csv = std::fs::read(f.data.join("train/metrics.csv")).unwrap();
    let r = c
        .post(server.url("/v1/models?name=web&epochs=3&seed=7"))
        .header("content-type", "text/csv")
        .body(csv)
        .send()
        .unwrap();
    assert_eq!(r.status(), 202);
    let location = r.headers()["location"].to_str().unwrap().to_string();
    let job: Value = r.json().unwrap();
    assert_eq!(job["model"], "web");
    assert_eq!(job["max_epochs"], 3);
    assert!(location.ends_with(job["id"].as_str().unwrap()));
    let job = wait_job(&server, &location, Duration::from_secs(600));
    assert_eq!(job["state"], "succeeded", "{job:#}");
    let epochs = job["epochs"].as_array().unwrap();
    assert!(!epochs.is_empty() && epochs.len() <= 3, "{job:#}");
    assert!(
        epochs
            .iter()
            .all(|e| e["valid"].as_f64().unwrap().is_finite())
    );
    // Listed, with the manifest's facts.
    let models: Value = c
        .get(server.url("/v1/models"))
        .send()
        .unwrap()
        .json()
        .unwrap();
    let m = &models["models"][0];
    assert_eq!(
        (m["name"].as_str(), m["task"].as_str()),
        (Some("web"), Some("metrics"))
    );
    assert_eq!(m["model_kind"], "dense_autoencoder");

    // Detect, with labels: the same anomalies as `detector metrics` on the same model.
    let test_csv = f.data.join("test/metrics.csv");
    let form = Form::new()
        .part(
            "data",
            Part::bytes(std::fs::read(&test_csv).unwrap())
                .file_name("metrics.csv")
                .mime_str("text/csv")
                .unwrap(),
        )
        .part(
            "labels",
            Part::bytes(std::fs::read(f.data.join("test/labels.csv")).unwrap())
                .file_name("labels.csv"),
        );
    let r = c
        .post(server.url("/v1/models/web/detect"))
        .multipart(form)
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    let v: Value = r.json().unwrap();
    assert_eq!(v["state"], "succeeded");
    let out = tempfile::tempdir().unwrap();
    let expected = cli_anomalies(&test_csv, &server.store().join("web"), out.path());
    assert!(!expected.is_empty(), "the fixture should raise anomalies");
    assert_eq!(view_anomalies(&v), expected);
    assert!(v["evaluation"].is_object(), "labels evaluate: {v:#}");
    let rows = v["rows"].as_u64().unwrap();
    assert_eq!(
        rows as usize,
        std::fs::read_to_string(&test_csv).unwrap().lines().count() - 1
    );
    // The dashboard's series of an anomalous host: its anomalies and rows flagged.
    let host = &expected[0].0;
    let id = v["id"].as_str().unwrap();
    let s: Value = c
        .get(server.url(&format!("/v1/detections/{id}/series?host={host}")))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(s["columns"].as_array().unwrap().len(), 5);
    assert!(s["anomaly"].as_array().unwrap().iter().any(|a| a == true));
    assert_eq!(s["anomalies"][0]["host"], host.as_str());
    // JSON rows (NDJSON) score like the CSV.
    let ndjson = support::csv_to_ndjson(&test_csv);
    let r = c
        .post(server.url("/v1/models/web/detect"))
        .header("content-type", "application/x-ndjson")
        .body(ndjson)
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(view_anomalies(&r.json().unwrap()), expected);
    // The service's own counters.
    let metrics = c
        .get(server.url("/metrics"))
        .send()
        .unwrap()
        .text()
        .unwrap();
    let scored = support::counter(&metrics, "vigil_rows_scored_total");
    assert_eq!(scored, 2.0 * rows as f64, "{metrics}");
    assert_eq!(
        support::counter(&metrics, "vigil_anomalies_raised_total"),
        2.0 * expected.len() as f64
    );
    assert!(
        metrics.contains("vigil_jobs_finished_total{state=\"succeeded\"} 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("route=\"/v1/models/{name}/detect\""),
        "{metrics}"
    );
}

#[test]
fn a_cli_trained_log_model_is_served_as_is_and_judges_sessions() {
    let f = fixture();
    let server = Server::start(Default::default());
    support::copy_dir(&f.log_model, &server.store().join("shop-logs"));
    let c = &server.client;
    let m: Value = c
        .get(server.url("/v1/models/shop-logs"))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(
        (m["task"].as_str(), m["model_kind"].as_str()),
        (Some("logs"), Some("deeplog"))
    );
    let form = Form::new()
        .part(
            "data",
            Part::bytes(std::fs::read(f.data.join("test/logs.log")).unwrap()).file_name("logs.log"),
        )
        .part(
            "labels",
            Part::bytes(std::fs::read(f.data.join("test/session_labels.csv")).unwrap())
                .file_name("session_labels.csv"),
        );
    let r = c
        .post(server.url("/v1/models/shop-logs/detect?sessions=all"))
        .multipart(form)
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    let v: Value = r.json().unwrap();
    // The detector's own run on the same log and model.
    let out = tempfile::tempdir().unwrap();
    let s = vigil_detector::logs::detect_logs(&vigil_detector::logs::LogsJob {
        input: vigil_detector::logs::LogsInput::Raw(&f.data.join("test/logs.log")),
        model_dir: &f.log_model,
        out: out.path(),
        labels: None,
        top_g: None,
        filter: None,
        bad_lines: vigil_core::series::BadLines::Fail,
    })
    .unwrap();
    assert_eq!(v["sessions_judged"].as_u64().unwrap() as usize, s.sessions);
    assert_eq!(
        v["anomalous_sessions"].as_u64().unwrap() as usize,
        s.anomalous
    );
    assert!(s.anomalous > 0);
    let anomalous: Vec<&Value> = v["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|x| x["anomalous"] == true)
        .collect();
    assert_eq!(anomalous.len(), s.anomalous);
    assert!(
        anomalous
            .iter()
            .all(|x| !x["reason"].as_str().unwrap().is_empty())
    );
    assert!(
        v["evaluation"]["model"].is_object(),
        "{:#}",
        v["evaluation"]
    );
    // The original tool's alias answers the same.
    let r = c
        .post(server.url("/analyze_logs?model=shop-logs"))
        .header("content-type", "text/plain")
        .body(std::fs::read(f.data.join("test/logs.log")).unwrap())
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    let a: Value = r.json().unwrap();
    assert_eq!(a["anomalous_sessions"], v["anomalous_sessions"]);
    // Only the anomalous sessions without ?sessions=all.
    assert_eq!(a["sessions"].as_array().unwrap().len(), s.anomalous);
}

#[test]
fn the_openapi_document_describes_every_route() {
    let server = Server::start(Default::default());
    let doc: Value = server
        .client
        .get(server.url("/openapi.json"))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let paths = doc["paths"].as_object().unwrap();
    for p in [
        "/healthz",
        "/readyz",
        "/v1/models",
        "/v1/models/{name}",
        "/v1/models/{name}/detect",
        "/v1/jobs",
        "/v1/jobs/{id}",
        "/v1/detections",
        "/v1/detections/{id}",
        "/v1/detections/{id}/series",
    ] {
        assert!(paths.contains_key(p), "{p} missing from {:?}", paths.keys());
    }
    assert!(paths["/v1/models"]["post"]["responses"]["415"].is_object());
    assert!(doc["components"]["schemas"]["Problem"].is_object());
}
