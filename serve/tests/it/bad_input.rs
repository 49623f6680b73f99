//! Bad requests: each answered with a 4xx problem document naming what was wrong, and
//! the server healthy afterwards.

use reqwest::blocking::Response;
use serde_json::Value;

use crate::support::{Server, copy_dir, fixture};

/// The problem document of a response that must have failed with `status`.
fn problem(r: Response, status: u16) -> Value {
    assert_eq!(r.status().as_u16(), status);
    assert_eq!(
        r.headers()["content-type"].to_str().unwrap(),
        "application/problem+json"
    );
    let p: Value = r.json().unwrap();
    assert_eq!(p["status"], status);
    assert!(p["type"].as_str().unwrap().starts_with("/problems/"));
    p
}

fn healthy(server: &Server) {
    let r = server.client.get(server.url("/healthz")).send().unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().unwrap()["status"], "ok");
    let r = server.client.get(server.url("/readyz")).send().unwrap();
    assert_eq!(r.status(), 200);
}

#[test]
fn bad_requests_get_problem_documents_and_the_server_stays_healthy() {
    let f = fixture();
    let server = Server::start(vigil_serve::Config {
        max_body: 1 << 20,
        ..Default::default()
    });
    copy_dir(&f.log_model, &server.store().join("logs"));
    let c = &server.client;
    let detect_logs = || c.post(server.url("/v1/models/logs/detect"));

    // Unknown model.
    let p = problem(
        c.post(server.url("/v1/models/nope/detect"))
            .header("content-type", "text/csv")
            .body("timestamp,host,cpu\n")
            .send()
            .unwrap(),
        404,
    );
    assert_eq!(p["value"], "nope");
    assert!(
        p["detail"]
            .as_str()
            .unwrap()
            .contains("no model named \"nope\"")
    );
    healthy(&server);

    // Wrong content type for a log model.
    let p = problem(
        detect_logs()
            .header("content-type", "application/xml")
            .body("<log/>")
            .send()
            .unwrap(),
        415,
    );
    assert_eq!(p["field"], "content-type");
    assert!(p["detail"].as_str().unwrap().contains("text/plain"), "{p}");
    healthy(&server);

    // Oversized body (the limit is 1 MiB here), announced or streamed.
    let big = vec![b'x'; 2 << 20];
    let p = problem(
        detect_logs()
            .header("content-type", "text/plain")
            .body(big.clone())
            .send()
            .unwrap(),
        413,
    );
    assert!(p["detail"].as_str().unwrap().contains("1048576"), "{p}");
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
        big.chunks(64 << 10).map(|c| Ok(c.to_vec())).collect();
    let streamed = reqwest::blocking::Body::new(ChunkReader::new(chunks));
    let p = problem(
        detect_logs()
            .header("content-type", "text/plain")
            .body(streamed)
            .send()
            .unwrap(),
        413,
    );
    assert_eq!(p["type"], "/problems/too-large");
    healthy(&server);

    // Training: unknown setting, setting of the wrong type, missing name, bad task.
    let train = |q: &str| {
        c.post(server.url(&format!("/v1/models?{q}")))
            .header("content-type", "text/csv")
            .body("timestamp,host,cpu\n2026-01-01T00:00:00Z,a,1\n")
            .send()
            .unwrap()
    };
    let p = problem(train("name=m&windw=3"), 400);
    assert_eq!(p["field"], "windw");
    let p = problem(train("name=m&epochs=many"), 400);
    assert_eq!(p["field"], "epochs");
    assert_eq!(p["value"], "many");
    let p = problem(train("epochs=3"), 400);
    assert_eq!(p["field"], "name");
    let p = problem(train("name=../etc"), 400);
    assert_eq!(p["value"], "../etc");
    let p = problem(train("name=m&task=images"), 400);
    assert_eq!(p["field"], "task");
    // No setting may name a file on the server, nor smuggle a flag in a key or value.
    let p = problem(train("name=m&config=/etc/passwd"), 400);
    assert_eq!(p["field"], "config");
    assert!(!p["detail"].as_str().unwrap().contains("root"), "{p}");
    let p = problem(train("name=m&config%3D%2Fetc%2Fpasswd=true"), 400);
    assert_eq!(p["field"], "config=/etc/passwd");
    let p = problem(train("name=m&epochs=--config=/etc/passwd"), 400);
    assert_eq!(p["field"], "epochs");
    // Settings that conflict (the trainer's own check).
    let p = problem(train("name=m&model_kind=pca&hidden=8"), 400);
    assert!(p["detail"].as_str().unwrap().contains("pca"), "{p}");
    // Malformed NDJSON: the line named.
    let p = problem(
        c.post(server.url("/v1/models?name=m"))
            .header("content-type", "application/x-ndjson")
            .body("{\"timestamp\":\"2026-01-01T00:00:00Z\",\"cpu\":1}\n{\"timestamp\": oops}\n")
            .send()
            .unwrap(),
        422,
    );
    assert_eq!(p["line"], 2);
    assert!(
        p["detail"]
            .as_str()
            .unwrap()
            .starts_with("body:2: not JSON"),
        "{p}"
    );
    // Nothing was left reserved or written by the refused requests.
    let jobs: Value = c
        .get(server.url("/v1/jobs"))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(jobs.as_array().unwrap().len(), 0, "{jobs}");
    healthy(&server);
}

