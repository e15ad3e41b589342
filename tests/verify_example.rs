//! The `verify` example, run as its `main` runs it: its own source is compiled in here and
//! its `run` (argument parsing included) is called with a fake environment and captured
//! output. No separate binary is needed, so this holds under `cargo test --test
//! verify_example` as well as under `cargo test --all-features`.

#[path = "../examples/verify/main.rs"]
#[allow(dead_code)]
mod example;
mod support;

use std::path::PathBuf;

const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
/// The suite's requests are signed at this instant: the verifier's clock is set there
/// (the default, the system clock, refuses a 2015 signature).
const SUITE_NOW: &str = "20150830T123600Z";

fn suite_file(case: &str, file: &str) -> PathBuf {
    support::suite::case_dir("v4", case).join(file)
}

/// A file in the temp dir, removed when dropped.
struct TempFile(PathBuf);

impl TempFile {
    fn new(name: &str, contents: &[u8]) -> Self {
        let path = std::env::temp_dir().join(format!(
            "reqwest-sigv4-verify-example-{}-{name}",
            std::process::id()
        ));
        std::fs::write(&path, contents).expect("write a temp file");
        Self(path)
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

struct Outcome {
    code: u8,
    out: String,
    err: String,
}

fn run(args: &[&str], env: &[(&str, &str)]) -> Outcome {
    let lookup = |name: &str| {
        env.iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| (*v).to_owned())
    };
    let mut out = Vec::new();
    let mut err = Vec::new();
    let mut argv = vec!["verify"];
    argv.extend_from_slice(args);
    let code = example::run(argv, &lookup, &mut out, &mut err);
    Outcome {
        code,
        out: String::from_utf8(out).expect("UTF-8 output"),
        err: String::from_utf8(err).expect("UTF-8 errors"),
    }
}

const KEYS: &[(&str, &str)] = &[
    ("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE"),
    ("AWS_SECRET_ACCESS_KEY", SECRET),
];

fn path_str(path: &std::path::Path) -> &str {
    path.to_str().expect("a UTF-8 path")
}

#[test]
fn signed_suite_request_is_valid() {
    let file = suite_file(
        "get-vanilla-query-order-key-case",
        "header-signed-request.txt",
    );
    let outcome = run(
        &[
            "--service",
            "service",
            "--region",
            "us-east-1",
            "--now",
            SUITE_NOW,
            path_str(&file),
        ],
        KEYS,
    );
    assert_eq!(
        (outcome.code, outcome.out.as_str(), outcome.err.as_str()),
        (0, "valid\n", "")
    );
    // Presigned (query) form too, with the scope's own service and region.
    let file = suite_file(
        "get-vanilla-query-order-key-case",
        "query-signed-request.txt",
    );
    let outcome = run(&["--now", SUITE_NOW, path_str(&file)], KEYS);
    assert_eq!(outcome.code, 0, "{}", outcome.out);
}

#[test]
fn session_token_comes_from_the_environment() {
    let file = suite_file(
        "get-vanilla-with-session-token",
        "header-signed-request.txt",
    );
    let token = "6e86291e8372ff2a2260956d9b8aae1d763fbf315fa00fa31553b73ebf194267";
    let mut env = KEYS.to_vec();
    env.push(("AWS_SESSION_TOKEN", token));
    assert_eq!(run(&["--now", SUITE_NOW, path_str(&file)], &env).code, 0);
    // Without the token the request's token is unexpected.
    let outcome = run(&["--now", SUITE_NOW, path_str(&file)], KEYS);
    assert_eq!(outcome.code, 1);
    assert!(
        outcome.out.contains("invalid security token"),
        "{}",
        outcome.out
    );
    assert!(!outcome.out.contains(token), "{}", outcome.out);
}

#[test]
fn tampered_request_is_rejected_with_a_report() {
    let original = std::fs::read(suite_file(
        "get-vanilla-query-order-key-case",
        "header-signed-request.txt",
    ))
    .expect("read the suite file");
    let text = String::from_utf8(original).expect("UTF-8");
    let signature = text
        .split("Signature=")
        .nth(1)
        .and_then(|rest| rest.lines().next())
        .expect("a signature")
        .to_owned();
    let tampered = TempFile::new(
        "tampered.txt",
        text.replacen("Param2=value2", "Param2=value3", 1)
            .as_bytes(),
    );
    let outcome = run(
        &[
            "--region",
            "us-east-1",
            "--now",
            SUITE_NOW,
            path_str(&tampered.0),
        ],
        KEYS,
    );
    assert_eq!(outcome.code, 1, "{}{}", outcome.out, outcome.err);
    assert!(
        outcome.out.starts_with("SigV4 verification failed"),
        "{}",
        outcome.out
    );
    assert!(
        outcome.out.contains("Expected canonical request:"),
        "{}",
        outcome.out
    );
    assert!(
        outcome.out.contains("Param1=value1&Param2=value3"),
        "{}",
        outcome.out
    );
    assert!(
        outcome.out.contains("Expected string-to-sign:"),
        "{}",
        outcome.out
    );
    assert!(!outcome.out.contains(&signature), "{}", outcome.out);
    assert!(!outcome.out.contains(SECRET), "{}", outcome.out);
    assert!(outcome.err.is_empty());
}

#[test]
fn clock_is_checked_by_default_and_opted_out_explicitly() {
    let file = suite_file("get-vanilla", "header-signed-request.txt");
    // Signed in 2015: far outside five minutes of today.
    let outcome = run(&["--max-skew", "300", path_str(&file)], KEYS);
    assert_eq!(outcome.code, 1);
    assert!(
        outcome
            .out
            .contains("Signature expired: 20150830T123600Z is now earlier than"),
        "{}",
        outcome.out
    );
    // Strict by default: the system clock and API Gateway's five minutes.
    let outcome = run(&[path_str(&file)], KEYS);
    assert_eq!(outcome.code, 1);
    assert!(outcome.out.contains("Signature expired"), "{}", outcome.out);
    // The explicit opt-outs: the request's own time, or no time check at all.
    assert_eq!(run(&["--now", SUITE_NOW, path_str(&file)], KEYS).code, 0);
    assert_eq!(run(&["--no-time-check", path_str(&file)], KEYS).code, 0);
    let outcome = run(
        &[
            "--now",
            "20150830T124200Z",
            "--max-skew",
            "300",
            path_str(&file),
        ],
        KEYS,
    );
    assert_eq!(outcome.code, 1, "six minutes late");
}

#[test]
fn wrong_expectations_are_rejected() {
    let file = suite_file("get-vanilla", "header-signed-request.txt");
    let outcome = run(&["--region", "eu-west-1", path_str(&file)], KEYS);
    assert_eq!(outcome.code, 1);
    assert!(
        outcome.out.contains("credential scope region"),
        "{}",
        outcome.out
    );
    let wrong_secret = [
        ("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE"),
        ("AWS_SECRET_ACCESS_KEY", "nope"),
    ];
    assert_eq!(
        run(&["--now", SUITE_NOW, path_str(&file)], &wrong_secret).code,
        1
    );
}

#[test]
fn usage_io_parse_and_environment_errors_exit_2_with_one_line() {
    let file = suite_file("get-vanilla", "header-signed-request.txt");
    let garbage = TempFile::new("garbage.txt", b"\n\n");
    // (arguments, environment, expected text of the one-line error)
    type Case<'a> = (Vec<&'a str>, &'a [(&'a str, &'a str)], &'a str);
    let cases: Vec<Case<'_>> = vec![
        (vec![], KEYS, "error:"),
        (vec!["--max-skew", "soon", path_str(&file)], KEYS, "error:"),
        (vec!["--now", "yesterday", path_str(&file)], KEYS, "error:"),
        (vec!["--bogus", path_str(&file)], KEYS, "error:"),
        (
            vec!["/nonexistent/request.txt"],
            KEYS,
            "error: cannot read /nonexistent/request.txt",
        ),
        (
            vec![path_str(&garbage.0)],
            KEYS,
            "is not an HTTP/1.1 request",
        ),
        (
            vec![path_str(&file)],
            &[],
            "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY must be set",
        ),
    ];
    for (args, env, expected) in cases {
        let outcome = run(&args, env);
        assert_eq!(outcome.code, 2, "{args:?}: {}", outcome.err);
        assert!(outcome.out.is_empty(), "{args:?}: {}", outcome.out);
        assert_eq!(outcome.err.lines().count(), 1, "{args:?}: {}", outcome.err);
        assert!(outcome.err.contains(expected), "{args:?}: {}", outcome.err);
    }
    let help = run(&["--help"], KEYS);
    assert_eq!(help.code, 0);
    assert!(help.out.contains("--max-skew"));
}

#[test]
fn the_cli_verifies_sigv4a_requests_with_the_feature_only() {
    let file = support::suite::case_dir("v4a", "get-vanilla").join("header-signed-request.txt");
    let run = |region: &str| {
        let outcome = run(
            &[
                "--region",
                region,
                "--single-encode",
                "--now",
                SUITE_NOW,
                path_str(&file),
            ],
            KEYS,
        );
        (outcome.code, outcome.out)
    };
    let (inside, inside_out) = run("us-east-1");
    let (outside, outside_out) = run("eu-west-1");
    if cfg!(feature = "sigv4a") {
        assert_eq!((inside, inside_out.as_str()), (0, "valid\n"));
        assert_eq!(outside, 1);
        assert!(
            outside_out.contains("does not include the region 'eu-west-1'"),
            "{outside_out}"
        );
    } else {
        for (code, out) in [(inside, inside_out), (outside, outside_out)] {
            assert_eq!(code, 1);
            assert!(out.contains("`sigv4a` feature"), "{out}");
        }
    }
}
