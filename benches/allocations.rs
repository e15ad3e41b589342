//! Issue 16, targets 3 and 4: heap allocations and bytes allocated per request, and the
//! size of the future that `Middleware::handle` boxes per request, for the crate's
//! middleware against the hand-written one (`benches/baseline`). Run with
//!
//! ```text
//! cargo bench --bench allocations
//! ```
//!
//! A counting global allocator (this bench target only) counts every `alloc`,
//! `alloc_zeroed` and `realloc` and the bytes each asks for, over N requests sent one after
//! another on a current-thread runtime after a warm-up, through stacks ending in `Canned`
//! (a 200 without the network). Counted per request is everything from building the
//! request's copy to dropping the response, so the bare stack's numbers are part of every
//! row, and the difference crate − baseline is the crate's extra.
//!
//! The future's size: a `Probe` middleware placed just before the measured one calls
//! `next.run`, which returns exactly the measured middleware's boxed future
//! (async-trait's `Pin<Box<dyn Future>>`); `size_of_val` of it is the size of that box, and
//! the allocator confirms it by recording the largest allocation made during that call.

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::Relaxed};
use std::sync::{Arc, Mutex};

use common::{
    assert_same_signature, baseline, current_thread, issue16_get, issue16_post, signer, stack,
    verdict, Canned, HOST,
};
use http::Extensions;
use reqwest_middleware::{ClientWithMiddleware, Middleware, Next};

/// Counts allocations and requested bytes; while `WATCHING`, also keeps the largest one.
struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);
static BYTES: AtomicUsize = AtomicUsize::new(0);
static WATCHING: AtomicBool = AtomicBool::new(false);
static LARGEST: AtomicUsize = AtomicUsize::new(0);

fn record(size: usize) {
    ALLOCATIONS.fetch_add(1, Relaxed);
    BYTES.fetch_add(size, Relaxed);
    if WATCHING.load(Relaxed) {
        LARGEST.fetch_max(size, Relaxed);
    }
}

// SAFETY: every call is passed on to the system allocator unchanged; the counting only
// touches atomics (it never allocates).
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        record(layout.size());
        System.alloc(layout)
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        record(layout.size());
        System.alloc_zeroed(layout)
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        record(new_size);
        System.realloc(ptr, layout, new_size)
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout)
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Measures the future of the middleware after it (see the module's documentation).
/// Keeps `size_of_val` of the boxed future, and the largest allocation while creating it.
#[derive(Clone, Default)]
struct Probe(Arc<Mutex<Option<(usize, usize)>>>);

#[async_trait::async_trait]
impl Middleware for Probe {
    async fn handle(
        &self,
        req: reqwest::Request,
        extensions: &mut Extensions,
        next: Next<'_>,
    ) -> reqwest_middleware::Result<reqwest::Response> {
        LARGEST.store(0, Relaxed);
        WATCHING.store(true, Relaxed);
        let future = next.run(req, extensions);
        WATCHING.store(false, Relaxed);
        let size = std::mem::size_of_val(&*future);
        *self.0.lock().expect("not poisoned") = Some((size, LARGEST.load(Relaxed)));
        future.await
    }
}

/// The boxed future of `middleware` for `req`: (`size_of_val`, largest allocation).
fn future_size(
    rt: &tokio::runtime::Runtime,
    middleware: impl Middleware,
    req: &reqwest::Request,
) -> (usize, usize) {
    let probe = Probe::default();
    let client = reqwest_middleware::ClientBuilder::new(common::reqwest_client())
        .with(probe.clone())
        .with(middleware)
        .with(Canned)
        .build();
    let req = req.try_clone().expect("an in-memory body");
    rt.block_on(client.execute(req)).expect("200");
    let seen = probe.0.lock().expect("not poisoned").take();
    seen.expect("the probe ran")
}

/// Allocations and bytes per request of `n` requests through `client`.
fn per_request(
    rt: &tokio::runtime::Runtime,
    client: &ClientWithMiddleware,
    req: &reqwest::Request,
    n: usize,
) -> (f64, f64) {
    let send = |n: usize| {
        rt.block_on(async {
            for _ in 0..n {
                let req = req.try_clone().expect("an in-memory body");
                black_box(client.execute(req).await.expect("200"));
            }
        })
    };
    send(n.min(1_000));
    let (a0, b0) = (ALLOCATIONS.load(Relaxed), BYTES.load(Relaxed));
    send(n);
    let (a1, b1) = (ALLOCATIONS.load(Relaxed), BYTES.load(Relaxed));
    ((a1 - a0) as f64 / n as f64, (b1 - b0) as f64 / n as f64)
}

fn main() {
    let benching = std::env::args().any(|a| a == "--bench");
    let n = if benching { 10_000 } else { 100 };
    let rt = current_thread();
    let base = format!("https://{HOST}");
    let requests = [("GET", issue16_get(&base)), ("POST", issue16_post(&base))];
    for (_, req) in &requests {
        assert_same_signature(&rt, signer(), baseline(), req);
    }
    let stacks = [
        ("bare", stack(None::<Canned>, Canned)),
        ("crate", stack(Some(signer()), Canned)),
        ("baseline", stack(Some(baseline()), Canned)),
    ];
    println!("issue 16: heap allocations per request (alloc + realloc calls, {n} requests)");
    let mut rows = Vec::new();
    for (method, req) in &requests {
        let counts: Vec<(f64, f64)> = stacks
            .iter()
            .map(|(_, client)| per_request(&rt, client, req, n))
            .collect();
        for ((name, _), (allocs, bytes)) in stacks.iter().zip(&counts) {
            println!("   {method} {name:<8} {allocs:>7.2} allocations, {bytes:>9.0} bytes");
        }
        let ((ours, ours_b), (theirs, theirs_b)) = (counts[1], counts[2]);
        rows.push(format!(
            "| {method} allocations per request: crate ≤ baseline + 3 | **{ours:.1}** vs \
             {theirs:.1} ({:+.1}) | bytes {ours_b:.0} vs {theirs_b:.0}; bare stack {:.1} \
             allocations, {:.0} B | {} |",
            ours - theirs,
            counts[0].0,
            counts[0].1,
            if *method == "GET" {
                verdict(ours <= theirs + 3.0)
            } else {
                "(no target)"
            }
        ));
    }
    println!("issue 16: the boxed future of Middleware::handle per request");
    for (method, req) in &requests {
        let (ours, ours_alloc) = future_size(&rt, signer(), req);
        let (theirs, theirs_alloc) = future_size(&rt, baseline(), req);
        println!(
            "   {method}: crate {ours} bytes (largest allocation while boxing: {ours_alloc}), \
             baseline {theirs} bytes ({theirs_alloc})"
        );
        assert!(
            ours_alloc >= ours && theirs_alloc >= theirs,
            "the box is allocated while creating the future"
        );
        rows.push(format!(
            "| {method} boxed future: crate ≤ 1024 B | **{ours}** B vs {theirs} B | largest \
             allocation while boxing: {ours_alloc} / {theirs_alloc} B | {} |",
            verdict(ours <= 1024)
        ));
    }
    println!("\n| target | crate vs baseline | detail | verdict |");
    println!("|---|---|---|---|");
    for row in rows {
        println!("{row}");
    }
}
