//! Copies the README's Quick start, as a user would paste it, into `quick_start.rs` for
//! `tests/quick_start.rs` to run against a local stand-in.

use std::path::Path;

mod readme_block;

fn main() {
    let readme_path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../README.md");
    println!("cargo::rerun-if-changed={}", readme_path.display());
    let readme = std::fs::read_to_string(&readme_path).expect("the README");
    let block = readme_block::code_block(&readme, "Quick start", "rust")
        .expect("a rust code block in the README's Quick start");
    // Lines rustdoc hides (`# ...`) are part of the example as a doc test compiles it.
    let code: String = block
        .lines()
        .map(|line| {
            match line
                .strip_prefix("# ")
                .or(line.strip_prefix('#').filter(|r| r.is_empty()))
            {
                Some(hidden) => hidden,
                None => line,
            }
        })
        .map(|line| format!("{line}\n"))
        .collect();
    let out = Path::new(&std::env::var("OUT_DIR").expect("OUT_DIR")).join("quick_start.rs");
    std::fs::write(out, code).expect("write quick_start.rs");
}
