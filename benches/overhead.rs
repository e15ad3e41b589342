//! Issue 16, targets 1 and 2: the crate's middleware work per request over the work of a
//! hand-written middleware around `aws_sigv4::http_request::sign` (`benches/baseline`).
//! Run with
//!
//! ```text
//! cargo bench --bench overhead
//! cargo bench --bench overhead -- --processes 3 --rounds 200     # shorter
//! ```
//!
//! Three stacks per request, each ending in `Canned` (a 200 without the network): bare
//! (`Canned` alone), the crate's `SigV4Middleware` (static credentials, `FixedClock`,
//! everything else default) and the baseline. The ratio is middleware work over middleware
//! work: (crate − bare) / (baseline − bare). Both requests of the issue (a GET with 2 query
//! parameters and 3 headers, a POST with a 1 KiB JSON body) are checked first to come out
//! of both signers with byte-identical headers. All six stacks then take turns in batches
//! of ~2 ms (interleaved, rotating which goes first), timed in CPU time of the calling
//! thread; each round gives one ratio per request, and a process's ratio is the median of
//! its rounds.
//!
//! That is measured in several processes one after the other (5 by default), and the
//! verdict is on the median of their ratios: one process's ratio moves by a few percent
//! with where its heap, stack and code happen to land, and with what shares the machine
//! for the ~15 s it runs, more than the difference the targets are about. Without
//! `--bench` (as under `cargo test --benches`) it only checks the signatures and runs a
//! few rounds in this process.

mod common;

use std::hint::black_box;
use std::time::Duration;

use common::{
    assert_same_signature, bare_stack, baseline, baseline_stack, calibrate, current_thread,
    describe, interleave, issue16_get, issue16_post, numbers_after, numeric_arg, percentile,
    rerun_in_child, signer, signer_stack, thread_cpu_ns, verdict, Variant, HOST,
};
use reqwest_middleware::ClientWithMiddleware;

/// Set in the processes the parent starts: each measures once and reports one line per
/// request kind.
const CHILD: &str = "REQWEST_SIGV4_OVERHEAD_CHILD";

/// The requests of the issue and their targets.
const TARGETS: [(&str, f64); 2] = [("GET", 1.03), ("POST", 1.05)];

/// One process's result for one request kind.
struct Measured {
    ratio: f64,
    p10: f64,
    p90: f64,
    crate_ns: f64,
    baseline_ns: f64,
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let benching = args.iter().any(|a| a == "--bench");
    let rounds = numeric_arg(&args, "--rounds")
        .unwrap_or(if benching { 300 } else { 5 })
        .max(1);
    let processes = numeric_arg(&args, "--processes")
        .unwrap_or(if benching { 5 } else { 1 })
        .max(1);
    if std::env::var_os(CHILD).is_some() {
        for (method, m) in TARGETS.iter().zip(measure(rounds, false)) {
            println!(
                "{CHILD} {} {} {} {} {} {}",
                method.0, m.ratio, m.p10, m.p90, m.crate_ns, m.baseline_ns
            );
        }
        return;
    }
    println!("issue 16: crate middleware work / hand-written aws-sigv4 middleware work");
    println!("   (thread CPU time per request, {rounds} interleaved rounds per process)");
    let per_process: Vec<Vec<Measured>> = if processes == 1 {
        vec![measure(rounds, true)]
    } else {
        (0..processes).map(|_| in_child()).collect()
    };
    for (p, measured) in per_process.iter().enumerate() {
        let line: Vec<String> = TARGETS
            .iter()
            .zip(measured)
            .map(|((method, _), m)| {
                format!(
                    "{method} {:.3} (p10 {:.3}, p90 {:.3}; crate {:.0} ns, baseline {:.0} ns)",
                    m.ratio, m.p10, m.p90, m.crate_ns, m.baseline_ns
                )
            })
            .collect();
        println!("   process {}: {}", p + 1, line.join("; "));
    }
    println!("\n| target | crate vs baseline | detail | verdict |");
    println!("|---|---|---|---|");
    for (r, (method, target)) in TARGETS.iter().enumerate() {
        let ratios: Vec<f64> = per_process.iter().map(|m| m[r].ratio).collect();
        let median = percentile(&ratios, 0.5);
        let of = |f: fn(&Measured) -> f64| {
            let v: Vec<f64> = per_process.iter().map(|m| f(&m[r])).collect();
            percentile(&v, 0.5)
        };
        let listed: Vec<String> = ratios.iter().map(|r| format!("{r:.3}")).collect();
        println!(
            "| {method} middleware work: crate / baseline ≤ {target:.2} | **{median:.3}** \
             (median of {processes} processes: {}) | crate {:.0} ns, baseline {:.0} ns per \
             request (medians) | {} |",
            listed.join(", "),
            of(|m| m.crate_ns),
            of(|m| m.baseline_ns),
            verdict(median <= *target)
        );
    }
}

/// Runs this bench again in a process of its own and reads its result.
fn in_child() -> Vec<Measured> {
    let text = rerun_in_child(CHILD);
    TARGETS
        .iter()
        .map(|(method, _)| {
            let v = numbers_after(&text, &format!("{CHILD} {method} "));
            Measured {
                ratio: v[0],
                p10: v[1],
                p90: v[2],
                crate_ns: v[3],
                baseline_ns: v[4],
            }
        })
        .collect()
}

/// Checks both requests' signatures, then times the six stacks for `rounds` rounds.
fn measure(rounds: usize, verbose: bool) -> Vec<Measured> {
    let rt = current_thread();
    let base = format!("https://{HOST}");
    let requests = [issue16_get(&base), issue16_post(&base)];
    for req in &requests {
        assert_same_signature(&rt, signer(), baseline(), req);
    }
    let stacks = [bare_stack(), signer_stack(), baseline_stack()];
    let send = |client: &ClientWithMiddleware, req: &reqwest::Request, n: u64| {
        rt.block_on(async {
            for _ in 0..n {
                let req = req.try_clone().expect("an in-memory body");
                black_box(client.execute(req).await.expect("200"));
            }
        })
    };
    let names = [
        ["GET bare", "GET crate", "GET baseline"],
        ["POST bare", "POST crate", "POST baseline"],
    ];
    let mut variants: Vec<Variant<'_>> = Vec::new();
    for (r, req) in requests.iter().enumerate() {
        for (s, client) in stacks.iter().enumerate() {
            variants.push(Variant::new(names[r][s], move |n| send(client, req, n)));
        }
    }
    calibrate(&mut variants, Duration::from_millis(2));
    let samples = interleave(&mut variants, rounds, thread_cpu_ns);
    if verbose {
        describe(&variants, &samples);
    }
    (0..requests.len())
        .map(|r| {
            let [bare, ours, theirs] = [&samples[3 * r], &samples[3 * r + 1], &samples[3 * r + 2]];
            let per_round: Vec<f64> = (0..rounds)
                .map(|i| (ours[i] - bare[i]) / (theirs[i] - bare[i]))
                .collect();
            let work = |s: &[f64]| percentile(s, 0.5) - percentile(bare, 0.5);
            Measured {
                ratio: percentile(&per_round, 0.5),
                p10: percentile(&per_round, 0.1),
                p90: percentile(&per_round, 0.9),
                crate_ns: work(ours),
                baseline_ns: work(theirs),
            }
        })
        .collect()
}
