//! `--help`: the flags the README lists, the examples the README promises, the exit codes.

use std::collections::BTreeSet;

use crate::run;

const README: &str = include_str!("../../../README.md");

/// The README's command-line section.
fn readme_section() -> &'static str {
    let start = README
        .find("## Command line: `sigv4-curl`")
        .expect("the README's command-line section");
    let rest = &README[start + 1..];
    &rest[..rest.find("\n## ").unwrap_or(rest.len())]
}

/// The flags (`-X`, `--request`, …) named at the start of `lines`' entries.
fn flags<'a>(entries: impl Iterator<Item = &'a str>) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for entry in entries {
        for word in entry.split([' ', ',', '`', '|']) {
            let flag = word
                .trim_end_matches(|c: char| !c.is_ascii_alphanumeric())
                .to_owned();
            let short = flag.len() == 2 && flag.starts_with('-');
            let long = flag.starts_with("--") && flag.len() > 2;
            if short || long {
                out.insert(flag);
            }
        }
    }
    out
}

/// The exit codes of a table whose rows start with the code.
fn codes<'a>(rows: impl Iterator<Item = &'a str>) -> BTreeSet<u8> {
    rows.filter_map(|row| {
        row.trim_start_matches(['|', ' '])
            .split([' ', '|'])
            .next()?
            .parse()
            .ok()
    })
    .collect()
}

#[tokio::test]
async fn help_and_the_readme_list_the_same_flags_and_exit_codes() {
    let help = run(&["--help"], &[]).await;
    assert_eq!(help.code, 0);
    assert!(help.out.contains("Usage: sigv4-curl"), "{}", help.out);
    for flag in ["--profile", "--role-arn", "--sigv4a", "--json", "--include"] {
        assert!(help.out.contains(flag), "{flag} missing from --help");
    }

    // The option lines of --help, without -h and -V.
    let option_lines = help
        .out
        .lines()
        .take_while(|l| !l.starts_with("EXAMPLES:"))
        .filter(|l| {
            let indent = l.len() - l.trim_start().len();
            indent <= 6 && l.trim_start().starts_with('-')
        })
        .filter(|l| !l.contains("--help") && !l.contains("--version"));
    let in_help = flags(option_lines.map(|l| l.split('<').next().unwrap_or(l)));
    // The README's flag table: rows whose first cell is a flag.
    let section = readme_section();
    let rows = section
        .lines()
        .filter(|l| l.starts_with("| `-"))
        .map(|l| l.split('|').nth(1).unwrap_or_default());
    let in_readme = flags(rows);
    assert_eq!(in_help, in_readme, "--help and the README list other flags");
    assert!(in_help.len() > 30, "{in_help:?}");

    let help_codes = codes(
        help.out
            .lines()
            .skip_while(|l| !l.starts_with("EXIT CODES:"))
            .skip(1)
            .take_while(|l| !l.is_empty()),
    );
    let readme_codes = codes(
        section
            .lines()
            .skip_while(|l| !l.contains("| exit code |"))
            .skip(2)
            .take_while(|l| l.starts_with('|')),
    );
    assert_eq!(help_codes, readme_codes);
    for code in [0, 2, 6, 7, 22, 28, 35, 47, 80, 81] {
        assert!(help_codes.contains(&code), "{code} missing: {help_codes:?}");
    }
}

#[tokio::test]
async fn help_has_examples_of_a_direct_call_an_alias_a_presign_and_a_dry_run() {
    let help = run(&["-h"], &[]).await;
    assert_eq!(help.code, 0);
    let examples = &help.out[help.out.find("EXAMPLES:").expect("an EXAMPLES section")..];
    let examples = &examples[..examples.find("EXIT CODES:").unwrap_or(examples.len())];
    let commands: Vec<&str> = examples
        .lines()
        .map(str::trim)
        .filter(|l| l.starts_with("sigv4-curl "))
        .collect();
    let direct = "sigv4-curl https://abc123.execute-api.us-east-1.amazonaws.com/prod/items";
    assert!(
        commands.contains(&direct),
        "a direct API call: {commands:?}"
    );
    for flag in ["--origin ", "--presign ", "--dry-run "] {
        assert!(
            commands.iter().any(|c| c.contains(flag)),
            "an example with {flag}: {commands:?}"
        );
    }
}
