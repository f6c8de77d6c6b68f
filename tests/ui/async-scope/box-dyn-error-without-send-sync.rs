// As in a sync scope: `Box<dyn Error>` is not `Sync`, and the message names
// the fix.
use managed::{scope, with};
use std::error::Error;
use std::io::{BufWriter, Write};

async fn save() -> Result<(), Box<dyn Error>> {
    scope!(async {
        let out = with!(BufWriter::new(Vec::new()))?;
        out.write_all(b"data")?;
        Ok::<_, Box<dyn Error>>(())
    })
    .await
}

fn main() {
    let _ = save();
}
