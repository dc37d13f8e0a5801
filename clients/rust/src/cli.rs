//! Tiny command-line helpers: the programs take a handful of course-style
//! flags, not worth a dependency (and none could be downloaded anyway).

use std::process;
use std::str::FromStr;

/// Prints `problem` and the usage on stderr, then exits with status 2.
pub fn usage_error(problem: &str, usage: &str) -> ! {
    eprintln!("{problem}\nusage: {usage}");
    process::exit(2)
}

/// Parses `text` as the value of `what` (e.g. a port), or exits with a usage error.
pub fn parse_value<T: FromStr>(text: &str, what: &str, usage: &str) -> T {
    text.parse().unwrap_or_else(|_| usage_error(&format!("invalid {what}: {text:?}"), usage))
}

/// The argument after a flag such as `-p`, or exits with a usage error.
pub fn flag_value(args: &mut impl Iterator<Item = String>, flag: &str, usage: &str) -> String {
    args.next().unwrap_or_else(|| usage_error(&format!("{flag} needs a value"), usage))
}
