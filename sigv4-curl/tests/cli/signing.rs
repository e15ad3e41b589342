//! Signing: `--service`, `--region`, `--origin`, `--alias`, `--origin-path`,
//! `--sign-host`, `--sigv4a`, `--presign`, `--json`.

use reqwest_sigv4::verify::Algorithm;

use crate::support::signing::{assert_every_request_signed, ok_server, verifier};
use crate::support::{
    self, Topology, CLOUDFRONT_ALIAS, EXAMPLE_SESSION_TOKEN, EXECUTE_API_HOST, ORIGIN_PATH, STAGE,
};
use crate::{assert_no_secret, resolve, run, EXAMPLE_ENV, SESSION_ENV};
use reqwest_sigv4::verify::ReceivedRequest;

fn origin() -> String {
    format!("https://{EXECUTE_API_HOST}{ORIGIN_PATH}")
}

#[tokio::test]
async fn naive_alias_call_is_explained_and_names_the_origin_flag() {
    let topology = Topology::start().await;
    let port = topology.cloudfront.addr().port();
    let url = format!("http://{CLOUDFRONT_ALIAS}:{port}/items");
    let resolve = resolve(CLOUDFRONT_ALIAS, topology.cloudfront.addr());
    let args = ["--region", "us-east-1", "--resolve", &resolve, &url];
    let try_again = format!("try again with --origin {}", origin());

    // An HTTP answer: exit 0, the body on stdout, the explanation on stderr.
    let outcome = run(&args, SESSION_ENV).await;
    assert_eq!(outcome.code, 0, "{}", outcome.err);
    assert!(outcome.err.contains("403"), "{}", outcome.err);
    assert!(outcome.err.contains(&try_again), "{}", outcome.err);
    assert!(outcome
        .out
        .contains("The request signature we calculated does not match"));

    // With -f: 22, no body, and the explanation all the same.
    let outcome = run(&[&["-f"][..], &args].concat(), SESSION_ENV).await;
    assert_eq!(outcome.code, 22, "{}", outcome.err);
    assert!(outcome.err.contains("403"), "{}", outcome.err);
    assert!(outcome.err.contains(&try_again), "{}", outcome.err);
    assert_eq!(outcome.out, "");

    // -s silences the explanation too.
    let outcome = run(&[&["-s"][..], &args].concat(), SESSION_ENV).await;
    assert_eq!((outcome.code, outcome.err.as_str()), (0, ""));
}

#[tokio::test]
async fn origin_flag_signs_for_the_origin_and_succeeds() {
    let topology = Topology::start().await;
    let port = topology.cloudfront.addr().port();
    let url = format!("http://{CLOUDFRONT_ALIAS}:{port}/items?limit=1");
    let resolve = resolve(CLOUDFRONT_ALIAS, topology.cloudfront.addr());
    let outcome = run(
        &["-v", "--origin", &origin(), "--resolve", &resolve, &url],
        SESSION_ENV,
    )
    .await;
    assert_eq!(outcome.code, 0, "{}", outcome.err);
    let echo: serde_json::Value = serde_json::from_str(&outcome.out).expect("echo JSON on stdout");
    assert_eq!(echo["path"], "/prod/items");
    // -v shows what was signed, never a secret.
    assert!(
        outcome.err.contains("* canonical request:"),
        "{}",
        outcome.err
    );
    assert!(outcome.err.contains(&format!("host:{EXECUTE_API_HOST}")));
    assert!(outcome.err.contains("AWS4-HMAC-SHA256\n"));
    assert_no_secret(&outcome.err);
}

#[tokio::test]
async fn alias_flag_rewrites_an_origin_url() {
    let topology = Topology::start().await;
    let cf = topology.cloudfront.addr();
    let alias = format!("http://{CLOUDFRONT_ALIAS}:{}", cf.port());
    let outcome = run(
        &[
            "--alias",
            &alias,
            "--resolve",
            &resolve(CLOUDFRONT_ALIAS, cf),
            &format!("{}/items/9", origin()),
        ],
        SESSION_ENV,
    )
    .await;
    assert_eq!(outcome.code, 0, "{}", outcome.err);
    assert_eq!(topology.cloudfront.exchanges().len(), 1);
}

