// The attribute behind `managed::scoped`, used from the macro crate without
// the facade.
#[managed_macros::scoped(std::io::BufWriter::new(std::io::sink()))]
fn save() -> Result<(), managed::Error> {
    Ok(())
}

fn main() {}
