//! Issue 16, targets 1 and 2 counted in instructions instead of time: one stack, one
//! request kind, N requests, for `valgrind --tool=callgrind`, whose instruction counts do
//! not move with the load of the machine (the timed comparison is `benches/overhead.rs`).
//!
//! ```text
//! cargo bench --bench instructions --no-run
//! B=$(ls -t target/release/deps/instructions-* | grep -v '\.d$' | head -1)
//! for stack in bare crate baseline; do
//!   valgrind --tool=callgrind --callgrind-out-file=/dev/null \
//!     --toggle-collect='reqwest_middleware::client::ClientWithMiddleware::execute*' \
//!     $B $stack get 2000 2>&1 | grep refs
//! done
//! ```
//!
//! Middleware work is (stack − bare) / N. Without arguments (as under `cargo test
//! --benches`) it sends a few requests through each stack.

mod common;

use std::hint::black_box;

use common::{
    assert_same_signature, bare_stack, baseline, baseline_stack, current_thread, issue16_get,
    issue16_post, signer, signer_stack, HOST,
};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let rt = current_thread();
    let base = format!("https://{HOST}");
    let (stacks, kinds, n) = match args.as_slice() {
        [stack, kind, n, ..] if !stack.starts_with('-') => (
            vec![stack.as_str()],
            vec![kind.as_str()],
            n.parse::<u64>().expect("a request count"),
        ),
        _ => (vec!["bare", "crate", "baseline"], vec!["get", "post"], 3),
    };
    for kind in kinds {
        let template = match kind {
            "get" => issue16_get(&base),
            "post" => issue16_post(&base),
            other => panic!("get or post, not {other}"),
        };
        assert_same_signature(&rt, signer(), baseline(), &template);
        for stack in &stacks {
            let client = match *stack {
                "bare" => bare_stack(),
                "crate" => signer_stack(),
                "baseline" => baseline_stack(),
                other => panic!("bare, crate or baseline, not {other}"),
            };
            rt.block_on(async {
                for _ in 0..n {
                    let req = template.try_clone().expect("an in-memory body");
                    black_box(client.execute(req).await.expect("200"));
                }
            });
        }
    }
}