#[tokio::test]
async fn sign_host_flag_overrides_the_host() {
    let topology = Topology::start().await;
    let addr = topology.api_gateway.addr();
    let vpce = "vpce-0123-abcd.execute-api.us-east-1.vpce.amazonaws.com";
    let outcome = run(
        &[
            "--sign-host",
            EXECUTE_API_HOST,
            "--resolve",
            &resolve(vpce, addr),
            &format!("http://{vpce}:{}/prod/items", addr.port()),
        ],
        SESSION_ENV,
    )
    .await;
    assert_eq!(outcome.code, 0, "{}", outcome.err);
}

#[tokio::test]
async fn presign_prints_a_url_that_works_alone() {
    let topology = Topology::start().await;
    let addr = topology.api_gateway.addr();
    let url = format!("http://{EXECUTE_API_HOST}:{}/prod/items", addr.port());
    let outcome = run(&["--presign", "60", &url], SESSION_ENV).await;
    assert_eq!(outcome.code, 0, "{}", outcome.err);
    let presigned = outcome.out.trim();
    assert!(presigned.contains("X-Amz-Signature="), "{presigned}");
    let resp = topology.client().get(presigned).send().await.unwrap();
    assert_eq!(resp.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigv4a_flag_signs_with_sigv4a_for_the_region_set() {
    let server = ok_server().await;
    let url = format!("{}/{STAGE}/items?limit=1", server.uri());
    let outcome = run(
        &[
            "--sigv4a",
            "us-east-1,us-west-2",
            "--service",
            "execute-api",
            &url,
        ],
        EXAMPLE_ENV,
    )
    .await;
    assert_eq!(outcome.code, 0, "{}", outcome.err);
    let received = assert_every_request_signed(&server, &verifier()).await;
    assert_eq!(received.len(), 1);
    let verified = &received[0].verified;
    assert_eq!(verified.algorithm, Algorithm::SigV4a);
    assert_eq!(verified.region_set.as_deref(), Some("us-east-1,us-west-2"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_summary_shows_what_was_signed_and_explains_a_403() {
    let topology = Topology::start().await;
    let cloudfront = topology.cloudfront.addr();
    let url = format!("http://{CLOUDFRONT_ALIAS}:{}/items", cloudfront.port());
    let resolve = resolve(CLOUDFRONT_ALIAS, cloudfront);
    let mut env = EXAMPLE_ENV.to_vec();
    env.push(("AWS_SESSION_TOKEN", EXAMPLE_SESSION_TOKEN));
    env[0].1 = support::EXAMPLE_SESSION_ACCESS_KEY;

    // Signed for the alias: refused, explained, and the fix named.
    let outcome = run(
        &[
            "-f",
            "--json",
            "--region",
            "us-east-1",
            "--resolve",
            &resolve,
            &url,
        ],
        &env,
    )
    .await;
    assert_eq!(outcome.code, 22, "{}", outcome.err);
    let summary: serde_json::Value = serde_json::from_str(&outcome.out).expect("one JSON object");
    assert_eq!(summary["status"], 403);
    assert_eq!(
        summary["signed"]["host"],
        format!("{CLOUDFRONT_ALIAS}:{}", cloudfront.port())
    );
    assert_eq!(summary["explanation"]["cause"], "HostMismatch");
    let origin = origin();
    assert_eq!(
        summary["explanation"]["suggested_flag"],
        format!("--origin {origin}")
    );
    assert!(summary["body"]
        .as_str()
        .unwrap()
        .contains("The request signature we calculated does not match"));
    assert_no_secret(&outcome.out);
    assert_no_secret(&outcome.err);

    // Signed for the origin: accepted, and the summary shows the origin's canonical request.
    let outcome = run(
        &["--json", "--origin", &origin, "--resolve", &resolve, &url],
        &env,
    )
    .await;
    assert_eq!(outcome.code, 0, "{}", outcome.err);
    let summary: serde_json::Value = serde_json::from_str(&outcome.out).expect("one JSON object");
    assert_eq!(summary["status"], 200);
    assert_eq!(summary["explanation"], serde_json::Value::Null);
    assert_eq!(summary["signed"]["host"], EXECUTE_API_HOST);
    assert_eq!(summary["signed"]["path_and_query"], "/prod/items");
    assert_eq!(summary["signed"]["algorithm"], "AWS4-HMAC-SHA256");
    let canonical = summary["signed"]["canonical_request"].as_str().unwrap();
    assert!(canonical.starts_with("GET\n/prod/items\n"), "{canonical}");
    assert!(summary["signed"]["string_to_sign"]
        .as_str()
        .unwrap()
        .starts_with("AWS4-HMAC-SHA256\n"));
    // The stand-in's body echoes the request's headers back; all the rest is ours.
    let mut ours = summary.clone();
    ours["body"] = serde_json::Value::Null;
    assert_no_secret(&ours.to_string());
}

#[tokio::test]
async fn dry_run_prints_the_signed_request_and_sends_nothing() {
    let server = ok_server().await;
    let url = format!("{}/{STAGE}/items?limit=1", server.uri());
    let outcome = run(
        &["--dry-run", "--region", "us-east-1", "-d", "a=1", &url],
        SESSION_ENV,
    )
    .await;
    assert_eq!(outcome.code, 0, "{}", outcome.err);
    assert_eq!(outcome.err, "");
    assert!(
        server.received_requests().await.unwrap().is_empty(),
        "nothing sent"
    );
    let mut lines = outcome.out.lines();
    assert_eq!(lines.next(), Some(format!("POST {url}").as_str()));
    let headers: Vec<(&str, &str)> = lines
        .map(|l| l.split_once(": ").expect("a header"))
        .collect();
    let header = |name: &str| headers.iter().find(|(n, _)| *n == name).map(|(_, v)| *v);
    assert_eq!(
        header("host"),
        Some(&url["http://".len()..url.find("/prod").unwrap()])
    );
    assert_eq!(header("x-amz-security-token"), Some("<redacted>"));
    let authorization = header("authorization").expect("signed");
    assert!(
        authorization.starts_with(&format!(
            "AWS4-HMAC-SHA256 Credential={}/",
            support::EXAMPLE_SESSION_ACCESS_KEY
        )),
        "{authorization}"
    );
    assert!(
        authorization.ends_with(", Signature=<redacted>"),
        "{authorization}"
    );
    assert_no_secret(&outcome.out);

    // --json: the same, as one object, with what was signed.
    let outcome = run(
        &["--dry-run", "--json", "--region", "us-east-1", &url],
        SESSION_ENV,
    )
    .await;
    assert_eq!(outcome.code, 0, "{}", outcome.err);
    let summary: serde_json::Value = serde_json::from_str(&outcome.out).expect("one JSON object");
    assert_eq!(summary["method"], "GET");
    assert_eq!(summary["url"], url);
    assert!(summary["signed"]["canonical_request"]
        .as_str()
        .unwrap()
        .starts_with("GET\n/prod/items\nlimit=1\n"));
    assert_no_secret(&outcome.out);
    assert!(
        server.received_requests().await.unwrap().is_empty(),
        "nothing sent"
    );
}

#[tokio::test]
async fn dry_run_with_verbose_prints_the_signature_that_was_made() {
    let server = ok_server().await;
    let url = format!("{}/{STAGE}/items?limit=1", server.uri());
    let outcome = run(
        &[
            "--dry-run",
            "-v",
            "--region",
            "us-east-1",
            "-d",
            "a=1",
            &url,
        ],
        EXAMPLE_ENV,
    )
    .await;
    assert_eq!(outcome.code, 0, "{}", outcome.err);
    assert!(
        outcome.err.contains("* canonical request:\nPOST\n"),
        "{}",
        outcome.err
    );
    // What was printed is the request as it would have gone: the verifier accepts it.
    let mut lines = outcome.out.lines();
    let first = lines.next().unwrap();
    let target = &first[first.find("/prod").expect("the path")..];
    let headers: Vec<(String, String)> = lines
        .map(|l| {
            let (n, v) = l.split_once(": ").expect("a header");
            (n.to_owned(), v.to_owned())
        })
        .collect();
    let printed = ReceivedRequest::new("POST", target, headers, bytes::Bytes::from_static(b"a=1"));
    verifier()
        .verify(&printed)
        .expect("the printed signature is the one made");
    assert!(
        server.received_requests().await.unwrap().is_empty(),
        "nothing sent"
    );
}