#[test]
fn bad_metric_data_is_named_by_line_and_column() {
    let f = fixture();
    let server = Server::start(Default::default());
    let c = &server.client;
    // A small metrics model trained through the service.
    let loc = crate::support::start_training(
        c,
        &server.base,
        "name=m&epochs=1&window=10",
        f.small_train(),
    );
    let job = crate::support::wait_job(&server, &loc, std::time::Duration::from_secs(300));
    assert_eq!(job["state"], "succeeded", "{job}");
    // The same name again without force: a conflict.
    let p = problem(
        c.post(server.url("/v1/models?name=m"))
            .header("content-type", "text/csv")
            .body("x")
            .send()
            .unwrap(),
        409,
    );
    assert!(p["detail"].as_str().unwrap().contains("force=true"), "{p}");

    let test: Vec<String> = std::fs::read_to_string(f.data.join("test/metrics.csv"))
        .unwrap()
        .lines()
        .take(200)
        .map(str::to_string)
        .collect();
    let detect = |body: String| {
        c.post(server.url("/v1/models/m/detect"))
            .header("content-type", "text/csv")
            .body(body)
            .send()
            .unwrap()
    };
    // Wrong columns.
    let renamed = test.join("\n").replacen("cpu", "processor", 1);
    let p = problem(detect(renamed), 422);
    let detail = p["detail"].as_str().unwrap();
    assert!(detail.contains("cpu") && detail.starts_with("body"), "{p}");
    // A malformed line: named by its line number, the file shown as `body`.
    let mut broken = test.clone();
    broken[57] = broken[57].replacen(',', ",not-a-time-or-host,", 1);
    let p = problem(detect(broken.join("\n")), 422);
    assert_eq!(p["line"], 58, "{p}");
    assert!(p["detail"].as_str().unwrap().starts_with("body:58:"), "{p}");
    // Skipped and counted when asked.
    let r = c
        .post(server.url("/v1/models/m/detect?skip_bad_lines=true"))
        .header("content-type", "text/csv")
        .body(broken.join("\n"))
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    let v: Value = r.json().unwrap();
    assert_eq!(
        v["summary"]["report"]["skipped_lines"], 1,
        "{:#}",
        v["summary"]["report"]
    );
    // An NDJSON line that never ends is refused, not buffered.
    let long = format!("{{\"host\": \"{}", "x".repeat(1_200_000));
    let p = problem(
        c.post(server.url("/v1/models/m/detect"))
            .header("content-type", "application/x-ndjson")
            .body(long)
            .send()
            .unwrap(),
        422,
    );
    assert!(p["detail"].as_str().unwrap().contains("longer than"), "{p}");
    // A detector flag out of range.
    let p = problem(
        c.post(server.url("/v1/models/m/detect?threshold=pot&q=2"))
            .header("content-type", "text/csv")
            .body(test.join("\n"))
            .send()
            .unwrap(),
        400,
    );
    assert!(p["detail"].as_str().unwrap().contains("q"), "{p}");
    // Unknown job, detection, route.
    problem(c.get(server.url("/v1/jobs/job-999")).send().unwrap(), 404);
    problem(
        c.get(server.url("/v1/detections/det-999")).send().unwrap(),
        404,
    );
    problem(c.get(server.url("/v2/nothing")).send().unwrap(), 404);
    // axum's own rejections are problem documents too.
    let v: Value = detect(test.join("\n")).json().unwrap();
    let id = v["id"].as_str().unwrap();
    let p = problem(
        c.get(server.url(&format!(
            "/v1/detections/{id}/series?host=web-1&max_points=many"
        )))
        .send()
        .unwrap(),
        400,
    );
    assert!(p["detail"].as_str().unwrap().contains("max_points"), "{p}");
    problem(
        c.get(server.url(&format!("/v1/detections/{id}/series")))
            .send()
            .unwrap(),
        400,
    );
    problem(c.put(server.url("/v1/models")).send().unwrap(), 405);
    // A damaged model directory is listed as unusable, and refused by name.
    std::fs::create_dir_all(server.store().join("junk")).unwrap();
    let models: Value = c
        .get(server.url("/v1/models"))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(models["unusable"][0]["name"], "junk");
    assert!(
        models["unusable"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("manifest.json")
    );
    problem(c.get(server.url("/v1/models/junk")).send().unwrap(), 409);
    // Delete, then it is gone.
    let r = c.delete(server.url("/v1/models/m")).send().unwrap();
    assert_eq!(r.status(), 204);
    problem(c.get(server.url("/v1/models/m")).send().unwrap(), 404);
    healthy(&server);
}

/// A body sent in chunks with no length announced.
struct ChunkReader {
    chunks: std::vec::IntoIter<Result<Vec<u8>, std::io::Error>>,
    current: std::io::Cursor<Vec<u8>>,
}

impl ChunkReader {
    fn new(chunks: Vec<Result<Vec<u8>, std::io::Error>>) -> ChunkReader {
        ChunkReader {
            chunks: chunks.into_iter(),
            current: std::io::Cursor::new(Vec::new()),
        }
    }
}

impl std::io::Read for ChunkReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        loop {
            let n = self.current.read(buf)?;
            if n > 0 {
                return Ok(n);
            }
            match self.chunks.next() {
                Some(c) => self.current = std::io::Cursor::new(c?),
                None => return Ok(0),
            }
        }
    }
}
