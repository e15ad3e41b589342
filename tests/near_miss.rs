//! A request whose host is a route's but whose scheme or port is not goes out unsigned
//! (the route does not match, which is right); the middleware says so once at WARN.

mod support;

use reqwest_sigv4::{Route, SigV4Middleware};
use support::{Topology, EXECUTE_API_HOST, STAGE};

fn client(topology: &Topology, route: Route) -> reqwest_middleware::ClientWithMiddleware {
    let signer = SigV4Middleware::builder()
        .static_credentials(support::example_credentials())
        .route(route)
        .build()
        .unwrap();
    reqwest_middleware::ClientBuilder::new(topology.client())
        .with(signer)
        .build()
}

/// The WARN lines about near misses (a 403 for an unsigned request is explained at WARN
/// too, separately).
fn near_miss_warnings(logs: &support::logs::Captured) -> Vec<String> {
    logs.lines_at("WARN")
        .into_iter()
        .filter(|line| line.contains("scheme or port does not"))
        .collect()
}

#[tokio::test]
async fn host_match_with_other_scheme_and_port_warns_once_per_origin() {
    let (logs, _guard) = support::logs::capture();
    let topology = Topology::start().await;
    let client = client(
        &topology,
        Route::direct(format!("https://{EXECUTE_API_HOST}")),
    );
    let port = topology.api_gateway.addr().port();
    let origin = format!("http://{EXECUTE_API_HOST}:{port}");
    // A presigned-looking query must never reach the log.
    let secret = "X-Amz-Signature=0123456789abcdef";
    for path in ["items", "items?limit=1", "other"] {
        let separator = if path.contains('?') { '&' } else { '?' };
        let response = client
            .get(format!("{origin}/{STAGE}/{path}{separator}{secret}"))
            .send()
            .await
            .unwrap();
        // Still sent unsigned: the stand-in says so.
        assert_eq!(response.status(), 403);
    }
    assert!(topology
        .api_gateway
        .received()
        .iter()
        .all(|r| r.header("authorization").is_none()));

    let warnings = near_miss_warnings(&logs);
    assert_eq!(warnings.len(), 1, "{warnings:#?}");
    let warning = &warnings[0];
    assert!(
        warning.contains(&format!("route=https://{EXECUTE_API_HOST}")),
        "{warning}"
    );
    assert!(warning.contains(&format!("origin={origin}")), "{warning}");
    assert!(!logs.text().contains(secret), "{}", logs.text());
}

#[tokio::test]
async fn each_near_missed_origin_warns_and_other_hosts_do_not() {
    let (logs, _guard) = support::logs::capture();
    let topology = Topology::start().await;
    // The route names a port; requests on the same host without it, and on another
    // port, both miss it.
    let client = client(
        &topology,
        Route::direct(format!("http://{EXECUTE_API_HOST}:1")),
    );
    let port = topology.api_gateway.addr().port();
    for _ in 0..2 {
        let response = client
            .get(format!("http://{EXECUTE_API_HOST}:{port}/{STAGE}/items"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 403);
    }
    // Another host entirely: an ordinary unsigned request, nothing to warn about.
    // (Nothing listens on port 9: only what is logged before sending matters.)
    let _ = client.get("http://127.0.0.1:9/").send().await;
    let warnings = near_miss_warnings(&logs);
    assert_eq!(warnings.len(), 1, "{warnings:#?}");
    assert!(warnings[0].contains(&format!("route=http://{EXECUTE_API_HOST}:1")));
    assert!(warnings[0].contains(&format!("origin=http://{EXECUTE_API_HOST}:{port}")));
}
