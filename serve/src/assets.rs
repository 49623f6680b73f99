//! The dashboard's files, embedded in the binary: no CDN, no network at run time.

use axum::Router;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;

use crate::AppState;

macro_rules! asset {
    ($file:literal, $media:literal) => {
        get(|| async {
            (
                [
                    (header::CONTENT_TYPE, $media),
                    (header::CACHE_CONTROL, "no-cache"),
                ],
                include_bytes!(concat!("../assets/", $file)).as_slice(),
            )
                .into_response()
        })
    };
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", asset!("index.html", "text/html; charset=utf-8"))
        .route(
            "/assets/app.js",
            asset!("app.js", "text/javascript; charset=utf-8"),
        )
        .route(
            "/assets/app.css",
            asset!("app.css", "text/css; charset=utf-8"),
        )
        .route(
            "/assets/uPlot.iife.min.js",
            asset!("vendor/uPlot.iife.min.js", "text/javascript; charset=utf-8"),
        )
        .route(
            "/assets/uPlot.min.css",
            asset!("vendor/uPlot.min.css", "text/css; charset=utf-8"),
        )
}
