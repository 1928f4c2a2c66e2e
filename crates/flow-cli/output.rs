//! Writing to stdout without panicking when the reader goes away (`flowbot graph x | head`).

use std::io::{self, Write};

/// Writes `text` to stdout; a closed pipe is not an error, the reader just wanted less.
pub fn print(text: &str) -> anyhow::Result<()> {
    let mut stdout = io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Err(error) if error.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        other => Ok(other?),
    }
}
