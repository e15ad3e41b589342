//! Finds a code block of the README by its section: shared by build.rs and the tests.

/// The text of the first ```` ```{lang} ```` block of the README's `## {heading}` section.
pub fn code_block<'a>(readme: &'a str, heading: &str, lang: &str) -> Option<&'a str> {
    let section = readme.split(&format!("\n## {heading}\n")).nth(1)?;
    let section = section.split("\n## ").next()?;
    let (_, rest) = section.split_once(&format!("```{lang}"))?;
    let (_, code) = rest.split_once('\n')?;
    code.split("```").next()
}
