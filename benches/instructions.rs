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
//!
//! With `COLD=1` in the environment, 1 MiB of memory is written between requests, as the
//! rest of a busy process would: run under `valgrind --tool=callgrind --cache-sim=yes`,
//! the D1 misses per request then count the data cache lines each stack touches, a proxy
//! for what it costs end to end (`benches/loopback.rs`) that does not move with the load
//! of the machine. (Code is not evicted so: I1 misses count only what a request evicts of
//! its own code, and valgrind's SHA-256 is the long portable one, not the CPU's.)

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
            // Each cache line written once per request: what the stack touched is gone.
            let mut evict = if std::env::var_os("COLD").is_some() {
                vec![0u8; 1 << 20]
            } else {
                Vec::new()
            };
            rt.block_on(async {
                for i in 0..n {
                    let req = template.try_clone().expect("an in-memory body");
                    black_box(client.execute(req).await.expect("200"));
                    for b in evict.iter_mut().step_by(64) {
                        *b = b.wrapping_add(i as u8);
                    }
                    black_box(&evict);
                }
            });
        }
    }
}
