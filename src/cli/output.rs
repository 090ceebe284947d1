//! The programs' printing: `outln!` and `out!` write to stdout and `errln!` to stderr
//! like `println!`, `print!` and `eprintln!`, but a reader that went away
//! (`omc config check FILE | head -1`) is no panic: that stream is marked closed, later writes
//! to it are dropped, and the program ends as it would have, with its own exit code.
//!
//! The `omc` command and every example program share this file (the examples include it with
//! `#[macro_use] #[path = "../src/cli/output.rs"] mod output;`; the macros reach it as
//! `$crate::output`, which the library's root names too).

use std::fmt::Arguments;
use std::io::{self, ErrorKind, Write};
use std::sync::atomic::{AtomicBool, Ordering};

/// Set once stdout's reader is gone (or stdout failed otherwise).
static STDOUT_CLOSED: AtomicBool = AtomicBool::new(false);
/// Set once stderr's reader is gone (or stderr failed otherwise).
static STDERR_CLOSED: AtomicBool = AtomicBool::new(false);

/// `println!` that stops writing quietly when stdout's reader is gone.
#[allow(unused_macros)] // each program uses its own part of this module
macro_rules! outln {
    () => {
        $crate::output::stdout(format_args!("\n"))
    };
    ($($arg:tt)*) => {
        $crate::output::stdout(format_args!("{}\n", format_args!($($arg)*)))
    };
}

/// `print!` that stops writing quietly when stdout's reader is gone.
#[allow(unused_macros)] // each program uses its own part of this module
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::output::stdout(format_args!($($arg)*))
    };
}

/// `eprintln!` that stops writing quietly when stderr's reader is gone.
#[allow(unused_macros)] // each program uses its own part of this module
macro_rules! errln {
    ($($arg:tt)*) => {
        $crate::output::stderr(format_args!("{}\n", format_args!($($arg)*)))
    };
}

/// Writes to stdout, unless it is closed. Another failure than a closed pipe (a full disk) is
/// said once on stderr.
pub(crate) fn stdout(args: Arguments<'_>) {
    if let Some(error) = write(&mut io::stdout().lock(), &STDOUT_CLOSED, args)
        && error.kind() != ErrorKind::BrokenPipe
    {
        stderr(format_args!("stdout: {error}; no more output\n"));
    }
}

/// Writes to stderr, unless it is closed.
pub(crate) fn stderr(args: Arguments<'_>) {
    let _ = write(&mut io::stderr().lock(), &STDERR_CLOSED, args);
}

/// Writes and flushes, or marks `closed` and returns the error of the write that failed.
fn write(stream: &mut impl Write, closed: &AtomicBool, args: Arguments<'_>) -> Option<io::Error> {
    if closed.load(Ordering::Relaxed) {
        return None;
    }
    let error = stream.write_fmt(args).and_then(|()| stream.flush()).err()?;
    closed.store(true, Ordering::Relaxed);
    Some(error)
}
