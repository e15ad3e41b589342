//! Issue 16, targets 1 and 2: the crate's middleware work per request over the work of a
//! hand-written middleware around `aws_sigv4::http_request::sign` (`benches/baseline`).
//! Run with
//!
//! ```text
//! cargo bench --bench overhead
//! cargo bench --bench overhead -- --rounds 200     # shorter
//! ```
//!
//! Three stacks per request, each ending in `Canned` (a 200 without the network): bare
//! (`Canned` alone), the crate's `SigV4Middleware` (static credentials, `FixedClock`,
//! everything else default) and the baseline. The ratio is middleware work over middleware
//! work: (crate − bare) / (baseline − bare). Both requests of the issue (a GET with 2 query
//! parameters and 3 headers, a POST with a 1 KiB JSON body) are checked first to come out
//! of both signers with byte-identical headers. All six stacks then take turns in batches
//! of ~2 ms (interleaved, rotating which goes first), timed in CPU time of the calling
//! thread; each round gives one ratio per request, and the verdict is on the median of
//! those, with p10–p90 as the spread. Without `--bench` (as under `cargo test --benches`)
//! it only checks the signatures and runs a few rounds.

mod common;

use std::hint::black_box;
use std::time::Duration;

use common::{
    assert_same_signature, bare_stack, baseline, baseline_stack, calibrate, current_thread,
    describe, interleave, issue16_get, issue16_post, percentile, signer, signer_stack,
    thread_cpu_ns, verdict, Variant, HOST,
};
use reqwest_middleware::ClientWithMiddleware;

fn rounds() -> usize {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let benching = args.iter().any(|a| a == "--bench");
    args.iter()
        .position(|a| a == "--rounds")
        .and_then(|i| args.get(i + 1))
        .map(|v| v.parse::<usize>().expect("--rounds takes a number"))
        .unwrap_or(if benching { 600 } else { 5 })
        .max(1)
}

fn main() {
    let rounds = rounds();
    let rt = current_thread();
    let base = format!("https://{HOST}");
    let requests = [
        ("GET", issue16_get(&base), 1.03),
        ("POST", issue16_post(&base), 1.05),
    ];
    for (_, req, _) in &requests {
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
    for (r, (_, req, _)) in requests.iter().enumerate() {
        for (s, client) in stacks.iter().enumerate() {
            variants.push(Variant::new(names[r][s], move |n| send(client, req, n)));
        }
    }
    calibrate(&mut variants, Duration::from_millis(2));
    let samples = interleave(&mut variants, rounds, thread_cpu_ns);
    println!("issue 16: crate middleware work / hand-written aws-sigv4 middleware work");
    println!("   (thread CPU time per request, {rounds} interleaved rounds)");
    describe(&variants, &samples);
    let mut rows = Vec::new();
    for (r, (method, _, target)) in requests.iter().enumerate() {
        let [bare, ours, theirs] = [&samples[3 * r], &samples[3 * r + 1], &samples[3 * r + 2]];
        let per_round: Vec<f64> = (0..rounds)
            .map(|i| (ours[i] - bare[i]) / (theirs[i] - bare[i]))
            .collect();
        let median = percentile(&per_round, 0.5);
        let of_medians = (percentile(ours, 0.5) - percentile(bare, 0.5))
            / (percentile(theirs, 0.5) - percentile(bare, 0.5));
        let work = |s: &[f64]| percentile(s, 0.5) - percentile(bare, 0.5);
        println!(
            "   {method}: work crate {:.0} ns, baseline {:.0} ns (medians minus bare); \
             ratio {median:.3} median of rounds (p10 {:.3}, p90 {:.3}), {of_medians:.3} \
             from medians",
            work(ours),
            work(theirs),
            percentile(&per_round, 0.1),
            percentile(&per_round, 0.9)
        );
        rows.push(format!(
            "| {method} middleware work: crate / baseline ≤ {target:.2} | **{median:.3}** \
             (p10–p90 {:.3}–{:.3}) | crate {:.0} ns, baseline {:.0} ns per request | {} |",
            percentile(&per_round, 0.1),
            percentile(&per_round, 0.9),
            work(ours),
            work(theirs),
            verdict(median <= *target)
        ));
    }
    println!("\n| target | crate vs baseline | detail | verdict |");
    println!("|---|---|---|---|");
    for row in rows {
        println!("{row}");
    }
}
