// `Box<dyn Error>` (without `+ Send + Sync`) is not `Sync`, and a scope's
// error must be: exits see it through `&Outcome`, which may cross threads.
// The message names the fix.
use managed::{scope, with};
use std::error::Error;
use std::io::{BufWriter, Write};

fn main() -> Result<(), Box<dyn Error>> {
    scope! {
        let out = with!(BufWriter::new(Vec::new()))?;
        out.write_all(b"data")?;
        Ok::<_, Box<dyn Error>>(())
    }
}
