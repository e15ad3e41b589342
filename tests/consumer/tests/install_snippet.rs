//! This crate's dependencies are the README's install snippet, byte for byte: what is
//! tested here is what the README tells a user to write.

#[path = "../readme_block.rs"]
mod readme_block;

const MANIFEST: &str = include_str!("../Cargo.toml");
const README: &str = include_str!("../../../README.md");

#[test]
fn dependencies_are_the_readme_install_snippet() {
    let snippet = readme_block::code_block(README, "Install", "toml")
        .expect("a toml block in the README's Install section");
    let ours = MANIFEST
        .split("# --- README install snippet ---\n")
        .nth(1)
        .and_then(|rest| rest.split("# --- end of README install snippet ---").next())
        .expect("the marked snippet in Cargo.toml");
    assert_eq!(ours, snippet);
    // Nothing else in the manifest adds a dependency or a feature.
    let outside = MANIFEST.replace(ours, "");
    for table in ["dependencies]", "features]", "target."] {
        assert_eq!(
            outside.matches(table).count(),
            0,
            "a [{table} table outside the snippet"
        );
    }
}
